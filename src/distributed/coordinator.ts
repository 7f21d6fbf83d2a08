/**
 * The coordinator side of distributed scoring: the same contract as the local runner (cache first,
 * every new score committed as it arrives), but the networks not cached go to BullMQ as chunks.
 *
 * Chunks are cut from the full, ordered list of distinct architectures, and a job id is a hash of
 * (cache context, proxy keys, chunk), so a restarted coordinator re-adds the same ids: BullMQ
 * keeps the job that is waiting, running or finished instead of adding another, and a finished job's
 * stored result is read back rather than computed again.
 */
import { createHash } from 'node:crypto';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ImageBatch } from '../backends/types.js';
import type { ProxyName } from '../proxies/index.js';
import type { ScoreCache } from '../search/cache.js';
import { engineVersion } from '../search/engine.js';
import { type Progress, lookup, merge } from '../search/runner.js';
import type { ArchScore, ScorerConfig } from '../search/scorer.js';
import { QUEUE_NAME, rbflexVersion, storeImages } from './common.js';
import { JOB_FORMAT, type JobData, type JobResult, fromWire } from './job.js';
import { DistributedError, type RedisTarget, parseRedisUrl, scrub } from './redis-url.js';

export interface RemoteOptions {
  /** redis://[:password@]host[:port][/db] or rediss:// */
  url: string;
  /** architectures per job (default 50) */
  chunk?: number;
  /** progress lines (per-worker throughput) */
  log?: (s: string) => void;
}

export interface RemoteRun {
  config: ScorerConfig;
  images: ImageBatch;
  proxies: ProxyName[];
  proxyKeys: Record<string, string>;
  /** what separates this run's cache rows from others (space, build, images, seed) */
  contextKey: string;
  cache?: ScoreCache;
  remote: RemoteOptions;
  onProgress?: (p: Progress) => void;
  onScored?: (r: ArchScore) => void;
}

/** how long the coordinator waits for Redis before giving up */
const CONNECT_TIMEOUT_MS = 5000;

function connectionOptions(t: RedisTarget) {
  return {
    ...t.options,
    maxRetriesPerRequest: null,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // reconnect a few times (a blip), then give up: the run ends with one error line
    retryStrategy: (times: number) => (times > 5 ? null : 300),
  };
}

