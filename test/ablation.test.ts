/**
 * The RBFleX ablation: one forward of max(N) images gives every cell's score exactly as rbflexScore on
 * the cut features; the bootstrap intervals behave; each cell equals a plain study's rbflex column on
 * real NB201 data; an interrupted run with --out resumes to the same report.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Features, FeatureSegment } from '../src/backends/types.js';
import { openBenchmark } from '../src/benchmarks/index.js';
import { studyAblation, parseBatches } from '../src/cli/commands/study-ablation.js';
import { UsageError } from '../src/cli/errors.js';
import { normalizedSquaredDistances, rbflexScore } from '../src/proxies/rbflex.js';
import { ScoringSession } from '../src/search/session.js';
import { kendallTauB } from '../src/search/stats.js';
import { getSpace } from '../src/spaces/index.js';
import { ablationScores, segmentDistances, settingKey } from '../src/study/ablation-scores.js';
import { runAblation } from '../src/study/ablation.js';
import { bootstrapInterval, pairedBootstrap, RANK_STATS, resamples } from '../src/study/bootstrap.js';
import { runStudy } from '../src/study/run.js';
import { Rng } from '../src/util/rng.js';
import { sharedDataPath } from './helpers/shared-data.js';

function segment(node: number, size: number, n: number, counts: [number, number], rng: Rng): FeatureSegment {
  const data = new Float32Array(n * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, rng.nextNormal());
  return { node, size, data, counts: { reference: counts[0], activations: counts[1] } };
}

test('ablationScores: every (taps, N, gammas) cell is rbflexScore on the first N images (float64 rounding)', () => {
  const rng = new Rng('ablation-unit');
  const n = 9;
  const x = [segment(0, 700, n, [1, 0], rng), segment(1, 25, n, [2, 1], rng), segment(2, 7, n, [0, 3], rng), segment(3, 12, n, [1, 1], rng)];
  // a constant column in one segment adds nothing; keep it in to exercise that path
  for (let i = 0; i < n; i++) x[3]!.data[i * 12] = 0.5;
  const y = segment(9, 16, n, [1, 1], rng);
  const f: Features = { n, x, y };
  const fixed = { gammaK: 0.01, gammaQ: 0.02 };
  const hda = (t: string, k: number) => ({ gammaK: 0.001 * k * (t === 'reference' ? 1 : 2), gammaQ: 0.003 / k });
  const ns = [2, 3, 5, 9];
  const s = ablationScores(f, ['reference', 'activations'], ns, fixed, hda);
  assert.equal(s.size, ns.length * 2 * 2);
  for (const taps of ['reference', 'activations'] as const) {
    for (const k of ns) {
      const cut = (seg: FeatureSegment) => ({ data: seg.data.subarray(0, k * seg.size), size: seg.size, count: seg.counts[taps] });
      const xb = x.filter((seg) => seg.counts[taps] > 0).map(cut);
      const yb = [{ ...cut(y), count: 1 }];
      for (const g of ['fixed', 'hda'] as const) {
        const w = g === 'fixed' ? fixed : hda(taps, k);
        const want = rbflexScore(xb, yb, k, w.gammaK, w.gammaQ).score;
        assert.ok(Number.isFinite(want));
        const got = s.get(settingKey({ taps, n: k, gammas: g }))!;
        assert.ok(Math.abs(got - want) <= 1e-9 * Math.abs(want), `${taps} N=${k} ${g}: ${got} vs ${want}`);
      }
    }
  }
  // the taps differ (segment 0 only in reference, segment 2 only in activations)
  assert.notEqual(s.get('reference|9|fixed'), s.get('activations|9|fixed'));
  assert.throws(() => ablationScores(f, ['reference'], [10], fixed, hda), /N=10 needs 10 images/);
  // a non-finite feature makes that N's scores -Infinity, as rbflexScore
  x[1]!.data[3] = NaN;
  const bad = ablationScores(f, ['reference'], [3], fixed, hda);
  assert.equal(bad.get('reference|3|fixed'), -Infinity);
});

test('segmentDistances equals normalizedSquaredDistances (several column blocks, constant and non-finite columns)', () => {
  const rng = new Rng('seg-dist');
  for (const [n, size] of [[3, 5], [7, 600], [64, 300]] as const) {
    const seg = segment(0, size, n, [1, 1], rng);
    for (let i = 0; i < n; i++) seg.data[i * size + 2] = -1.25;
    const want = normalizedSquaredDistances([{ data: seg.data, size, count: 1 }], n);
    const got = segmentDistances(seg, n);
    for (let p = 0; p < n * n; p++) assert.ok(Math.abs(got[p]! - want[p]!) <= 1e-12 * Math.max(1, want[p]!), `n=${n} entry ${p}: ${got[p]} vs ${want[p]}`);
    seg.data[(n - 1) * size + size - 1] = Infinity;
    assert.ok(segmentDistances(seg, n).every(Number.isNaN));
  }
});

test('bootstrap: seeded, brackets the estimate, zero-width for a column against itself', () => {
  const rng = new Rng('boot');
  const y = Array.from({ length: 150 }, () => rng.nextNormal());
  const x = y.map((v) => v + 0.8 * rng.nextNormal());
  const z = y.map((v) => v + 3 * rng.nextNormal());
  const idx = resamples(y.length, 300, 't');
  const k = kendallTauB(x, y);
  const ci = bootstrapInterval(x, y, RANK_STATS.kendall, idx);
  assert.ok(ci.lo < k && k < ci.hi, `${ci.lo} < ${k} < ${ci.hi}`);
  assert.ok(ci.hi - ci.lo > 0.03 && ci.hi - ci.lo < 0.3, `width ${ci.hi - ci.lo}`);
  assert.deepEqual(bootstrapInterval(x, y, RANK_STATS.kendall, resamples(y.length, 300, 't')), ci);
  assert.notDeepEqual(bootstrapInterval(x, y, RANK_STATS.kendall, resamples(y.length, 300, 'u')), ci);
  assert.deepEqual(pairedBootstrap(x, x, y, RANK_STATS.kendall, idx), { lo: 0, hi: 0 });
  // x is much closer to y than z: the paired difference is clearly positive
  const d = pairedBootstrap(x, z, y, RANK_STATS.spearman, idx);
  assert.ok(d.lo > 0.2, `paired lo ${d.lo}`);
});

test('--ablation-batches parsing', () => {
  assert.deepEqual(parseBatches('16,3,8'), [3, 8, 16]);
  assert.throws(() => parseBatches('3,1'), UsageError);
  assert.throws(() => parseBatches('3,x'), /not a whole number/);
  assert.throws(() => parseBatches('3,3'), /repeated/);
});

test('ablation cells equal plain studies on NB201 (fixed N=3 reference taps, HDA N=5 activations), and --out resumes', async (t) => {
  const csv = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  const imgs = sharedDataPath('images/cifar10', t);
  if (!csv || !imgs) return;
  const bench = openBenchmark(csv);
  const space = getSpace('nb201');
  const common = { space, benchmark: bench, samples: 5, seed: '3', images: { data: imgs } };
  const ab = await runAblation({ ...common, ns: [3, 5], hdaNetworks: 2, bootstrap: 50 });
  assert.equal(ab.archs, 5);
  assert.equal(ab.cells.length, 2 * 2 * 2);
  const host = (so: ConstructorParameters<typeof ScoringSession>[0]) => new ScoringSession({ ...so, reduce: 'host', workers: 1 });
  const cases = [
    { key: 'reference|3|fixed', o: { images: { data: imgs, batch: 3 }, taps: 'reference' as const } },
    { key: 'activations|5|hda', o: { images: { data: imgs, batch: 5 }, taps: 'activations' as const, gammas: { hda: true, hdaNetworks: 2 } } },
  ];
  for (const c of cases) {
    const st = await runStudy({ ...common, ...c.o, proxies: ['rbflex'], session: host });
    const rows = st.repeats[0]!.rows;
    assert.deepEqual(rows.map((r) => r.arch), ab.rows.map((r) => r.arch));
    for (let i = 0; i < rows.length; i++) {
      const a = ab.rows[i]!.scores[c.key]!;
      const b = rows[i]!.scores.rbflex!;
      // one 5-image onnxruntime pass vs a 3-image pass: float32 rounding only
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `${c.key} ${rows[i]!.arch}: ${a} vs ${b}`);
    }
    if (c.key.endsWith('hda')) {
      assert.ok(Math.abs(st.repeats[0]!.gammas!.gammaK / ab.hda['activations:5']!.gammaK - 1) < 1e-9);
    }
  }

  // the CLI path: a run cut short (last row dropped, a half-written line) resumes to the same report
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-ablation-'));
  try {
    const o = { samples: 3, seed: '3', data: imgs, hdaVariant: 'paper' as const, hdaNetworks: 2, backend: 'onnx' as const, ablationBatches: '3,4', out: dir, json: true };
    const first = await studyAblation(o, space, bench, { dataset: 'cifar10' }, () => {});
    const md = readFileSync(join(dir, 'ablation.md'), 'utf8');
    const file = join(dir, 'ablation-scores.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1 + 3);
    writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n{"arch":"|nor_co`);
    const second = await studyAblation(o, space, bench, { dataset: 'cifar10' }, () => {});
    assert.equal(readFileSync(join(dir, 'ablation.md'), 'utf8'), md);
    assert.deepEqual(second.rows, first.rows);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1 + 3);
    // other settings: refused, not mixed in
    await assert.rejects(studyAblation({ ...o, seed: '4' }, space, bench, { dataset: 'cifar10' }, () => {}), /cannot be resumed \(it was written with other settings\)/);
    assert.ok(existsSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
