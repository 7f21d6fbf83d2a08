/**
 * Flatten / Reshape of feature maps, and constant folding of the shape arithmetic exporters
 * write around them (Constant, Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast on int64
 * vectors that may hold the symbolic batch size).
 */
import { type Lowering, fmt } from './context.js';
import { DT, type OnnxNode, dtypeName, tensorFloats, tensorInts } from './model.js';
import type { SymInt } from './values.js';

/** [C, H, W] -> [C*H*W]; [C] stays. */
export function flattenTensor(L: Lowering, n: OnnxNode, t: { id: number; squeezed: boolean }): void {
  const s = L.irShape(t.id);
  if (s.length === 1) return L.set(n, { kind: 'tensor', id: t.id, squeezed: false });
  L.set(n, { kind: 'tensor', id: L.b.flatten(L.irName(n), t.id), squeezed: false });
}

export function flatten(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  let axis = L.attrInt(n, 'axis', 1);
  if (v.kind === 'float') {
    const r = v.dims.length;
    if (axis < 0) axis += r;
    const outer = v.dims.slice(0, axis).reduce((a, b) => a * b, 1);
    return L.set(n, { kind: 'float', dims: [outer, v.data.length / Math.max(outer, 1)], data: v.data });
  }
  const t = L.asTensor(v, 'input 0');
  const rank = L.onnxShape(t).length;
  if (axis < 0) axis += rank;
  if (axis !== 1) L.fail(`Flatten(axis=${L.attrInt(n, 'axis', 1)}) is not supported; only axis 1 (keep the batch)`);
  flattenTensor(L, n, t);
}

export function reshape(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  const target = L.intsConst(n, 1, 'the target shape');
  const allowZero = L.attrInt(n, 'allowzero', 0) === 1;
  if (v.kind === 'float') {
    // constant folding (e.g. a weight reshaped in the graph)
    const dims = target.data.map((d, i) => {
      if (d === 'N') return L.fail('a constant reshaped to the batch size');
      return d === 0 && !allowZero ? (v.dims[i] ?? L.fail('Reshape: 0 past the input rank')) : d;
    });
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = dims.filter((d) => d === -1).length;
    if (free > 1 || dims.some((d) => d < -1)) L.fail(`invalid target shape ${fmt(target.data)}`);
    const out = dims.map((d) => (d === -1 ? v.data.length / Math.max(known, 1) : d));
    if (out.reduce((a, b) => a * b, 1) !== v.data.length || out.some((d) => !Number.isInteger(d))) {
      L.fail(`cannot reshape a constant ${fmt(v.dims)} to ${fmt(target.data)}`);
    }
    return L.set(n, { kind: 'float', dims: out, data: v.data });
  }
  const t = L.asTensor(v, 'input 0');
  const cur = L.onnxShape(t);
  const perImage = cur.slice(1).reduce<number>((a, b) => a * (b as number), 1);
  const isBatch = (d: SymInt, i: number) =>
    d === 'N' || (d === 0 && !allowZero && i === 0) || (typeof d === 'number' && d > 0 && d === L.declaredBatch);
  const td = target.data;
  if (td.length === 2) {
    const [d0, d1] = td as [SymInt, SymInt];
    const okFlat = (isBatch(d0, 0) && (d1 === -1 || d1 === perImage)) || (d0 === -1 && d1 === perImage);
    if (okFlat) return flattenTensor(L, n, t);
  }
  if (td.length === cur.length && td.every((d, i) => (i === 0 ? isBatch(d, 0) : d === cur[i] || (d === 0 && !allowZero)))) {
    return L.set(n, { kind: 'tensor', ...t });
  }
  L.fail(`Reshape of ${fmt(cur)} to ${fmt(td)} is not supported; only flattening to [N, -1] or [N, ${perImage}]`);
}

export function constant(L: Lowering, n: OnnxNode): void {
  const [key, a] = [...n.attrs.entries()][0] ?? [];
  if (!a || n.attrs.size !== 1) L.fail('a Constant node needs exactly one value attribute');
  switch (key) {
    case 'value': {
      if (a.type !== 'tensor') L.fail('value should be a tensor');
      const t = a.t;
      if (t.dataType === DT.INT64 || t.dataType === DT.INT32) {
        const v = tensorInts(t);
        if (typeof v === 'string') L.fail(`value: ${v}`);
        return L.set(n, { kind: 'ints', dims: t.dims, data: v });
      }
      const f = tensorFloats(t);
      if (typeof f === 'string') L.fail(`value: ${f}`);
      return L.set(n, { kind: 'float', dims: t.dims, data: f });
    }
    case 'value_float':
      if (a.type !== 'float') L.fail('value_float should be a float');
      return L.set(n, { kind: 'float', dims: [], data: Float32Array.of(a.f) });
    case 'value_floats':
      if (a.type !== 'floats') L.fail('value_floats should be floats');
      return L.set(n, { kind: 'float', dims: [a.floats.length], data: Float32Array.from(a.floats) });
    case 'value_int':
      if (a.type !== 'int') L.fail('value_int should be an integer');
      return L.set(n, { kind: 'ints', dims: [], data: [a.i] });
    case 'value_ints':
      if (a.type !== 'ints') L.fail('value_ints should be integers');
      return L.set(n, { kind: 'ints', dims: [a.ints.length], data: a.ints });
    default:
      return L.fail(`Constant with attribute '${key}' is not supported`);
  }
}

