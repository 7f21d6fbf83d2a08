/**
 * Layers with weights and the pooling around them: Conv, BatchNormalization (training-mode
 * statistics, or folded running statistics), Max/AveragePool, global average pooling,
 * channel Concat, and Gemm / MatMul (+ bias Add) as linear layers; the last one fixes the
 * classifier input.
 */
import { type Lowering, fmt, niceFloat32 } from './context.js';
import type { OnnxNode } from './model.js';
import type { SymInt, Value } from './values.js';

export function conv(L: Lowering, n: OnnxNode): void {
  const x = L.fmap(n, 0);
  const [inC] = L.irShape(x) as [number, number, number];
  const w = L.floatConst(n, 1, 'the weight');
  if (w.dims.length !== 4) L.fail(`weight has shape ${fmt(w.dims)}; only 2-D convolutions (a 4-D weight) are supported`);
  const [outC, icg, kh, kw] = w.dims as [number, number, number, number];
  const bias = n.inputs[2] ? L.floatConst(n, 2, 'the bias') : undefined;
  if (bias && bias.data.length !== outC) L.fail(`bias has ${bias.data.length} values for ${outC} output channels`);
  const group = L.attrInt(n, 'group', 1);
  if (group < 1 || icg * group !== inC || outC % group !== 0) {
    L.fail(`weight ${fmt(w.dims)} with group=${group} does not fit ${inC} input channels`);
  }
  const ks = L.attrInts(n, 'kernel_shape');
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) L.fail(`kernel_shape ${fmt(ks)} does not match the weight ${fmt(w.dims)}`);
  const strides = L.attrInts(n, 'strides') ?? [1, 1];
  const dil = L.attrInts(n, 'dilations') ?? [1, 1];
  if (strides.length !== 2 || strides.some((s) => s < 1)) L.fail(`strides ${fmt(strides)} are not supported`);
  if (dil.length !== 2 || dil[0] !== dil[1] || dil[0]! < 1) L.fail(`dilations ${fmt(dil)} are not supported (equal dilations only)`);
  const pads = padsOf(L, n, [kh, kw], strides as [number, number], dil as [number, number], x);
  const id = L.b.conv2d(L.irName(n), x, {
    outC,
    kernel: [kh, kw],
    stride: [strides[0]!, strides[1]!],
    pad: pads,
    dilation: dil[0]!,
    groups: group,
    bias: !!bias,
  });
  L.params.set(id, bias ? { weight: w.data, bias: bias.data } : { weight: w.data });
  L.set(n, { kind: 'tensor', id, squeezed: false });
}

