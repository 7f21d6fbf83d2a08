/**
 * A scoring session: one space, dataset/build options, image batch, seed, proxies and backend,
 * with its worker pool and score cache. search, study and score all run through it.
 */
import type { BackendName, ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import type { ProxyName, ProxySettings } from '../proxies/index.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { ScoreCache } from './cache.js';
import { ScorePool, defaultWorkers } from './pool.js';
import { type Progress, scoreAll } from './runner.js';
import { type ArchScore, type ScorerConfig, imagesKey, proxyKeysOf } from './scorer.js';

export interface SessionOptions {
  space: string;
  build: BuildOptions;
  images: ImageBatch;
  seed: string;
  proxies: ProxyName[];
  gammaK: number;
  gammaQ: number;
  taps?: TapMode;
  backend?: BackendName;
  /** worker threads (0 = score in this thread) */
  workers: number;
  /** SQLite cache file; undefined = no cache */
  cachePath?: string;
  onProgress?: (p: Progress) => void;
}

export class ScoringSession {
  readonly space: Space;
  readonly config: ScorerConfig;
  readonly settings: ProxySettings;
  private pool?: ScorePool;
  private cache?: ScoreCache;
  private readonly keys: Record<string, string>;
  /** total wall time spent scoring (not in cache look-ups or benchmark reads), ms */
  scoringMs = 0;
  /** networks scored in this session, and networks answered from the cache */
  scored = 0;
  cached = 0;

  constructor(readonly o: SessionOptions) {
    this.space = getSpace(o.space);
    this.settings = { gammaK: o.gammaK, gammaQ: o.gammaQ, taps: o.taps ?? this.space.defaultTaps };
    this.config = {
      space: o.space,
      build: o.build,
      proxies: o.proxies,
      settings: this.settings,
      backend: o.backend ?? 'onnx',
      seed: o.seed,
      // without worker threads, let onnxruntime use the cores inside each network instead
      threads: o.workers === 0 ? defaultWorkers() : 1,
    };
    this.keys = proxyKeysOf(this.config);
    if (o.cachePath) {
      this.cache = new ScoreCache(o.cachePath, {
        space: o.space,
        build: JSON.stringify(o.build, Object.keys(o.build).sort()),
        images: imagesKey(o.images),
        seed: o.seed,
      });
    }
  }

  get proxyKeys(): Record<string, string> {
    return this.keys;
  }

  /** Scores of each architecture, keyed by the space's canonical id (ids are canonicalised first). */
  async score(ids: readonly string[]): Promise<Map<string, ArchScore>> {
    const archs = ids.map((a) => this.space.parse(a));
    if (!this.pool) this.pool = new ScorePool(this.config, this.o.images, this.o.workers);
    const t0 = performance.now();
    let last: Progress | undefined;
    try {
      return await scoreAll(archs, {
        pool: this.pool,
        proxies: this.o.proxies,
        proxyKeys: this.keys,
        ...(this.cache ? { cache: this.cache } : {}),
        onProgress: (p) => {
          last = p;
          this.o.onProgress?.(p);
        },
      });
    } finally {
      this.scoringMs += performance.now() - t0;
      if (last) {
        this.cached += last.cached;
        this.scored += last.done - last.cached;
      }
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.cache?.close();
  }
}
