import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { countParams, networkInfo } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import { sss } from '../src/spaces/sss.js';
import { gaussianImages, relDiff } from './helpers/fixtures.js';

/**
 * Parameters of the xautodl "infer.shape.tiny" network (DynamicShapeTinyNet) for channels
 * c1..c5, derived by hand. Cell genotype (NATS-Bench SSS):
 *   node1 = conv3x3(n0); node2 = conv3x3(n0) + conv3x3(n1); node3 = skip(n0) + conv3x3(n1) + conv3x3(n2)
 * ReLUConvBN(a->b, k): k*k*a*b conv weights (no bias) + 2b BN affine.
 * In a cell a->b the three edges from node 0 take a channels: two ReLUConvBN(a->b, 3) and the skip,
 * which is identity when a == b and FactorizedReduce(stride 1) = conv1x1 a*b + BN 2b otherwise;
 * the three other edges are ReLUConvBN(b->b, 3).
 * ResNet block a->b (stride 2): conv_a ReLUConvBN(a->b,3), conv_b ReLUConvBN(b->b,3), shortcut AvgPool + conv1x1 a*b.
 * Stem conv3x3 3->c1 + BN; cell c1->c1; block c1->c2; cell c2->c3; block c3->c4; cell c4->c5;
 * lastact BN(c5); Linear(c5 -> 10) with bias.
 */
function handCount(c: number[]): number {
  const [c1, c2, c3, c4, c5] = c as [number, number, number, number, number];
  const rcb = (a: number, b: number, k: number) => k * k * a * b + 2 * b;
  const cell = (a: number, b: number) => 2 * rcb(a, b, 3) + (a === b ? 0 : a * b + 2 * b) + 3 * rcb(b, b, 3);
  const block = (a: number, b: number) => rcb(a, b, 3) + rcb(b, b, 3) + a * b;
  return 27 * c1 + 2 * c1 + cell(c1, c1) + block(c1, c2) + cell(c2, c3) + block(c3, c4) + cell(c4, c5) + 2 * c5 + 10 * c5 + 10;
}

test('sss parameter counts match the hand derivation of the xautodl network', () => {
  // the two ends, written out:
  // 8^5:  stem 216+16, each cell 5*(576+16)=2960, each block 592+592+64=1248, lastact 16, fc 90 -> 11714
  assert.equal(countParams(sss.build('8:8:8:8:8')), 11714);
  // 64^5: stem 1728+128, each cell 5*(36864+128)=184960, each block 36992+36992+4096=78080, lastact 128, fc 650 -> 713674
  assert.equal(countParams(sss.build('64:64:64:64:64')), 713674);
  for (const a of ['8:8:8:8:8', '64:64:64:64:64', '64:32:16:8:64', '8:16:24:32:40', '16:64:64:8:8', '40:40:8:56:64', '24:48:32:64:16']) {
    assert.equal(countParams(sss.build(a)), handCount(a.split(':').map(Number)), a);
  }
});

test('sss enumerates 32,768 configs; parse validates with clear errors', () => {
  const seen = new Set<string>();
  for (let i = 0; i < sss.size; i++) {
    const a = sss.archAt(i);
    assert.equal(sss.indexOf(a), i);
    seen.add(a);
  }
  assert.equal(seen.size, 32768);
  assert.throws(() => sss.parse('64:32:16:8'), /4 channel count\(s\); expected 5/);
  assert.throws(() => sss.parse('64:32:16:8:12'), /channel 5 "12" .* must be one of 8, 16, 24, 32, 40, 48, 56, 64/);
  assert.throws(() => sss.parse('64:32:x:8:8'), /channel 3 "x"/);
});

test('sss networks: shapes, and the two backends agree (channel changes inside cells)', async () => {
  const images = gaussianImages(3, 32, 'sss');
  for (const a of ['64:32:16:8:64', '8:16:24:32:40']) {
    const g = sss.build(a);
    const info = networkInfo(g);
    assert.equal(info.lq, Number(a.split(':')[4]));
    const w = initWeights(g, `sss/${a}`);
    const opts = { taps: ['reference'] as const, bn: 'per-image' as const };
    const r = await new ReferenceBackend().forward(g, w, images, opts);
    const o = await new OnnxBackend().forward(g, w, images, opts);
    r.x.forEach((s, i) => assert.ok(relDiff(s.data, o.x[i]!.data) <= 1e-4, `${a} node ${s.node}`));
    assert.ok(relDiff(r.y.data, o.y.data) <= 1e-4);
  }
});
