/**
 * A small ONNX graph builder for the gradient graphs: nodes, float / int64 constants, float inputs
 * and outputs, serialised by a flat protobuf writer of its own (ModelProto field numbers below).
 */

const OPSET = 18;
const IR_VERSION = 8;
const FLOAT = 1;
const INT64 = 7;

export type Attr =
  | { name: string; f: number }
  | { name: string; i: number }
  | { name: string; s: string }
  | { name: string; ints: readonly number[] };

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Attr[];
}

interface Init {
  name: string;
  dims: number[];
  type: number;
  raw: Uint8Array;
}

export class OnnxGraph {
  private readonly nodes: NodeSpec[] = [];
  private readonly inits: Init[] = [];
  private readonly consts = new Map<string, string>();
  readonly inputs: { name: string; dims: (number | string)[] }[] = [];
  readonly outputs: { name: string; dims: (number | string)[] }[] = [];
  private seq = 0;

  /** Add a node; returns its (first) output name. */
  op(op: string, inputs: string[], attrs: Attr[] = [], nOut = 1): string {
    const outs = Array.from({ length: nOut }, () => `t${this.seq++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs[0]!;
  }

  /** A node with several outputs. */
  opN(op: string, inputs: string[], nOut: number, attrs: Attr[] = []): string[] {
    const outs = Array.from({ length: nOut }, () => `t${this.seq++}`);
    this.nodes.push({ op, inputs, outputs: outs, attrs });
    return outs;
  }

  f(vals: ArrayLike<number>, dims: number[]): string {
    const key = `f${dims.join(',')}:${Array.from(vals).join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `k${this.consts.size}`;
      const a = Float32Array.from(vals);
      this.inits.push({ name, dims, type: FLOAT, raw: new Uint8Array(a.buffer) });
      this.consts.set(key, name);
    }
    return name;
  }

  scalar(v: number): string {
    return this.f([v], []);
  }

  i64(vals: readonly number[]): string {
    const key = `i${vals.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = `k${this.consts.size}`;
      const a = new BigInt64Array(vals.map((v) => BigInt(v)));
      this.inits.push({ name, dims: [vals.length], type: INT64, raw: new Uint8Array(a.buffer) });
      this.consts.set(key, name);
    }
    return name;
  }

  input(name: string, dims: (number | string)[]): string {
    this.inputs.push({ name, dims });
    return name;
  }

  /** `name` becomes another name of `value` (an Identity node) */
  alias(value: string, name: string): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: [] });
  }

  output(value: string, name: string, dims: (number | string)[]): void {
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: [] });
    this.outputs.push({ name, dims });
  }

  bytes(label: string): Uint8Array {
    const w = new FlatWriter(1 << 16);
    w.varint(1, IR_VERSION);
    w.string(2, 'rbflex-grad');
    w.message(7, () => {
      for (const n of this.nodes) w.message(1, () => writeNode(w, n));
      w.string(2, label.replace(/[^\w.-]+/g, '_').slice(0, 120) || 'network');
      for (const t of this.inits) {
        w.message(5, () => {
          for (const d of t.dims) w.varint(1, d);
          w.varint(2, t.type);
          w.string(8, t.name);
          w.bytes(9, t.raw);
        });
      }
      for (const i of this.inputs) w.message(11, () => valueInfo(w, i.name, i.dims));
      for (const o of this.outputs) w.message(12, () => valueInfo(w, o.name, o.dims));
    });
    w.message(8, () => {
      w.string(1, '');
      w.varint(2, OPSET);
    });
    return w.finish();
  }
}

/**
 * A protobuf writer into one growing buffer (the gradient graphs have thousands of small nodes: a
 * writer object per sub-message, as the general ProtoWriter, cost 100-300 ms per graph in allocation and GC).
 * A sub-message is written in place after 5 reserved bytes, then moved back over the unused ones
 * once its length (and so its varint size) is known. Names are ASCII.
 */
class FlatWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly view: () => DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    let v = new DataView(this.buf.buffer);
    this.view = () => (v.buffer === this.buf.buffer ? v : (v = new DataView(this.buf.buffer)));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.pos + n, 2 * this.buf.length));
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  private raw(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  varint(field: number, v: number): void {
    if (!(v >= 0 && Number.isSafeInteger(v))) throw new Error(`protobuf: ${v} is not a non-negative integer`);
    this.raw(field * 8);
    this.raw(v);
  }

  /** a negative int64 as its 64-bit two's complement (10 bytes) */
  varintSigned(field: number, v: number): void {
    this.raw(field * 8);
    this.ensure(10);
    let b = BigInt.asUintN(64, BigInt(v));
    while (b >= 0x80n) {
      this.buf[this.pos++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.pos++] = Number(b);
  }

  float32(field: number, v: number): void {
    this.raw(field * 8 + 5);
    this.ensure(4);
    this.view().setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  string(field: number, s: string): void {
    this.raw(field * 8 + 2);
    this.raw(s.length);
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) throw new Error(`protobuf: non-ASCII name ${JSON.stringify(s)}`);
      this.buf[this.pos++] = c;
    }
  }

  bytes(field: number, data: Uint8Array): void {
    this.raw(field * 8 + 2);
    this.raw(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  message(field: number, body: () => void): void {
    this.raw(field * 8 + 2);
    this.ensure(5);
    const at = this.pos;
    this.pos += 5;
    body();
    const len = this.pos - at - 5;
    let k = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) k++;
    if (k < 5) this.buf.copyWithin(at + k, at + 5, this.pos);
    this.pos -= 5 - k;
    let v = len;
    for (let i = 0; i < k; i++) {
      this.buf[at + i] = i < k - 1 ? (v % 0x80) | 0x80 : v;
      v = Math.floor(v / 0x80);
    }
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

function writeNode(w: FlatWriter, n: NodeSpec): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(4, n.op);
  for (const a of n.attrs) {
    w.message(5, () => {
      w.string(1, a.name);
      if ('f' in a) {
        w.float32(2, a.f);
        w.varint(20, 1);
      } else if ('i' in a) {
        // negative ints as 64-bit two's complement
        if (a.i < 0) w.varintSigned(3, a.i);
        else w.varint(3, a.i);
        w.varint(20, 2);
      } else if ('s' in a) {
        w.string(4, a.s);
        w.varint(20, 3);
      } else {
        for (const v of a.ints) {
          if (v < 0) w.varintSigned(8, v);
          else w.varint(8, v);
        }
        w.varint(20, 7);
      }
    });
  }
}

function valueInfo(w: FlatWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name);
  w.message(2, () =>
    w.message(1, () => {
      w.varint(1, FLOAT);
      w.message(2, () => {
        for (const d of dims) w.message(1, () => (typeof d === 'number' ? w.varint(1, d) : w.string(2, d)));
      });
    }),
  );
}