/** pads [top, left, bottom, right] from `pads` / `auto_pad` */
export function padsOf(L: Lowering, n: OnnxNode, k: [number, number], s: [number, number], d: [number, number], x: number): [number, number, number, number] {
  const auto = L.attrString(n, 'auto_pad', 'NOTSET');
  if (auto === 'NOTSET' || auto === '') {
    const p = L.attrInts(n, 'pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => v < 0)) L.fail(`pads ${fmt(p)} are not supported`);
    return [p[0]!, p[1]!, p[2]!, p[3]!];
  }
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') L.fail(`auto_pad '${auto}' is not supported`);
  const [, h, w] = L.irShape(x) as [number, number, number];
  const total = (size: number, i: 0 | 1) => Math.max(0, (Math.ceil(size / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - size);
  const th = total(h, 0);
  const tw = total(w, 1);
  const small = (t: number) => Math.floor(t / 2);
  if (auto === 'SAME_UPPER') return [small(th), small(tw), th - small(th), tw - small(tw)];
  return [th - small(th), tw - small(tw), small(th), small(tw)];
}

export function batchnorm(L: Lowering, n: OnnxNode): void {
  const t = L.tensor(n, 0);
  const s = L.irShape(t.id);
  if (t.squeezed || s.length !== 3) {
    L.fail(`input has shape ${fmt(L.onnxShape(t))}; BatchNormalization is supported on 4-D feature maps only`);
  }
  const C = s[0]!;
  const names = ['scale', 'bias (B)', 'mean', 'var'];
  const [scale, beta, mean, variance] = names.map((what, i) => {
    const c = L.floatConst(n, i + 1, `the ${what}`);
    if (c.data.length !== C) L.fail(`the ${what} has ${c.data.length} values for ${C} channels`);
    return c.data;
  }) as [Float32Array, Float32Array, Float32Array, Float32Array];
  const eps = niceFloat32(L.attrFloat(n, 'epsilon', 1e-5));
  for (let i = 1; i < n.outputs.length; i++) {
    if (!L.isUnused(n.outputs[i]!)) L.fail(`output ${i} (running statistics, '${n.outputs[i]}') is used; only the normalised output is supported`);
  }
  L.batchNorms++;
  if (L.opts.bn === 'train') {
    const id = L.b.batchnorm(L.irName(n), t.id, { eps, affine: true });
    L.params.set(id, { weight: scale, bias: beta });
    L.set(n, { kind: 'tensor', id, squeezed: false });
  } else {
    // inference: y = s x + t per channel, a depthwise 1x1 convolution with bias
    const w = new Float32Array(C);
    const b = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const sc = scale[c]! / Math.sqrt(variance[c]! + eps);
      w[c] = sc;
      b[c] = beta[c]! - mean[c]! * sc;
    }
    const id = L.b.conv2d(L.irName(n), t.id, { outC: C, kernel: 1, groups: C, bias: true });
    L.params.set(id, { weight: w, bias: b });
    L.set(n, { kind: 'tensor', id, squeezed: false });
  }
}

export function pool(L: Lowering, n: OnnxNode): void {
  const x = L.fmap(n, 0);
  const [, h, w] = L.irShape(x) as [number, number, number];
  const ks = L.attrInts(n, 'kernel_shape');
  if (!ks || ks.length !== 2) L.fail('kernel_shape must give 2 sizes');
  if (ks[0] !== ks[1]) L.fail(`kernel ${fmt(ks)} is not square; only square pooling kernels are supported`);
  const k = ks[0]!;
  const st = L.attrInts(n, 'strides') ?? [1, 1];
  if (st.length !== 2 || st[0] !== st[1] || st[0]! < 1) L.fail(`strides ${fmt(st)} are not supported; only equal strides`);
  const s = st[0]!;
  const dil = L.attrInts(n, 'dilations');
  if (dil && dil.some((d) => d !== 1)) L.fail(`dilations ${fmt(dil)} are not supported in pooling`);
  const pads = padsOf(L, n, [k, k], [s, s], [1, 1], x);
  if (pads.some((p) => p !== pads[0])) L.fail(`pads ${fmt(pads)} are not supported; only the same padding on all sides`);
  const p = pads[0];
  if (L.attrInt(n, 'ceil_mode', 0) !== 0) {
    // accepted when rounding up gives the same output size (PyTorch's rule: the last window starts inside)
    const same = (size: number) => {
      const fl = Math.floor((size + 2 * p - k) / s) + 1;
      let ce = Math.ceil((size + 2 * p - k) / s) + 1;
      if ((ce - 1) * s >= size + p) ce--;
      return fl === ce;
    };
    if (!same(h) || !same(w)) L.fail('ceil_mode=1 is not supported (it changes the output size here)');
  }
  const isAvg = n.opType === 'AveragePool';
  if (!isAvg && L.attrInt(n, 'storage_order', 0) !== 0) L.fail('storage_order=1 is not supported');
  if (n.outputs.length > 1 && !L.isUnused(n.outputs[1]!)) L.fail('the Indices output is used, which is not supported');
  const id = L.b.pool(L.irName(n), x, isAvg ? 'avgpool' : 'maxpool', {
    kernel: k,
    stride: s,
    pad: p,
    countIncludePad: isAvg ? L.attrInt(n, 'count_include_pad', 0) === 1 : true,
  });
  L.set(n, { kind: 'tensor', id, squeezed: false });
}

export function reduceMean(L: Lowering, n: OnnxNode): void {
  const x = L.fmap(n, 0);
  const axes = (L.opset >= 18 ? L.axes(n, 1) : L.attrInts(n, 'axes')) ?? [];
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + 4 : a)))].sort();
  if (norm.length !== 2 || norm[0] !== 2 || norm[1] !== 3) {
    L.fail(`ReduceMean over axes ${fmt(axes)} is not supported; only the spatial mean over axes [2, 3] (global average pooling)`);
  }
  const keep = L.attrInt(n, 'keepdims', 1) === 1;
  L.count('ReduceMean(axes [2, 3]) -> global average pool');
  L.set(n, { kind: 'tensor', id: L.b.globalAvgPool(L.irName(n), x), squeezed: keep });
}

