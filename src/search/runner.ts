/**
 * Scores a list of architectures with cache look-ups first, then the pool; every new score
 * goes to the cache the moment it arrives.
 */
import type { ProxyName } from '../proxies/index.js';
import type { ScoreCache } from './cache.js';
import type { ScorePool } from './pool.js';
import type { ArchScore } from './scorer.js';

export interface Progress {
  done: number;
  total: number;
  cached: number;
}

export interface RunOptions {
  pool: ScorePool;
  proxies: ProxyName[];
  /** cache key per proxy (Scorer.proxyKeys()) */
  proxyKeys: Record<string, string>;
  cache?: ScoreCache;
  onProgress?: (p: Progress) => void;
  /** each freshly computed network, as it arrives */
  onScored?: (r: ArchScore) => void;
  /** how many networks to keep in flight (default: 2 per worker) */
  inFlight?: number;
}

/**
 * Scores every distinct arch once; returns a map arch -> scores (fully cached ones have ms = 0).
 * The cache is read per proxy: an arch with some proxies cached is scored for the missing ones only
 * (a study that adds `params` to cached rbflex/naswot scores runs no forward pass).
 */
export async function scoreAll(archs: readonly string[], o: RunOptions): Promise<Map<string, ArchScore>> {
  const unique = [...new Set(archs)];
  const out = new Map<string, ArchScore>();
  const todo: { arch: string; have: ArchScore; missing: ProxyName[] }[] = [];
  let cached = 0;
  for (const a of unique) {
    const hit = lookup(o, a);
    if (hit.missing.length === 0) {
      out.set(a, hit.have);
      cached++;
    } else todo.push({ arch: a, ...hit });
  }
  let done = cached;
  o.onProgress?.({ done, total: unique.length, cached });
  const limit = Math.max(1, o.inFlight ?? 2 * Math.max(1, o.pool.size));
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < todo.length && failure === undefined) {
      const t = todo[next++]!;
      try {
        const r = await o.pool.score(t.arch, t.missing.length === o.proxies.length ? undefined : t.missing);
        o.cache?.put(
          r.arch,
          t.missing.map((p) => ({ proxyKey: o.proxyKeys[p]!, value: r.scores[p]!, ...(r.notes?.[p] ? { note: r.notes[p] } : {}) })),
          r.ms,
        );
        o.onScored?.(r);
        out.set(t.arch, merge(t.have, r));
        done++;
        o.onProgress?.({ done, total: unique.length, cached });
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, todo.length) }, lane));
  if (failure !== undefined) throw failure;
  return out;
}

/** cached proxies of one arch, and the proxies still to compute */
export function lookup(o: Pick<RunOptions, 'cache' | 'proxies' | 'proxyKeys'>, arch: string): { have: ArchScore; missing: ProxyName[] } {
  const have: ArchScore = { arch, scores: {}, ms: 0 };
  const missing: ProxyName[] = [];
  // earlier computations behind the cached scores, each counted once (proxies stored together share one)
  const runs = new Map<string, number>();
  for (const p of o.proxies) {
    const v = o.cache?.get(o.proxyKeys[p]!, arch);
    if (!v) {
      missing.push(p);
      continue;
    }
    have.scores[p] = v.value;
    if (v.note) (have.notes ??= {})[p] = v.note;
    runs.set(`${v.created}|${v.ms}`, v.ms);
  }
  if (runs.size) have.cachedMs = [...runs.values()].reduce((a, b) => a + b, 0);
  return { have, missing };
}

export function merge(have: ArchScore, fresh: ArchScore): ArchScore {
  const notes = { ...have.notes, ...fresh.notes };
  const r: ArchScore = { arch: fresh.arch, scores: { ...have.scores, ...fresh.scores }, ms: fresh.ms, ...(have.cachedMs !== undefined ? { cachedMs: have.cachedMs } : {}) };
  if (Object.keys(notes).length) r.notes = notes;
  return r;
}
