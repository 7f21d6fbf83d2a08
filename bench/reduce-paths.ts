/**
 * The in-graph path (reduce=graph: NATS-SSS's shared dynamic-width skeleton session, TransNAS-macro's
 * per-network sessions that reduce their taps in the graph) against the per-network raw path
 * (reduce=host: one onnxruntime session per network, raw taps reduced in float64), in one process,
 * one onnxruntime thread, on a seeded sample of the space's archs. Per arch the two paths run in turns
 * (which one goes first alternates), `--runs R` times; each arch's cost is the minimum over runs of
 * the process CPU of one `Scorer.score` (build, weights, forward, scores), so outside load inflates
 * both alike. Prints the median and mean cost per network of each path, their ratio, the skeleton's
 * one-off compile, and the agreement of the scores (max |graph - host|, discordant pairs).
 *
 *   nice -n 10 node dist/bench/reduce-paths.js [--space sss|transnas-macro] [--archs 500] [--runs 1]
 *     [--dataset cifar10] [--resolution R (transnas-macro; default 512)] [--proxies rbflex,naswot] [--data PNG|DIR]
 */
import { loadImages } from '../src/data/index.js';
import { REFERENCE_GAMMAS, type ProxyName } from '../src/proxies/index.js';
import { Scorer, type ScorerConfig } from '../src/search/scorer.js';
import { getSpace } from '../src/spaces/index.js';
import { Rng } from '../src/util/rng.js';
import { cpuMs, median } from './nb201-run-setup.js';

const arg = (k: string): string | undefined => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const space = getSpace(arg('--space') ?? 'sss');
const macro = space.name === 'transnas-macro';
const K = Number(arg('--archs') ?? 500);
const R = Number(arg('--runs') ?? 1);
const dataset = arg('--dataset') ?? space.datasets[0]!;
const resolution = macro ? Number(arg('--resolution') ?? 512) : undefined;
const proxies = (arg('--proxies') ?? 'rbflex,naswot').split(',') as ProxyName[];
const imageSet = macro ? 'taskonomy' : dataset === 'imagenet16-120' ? 'imagenet16-sample' : 'cifar10';
const images = await loadImages(arg('--data') ?? `../shared/data/images/${imageSet}/${imageSet === 'cifar10' ? 'cifar10_batch_0.png' : ''}`, {
  dataset: macro ? 'taskonomy' : dataset,
  n: 3,
  seed: '1',
  ...(resolution ? { resolution } : {}),
} as never);
const archs = new Rng(`${space.name === 'sss' ? 'sss-skeleton' : space.name}`).sample(space.size, K).map((i) => space.archAt(i));
const build = { dataset, ...(resolution ? { resolution } : {}) };
const base: ScorerConfig = { space: space.name, build, proxies, settings: { ...REFERENCE_GAMMAS, taps: 'reference' }, backend: 'onnx', seed: '1', threads: 1 };
const graph = new Scorer({ ...base, reduce: 'graph' }, images);
const host = new Scorer({ ...base, reduce: 'host' }, images);

console.log(`${space.name} ${dataset}${resolution ? ` at ${resolution}x${resolution}` : ''}: ${K} archs (seeded), ${R} run(s) each, proxies ${proxies.join(', ')}, 1 onnxruntime thread`);
let t = cpuMs();
if (space.skeleton) {
  await graph.score(archs[0]!);
  console.log(`skeleton session compile + first network: ${(cpuMs() - t).toFixed(0)} cpu-ms (once per process / worker)`);
}
const cost = { graph: archs.map(() => Infinity), host: archs.map(() => Infinity) };
const scores = { graph: new Map<ProxyName, number[]>(), host: new Map<ProxyName, number[]>() };
for (const p of proxies) (scores.graph.set(p, []), scores.host.set(p, []));
const t0 = performance.now();
for (let r = 0; r < R; r++) {
  for (let k = 0; k < archs.length; k++) {
    const order: ('graph' | 'host')[] = (k + r) % 2 === 0 ? ['graph', 'host'] : ['host', 'graph'];
    for (const path of order) {
      t = cpuMs();
      const res = await (path === 'graph' ? graph : host).score(archs[k]!);
      cost[path][k] = Math.min(cost[path][k]!, cpuMs() - t);
      if (r === 0) for (const p of proxies) scores[path].get(p)!.push(res.scores[p]!);
    }
  }
  console.log(`run ${r + 1}/${R} done, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
await graph.close();
await host.close();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const g = { median: median(cost.graph), mean: mean(cost.graph) };
const h = { median: median(cost.host), mean: mean(cost.host) };
console.log(`per network, cpu-ms (min of ${R} run(s) per arch): per-network raw taps (host) median ${h.median.toFixed(1)} mean ${h.mean.toFixed(1)}; in-graph (graph) median ${g.median.toFixed(1)} mean ${g.mean.toFixed(1)}; ratio ${(h.median / g.median).toFixed(2)}x (median), ${(h.mean / g.mean).toFixed(2)}x (mean)`);
console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

for (const p of proxies) {
  const a = scores.graph.get(p)!;
  const b = scores.host.get(p)!;
  let gap = 0;
  let infMismatch = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) {
      if (a[i] !== b[i]) infMismatch++;
    } else gap = Math.max(gap, Math.abs(a[i]! - b[i]!));
  }
  // pairs ordered one way by the per-network (host) scores and the other way by the skeleton's;
  // "resolved": among pairs whose host scores differ by more than the max gap
  let strict = 0;
  let resolved = 0;
  let closest = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      if (b[i] === b[j] || !Number.isFinite(a[i]!) || !Number.isFinite(a[j]!) || !Number.isFinite(b[i]!) || !Number.isFinite(b[j]!)) continue;
      if (Math.sign(a[i]! - a[j]!) !== Math.sign(b[i]! - b[j]!)) {
        strict++;
        closest = Math.max(closest, Math.abs(b[i]! - b[j]!));
        if (Math.abs(b[i]! - b[j]!) > gap) resolved++;
      }
    }
  }
  const identical = a.filter((v, i) => Object.is(v, b[i])).length;
  console.log(
    `${p}: max |graph - host| ${gap.toExponential(3)}, identical ${identical}/${a.length}, -Infinity mismatches ${infMismatch}, ` +
      `discordant pairs ${strict} of ${((a.length * (a.length - 1)) / 2).toExponential(2)}${strict ? ` (largest host gap among them ${closest.toExponential(2)})` : ''}, ${resolved} among pairs further apart than the max gap`,
  );
}
