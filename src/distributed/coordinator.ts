/**
 * The coordinator side of distributed scoring: the same contract as the local runner (cache first,
 * every new score committed as it arrives), but the networks not cached go to BullMQ as chunks.
 *
 * Chunks are cut from the full, ordered list of distinct architectures, and a job id is a hash of
 * (cache context, proxy keys, chunk), so a restarted coordinator re-adds the same ids: BullMQ
 * keeps the job that is waiting, running or finished instead of adding another, and a finished job's
 * stored result is read back rather than computed again.
 *
 * Jobs go to the queue of the coordinator's engine fingerprint (see common.ts), so only workers
 * that score bit-identically take them. The chunk sizes adapt to the job slots of the live
 * compatible workers (see jobSizes), and a run whose only live workers run another rbflex fails
 * after a short grace with a message naming both versions.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ImageBatch } from '../backends/types.js';
import type { ProxyName } from '../proxies/index.js';
import type { ScoreCache } from '../search/cache.js';
import { engineVersion } from '../search/engine.js';
import { type Progress, lookup, merge } from '../search/runner.js';
import type { ArchScore, ScorerConfig } from '../search/scorer.js';
import { ANNOUNCE_EVERY_MS, type Announcement, COORDINATORS_KEY, WORKERS_KEY, announce, liveAnnouncements, queueName, rbflexVersion, storeImages } from './common.js';
import { JOB_FORMAT, type JobData, type JobResult, fromWire } from './job.js';
import { DistributedError, type RedisTarget, parseRedisUrl, scrub } from './redis-url.js';

export interface RemoteOptions {
  /** redis://[:password@]host[:port][/db] or rediss:// */
  url: string;
  /** architectures per job (default 50) */
  chunk?: number;
  /** progress lines (per-worker throughput) */
  log?: (s: string) => void;
  /** how long only incompatible workers may be live before the run fails, ms (default 5000) */
  incompatibleGraceMs?: number;
  /** each finished job's timeline (benchmarks: where the time between jobs goes) */
  onJob?: (t: JobTrace) => void;
}

