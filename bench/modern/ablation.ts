/**
 * RBFleX ablation on a seeded sample: Kendall / Spearman of RBFleX against the number of images
 * N (3, 8, 16, 32, 64), fixed reference gammas vs HDA-detected gammas, and `reference` vs
 * `activations` taps. One per-image forward of 64 images per network serves every N (per-image
 * BatchNorm makes image i's features independent of the others, so the first N images of the
 * 64-image pass are the N-image pass); HDA runs per (N, taps) over --hda-networks networks.
 *
 *   node dist/bench/modern/ablation.js --space nb201 --dataset cifar10 --sample 200 --seed 1 \
 *        --images ../shared/data/images/cifar10 --out /tmp/ablation.json
 */
import { writeFileSync } from 'node:fs';
import { OnnxBackend } from '../../src/backends/onnx/backend.js';
import type { ImageBatch } from '../../src/backends/types.js';
import { loadImages } from '../../src/data/index.js';
import { initWeights } from '../../src/ir/init.js';
import type { TapMode } from '../../src/ir/types.js';
import { blocksFor, REFERENCE_GAMMAS } from '../../src/proxies/index.js';
import { type ColumnBlock, rbflexScore } from '../../src/proxies/rbflex.js';
import { detectGammas } from '../../src/search/hda.js';
import { weightSeed } from '../../src/search/scorer.js';
import { kendallTauB, spearman } from '../../src/search/stats.js';
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
const NS = [3, 8, 16, 32, 64];
const TAPS: TapMode[] = ['reference', 'activations'];
const hdaNetworks = Number(arg('hda-networks', '10'));
const archs = sampleArchs(space, new Rng(`modern-sample:${seed}`), Number(arg('sample', '200')));
const build = { dataset };
const g0 = space.build(archs[0]!, build);
const [c, h] = g0.nodes[g0.input]!.shape as [number, number];
const images = await loadImages(arg('images'), { dataset, n: 64, seed, resolution: h });
const first = (n: number): ImageBatch => ({ ...images, n, data: images.data.subarray(0, n * c * h * h), id: `${images.id}[0:${n}]` });

// ground truth
const truth = new Map<string, number>();
{
  const { readFileSync } = await import('node:fs');
  const col = { cifar10: 0, cifar100: 1, 'ImageNet16-120': 2 }[dataset]!;
  const lines = readFileSync(new URL('../../../../shared/data/nb201/nats-tss-200ep-test.csv', import.meta.url), 'utf8').trim().split('\n');
  for (const l of lines.slice(1)) {
    const p = l.split(',');
    truth.set(p[3]!, Number(p[col]));
  }
}

const gammas = new Map<string, { gammaK: number; gammaQ: number }>();
if (process.argv.includes('--gammas')) {
  // reuse HDA gammas of an earlier run: {"reference:3": {"gammaK": .., "gammaQ": ..}, ...}
  const { readFileSync } = await import('node:fs');
  for (const [k, v] of Object.entries(JSON.parse(readFileSync(arg('gammas'), 'utf8')) as Record<string, { gammaK: number; gammaQ: number }>)) gammas.set(k, v);
}
for (const taps of TAPS) {
  for (const n of NS) {
    if (gammas.has(`${taps}:${n}`)) continue;
    const r = await detectGammas({
      space: space.name,
      build,
      archs: sampleArchs(space, Rng.derive(seed, 'hda'), hdaNetworks),
      images: first(n),
      backend: 'onnx',
      seed,
      taps,
      variant: 'paper',
      threads: 1,
    });
    gammas.set(`${taps}:${n}`, { gammaK: r.gammaK, gammaQ: r.gammaQ });
    process.stderr.write(`HDA ${taps} N=${n}: gamma_k ${r.gammaK.toExponential(3)} gamma_q ${r.gammaQ.toExponential(3)}\n`);
  }
}

const backend = new OnnxBackend({ threads: 1 });
const cut = (b: ColumnBlock, n: number): ColumnBlock => ({ ...b, data: (b.data as Float32Array | Float64Array).subarray(0, n * b.size) });
const scores = new Map<string, number[]>();
const acc: number[] = [];
let k = 0;
for (const arch of archs) {
  const g = space.build(arch, build);
  const f = await backend.forward(g, initWeights(g, weightSeed(seed, space.name, arch)), images, { taps: TAPS, bn: 'per-image' });
  acc.push(truth.get(arch)!);
  for (const taps of TAPS) {
    const xb = blocksFor(f, taps);
    const yb: ColumnBlock = { data: f.y.data, size: f.y.size, count: 1 };
    for (const n of NS) {
      for (const gm of ['fixed', 'hda'] as const) {
        const gg = gm === 'fixed' ? REFERENCE_GAMMAS : gammas.get(`${taps}:${n}`)!;
        const s = rbflexScore(xb.map((b) => cut(b, n)), [cut(yb, n)], n, gg.gammaK, gg.gammaQ).score;
        const key = `${taps}|${n}|${gm}`;
        (scores.get(key) ?? scores.set(key, []).get(key)!).push(s);
      }
    }
  }
  if (++k % 10 === 0) {
    process.stderr.write(`${k}/${archs.length}\n`);
    report(k);
  }
}
report(k);
function report(done: number): void {
const rows = [...scores.entries()].map(([key, v]) => {
  const [taps, n, gm] = key.split('|');
  return { taps, n: Number(n), gammas: gm, kendall: kendallTauB(v, acc), spearman: spearman(v, acc), nonFinite: v.filter((x) => !Number.isFinite(x)).length };
});
console.log(`${done} of ${archs.length} ${space.name} archs (seeded sample ${seed}), ${dataset}`);
console.log('| taps | gammas | ' + NS.map((n) => `N=${n}`).join(' | ') + ' |');
console.log('|---|---|' + NS.map(() => '---|').join(''));
for (const taps of TAPS) {
  for (const gm of ['fixed', 'hda']) {
    const cells = NS.map((n) => {
      const r = rows.find((x) => x.taps === taps && x.n === n && x.gammas === gm)!;
      return `${r.kendall.toFixed(3)} / ${r.spearman.toFixed(3)}`;
    });
    console.log(`| ${taps} | ${gm} | ${cells.join(' | ')} |`);
  }
}
writeFileSync(arg('out'), JSON.stringify({ archs: archs.length, gammas: Object.fromEntries(gammas), rows }, null, 2));
}
