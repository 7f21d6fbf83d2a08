/**
 * Cost of proxies per network, for the full-space estimate: each proxy on a seeded sample of
 * networks, one at a time, with wall time and this process's CPU time (onnxruntime runs with one
 * thread, so on a loaded machine CPU time is the better estimate of idle wall time). Prints the
 * median per network and per proxy, and the extrapolation to the whole space on --cores cores
 * (one worker per core, as `rbflex search/study` run). With several own-pass proxies, also all of
 * them in one scoreNetwork call (the shared passes, weights and matrices of a scoring session).
 *
 *   node dist/bench/modern/cost.js --space nb201 --sample 20 --proxies meco,swap,zen \
 *        --images ../shared/data/images/cifar10 [--cores 2] [--seed 1]
 */
import { loadImages } from '../../src/data/index.js';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import { initWeights } from '../../src/ir/init.js';
import { PROXIES, type ProxyName, REFERENCE_GAMMAS } from '../../src/proxies/index.js';
import { proxyDataSize } from '../../src/proxies/needs.js';
import { expandEnsemble } from '../../src/search/ensemble-scores.js';
import { type GradContext, scoreNetwork, weightSeed } from '../../src/search/scorer.js';
import { getSpace } from '../../src/spaces/index.js';
import { sampleArchs } from '../../src/spaces/types.js';
import { Rng } from '../../src/util/rng.js';

function arg(name: string, dflt?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1]!;
  if (dflt === undefined) throw new Error(`--${name} is required`);
  return dflt;
}
const space = getSpace(arg('space', 'nb201'));
const dataset = arg('dataset', 'cifar10');
const seed = arg('seed', '1');
const cores = Number(arg('cores', '2'));
// az-nas expands to its members (the rank step itself is negligible)
const wanted = expandEnsemble(arg('proxies', 'meco,swap,zen').split(',') as ProxyName[], undefined);
const archs = sampleArchs(space, new Rng(`cost-sample:${seed}`), Number(arg('sample', '20')));
const g0 = space.build(archs[0]!, { dataset });
const [c, h] = g0.nodes[g0.input]!.shape as [number, number, number];
const images = await loadImages(arg('images'), { dataset: dataset === 'cifar100' ? 'cifar10' : dataset, n: 16, seed, resolution: h });
const dataSize = proxyDataSize(wanted, 'reference');
const data = dataSize === undefined ? undefined : await loadImages(arg('images'), { dataset: dataset === 'cifar100' ? 'cifar10' : dataset, n: dataSize, seed: `${seed}/proxy-data`, resolution: h });
const rb3 = { ...images, n: 3, data: images.data.subarray(0, 3 * c * h * h), id: images.id + '[0:3]' };
const backend = new OnnxBackend({ threads: 1 });
const settings = { ...REFERENCE_GAMMAS, taps: space.defaultTaps };
const grad: GradContext = { backend: 'onnx', sources: { mode: 'reference', images: rb3, ...(data ? { data } : {}), seed }, threads: 1 };
const wall = new Map<string, number[]>(wanted.map((p) => [p, []]));
const cpu = new Map<string, number[]>(wanted.map((p) => [p, []]));
const together = { wall: [] as number[], cpu: [] as number[] };
const timed = async (into: { wall: number[]; cpu: number[] }, f: () => Promise<unknown>): Promise<void> => {
  const t = performance.now();
  const u = process.cpuUsage();
  await f();
  const d = process.cpuUsage(u);
  into.wall.push(performance.now() - t);
  into.cpu.push((d.user + d.system) / 1000);
};
let done = 0;
for (const arch of archs) {
  const wseed = weightSeed(seed, space.name, arch);
  // each proxy alone, on its own copy of the network (no work shared with the others)
  for (const p of wanted) {
    const g = space.build(arch, { dataset });
    const proxy = PROXIES[p](settings);
    await timed({ wall: wall.get(p)!, cpu: cpu.get(p)! }, () =>
      scoreNetwork(g, () => initWeights(g, wseed), proxy.run ? images : rb3, [proxy], settings, backend, wseed, grad),
    );
  }
  // all of them in one call, as a scoring session runs them (shared passes, weights, matrices)
  if (wanted.length > 1 && wanted.every((p) => PROXIES[p](settings).run)) {
    const g = space.build(arch, { dataset });
    await timed(together, () => scoreNetwork(g, () => initWeights(g, wseed), images, wanted.map((p) => PROXIES[p](settings)), settings, backend, wseed, grad));
  }
  if (++done % 5 === 0) process.stderr.write(`${done}/${archs.length} networks\n`);
}
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
console.log(`${archs.length} ${space.name} networks (seeded sample cost-sample:${seed}), ms per network: median (mean)`);
console.log('| proxy | wall | cpu |');
console.log('|---|---|---|');
let totalCpu = 0;
for (const p of wanted) {
  totalCpu += mean(cpu.get(p)!);
  console.log(`| ${p} | ${median(wall.get(p)!).toFixed(0)} (${mean(wall.get(p)!).toFixed(0)}) | ${median(cpu.get(p)!).toFixed(0)} (${mean(cpu.get(p)!).toFixed(0)}) |`);
}
const size = space.size;
const minutes = (ms: number): string => ((ms * size) / cores / 60000).toFixed(1);
console.log(`each alone, summed: ${totalCpu.toFixed(0)} cpu-ms per network (mean); ${size} networks on ${cores} cores: about ${minutes(totalCpu)} min (CPU time / cores; no cache)`);
if (together.cpu.length > 0) {
  const t = mean(together.cpu);
  console.log(`${wanted.join(', ')} in one call (shared work): wall ${median(together.wall).toFixed(0)} (${mean(together.wall).toFixed(0)}) ms, cpu ${median(together.cpu).toFixed(0)} (${t.toFixed(0)}) ms per network; ${size} networks on ${cores} cores: about ${minutes(t)} min`);
}
