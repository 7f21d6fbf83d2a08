import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { ACTIVATION_FN, erf } from '../src/ir/activations.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { initWeights } from '../src/ir/init.js';
import { ACTIVATIONS, type ActivationKind } from '../src/ir/types.js';

// inputs: negatives, zero, large values, and a dense grid around the kinks
const SWEEP = [-1000, -80, -50, -20, -10, -6, -5, -3.5, -3, -2.5, -1, -0.5, -1e-3, -1e-7, 0, 1e-7, 1e-3, 0.5, 1, 2.5, 3, 3.5, 5, 6, 6.5, 10, 20, 50, 80, 1000];
for (let v = -8; v <= 8; v += 0.0625) SWEEP.push(v);

test('erf matches tabulated values to 1e-14', () => {
  const table: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.9, 0.9999589021219005],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [5, 0.9999999999984626],
  ];
  for (const [x, v] of table) {
    assert.ok(Math.abs(erf(x) - v) < 1e-14, `erf(${x}) = ${erf(x)}, expected ${v}`);
    assert.ok(Math.abs(erf(-x) + v) < 1e-14);
  }
});

// The definitions, written out plainly (PyTorch defaults), independent of src/ir/activations.ts.
const SELU_ALPHA = 1.6732632423543772848170429303805;
const SELU_SCALE = 1.0507009873554804934193349852946;
const DEFINITIONS: Record<ActivationKind, (x: number) => number> = {
  relu: (x) => Math.max(0, x),
  gelu: (x) => (x / 2) * (1 + erf(x / Math.sqrt(2))),
  silu: (x) => x * (1 / (1 + Math.exp(-x))),
  leaky_relu: (x) => Math.max(0, x) + 0.01 * Math.min(0, x),
  relu6: (x) => Math.min(Math.max(0, x), 6),
  mish: (x) => x * Math.tanh(Math.log(1 + Math.exp(Math.min(x, 700))) + Math.max(0, x - 700)),
  hardswish: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
  celu: (x) => Math.max(0, x) + Math.min(0, Math.exp(x) - 1),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  hardtanh: (x) => (x < -1 ? -1 : x > 1 ? 1 : x),
  selu: (x) => SELU_SCALE * (Math.max(0, x) + Math.min(0, SELU_ALPHA * (Math.exp(x) - 1))),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  tanh: (x) => Math.tanh(x),
};

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

test('float64 activation formulas equal their definitions (1e-12) over the sweep', () => {
  for (const fn of ACTIVATIONS) {
    for (const x of SWEEP) {
      const got = ACTIVATION_FN[fn](x, fn === 'leaky_relu' ? 0.01 : 1);
      assert.ok(close(got, DEFINITIONS[fn](x), 1e-12), `${fn}(${x}) = ${got}, definition ${DEFINITIONS[fn](x)}`);
    }
  }
});

function sweepGraph(fn: ActivationKind) {
  const b = new GraphBuilder(`sweep:${fn}`);
  const x = b.input([1, 1, SWEEP.length]);
  const a = b.activation('act', x, fn);
  const pooled = b.globalAvgPool('pool', a);
  const logits = b.linear('fc', pooled, 2);
  return b.finish({ output: logits, classifierInput: pooled, defaultTaps: 'activations' });
}

test('both backends compute every activation to 1e-6 of its definition (relative above 1)', async () => {
  const data = Float32Array.from(SWEEP);
  const images = { n: 1, c: 1, h: 1, w: SWEEP.length, data, id: 'sweep' };
  for (const be of [new OnnxBackend(), new ReferenceBackend()]) {
    for (const fn of ACTIVATIONS) {
      const g = sweepGraph(fn);
      const f = await be.forward(g, initWeights(g, 'sweep'), images, { taps: ['activations'], bn: 'per-image' });
      const out = f.x[0]!.data;
      SWEEP.forEach((_, i) => {
        const x = data[i]!; // the float32 input both backends see
        const want = DEFINITIONS[fn](x);
        assert.ok(close(out[i]!, want, 1e-6), `${be.name} ${fn}(${x}) = ${out[i]}, definition ${want}`);
      });
    }
  }
});
