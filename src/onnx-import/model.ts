/**
 * ONNX ModelProto -> plain objects, with our own decoder over `decodeFields`.
 * Only what the importer reads is decoded; tensor payloads stay as views into the file until a
 * node asks for them. Every count and size that comes from the file is checked against the bytes
 * that are actually there before anything is allocated.
 */
import { ATTR, DATA_LOCATION_EXTERNAL, DT, F } from '../backends/onnx/fields.js';
import { type ProtoField, ProtoError, decodeFields, decodePackedVarints } from '../backends/onnx/protobuf.js';

export { DT } from '../backends/onnx/fields.js';

const DT_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};

export function dtypeName(t: number): string {
  return DT_NAMES[t] ?? `type ${t}`;
}

/** Largest tensor we accept (elements): 2^31 - 1, far above any image classifier's layer. */
export const MAX_ELEMENTS = 2 ** 31 - 1;
/** Largest tensor rank we accept. */
const MAX_RANK = 16;

/** A TensorProto: header decoded, payload kept as views into the file. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** number of elements (product of dims) */
  size: number;
  external: boolean;
  raw?: Uint8Array;
  /** float_data (field 4) fields, packed or not */
  floatData: ProtoField[];
  /** int32_data (5) / int64_data (7) fields */
  int32Data: ProtoField[];
  int64Data: ProtoField[];
  doubleData: ProtoField[];
}

export type AttrValue =
  | { type: 'float'; f: number }
  | { type: 'int'; i: number }
  | { type: 'string'; s: string }
  | { type: 'tensor'; t: OnnxTensor }
  | { type: 'floats'; floats: number[] }
  | { type: 'ints'; ints: number[] }
  | { type: 'strings'; strings: string[] }
  | { type: 'other'; what: string };

export interface OnnxNode {
  /** position in the file's node list */
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttrValue>;
}

export interface OnnxValueInfo {
  name: string;
  /** element type (0 when not given) */
  elemType: number;
  /** undefined when the shape is not given; a string for a symbolic dim, null for an unknown one */
  dims?: (number | string | null)[];
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  producerVersion: string;
  /** domain ('' for the default ai.onnx domain) -> opset version */
  opsets: Map<string, number>;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  metadata: Map<string, string>;
  graphName: string;
  /** the graph has sparse initializers (not supported) */
  sparseInitializers: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function str(f: ProtoField, what: string): string {
  if (f.wire !== 2 || !f.bytes) throw new ProtoError(`${what}: field ${f.field} should be a string (wire type ${f.wire})`);
  try {
    return utf8.decode(f.bytes);
  } catch {
    throw new ProtoError(`${what}: field ${f.field} is not valid UTF-8 text`);
  }
}

function msg(f: ProtoField, what: string): Uint8Array {
  if (f.wire !== 2 || !f.bytes) throw new ProtoError(`${what}: field ${f.field} should be a message (wire type ${f.wire})`);
  return f.bytes;
}

/** int64 varint as a JS number (two's complement; huge values lose precision, which only slice ends use). */
function int(f: ProtoField, what: string): number {
  if (f.wire !== 0 || f.int === undefined) throw new ProtoError(`${what}: field ${f.field} should be an integer (wire type ${f.wire})`);
  return Number(BigInt.asIntN(64, f.int));
}

/** repeated int64: packed (wire 2) or one value per field (wire 0) */
function ints(fields: ProtoField[], what: string): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.wire === 2) for (const v of decodePackedVarints(f.bytes!)) out.push(Number(BigInt.asIntN(64, v)));
    else out.push(int(f, what));
  }
  return out;
}

function f32(bytes: Uint8Array, i: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + i * 4, 4).getFloat32(0, true);
}

/** repeated float: packed (wire 2, length a multiple of 4) or one fixed32 per field (wire 5) */
function floats(fields: ProtoField[], what: string): number[] {
  const out: number[] = [];
  for (const f of fields) {
    const b = f.bytes!;
    if (f.wire === 5) out.push(f32(b, 0));
    else if (f.wire === 2) {
      if (b.length % 4 !== 0) throw new ProtoError(`${what}: packed floats of ${b.length} bytes (not a multiple of 4)`);
      for (let i = 0; i < b.length / 4; i++) out.push(f32(b, i));
    } else throw new ProtoError(`${what}: field ${f.field} should hold floats (wire type ${f.wire})`);
  }
  return out;
}

