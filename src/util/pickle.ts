/**
 * A restricted Python pickle reader: data only, never code.
 *
 * It understands the plain data opcodes of protocols 0-5 (None, bool, int, float, str, bytes,
 * list, tuple, dict, set, memo, framing) and recognises a short allow-list of globals *as data*:
 * `collections.OrderedDict` (a dict), `builtins.set`/`frozenset`, `_codecs.encode` (protocol-2
 * bytes), and NumPy's array/scalar reconstruction (`numpy[._]core.multiarray._reconstruct`,
 * `numpy.ndarray`, `numpy.dtype`, `numpy[._]core.multiarray.scalar`,
 * `numpy[._]core.numeric._frombuffer`), which become typed arrays and numbers. Nothing is ever
 * called or constructed from the file: any other global, and the object-building opcodes
 * (INST, OBJ, NEWOBJ, NEWOBJ_EX, persistent ids, extension codes, out-of-band buffers) are
 * rejected with a DataError naming the file, the byte offset and the offending name.
 *
 * Every length read from the file is checked against the bytes actually present before use,
 * so a corrupted header cannot make the reader allocate more than the file holds.
 */
import { DataError } from './errors.js';

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A Python value as the reader returns it. Lists and tuples are both JS arrays. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyDict
  | PySet
  | NdArray
  | PyDtype;

/** A Python dict (or OrderedDict); insertion order kept; keys compared as Python would for data keys. */
export class PyDict {
  private readonly map = new Map<string, [PyValue, PyValue]>();

  set(key: PyValue, value: PyValue): void {
    this.map.set(hashKey(key), [key, value]);
  }
  get(key: PyValue): PyValue | undefined {
    return this.map.get(hashKey(key))?.[1];
  }
  has(key: PyValue): boolean {
    return this.map.has(hashKey(key));
  }
  /** `d[name]` where the file may hold the key as str or (Python 2 pickles read as bytes) as bytes */
  getStr(name: string): PyValue | undefined {
    const v = this.map.get(hashKey(name));
    if (v) return v[1];
    return this.map.get('b' + name)?.[1];
  }
  get size(): number {
    return this.map.size;
  }
  keys(): PyValue[] {
    return [...this.map.values()].map((e) => e[0]);
  }
  entries(): [PyValue, PyValue][] {
    return [...this.map.values()];
  }
}

export class PySet {
  constructor(readonly items: PyValue[] = []) {}
}

/** numpy dtype as data: `str` is the type string ('u1', 'f8', ...), `byteorder` one of < > | = */
export class PyDtype {
  byteorder = '=';
  constructor(readonly str: string) {}
}

/** numpy array as data: C-order elements in a typed array of the file's element type. */
export class NdArray {
  dtype = '';
  shape: number[] = [];
  data: TypedArray = new Uint8Array(0);
  /** false until the BUILD opcode filled it in */
  filled = false;
}

/** Longest dict key we build (tuples of tuples can share parts through the memo and grow exponentially). */
const MAX_KEY_LENGTH = 1 << 16;

function hashKey(k: PyValue, memo = new WeakMap<object, string>()): string {
  if (typeof k === 'string') return 's' + k;
  if (k instanceof Uint8Array) return 'b' + latin1(k);
  if (typeof k === 'number') return Number.isInteger(k) ? 'i' + k : 'f' + k;
  if (typeof k === 'bigint') return 'i' + k.toString();
  if (typeof k === 'boolean') return k ? 'i1' : 'i0';
  if (k === null) return 'N';
  if (Array.isArray(k)) {
    const known = memo.get(k);
    if (known !== undefined) return known;
    let key = 't(';
    for (const x of k) {
      key += JSON.stringify(hashKey(x, memo)) + ',';
      if (key.length > MAX_KEY_LENGTH) throw new TypeError(`dict key longer than ${MAX_KEY_LENGTH} characters`);
    }
    key += ')';
    memo.set(k, key);
    return key;
  }
  throw new TypeError(`unhashable dict key of type ${describe(k)}`);
}

export function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list/tuple';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Names of the globals we accept as data, and what each one means. */
type GlobalKind = 'odict' | 'set' | 'frozenset' | 'bytes' | 'bytearray' | 'encode' | 'reconstruct' | 'ndarray' | 'dtype' | 'scalar' | 'frombuffer';

