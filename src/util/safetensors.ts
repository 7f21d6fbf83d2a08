/**
 * A bounded reader (and a small float32 writer) for the safetensors format: an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
 * then the tensor bytes (offsets relative to the end of the header). Untrusted input: the header
 * length, tensor count, shapes, dtypes and offsets are all checked before any data is read, and
 * only the tensors asked for are read.
 */
import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { DataError, fsProblem } from './errors.js';

const MAX_HEADER_BYTES = 64 * 1024 * 1024;
const MAX_TENSORS = 100_000;
const MAX_DIMS = 8;
/** one tensor may hold at most 2^31 bytes */
const MAX_TENSOR_BYTES = 2 ** 31;

const DTYPE_BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

export interface TensorInfo {
  dtype: 'F64' | 'F32' | 'F16' | 'BF16';
  shape: number[];
  /** absolute byte range in the file */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  path: string;
  tensors: Map<string, TensorInfo>;
  /** the tensor as float32 (F64, F16 and BF16 are converted) */
  read(name: string): Float32Array;
}

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function readExact(fd: number, pos: number, len: number, path: string): Buffer {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) throw new DataError(path, `truncated: wanted ${len} bytes at offset ${pos}, file ends after ${got}`);
    got += n;
  }
  return buf;
}

/** Open a safetensors file and validate its header. */
export function openSafetensors(path: string): SafetensorsFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw fsProblem(path, e);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) throw new DataError(path, `not a safetensors file: ${size} bytes, shorter than its 8-byte header length`);
    const n = Number(readExact(fd, 0, 8, path).readBigUInt64LE(0));
    if (n < 2 || n > MAX_HEADER_BYTES) throw new DataError(path, `not a safetensors file: header length ${n} (must be 2..${MAX_HEADER_BYTES} bytes)`);
    if (8 + n > size) throw new DataError(path, `truncated: header of ${n} bytes but the file has ${size}`);
    let header: unknown;
    try {
      header = JSON.parse(readExact(fd, 8, n, path).toString('utf8'));
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(path, 'not a safetensors file: its header is not JSON');
    }
    if (!header || typeof header !== 'object' || Array.isArray(header)) throw new DataError(path, 'safetensors header is not a JSON object');
    const entries = Object.entries(header as Record<string, unknown>).filter(([k]) => k !== '__metadata__');
    if (entries.length > MAX_TENSORS) throw new DataError(path, `${entries.length} tensors, over the limit of ${MAX_TENSORS}`);
    const dataStart = 8 + n;
    const tensors = new Map<string, TensorInfo>();
    for (const [name, v] of entries) {
      const bad = (why: string) => new DataError(path, `tensor "${name.slice(0, 200)}": ${why}`);
      if (!v || typeof v !== 'object') throw bad('entry is not an object');
      const { dtype, shape, data_offsets: off } = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof dtype !== 'string') throw bad('no dtype');
      if (!Array.isArray(shape) || shape.length > MAX_DIMS || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('shape must be a list of at most 8 whole numbers');
      if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad('data_offsets must be [begin, end]');
      const [b, e] = off as [number, number];
      if (b > e || dataStart + e > size) throw bad(`data_offsets [${b}, ${e}] outside the ${size - dataStart}-byte data section`);
      const width = DTYPE_BYTES[dtype];
      if (width === undefined) {
        tensors.set(name, { dtype: dtype as TensorInfo['dtype'], shape: shape as number[], begin: dataStart + b, end: dataStart + e });
        continue; // other dtypes (int64 buffers such as position_ids) are listed, and refused only when read
      }
      const count = (shape as number[]).reduce((a, d) => a * d, 1);
      if (count * width !== e - b) throw bad(`${dtype} [${shape.join(', ')}] needs ${count * width} bytes, data_offsets give ${e - b}`);
      if (e - b > MAX_TENSOR_BYTES) throw bad(`${e - b} bytes, over the ${MAX_TENSOR_BYTES}-byte limit`);
      tensors.set(name, { dtype: dtype as TensorInfo['dtype'], shape: shape as number[], begin: dataStart + b, end: dataStart + e });
    }
    closeSync(fd);
    return {
      path,
      tensors,
      read(name: string): Float32Array {
        const t = tensors.get(name);
        if (!t) throw new DataError(path, `no tensor "${name}"`);
        const width = DTYPE_BYTES[t.dtype];
        if (width === undefined) throw new DataError(path, `tensor "${name}" is ${t.dtype}; only F32, F64, F16 and BF16 can be read`);
        let fd2: number;
        try {
          fd2 = openSync(path, 'r');
        } catch (e) {
          throw fsProblem(path, e);
        }
        try {
          const raw = readExact(fd2, t.begin, t.end - t.begin, path);
          const count = (t.end - t.begin) / width;
          const out = new Float32Array(count);
          for (let i = 0; i < count; i++) {
            if (t.dtype === 'F32') out[i] = raw.readFloatLE(i * 4);
            else if (t.dtype === 'F64') out[i] = raw.readDoubleLE(i * 8);
            else if (t.dtype === 'F16') out[i] = f16(raw.readUInt16LE(i * 2));
            else out[i] = new Float32Array(new Uint32Array([raw.readUInt16LE(i * 2) << 16]).buffer)[0]!;
          }
          return out;
        } finally {
          closeSync(fd2);
        }
      },
    };
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    throw e;
  }
}

/** Write float32 tensors as a safetensors file (tests, tools). */
export function writeSafetensors(path: string, tensors: Record<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let off = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + off);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let p = 8 + head.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, p);
    p += d.byteLength;
  }
  writeFileSync(path, out);
}
