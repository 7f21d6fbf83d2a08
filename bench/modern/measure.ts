/**
 * Per-architecture proxy values on a seeded sample of a space, appended to a JSONL file
 * (one line per arch, resumable: archs already in the file are skipped). The evidence
 * behind docs/PROXIES.md (modern proxies, ensemble) comes from these files + analyse.ts.
 *
 *   node dist/bench/modern/measure.js --space nb201 --dataset cifar10 --sample 1000 --seed 1 \
 *        --images ../shared/data/images/cifar10 --out /tmp/nb201-c10.jsonl [--shard 0/2]
 *        [--proxies rbflex,naswot,params,flops,meco,swap,zen] [--resolution R]
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import { loadImages } from '../../src/data/index.js';
import { initWeights } from '../../src/ir/init.js';
import { mecoRun, swapRun, zenRun } from '../../src/proxies/forward-runs.js';
import { PROXIES, type ProxyName, REFERENCE_GAMMAS } from '../../src/proxies/index.js';
import { scoreNetwork, weightSeed } from '../../src/search/scorer.js';
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
const sample = Number(arg('sample', '1000'));
const seed = arg('seed', '1');
const out = arg('out');
const [shard, shards] = arg('shard', '0/1').split('/').map(Number) as [number, number];
const wanted = arg('proxies', 'rbflex,naswot,params,flops,meco,swap,zen').split(',');
const resolution = process.argv.includes('--resolution') ? Number(arg('resolution')) : undefined;
const build = { dataset, ...(resolution ? { resolution } : {}) };

const archs = sampleArchs(space, new Rng(`modern-sample:${seed}`), sample).filter((_, i) => i % shards === shard);
const done = new Set<string>();
if (existsSync(out)) {
  for (const line of readFileSync(out, 'utf8').split('\n')) if (line.trim()) done.add((JSON.parse(line) as { arch: string }).arch);
}
const g0 = space.build(archs[0]!, build);
const [c, h] = g0.nodes[g0.input]!.shape as [number, number, number];
const images = await loadImages(arg('images'), { dataset: dataset === 'cifar100' ? 'cifar10' : dataset, n: 16, seed, resolution: h });
if (images.c !== c) throw new Error('channel mismatch');
const rb3 = { ...images, n: 3, data: images.data.subarray(0, 3 * c * h * h), id: images.id + '[0:3]' };
const backend = new OnnxBackend({ threads: 1 });
const settings = { ...REFERENCE_GAMMAS, taps: space.defaultTaps };
const classic = wanted.filter((p) => p in PROXIES) as ProxyName[];
const t0 = performance.now();
let k = 0;
for (const arch of archs) {
  k++;
  if (done.has(arch)) continue;
  const g = space.build(arch, build);
  const wseed = weightSeed(seed, space.name, arch);
  const row: Record<string, unknown> = { arch };
  const times: Record<string, number> = {};
  let t = performance.now();
  const r = await scoreNetwork(g, () => initWeights(g, wseed), rb3, classic.map((p) => PROXIES[p](settings)), settings, backend);
  Object.assign(row, r.scores);
  times.classic = performance.now() - t;
  if (wanted.includes('meco')) {
    t = performance.now();
    row.meco = await mecoRun(g, initWeights(g, wseed), images, backend);
    times.meco = performance.now() - t;
  }
  if (wanted.includes('swap')) {
    t = performance.now();
    row.swap = await swapRun(g, wseed, images, backend, { n: 16 });
    times.swap = performance.now() - t;
  }
  if (wanted.includes('zen')) {
    t = performance.now();
    row.zen = await zenRun(g, wseed, backend, { n: 64, gamma: 1e-2 });
    times.zen = performance.now() - t;
  }
  row.ms = times;
  appendFileSync(out, JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n');
  if (k % 10 === 0) {
    const el = (performance.now() - t0) / 1000;
    process.stderr.write(`${k}/${archs.length} ${el.toFixed(0)} s ${JSON.stringify(times)}\n`);
  }
}
