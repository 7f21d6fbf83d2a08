/**
 * The RBFleX ablation as a library call (`rbflex study --ablation`): the Kendall tau and Spearman rho
 * of RBFleX against ground truth for every combination of the number of images N, fixed (reference)
 * vs HDA-detected kernel widths, and `reference` vs `activations` taps, on one seeded draw of
 * architectures — the draw, images, weights and HDA networks a plain `rbflex study --batch N
 * [--hda] [--taps T] --reduce host` uses, so each cell is that study's rbflex column. One forward
 * pass of max(N) images per network serves every cell (ablation-scores.ts). Each correlation has a
 * 95 % percentile bootstrap interval, and each cell the paired interval of its Kendall minus the
 * default setting's (the space's taps, N = 3, fixed widths).
 */
import type { BackendName, ImageBatch } from '../backends/types.js';
import type { Benchmark } from '../benchmarks/types.js';
import { initWeights } from '../ir/init.js';
import type { TapMode } from '../ir/types.js';
import type { HdaVariant } from '../proxies/hda.js';
import { REFERENCE_GAMMAS } from '../proxies/index.js';
import { makeBackend, weightSeed } from '../search/scorer.js';
import { kendallTauB, spearman } from '../search/stats.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { type AblationSetting, type KernelWidths, ablationScores, ablationSettings, settingKey } from './ablation-scores.js';
import { type Interval, RANK_STATS, bootstrapInterval, pairedBootstrap, resamples } from './bootstrap.js';
import { drawStudyArchs } from './draw.js';
import { SetupError } from './errors.js';
import { resolveGammas } from './gammas.js';
import { type ImageSpec, describeImages, imagesFor } from './images.js';

export const ABLATION_NS = [3, 8, 16, 32, 64] as const;
export const ABLATION_TAPS: readonly TapMode[] = ['reference', 'activations'];

export interface AblationRow {
  arch: string;
  accuracy: number;
  /** settingKey -> score (-Infinity for a singular kernel) */
  scores: Record<string, number>;
}

export interface AblationOptions {
  space: string | Space;
  benchmark: Benchmark;
  build?: BuildOptions;
  metric?: string;
  /** architectures drawn (seeded, as `rbflex study`; default 200) */
  samples?: number;
  seed?: string;
  /** the images (data and augmentation; the batch is max(ns)) */
  images?: ImageSpec;
  /** numbers of images (default 3, 8, 16, 32, 64) */
  ns?: readonly number[];
  taps?: readonly TapMode[];
  hdaNetworks?: number;
  hdaVariant?: HdaVariant;
  backend?: BackendName;
  /** bootstrap replicates (default 1000) */
  bootstrap?: number;
  /** results of an earlier, interrupted run with the same settings: HDA widths and scored rows */
  resume?: { gammas?: Record<string, KernelWidths>; rows?: readonly AblationRow[] };
  /** called once the HDA widths are known, and after each network (to save progress) */
  onGammas?: (g: Record<string, KernelWidths>) => void;
  onRow?: (r: AblationRow) => void;
  /** `resumed`: of `done`, the networks taken from `resume` */
  onProgress?: (done: number, total: number, resumed: number) => void;
  log?: (s: string) => void;
}

export interface AblationCell extends AblationSetting {
  kendall: number;
  spearman: number;
  kendallCi: Interval;
  spearmanCi: Interval;
  /** paired 95 % interval of this cell's Kendall minus the default cell's */
  deltaKendallCi: Interval;
  /** networks with a -Infinity score (ranked last) */
  degenerate: number;
}

export interface AblationResult {
  space: string;
  dataset?: string;
  seed: string;
  images: string;
  archs: number;
  ns: number[];
  taps: TapMode[];
  fixed: KernelWidths;
  hda: Record<string, KernelWidths>;
  hdaNetworks: number;
  bootstrap: number;
  baseline: AblationSetting;
  cells: AblationCell[];
  /** the cell with the highest Kendall */
  best: AblationCell;
  rows: AblationRow[];
}

const hdaKey = (t: TapMode, n: number): string => `${t}:${n}`;

function cutImages(b: ImageBatch, n: number): ImageBatch {
  const per = b.c * b.h * b.w;
  return { ...b, n, data: b.data.subarray(0, n * per), id: `${b.id}[0:${n}]` };
}