/** One job's timeline, epoch ms (coordinator and worker clocks: comparable on one machine only). */
export interface JobTrace {
  jobId: string;
  worker: string;
  networks: number;
  /** coordinator: job added; worker: job received, images and pool ready, scoring started, scored; coordinator: result stored */
  added: number;
  received?: number;
  ready?: number;
  admitted?: number;
  scored?: number;
  collected: number;
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

/**
 * The sizes of a run's jobs, in queue order. One job slot (or none live yet): --chunk networks,
 * cut evenly (150 networks, --chunk 50 -> 3 jobs of 50). Several slots: --chunk networks while
 * plenty remain, then shrinking (guided self-scheduling: each job takes 1/(2 x slots) of what is
 * left, at least a tenth of --chunk), so the slots run out of work together instead of one idling
 * while another scores a last full chunk: 600 networks, --chunk 50, 2 slots -> 9 x 50, 38, 28, 21,
 * 16, 12, 9, 7, 5, 5, 5, 4. Depends only on the total, --chunk and the slots, so a restarted coordinator
 * with the same workers cuts the same chunks (the same job ids).
 */
export function jobSizes(total: number, requested: number, slots: number): number[] {
  const req = Math.max(1, Math.floor(requested));
  const s = Math.max(1, Math.floor(slots));
  if (s === 1) {
    const n = Math.ceil(total / req);
    return Array.from({ length: n }, (_, i) => Math.floor(((i + 1) * total) / n) - Math.floor((i * total) / n));
  }
  // the smallest job: a tenth of --chunk (its hand-over costs little next to its scoring), less on tiny runs
  const min = Math.max(1, Math.min(Math.ceil(req / 10), Math.floor(total / (2 * s))));
  const sizes: number[] = [];
  for (let left = total; left > 0; ) {
    const k = Math.min(left, req, Math.max(min, Math.ceil(left / (2 * s))));
    sizes.push(k);
    left -= k;
  }
  return sizes;
}

/** [start, end) of each job over `total` networks (jobSizes, in order) */
export function jobBounds(total: number, requested: number, slots: number): [number, number][] {
  let at = 0;
  return jobSizes(total, requested, slots).map((k) => [at, (at += k)]);
}

/** "rbflex 0.1.0 (engine abc)" for each distinct version among the workers */
function versions(ws: Iterable<Announcement>): string {
  const v = new Map<string, number>();
  for (const w of ws) v.set(`rbflex ${w.rbflex} (engine ${w.engine})`, (v.get(`rbflex ${w.rbflex} (engine ${w.engine})`) ?? 0) + 1);
  return [...v].map(([k, n]) => `${n} on ${k}`).join(', ');
}

export async function scoreRemote(archs: readonly string[], o: RemoteRun): Promise<Map<string, ArchScore>> {
  const target = parseRedisUrl(o.remote.url);
  const log = o.remote.log ?? (() => {});
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
  let rejectFatal: (e: Error) => void = () => {};
  const fatal = new Promise<never>((_, reject) => (rejectFatal = reject));
  fatal.catch(() => undefined);
  let failed = false;
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    rejectFatal(e);
  };
  const onLost = (why: string) => {
    if (lostReason !== undefined || failed) return;
    lostReason = scrub(why, target);
    fail(new DistributedError(`lost the connection to Redis at ${target.shown} (${lostReason}); ${done - cached} results received and kept in the cache; rerun the same command to resume`));
  };
  // reported through 'end' / failed commands; the last one explains a failed connect (TLS, auth)
  let lastError: string | undefined;
  client.on('error', (e: Error) => (lastError = e.message));
  client.on('end', () => onLost('connection closed'));
  const me = `${hostname()}:${process.pid}`;
  let queue: Queue | undefined;
  let events: QueueEvents | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let announcer: NodeJS.Timeout | undefined;
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      const why = lastError && lastError !== m && /Connection is closed/.test(m) ? lastError : m;
      throw new DistributedError(`cannot reach Redis at ${target.shown}: ${scrub(why, target)}`);
    }
    const engine = await engineVersion();
    const version = rbflexVersion();
    const qname = queueName(engine);
    queue = new Queue(qname, { connection: conn });
    events = new QueueEvents(qname, { connection: conn });
    // BullMQ's own connections retry quietly; losing Redis is decided by our client (below)
    queue.on('error', () => {});
    events.on('error', () => {});
    events.setMaxListeners(0);
    queue.setMaxListeners(0);
    // the queue's connections come up while the registry is read and the images stored (jobs are added after all of it)
    const queuesReady = Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    queuesReady.catch(() => undefined);

    // a silent network (no TCP close) is noticed by a heartbeat
    heartbeat = setInterval(() => {
      const t = setTimeout(() => onLost('no reply to PING for 10 s'), 10_000);
      client.ping().then(
        () => clearTimeout(t),
        () => clearTimeout(t),
      );
    }, 2000);
    heartbeat.unref();

    // who is there: the coordinator announces itself (workers of another rbflex say so in their
    // log), and watches the workers: only incompatible ones for a grace period -> the run fails
    const grace = o.remote.incompatibleGraceMs ?? 5000;
    let onlyIncompatibleSince: number | undefined;
    let warnedNone = false;
    const look = async (): Promise<Map<string, Announcement>> => {
      await announce(client, COORDINATORS_KEY, me, { rbflex: version, engine });
      const ws = await liveAnnouncements(client, WORKERS_KEY);
      const ok = [...ws.values()].filter((w) => w.engine === engine);
      if (ok.length === 0 && ws.size > 0) {
        onlyIncompatibleSince ??= Date.now();
        if (Date.now() - onlyIncompatibleSince >= grace) {
          fail(
            new DistributedError(
              `no worker at ${target.shown} runs this rbflex ${version} (engine ${engine}): the live workers are ${versions(ws.values())}; start workers with the same rbflex (the queued jobs wait for them; rerun this command then)`,
            ),
          );
        }
      } else onlyIncompatibleSince = undefined;
      if (ws.size === 0 && !warnedNone) {
        warnedNone = true;
        log(`no worker is running at ${target.shown} yet: start "rbflex worker --redis ..." (the jobs wait in the queue)`);
      }
      return ws;
    };
    const [workersAtStart, imagesKey, dataKey] = await Promise.race([
      Promise.all([look(), storeImages(client, o.images), o.config.data ? storeImages(client, o.config.data) : undefined, queuesReady]),
      fatal,
    ]);
    announcer = setInterval(() => void look().catch(() => undefined), Math.min(ANNOUNCE_EVERY_MS, Math.max(250, grace / 4)));
    announcer.unref();
    const compatible = [...workersAtStart.values()].filter((w) => w.engine === engine);
    const slots = compatible.reduce((a, w) => a + (w.concurrency ?? 1), 0);
    const bounds = jobBounds(unique.length, o.remote.chunk ?? 50, slots);

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
    const { data: _data, threads: _threads, ...config } = o.config;

    const jobs: Promise<void>[] = [];
    for (const [from, to] of bounds) {
      const part = unique.slice(from, to);
      const todo = part.filter((a) => missing.has(a));
      if (todo.length === 0) continue;
      const need = o.proxies.filter((p) => todo.some((a) => missing.get(a)!.missing.includes(p)));
      const jobId = `c${createHash('sha256').update(JSON.stringify({ ctx: o.contextKey, keys: need.map((p) => o.proxyKeys[p]), archs: part })).digest('hex').slice(0, 40)}`;
      const data: JobData = {
        format: JOB_FORMAT,
        engine,
        rbflex: version,
        config: { ...config, proxies: need },
        images: imagesKey,
        ...(dataKey ? { data: dataKey } : {}),
        archs: part,
      };
      const q = queue;
      const ev = events;
      jobs.push(
        (async () => {
          const added = performance.timeOrigin + performance.now();
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
            if (failed) throw e;
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
          if (o.remote.onJob) {
            const t: JobTrace = { jobId, worker: String(result.worker), networks: result.results.length, added, collected: performance.timeOrigin + performance.now() };
            for (const k of ['received', 'ready', 'admitted', 'scored'] as const) {
              const v = (result.timing as Record<string, unknown> | undefined)?.[k];
              if (typeof v === 'number' && Number.isFinite(v)) t[k] = v;
            }
            o.remote.onJob(t);
          }
        })(),
      );
    }
    log(`${missing.size} networks to score in ${jobs.length} job(s) of up to ${Math.max(...bounds.map(([a, b]) => b - a))} networks on queue ${qname}; ${compatible.length} compatible worker(s) live with ${slots} job slot(s)`);
    const all = Promise.all(jobs);
    all.catch(() => undefined);
    await Promise.race([all, fatal]);
    for (const [w, s] of [...perWorker].sort()) log(`worker ${w}: ${s.n} networks, ${(s.n / Math.max(1e-9, s.ms / 1000)).toFixed(1)}/s while busy`);
    if (missing.size > 0) throw new DistributedError(`${missing.size} architectures came back without scores`);
    return out;
  } finally {
    clearInterval(heartbeat);
    clearInterval(announcer);
    const closing = [queue?.close(), events?.close()].map((p) => p?.catch(() => undefined));
    if (lostReason !== undefined) {
      // Redis is gone: do not wait for a graceful close
      for (const x of [queue, events]) void x?.disconnect().catch(() => undefined);
      client.disconnect();
    } else {
      await client.hdel(COORDINATORS_KEY, me).catch(() => undefined);
      await Promise.all(closing);
      await client.quit().catch(() => undefined);
    }
  }
}
