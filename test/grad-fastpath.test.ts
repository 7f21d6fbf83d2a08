/**
 * The fast (onnxruntime, float32) gradient paths the proxies use, against the float64 reference tape.
 *
 * GraSP's Hessian-vector product on the onnxruntime path (the R-operator graph: exact, float32)
 * against the float64 reference (central differences of the backward with the piecewise pattern
 * held): every op the onnx path differentiates (conv with stride / dilation / bias, BatchNorm in each
 * mode, ReLU, max and average pools, add, zero, identity, concat, slice, resize, flatten, global
 * pool, linear) in small graphs, and a whole NB201 network. H v within 1e-4 relative per tensor
 * (max |a - b| / max |a|), and the grasp score -sum(w * H g) within 1e-4 relative; H g in one run
 * (`hvp: 'gradient'`, v = the run's own weight gradient) the same.
 *
 * synflow's rescaled float32 pass (input and biases times 2^-64, backward seeded with 1 / sum) times
 * exp(gradLogScale) against the float64 gradients, within 1e-4 per tensor, on the largest NB201 network
 * (sums near 1e48, past float32's range: the unscaled float32 pass overflows) and a small one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxGradBackend } from '../src/grad/onnx/backend.js';
import { ReferenceGradBackend } from '../src/grad/reference.js';
import type { GradBnMode, GradInput, GradRequest } from '../src/grad/types.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { type Weights, initWeights } from '../src/ir/init.js';
import type { Graph } from '../src/ir/types.js';
import { getSpace } from '../src/spaces/index.js';
import { Rng } from '../src/util/rng.js';
import { relDiff } from './helpers/fixtures.js';

function inputs(n: number, shape: readonly number[], seed: string): GradInput {
  const rng = new Rng(seed);
  const [c, h, w] = shape as [number, number, number];
  return { n, c, h, w, data: Float32Array.from({ length: n * c * h * w }, () => rng.nextNormal()) };
}

/** H g (g the weight gradient, as GraSP) on both backends; returns the worst relative difference and both grasp scores. */
async function compareHvp(g: Graph, w: Weights, x: GradInput, bn: GradBnMode, what: string): Promise<{ worst: number; ours: number; ref: number }> {
  const classes = g.nodes[g.output]!.shape.reduce((a, d) => a * d, 1);
  const labels = Int32Array.from({ length: x.n }, (_, i) => (i * 3) % classes);
  const base: GradRequest = { objective: { kind: 'cross-entropy', labels }, bn, wrt: { weights: true } };
  const ref = new ReferenceGradBackend();
  const fast = new OnnxGradBackend();
  const gr = await ref.gradients(g, w, x, base);
  const v = new Map<number, Float64Array | Float32Array>();
  for (const n of g.nodes) if (n.op.kind === 'conv2d' || n.op.kind === 'linear') v.set(n.id, gr.weights!.get(n.id)!.weight!);
  const a = (await ref.gradients(g, w, x, { ...base, wrt: { hvp: v } })).hvp!;
  const b = (await fast.gradients(g, w, x, { ...base, wrt: { hvp: v } })).hvp!;
  // H g in one run (v = the run's own gradient, as the scorer asks for GraSP), gradients returned beside it
  const one = await fast.gradients(g, w, x, { ...base, wrt: { weights: true, hvp: 'gradient' } });
  for (const [node, ha] of a) {
    const d = relDiff(ha, one.hvp!.get(node)!);
    assert.ok(d < 1e-4, `${what}: H g in one run, ${g.nodes[node]!.name} differs by ${d.toExponential(2)}`);
    const dg = relDiff(gr.weights!.get(node)!.weight!, one.weights!.get(node)!.weight!);
    assert.ok(dg < 1e-4, `${what}: the gradient beside H g, ${g.nodes[node]!.name} differs by ${dg.toExponential(2)}`);
  }
  if (g.nodes.length < 100) {
    // the reference's own one-call H g (small graphs only: the tape on NB201 is slow)
    const refOne = (await ref.gradients(g, w, x, { ...base, wrt: { hvp: 'gradient' } })).hvp!;
    for (const [node, ha] of a) assert.ok(relDiff(ha, refOne.get(node)!) < 1e-9, `${what}: reference H g in one call, ${g.nodes[node]!.name}`);
  }
  let worst = 0;
  let sa = 0;
  let sb = 0;
  for (const [node, ha] of a) {
    const hb = b.get(node);
    assert.ok(hb, `${what}: no H v for node ${node} on the onnx path`);
    const d = relDiff(ha, hb);
    assert.ok(d < 1e-4, `${what}: H v of ${g.nodes[node]!.name} differs by ${d.toExponential(2)}`);
    worst = Math.max(worst, d);
    const wt = w.byNode.get(node)!.weight!;
    for (let i = 0; i < ha.length; i++) {
      sa += -wt[i]! * ha[i]!;
      sb += -wt[i]! * hb[i]!;
    }
  }
  assert.ok(Math.abs(sa - sb) <= 1e-4 * Math.abs(sa), `${what}: grasp ${sb} (onnx) vs ${sa} (reference)`);
  return { worst, ours: sb, ref: sa };
}

