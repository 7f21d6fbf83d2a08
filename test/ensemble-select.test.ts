import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensembleScores } from '../src/proxies/ensemble.js';
import { costFrontier, kendallInterval, pairedKendallDifference, searchEnsembles, setCost } from '../src/proxies/ensemble-select.js';
import { kendallTauB } from '../src/search/stats.js';
import { Rng } from '../src/util/rng.js';

// 300 "archs": accuracy = a hidden quality; two proxies = quality + independent noise; one pure noise
const rng = new Rng('ensemble-select-test');
const n = 300;
const quality = Array.from({ length: n }, () => rng.nextNormal());
const acc = quality.map((q) => 70 + 5 * q);
const a = quality.map((q) => q + 0.8 * rng.nextNormal());
const b = quality.map((q) => q + 0.8 * rng.nextNormal());
const noise = quality.map(() => rng.nextNormal());

test('searchEnsembles: every set of 2..maxSize under both aggregations; two independent noisy copies beat either alone, noise is left out', () => {
  const pool = new Map([
    ['a', a],
    ['noise', noise],
    ['b', b],
  ]);
  const res = searchEnsembles(pool, acc, { maxSize: 3 });
  assert.equal(res.length, (3 + 1) * 2); // {a,noise},{a,b},{noise,b},{a,noise,b} x 2 aggregations
  for (let i = 1; i < res.length; i++) assert.ok(res[i - 1]!.kendall >= res[i]!.kendall, 'sorted best first');
  const best = res[0]!;
  assert.deepEqual([...best.members].sort(), ['a', 'b']);
  const single = Math.max(kendallTauB(a, acc), kendallTauB(b, acc));
  assert.ok(best.kendall > single + 0.03, `ensemble ${best.kendall} vs best single ${single}`);
  // the reported Kendall is the ensemble's, recomputed independently
  assert.equal(best.kendall, kendallTauB(ensembleScores([a, b], best.aggregation), acc));
  // maxSize 2 and one aggregation: 3 sets
  assert.equal(searchEnsembles(pool, acc, { maxSize: 2, aggregations: ['rank'] }).length, 3);
  assert.throws(() => searchEnsembles(new Map([['a', a.slice(1)]]), acc), /a has 299 scores for 300 archs/);
  assert.throws(() => searchEnsembles(pool, acc, { minSize: 3, maxSize: 2 }), /sizes 3..2/);
});

test('kendallInterval: brackets the estimate, narrower with more archs, deterministic', () => {
  const k = kendallTauB(a, acc);
  const [lo, hi] = kendallInterval(a, acc);
  assert.ok(lo < k && k < hi, `${lo} < ${k} < ${hi}`);
  const [lo2, hi2] = kendallInterval(a.slice(0, 60), acc.slice(0, 60));
  assert.ok(hi2 - lo2 > hi - lo, 'a fifth of the archs gives a wider interval');
  assert.deepEqual(kendallInterval(a, acc), [lo, hi]);
});

test('pairedKendallDifference: a real gap is outside the noise, an identical ranker gives exactly 0', () => {
  const d = pairedKendallDifference(a, noise, acc);
  assert.ok(d.lo > 0.2, `signal vs noise: ${JSON.stringify(d)}`);
  assert.ok(d.lo <= d.diff && d.diff <= d.hi);
  assert.deepEqual(pairedKendallDifference(a, [...a], acc), { diff: 0, lo: 0, hi: 0 });
  // two equally good rankers: the interval straddles 0
  const e = pairedKendallDifference(a, b, acc);
  assert.ok(e.lo < 0 && e.hi > 0, JSON.stringify(e));
  assert.throws(() => pairedKendallDifference(a, b.slice(1), acc), /different archs/);
});

test('costFrontier: cheapest first, each entry better than every cheaper one; setCost sums and rejects unknown members', () => {
  const costs = new Map([
    ['a', 100],
    ['b', 300],
    ['noise', 10],
  ]);
  const res = searchEnsembles(
    new Map([
      ['a', a],
      ['noise', noise],
      ['b', b],
    ]),
    acc,
    { maxSize: 3 },
  );
  const singles = ['a', 'noise', 'b'].map((m) => ({ members: [m], kendall: kendallTauB(m === 'a' ? a : m === 'b' ? b : noise, acc) }));
  const f = costFrontier([...singles, ...res], costs);
  assert.equal(f[0]!.members.join(), 'noise'); // the cheapest thing, however poor
  for (let i = 1; i < f.length; i++) {
    assert.ok(f[i]!.cost >= f[i - 1]!.cost && f[i]!.kendall > f[i - 1]!.kendall, 'ascending cost, strictly rising Kendall');
  }
  // the last entry is the best overall; {a, b} costs 400 and beats a (100) alone
  const best = [...singles, ...res].reduce((x, y) => (y.kendall > x.kendall ? y : x));
  assert.equal(f[f.length - 1]!.kendall, best.kendall);
  assert.ok(f.some((r) => r.members.join() === 'a' && r.cost === 100));
  assert.equal(setCost(['a', 'b'], costs), 400);
  assert.throws(() => setCost(['a', 'zen'], costs), /no cost for zen/);
});