const ALLOWED_GLOBALS: Record<string, GlobalKind> = {
  'collections OrderedDict': 'odict',
  'builtins set': 'set',
  '__builtin__ set': 'set',
  'builtins frozenset': 'frozenset',
  '__builtin__ frozenset': 'frozenset',
  'builtins bytes': 'bytes',
  '__builtin__ bytes': 'bytes',
  'builtins bytearray': 'bytearray',
  '__builtin__ bytearray': 'bytearray',
  '_codecs encode': 'encode',
  'numpy.core.multiarray _reconstruct': 'reconstruct',
  'numpy._core.multiarray _reconstruct': 'reconstruct',
  'numpy ndarray': 'ndarray',
  'numpy dtype': 'dtype',
  'numpy.core.multiarray scalar': 'scalar',
  'numpy._core.multiarray scalar': 'scalar',
  'numpy.core.numeric _frombuffer': 'frombuffer',
  'numpy._core.numeric _frombuffer': 'frombuffer',
};

class GlobalRef {
  constructor(
    readonly kind: GlobalKind,
    readonly qualname: string,
  ) {}
}

const MARK = Symbol('mark');
type StackItem = PyValue | GlobalRef | typeof MARK;

/** numpy type strings we turn into typed arrays: [bytes per item, constructor] */
const DTYPES: Record<string, { size: number; make: (buf: ArrayBuffer, n: number) => TypedArray }> = {
  b1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  u1: { size: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  i1: { size: 1, make: (b, n) => new Int8Array(b, 0, n) },
  u2: { size: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  i2: { size: 2, make: (b, n) => new Int16Array(b, 0, n) },
  u4: { size: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  i4: { size: 4, make: (b, n) => new Int32Array(b, 0, n) },
  u8: { size: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  i8: { size: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  f4: { size: 4, make: (b, n) => new Float32Array(b, 0, n) },
  f8: { size: 8, make: (b, n) => new Float64Array(b, 0, n) },
};

/** Largest integer we read as LONG1/LONG4 (bytes); real files hold at most a few. */
const MAX_LONG_BYTES = 1024;
/** Largest dimension count of an array (numpy's own limit is 64). */
const MAX_NDIM = 64;

export interface UnpickleOptions {
  /** name used in error messages (usually the file name) */
  name?: string;
}

/** Read one pickle from `buf`. Throws DataError (naming the file and byte offset) on anything else. */
export function unpickle(buf: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  // a plain Uint8Array view (not a Buffer), so slices of it behave like typed arrays
  const u8 = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return new Unpickler(u8, opts.name ?? 'pickle').load();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Unpickler {
  private pos = 0;
  private stack: StackItem[] = [];
  private marks: number[] = [];
  private memo = new Map<number, StackItem>();
  private opPos = 0;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    private readonly name: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private fail(problem: string): never {
    throw new DataError(this.name, `pickle: ${problem} (at byte ${this.opPos})`);
  }

  private need(n: number): void {
    if (!(n >= 0) || this.pos + n > this.buf.length) {
      this.fail(
        n > this.buf.length - this.pos
          ? `truncated: needs ${n} more bytes, ${this.buf.length - this.pos} left`
          : `invalid length ${n}`,
      );
    }
  }

  private bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  private u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  private i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} too large`);
    return Number(v);
  }

  /** a text line (protocol 0 arguments), without the newline */
  private line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated: unterminated text argument');
    const s = latin1(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }

  private str(n: number): string {
    const b = this.bytes(n);
    if (n <= 64) {
      // short ASCII strings (dict keys, arch strings) without the decoder's overhead
      let ascii = true;
      for (let i = 0; i < n; i++) if (b[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
    }
    try {
      return utf8.decode(b);
    } catch {
      this.fail('corrupted: invalid UTF-8 in a string');
    }
  }

  private pop(): StackItem {
    if (this.stack.length === 0 || (this.marks.length && this.stack.length <= this.marks[this.marks.length - 1]!)) {
      this.fail('corrupted: stack underflow');
    }
    const v = this.stack.pop()!;
    return v;
  }

  private popValue(): PyValue {
    const v = this.pop();
    return this.value(v);
  }

  /** a stack item as a value; the only global that may sit inside a tuple is numpy.ndarray (for _reconstruct) */
  private value(v: StackItem): PyValue {
    if (v === MARK) this.fail('corrupted: unexpected MARK');
    if (v instanceof GlobalRef && v.kind !== 'ndarray') this.fail(`a bare global ${v.qualname} used as a value`);
    return v as PyValue;
  }

  private top(): StackItem {
    if (this.stack.length === 0) this.fail('corrupted: stack underflow');
    return this.stack[this.stack.length - 1]!;
  }

  private popMark(): PyValue[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('corrupted: no MARK on the stack');
    const items = this.stack.splice(m);
    return items.map((x) => this.value(x));
  }

  private memoGet(i: number): StackItem {
    const v = this.memo.get(i);
    if (v === undefined) this.fail(`corrupted: memo entry ${i} not defined`);
    return v;
  }

  private global(module: string, name: string): GlobalRef {
    const qual = `${module} ${name}`;
    const kind = ALLOWED_GLOBALS[qual];
    if (!kind) {
      this.fail(`refusing global ${module}.${name}: only plain data and numpy arrays are read, nothing is executed`);
    }
    return new GlobalRef(kind, `${module}.${name}`);
  }

  load(): PyValue {
    const buf = this.buf;
    for (;;) {
      this.opPos = this.pos;
      if (this.pos >= buf.length) this.fail('truncated: no STOP opcode');
      const op = buf[this.pos++]!;
      switch (op) {
        case 0x80: {
          // PROTO
          const p = this.u8();
          if (p > 5) this.fail(`unsupported pickle protocol ${p}`);
          break;
        }
        case 0x95: {
          // FRAME: only a length hint; check it fits
          const n = this.u64();
          if (n > buf.length - this.pos) this.fail(`truncated: frame of ${n} bytes, ${buf.length - this.pos} left`);
          break;
        }
        case 0x2e: {
          // STOP
          if (this.stack.length !== 1 || this.marks.length) this.fail('corrupted: stack not balanced at STOP');
          const result = this.stack.pop();
          if (result === MARK || result instanceof GlobalRef) this.fail('corrupted: no value at STOP');
          return result as PyValue;
        }
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push([]);
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x7d: // EMPTY_DICT
          this.stack.push(new PyDict());
          break;
        case 0x8f: // EMPTY_SET
          this.stack.push(new PySet());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4a: // BININT
          this.stack.push(this.i32());
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.u16());
          break;
        case 0x49: {
          // INT (text); I01/I00 are bools
          const s = this.line();
          if (s === '01') this.stack.push(true);
          else if (s === '00') this.stack.push(false);
          else this.stack.push(this.parseInt(s));
          break;
        }
        case 0x4c: {
          // LONG (text)
          const s = this.line();
          this.stack.push(this.parseInt(s.endsWith('L') ? s.slice(0, -1) : s));
          break;
        }
        case 0x8a: // LONG1
          this.stack.push(this.long(this.u8()));
          break;
        case 0x8b: {
          // LONG4
          const n = this.i32();
          if (n < 0 || n > MAX_LONG_BYTES) this.fail(`integer of ${n} bytes is not plausible data`);
          this.stack.push(this.long(n));
          break;
        }
        case 0x47: {
          // BINFLOAT (big-endian)
          this.need(8);
          this.stack.push(this.view.getFloat64(this.pos, false));
          this.pos += 8;
          break;
        }
        case 0x46: {
          // FLOAT (text)
          const s = this.line().trim();
          const v = Number(s === 'inf' ? 'Infinity' : s === '-inf' ? '-Infinity' : s);
          if (Number.isNaN(v) && s.toLowerCase() !== 'nan') this.fail(`corrupted: bad float "${s}"`);
          this.stack.push(v);
          break;
        }
        case 0x58: // BINUNICODE
          this.stack.push(this.str(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.str(this.u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.str(this.u64()));
          break;
        case 0x56: // UNICODE (raw-unicode-escape, text)
          this.stack.push(rawUnicodeEscape(this.line()));
          break;
        case 0x54: {
          // BINSTRING (Python 2 str: read as bytes, like encoding='bytes')
          const n = this.i32();
          if (n < 0) this.fail(`corrupted: negative string length ${n}`);
          this.stack.push(this.bytes(n));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.stack.push(this.bytes(this.u8()));
          break;
        case 0x53: // STRING (quoted text)
          this.stack.push(this.quoted(this.line()));
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.bytes(this.u32()));
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.bytes(this.u8()));
          break;
        case 0x8e: // BINBYTES8
          this.stack.push(this.bytes(this.u64()));
          break;
        case 0x96: // BYTEARRAY8
          this.stack.push(this.bytes(this.u64()));
          break;
        case 0x98: // READONLY_BUFFER (no-op for in-band data)
          this.top();
          break;
        case 0x74: // TUPLE
          this.stack.push(this.popMark());
          break;
        case 0x85: // TUPLE1
          this.stack.push([this.popValue()]);
          break;
        case 0x86: {
          // TUPLE2
          const b = this.popValue();
          const a = this.popValue();
          this.stack.push([a, b]);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = this.popValue();
          const b = this.popValue();
          const a = this.popValue();
          this.stack.push([a, b, c]);
          break;
        }
        case 0x6c: // LIST
          this.stack.push(this.popMark());
          break;
        case 0x61: {
          // APPEND
          const v = this.popValue();
          this.listTop().push(v);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          const list = this.listTop();
          for (const v of items) list.push(v);
          break;
        }
        case 0x64: {
          // DICT
          const items = this.popMark();
          if (items.length % 2) this.fail('corrupted: odd number of items in DICT');
          const d = new PyDict();
          for (let i = 0; i < items.length; i += 2) this.dictSet(d, items[i]!, items[i + 1]!);
          this.stack.push(d);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = this.popValue();
          const k = this.popValue();
          this.dictSet(this.dictTop(), k, v);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          if (items.length % 2) this.fail('corrupted: odd number of items in SETITEMS');
          const d = this.dictTop();
          for (let i = 0; i < items.length; i += 2) this.dictSet(d, items[i]!, items[i + 1]!);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          const s = this.top();
          if (!(s instanceof PySet)) this.fail('corrupted: ADDITEMS on a non-set');
          for (const it of items) s.items.push(it);
          break;
        }
        case 0x91: // FROZENSET
          this.stack.push(new PySet(this.popMark()));
          break;
        case 0x70: // PUT (text)
          this.memo.set(this.parseIndex(this.line()), this.top());
          break;
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x67: // GET (text)
          this.stack.push(this.memoGet(this.parseIndex(this.line())));
          break;
        case 0x68: // BINGET
          this.stack.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memoGet(this.u32()));
          break;
        case 0x63: {
          // GLOBAL
          const module = this.line();
          const name = this.line();
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.popValue();
          const module = this.popValue();
          if (typeof name !== 'string' || typeof module !== 'string') this.fail('corrupted: STACK_GLOBAL needs two strings');
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.popValue();
          const fn = this.pop();
          if (!(fn instanceof GlobalRef)) this.fail(`REDUCE on ${describe(fn)}: only allow-listed globals are applied`);
          if (!Array.isArray(args)) this.fail(`corrupted: REDUCE arguments are not a tuple`);
          this.stack.push(this.reduce(fn, args));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.popValue();
          this.build(this.value(this.top()), state);
          break;
        }
        case 0x30: // POP
          if (this.marks.length && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
          else this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x69:
        case 0x6f:
        case 0x81:
        case 0x92:
          this.fail(`refusing to construct an object (opcode 0x${op.toString(16)}): only plain data is read`);
        case 0x50:
        case 0x51:
          this.fail('refusing a persistent id: only plain data is read');
        case 0x82:
        case 0x83:
        case 0x84:
          this.fail('refusing an extension-registry global: only plain data is read');
        case 0x97:
          this.fail('out-of-band buffers (NEXT_BUFFER) are not supported');
        default:
          this.fail(`corrupted or not a pickle: unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  private listTop(): PyValue[] {
    const l = this.top();
    if (!Array.isArray(l)) this.fail(`corrupted: APPEND to ${describe(l)}`);
    return l;
  }

  private dictTop(): PyDict {
    const d = this.top();
    if (!(d instanceof PyDict)) this.fail(`corrupted: SETITEM on ${describe(d)}`);
    return d;
  }

  private dictSet(d: PyDict, k: PyValue, v: PyValue): void {
    try {
      d.set(k, v);
    } catch (e) {
      this.fail(`corrupted: ${(e as Error).message}`);
    }
  }

  private parseInt(s: string): number | bigint {
    const t = s.trim();
    if (!/^[-+]?\d+$/.test(t) || t.length > MAX_LONG_BYTES * 3) this.fail(`corrupted: bad integer "${s.slice(0, 40)}"`);
    const b = BigInt(t);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }

  private parseIndex(s: string): number {
    const v = this.parseInt(s);
    if (typeof v !== 'number' || v < 0) this.fail(`corrupted: bad memo index "${s}"`);
    return v;
  }

  /** little-endian two's complement integer of n bytes */
  private long(n: number): number | bigint {
    const b = this.bytes(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  /** a protocol-0 STRING argument: Python repr of a str, quotes included */
  private quoted(s: string): Uint8Array {
    const q = s[0];
    if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) this.fail('corrupted: STRING argument not quoted');
    const body = s.slice(1, -1);
    const out: number[] = [];
    for (let i = 0; i < body.length; i++) {
      const c = body.charCodeAt(i);
      if (c !== 0x5c) {
        out.push(c & 0xff);
        continue;
      }
      const e = body[++i];
      const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
      if (e === 'x') {
        out.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else if (e !== undefined && /[0-7]/.test(e)) {
        let j = i;
        while (j < i + 3 && j < body.length && /[0-7]/.test(body[j]!)) j++;
        out.push(parseInt(body.slice(i, j), 8) & 0xff);
        i = j - 1;
      } else if (e !== undefined && e in simple) {
        out.push(simple[e]!);
      } else {
        out.push(0x5c);
        if (e !== undefined) out.push(e.charCodeAt(0) & 0xff);
      }
    }
    return Uint8Array.from(out);
  }

  private reduce(fn: GlobalRef, args: PyValue[]): PyValue {
    switch (fn.kind) {
      case 'odict': {
        const d = new PyDict();
        if (args.length === 1 && Array.isArray(args[0])) {
          for (const pair of args[0]) {
            if (!Array.isArray(pair) || pair.length !== 2) this.fail('corrupted: OrderedDict items are not pairs');
            this.dictSet(d, pair[0]!, pair[1]!);
          }
        } else if (args.length !== 0) this.fail('corrupted: unexpected OrderedDict arguments');
        return d;
      }
      case 'set':
      case 'frozenset': {
        if (args.length === 0) return new PySet();
        if (args.length === 1 && Array.isArray(args[0])) return new PySet([...args[0]]);
        this.fail(`corrupted: unexpected ${fn.qualname} arguments`);
      }
      case 'bytes':
        if (args.length === 0) return new Uint8Array(0);
        if (args.length === 1 && args[0] instanceof Uint8Array) return args[0];
        this.fail(`unsupported ${fn.qualname} arguments`);
      case 'bytearray':
        if (args.length === 0) return new Uint8Array(0);
        if (args.length === 1 && args[0] instanceof Uint8Array) return args[0];
        if (args.length === 2 && typeof args[0] === 'string' && isLatin1Name(args[1])) return this.latin1Bytes(args[0]);
        this.fail(`unsupported ${fn.qualname} arguments`);
      case 'encode': {
        if (args.length !== 2 || typeof args[0] !== 'string' || !isLatin1Name(args[1])) {
          this.fail('_codecs.encode is only read for (str, "latin1") byte strings');
        }
        return this.latin1Bytes(args[0]);
      }
      case 'dtype': {
        const s = args[0];
        const ts = typeof s === 'string' ? s : s instanceof Uint8Array ? latin1(s) : undefined;
        if (ts === undefined) this.fail('corrupted: numpy.dtype needs a type string');
        return new PyDtype(ts);
      }
      case 'reconstruct': {
        // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in
        const cls = args[0] as unknown;
        if (!(cls instanceof GlobalRef) || cls.kind !== 'ndarray') this.fail('numpy _reconstruct is only read for numpy.ndarray');
        return new NdArray();
      }
      case 'scalar': {
        const [dt, raw] = args;
        if (!(dt instanceof PyDtype) || !(raw instanceof Uint8Array)) this.fail('corrupted: numpy scalar needs (dtype, bytes)');
        const arr = this.typed(dt, raw, 1);
        const v = arr[0]!;
        if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
        return dt.str.endsWith('b1') ? v !== 0 : v;
      }
      case 'frombuffer': {
        const [raw, dt, shape, order] = args;
        if (!(raw instanceof Uint8Array) || !(dt instanceof PyDtype) || !Array.isArray(shape)) {
          this.fail('corrupted: numpy _frombuffer needs (buffer, dtype, shape, order)');
        }
        const a = new NdArray();
        this.fillArray(a, this.shape(shape), dt, order === 'F', raw);
        return a;
      }
      case 'ndarray':
        this.fail('numpy.ndarray is only read inside numpy array reconstruction');
    }
  }

  private latin1Bytes(s: string): Uint8Array {
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) this.fail('corrupted: latin-1 byte string holds a character above 255');
      out[i] = c;
    }
    return out;
  }

  private shape(v: PyValue[]): number[] {
    if (v.length > MAX_NDIM) this.fail(`array with ${v.length} dimensions is not plausible`);
    return v.map((d) => {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) this.fail('corrupted: array shape is not a tuple of sizes');
      return d;
    });
  }

  private build(obj: PyValue, state: PyValue): void {
    if (obj instanceof NdArray) {
      if (!Array.isArray(state)) this.fail('corrupted: ndarray state is not a tuple');
      // (version, shape, dtype, is_fortran, rawdata) or the old 4-tuple without version
      const s = state.length === 5 ? state.slice(1) : state;
      if (s.length !== 4) this.fail('corrupted: ndarray state has the wrong length');
      const [shape, dt, fortran, raw] = s;
      if (!Array.isArray(shape) || !(dt instanceof PyDtype)) this.fail('corrupted: ndarray state holds no shape/dtype');
      if (!(raw instanceof Uint8Array)) this.fail('numpy object arrays are not read (only numeric arrays)');
      this.fillArray(obj, this.shape(shape), dt, fortran === true || fortran === 1, raw);
      return;
    }
    if (obj instanceof PyDtype) {
      if (!Array.isArray(state) || state.length < 2) this.fail('corrupted: dtype state is not a tuple');
      const bo = state[1];
      const c = typeof bo === 'string' ? bo : bo instanceof Uint8Array ? latin1(bo) : '';
      if (!['<', '>', '|', '='].includes(c)) this.fail(`corrupted: dtype byte order "${c}"`);
      obj.byteorder = c;
      if (state.length >= 5 && state[4] !== null) this.fail('structured numpy dtypes are not read');
      return;
    }
    if (obj instanceof PyDict && state === null) return;
    this.fail(`BUILD on ${describe(obj)}: only numpy arrays and dtypes are read`);
  }

  private typed(dt: PyDtype, raw: Uint8Array, count: number): TypedArray {
    let code = dt.str;
    let order = dt.byteorder;
    if (/^[<>|=]/.test(code)) {
      order = code[0]!;
      code = code.slice(1);
    }
    const spec = DTYPES[code];
    if (!spec) this.fail(`numpy dtype "${dt.str}" is not supported (numeric types only)`);
    const nbytes = count * spec.size;
    if (raw.length !== nbytes) this.fail(`corrupted: array data has ${raw.length} bytes, shape and dtype need ${nbytes}`);
    // one-byte types: a view on the file's bytes (no copy; large image batches are mostly this)
    if (code === 'u1' || code === 'b1') return raw;
    if (code === 'i1') return new Int8Array(raw.buffer, raw.byteOffset, raw.length);
    const copy = new ArrayBuffer(nbytes);
    const u8 = new Uint8Array(copy);
    u8.set(raw);
    if (order === '>' && spec.size > 1) {
      for (let i = 0; i < nbytes; i += spec.size) u8.subarray(i, i + spec.size).reverse();
    }
    return spec.make(copy, count);
  }

  private fillArray(a: NdArray, shape: number[], dt: PyDtype, fortran: boolean, raw: Uint8Array): void {
    const count = shape.reduce((a, d) => a * d, 1);
    if (!Number.isSafeInteger(count)) this.fail(`array of shape [${shape.join(', ')}] is not plausible`);
    const data = this.typed(dt, raw, count);
    a.shape = shape;
    a.dtype = dt.str.replace(/^[<>|=]/, '');
    a.data = fortran && shape.length > 1 ? toCOrder(data, shape) : data;
    a.filled = true;
  }
}

function isLatin1Name(v: PyValue | undefined): boolean {
  return v === 'latin1' || v === 'latin-1' || v === 'iso-8859-1';
}

/** decode Python's raw-unicode-escape (only \uXXXX and \UXXXXXXXX are escapes) */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(parseInt((a ?? b)!, 16)),
  );
}

function toCOrder(src: TypedArray, shape: number[]): TypedArray {
  const n = src.length;
  const out = new (src.constructor as new (n: number) => TypedArray)(n);
  const nd = shape.length;
  // Fortran strides: first index fastest
  const fstride: number[] = new Array(nd);
  let s = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k] * fstride[k]!;
    (out as unknown as unknown[])[i] = (src as unknown as unknown[])[f];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Helpers for readers: typed access with a clear error. */
export function expectDict(v: PyValue | undefined, what: string, file: string): PyDict {
  if (!(v instanceof PyDict)) throw new DataError(file, `wrong format: ${what} is ${describe(v)}, expected a dict`);
  return v;
}

export function pyString(v: PyValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return latin1(v);
  return undefined;
}

export function pyNumber(v: PyValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}
