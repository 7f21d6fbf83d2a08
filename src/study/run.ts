/**
 * A correlation study as a library call: draw architectures that have ground truth, score them with
 * every proxy under one or more seeds (new images, weights and HDA gammas per seed), and analyse.
 * The CLI's `study` command only parses options into this and prints the result.
 */
import { NdsBenchmark } from '../benchmarks/json-benchmarks.js';
import { checkNdsRecords } from '../search/nds-check.js';
import { type PickedAccuracy, pickedAccuracy } from '../search/proxy-compare.js';
import { type ProxyInputsMode, proxyDataSize } from '../proxies/needs.js';
import type { BackendName, ImageBatch } from '../backends/types.js';
import { type EnsembleSpec, expandEnsemble } from '../search/ensemble-scores.js';
import { DEFAULT_ENSEMBLE } from '../proxies/ensemble.js';
import type { RemoteOptions } from '../distributed/coordinator.js';
import type { Benchmark } from '../benchmarks/types.js';
import type { TapMode } from '../ir/types.js';
import type { ProxyName } from '../proxies/index.js';
import { type ProxyStudy, type StudyRow, analyseStudy, rankValue } from '../search/protocol.js';
import type { Progress } from '../search/runner.js';
import { ScoringSession, type SessionOptions } from '../search/session.js';
import { type Correlations, correlations, meanStd, ranks } from '../search/stats.js';
import { getSpace } from '../spaces/index.js';
import { basename } from 'node:path';
import { truthLabel } from './labels.js';
import { type RunInfo, runInfo } from './provenance.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { drawStudyArchs } from './draw.js';
import { studyNotes } from './notes.js';
import { type GammaChoice, gammasFor } from './gammas.js';
import { type ImageSpec, describeImages, imagesFor } from './images.js';

export interface StudyOptions {
  space: string | Space;
  /** the ground truth to correlate with (openBenchmark) */
  benchmark: Benchmark;
  /** default: the space's first dataset */
  build?: BuildOptions;
  /** default: the benchmark's first metric */
  metric?: string;
  /** architectures drawn (seeded; default 1000), or all the benchmark has */
  samples?: number;
  all?: boolean;
  /** default rbflex, naswot, params, flops */
  proxies?: ProxyName[];
  /** default '1' */
  seed?: string;
  /** seeds <seed>.0 .. <seed>.k-1 (default 1: the seed itself) */
  repeats?: number;
  /** images per seed: a spec (default synthetic, 3 per network) or your own loader */
  images?: ImageSpec | ((seed: string) => Promise<ImageBatch>);
  gammas?: GammaChoice;
  taps?: TapMode;
  backend?: BackendName;
  /** worker threads (default: one per core) */
  workers?: number;
  /** SQLite score cache (default: none) */
  cachePath?: string;
  /** members and aggregation of the `ensemble` proxy */
  ensemble?: EnsembleSpec;
  /** score on `rbflex worker` processes through Redis */
  remote?: RemoteOptions;
  /** how a seed's scores are computed (default: a local ScoringSession); see `rbflex study --redis` */
  session?: (o: SessionOptions) => Pick<ScoringSession, 'score' | 'close' | 'scoringMs' | 'scored' | 'cached'> & Partial<Pick<ScoringSession, 'computeMs' | 'cachedComputeMs' | 'partial'>>;
  /** the command line, for the report header (the CLI passes its own) */
  command?: string;
  onProgress?: (p: Progress & { seed: string; repeat: number }) => void;
  log?: (s: string) => void;
  /** gradient proxies: reference settings (default; a data batch of their size is drawn per seed) or RBFleX's images */
  proxyInputs?: ProxyInputsMode;
}

export interface StudyRepeat {
  seed: string;
  /** the images, in words */
  images: string;
  gammas?: { gammaK: number; gammaQ: number; source: string };
  rows: StudyRow[];
  studies: ProxyStudy[];
  /** picked accuracy under the search protocol, per proxy */
  picked: PickedAccuracy[];
  /** scoring wall time of this invocation, s */
  seconds: number;
  /** networks computed now (fully or in part) and networks taken wholly from the cache */
  scored: number;
  cached: number;
  /** of `scored`: networks computed only for the proxies missing from the cache */
  partial: number;
  /** per-network compute time summed over networks, s: of those computed now, and (from the cache) of earlier runs */
  computeSeconds: number;
  cachedComputeSeconds: number;
}

/** How much work the study's scores took, over all seeds. */
export interface NetworkCounts {
  /** architectures x seeds */
  total: number;
  computedNow: number;
  /** of computedNow: computed only for the proxies missing from the cache */
  computedInPart: number;
  fromCache: number;
  /** per-network compute time summed over networks, s, of every score in the study, whenever it was computed */
  computeSeconds: number;
  /** the part computed by this invocation */
  computeSecondsNow: number;
  /** wall time this invocation spent scoring, s */
  wallSecondsNow: number;
}

