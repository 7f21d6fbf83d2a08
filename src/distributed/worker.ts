/**
 * `rbflex worker`: takes scoring jobs from the BullMQ queue, scores them on its own worker threads,
 * returns the scores. A malformed job fails alone; a job from another engine version is refused
 * with a message (and retried elsewhere); SIGTERM/SIGINT finish the current jobs, then exit.
 */
import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { ImageBatch } from '../backends/types.js';
import { engineVersion } from '../search/engine.js';
import { ScorePool, defaultWorkers } from '../search/pool.js';
import { QUEUE_NAME, loadStoredImages, rbflexVersion } from './common.js';
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
  log?: (s: string) => void;
  /** resolves to stop the worker (default: SIGTERM or SIGINT) */
  stop?: Promise<unknown>;
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const target = parseRedisUrl(o.url);
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const threads = o.workers ?? defaultWorkers();
  const lockMs = o.lockMs ?? 30_000;
  const me = `${hostname()}:${process.pid}`;
  const engine = await engineVersion();
  const version = rbflexVersion();
  const connection = { ...target.options, maxRetriesPerRequest: null };
  const client = new Redis(connection);
  let lastError = '';
  const onError = (e: Error) => {
    const m = scrub(e.message, target);
    if (m !== lastError) log(`worker ${me}: redis: ${m}`);
    lastError = m;
  };
  client.on('error', onError);
  const images = new Map<string, ImageBatch>();
  let pool: { key: string; pool: ScorePool } | undefined;
  let busy = 0;

  const process_ = async (job: Job): Promise<JobResult> => {
    const t0 = performance.now();
    let d;
    try {
      d = validateJob(job.data);
    } catch (e) {
      log(`worker ${me}: job ${job.id}: ${(e as Error).message}`);
      throw new UnrecoverableError((e as Error).message);
    }
    if (d.engine !== engine) {
      const m = `refused: the job comes from rbflex ${d.rbflex} (engine ${d.engine}), this worker runs rbflex ${version} (engine ${engine}); run the same rbflex on coordinator and workers`;
      log(`worker ${me}: job ${job.id}: ${m}`);
      throw new Error(m);
    }
    let batch = images.get(d.images);
    if (!batch) {
      try {
        batch = await loadStoredImages(client, d.images);
      } catch (e) {
        if (e instanceof JobError) throw new UnrecoverableError(e.message);
        throw e;
      }
      images.clear(); // one batch at a time is what a run uses
      images.set(d.images, batch);
    }
    const key = `${JSON.stringify(d.config)}|${d.images}`;
    if (pool?.key !== key) {
      if (pool && busy === 0) await pool.pool.close();
      pool = { key, pool: new ScorePool(d.config, batch, threads) };
    }
    const p = pool.pool;
    busy++;
    try {
      let done = 0;
      let lastReport = 0;
      const results = await Promise.all(
        d.archs.map(async (a) => {
          const r = await p.score(a);
          done++;
          if (performance.now() - lastReport > 500) {
            lastReport = performance.now();
            void job.updateProgress(done).catch(() => undefined);
          }
          return toWire(r);
        }),
      );
      const ms = performance.now() - t0;
      log(`worker ${me}: job ${job.id}: ${results.length} networks in ${(ms / 1000).toFixed(1)} s (${((results.length * 1000) / ms).toFixed(1)}/s)`);
      return { worker: me, ms, results };
    } finally {
      busy--;
    }
  };

  const worker = new Worker(QUEUE_NAME, process_, {
    connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 10,
  });
  worker.on('error', onError);
  worker.on('failed', (job, e) => {
    if (job && !(e instanceof UnrecoverableError) && !/^refused/.test(e.message) && !/^malformed/.test(e.message)) log(`worker ${me}: job ${job.id} failed: ${scrub(e.message, target)}`);
  });
  await worker.waitUntilReady();
  log(`worker ${me}: rbflex ${version} (engine ${engine}), ${threads} scoring thread(s), ${o.concurrency ?? 1} job(s) at a time, queue ${QUEUE_NAME} at ${target.shown}`);

  const stop =
    o.stop ??
    new Promise<string>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
  const why = await stop;
  log(`worker ${me}: ${typeof why === 'string' ? why : 'stop'}: finishing the current job(s), then stopping`);
  await worker.close();
  await pool?.pool.close();
  await client.quit().catch(() => undefined);
  log(`worker ${me}: stopped`);
}