export async function scoreRemote(archs: readonly string[], o: RemoteRun): Promise<Map<string, ArchScore>> {
  const target = parseRedisUrl(o.remote.url);
  const log = o.remote.log ?? (() => {});
  const chunkSize = Math.max(1, o.remote.chunk ?? 50);
  const unique = [...new Set(archs)];
  const out = new Map<string, ArchScore>();
  const missing = new Map<string, { have: ArchScore; missing: ProxyName[] }>();
  for (const a of unique) {
    const hit = lookup(o, a);
    if (hit.missing.length === 0) out.set(a, hit.have);
    else missing.set(a, hit);
  }
  const cached = out.size;
  let done = cached;
  o.onProgress?.({ done, total: unique.length, cached });
  if (missing.size === 0) return out;

  const conn = connectionOptions(target);
  const client = new Redis({ ...conn, lazyConnect: true });
  let lostReason: string | undefined;
  let rejectLost: (e: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => (rejectLost = reject));
  lost.catch(() => undefined);
  const onLost = (why: string) => {
    if (lostReason !== undefined) return;
    lostReason = scrub(why, target);
    rejectLost(new DistributedError(`lost the connection to Redis at ${target.shown} (${lostReason}); ${done - cached} results received and kept in the cache; rerun the same command to resume`));
  };
  client.on('error', () => {}); // reported through 'end' / failed commands
  client.on('end', () => onLost('connection closed'));
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      throw new DistributedError(`cannot reach Redis at ${target.shown}: ${scrub(e instanceof Error ? e.message : String(e), target)}`);
    }
    queue = new Queue(QUEUE_NAME, { connection: conn });
    events = new QueueEvents(QUEUE_NAME, { connection: conn });
    // BullMQ's own connections retry quietly; losing Redis is decided by our client (below)
    queue.on('error', () => {});
    events.on('error', () => {});
    events.setMaxListeners(0);
    queue.setMaxListeners(0);
    await Promise.race([Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), lost]);

    // a silent network (no TCP close) is noticed by a heartbeat
    heartbeat = setInterval(() => {
      const t = setTimeout(() => onLost('no reply to PING for 10 s'), 10_000);
      client.ping().then(
        () => clearTimeout(t),
        () => clearTimeout(t),
      );
    }, 2000);
    heartbeat.unref();
    const engine = await engineVersion();
    const imagesKey = await Promise.race([storeImages(client, o.images), lost]);
    // per-job progress from the workers, for a bar that moves between chunk completions
    const partial = new Map<string, number>();
    const report = () => o.onProgress?.({ done: Math.min(unique.length, done + [...partial.values()].reduce((a, b) => a + b, 0)), total: unique.length, cached });
    events.on('progress', ({ jobId, data }) => {
      if (typeof data === 'number' && partial.has(jobId)) {
        partial.set(jobId, data);
        report();
      }
    });
    const perWorker = new Map<string, { n: number; ms: number }>();

    const jobs: Promise<void>[] = [];
    for (let i = 0; i < unique.length; i += chunkSize) {
      const chunk = unique.slice(i, i + chunkSize);
      const todo = chunk.filter((a) => missing.has(a));
      if (todo.length === 0) continue;
      const need = o.proxies.filter((p) => todo.some((a) => missing.get(a)!.missing.includes(p)));
      const jobId = `c${createHash('sha256').update(JSON.stringify({ ctx: o.contextKey, keys: need.map((p) => o.proxyKeys[p]), archs: chunk })).digest('hex').slice(0, 40)}`;
      const data: JobData = {
        format: JOB_FORMAT,
        engine,
        rbflex: rbflexVersion(),
        config: { space: o.config.space, build: o.config.build, proxies: need, settings: o.config.settings, backend: o.config.backend, seed: o.config.seed, ...(o.config.reduce ? { reduce: o.config.reduce } : {}) },
        images: imagesKey,
        archs: chunk,
      };
      const q = queue;
      const ev = events;
      jobs.push(
        (async () => {
          let job: Job = await q.add('score', data, {
            jobId,
            attempts: 3,
            backoff: { type: 'fixed', delay: 1000 },
            removeOnComplete: { age: 24 * 3600 },
            removeOnFail: { age: 24 * 3600 },
          });
          if ((await job.getState()) === 'failed') {
            await job.retry('failed'); // failed in an earlier run: try again
            job = (await q.getJob(jobId)) ?? job;
          }
          partial.set(jobId, 0);
          let result: JobResult;
          try {
            result = (await job.waitUntilFinished(ev)) as JobResult;
          } catch (e) {
            if (lostReason !== undefined) throw e;
            throw new DistributedError(`job ${jobId} failed on the workers: ${scrub(e instanceof Error ? e.message : String(e), target)}`);
          }
          partial.delete(jobId);
          const w = perWorker.get(result.worker) ?? { n: 0, ms: 0 };
          w.n += result.results.length;
          w.ms += result.ms;
          perWorker.set(result.worker, w);
          for (const wire of result.results) {
            const r = fromWire(wire, need);
            const entry = missing.get(r.arch);
            if (!entry) continue; // cached already, or not this run's
            const fresh = entry.missing;
            o.cache?.put(
              r.arch,
              fresh.map((p) => ({ proxyKey: o.proxyKeys[p]!, value: r.scores[p]!, ...(r.notes?.[p] ? { note: r.notes[p] } : {}) })),
              r.ms,
            );
            o.onScored?.({ ...r, forward: false });
            out.set(r.arch, merge(entry.have, r));
            missing.delete(r.arch);
            done++;
          }
          report();
        })(),
      );
    }
    const all = Promise.all(jobs);
    all.catch(() => undefined);
    await Promise.race([all, lost]);
    for (const [w, s] of [...perWorker].sort()) log(`worker ${w}: ${s.n} networks, ${(s.n / Math.max(1e-9, s.ms / 1000)).toFixed(1)}/s while busy`);
    if (missing.size > 0) throw new DistributedError(`${missing.size} architectures came back without scores`);
    return out;
  } finally {
    clearInterval(heartbeat);
    const closing = [queue?.close(), events?.close()].map((p) => p?.catch(() => undefined));
    if (lostReason !== undefined) {
      // Redis is gone: do not wait for a graceful close
      for (const x of [queue, events]) void x?.disconnect().catch(() => undefined);
      client.disconnect();
    } else {
      await Promise.all(closing);
      await client.quit().catch(() => undefined);
    }
  }
}