export interface SeedSpread {
  proxy: ProxyName;
  /** Kendall tau of each seed */
  kendall: number[];
  mean: number;
  std: number;
  /** correlations of the architectures' mean rank over the seeds */
  meanRank: Correlations;
}

export interface StudyResult {
  space: string;
  dataset?: string;
  /** the ground truth: the file or folder read (source), its file name and format */
  benchmark: { source: string; name: string; format: string };
  metric: string;
  /** the y axis of plots: the metric with dataset and unit, e.g. "CIFAR-10 test accuracy, %" */
  metricLabel: string;
  /** rbflex version, command line, date, machine */
  run: RunInfo;
  networks: NetworkCounts;
  proxies: ProxyName[];
  archs: string[];
  accuracy: number[];
  all: boolean;
  seed: string;
  repeats: StudyRepeat[];
  /** across seeds (one entry per proxy; with one seed std is 0) */
  spread: SeedSpread[];
  /** the set-up, as label/value lines for reports */
  setup: [string, string][];
}

export async function runStudy(o: StudyOptions): Promise<StudyResult> {
  const info = runInfo(o.command);
  const space = typeof o.space === 'string' ? getSpace(o.space) : o.space;
  const build: BuildOptions = o.build ?? (space.datasets[0] !== undefined ? { dataset: space.datasets[0] } : {});
  const list = o.proxies ?? ['rbflex', 'naswot', 'params', 'flops'];
  const seed0 = o.seed ?? '1';
  const nRepeats = o.repeats ?? 1;
  const metric = o.metric ?? o.benchmark.metrics[0]!;
  const draw = drawStudyArchs({
    bench: o.benchmark,
    space,
    seed: seed0,
    ...(o.samples !== undefined ? { samples: o.samples } : {}),
    ...(o.all ? { all: true } : {}),
    ...(build.dataset !== undefined ? { dataset: build.dataset } : {}),
    ...(o.metric !== undefined ? { metric: o.metric } : {}),
  });
  const { archs, accuracy } = draw;
  if (archs.length < draw.wanted) o.log?.(`${o.benchmark.source}: only ${archs.length} architectures have ${build.dataset ?? 'this dataset\'s'} ground truth`);
  if (o.benchmark instanceof NdsBenchmark) o.log?.(checkNdsRecords(o.benchmark, space, build, archs));
  const given: ImageSpec = typeof o.images === 'function' || o.images === undefined ? {} : o.images;
  // the loader's resize note once per study, not once per seed
  const noted = new Set<string>();
  const noteTo = given.onNote ?? o.log;
  const onNote = (line: string) => {
    if (noted.has(line)) return;
    noted.add(line);
    noteTo?.(line);
  };
  const spec: ImageSpec = { ...given, onNote };
  const open = o.session ?? ((so: SessionOptions) => new ScoringSession(so));

  const repeats: StudyRepeat[] = [];
  for (let r = 0; r < nRepeats; r++) {
    const seed = nRepeats === 1 ? seed0 : `${seed0}.${r}`;
    const images = typeof o.images === 'function' ? await o.images(seed) : await imagesFor(space, build, spec, seed, archs[0]);
    const gammas = await gammasFor(list, {
      ...o.gammas,
      space,
      build,
      images,
      seed,
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.taps ? { taps: o.taps } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    const dataSize = proxyDataSize(expandEnsemble(list, list.includes('ensemble') ? (o.ensemble ?? { members: [...DEFAULT_ENSEMBLE.members], aggregation: DEFAULT_ENSEMBLE.aggregation }) : undefined), o.proxyInputs ?? 'reference');
    const data = dataSize === undefined ? undefined : typeof o.images === 'function' ? await o.images(`${seed}/proxy-data`) : await imagesFor(space, build, { ...spec, batch: dataSize }, seed);
    const session = open({
      proxyInputs: o.proxyInputs ?? 'reference',
      ...(data ? { data } : {}),
      space: space.name,
      build,
      images,
      seed,
      proxies: list,
      ...(gammas ? { gammaK: gammas.gammaK, gammaQ: gammas.gammaQ } : {}),
      ...(o.taps ? { taps: o.taps } : {}),
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.workers !== undefined ? { workers: o.workers } : space.defaultWorkers !== undefined ? { workers: space.defaultWorkers } : {}),
      ...(o.remote ? { remote: o.remote } : {}),
      ...(o.cachePath ? { cachePath: o.cachePath } : {}),
      ...(o.ensemble ? { ensemble: o.ensemble } : {}),
      ...(o.onProgress ? { onProgress: (p: Progress) => o.onProgress!({ ...p, seed, repeat: r }) } : {}),
    });
    try {
      const scores = await session.score(archs);
      for (const line of studyNotes(archs.map((a) => scores.get(a)!), list)) onNote(line);
      const rows: StudyRow[] = archs.map((a, i) => ({ arch: a, accuracy: accuracy[i]!, scores: scores.get(a)!.scores }));
      repeats.push({
        seed,
        images: typeof o.images === 'function' ? `${images.n} x ${images.c}x${images.h}x${images.w} (${images.id}), seed ${seed}` : describeImages(spec, images, seed, space.loadInputs !== undefined),
        ...(gammas ? { gammas } : {}),
        rows,
        studies: analyseStudy(rows, list),
        picked: pickedAccuracy(rows, list, seed),
        seconds: session.scoringMs / 1000,
        scored: session.scored,
        cached: session.cached,
        partial: session.partial ?? 0,
        computeSeconds: (session.computeMs ?? 0) / 1000,
        cachedComputeSeconds: (session.cachedComputeMs ?? 0) / 1000,
      });
    } finally {
      await session.close();
    }
  }

  const spread: SeedSpread[] = list.map((p) => {
    const taus = repeats.map((r) => r.studies.find((s) => s.proxy === p)!.correlations.kendall);
    const meanRank = new Float64Array(archs.length);
    for (const r of repeats) ranks(r.rows.map((x) => rankValue(x.scores[p]))).forEach((v, i) => (meanRank[i]! += v / repeats.length));
    return { proxy: p, kendall: taus, ...meanStd(taus), meanRank: correlations([...meanRank], accuracy) };
  });
  const first = repeats[0]!;
  const sum = (f: (r: StudyRepeat) => number) => repeats.reduce((a, r) => a + f(r), 0);
  const networks: NetworkCounts = {
    total: sum((r) => r.scored + r.cached),
    computedNow: sum((r) => r.scored),
    computedInPart: sum((r) => r.partial),
    fromCache: sum((r) => r.cached),
    computeSeconds: sum((r) => r.computeSeconds + r.cachedComputeSeconds),
    computeSecondsNow: sum((r) => r.computeSeconds),
    wallSecondsNow: sum((r) => r.seconds),
  };
  const gammaText = (g: StudyRepeat['gammas']) => (g ? `gamma_k ${sig(g.gammaK)}, gamma_q ${sig(g.gammaQ)} (${g.source})` : '-');
  const benchName = basename(o.benchmark.source);
  const inputs = first.images.replace(/, seed \S+$/, '');
  const setup: [string, string][] = [
    ['rbflex', info.rbflex],
    ...(info.command !== undefined ? ([['command', `\`${info.command}\``]] as [string, string][]) : []),
    ['date', info.date],
    ['machine', `${info.machine.cores} cores, ${info.machine.cpu}`],
    ['space', space.name],
    ['dataset / task', build.dataset ?? '-'],
    ['benchmark', `${benchName} (${o.benchmark.format}; ${o.benchmark.source})`],
    ['metric', `${metric} (${truthLabel(o.benchmark, build.dataset, metric)})`],
    ['architectures', `${archs.length}${o.all ? ' (all)' : ` sampled with seed ${seed0}`}`],
    ['images', nRepeats === 1 ? first.images : `${inputs}, a new draw per seed`],
    ['gammas', repeats.every((r) => !r.gammas) ? '- (only rbflex reads them)' : nRepeats === 1 ? gammaText(first.gammas) : repeats.map((r) => `[${r.seed}] ${gammaText(r.gammas)}`).join('; ')],
    ['taps', o.taps ?? space.defaultTaps],
    ['backend', o.backend ?? 'onnx'],
    ['seeds', repeats.map((r) => r.seed).join(', ')],
    ['networks', networksText(networks, archs.length, repeats.length)],
  ];
  return {
    space: space.name,
    ...(build.dataset !== undefined ? { dataset: build.dataset } : {}),
    benchmark: { source: o.benchmark.source, name: benchName, format: o.benchmark.format },
    metric,
    metricLabel: truthLabel(o.benchmark, build.dataset, metric),
    run: info,
    networks,
    proxies: list,
    archs,
    accuracy,
    all: o.all ?? false,
    seed: seed0,
    repeats,
    spread,
    setup,
  };
}

/** 4 significant digits (gammas and the like): 1.234e-7, 0.01235, 3.142 */
export function sig(v: number, digits = 4): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(digits))) : String(v);
}

/** "200 networks: 0 computed now, 200 from cache; compute time 25.9 s (all runs), ..." */
export function networksText(n: NetworkCounts, archs: number, seeds: number): string {
  const what = seeds === 1 ? `${n.total} networks` : `${n.total} networks (${archs} x ${seeds} seeds)`;
  const part = n.computedInPart > 0 ? ` (${n.computedInPart} of them only for proxies missing from the cache)` : '';
  return `${what}: ${n.computedNow} computed now${part}, ${n.fromCache} from cache; compute time ${n.computeSeconds.toFixed(1)} s (all runs, summed over networks; ${n.computeSecondsNow.toFixed(1)} s of it now); scoring wall time now ${n.wallSecondsNow.toFixed(1)} s`;
}
