/** What score, hda, search and study share: images, gammas, progress, output helpers. */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { ImageBatch } from '../backends/types.js';
import { loadImages } from '../data/index.js';
import { type ProxyName, REFERENCE_GAMMAS } from '../proxies/index.js';
import { defaultWorkers } from '../search/pool.js';
import { ScoringSession } from '../search/session.js';
import type { HdaVariant } from '../proxies/hda.js';
import { detectGammas } from '../search/hda.js';
import type { Progress } from '../search/runner.js';
import { type BuildOptions, type Space, sampleArchs } from '../spaces/types.js';
import { Rng } from '../util/rng.js';
import { UsageError } from './errors.js';
import type { CommonOpts } from './options.js';

/** loadImages with a byte progress bar for downloads and unpacking (on a terminal, not with --json). */
export async function loadImagesWithProgress(o: CommonOpts, dataset: string, resolution: number | undefined): Promise<ImageBatch> {
  const bar = o.json || !process.stderr.isTTY ? undefined : new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  try {
    return await loadImages(o.data, {
      dataset,
      n: o.batch,
      seed: o.seed,
      augment: o.augment ?? false,
      ...(resolution !== undefined ? { resolution } : {}),
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      onProgress: (p) => {
        if (!bar || p.phase === 'read' || p.total === undefined) return;
        if (p.phase !== phase) {
          if (phase) bar.stop();
          phase = p.phase;
          bar.start(p.total, p.done, { phase: `${p.phase} ${p.file.split('/').pop()}` });
        } else bar.update(p.done);
      },
    });
  } finally {
    if (phase) bar?.stop();
  }
}

/** The images a network of this space and build options takes. */
export async function prepareImages(space: Space, build: BuildOptions, o: CommonOpts): Promise<ImageBatch> {
  if (space.loadInputs) {
    return space.loadInputs({ data: o.data, n: o.batch, seed: o.seed, ...(o.vocab ? { vocab: o.vocab } : {}), ...(o.textFormat ? { textFormat: o.textFormat } : {}) }, build);
  }
  const g = space.build(space.archAt(0), build);
  const [c, h, w] = g.nodes[g.input]!.shape as [number, number, number];
  const dataset = build.dataset ? (space.imageDataset?.(build.dataset) ?? build.dataset) : 'none';
  const images = await loadImagesWithProgress(o, dataset, h);
  if (images.c !== c || images.h !== h || images.w !== w) {
    throw new UsageError(
      `--data ${o.data} gives ${images.c}x${images.h}x${images.w} images, but ${space.name} networks for ${build.dataset ?? 'this input'} take ${c}x${h}x${w}${
        space.name.startsWith('transnas') ? ' (set --resolution)' : ''
      }`,
    );
  }
  return images;
}

export interface GammaOpts {
  gammaK?: number;
  gammaQ?: number;
  hda?: boolean;
  hdaVariant: HdaVariant;
  /** default: the space's own (nafbee-bert: all 11), else 10 */
  hdaNetworks?: number;
}

export interface Gammas {
  gammaK: number;
  gammaQ: number;
  source: string;
}

/** The gammas the user gave, after checking the flags agree; undefined when none were given. */
export function givenGammas(o: Pick<GammaOpts, 'gammaK' | 'gammaQ' | 'hda'>): Gammas | undefined {
  if ((o.gammaK === undefined) !== (o.gammaQ === undefined)) {
    throw new UsageError('give both --gamma-k and --gamma-q, or neither');
  }
  if (o.gammaK === undefined || o.gammaQ === undefined) return undefined;
  if (o.hda) throw new UsageError('--hda detects the gammas: do not also give --gamma-k/--gamma-q');
  return { gammaK: o.gammaK, gammaQ: o.gammaQ, source: 'given' };
}

/** Fixed values given by the user, HDA when asked (or the space's default), else the reference values. */
export async function resolveGammas(
  space: Space,
  build: BuildOptions,
  images: ImageBatch,
  o: CommonOpts & GammaOpts,
  log: (s: string) => void,
): Promise<Gammas> {
  const given = givenGammas(o);
  if (given) return given;
  if (o.hda || space.defaultGammas === 'hda') {
    const m = Math.min(o.hdaNetworks ?? space.hdaNetworks ?? 10, space.size);
    const archs = sampleArchs(space, Rng.derive(o.seed, 'hda'), m);
    log(`detecting gammas with HDA (${o.hdaVariant} variant) over ${m} networks...`);
    const r = await detectGammas({
      space: space.name,
      build,
      archs,
      images,
      backend: o.backend,
      seed: o.seed,
      taps: o.taps ?? space.defaultTaps,
      variant: o.hdaVariant,
    });
    return { gammaK: r.gammaK, gammaQ: r.gammaQ, source: `HDA (${o.hdaVariant}, ${m} networks)` };
  }
  return { ...REFERENCE_GAMMAS, source: 'reference (fixed, SPEC)' };
}

/** A progress bar on a terminal (stderr), nothing otherwise. */
export function progressBar(label: string, enabled: boolean): { onProgress: (p: Progress) => void; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} networks | {rate}/s | ETA {eta_formatted} | cached {cached}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let t0 = 0;
  let base = 0;
  return {
    onProgress: (p) => {
      if (!started) {
        bar.start(p.total, p.done, { rate: '-', cached: p.cached });
        started = true;
        t0 = performance.now();
        base = p.done;
        return;
      }
      const s = (performance.now() - t0) / 1000;
      bar.update(p.done, { rate: s > 0 ? ((p.done - base) / s).toFixed(1) : '-', cached: p.cached });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** The scoring session a command runs on, from its options. */
export function openSession(
  space: Space,
  build: BuildOptions,
  images: ImageBatch,
  o: CommonOpts & { workers?: number; cache?: boolean },
  list: ProxyName[],
  gammas: Gammas,
  onProgress: (p: Progress) => void,
  defaultWorkerCount = defaultWorkers(),
): ScoringSession {
  return new ScoringSession({
    space: space.name,
    build,
    images,
    seed: o.seed,
    proxies: list,
    gammaK: gammas.gammaK,
    gammaQ: gammas.gammaQ,
    ...(o.taps ? { taps: o.taps } : {}),
    backend: o.backend,
    workers: o.workers ?? space.defaultWorkers ?? defaultWorkerCount,
    cachePath: cachePath(o),
    onProgress,
  });
}

/** The gammas of a run: resolved when rbflex is among the proxies (the others do not use them). */
export async function gammasFor(list: ProxyName[], space: Space, build: BuildOptions, images: ImageBatch, o: CommonOpts & GammaOpts, log: (s: string) => void): Promise<Gammas> {
  return list.includes('rbflex') ? resolveGammas(space, build, images, o, log) : { gammaK: 1, gammaQ: 1, source: '-' };
}

export function cachePath(o: CommonOpts & { cache?: boolean }): string | undefined {
  if (o.cache === false) return undefined;
  return join(o.cacheDir ?? '.', 'scores.sqlite');
}

export function describeImages(o: CommonOpts, images: ImageBatch): string {
  return `${images.n} x ${images.c}x${images.h}x${images.w} from ${o.data}${o.augment ? ' (augmented)' : ''}, seed ${o.seed}`;
}