export function shapeOp(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  let dims: SymInt[];
  if (v.kind === 'float' || v.kind === 'ints') dims = [...v.dims];
  else dims = L.onnxShape(L.asTensor(v, 'input 0'));
  const r = dims.length;
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
  const start = clampIdx(L.attrInt(n, 'start', 0));
  const end = clampIdx(L.attrInt(n, 'end', r));
  const out = dims.slice(start, end);
  L.set(n, { kind: 'ints', dims: [out.length], data: out });
}

export function intsInput(L: Lowering, n: OnnxNode, i: number): { dims: number[]; data: SymInt[] } {
  const v = L.input(n, i);
  if (v.kind === 'ints') return v;
  if (v.kind === 'float') L.fail(`${n.opType} of float constants is not supported (only integer shape vectors)`);
  return L.fail(`${n.opType} on a feature tensor is not supported (only on shape vectors, e.g. Shape -> Gather -> Concat -> Reshape)`);
}

export function gather(L: Lowering, n: OnnxNode): void {
  const data = intsInput(L, n, 0);
  const idx = L.intsConst(n, 1, 'indices');
  if (L.attrInt(n, 'axis', 0) !== 0 || data.dims.length !== 1) L.fail('Gather is only supported on 1-D shape vectors along axis 0');
  const len = data.data.length;
  const out = idx.data.map((i) => {
    if (i === 'N' || i < -len || i >= len) L.fail(`index ${i} is out of range for a vector of ${len}`);
    return data.data[i < 0 ? i + len : i]!;
  });
  L.set(n, { kind: 'ints', dims: idx.dims, data: out });
}

export function squeeze(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  if (v.kind !== 'ints' && v.kind !== 'float') {
    L.fail(`${n.opType} on a feature tensor is not supported (only on shape vectors and constants)`);
  }
  const axes = L.axes(n, 1);
  let dims: number[];
  if (n.opType === 'Unsqueeze') {
    if (!axes) L.fail('Unsqueeze needs axes');
    const r = v.dims.length + axes.length;
    const norm = axes.map((a) => (a < 0 ? a + r : a));
    if (norm.some((a) => a < 0 || a >= r) || new Set(norm).size !== norm.length) L.fail(`invalid axes ${fmt(axes)}`);
    dims = [];
    let j = 0;
    for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : v.dims[j++]!);
  } else {
    const r = v.dims.length;
    const norm = axes ? axes.map((a) => (a < 0 ? a + r : a)) : v.dims.flatMap((d, i) => (d === 1 ? [i] : []));
    if (norm.some((a) => v.dims[a] !== 1)) L.fail(`cannot squeeze axes ${fmt(axes ?? [])} of ${fmt(v.dims)}`);
    dims = v.dims.filter((_, i) => !norm.includes(i));
  }
  L.set(n, v.kind === 'ints' ? { kind: 'ints', dims, data: v.data } : { kind: 'float', dims, data: v.data });
}

export function slice(L: Lowering, n: OnnxNode): void {
  const v = intsInput(L, n, 0);
  if (v.dims.length !== 1) L.fail('Slice is only supported on 1-D shape vectors');
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (L.opset < 10) {
    starts = L.attrInts(n, 'starts') ?? L.fail('starts missing');
    ends = L.attrInts(n, 'ends') ?? L.fail('ends missing');
    axes = L.attrInts(n, 'axes');
  } else {
    starts = L.numbers(n, 1, 'starts');
    ends = L.numbers(n, 2, 'ends');
    axes = L.optional(n, 3) ? L.numbers(n, 3, 'axes') : undefined;
    steps = L.optional(n, 4) ? L.numbers(n, 4, 'steps') : undefined;
  }
  if (starts.length !== 1 || ends.length !== 1 || (axes && (axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1))) || (steps && steps.length !== 1)) {
    L.fail('Slice is only supported on 1-D shape vectors');
  }
  const len = v.data.length;
  const step = steps ? steps[0]! : 1;
  if (step === 0) L.fail('step 0');
  const norm = (i: number, lo: number, hi: number) => Math.min(Math.max(i < 0 ? i + len : i, lo), hi);
  const out: SymInt[] = [];
  if (step > 0) {
    const s = norm(starts[0]!, 0, len);
    const e = norm(ends[0]!, 0, len);
    for (let i = s; i < e; i += step) out.push(v.data[i]!);
  } else {
    const s = norm(starts[0]!, -1, len - 1);
    const e = norm(ends[0]!, -1, len - 1);
    for (let i = s; i > e; i += step) out.push(v.data[i]!);
  }
  L.set(n, { kind: 'ints', dims: [out.length], data: out });
}

export function cast(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  const to = L.attrInt(n, 'to', 0);
  if (v.kind === 'ints' && (to === DT.INT64 || to === DT.INT32)) return L.set(n, v);
  if (v.kind === 'float' && to === DT.FLOAT) return L.set(n, v);
  if (v.kind === 'ints' && to === DT.FLOAT && v.data.every((d) => d !== 'N')) {
    return L.set(n, { kind: 'float', dims: v.dims, data: Float32Array.from(v.data as number[]) });
  }
  if ((v.kind === 'tensor' || v.kind === 'lazy') && to === DT.FLOAT) return L.set(n, v);
  L.fail(`Cast to ${dtypeName(to)} is not supported here`);
}