export function concat(L: Lowering, n: OnnxNode): void {
  const vals = n.inputs.map((_, i) => L.input(n, i));
  if (vals.length === 0) L.fail('Concat of nothing');
  if (vals.every((v) => v.kind === 'ints' || (v.kind === 'float' && v.dims.length === 1))) {
    // shape arithmetic
    const out: SymInt[] = [];
    for (const v of vals) {
      if (v.kind !== 'ints' || v.dims.length !== 1) L.fail('Concat of constants is only supported for 1-D integer (shape) vectors');
      out.push(...v.data);
    }
    return L.set(n, { kind: 'ints', dims: [out.length], data: out });
  }
  const ts = vals.map((v, i) => L.asTensor(v, `input ${i} ('${n.inputs[i]}')`));
  let axis = L.attrInt(n, 'axis', 1);
  const rank = L.onnxShape(ts[0]!).length;
  if (axis < 0) axis += rank;
  for (const [i, t] of ts.entries()) {
    if (t.squeezed || L.irShape(t.id).length !== 3) L.fail(`input ${i} has shape ${fmt(L.onnxShape(t))}; Concat is supported on 4-D feature maps only`);
  }
  if (axis !== 1) L.fail(`Concat along axis ${L.attrInt(n, 'axis', 1)} is not supported; only the channel axis 1`);
  L.set(n, { kind: 'tensor', id: ts.length === 1 ? ts[0]!.id : L.b.concat(L.irName(n), ts.map((t) => t.id)), squeezed: false });
}

export function classifierAt(L: Lowering, n: OnnxNode, x: number, inF: number, outF: number): void {
  const name = n.inputs[0]!;
  L.classifier = { input: x, inputName: name, node: n, inF, outF };
}

export function vectorInput(L: Lowering, n: OnnxNode): { id: number; inF: number } {
  const t = L.tensor(n, 0);
  const s = L.irShape(t.id);
  if (t.squeezed || s.length !== 1) {
    L.fail(`input 0 has shape ${fmt(L.onnxShape(t))}; ${n.opType} is supported as a linear layer on [N, features] (flatten first)`);
  }
  return { id: t.id, inF: s[0]! };
}

export function gemm(L: Lowering, n: OnnxNode): void {
  const { id: x, inF } = vectorInput(L, n);
  if (L.attrInt(n, 'transA', 0) !== 0) L.fail('transA=1 is not supported');
  const transB = L.attrInt(n, 'transB', 0);
  const alpha = L.attrFloat(n, 'alpha', 1);
  const beta = L.attrFloat(n, 'beta', 1);
  const B = L.floatConst(n, 1, 'B (the weight)');
  if (B.dims.length !== 2) L.fail(`B has shape ${fmt(B.dims)}; a 2-D weight is needed`);
  const [r, c] = B.dims as [number, number];
  const K = transB ? c : r;
  const N = transB ? r : c;
  if (K !== inF) L.fail(`B ${fmt(B.dims)}${transB ? ' (transposed)' : ''} expects ${K} input features, the input has ${inF}`);
  const W = new Float32Array(N * K);
  for (let o = 0; o < N; o++) {
    for (let i = 0; i < K; i++) {
      const v = transB ? B.data[o * K + i]! : B.data[i * N + o]!;
      W[o * K + i] = alpha === 1 ? v : alpha * v;
    }
  }
  const Cv = n.inputs[2] && beta !== 0 ? L.floatConst(n, 2, 'C (the bias)') : undefined;
  let bias: Float32Array | undefined;
  if (Cv) {
    const okDims = Cv.data.length === 1 || (Cv.data.length === N && (Cv.dims.length === 1 || (Cv.dims.length === 2 && Cv.dims[0] === 1)));
    if (!okDims) L.fail(`C has shape ${fmt(Cv.dims)}; a bias of ${N} values (or one) is needed`);
    bias = new Float32Array(N);
    for (let o = 0; o < N; o++) {
      const v = Cv.data.length === 1 ? Cv.data[0]! : Cv.data[o]!;
      bias[o] = beta === 1 ? v : beta * v;
    }
  }
  const id = L.b.linear(L.irName(n), x, N, !!bias);
  L.params.set(id, bias ? { weight: W, bias } : { weight: W });
  classifierAt(L, n, x, K, N);
  L.set(n, { kind: 'tensor', id, squeezed: false });
}

