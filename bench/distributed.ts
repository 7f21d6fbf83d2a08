/**
 * Queue overhead of distributed scoring, on one machine: one local process (worker threads on all
 * cores) against a coordinator with one worker process (all cores) and with two worker processes
 * (half the cores each), same architectures, same cores.
 *
 *   nice -n 10 node dist/bench/distributed.js [--archs 150] [--runs 3] [--chunk 50] [--proxy rbflex,naswot] [--only local,1,2] [--threads]
 *
 * Each round uses its own seed, so job ids never repeat and no Redis state is reused. Rounds are
 * interleaved (local, 1 process, 2 processes, local, ...), so a load change on a shared machine
 * hits every setup alike. Per setup it prints the median of the rounds of:
 *   - wall time, as networks/s and as a ratio to local;
 *   - CPU time (user+system of every process involved: the local process; or coordinator + worker
 *     processes + redis-server), as CPU-ms per network and its ratio to local: the overhead that a
 *     busy shared machine cannot hide;
 *   - the coordinator's own and redis-server's CPU, and how the jobs spread over the worker processes;
 *   - where a worker process's wall time went (from each job's timeline, JobTrace): before its first
 *     job, between jobs, scoring, idle at the end while another still scores, the coordinator's return;
 *   - last line: the overhead of each setup, each round against the local run of the same round
 *     (the closest in time), median over rounds, wall and CPU time.
 * --threads also prints each process's CPU by thread per round (scoring threads, main, V8 helpers).
 * Needs redis-server. Asserts nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadImages } from '../src/data/index.js';
import type { JobTrace } from '../src/distributed/coordinator.js';
import type { ProxyName } from '../src/proxies/index.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1]! : d;
};
const N = Number(arg('--archs', '150'));
const RUNS = Number(arg('--runs', '3'));
const CHUNK = Number(arg('--chunk', '50'));
const PROXIES = arg('--proxy', 'rbflex,naswot').split(',') as ProxyName[];
/** which setups to run (default all): e.g. --only local,2 */
const ONLY = arg('--only', 'local,1,2').split(',');
const CORES = availableParallelism();
/** also print each process's CPU by thread name per round */
const THREADS = process.argv.includes('--threads');
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux) */
const HZ = 100;