export async function runAblation(o: AblationOptions): Promise<AblationResult> {
  const space = typeof o.space === 'string' ? getSpace(o.space) : o.space;
  if (space.loadInputs || !space.size) throw new SetupError(`the ablation needs an image space whose architectures can be drawn (nb201, sss, transnas-*), not ${space.name}`);
  const build: BuildOptions = o.build ?? (space.datasets[0] !== undefined ? { dataset: space.datasets[0] } : {});
  const seed = o.seed ?? '1';
  const ns = [...(o.ns ?? ABLATION_NS)].sort((a, b) => a - b);
  const taps = [...(o.taps ?? ABLATION_TAPS)];
  if (ns.length === 0 || ns[0]! < 2) throw new SetupError('the ablation needs image counts of at least 2');
  const hdaNetworks = o.hdaNetworks ?? space.hdaNetworks ?? 10;
  const draw = drawStudyArchs({
    bench: o.benchmark,
    space,
    seed,
    samples: o.samples ?? 200,
    ...(build.dataset !== undefined ? { dataset: build.dataset } : {}),
    ...(o.metric !== undefined ? { metric: o.metric } : {}),
  });
  const spec: ImageSpec = { ...(o.images ?? {}), batch: ns[ns.length - 1]! };
  const images = await imagesFor(space, build, spec, seed, draw.archs[0]);
  const backend = o.backend ?? 'onnx';

  // HDA widths per (taps, N): each detected on the first N images, as `study --batch N --hda`
  const hda: Record<string, KernelWidths> = { ...(o.resume?.gammas ?? {}) };
  for (const t of taps) {
    for (const n of ns) {
      if (hda[hdaKey(t, n)]) continue;
      o.log?.(`HDA for ${t} taps, N=${n}`);
      const g = await resolveGammas({ hda: true, hdaVariant: o.hdaVariant ?? 'paper', hdaNetworks, space, build, images: cutImages(images, n), seed, backend, taps: t });
      hda[hdaKey(t, n)] = { gammaK: g.gammaK, gammaQ: g.gammaQ };
    }
  }
  o.onGammas?.(hda);

  const done = new Map((o.resume?.rows ?? []).map((r) => [r.arch, r]));
  const rows: AblationRow[] = [];
  const be = makeBackend(backend, 1);
  const fixed: KernelWidths = { gammaK: REFERENCE_GAMMAS.gammaK, gammaQ: REFERENCE_GAMMAS.gammaQ };
  let resumed = 0;
  for (let i = 0; i < draw.archs.length; i++) {
    const arch = draw.archs[i]!;
    let row = done.get(arch);
    if (row) resumed++;
    else {
      const g = space.build(arch, build);
      const w = space.initWeights ? space.initWeights(g, weightSeed(seed, space.name, arch), build) : initWeights(g, weightSeed(seed, space.name, arch));
      const f = await be.forward(g, w, images, { taps, bn: 'per-image' });
      const s = ablationScores(f, taps, ns, fixed, (t, n) => hda[hdaKey(t, n)]!);
      row = { arch, accuracy: draw.accuracy[i]!, scores: Object.fromEntries([...s].map(([k, v]) => [k, Number.isNaN(v) ? -Infinity : v])) };
      o.onRow?.(row);
    }
    rows.push(row);
    o.onProgress?.(i + 1, draw.archs.length, resumed);
  }
  const settings = ablationSettings(taps, ns);
  const baseline: AblationSetting = { taps: taps.includes(space.defaultTaps) ? space.defaultTaps : taps[0]!, n: ns.includes(3) ? 3 : ns[0]!, gammas: 'fixed' };
  const reps = o.bootstrap ?? 1000;
  const cells = analyseAblation(rows, settings, baseline, reps, seed);
  const best = cells.reduce((a, c) => (c.kendall > a.kendall ? c : a));
  return {
    space: space.name,
    ...(build.dataset !== undefined ? { dataset: build.dataset } : {}),
    seed,
    images: describeImages(spec, images, seed),
    archs: rows.length,
    ns,
    taps,
    fixed,
    hda,
    hdaNetworks,
    bootstrap: reps,
    baseline,
    cells,
    best,
    rows,
  };
}

/** Correlations, bootstrap intervals and paired differences to `baseline` of every setting. */
export function analyseAblation(rows: readonly AblationRow[], settings: readonly AblationSetting[], baseline: AblationSetting, reps: number, seed: string): AblationCell[] {
  const acc = rows.map((r) => r.accuracy);
  const col = (s: AblationSetting): number[] => rows.map((r) => r.scores[settingKey(s)] ?? NaN).map((v) => (Number.isNaN(v) ? -Infinity : v));
  const idx = resamples(rows.length, reps, `ablation:${seed}`);
  const base = col(baseline);
  return settings.map((s) => {
    const v = col(s);
    return {
      ...s,
      kendall: kendallTauB(v, acc),
      spearman: spearman(v, acc),
      kendallCi: bootstrapInterval(v, acc, RANK_STATS.kendall, idx),
      spearmanCi: bootstrapInterval(v, acc, RANK_STATS.spearman, idx),
      deltaKendallCi: pairedBootstrap(v, base, acc, RANK_STATS.kendall, idx),
      degenerate: v.filter((x) => x === -Infinity).length,
    };
  });
}
