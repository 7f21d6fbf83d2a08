/** What score, hda, search and study share: images, gammas, progress, output helpers. */
import type { LabelledBatch } from '../proxies/inputs.js';
import { proxyDataSize } from '../proxies/needs.js';
import { expandEnsemble } from '../search/ensemble-scores.js';
import { join } from 'node:path';
import type { Aggregation } from '../proxies/ensemble.js';
import cliProgress from 'cli-progress';
import type { ImageBatch } from '../backends/types.js';
import { type LoadProgress, loadImages } from '../data/index.js';
import { type ProxyName, REFERENCE_GAMMAS } from '../proxies/index.js';
import { defaultWorkers } from '../search/pool.js';
import { ScoringSession } from '../search/session.js';
import type { HdaVariant } from '../proxies/hda.js';
import type { Progress } from '../search/runner.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { type GammaChoice, type Gammas, givenGammas, resolveGammas as libResolveGammas } from '../study/gammas.js';
import { type ImageSpec, describeImages as describeStudyImages, imagesFor } from '../study/images.js';
import { type CommonOpts, ensembleSpec, resolveSpace } from './options.js';
import { type RedisOpts, remoteOptions } from './redis-options.js';

/** A byte progress bar for downloads and unpacking (on a terminal, not with --json). */
export function downloadBar(o: CommonOpts): { onProgress: (p: LoadProgress) => void; stop: () => void } {
  const bar = o.json || !process.stderr.isTTY ? undefined : new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  return {
    onProgress: (p) => {
      if (!bar || p.phase === 'read' || p.total === undefined) return;
      if (p.phase !== phase) {
        if (phase) bar.stop();
        phase = p.phase;
        bar.start(p.total, p.done, { phase: `${p.phase} ${p.file.split('/').pop()}` });
      } else bar.update(p.done);
    },
    stop: () => {
      if (phase) bar?.stop();
      phase = '';
    },
  };
}

/** The image options of a command as the library's image spec (with a download bar). */
export function imageSpec(o: CommonOpts, onProgress?: (p: LoadProgress) => void): ImageSpec {
  return {
    data: o.data,
    batch: o.batch,
    augment: o.augment ?? false,
    ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
    ...(o.vocab ? { vocab: o.vocab } : {}),
    ...(o.textFormat ? { textFormat: o.textFormat } : {}),
    ...(onProgress ? { onProgress } : {}),
    onNote: note,
  };
}

/** a resize note of the image loader, on stderr */
function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** loadImages with a download bar (score --onnx: no space to check against). */
export async function loadImagesWithProgress(o: CommonOpts, dataset: string, resolution: number | undefined): Promise<ImageBatch> {
  const bar = downloadBar(o);
  try {
    return await loadImages(o.data, { dataset, n: o.batch, seed: o.seed, augment: o.augment ?? false, ...(resolution !== undefined ? { resolution } : {}), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), onProgress: bar.onProgress, onNote: note });
  } finally {
    bar.stop();
  }
}

/** The images a network of this space and build options takes. */
export async function prepareImages(space: Space, build: BuildOptions, o: CommonOpts, probe?: string): Promise<ImageBatch> {
  const bar = downloadBar(o);
  try {
    return await imagesFor(space, build, imageSpec(o, bar.onProgress), o.seed, probe);
  } finally {
    bar.stop();
  }
}

export interface GammaOpts {
  gammaK?: number;
  gammaQ?: number;
  hda?: boolean;
  hdaVariant: HdaVariant;
  /** default: the space's own (nafbee-bert: all 11), else 10 */
  hdaNetworks?: number;
}

export type { Gammas };

export function gammaChoice(o: GammaOpts): GammaChoice {
  return {
    ...(o.gammaK !== undefined ? { gammaK: o.gammaK } : {}),
    ...(o.gammaQ !== undefined ? { gammaQ: o.gammaQ } : {}),
    ...(o.hda ? { hda: true } : {}),
    hdaVariant: o.hdaVariant,
    ...(o.hdaNetworks !== undefined ? { hdaNetworks: o.hdaNetworks } : {}),
  };
}

/** Fixed values given by the user, HDA when asked (or the space's default), else the reference values. */
export async function resolveGammas(
  space: Space,
  build: BuildOptions,
  images: ImageBatch,
  o: CommonOpts & GammaOpts,
  log: (s: string) => void,
): Promise<Gammas> {
  return libResolveGammas({ ...gammaChoice(o), space, build, images, seed: o.seed, backend: o.backend, ...(o.taps ? { taps: o.taps } : {}), log });
}

export { givenGammas };

export { progressBar } from './progress.js';

/** The scoring session a command runs on, from its options. */
export function openSession(
  space: Space,
  build: BuildOptions,
  images: ImageBatch,
  o: CommonOpts & RedisOpts & { workers?: number; cache?: boolean; ensemble?: string; ensembleAggregation?: Aggregation },
  list: ProxyName[],
  gammas: Gammas,
  onProgress: (p: Progress) => void,
  defaultWorkerCount = defaultWorkers(),
  data?: LabelledBatch,
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
    ...(o.reduce ? { reduce: o.reduce } : {}),
    workers: o.workers ?? space.defaultWorkers ?? defaultWorkerCount,
    cachePath: cachePath(o),
    ...(o.redis ? { remote: remoteOptions(o)! } : {}),
    onProgress,
    ...(list.includes('ensemble') ? { ensemble: ensembleSpec(o) } : {}),
    proxyInputs: o.proxyInputs ?? 'reference',
    ...(data ? { data } : {}),
  });
}

/**
 * The reference data batch of gradient proxies that read images (`--proxy-inputs reference`): the
 * largest batch any of them needs, drawn from --data with the same seed, with labels. Undefined when
 * no proxy needs one.
 */
export async function proxyData(space: Space, build: BuildOptions, o: CommonOpts & { ensemble?: string; ensembleAggregation?: Aggregation }, list: ProxyName[]): Promise<LabelledBatch | undefined> {
  // the ensemble's and az-nas's members are what run per network
  const n = proxyDataSize(expandEnsemble(list, list.includes('ensemble') ? ensembleSpec(o) : undefined), o.proxyInputs ?? 'reference');
  return n === undefined ? undefined : prepareImages(space, build, { ...o, batch: n });
}

/** The gammas of a run: resolved when rbflex is among the proxies (the others do not use them). */
export async function gammasFor(list: ProxyName[], space: Space, build: BuildOptions, images: ImageBatch, o: CommonOpts & GammaOpts, log: (s: string) => void): Promise<Gammas> {
  if (list.includes('rbflex')) return resolveGammas(space, build, images, o, log);
  givenGammas(gammaChoice(o));
  return { ...REFERENCE_GAMMAS, source: '-' };
}

export function cachePath(o: CommonOpts & { cache?: boolean }): string | undefined {
  if (o.cache === false) return undefined;
  return join(o.cacheDir ?? '.', 'scores.sqlite');
}

export function describeImages(o: CommonOpts, images: ImageBatch): string {
  const text = o.space !== undefined && resolveSpace(o.space).loadInputs !== undefined;
  return describeStudyImages({ data: o.data, ...(o.augment ? { augment: true } : {}) }, images, o.seed, text);
}