test('H v on the onnx path agrees with the reference: every op, every BatchNorm mode', async () => {
  const mix = (): Graph => {
    const b = new GraphBuilder('hvp-mix');
    const x = b.input([3, 8, 8]);
    const c1 = b.conv2d('c1', x, { outC: 4, kernel: 3, pad: 1, bias: true });
    const c2 = b.conv2d('c2', b.activation('r0', x, 'relu'), { outC: 4, kernel: 3, pad: 2, dilation: 2 });
    const z = b.zero('zero', c1);
    const s = b.add_('add', [b.batchnorm('bn1', c1), b.identity('id', c2), z]);
    const r = b.activation('relu', s, 'relu');
    const mp = b.pool('mp', r, 'maxpool', { kernel: 3, stride: 1, pad: 1 });
    const ap = b.pool('ap', r, 'avgpool', { kernel: 3, stride: 2, pad: 1, countIncludePad: false });
    const sl0 = b.conv2d('f0', b.slice('s0', mp, [0, 0], [2, 2]), { outC: 2, kernel: 1 });
    const sl1 = b.conv2d('f1', ap, { outC: 2, kernel: 1, stride: 1 });
    const cat = b.concat('cat', [sl0, sl1]);
    const up = b.resize('up', b.activation('r2', b.batchnorm('bn2', cat, { affine: false }), 'relu'), [6, 6]);
    const c3 = b.conv2d('c3', up, { outC: 3, kernel: 3, stride: 2, pad: 1 });
    const h = b.activation('r3', b.linear('hidden', b.flatten('flat', b.globalAvgPool('gap', c3)), 7), 'relu');
    const out = b.linear('fc', h, 5);
    return b.finish({ output: out, classifierInput: h, defaultTaps: 'activations' });
  };
  for (const bn of ['batch', 'per-image', 'eval', 'off'] as const) {
    const g = mix();
    const w = initWeights(g, `hvp-mix:${bn}`);
    await compareHvp(g, w, inputs(4, [3, 8, 8], `hvp-mix-x:${bn}`), bn, `mix, BatchNorm ${bn}`);
  }
});

test('H v on the onnx path agrees with the reference: a whole NB201 network (grasp)', async () => {
  const space = getSpace('nb201');
  const arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
  const g = space.build(space.parse(arch), { dataset: 'cifar10' });
  const r = await compareHvp(g, initWeights(g, `hvp-nb201/${arch}`), inputs(2, [3, 32, 32], 'hvp-nb201-x'), 'batch', 'NB201');
  assert.ok(Number.isFinite(r.ours) && r.ours !== 0, `grasp ${r.ours}`);
});

test('synflow: the rescaled float32 pass agrees with float64 per gradient tensor (largest and small NB201 networks)', async () => {
  const space = getSpace('nb201');
  const req: GradRequest = { objective: { kind: 'sum' }, bn: 'off', absWeights: true, rescale: true, wrt: { weights: true } };
  const x: GradInput = { n: 1, c: 3, h: 32, w: 32, data: new Float32Array(3072).fill(1) };
  for (const arch of [
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
    '|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|',
  ]) {
    const g = space.build(space.parse(arch), { dataset: 'cifar10' });
    const w = initWeights(g, `synflow-fast/${arch}`);
    const a = await new ReferenceGradBackend().gradients(g, w, x, req);
    const fast = new OnnxGradBackend();
    const b = await fast.gradients(g, w, x, req);
    const f = Math.exp(b.gradLogScale ?? 0);
    assert.ok(Math.abs(b.loss - a.loss) <= 1e-5 * a.loss, `${arch}: sum of logits ${b.loss} vs ${a.loss}`);
    for (const [node, pa] of a.weights!) {
      if (g.nodes[node]!.op.kind !== 'conv2d' && g.nodes[node]!.op.kind !== 'linear') continue;
      const gb = b.weights!.get(node)!.weight!;
      const d = relDiff(pa.weight!, Float64Array.from(gb, (v) => v * f));
      assert.ok(d < 1e-4, `${arch}: synflow dW of ${g.nodes[node]!.name} differs by ${d.toExponential(2)}`);
    }
    if (a.loss > 1e39) {
      // without the rescaling, float32 overflows on this network
      const raw = await fast.gradients(g, w, x, { ...req, rescale: false });
      assert.ok(!Number.isFinite(raw.loss), `unscaled float32 sum ${raw.loss}`);
    }
  }
});

