/**
 * The whole NB201 space (or --limit K archs, seeded sample; `--space sss`: NATS-SSS) through the default scoring path
 * (ScoringSession: RBFleX, 3 CIFAR-10 images, fixed gammas, worker threads, no cache), in chunks
 * of 1,000, printing wall time, CPU time of the process (all threads) and resident memory after each chunk,
 * so that memory growth over the space is visible. Prints figures; asserts nothing.
 *
 *   nice -n 10 node dist/bench/full-space.js [--space nb201|sss] [--limit 15625] [--workers 2] [--reduce graph|host] [--data PNG]
 */
import { availableParallelism } from 'node:os';
import { loadImages } from '../src/data/index.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import type { ReduceMode } from '../src/search/scorer.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';
import { sss } from '../src/spaces/sss.js';
import { Rng } from '../src/util/rng.js';

const arg = (k: string): string | undefined => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const space = arg('--space') === 'sss' ? sss : nb201;
const limit = Math.min(Number(arg('--limit') ?? space.size), space.size);
const workers = Number(arg('--workers') ?? availableParallelism());
const reduce = (arg('--reduce') ?? 'graph') as ReduceMode;
const images = await loadImages(arg('--data') ?? '../shared/data/images/cifar10/cifar10_batch_0.png', { dataset: 'cifar10', n: 3, seed: '1' } as never);
const archs = (limit === space.size ? [...Array(limit).keys()] : new Rng('full-space').sample(space.size, limit)).map((i) => space.archAt(i));
const session = new ScoringSession({
  space: space.name,
  build: { dataset: 'cifar10' },
  images,
  seed: '1',
  proxies: ['rbflex'],
  ...REFERENCE_GAMMAS,
  backend: 'onnx',
  reduce,
  workers,
});
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const mb = (): number => process.memoryUsage().rss / 2 ** 20;
console.log(`${space.name} full-space run: ${archs.length} archs, ${workers} worker(s), reduce=${reduce}`);
const t0 = performance.now();
const c0 = cpu();
let finite = 0;
const rss: number[] = [];
for (let k = 0; k < archs.length; k += 1000) {
  const res = await session.score(archs.slice(k, k + 1000));
  for (const r of res.values()) if (Number.isFinite(r.scores.rbflex)) finite++;
  rss.push(mb());
  const done = Math.min(k + 1000, archs.length);
  console.log(`${String(done).padStart(6)} archs: ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${(cpu() - c0).toFixed(1)} cpu-s (${((1000 * (cpu() - c0)) / done).toFixed(1)} cpu-ms/net), rss ${rss[rss.length - 1]!.toFixed(0)} MiB`);
}
await session.close();
const wall = (performance.now() - t0) / 1000;
console.log(`total: ${wall.toFixed(1)} s wall (${(wall / 60).toFixed(2)} min), ${(cpu() - c0).toFixed(1)} cpu-s, ${finite} finite scores; rss first/last chunk ${rss[0]!.toFixed(0)} / ${rss[rss.length - 1]!.toFixed(0)} MiB, max ${Math.max(...rss).toFixed(0)} MiB`);
