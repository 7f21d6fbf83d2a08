/**
 * A scoring session: one space, dataset/build options, image batch, seed, proxies and backend,
 * with its worker pool and score cache. search, study and score all run through it.
 */
import type { BackendName, ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import { DEFAULT_ENSEMBLE } from '../proxies/ensemble.js';
import { PROXY_NAMES, ProxyError, type ProxyName, type ProxySettings, REFERENCE_GAMMAS } from '../proxies/index.js';
import { type EnsembleSpec, applyPopulation, expandEnsemble } from './ensemble-scores.js';
import type { LabelledBatch } from '../proxies/inputs.js';
import type { ProxyInputsMode } from '../proxies/needs.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { ScoreCache } from './cache.js';
import { buildKey, imagesKey, proxyKeysOf, spaceFingerprint } from './cache-key.js';
import type { RemoteOptions } from '../distributed/coordinator.js';
import { engineFingerprints } from './engine.js';
import { ScorePool, defaultWorkers } from './pool.js';
import { type Progress, scoreAll } from './runner.js';
import type { ArchScore, ReduceMode, ScorerConfig } from './scorer.js';

export interface SessionOptions {
  space: string;
  images: ImageBatch;
  /** dataset and build options (default: none, the space's defaults) */
  build?: BuildOptions;
  /** the run's seed: weights of arch A come from `${seed}/${space}/${A}` (default '1') */
  seed?: string;
  /** default ['rbflex'] */
  proxies?: ProxyName[];
  /** RBF kernel widths; only rbflex reads them (default: REFERENCE_GAMMAS) */
  gammaK?: number;
  gammaQ?: number;
  /** default: the space's default taps */
  taps?: TapMode;
  /** default 'onnx' */
  backend?: BackendName;
  /** where taps are reduced (ScorerConfig.reduce; default graph, which falls back to host where it does not apply) */
  reduce?: ReduceMode;
  /** worker threads, 0 = score in this thread (default: one per core) */
  workers?: number;
  /** SQLite cache file; undefined = no cache */
  cachePath?: string;
  /** score on `rbflex worker` processes through Redis (BullMQ) instead of local threads */
  remote?: RemoteOptions;
  onProgress?: (p: Progress) => void;
  /** members and aggregation of the `ensemble` proxy (default DEFAULT_ENSEMBLE) */
  ensemble?: EnsembleSpec;
  /** gradient proxies: reference settings (default) or RBFleX's images for all */
  proxyInputs?: ProxyInputsMode;
  /** the reference data batch of gradient proxies that read images (see proxyDataBatch) */
  data?: LabelledBatch;
}

export class ScoringSession {
  readonly space: Space;
  readonly config: ScorerConfig;
  readonly settings: ProxySettings;
  readonly proxies: ProxyName[];
  /** the proxies computed per network: `proxies` with `ensemble` replaced by its members */
  readonly computed: ProxyName[];
  readonly ensemble?: EnsembleSpec;
  private pool?: ScorePool;
  private cache?: ScoreCache;
  private keys?: Record<string, string>;
  private readonly workers: number;
  private readonly contextKey: string;
  /** total wall time spent scoring (not in cache look-ups or benchmark reads), ms */
  scoringMs = 0;
  /** distinct networks computed in this session (fully or in part), and distinct networks answered wholly
   * from the cache (an arch met again later, computed or cached, is not counted again) */
  scored = 0;
  cached = 0;
  /** per-network compute time (summed over networks, so with W workers about W x the wall time), ms:
   * of the networks computed in this session, and (as stored in the cache) of the scores taken from it,
   * each arch's cached part counted once per session (later score() calls that meet it again add nothing) */
  computeMs = 0;
  cachedComputeMs = 0;
  /** of `scored`: networks computed only for the proxies the cache lacked */
  partial = 0;
  private readonly met = new Set<string>();
  /** forward passes run (a network whose forward-pass proxies were all cached needs none) */
  forwardPasses = 0;

  constructor(readonly o: SessionOptions) {
    this.space = getSpace(o.space);
    const build = o.build ?? {};
    this.proxies = o.proxies ?? ['rbflex'];
    if (this.proxies.includes('ensemble')) {
      this.ensemble = o.ensemble ?? { members: [...DEFAULT_ENSEMBLE.members], aggregation: DEFAULT_ENSEMBLE.aggregation };
      for (const m of this.ensemble.members) {
        if (!(PROXY_NAMES as readonly string[]).includes(m) || m === 'ensemble') throw new ProxyError(`ensemble member "${m}" is not a proxy; choose from ${PROXY_NAMES.filter((p) => p !== 'ensemble').join(', ')}`);
      }
    }
    // the ensemble and az-nas are not computed per network: their members are, and they rank the set
    this.computed = expandEnsemble(this.proxies, this.ensemble);
    this.settings = { gammaK: o.gammaK ?? REFERENCE_GAMMAS.gammaK, gammaQ: o.gammaQ ?? REFERENCE_GAMMAS.gammaQ, taps: o.taps ?? this.space.defaultTaps };
    this.workers = o.workers ?? this.space.defaultWorkers ?? defaultWorkers();
    this.config = {
      space: o.space,
      build,
      proxies: this.computed,
      settings: this.settings,
      backend: o.backend ?? 'onnx',
      ...(o.reduce ? { reduce: o.reduce } : {}),
      seed: o.seed ?? '1',
      // without worker threads, let onnxruntime use the cores inside each network instead
      threads: this.workers === 0 ? defaultWorkers() : 1,
      proxyInputs: o.proxyInputs ?? 'reference',
      ...(o.data ? { data: o.data } : {}),
    };
    const ctx = {
      space: `${this.space.name}#${spaceFingerprint(this.space, build)}`,
      build: buildKey(build),
      images: imagesKey(o.images),
      seed: this.config.seed,
    };
    this.contextKey = JSON.stringify(ctx);
    if (o.cachePath) this.cache = new ScoreCache(o.cachePath, ctx);
  }

  /** the cache key of each proxy (settings, backend, engine fingerprint) */
  async proxyKeys(): Promise<Record<string, string>> {
    this.keys ??= proxyKeysOf(this.config, await engineFingerprints());
    return this.keys;
  }

  /** Scores of each architecture, keyed by the space's canonical id (ids are canonicalised first). */
  async score(ids: readonly string[]): Promise<Map<string, ArchScore>> {
    const archs = ids.map((a) => this.space.parse(a));
    const proxyKeys = await this.proxyKeys();
    const t0 = performance.now();
    const onProgress = (p: Progress) => this.o.onProgress?.(p);
    try {
      const out = this.o.remote ? await this.scoreRemote(archs, proxyKeys, onProgress) : await this.scoreLocal(archs, proxyKeys, onProgress);
      applyPopulation(out, this.proxies, this.ensemble);
      for (const r of out.values()) {
        this.computeMs += r.ms;
        // an arch this session already met (computed, or counted from the cache) is not counted twice:
        // evolution meets its population again and again
        if (this.met.has(r.arch)) continue;
        this.met.add(r.arch);
        if (r.cachedMs === undefined || r.ms > 0) this.scored++;
        else this.cached++;
        if (r.cachedMs !== undefined) this.cachedComputeMs += r.cachedMs;
        if (r.cachedMs !== undefined && r.ms > 0) this.partial++;
      }
      return out;
    } finally {
      this.scoringMs += performance.now() - t0;
    }
  }

  private async scoreRemote(archs: string[], proxyKeys: Record<string, string>, onProgress: (p: Progress) => void): Promise<Map<string, ArchScore>> {
    const { scoreRemote } = await import('../distributed/coordinator.js');
    return scoreRemote(archs, {
      config: this.config,
      images: this.o.images,
      proxies: this.computed,
      proxyKeys,
      contextKey: this.contextKey,
      ...(this.cache ? { cache: this.cache } : {}),
      remote: this.o.remote!,
      onProgress,
    });
  }

  private async scoreLocal(archs: string[], proxyKeys: Record<string, string>, onProgress: (p: Progress) => void): Promise<Map<string, ArchScore>> {
    if (!this.pool) this.pool = new ScorePool(this.config, this.o.images, this.workers);
    return scoreAll(archs, {
      pool: this.pool,
      proxies: this.computed,
      proxyKeys,
      ...(this.cache ? { cache: this.cache } : {}),
      onProgress,
      onScored: (r) => {
        if (r.forward) this.forwardPasses++;
      },
    });
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.cache?.close();
  }
}