test("jacov's input gradient as a second backward of the cross-entropy pass (inputOfSum) equals its own sum pass", async () => {
  const space = getSpace('nb201');
  const arch = '|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
  const g = space.build(space.parse(arch), { dataset: 'cifar10' });
  const w = initWeights(g, `input-of-sum/${arch}`);
  const x = inputs(2, [3, 32, 32], 'input-of-sum-x');
  const labels = Int32Array.from([4, 7]);
  const ref = new ReferenceGradBackend();
  const fast = new OnnxGradBackend();
  // the definition: d sum(logits) / d input in a pass of its own (BatchNorm over the same batch)
  const own = (await ref.gradients(g, w, x, { objective: { kind: 'sum' }, bn: 'batch', wrt: { input: true } })).input!;
  const ce: GradRequest = { objective: { kind: 'cross-entropy', labels }, bn: 'batch', wrt: { weights: true, outputProducts: true, inputOfSum: true } };
  const r = await ref.gradients(g, w, x, ce);
  assert.ok(relDiff(own, r.inputOfSum!) < 1e-12, 'reference inputOfSum');
  const f = await fast.gradients(g, w, x, ce);
  const d = relDiff(own, f.inputOfSum!);
  assert.ok(d < 1e-4, `onnx inputOfSum differs from the float64 sum pass by ${d.toExponential(2)}`);
  // the cross-entropy pass's own outputs are unchanged by the second backward
  const plain = await fast.gradients(g, w, x, { ...ce, wrt: { weights: true, outputProducts: true } });
  for (const [node, p] of plain.weights!) assert.ok(relDiff(p.weight!, f.weights!.get(node)!.weight!) < 1e-6, `dW of ${g.nodes[node]!.name}`);
  assert.ok(Math.abs(plain.loss - f.loss) <= 1e-6 * Math.abs(plain.loss));
  // and with H g in the same run (GraSP beside jacov)
  const withHg = await fast.gradients(g, w, x, { ...ce, wrt: { ...ce.wrt, hvp: 'gradient' } });
  assert.ok(relDiff(own, withHg.inputOfSum!) < 1e-4, 'inputOfSum beside H g');
  // BatchNorm with gamma != 1, beta != 0 (the affine ops a fresh network's unit BatchNorms skip)
  const w2: Weights = { ...w, byNode: new Map(w.byNode) };
  for (const n of g.nodes) {
    const p = w.byNode.get(n.id);
    if (n.op.kind === 'batchnorm' && p?.weight) w2.byNode.set(n.id, { ...p, weight: p.weight.map((_, i) => 1 + 0.1 * Math.sin(i + n.id)), bias: p.bias!.map((_, i) => 0.05 * Math.cos(i * n.id)) });
  }
  const r2 = await ref.gradients(g, w2, x, ce);
  const f2 = await fast.gradients(g, w2, x, ce);
  for (const [node, p] of r2.weights!) {
    if (g.nodes[node]!.op.kind !== 'conv2d' && g.nodes[node]!.op.kind !== 'linear') continue;
    const dd = relDiff(p.weight!, f2.weights!.get(node)!.weight!);
    assert.ok(dd < 1e-4, `affine BatchNorm: dW of ${g.nodes[node]!.name} differs by ${dd.toExponential(2)}`);
  }
  assert.ok(relDiff(r2.inputOfSum!, f2.inputOfSum!) < 1e-4, 'affine BatchNorm: inputOfSum');
  assert.ok(relDiff(r2.logits, f.logits) > 1e-6, 'the affine parameters were used');
});
