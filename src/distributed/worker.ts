/**
 * `rbflex worker`: takes scoring jobs from the BullMQ queue of its engine, scores them on its own
 * worker threads (one pool per run's settings, kept across that run's jobs), returns the scores.
 *
 * - It only listens to the queue of its own engine fingerprint (common.ts), so jobs of a
 *   coordinator on another rbflex are never taken; the worker says so in its log, once per such
 *   coordinator. A forged job with another engine in its queue fails at once (no retries).
 * - A malformed job fails alone.
 * - Prefetch: one job more than --concurrency is fetched and made ready, and starts when the
 *   current jobs have handed out their last networks (admitNext), so threads never idle between jobs.
 * - Stop: the first SIGTERM/SIGINT takes no new job, puts a prefetched job not yet started back in
 *   the queue and finishes the current one(s); a second
 *   signal, or `graceMs` after the first, releases them (back to the queue, for another worker, at
 *   once) after the networks in flight. Either way the process then exits 0.
 */
import { hostname } from 'node:os';
import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { LabelledBatch } from '../proxies/inputs.js';
import { engineVersion } from '../search/engine.js';
import { ScorePool, defaultWorkers } from '../search/pool.js';
import type { ArchScore, ScorerConfig } from '../search/scorer.js';
import { ANNOUNCE_EVERY_MS, COORDINATORS_KEY, WORKERS_KEY, announce, liveAnnouncements, loadStoredImages, queueName, rbflexVersion } from './common.js';
import { JobError, type JobResult, toWire, validateJob } from './job.js';
import { parseRedisUrl, scrub } from './redis-url.js';

export interface WorkerOptions {
  url: string;
  /** scoring threads (default: one per core) */
  workers?: number;
  /** jobs taken at once (default 1) */
  concurrency?: number;
  /** how long a job stays locked by a worker that stops answering, ms (default 30 s) */
  lockMs?: number;
  /** after a stop signal, how long the current jobs may run before they are released, ms (default 25 s) */
  graceMs?: number;
  log?: (s: string) => void;
  /** resolves to stop the worker (default: the first SIGTERM or SIGINT) */
  stop?: Promise<unknown>;
  /** resolves to release the current jobs at once (default: a second SIGTERM or SIGINT) */
  release?: Promise<unknown>;
  /** the engine fingerprint and version to serve (default: this process's); tests pose as another rbflex */
  engine?: { engine: string; rbflex: string };
}

/** wall clock with sub-ms resolution, comparable between processes of one machine */
const epochMs = () => performance.timeOrigin + performance.now();

/** a fetched job waiting for its turn to score */
interface Waiter {
  admit: () => void;
  release: () => void;
}

interface PoolEntry {
  pool: ScorePool;
  busy: number;
}

/** at most this many pools (distinct run settings) are kept; idle ones beyond it are closed */
const MAX_POOLS = 2;

