/**
 * The onnxruntime gradient path against the float64 reference tape on whole networks (NB201, NATS-SSS,
 * TransNAS micro and macro): every gradient tensor (conv / linear weights and biases, the input,
 * fisher's output products) within 1e-4 relative (max |a - b| / max |a|), with the objectives and
 * BatchNorm modes the proxies use. Small inputs keep the float64 side fast.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxGradBackend } from '../src/grad/onnx/backend.js';
import { ReferenceGradBackend } from '../src/grad/reference.js';
import type { GradInput, GradRequest, GradResult } from '../src/grad/types.js';
import { initWeights } from '../src/ir/init.js';
import { getSpace } from '../src/spaces/index.js';
import type { BuildOptions } from '../src/spaces/types.js';
import { Rng } from '../src/util/rng.js';
import { relDiff } from './helpers/fixtures.js';

function inputs(n: number, shape: readonly number[], seed: string): GradInput {
  const rng = new Rng(seed);
  const [c, h, w] = shape as [number, number, number];
  return { n, c, h, w, data: Float32Array.from({ length: n * c * h * w }, () => rng.nextNormal()) };
}

function compare(ref: GradResult, fast: GradResult, what: string): void {
  assert.ok(relDiff(ref.logits, fast.logits) < 1e-4, `${what}: logits differ by ${relDiff(ref.logits, fast.logits)}`);
  for (const [node, pg] of fast.weights ?? []) {
    for (const role of ['weight', 'bias'] as const) {
      const a = ref.weights!.get(node)?.[role];
      const b = pg[role];
      if (!b) continue;
      const d = relDiff(a!, b);
      assert.ok(d < 1e-4, `${what}: d${role} of node ${node} differs by ${d.toExponential(2)}`);
    }
  }
  if (fast.input) assert.ok(relDiff(ref.input!, fast.input) < 1e-4, `${what}: input gradient differs by ${relDiff(ref.input!, fast.input)}`);
  for (const [node, p] of fast.outputProducts ?? []) {
    const d = relDiff(ref.outputProducts!.get(node)!, p);
    assert.ok(d < 1e-4, `${what}: output products of node ${node} differ by ${d.toExponential(2)}`);
  }
}

const CASES: { space: string; archs: string[]; build: BuildOptions; n: number }[] = [
  {
    space: 'nb201',
    archs: [
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
      '|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|skip_connect~1|nor_conv_1x1~2|',
    ],
    build: { dataset: 'cifar10' },
    n: 2,
  },
  { space: 'sss', archs: ['8:16:24:8:32'], build: { dataset: 'cifar10' }, n: 2 },
  { space: 'transnas-micro', archs: ['64-41414-1_02_333'], build: { resolution: 32 }, n: 2 },
  { space: 'transnas-macro', archs: ['64-1234-basic'], build: { resolution: 32 }, n: 2 },
];

for (const c of CASES) {
  test(`onnx gradients agree with the float64 reference: ${c.space}`, async () => {
    const space = getSpace(c.space);
    const ref = new ReferenceGradBackend();
    const fast = new OnnxGradBackend();
    for (const arch of c.archs) {
      const g = space.build(space.parse(arch), c.build);
      const w = initWeights(g, `grad-agree/${arch}`);
      const x = inputs(c.n, g.nodes[g.input]!.shape, `grad-agree-x/${arch}`);
      const classes = g.nodes[g.output]!.shape.reduce((a, d) => a * d, 1);
      const labels = Int32Array.from({ length: c.n }, (_, i) => (i * 7) % classes);
      const reqs: [string, GradRequest][] = [
        ['cross-entropy, batch BN, weights + products', { objective: { kind: 'cross-entropy', labels }, bn: 'batch', wrt: { weights: true, outputProducts: true } }],
        // the sum of a BatchNorm output (TransNAS ends in one) has a zero input gradient: only rounding to compare
        g.nodes[g.output]!.op.kind === 'batchnorm'
          ? ['cross-entropy, per-image BN, input', { objective: { kind: 'cross-entropy', labels }, bn: 'per-image', wrt: { input: true } }]
          : ['sum, batch BN, input (jacov)', { objective: { kind: 'sum' }, bn: 'batch', wrt: { input: true } }],
        ['sum, BN off, |w| (synflow)', { objective: { kind: 'sum' }, bn: 'off', absWeights: true, wrt: { weights: true } }],
      ];
      for (const [what, req] of reqs) {
        const xr = what.includes('synflow') ? { ...x, n: 1, data: new Float32Array(x.data.length / c.n).fill(1) } : x;
        compare(await ref.gradients(g, w, xr, req), await fast.gradients(g, w, xr, req), `${c.space} ${arch} ${what}`);
      }
    }
  });
}
