/**
 * Parallel scoring: one worker thread per core, each with its own Scorer and onnxruntime
 * sessions (one intra-op thread each). With 0 workers, scores in this thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ImageBatch } from '../backends/types.js';
import type { ProxyName } from '../proxies/index.js';
import { type ArchScore, Scorer, type ScorerConfig } from './scorer.js';

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** An error raised inside a worker, rebuilt with its original name and message. */
export class WorkerTaskError extends Error {
  constructor(
    readonly originalName: string,
    message: string,
    readonly originalStack?: string,
  ) {
    super(message);
    this.name = originalName;
  }
}

interface Pending {
  resolve: (r: ArchScore) => void;
  reject: (e: Error) => void;
}

/** Pools with live workers, so an interrupt can let every one of them finish its networks in flight. */
const live = new Set<ScorePool>();

/** For an interrupt (SIGINT/SIGTERM): stop every live pool (see ScorePool.stop). */
export async function stopAllPools(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

export class ScorePool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: { id: number; arch: string; only?: ProxyName[] }[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Map<Worker, number>();
  private readonly local?: Scorer;
  private nextId = 0;
  private closed = false;
  private stopping = false;
  private drained?: () => void;

  constructor(config: ScorerConfig, images: ImageBatch, workers: number) {
    if (workers <= 0) {
      this.local = new Scorer(config, images);
      return;
    }
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 0; i < workers; i++) {
      const w = new Worker(url, { workerData: { config, images } });
      w.on('message', (m: { id: number; result?: ArchScore; error?: { name: string; message: string; stack?: string } }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.busy.delete(w);
        this.idle.push(w);
        // an idle worker does not keep the process alive: a forgotten close() never hangs the program
        w.unref();
        if (this.stopping && this.busy.size === 0) this.drained?.();
        this.pump();
        if (!p) return;
        if (m.error) p.reject(new WorkerTaskError(m.error.name, m.error.message, m.error.stack));
        else p.resolve(m.result!);
      });
      w.on('error', (e) => {
        const id = this.busy.get(w);
        if (id !== undefined) {
          this.pending.get(id)?.reject(e);
          this.pending.delete(id);
        }
        this.failAll(e);
      });
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
    }
    live.add(this);
  }

  get size(): number {
    return this.workers.length;
  }

  /** networks waiting for a free thread */
  get queued(): number {
    return this.queue.length;
  }

  /** scores of one arch: every proxy of the config, or only those listed */
  score(arch: string, only?: readonly ProxyName[]): Promise<ArchScore> {
    if (this.closed) return Promise.reject(new Error('score pool is closed'));
    // stopping for an interrupt: the job is never started and never settles (the process is exiting)
    if (this.stopping) return new Promise<ArchScore>(() => {});
    if (this.local) return this.local.score(arch, only);
    const id = this.nextId++;
    return new Promise<ArchScore>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, arch, ...(only ? { only: [...only] } : {}) });
      this.pump();
    });
  }

  private pump(): void {
    while (!this.stopping && this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.busy.set(w, job.id);
      w.ref();
      w.postMessage(job);
    }
  }

  private failAll(e: Error): void {
    for (const [, p] of this.pending) p.reject(e);
    this.pending.clear();
    this.queue.length = 0;
  }

  /**
   * For an interrupt: start nothing new, let the networks in flight finish (their scores reach the
   * cache), then end the workers. Ending a worker inside onnxruntime aborts the whole process, so
   * this waits up to `timeoutMs` for them. Queued jobs never settle.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    if (this.busy.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    // let the finished networks' continuations (cache writes) run
    await new Promise((r) => setImmediate(r));
    this.closed = true;
    live.delete(this);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  async close(): Promise<void> {
    this.closed = true;
    live.delete(this);
    this.failAll(new Error('score pool closed'));
    await this.local?.close();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
