/**
 * az-nas as a proxy: the cell sub-graph and its vector-Jacobian product (against central differences
 * on the float64 tape and against the onnx gradient path), the population rank aggregation
 * (Σ log(rank/n) over FLOPs, expressivity, progressivity, trainability), and a session that ranks
 * NB201 networks with it (inside an ensemble too).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import { OnnxGradBackend } from '../src/grad/onnx/backend.js';
import { ReferenceGradBackend } from '../src/grad/reference.js';
import { initWeights } from '../src/ir/init.js';
import { azRun, rademacher, subgraph } from '../src/proxies/az-nas-run.js';
import { ensembleScores } from '../src/proxies/ensemble.js';
import { cellFeatureNodes } from '../src/proxies/forward-runs.js';
import { gaussianImages } from '../src/proxies/init-schemes.js';
import { POPULATION_PROXIES, applyPopulation, expandEnsemble } from '../src/search/ensemble-scores.js';
import type { ArchScore } from '../src/search/scorer.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

test('az-nas cell sub-graph: same output as the whole network, VJP = central differences (float64) = onnx', async () => {
  const g = nb201.build(ARCH, { dataset: 'cifar10', resolution: 8 });
  const w = initWeights(g, 'az-sub');
  const feats = cellFeatureNodes(g)!;
  assert.equal(feats.length, 18, 'stem + 17 cells');
  const n = 2;
  const x = gaussianImages(n, 3, 8, 8, 'az-sub-x');
  const full = await new ReferenceBackend().forward(g, w, { n, c: 3, h: 8, w: 8, data: x, id: 'x' }, { taps: [], bn: 'batch', nodes: feats });
  const ref = new ReferenceGradBackend();
  // a normal cell (stage 1) and the first reduction block
  for (const i of [3, 6]) {
    const sub = subgraph(g, w, feats[i - 1]!, feats[i]!);
    const [c, h, wd] = g.nodes[feats[i - 1]!]!.shape as [number, number, number];
    const fin = Float64Array.from(full.nodes!.get(feats[i - 1]!)!.data);
    const outSize = n * g.nodes[feats[i]!]!.shape.reduce((a, d) => a * d, 1);
    const gOut = rademacher(outSize, `az-sub/${i}`);
    const r = await ref.gradients(sub.graph, sub.weights, { n, c, h, w: wd, data: fin }, { objective: { kind: 'seed', grad: gOut }, bn: 'batch', wrt: { input: true } });
    // the sub-graph's output is the whole network's cell output
    const fout = full.nodes!.get(feats[i]!)!.data;
    let md = 0;
    for (let k = 0; k < outSize; k++) md = Math.max(md, Math.abs(r.logits[k]! - fout[k]!));
    assert.ok(md < 1e-4, `cell ${i}: sub-graph output differs by ${md}`);
    // <g_in, v> against (L(x + e v) - L(x - e v)) / 2e, L = <f(x), g_out>
    const v = gaussianImages(1, 1, 1, fin.length, `az-sub-v/${i}`);
    const eps = 1e-5;
    const at = async (s: number) => {
      const xs = Float64Array.from(fin, (val, k) => val + s * eps * v[k]!);
      return (await ref.gradients(sub.graph, sub.weights, { n, c, h, w: wd, data: xs }, { objective: { kind: 'seed', grad: gOut }, bn: 'batch', wrt: {} })).loss;
    };
    const fd = ((await at(1)) - (await at(-1))) / (2 * eps);
    let an = 0;
    for (let k = 0; k < fin.length; k++) an += r.input![k]! * v[k]!;
    assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(an)), `cell ${i}: VJP ${an}, central difference ${fd}`);
    // the float32 onnx path gives the same VJP
    const o = await new OnnxGradBackend().gradients(sub.graph, sub.weights, { n, c, h, w: wd, data: Float32Array.from(fin) }, { objective: { kind: 'seed', grad: gOut }, bn: 'batch', wrt: { input: true } });
    let num = 0;
    let den = 0;
    for (let k = 0; k < fin.length; k++) {
      num += (o.input![k]! - r.input![k]!) ** 2;
      den += r.input![k]! ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-4, `cell ${i}: onnx VJP differs from float64 by ${Math.sqrt(num / den)} (relative)`);
  }
});

test('az-nas: a whole network on both backends agrees; identity cells give trainability -Infinity', async () => {
  const g = nb201.build(ARCH, { dataset: 'cifar10', resolution: 8 });
  const a = await azRun(g, 'az-run', new OnnxBackend({ threads: 1 }), 4);
  const b = await azRun(g, 'az-run', new ReferenceBackend(), 4);
  for (const k of ['expressivity', 'progressivity', 'trainability'] as const) {
    assert.ok(Number.isFinite(a[k]) && Math.abs(a[k] - b[k]) < 1e-4 * Math.max(1, Math.abs(b[k])), `${k}: onnx ${a[k]}, float64 ${b[k]}`);
  }
  const id = nb201.build('|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|', { dataset: 'cifar10', resolution: 8 });
  assert.equal((await azRun(id, 'az-run', new OnnxBackend({ threads: 1 }), 4)).trainability, -Infinity);
});

test('az-nas population: Σ log(rank/n) over flops and the three AZ scores; expands inside an ensemble', () => {
  assert.deepEqual(POPULATION_PROXIES['az-nas']!.members, ['flops', 'az-expressivity', 'az-progressivity', 'az-trainability']);
  assert.deepEqual(expandEnsemble(['az-nas', 'ensemble'], { members: ['az-nas', 'meco'], aggregation: 'log-rank' }).sort(), ['az-expressivity', 'az-progressivity', 'az-trainability', 'flops', 'meco']);
  const rows: Record<string, number>[] = [
    { flops: 3, 'az-expressivity': 10, 'az-progressivity': 1, 'az-trainability': -0.5, meco: 1 },
    { flops: 1, 'az-expressivity': 30, 'az-progressivity': 2, 'az-trainability': -Infinity, meco: 3 },
    { flops: 2, 'az-expressivity': 20, 'az-progressivity': 0, 'az-trainability': -0.1, meco: 2 },
  ];
  const scored = new Map<string, ArchScore>(rows.map((s, i) => [`a${i}`, { arch: `a${i}`, scores: { ...s }, ms: 0 }]));
  applyPopulation(scored, ['az-nas', 'ensemble'], { members: ['az-nas', 'meco'], aggregation: 'rank' });
  // by hand: ranks (1 = worst) flops [3,1,2], expr [1,3,2], prog [2,3,1], train [2,1,3]
  const want = [Math.log(3 / 3) + Math.log(1 / 3) + Math.log(2 / 3) + Math.log(2 / 3), Math.log(1 / 3) + Math.log(3 / 3) + Math.log(3 / 3) + Math.log(1 / 3), Math.log(2 / 3) + Math.log(2 / 3) + Math.log(1 / 3) + Math.log(3 / 3)];
  rows.forEach((_, i) => assert.ok(Math.abs(scored.get(`a${i}`)!.scores['az-nas']! - want[i]!) < 1e-12));
  const az = want;
  const ens = ensembleScores([az, rows.map((r) => r.meco!)], 'rank');
  rows.forEach((_, i) => assert.equal(scored.get(`a${i}`)!.scores.ensemble, ens[i]));
});

test('az-nas in a session: members scored per network, az-nas ranks the set', async () => {
  const images = { n: 3, c: 3, h: 8, w: 8, data: gaussianImages(3, 3, 8, 8, 'az-session'), id: 'az-session' };
  const s = new ScoringSession({ space: 'nb201', images, build: { dataset: 'cifar10', resolution: 8 }, proxies: ['az-nas'], workers: 0 });
  try {
    assert.deepEqual([...s.computed].sort(), ['az-expressivity', 'az-progressivity', 'az-trainability', 'flops']);
    const archs = [ARCH, '|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|none~0|skip_connect~1|avg_pool_3x3~2|'];
    const r = await s.score(archs);
    const rows = archs.map((a) => r.get(a)!.scores);
    for (const row of rows) for (const m of s.computed) assert.ok(row[m] !== undefined && !Number.isNaN(row[m]), `${m} missing`);
    const want = ensembleScores(POPULATION_PROXIES['az-nas']!.members.map((m) => rows.map((row) => (row as Record<string, number>)[m]!)), 'log-rank');
    rows.forEach((row, i) => assert.equal(row['az-nas'], want[i]));
  } finally {
    await s.close();
  }
});
