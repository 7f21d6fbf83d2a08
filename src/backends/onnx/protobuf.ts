/**
 * A minimal protocol-buffers wire-format writer and reader: exactly what the ONNX
 * ModelProto needs (varints, length-delimited fields, fixed32 floats). Our own code,
 * no generated schema package.
 */

export class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
  }

  private flush(): void {
    if (this.pos > 0) {
      this.chunks.push(this.buf.slice(0, this.pos));
      this.pos = 0;
    }
  }

  private rawVarint(v: number | bigint): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      while (v >= 0x80) {
        this.buf[this.pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.pos++] = v;
      return;
    }
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32/int64/enum/bool field (negative numbers as 64-bit two's complement). */
  varint(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.rawVarint(v);
    return this;
  }

  float32(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat32(this.pos, v, true);
    this.pos += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(data.length);
    if (data.length > 1024) {
      this.flush();
      this.chunks.push(data);
    } else {
      this.ensure(data.length);
      this.buf.set(data, this.pos);
      this.pos += data.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** A sub-message; large ones are linked in chunk by chunk, never copied into one buffer first. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const sub = new ProtoWriter();
    build(sub);
    sub.flush();
    if (sub.chunks.length <= 1) return this.bytes(field, sub.chunks[0] ?? new Uint8Array(0));
    // large sub-messages (initializers) are not concatenated here, only once in the outermost finish()
    let n = 0;
    for (const c of sub.chunks) n += c.length;
    this.tag(field, 2);
    this.rawVarint(n);
    this.flush();
    for (const c of sub.chunks) this.chunks.push(c);
    return this;
  }

  /** A decoded field written back unchanged. */
  copy(f: ProtoField): this {
    if (f.wire === 0) return this.varint(f.field, f.int!);
    const data = f.bytes!;
    if (f.wire === 2) return this.bytes(f.field, data);
    this.tag(f.field, f.wire);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** packed repeated varints */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const sub = new ProtoWriter();
    for (const v of values) sub.rawVarint(v);
    return this.bytes(field, sub.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    let n = 0;
    for (const c of this.chunks) n += c.length;
    // every byte is written below, so the buffer need not be zeroed first
    const out: Uint8Array = Buffer.allocUnsafeSlow(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    this.chunks = [out];
    return out;
  }
}

export interface ProtoField {
  field: number;
  wire: number;
  /** varint value (wire 0) as bigint */
  int?: bigint;
  /** fixed32 / fixed64 raw bytes, or length-delimited payload */
  bytes?: Uint8Array;
}

export class ProtoError extends Error {
  override name = 'ProtoError';
}

/** Decode one message level into its fields (in order). Sub-messages stay as bytes. */
export function decodeFields(data: Uint8Array, what = 'message'): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (pos >= data.length) throw new ProtoError(`truncated varint in ${what}`);
      const b = data[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    throw new ProtoError(`malformed varint in ${what}`);
  };
  while (pos < data.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtoError(`field number 0 in ${what}`);
    switch (wire) {
      case 0:
        out.push({ field, wire, int: readVarint() });
        break;
      case 1:
        if (pos + 8 > data.length) throw new ProtoError(`truncated fixed64 in ${what}`);
        out.push({ field, wire, bytes: data.subarray(pos, pos + 8) });
        pos += 8;
        break;
      case 2: {
        const len = readVarint();
        if (len > BigInt(data.length - pos)) throw new ProtoError(`length ${len} runs past the end of ${what}`);
        const n = Number(len);
        out.push({ field, wire, bytes: data.subarray(pos, pos + n) });
        pos += n;
        break;
      }
      case 5:
        if (pos + 4 > data.length) throw new ProtoError(`truncated fixed32 in ${what}`);
        out.push({ field, wire, bytes: data.subarray(pos, pos + 4) });
        pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wire} in ${what}`);
    }
  }
  return out;
}

/** Decode a packed (or single) varint field payload into numbers. */
export function decodePackedVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new ProtoError('truncated packed varint');
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new ProtoError('malformed packed varint');
    }
    out.push(result);
  }
  return out;
}
