import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { Features } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import type { Graph } from '../src/ir/types.js';
import { REFERENCE_GAMMAS, blocksFor } from '../src/proxies/index.js';
import { rbflexScore } from '../src/proxies/rbflex.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';
import { gaussianImages, relDiff } from './helpers/fixtures.js';

const FIXED = [
  '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|',
  '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|',
  '|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|',
  '|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|',
  '|nor_conv_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|none~0|avg_pool_3x3~1|skip_connect~2|',
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
  '|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|',
  '|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|',
];
// ten more, seeded
const ARCHS = [...FIXED, ...new Rng('backend-agree').sample(nb201.size, 10).map((i) => nb201.archAt(i))];
const images = gaussianImages(3, 32, 'agree');

/** Longest chain of convolutions from the input to each node. */
function convDepth(g: Graph): number[] {
  const d: number[] = [];
  for (const n of g.nodes) d[n.id] = Math.max(0, ...n.inputs.map((i) => d[i]!)) + (n.op.kind === 'conv2d' ? 1 : 0);
  return d;
}

/**
 * Relative difference = max |a - b| / max |a| per tapped tensor; tolerance 1e-4.
 * float32 rounding grows along chains of conv+BN layers. Only the cells with a convolution on
 * every edge reach a conv depth of 45-50 (3 per cell on the longest path); there we measured up
 * to 2.1e-4 (all-conv3x3) and 1.1e-4 (all-conv1x1), at every onnxruntime optimisation level,
 * and 4.3e-5 for a float64 interpreter that merely rounds each op's output to float32. Tensors
 * deeper than 40 convolutions get 3e-4; everything shallower, in every arch, is held to 1e-4.
 */
function compare(a: Features, b: Features, g: Graph, label: string): void {
  const depth = convDepth(g);
  const tol = (node: number) => (depth[node]! > 40 ? 3e-4 : 1e-4);
  assert.equal(a.x.length, b.x.length, `${label}: tapped tensor count`);
  for (let s = 0; s < a.x.length; s++) {
    const node = a.x[s]!.node;
    assert.equal(node, b.x[s]!.node);
    const r = relDiff(a.x[s]!.data, b.x[s]!.data);
    assert.ok(r <= tol(node), `${label}: node ${node} (conv depth ${depth[node]}) differs by ${r} (relative)`);
  }
  assert.ok(relDiff(a.y.data, b.y.data) <= tol(g.classifierInput), `${label}: classifier input differs`);
}

test('onnx and reference backends agree on every tapped tensor (1e-4) and on RBFleX (1e-3), 20 NB201 archs', async () => {
  const ref = new ReferenceBackend();
  const onnx = new OnnxBackend();
  for (const arch of ARCHS) {
    const g = nb201.build(arch);
    const w = initWeights(g, `agree/${arch}`);
    const opts = { taps: ['reference', 'activations'] as const, bn: 'per-image' as const };
    const a = await ref.forward(g, w, images, opts);
    const b = await onnx.forward(g, w, images, opts);
    compare(a, b, g, arch);
    const score = (f: Features) =>
      rbflexScore(blocksFor(f, 'reference'), [{ data: f.y.data, size: f.y.size, count: 1 }], f.n, REFERENCE_GAMMAS.gammaK, REFERENCE_GAMMAS.gammaQ).score;
    const sa = score(a);
    const sb = score(b);
    if (sa === -Infinity || sb === -Infinity) assert.equal(sa, sb, `${arch}: ${sa} vs ${sb}`);
    else assert.ok(Math.abs(sa - sb) <= 1e-3, `${arch}: rbflex ${sa} (reference) vs ${sb} (onnx)`);
  }
});

test('batch-statistics BatchNorm (HDA mode) agrees between backends', async () => {
  const ref = new ReferenceBackend();
  const onnx = new OnnxBackend();
  for (const arch of ARCHS.slice(6, 9)) {
    const g = nb201.build(arch);
    const w = initWeights(g, `agree/${arch}`);
    const opts = { taps: ['reference'] as const, bn: 'batch' as const };
    compare(await ref.forward(g, w, images, opts), await onnx.forward(g, w, images, opts), g, `${arch} (batch BN)`);
  }
});

test('all-none cell: every image gives the same classifier input, so RBFleX is -Infinity on both backends (not NaN)', async () => {
  const g = nb201.build(FIXED[0]!);
  const w = initWeights(g, 'none');
  for (const be of [new ReferenceBackend(), new OnnxBackend()]) {
    const f = await be.forward(g, w, images, { taps: ['reference'], bn: 'per-image' });
    const r = rbflexScore(blocksFor(f, 'reference'), [{ data: f.y.data, size: f.y.size, count: 1 }], f.n, 1e-3, 1e-3);
    assert.equal(r.score, -Infinity, be.name);
    assert.match(r.degenerate ?? '', /singular/);
  }
});