export async function runWorker(o: WorkerOptions): Promise<void> {
  const target = parseRedisUrl(o.url);
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const threads = o.workers ?? defaultWorkers();
  const concurrency = o.concurrency ?? 1;
  const lockMs = o.lockMs ?? 30_000;
  const me = `${hostname()}:${process.pid}`;
  const engine = o.engine?.engine ?? (await engineVersion());
  const version = o.engine?.rbflex ?? rbflexVersion();
  const connection = { ...target.options, maxRetriesPerRequest: null };
  const client = new Redis(connection);
  let lastError = '';
  const onError = (e: Error) => {
    const m = scrub(e.message, target);
    if (m !== lastError) log(`worker ${me}: redis: ${m}`);
    lastError = m;
  };
  client.on('error', onError);
  const images = new Map<string, LabelledBatch>();
  const pools = new Map<string, PoolEntry>();
  /** jobs being scored: releasing one resolves its promise */
  const active = new Map<string, { job: Job; token: string; release: () => void; pool: ScorePool }>();
  let releasing = false;
  /** a stop signal came: no job starts any more */
  let stopping = false;

  const batch = async (key: string): Promise<LabelledBatch> => {
    let b = images.get(key);
    if (b) return b;
    try {
      b = await loadStoredImages(client, key);
    } catch (e) {
      if (e instanceof JobError) throw new UnrecoverableError(e.message);
      throw e;
    }
    if (images.size >= 4) images.delete(images.keys().next().value!);
    images.set(key, b);
    return b;
  };

  const poolFor = (key: string, config: ScorerConfig, imgs: LabelledBatch): PoolEntry => {
    let e = pools.get(key);
    if (e) {
      pools.delete(key); // re-inserted last: most recently used
      pools.set(key, e);
      return e;
    }
    e = { pool: new ScorePool(config, imgs, threads), busy: 0 };
    pools.set(key, e);
    for (const [k, old] of pools) {
      if (pools.size <= MAX_POOLS) break;
      if (old.busy === 0 && k !== key) {
        pools.delete(k);
        void old.pool.close();
      }
    }
    return e;
  };

  /**
   * Prefetch: BullMQ hands this worker one job more than --concurrency. The extra job is fetched,
   * checked and given its images and pool at once, but starts scoring only when the jobs in progress
   * have handed their last networks to the threads (or fewer than --concurrency jobs are in
   * progress), so the threads never wait for a job hand-over and a stop never has to finish it.
   */
  const waiting: Waiter[] = [];
  const canAdmit = () => {
    if (stopping) return false;
    if (active.size < concurrency) return true;
    for (const a of active.values()) if (a.pool.queued >= a.pool.size) return false;
    return true;
  };
  const admitNext = () => {
    while (waiting.length > 0 && canAdmit()) waiting.shift()!.admit();
  };

  const process_ = async (job: Job, token?: string): Promise<JobResult> => {
    const received = epochMs();
    let d;
    try {
      d = validateJob(job.data);
    } catch (e) {
      log(`worker ${me}: job ${job.id}: ${(e as Error).message}`);
      throw new UnrecoverableError((e as Error).message);
    }
    if (d.engine !== engine) {
      // only a forged job gets here: the queue is this engine's
      const m = `refused: the job comes from rbflex ${d.rbflex} (engine ${d.engine}), this worker runs rbflex ${version} (engine ${engine}); run the same rbflex on coordinator and workers`;
      log(`worker ${me}: job ${job.id}: ${m}`);
      throw new UnrecoverableError(m);
    }
    const imgs = await batch(d.images);
    const data = d.data ? await batch(d.data) : undefined;
    const config: ScorerConfig = { ...d.config, threads: 1, ...(data ? { data } : {}) };
    const entry = poolFor(`${JSON.stringify(d.config)}|${d.images}|${d.data ?? ''}`, config, imgs);
    entry.busy++;
    const ready = epochMs();
    const id = String(job.id);
    let done = 0;
    let lastReport = 0;
    let release: () => void = () => {};
    const released = new Promise<'released'>((resolve) => (release = () => resolve('released')));
    try {
      // wait for a turn; a stop before it puts the job back untouched
      const turn = await new Promise<{ scoring: Promise<ArchScore[]>; admitted: number } | 'released'>((resolve) => {
        const w: Waiter = {
          admit: () => {
            // synchronous: the networks are in the pool's queue before the next admission check
            active.set(id, { job, token: token ?? '', release, pool: entry.pool });
            log(`worker ${me}: job ${job.id}: scoring ${d.archs.length} networks`);
            const admitted = epochMs();
            const scoring = Promise.all(
              d.archs.map(async (a) => {
                const r = await entry.pool.score(a);
                done++;
                admitNext();
                if (performance.now() - lastReport > 500) {
                  lastReport = performance.now();
                  void job.updateProgress(done).catch(() => undefined);
                }
                return r;
              }),
            );
            scoring.catch(() => undefined);
            resolve({ scoring, admitted });
          },
          release: () => resolve('released'),
        };
        if (stopping) w.release();
        else {
          waiting.push(w);
          admitNext();
        }
      });
      if (turn === 'released') {
        await job.moveToWait(token ?? '');
        log(`worker ${me}: job ${job.id}: not started, back in the queue for another worker`);
        throw new DelayedError('released');
      }
      if (releasing) release();
      const results: ArchScore[] | 'released' = await Promise.race([turn.scoring, released]);
      if (results === 'released') {
        await job.moveToWait(token ?? '');
        log(`worker ${me}: job ${job.id}: released after ${done} of ${d.archs.length} networks (back in the queue for another worker)`);
        throw new DelayedError('released');
      }
      const scored = epochMs();
      const ms = scored - turn.admitted;
      log(`worker ${me}: job ${job.id}: ${results.length} networks in ${(ms / 1000).toFixed(1)} s (${((results.length * 1000) / ms).toFixed(1)}/s)`);
      return { worker: me, ms, results: results.map(toWire), timing: { received, ready, admitted: turn.admitted, scored } };
    } finally {
      active.delete(id);
      entry.busy--;
      admitNext();
    }
  };

  const worker = new Worker(queueName(engine), process_, {
    connection,
    // one job prefetched (see admitNext)
    concurrency: concurrency + 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 10,
  });
  worker.on('error', onError);
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof UnrecoverableError) && !/^refused/.test(e.message) && !/^malformed/.test(e.message)) log(`worker ${me}: job ${job.id} failed: ${scrub(e.message, target)}`);
  });
  await worker.waitUntilReady();

  // announce this worker (the coordinators size their chunks by the live job slots), and say once
  // per coordinator on another rbflex that its jobs are not for this worker
  const told = new Set<string>();
  const tick = async () => {
    await announce(client, WORKERS_KEY, me, { rbflex: version, engine, concurrency, threads });
    for (const [id, c] of await liveAnnouncements(client, COORDINATORS_KEY)) {
      if (c.engine === engine || told.has(id)) continue;
      told.add(id);
      log(
        `worker ${me}: refusing the jobs of coordinator ${id}: it runs rbflex ${c.rbflex} (engine ${c.engine}), this worker rbflex ${version} (engine ${engine}); run the same rbflex on coordinator and workers`,
      );
    }
  };
  await tick().catch((e: Error) => onError(e));
  const announcer = setInterval(() => void tick().catch((e: Error) => onError(e)), ANNOUNCE_EVERY_MS);
  log(`worker ${me}: rbflex ${version} (engine ${engine}), ${threads} scoring thread(s), ${concurrency} job(s) at a time, queue ${queueName(engine)} at ${target.shown}`);

  let signals = 0;
  let onSignal: (s: string) => void = () => {};
  const handler = (s: NodeJS.Signals) => {
    signals++;
    onSignal(s);
  };
  if (!o.stop || !o.release) {
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  }
  const stop = o.stop ?? new Promise<string>((resolve) => (onSignal = (s) => resolve(s)));
  const why = await stop;
  stopping = true;
  const notStarted = waiting.splice(0);
  log(
    `worker ${me}: ${typeof why === 'string' ? why : 'stop'}: ${active.size > 0 ? `finishing ${active.size} current job(s), then stopping (a second signal puts them back in the queue)` : 'no job in progress, stopping'}${notStarted.length > 0 ? `; ${notStarted.length} fetched job(s) not started go back to the queue` : ''}`,
  );
  for (const w of notStarted) w.release();
  clearInterval(announcer);
  const within = <T>(p: Promise<T>, ms: number) => Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
  await within(client.hdel(WORKERS_KEY, me), 2000);
  const releaseAll = (why: string) => {
    if (releasing) return;
    releasing = true;
    log(`worker ${me}: ${why}: ${active.size > 0 ? `putting ${active.size} job(s) back in the queue` : 'no job left to put back'}`);
    for (const a of active.values()) a.release();
  };
  const grace = setTimeout(() => releaseAll('grace time over'), o.graceMs ?? 25_000);
  if (o.release) void o.release.then(() => releaseAll('release'));
  else {
    onSignal = (s) => releaseAll(`second ${s}`);
    if (signals > 1) releaseAll('second signal');
  }
  // without Redis no job can be finished or released: stop at once (their locks expire, others take them)
  const up = () => client.status === 'ready';
  let closed = false;
  const closing = worker.close(!up()).then(() => (closed = true));
  while (!closed && up()) await within(closing, 1000);
  if (!closed) {
    log(`worker ${me}: Redis at ${target.shown} is unreachable: stopping without finishing or releasing ${active.size} job(s) (their locks expire and other workers take them)`);
    await within(worker.close(true), 5000);
  }
  clearTimeout(grace);
  // the networks in flight of released jobs end before their threads (ending one inside onnxruntime aborts the process)
  await Promise.all([...pools.values()].map((e) => e.pool.stop()));
  if (up()) await within(client.quit(), 2000);
  client.disconnect();
  process.off('SIGTERM', handler);
  process.off('SIGINT', handler);
  log(`worker ${me}: stopped`);
}
