/**
 * Per-architecture proxy values on a seeded sample of a space, appended to a JSONL file
 * (one line per arch, resumable: archs already in the file are skipped). The evidence
 * behind docs/PROXIES.md (modern proxies, ensemble) comes from these files + analyse.ts.
 * Every proxy runs through scoreNetwork at its reference settings, one at a time (so each has its
 * own wall time in `ms`): rbflex/naswot on 3 images, data proxies on the seeded data batch.
 *
 *   node dist/bench/modern/measure.js --space nb201 --dataset cifar10 --sample 1000 --seed 1 \
 *        --images ../shared/data/images/cifar10 --out /tmp/nb201-c10.jsonl [--shard 0/2]
 *        [--proxies rbflex,naswot,params,flops,meco,swap,zen,zico] [--resolution R] [--from K] [--to K]
 *        [--together]   (proxies on the same images in one scoreNetwork call: shared passes, one time per group)
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import { loadImages } from '../../src/data/index.js';
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
const sample = Number(arg('sample', '1000'));
const seed = arg('seed', '1');
const out = arg('out');
const [shard, shards] = arg('shard', '0/1').split('/').map(Number) as [number, number];
const wanted = arg('proxies', 'rbflex,naswot,params,flops,meco,swap,zen').split(',') as ProxyName[];
for (const p of wanted) if (!(p in PROXIES)) throw new Error(`unknown proxy ${p}`);
const resolution = process.argv.includes('--resolution') ? Number(arg('resolution')) : undefined;
const build = { dataset, ...(resolution ? { resolution } : {}) };
const from = Number(arg('from', '0'));
const to = Number(arg('to', String(sample)));

const archs = sampleArchs(space, new Rng(`modern-sample:${seed}`), sample)
  .slice(from, to)
  .filter((_, i) => i % shards === shard);
const done = new Set<string>();
if (existsSync(out)) {
  for (const line of readFileSync(out, 'utf8').split('\n')) if (line.trim()) done.add((JSON.parse(line) as { arch: string }).arch);
}
const g0 = space.build(archs[0]!, build);
const [c, h] = g0.nodes[g0.input]!.shape as [number, number, number];
const imgDataset = dataset === 'cifar100' ? 'cifar10' : dataset;
const images = await loadImages(arg('images'), { dataset: imgDataset, n: 16, seed, resolution: h });
if (images.c !== c) throw new Error('channel mismatch');
// the reference data batch of gradient proxies (zico: 2 x 64 labelled images), when one needs it
const dataSize = proxyDataSize(expandEnsemble(wanted, undefined), 'reference');
const data = dataSize === undefined ? undefined : await loadImages(arg('images'), { dataset: imgDataset, n: dataSize, seed: `${seed}/proxy-data`, resolution: h });
const rb3 = { ...images, n: 3, data: images.data.subarray(0, 3 * c * h * h), id: images.id + '[0:3]' };
const backend = new OnnxBackend({ threads: 1 });
const settings = { ...REFERENCE_GAMMAS, taps: space.defaultTaps };
const grad: GradContext = { backend: 'onnx', sources: { mode: 'reference', images: rb3, ...(data ? { data } : {}), seed }, threads: 1 };
// --together: proxies that read the same images are scored in one call (they share passes, as a
// session runs them; the values are the same); otherwise one call per proxy, each with its own time
const together = process.argv.includes('--together');
const groups: ProxyName[][] = together
  ? [wanted.filter((p) => PROXIES[p](settings).run), wanted.filter((p) => !PROXIES[p](settings).run)].filter((x) => x.length > 0)
  : wanted.map((p) => [p]);
const t0 = performance.now();
let k = 0;
for (const arch of archs) {
  k++;
  if (done.has(arch)) continue;
  const g = space.build(arch, build);
  const wseed = weightSeed(seed, space.name, arch);
  const row: Record<string, unknown> = { arch };
  const times: Record<string, number> = {};
  for (const group of groups) {
    const t = performance.now();
    // rbflex / naswot read 3 images (the paper's N); own-pass proxies read the 16-image batch
    const imgs = PROXIES[group[0]!](settings).run ? images : rb3;
    const r = await scoreNetwork(g, () => initWeights(g, wseed), imgs, group.map((p) => PROXIES[p](settings)), settings, backend, wseed, grad);
    Object.assign(row, r.scores);
    times[group.join('+')] = Math.round(performance.now() - t);
  }
  row.ms = times;
  appendFileSync(out, JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n');
  if (k % 10 === 0) {
    const el = (performance.now() - t0) / 1000;
    process.stderr.write(`${k}/${archs.length} ${el.toFixed(0)} s ${JSON.stringify(times)}\n`);
  }
}