/** user+system CPU of a process (all its threads), ms */
function procCpuMs(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / HZ;
}
/** user+system CPU of each thread of a process (main, name#tid: worker threads, V8 helpers, libuv, ...), ms */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = tid === String(pid) ? 'main' : `${s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')).trim()}#${tid}`;
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / HZ);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** per-thread CPU between two snapshots, ms/net, largest first (threads under 0.05 left out) */
function threadLine(a: Map<string, number>, b: Map<string, number>, n: number): string {
  return [...b]
    .map(([k, v]) => [k, (v - (a.get(k) ?? 0)) / n] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

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

interface WorkerProc {
  p: ChildProcess;
  log: () => string;
}

function worker(url: string, threads: number): Promise<WorkerProc> {
  const p = spawn(process.execPath, [CLI, 'worker', '--redis', url, '--workers', String(threads)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve) => {
    p.stderr!.on('data', (d) => {
      err += d;
      if (err.includes('scoring thread')) resolve({ p, log: () => err });
    });
  });
}

/** networks each job line of a worker's log reports, from character `from` on */
const jobNetworks = (log: string, from: number) => [...log.slice(from).matchAll(/: (\d+) networks in/g)].map((m) => Number(m[1]));

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Where a worker process's wall time went, ms, averaged over the worker processes: before its first
 * job started scoring (coordinator connect, images stored, jobs added, job fetched, images and pool
 * ready), between jobs (no job scoring: result back, next job fetched and made ready; a prefetched job
 * hides this), scoring (some job's networks on the threads), idle at the end (others still scoring),
 * and from the last job's end to the coordinator's return.
 */
interface Breakdown {
  start: number;
  between: number;
  scoring: number;
  tail: number;
  /** the coordinator's return after the last job ended anywhere */
  finish: number;
  /** jobs per worker process, and their setup (received -> images and pool ready), ms per job */
  jobs: number;
  setup: number;
  /** of `start`: the coordinator's setup (run start -> first job added), job pick-up (added -> received), first job ready (-> admitted) */
  coord: number;
  pickup: number;
  firstReady: number;
}

function breakdown(traces: JobTrace[], t0: number, t1: number, procs: number): Breakdown | undefined {
  const byWorker = new Map<string, JobTrace[]>();
  for (const t of traces) {
    if (t.received === undefined || t.ready === undefined || t.admitted === undefined || t.scored === undefined) return undefined;
    byWorker.set(t.worker, [...(byWorker.get(t.worker) ?? []), t]);
  }
  const b: Breakdown = { start: 0, between: 0, scoring: 0, tail: 0, finish: 0, jobs: traces.length / procs, setup: 0, coord: 0, pickup: 0, firstReady: 0 };
  const lastEnd = Math.max(...traces.map((t) => t.scored!));
  for (const js of byWorker.values()) {
    js.sort((a, b) => a.admitted! - b.admitted!);
    b.start += js[0]!.admitted! - t0;
    b.coord += js[0]!.added - t0;
    b.pickup += js[0]!.received! - js[0]!.added;
    b.firstReady += js[0]!.admitted! - js[0]!.received!;
    // scoring = the union of [admitted, scored] (a prefetched job starts before the last one ends)
    let end = js[0]!.admitted!;
    for (const j of js) {
      b.setup += j.ready! - j.received!;
      if (j.admitted! > end) b.between += j.admitted! - end;
      b.scoring += Math.max(0, j.scored! - Math.max(j.admitted!, end));
      end = Math.max(end, j.scored!);
    }
    b.tail += lastEnd - end;
  }
  // a worker process that got no job idled all along
  b.tail += (procs - byWorker.size) * (lastEnd - t0);
  for (const k of ['start', 'between', 'scoring', 'tail'] as const) b[k] /= procs;
  for (const k of ['coord', 'pickup', 'firstReady'] as const) b[k] /= byWorker.size;
  b.setup /= Math.max(1, traces.length);
  b.finish = t1 - lastEnd;
  return b;
}

const fmtBreakdown = (b: Breakdown) =>
  `before 1st job ${b.start.toFixed(0)} (coordinator setup ${b.coord.toFixed(0)}, pick-up ${b.pickup.toFixed(0)}, images+pool ${b.firstReady.toFixed(0)}), between jobs ${b.between.toFixed(0)}, scoring ${b.scoring.toFixed(0)}, idle at end ${b.tail.toFixed(0)}, coordinator return ${b.finish.toFixed(0)} ms; ${b.jobs.toFixed(1)} jobs, setup ${b.setup.toFixed(1)} ms/job`;

interface Round {
  ms: number;
  breakdown?: Breakdown;
  rate: number;
  cpuPerNet: number;
  coordCpuPerNet: number;
  redisCpuPerNet: number;
  spread: string;
}

async function main(): Promise<void> {
  const images = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 1 });
  const archs = new Rng('bench-distributed').sample(nb201.size, N).map((i) => nb201.archAt(i));
  const port = 20000 + Math.floor(Math.random() * 30000);
  // each setup on its own Redis database: the idle workers of one setup never see the other's jobs
  const url = (db: number) => `redis://127.0.0.1:${port}/${db}`;
  const redis = await startRedis(port);
  const setups = [
    { label: 'local', procs: 0, threads: CORES, db: 0 },
    { label: '1 worker process', procs: 1, threads: CORES, db: 1 },
    { label: '2 worker processes', procs: 2, threads: Math.max(1, Math.floor(CORES / 2)), db: 2 },
  ];
  setups.splice(0, setups.length, ...setups.filter((s) => ONLY.includes(s.procs === 0 ? 'local' : String(s.procs))));
  if (!setups.some((s) => s.procs === 0)) throw new Error('--only must include local (the reference)');
  const rounds = new Map<string, Round[]>(setups.map((s) => [s.label, []]));
  const pools = new Map<string, WorkerProc[]>();
  try {
    for (const s of setups) if (s.procs > 0) pools.set(s.label, await Promise.all(Array.from({ length: s.procs }, () => worker(url(s.db), s.threads))));
    // worker processes of the other setup idle on a blocking Redis read: they cost nothing measurable
    const run = async (s: (typeof setups)[number], seed: string, measure: boolean) => {
      const ws = pools.get(s.label) ?? [];
      const logFrom = ws.map((w) => w.log().length);
      const traces: JobTrace[] = [];
      const remote = { url: url(s.db), chunk: CHUNK, onJob: (t: JobTrace) => traces.push(t) };
      const session = new ScoringSession({ space: 'nb201', images, proxies: PROXIES, seed, workers: s.threads, ...(s.procs > 0 ? { remote } : {}) });
      const cpu0 = [selfCpuMs(), procCpuMs(redis.pid!), ...ws.map((w) => procCpuMs(w.p.pid!))];
      const threads0 = [process.pid, ...ws.map((w) => w.p.pid!)].map(threadCpuMs);
      const t0 = performance.timeOrigin + performance.now();
      await session.score(archs);
      const t1 = performance.timeOrigin + performance.now();
      const sec = (t1 - t0) / 1000;
      const bd = s.procs > 0 ? breakdown(traces, t0, t1, s.procs) : undefined;
      const cpu1 = [selfCpuMs(), procCpuMs(redis.pid!), ...ws.map((w) => procCpuMs(w.p.pid!))];
      const threads1 = [process.pid, ...ws.map((w) => w.p.pid!)].map(threadCpuMs);
      await session.close();
      const d = cpu1.map((v, i) => v - cpu0[i]!);
      const jobs = ws.map((w, i) => jobNetworks(w.log(), logFrom[i]!));
      const spread = jobs.map((j) => `${j.length} jobs/${j.reduce((a, b) => a + b, 0)} nets`).join(' + ');
      if (measure) {
        const workersCpu = d.slice(2).reduce((a, b) => a + b, 0);
        rounds.get(s.label)!.push({
          ms: t1 - t0,
          ...(bd ? { breakdown: bd } : {}),
          rate: N / sec,
          cpuPerNet: (d[0]! + (s.procs > 0 ? d[1]! + workersCpu : 0)) / N,
          coordCpuPerNet: s.procs > 0 ? d[0]! / N : 0,
          redisCpuPerNet: s.procs > 0 ? d[1]! / N : 0,
          spread,
        });
      }
      const cpuLine = `CPU ms/net: ${s.procs > 0 ? `coordinator ${(d[0]! / N).toFixed(1)}, redis ${(d[1]! / N).toFixed(1)}, workers ${d
        .slice(2)
        .map((v) => (v / N).toFixed(1))
        .join(' + ')}` : `${(d[0]! / N).toFixed(1)}`}`;
      process.stderr.write(`${measure ? '' : 'warm-up '}${s.label} seed ${seed}: ${(N / sec).toFixed(2)}/s (${(t1 - t0).toFixed(0)} ms), ${cpuLine}${spread ? `, ${spread}` : ''}\n`);
      if (bd) process.stderr.write(`  per worker process: ${fmtBreakdown(bd)}\n`);
      if (THREADS) threads1.forEach((t, i) => process.stderr.write(`  CPU ms/net by thread, ${i === 0 ? (s.procs > 0 ? 'coordinator' : 'local process') : `worker ${i}`}: ${threadLine(threads0[i]!, t, N)}\n`));
    };
    for (const s of setups) await run(s, 'warm-up', false);
    for (let r = 0; r < RUNS; r++) for (const s of setups) await run(s, `bench-${r}`, true);
  } finally {
    for (const ws of pools.values()) for (const w of ws) w.p.kill('SIGTERM');
    redis.kill('SIGKILL');
  }
  const local = rounds.get('local')!;
  const lRate = median(local.map((r) => r.rate));
  const lCpu = median(local.map((r) => r.cpuPerNet));
  console.log(`${N} NB201 archs, ${PROXIES.join('+')}, 3 synthetic images, ${CORES} cores, --chunk ${CHUNK}, median of ${RUNS} interleaved rounds`);
  const summary: string[] = [];
  for (const [label, rs] of rounds) {
    const rate = median(rs.map((r) => r.rate));
    const cpu = median(rs.map((r) => r.cpuPerNet));
    const extra =
      label === 'local'
        ? ''
        : `; coordinator ${median(rs.map((r) => r.coordCpuPerNet)).toFixed(1)} CPU-ms/net, redis ${median(rs.map((r) => r.redisCpuPerNet)).toFixed(1)}; jobs: ${rs[rs.length - 1]!.spread}`;
    const bds = rs.map((r) => r.breakdown).filter((b): b is Breakdown => b !== undefined);
    const bdLine = bds.length
      ? `\n${''.padEnd(19)} median per worker process: ${fmtBreakdown(
          Object.fromEntries((['start', 'between', 'scoring', 'tail', 'finish', 'jobs', 'setup', 'coord', 'pickup', 'firstReady'] as const).map((k) => [k, median(bds.map((b) => b[k]))])) as unknown as Breakdown,
        )}; local wall ${median(local.map((r) => r.ms)).toFixed(0)} ms`
      : '';
    console.log(
      `${label.padEnd(19)} wall ${rate.toFixed(2)} networks/s (${(rate / lRate).toFixed(3)} x local, overhead ${((1 - rate / lRate) * 100).toFixed(1)}%)  CPU ${cpu.toFixed(0)} ms/net (${(cpu / lCpu).toFixed(3)} x local)${extra}${bdLine}`,
    );
    if (label !== 'local') {
      // each round's time against the local run of the same round (closest in time), median over rounds
      const paired = rs.map((r, i) => r.ms / local[i]!.ms - 1);
      const pairedCpu = rs.map((r, i) => r.cpuPerNet / local[i]!.cpuPerNet - 1);
      summary.push(`${label}: wall ${(median(paired) * 100).toFixed(1)}% (rounds ${paired.map((p) => (p * 100).toFixed(1)).join(', ')}), CPU ${(median(pairedCpu) * 100).toFixed(1)}%`);
    }
  }
  console.log(`queue overhead (target < 10 %), each round against its own local run, median: ${summary.join('; ')}`);
}

void main();