export function matmul(L: Lowering, n: OnnxNode): void {
  const { id: x, inF } = vectorInput(L, n);
  const B = L.floatConst(n, 1, 'the weight');
  if (B.dims.length !== 2) L.fail(`the weight has shape ${fmt(B.dims)}; MatMul is supported as a linear layer: [N, K] x a constant [K, M]`);
  const [K, N] = B.dims as [number, number];
  if (K !== inF) L.fail(`the weight ${fmt(B.dims)} expects ${K} input features, the input has ${inF}`);
  const W = new Float32Array(N * K);
  for (let o = 0; o < N; o++) for (let i = 0; i < K; i++) W[o * K + i] = B.data[i * N + o]!;
  // a following Add of a constant [M] vector is the bias
  let bias: Float32Array | undefined;
  const out = n.outputs[0] ?? '';
  if (out && L.uses.get(out) === 1 && !L.graphOutputs.has(out)) {
    const user = L.m.nodes.find((u) => u.inputs.includes(out));
    if (user && user.opType === 'Add' && user.domain === '' && user.index > n.index && user.inputs.length === 2) {
      const other = user.inputs[0] === out ? user.inputs[1]! : user.inputs[0]!;
      const t = other === out ? undefined : L.m.initializers.get(other);
      const cv = t ? L.get(other) : L.values.get(other);
      if (cv && cv.kind === 'float' && cv.data.length === N && (cv.dims.length === 1 || (cv.dims.length === 2 && cv.dims[0] === 1))) {
        bias = cv.data;
        L.fused.add(user.index);
        L.count('MatMul + Add(bias) -> linear');
        const id = L.b.linear(L.irName(n), x, N, true);
        L.params.set(id, { weight: W, bias });
        classifierAt(L, n, x, K, N);
        const v: Value = { kind: 'tensor', id, squeezed: false };
        L.set(n, v);
        for (const o of user.outputs) if (o) L.values.set(o, v);
        return;
      }
    }
  }
  const id = L.b.linear(L.irName(n), x, N, false);
  L.params.set(id, { weight: W });
  classifierAt(L, n, x, K, N);
  L.set(n, { kind: 'tensor', id, squeezed: false });
}

export function globalAvgPool(L: Lowering, n: OnnxNode): void {
  const x = L.fmap(n, 0);
  L.set(n, { kind: 'tensor', id: L.b.globalAvgPool(L.irName(n), x), squeezed: true });
}

/** Softmax / LogSoftmax on the classifier's output: ignored (it cannot change the taps); nothing may read it */
export function softmax(L: Lowering, n: OnnxNode): void {
  const v = L.input(n, 0);
  const t = L.asTensor(v, 'input 0');
  if (t.squeezed || L.irShape(t.id).length !== 1) {
    L.fail(`${n.opType} is only supported on the [N, classes] output of the last Gemm/MatMul`);
  }
  L.ignored.push(`${L.label(n)} after the classifier: ignored (it cannot change the taps)`);
  L.set(n, { kind: 'ignored', from: v, node: n });
}
