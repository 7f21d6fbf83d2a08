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
  /** how many networks to keep in flight (default: 2 per worker) */
  inFlight?: number;
}

/** Scores every distinct arch once; returns a map arch -> scores (cached ones have ms = 0). */
export async function scoreAll(archs: readonly string[], o: RunOptions): Promise<Map<string, ArchScore>> {
  const unique = [...new Set(archs)];
  const out = new Map<string, ArchScore>();
  const todo: string[] = [];
  let cached = 0;
  for (const a of unique) {
    const hit = o.cache ? lookup(o, a) : undefined;
    if (hit) {
      out.set(a, hit);
      cached++;
    } else todo.push(a);
  }
  let done = cached;
  o.onProgress?.({ done, total: unique.length, cached });
  const limit = Math.max(1, o.inFlight ?? 2 * Math.max(1, o.pool.size));
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < todo.length && failure === undefined) {
      const arch = todo[next++]!;
      try {
        const r = await o.pool.score(arch);
        o.cache?.put(
          r.arch,
          o.proxies.map((p) => ({ proxyKey: o.proxyKeys[p]!, value: r.scores[p]!, ...(r.notes?.[p] ? { note: r.notes[p] } : {}) })),
          r.ms,
        );
        out.set(arch, r);
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

function lookup(o: RunOptions, arch: string): ArchScore | undefined {
  const scores: ArchScore['scores'] = {};
  const notes: ArchScore['notes'] = {};
  for (const p of o.proxies) {
    const v = o.cache!.get(o.proxyKeys[p]!, arch);
    if (!v) return undefined;
    scores[p] = v.value;
    if (v.note) notes[p] = v.note;
  }
  const r: ArchScore = { arch, scores, ms: 0 };
  if (Object.keys(notes).length) r.notes = notes;
  return r;
}