function byField(fields: ProtoField[]): Map<number, ProtoField[]> {
  const m = new Map<number, ProtoField[]>();
  for (const f of fields) {
    const l = m.get(f.field);
    if (l) l.push(f);
    else m.set(f.field, [f]);
  }
  return m;
}

function last(m: Map<number, ProtoField[]>, field: number): ProtoField | undefined {
  const l = m.get(field);
  return l ? l[l.length - 1] : undefined;
}

/** Checked product of dims. */
export function checkedSize(dims: readonly number[], what: string): number {
  if (dims.length > MAX_RANK) throw new ProtoError(`${what}: rank ${dims.length} is too large`);
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new ProtoError(`${what}: invalid dimension ${d}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new ProtoError(`${what}: ${dims.join('x')} is too large`);
  }
  return n;
}

export function decodeTensor(bytes: Uint8Array, what: string): OnnxTensor {
  const m = byField(decodeFields(bytes, what));
  const T = F.Tensor;
  const nameF = last(m, T.name);
  const name = nameF ? str(nameF, what) : '';
  const label = name ? `tensor '${name}'` : what;
  const dims = ints(m.get(T.dims) ?? [], label);
  const dtF = last(m, T.dataType);
  const dataType = dtF ? int(dtF, label) : 0;
  const locF = last(m, T.dataLocation);
  const external = (locF ? int(locF, label) : 0) === DATA_LOCATION_EXTERNAL || m.has(T.externalData);
  const rawF = last(m, T.rawData);
  if (m.has(T.segment)) throw new ProtoError(`${label} is segmented (TensorProto.segment), which is not supported`);
  return {
    name,
    dims,
    dataType,
    size: checkedSize(dims, label),
    external,
    ...(rawF ? { raw: msg(rawF, label) } : {}),
    floatData: m.get(T.floatData) ?? [],
    int32Data: m.get(T.int32Data) ?? [],
    int64Data: m.get(T.int64Data) ?? [],
    doubleData: m.get(T.doubleData) ?? [],
  };
}

/**
 * The payload of a FLOAT tensor as a new Float32Array (checked against its size).
 * Returns a message instead when the tensor is not float32 data held in the file.
 */
export function tensorFloats(t: OnnxTensor): Float32Array | string {
  if (t.external) return 'its data is stored outside the .onnx file (external data), which is not supported';
  if (t.dataType !== DT.FLOAT) return `it holds ${dtypeName(t.dataType)} values; only FLOAT (float32) weights are supported`;
  if (t.raw) {
    if (t.raw.length !== t.size * 4) return `raw_data has ${t.raw.length} bytes, but ${t.dims.join('x') || 'a scalar'} float32 needs ${t.size * 4}`;
    const out = new Float32Array(t.size);
    const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    for (let i = 0; i < t.size; i++) out[i] = dv.getFloat32(i * 4, true);
    return out;
  }
  // count before decoding: a packed field holds length / 4 floats, an unpacked one holds 1
  let count = 0;
  for (const f of t.floatData) count += f.wire === 2 ? Math.floor(f.bytes!.length / 4) : 1;
  if (count !== t.size) return `float_data has ${count} values, but ${t.dims.join('x') || 'a scalar'} needs ${t.size}`;
  return Float32Array.from(floats(t.floatData, `tensor '${t.name}'`));
}

/** The payload of an INT64 / INT32 tensor as numbers; a message when it is not one. */
export function tensorInts(t: OnnxTensor): number[] | string {
  if (t.external) return 'its data is stored outside the .onnx file (external data), which is not supported';
  if (t.dataType !== DT.INT64 && t.dataType !== DT.INT32) return `it holds ${dtypeName(t.dataType)} values, not integers`;
  if (t.size > 1 << 20) return `an integer tensor of ${t.size} values is too large for a shape`;
  const width = t.dataType === DT.INT64 ? 8 : 4;
  if (t.raw) {
    if (t.raw.length !== t.size * width) return `raw_data has ${t.raw.length} bytes, but ${t.size} ${dtypeName(t.dataType)} values need ${t.size * width}`;
    const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < t.size; i++) out.push(width === 8 ? Number(dv.getBigInt64(i * 8, true)) : dv.getInt32(i * 4, true));
    return out;
  }
  const fields = t.dataType === DT.INT64 ? t.int64Data : t.int32Data;
  let bytes = 0;
  for (const f of fields) bytes += f.wire === 2 ? f.bytes!.length : 1;
  if (bytes < t.size) return `has ${t.size} elements but too little data`;
  const out = ints(fields, `tensor '${t.name}'`);
  if (out.length !== t.size) return `holds ${out.length} values, but ${t.dims.join('x') || 'a scalar'} needs ${t.size}`;
  return out;
}

function decodeAttr(bytes: Uint8Array, what: string): { name: string; value: AttrValue } {
  const A = F.Attribute;
  const m = byField(decodeFields(bytes, what));
  const nameF = last(m, A.name);
  const name = nameF ? str(nameF, what) : '';
  const label = `${what} attribute '${name}'`;
  const typeF = last(m, A.type);
  let type: number = typeF ? int(typeF, label) : ATTR.UNDEFINED;
  if (type === ATTR.UNDEFINED) {
    // very old files leave the type out: infer it from the field that is set
    const inferred: [number, number][] = [
      [A.f, ATTR.FLOAT],
      [A.i, ATTR.INT],
      [A.s, ATTR.STRING],
      [A.t, ATTR.TENSOR],
      [A.floats, ATTR.FLOATS],
      [A.ints, ATTR.INTS],
      [A.strings, ATTR.STRINGS],
    ];
    type = inferred.find(([field]) => m.has(field))?.[1] ?? ATTR.UNDEFINED;
  }
  if (m.has(A.refAttrName)) return { name, value: { type: 'other', what: 'a reference to a function attribute' } };
  switch (type) {
    case ATTR.FLOAT: {
      const f = last(m, A.f);
      if (!f || f.wire !== 5) throw new ProtoError(`${label}: missing float value`);
      return { name, value: { type: 'float', f: f32(f.bytes!, 0) } };
    }
    case ATTR.INT: {
      const f = last(m, A.i);
      return { name, value: { type: 'int', i: f ? int(f, label) : 0 } };
    }
    case ATTR.STRING: {
      const f = last(m, A.s);
      if (!f || f.wire !== 2) return { name, value: { type: 'string', s: '' } };
      let s: string;
      try {
        s = utf8.decode(f.bytes!);
      } catch {
        return { name, value: { type: 'other', what: 'a binary string' } };
      }
      return { name, value: { type: 'string', s } };
    }
    case ATTR.TENSOR: {
      const f = last(m, A.t);
      if (!f) throw new ProtoError(`${label}: missing tensor value`);
      return { name, value: { type: 'tensor', t: decodeTensor(msg(f, label), label) } };
    }
    case ATTR.FLOATS:
      return { name, value: { type: 'floats', floats: floats(m.get(A.floats) ?? [], label) } };
    case ATTR.INTS:
      return { name, value: { type: 'ints', ints: ints(m.get(A.ints) ?? [], label) } };
    case ATTR.STRINGS: {
      const out: string[] = [];
      for (const f of m.get(A.strings) ?? []) out.push(str(f, label));
      return { name, value: { type: 'strings', strings: out } };
    }
    case ATTR.GRAPH:
    case ATTR.GRAPHS:
      return { name, value: { type: 'other', what: 'a subgraph' } };
    default:
      return { name, value: { type: 'other', what: `an attribute of type ${type}` } };
  }
}

function decodeNode(bytes: Uint8Array, index: number): OnnxNode {
  const what = `node ${index}`;
  const N = F.Node;
  const m = byField(decodeFields(bytes, what));
  const attrs = new Map<string, AttrValue>();
  const nameF = last(m, N.name);
  const opF = last(m, N.opType);
  const domF = last(m, N.domain);
  const node: OnnxNode = {
    index,
    name: nameF ? str(nameF, what) : '',
    opType: opF ? str(opF, what) : '',
    domain: domF ? str(domF, what) : '',
    inputs: (m.get(N.input) ?? []).map((f) => str(f, what)),
    outputs: (m.get(N.output) ?? []).map((f) => str(f, what)),
    attrs,
  };
  for (const f of m.get(N.attribute) ?? []) {
    const a = decodeAttr(msg(f, what), `${what} (${node.opType})`);
    attrs.set(a.name, a.value);
  }
  if (!node.opType) throw new ProtoError(`${what} has no op_type`);
  return node;
}

function decodeValueInfo(bytes: Uint8Array, what: string): OnnxValueInfo {
  const m = byField(decodeFields(bytes, what));
  const nameF = last(m, F.ValueInfo.name);
  const info: OnnxValueInfo = { name: nameF ? str(nameF, what) : '', elemType: 0 };
  const typeF = last(m, F.ValueInfo.type);
  if (!typeF) return info;
  const tm = byField(decodeFields(msg(typeF, what), what));
  const tensorF = last(tm, F.Type.tensorType);
  if (!tensorF) {
    info.elemType = -1; // not a tensor (sequence, map, ...)
    return info;
  }
  const tt = byField(decodeFields(msg(tensorF, what), what));
  const etF = last(tt, F.TensorType.elemType);
  info.elemType = etF ? int(etF, what) : 0;
  const shapeF = last(tt, F.TensorType.shape);
  if (shapeF) {
    const dims: (number | string | null)[] = [];
    for (const df of decodeFields(msg(shapeF, what), what)) {
      if (df.field !== F.Shape.dim) continue;
      if (dims.length >= MAX_RANK) throw new ProtoError(`${what}: rank is too large`);
      const dm = byField(decodeFields(msg(df, what), what));
      const v = last(dm, F.Dim.value);
      const p = last(dm, F.Dim.param);
      dims.push(v ? int(v, what) : p ? str(p, what) : null);
    }
    info.dims = dims;
  }
  return info;
}

/** Decode a ModelProto. Throws ProtoError for bytes that are not one. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const M = F.Model;
  const G = F.Graph;
  const top = byField(decodeFields(bytes, 'model'));
  const irF = last(top, M.irVersion);
  const graphF = last(top, M.graph);
  if (!graphF) throw new ProtoError(`no graph found (ModelProto field ${M.graph})`);
  if (!irF) throw new ProtoError(`no ir_version (ModelProto field ${M.irVersion})`);
  const irVersion = int(irF, 'model');
  if (irVersion < 1 || irVersion > 1000) throw new ProtoError(`implausible ir_version ${irVersion}`);
  const opsets = new Map<string, number>();
  for (const f of top.get(M.opsetImport) ?? []) {
    const om = byField(decodeFields(msg(f, 'opset_import'), 'opset_import'));
    const d = last(om, F.OpsetId.domain);
    const v = last(om, F.OpsetId.version);
    const domain = d ? str(d, 'opset_import') : '';
    opsets.set(domain === 'ai.onnx' ? '' : domain, v ? int(v, 'opset_import') : 0);
  }
  const metadata = new Map<string, string>();
  for (const f of top.get(M.metadataProps) ?? []) {
    const mm = byField(decodeFields(msg(f, 'metadata_props'), 'metadata_props'));
    const k = last(mm, F.StringEntry.key);
    const v = last(mm, F.StringEntry.value);
    if (k) metadata.set(str(k, 'metadata_props'), v ? str(v, 'metadata_props') : '');
  }
  const producerF = last(top, M.producerName);
  const producerVersionF = last(top, M.producerVersion);

  const g = byField(decodeFields(msg(graphF, 'model'), 'graph'));
  const gNameF = last(g, G.name);
  const nodes = (g.get(G.node) ?? []).map((f, i) => decodeNode(msg(f, `node ${i}`), i));
  const initializers = new Map<string, OnnxTensor>();
  for (const f of g.get(G.initializer) ?? []) {
    const t = decodeTensor(msg(f, 'initializer'), 'initializer');
    initializers.set(t.name, t);
  }
  return {
    irVersion,
    producer: producerF ? str(producerF, 'model') : '',
    producerVersion: producerVersionF ? str(producerVersionF, 'model') : '',
    opsets,
    nodes,
    initializers,
    inputs: (g.get(G.input) ?? []).map((f) => decodeValueInfo(msg(f, 'graph input'), 'graph input')),
    outputs: (g.get(G.output) ?? []).map((f) => decodeValueInfo(msg(f, 'graph output'), 'graph output')),
    metadata,
    graphName: gNameF ? str(gNameF, 'graph') : '',
    sparseInitializers: g.get(G.sparseInitializer)?.length ?? 0,
  };
}
