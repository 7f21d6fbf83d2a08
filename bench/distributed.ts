/**
 * Queue overhead of distributed scoring: networks/s of one local process (worker threads on all
 * cores) against a coordinator with one worker process (all cores) and with two worker processes
 * (one core each), on the same machine, same architectures, a fresh Redis state per run.
 *
 *   node dist/bench/distributed.js [--archs 150] [--runs 3] [--chunk 50]
 *
 * Needs redis-server. Prints the median of --runs and the ratios; asserts nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadImages } from '../src/data/index.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const arg = (k: string, d: number) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--archs', 150);
const RUNS = arg('--runs', 3);
const CHUNK = arg('--chunk', 50);
const CORES = availableParallelism();
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function startRedis(port: number): Promise<ChildProcess> {
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept')) resolve(p);
    });
  });
}

function worker(url: string, threads: number): Promise<ChildProcess> {
  const p = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--workers', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve) => {
    let err = '';
    p.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('scoring thread')) resolve(p);
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  const images = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 1 });
  const archs = new Rng('bench-distributed').sample(nb201.size, N).map((i) => nb201.archAt(i));
  const port = 20000 + Math.floor(Math.random() * 30000);
  const url = `redis://127.0.0.1:${port}`;
  const redis = await startRedis(port);
  const admin = new Redis({ port, host: '127.0.0.1' });
  const run = async (remote: boolean): Promise<number> => {
    await admin.flushall();
    const s = new ScoringSession({ space: 'nb201', images, proxies: ['rbflex', 'naswot'], workers: CORES, ...(remote ? { remote: { url, chunk: CHUNK } } : {}) });
    const t0 = performance.now();
    await s.score(archs);
    const sec = (performance.now() - t0) / 1000;
    await s.close();
    return N / sec;
  };
  const results: Record<string, number> = {};
  try {
    await run(false); // warm-up (engine fingerprint, onnxruntime load)
    const local: number[] = [];
    for (let r = 0; r < RUNS; r++) local.push(await run(false));
    results.local = median(local);
    for (const [label, procs, threads] of [
      ['1 worker process', 1, CORES],
      ['2 worker processes', 2, Math.max(1, Math.floor(CORES / 2))],
    ] as const) {
      const ws = await Promise.all(Array.from({ length: procs }, () => worker(url, threads)));
      const v: number[] = [];
      for (let r = 0; r < RUNS; r++) v.push(await run(true));
      results[label] = median(v);
      for (const w of ws) w.kill('SIGTERM');
    }
  } finally {
    admin.disconnect();
    redis.kill('SIGKILL');
  }
  console.log(`${N} NB201 archs, rbflex+naswot, 3 synthetic images, ${CORES} cores, chunk ${CHUNK}, median of ${RUNS}`);
  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(20)} ${v.toFixed(2)} networks/s  (${(v / results.local!).toFixed(3)} x local; overhead ${((1 - v / results.local!) * 100).toFixed(1)}%)`);
}

void main();
