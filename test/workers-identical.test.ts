/**
 * Issue 15 item 18: the number of worker threads never changes a score. The same six NB201
 * networks on the same three images are scored in this thread (--workers 0, where onnxruntime uses
 * every core inside a network), on one worker thread and on two; every score must be the same
 * float64, bit for bit (Object.is, not a tolerance), on both tap-reduction paths.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyName } from '../src/proxies/index.js';
import type { ReduceMode } from '../src/search/scorer.js';
import { ScoringSession } from '../src/search/session.js';
import { getSpace } from '../src/spaces/index.js';
import { gaussianImages } from './helpers/fixtures.js';

const nb201 = getSpace('nb201');
// spread over the space; 0 is the all-`none` cell (-Infinity/degenerate), kept on purpose
const ARCHS = [0, 1462, 5374, 8201, 11111, 15624].map((i) => nb201.archAt(i));
const IMAGES = gaussianImages(3, 32, 'workers-identical');
const PROXIES: ProxyName[] = ['rbflex', 'naswot', 'params'];

async function scoresWith(workers: number, reduce: ReduceMode): Promise<Map<string, Record<string, number>>> {
  const s = new ScoringSession({ space: 'nb201', build: { dataset: 'cifar10' }, images: IMAGES, seed: '7', proxies: PROXIES, workers, reduce });
  try {
    const r = await s.score(ARCHS);
    return new Map([...r].map(([a, v]) => [a, v.scores as Record<string, number>]));
  } finally {
    await s.close();
  }
}

/** every score bit-identical to the 0-worker run; returns how many finite scores were compared */
function assertIdentical(base: Map<string, Record<string, number>>, other: Map<string, Record<string, number>>, label: string): number {
  let finite = 0;
  assert.equal(other.size, base.size);
  for (const a of ARCHS) {
    for (const p of PROXIES) {
      const x = base.get(a)![p]!;
      const y = other.get(a)![p]!;
      assert.ok(Object.is(x, y), `${label}: ${p} of ${a} is ${y}, with 0 workers ${x} (difference ${y - x})`);
      if (Number.isFinite(x)) finite++;
    }
  }
  return finite;
}

for (const reduce of ['host', 'graph'] as const) {
  test(`--workers 0, 1 and 2 give bit-identical scores (--reduce ${reduce})`, { timeout: 120_000 }, async () => {
    const w0 = await scoresWith(0, reduce);
    const w1 = await scoresWith(1, reduce);
    const w2 = await scoresWith(2, reduce);
    const finite = assertIdentical(w0, w1, `${reduce}, 1 worker`);
    assertIdentical(w0, w2, `${reduce}, 2 workers`);
    // the comparison means something: most scores are real numbers and the networks differ
    assert.ok(finite >= 15, `only ${finite} finite scores`);
    assert.equal(new Set(ARCHS.map((a) => w0.get(a)!.rbflex)).size, ARCHS.length, 'the six networks should have six different RBFleX scores');
  });
}
