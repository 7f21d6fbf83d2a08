import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ScoreFn } from '../src/search/protocol.js';
import { runEvolution } from '../src/search/evolution.js';
import { STRATEGIES } from '../src/search/strategy.js';
import type { ArchScore } from '../src/search/scorer.js';
import { darts } from '../src/spaces/darts.js';
import { nafbeeVgg19 } from '../src/spaces/nafbee.js';
import { nb201 } from '../src/spaces/nb201.js';
import { sss } from '../src/spaces/sss.js';
import { transnasMacro, transnasMicro } from '../src/spaces/transnas.js';
import { Rng } from '../src/util/rng.js';

/** A fitness landscape without networks: the number of 3x3 convolutions in an NB201 cell (optimum 6). */
function fakeScore(log: string[]): ScoreFn {
  return async (archs) => {
    const m = new Map<string, ArchScore>();
    for (const a of archs) {
      log.push(a);
      m.set(a, { arch: a, scores: { rbflex: (a.match(/nor_conv_3x3/g) ?? []).length }, ms: 0 });
    }
    return m;
  };
}

test('evolution: budget = distinct networks scored, pick = fittest scored, deterministic from the seed', async () => {
  const run = async (seed: string) => {
    const log: string[] = [];
    const r = await runEvolution({ space: nb201, seed, samples: 60, trials: 4, proxies: ['rbflex'], score: fakeScore(log) });
    return { r, log };
  };
  const a = await run('evo');
  const b = await run('evo');
  assert.deepEqual(a.r.picks, b.r.picks);
  assert.equal(a.log.length, 4 * 60, 'every trial scores exactly its budget of distinct networks');
  const best = Math.max(...a.log.map((x) => (x.match(/nor_conv_3x3/g) ?? []).length));
  assert.ok(a.r.picks.rbflex!.some((p) => p.score === best), 'the best network scored is some trial\'s pick');
  for (const p of a.r.picks.rbflex!) assert.ok(p.score >= 4, `climbs the smooth landscape (pick ${p.score} of at most 6)`);
  const c = await run('other seed');
  assert.notDeepEqual(c.log, a.log);
});

test('evolution beats random sampling at equal budget on a smooth landscape', async () => {
  const input = { space: nb201, seed: 's', samples: 40, trials: 10, proxies: ['rbflex' as const], scoringMs: () => 0 };
  const evo = await STRATEGIES.evolution.run({ ...input, score: fakeScore([]) });
  const rnd = await STRATEGIES.random.run({ ...input, score: fakeScore([]) });
  const mean = (r: typeof evo) => r.picks.rbflex!.reduce((s, p) => s + p.score, 0) / r.trials;
  assert.ok(mean(evo) > mean(rnd), `evolution ${mean(evo)} vs random ${mean(rnd)}`);
});

test('evolution within a benchmark pool only proposes pool members', async () => {
  const pool = new Rng('pool').sample(nb201.size, 300).map((i) => nb201.archAt(i));
  const inPool = new Set(pool);
  const log: string[] = [];
  await runEvolution({ space: nb201, seed: 'p', samples: 50, trials: 2, proxies: ['rbflex'], score: fakeScore(log), pool });
  assert.ok(log.every((a) => inPool.has(a)));
});

test('every space with a mutation returns a valid, different neighbour', () => {
  const rng = new Rng('mutate');
  for (const space of [nb201, sss, transnasMicro, transnasMacro, nafbeeVgg19, darts]) {
    const archs = space.sample ? space.sample(rng, 20) : rng.sample(space.size, Math.min(20, space.size)).map((i) => space.archAt(i));
    for (const a of archs) {
      const c = space.mutate!(a, rng);
      assert.notEqual(space.parse(c), space.parse(a), `${space.name}: ${a}`);
    }
  }
  const s = sss.mutate!('8:16:24:32:40', rng).split(':');
  assert.equal(s.filter((v, i) => v !== '8:16:24:32:40'.split(':')[i]).length, 1, 'sss: one width changed');
});
