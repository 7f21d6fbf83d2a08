/**
 * Throughput benchmark: RBFleX candidates per second on NAS-Bench-201 (batch 3, CIFAR-10,
 * fixed reference gammas), ours (ScoringSession, onnx backend, worker threads) against an
 * independent PyTorch implementation of the same definition (bench/peer/rbflex_torch.py,
 * run with Debian's /usr/bin/python3 + python3-torch) on the same machine and architectures;
 * plus a fidelity check: identical weights and images give the same scores on both sides.
 *
 *   npm run bench
 *   node dist/bench/run.js [--archs 200] [--runs 3] [--threads N] [--fidelity 20]
 *                          [--data PNG] [--no-peer] [--no-ref-pattern] [--no-peer-procs] [--python /usr/bin/python3]
 *
 * Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadImages } from '../src/data/index.js';
import type { ImageBatch } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { REDUCE_MODES, type ReduceMode, weightSeed } from '../src/search/scorer.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

// ---------------------------------------------------------------------------------------------
// options

interface Opts {
  archs: number;
  runs: number;
  threads: number;
  fidelity: number;
  data: string;
  peer: boolean;
  refPattern: boolean;
  peerProcs: boolean;
  python: string;
  seed: string;
  /** our scoring paths to time (ScorerConfig.reduce) */
  paths: ReduceMode[];
}

/** the package root: dist/bench/run.js -> ../..; bench/run.ts (ts-node style) -> .. */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  throw new Error('bench: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
}

const ROOT = packageRoot();

function parseOpts(argv: string[]): Opts {
  const o: Opts = {
    archs: 200,
    runs: 3,
    threads: availableParallelism(),
    fidelity: 20,
    data: resolve(ROOT, '..', 'shared', 'data', 'images', 'cifar10', 'cifar10_batch_0.png'),
    peer: true,
    refPattern: true,
    peerProcs: true,
    python: '/usr/bin/python3',
    seed: '1',
    paths: ['graph', 'host'],
  };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) {
      console.error(`bench: ${flag} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--archs':
        o.archs = num(a, argv[++i], 1);
        break;
      case '--runs':
        o.runs = num(a, argv[++i], 1);
        break;
      case '--threads':
        o.threads = num(a, argv[++i], 1);
        break;
      case '--fidelity':
        o.fidelity = num(a, argv[++i], 0);
        break;
      case '--data':
        o.data = resolve(argv[++i] ?? '');
        break;
      case '--python':
        o.python = argv[++i] ?? o.python;
        break;
      case '--seed':
        o.seed = argv[++i] ?? o.seed;
        break;
      case '--paths': {
        const ps = (argv[++i] ?? '').split(',').filter(Boolean);
        if (ps.length === 0 || ps.some((p) => !(REDUCE_MODES as readonly string[]).includes(p))) {
          console.error(`bench: --paths takes a list of ${REDUCE_MODES.join(', ')}`);
          process.exit(2);
        }
        o.paths = ps as ReduceMode[];
        break;
      }
      case '--no-peer':
        o.peer = false;
        break;
      case '--no-ref-pattern':
        o.refPattern = false;
        break;
      case '--no-peer-procs':
        o.peerProcs = false;
        break;
      case '-h':
      case '--help':
        console.log(
          'usage: node dist/bench/run.js [--archs 200] [--runs 3] [--threads N] [--fidelity 20] [--data PNG]\n' +
            '                              [--no-peer] [--no-ref-pattern] [--no-peer-procs] [--python /usr/bin/python3] [--seed 1]\n' +
            '                              [--paths graph,host]   (our scoring paths: in-graph reduction in a shared skeleton session, float64 host path)',
        );
        process.exit(0);
      default:
        console.error(`bench: unknown flag ${a} (try --help)`);
        process.exit(2);
    }
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// images

/** n CIFAR-10 images through the project's loader; seeded Gaussian images when the sprite is absent. */
async function benchImages(o: Opts, n: number): Promise<{ images: ImageBatch; how: string }> {
  if (existsSync(o.data)) {
    const images = await loadImages(o.data, { dataset: 'cifar10', n, seed: o.seed });
    return { images, how: `${n} CIFAR-10 images from ${o.data} via loadImages (seed ${o.seed})` };
  }
  const images = await loadImages('synthetic', { dataset: 'cifar10', n, seed: o.seed });
  return { images, how: `${n} seeded synthetic images (${o.data} not found: NOT real CIFAR-10)` };
}

// ---------------------------------------------------------------------------------------------
// helpers

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: m, min: s[0]!, max: s[s.length - 1]! };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);


function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((res) => {
    const t0 = performance.now();
    let stdout = '';
    let stderr = '';
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      res({ code: -1, stdout, stderr: (e as Error).message, ms: 0 });
      return;
    }
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => res({ code: -1, stdout, stderr: stderr + e.message, ms: performance.now() - t0 }));
    child.on('close', (code) => res({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

function lastJson<T>(stdout: string): T {
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1]!.trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

function writeF32(path: string, a: Float32Array): void {
  // the peer reads little-endian float32; Node's typed arrays use the host order
  const buf = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) buf.swap32();
  writeFileSync(path, buf);
}

// ---------------------------------------------------------------------------------------------
// ours

interface OursRun {
  loopMs: number;
  startMs: number;
  /** CPU seconds of this process (all threads) during the timed loop */
  cpuS: number;
  scores: Map<string, number>;
}

interface Side {
  rate: number[];
  wallRate: number[];
  cpuMs: number[];
  /** share of the machine other processes used during each run */
  load: number[];
}

/** a run is "quiet" when other processes used less than this share of the machine */
const QUIET = 0.15;

const newSide = (): Side => ({ rate: [], wallRate: [], cpuMs: [], load: [] });

function record(sd: Side, n: number, loopS: number, cpuS: number, wallS: number, load: number): void {
  sd.rate.push(n / loopS);
  sd.wallRate.push(n / wallS);
  sd.cpuMs.push((1000 * cpuS) / n);
  sd.load.push(load);
}

const pct = (x: number) => `${Math.round(100 * x)}%`;

/** busy CPU seconds of the whole machine so far (/proc/stat; 0 where unavailable) */
function machineBusy(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return (total - idle) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function runOurs(o: Opts, images: ImageBatch, archs: string[], warmup: string[], reduce: ReduceMode): Promise<OursRun> {
  const t0 = performance.now();
  const session = new ScoringSession({
    space: 'nb201',
    build: { dataset: 'cifar10' },
    images,
    seed: o.seed,
    proxies: ['rbflex'],
    gammaK: REFERENCE_GAMMAS.gammaK,
    gammaQ: REFERENCE_GAMMAS.gammaQ,
    backend: 'onnx',
    reduce,
    workers: o.threads,
    cachePath: undefined,
  });
  try {
    await session.score(warmup); // starts the workers and loads onnxruntime in each
    const t1 = performance.now();
    const c1 = cpuSeconds();
    const res = await session.score(archs);
    const t2 = performance.now();
    const c2 = cpuSeconds();
    const scores = new Map<string, number>();
    for (const a of archs) scores.set(a, res.get(a)!.scores.rbflex!);
    return { loopMs: t2 - t1, startMs: t1 - t0, cpuS: c2 - c1, scores };
  } finally {
    await session.close();
  }
}

// ---------------------------------------------------------------------------------------------
// peer

interface PeerSpeed {
  torch: string;
  threads: number;
  variant: string;
  networks: number;
  loop_s: number;
  cpu_s: number;
  /** CPU seconds of the whole peer process (imports included) */
  process_cpu_s: number;
  /** time.time() at the start and end of the timed loop */
  loop_start: number;
  loop_end: number;
  /** seconds spent waiting for --start-at */
  waited_s: number;
  finite: number;
}

class Peer {
  readonly script = join(ROOT, 'bench', 'peer', 'rbflex_torch.py');
  constructor(readonly python: string) {}

  async info(threads: number): Promise<{ torch: string; python: string; threads: number } | string> {
    if (!existsSync(this.python)) return `${this.python} not found`;
    if (!existsSync(this.script)) return `${this.script} not found`;
    const r = await run(this.python, [this.script, 'info', '--threads', String(threads)]);
    if (r.code !== 0) return `${this.python} cannot run the peer (is python3-torch installed?): ${r.stderr.trim().split('\n').pop()}`;
    return lastJson(r.stdout);
  }

  async speed(
    dir: string,
    threads: number,
    variant: string,
    seed: string,
    warmup: number,
    archsFile = 'archs.txt',
    startAt = 0,
  ): Promise<PeerSpeed & { wallMs: number }> {
    const seedInt = Number.isInteger(Number(seed)) ? seed : '1';
    const r = await run(this.python, [
      this.script,
      'speed',
      '--archs',
      join(dir, archsFile),
      '--images',
      join(dir, 'images.bin'),
      '--shape',
      readFileSync(join(dir, 'shape.txt'), 'utf8').trim(),
      '--threads',
      String(threads),
      '--variant',
      variant,
      '--seed',
      seedInt,
      '--warmup',
      String(warmup),
      '--start-at',
      String(startAt),
    ]);
    if (r.code !== 0) throw new Error(`peer speed (${variant}) failed (exit ${r.code}): ${r.stderr.trim()}`);
    return { ...lastJson<PeerSpeed>(r.stdout), wallMs: r.ms };
  }

  /**
   * `procs` single-threaded peer processes, archs split round-robin, timed loops started together
   * (each waits after its warm-up until a common start time): data-parallel like our worker pool.
   */
  async speedProcs(dir: string, procs: number, archs: string[], warmupArch: string, seed: string): Promise<PeerSpeed & { wallMs: number }> {
    for (let k = 0; k < procs; k++) {
      const part = archs.filter((_, i) => i % procs === k);
      writeFileSync(join(dir, `archs-p${k}.txt`), [warmupArch, ...part].join('\n') + '\n');
    }
    const startAt = Date.now() / 1000 + 6; // python + torch import and one warm-up net take ~1-2 s
    const t0 = performance.now();
    const parts = await Promise.all(
      Array.from({ length: procs }, (_, k) => this.speed(dir, 1, 'efficient', seed, 1, `archs-p${k}.txt`, startAt)),
    );
    const wallMs = performance.now() - t0;
    const late = parts.filter((p) => p.loop_start > startAt + 0.05).length;
    if (late) console.log(`  (${late} peer process(es) started their loop late: start-up took over 6 s)`);
    const start = Math.min(...parts.map((p) => p.loop_start));
    const end = Math.max(...parts.map((p) => p.loop_end));
    return {
      ...parts[0]!,
      threads: 1,
      variant: `efficient x${procs} procs`,
      networks: parts.reduce((a, p) => a + p.networks, 0),
      loop_s: end - start,
      cpu_s: parts.reduce((a, p) => a + p.cpu_s, 0),
      process_cpu_s: parts.reduce((a, p) => a + p.process_cpu_s, 0),
      finite: parts.reduce((a, p) => a + p.finite, 0),
      // the processes ran in parallel: their wall time less the common wait for the start signal
      wallMs: wallMs - 1000 * Math.min(...parts.map((p) => p.waited_s)),
    };
  }

  async scores(manifest: string, threads: number): Promise<Record<string, number | null>> {
    const r = await run(this.python, [this.script, 'scores', '--manifest', manifest, '--threads', String(threads)]);
    if (r.code !== 0) throw new Error(`peer scores failed (exit ${r.code}): ${r.stderr.trim()}`);
    return lastJson<{ scores: Record<string, number | null> }>(r.stdout).scores;
  }
}

/** Our weights for each arch (model.parameters() order) and the images, for the peer's scores mode. */
function writeFidelityInputs(dir: string, archs: string[], images: ImageBatch, seed: string): string {
  writeF32(join(dir, 'fid-images.bin'), images.data);
  const nets = archs.map((arch, k) => {
    const canonical = nb201.parse(arch);
    const g = nb201.build(canonical, { dataset: 'cifar10' });
    const w = initWeights(g, weightSeed(seed, 'nb201', canonical));
    const total = w.specs.reduce((a, s) => a + s.size, 0);
    const flat = new Float32Array(total);
    let off = 0;
    for (const s of w.specs) {
      const arr = w.byNode.get(s.node)?.[s.role];
      if (!arr || arr.length !== s.size) throw new Error(`bench: no ${s.role} of node ${s.node} in the weights of ${arch}`);
      flat.set(arr, off);
      off += s.size;
    }
    const file = `w${k}.bin`;
    writeF32(join(dir, file), flat);
    return { arch: canonical, file, shapes: w.specs.map((s) => s.shape) };
  });
  const manifest = join(dir, 'fidelity.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      images: { file: 'fid-images.bin', shape: [images.n, images.c, images.h, images.w] },
      classes: 10,
      gammaK: REFERENCE_GAMMAS.gammaK,
      gammaQ: REFERENCE_GAMMAS.gammaQ,
      nets,
    }),
  );
  return manifest;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOpts(process.argv.slice(2));
  const N = 3;
  console.log('RBFleX throughput benchmark: NAS-Bench-201, CIFAR-10 classifier, batch 3, fixed reference gammas');
  console.log(`machine: ${cpuModel()}, ${availableParallelism()} cores; node ${process.version}`);

  const picks = new Rng('bench').sample(nb201.size, o.archs + o.threads);
  const archs = picks.slice(0, o.archs).map((i) => nb201.archAt(i));
  const warmup = picks.slice(o.archs).map((i) => nb201.archAt(i)); // one per worker, not timed
  const { images, how } = await benchImages(o, N);
  console.log(`archs: ${archs.length} sampled with Rng('bench') from 15,625 (+${warmup.length} untimed warm-up)`);
  console.log(`images: ${how}`);
  console.log(`threads: ours ${o.threads} worker thread(s) x 1 onnxruntime thread; peer torch.set_num_threads(${o.threads})`);

  const peer = new Peer(o.python);
  let peerOk = false;
  if (o.peer) {
    const info = await peer.info(o.threads);
    if (typeof info === 'string') console.log(`peer: UNAVAILABLE (${info}); timing ours only`);
    else {
      peerOk = true;
      console.log(`peer: ${o.python} (python ${info.python}), torch ${info.torch}, ${info.threads} thread(s)`);
    }
  } else console.log('peer: skipped (--no-peer)');

  const dir = mkdtempSync(join(tmpdir(), 'rbflex-bench-'));
  try {
    writeFileSync(join(dir, 'archs.txt'), [...warmup.slice(0, 1), ...archs].join('\n') + '\n');
    writeF32(join(dir, 'images.bin'), images.data);
    writeFileSync(join(dir, 'shape.txt'), [images.n, images.c, images.h, images.w].join(','));

    // -- timing: runs interleaved (ours, torch efficient[, torch reference]) so that load from
    //    other processes on the machine falls on both sides alike; CPU time and that load are
    //    recorded for every run
    const variants = peerOk
      ? ['efficient', ...(o.peerProcs && o.threads > 1 ? ['procs'] : []), ...(o.refPattern ? ['reference'] : [])]
      : [];
    const cores = availableParallelism();
    console.log(`\ntiming ${o.runs} interleaved round(s) of: ours${variants.map((v) => `, torch ${v}`).join('')}`);
    console.log(`timing ours on path(s): ${o.paths.join(', ')}`);
    console.log('  ours (graph)    = ScoringSession, onnx backend, worker threads, one shared skeleton session per worker, taps reduced in the graph (--reduce graph)');
    console.log('  ours (host)     = ScoringSession, onnx backend, worker threads, one session per network, raw taps reduced in float64 on the host (the default)');
    if (variants.includes('efficient')) console.log('  torch efficient = hook outputs into a list, one cat per image, direct squared differences');
    if (variants.includes('procs'))
      console.log(`  torch procs     = the efficient code in ${o.threads} processes x 1 torch thread, archs split round-robin, loops started together`);
    if (variants.includes('reference'))
      console.log("  torch reference = the reference script's own pattern: cat in every hook, an extra forward to measure lengths, |a|^2+|b|^2-2ab kernel");
    console.log(`  "other load" = CPU used meanwhile by processes other than the one being timed, as a share of the machine's ${cores} cores;`);
    console.log(`  a run is "quiet" when it is under ${Math.round(QUIET * 100)}%`);
    const oursBy: Record<string, OursRun[]> = {};
    const sides: Record<string, Side> = {};
    for (const p of o.paths) {
      sides[`ours (${p})`] = newSide();
      oursBy[p] = [];
    }
    for (const v of variants) sides[`torch ${v}`] = newSide();
    for (let r = 0; r < o.runs; r++) {
      console.log(`round ${r + 1}:`);
      for (const path of o.paths) {
        const m0 = machineBusy();
        const c0 = cpuSeconds();
        const x = await runOurs(o, images, archs, warmup, path);
        const load = Math.max(0, machineBusy() - m0 - (cpuSeconds() - c0)) / (cores * ((x.loopMs + x.startMs) / 1000));
        oursBy[path]!.push(x);
        record(sides[`ours (${path})`]!, archs.length, x.loopMs / 1000, x.cpuS, (x.loopMs + x.startMs) / 1000, load);
        console.log(
          `  ours (${path.padEnd(5)})   : ${f2(x.loopMs / 1000)} s for ${archs.length} nets = ${f2((archs.length * 1000) / x.loopMs)} cand/s, ${f1((1000 * x.cpuS) / archs.length)} cpu-ms/net; start-up + warm-up ${f2(x.startMs / 1000)} s; other load ${pct(load)}`,
        );
      }
      for (const v of variants) {
        const m0 = machineBusy();
        const p = v === 'procs' ? await peer.speedProcs(dir, o.threads, archs, warmup[0]!, o.seed) : await peer.speed(dir, o.threads, v, o.seed, 1);
        const load = Math.max(0, machineBusy() - m0 - p.process_cpu_s) / (cores * (p.wallMs / 1000));
        if (p.networks !== archs.length) throw new Error(`peer timed ${p.networks} nets, expected ${archs.length}`);
        record(sides[`torch ${v}`]!, p.networks, p.loop_s, p.cpu_s, p.wallMs / 1000, load);
        console.log(
          `  torch ${v.padEnd(9)}: ${f2(p.loop_s)} s for ${p.networks} nets = ${f2(p.networks / p.loop_s)} cand/s, ${f1((1000 * p.cpu_s) / p.networks)} cpu-ms/net; process wall ${f2(p.wallMs / 1000)} s (python/torch start-up, 1 warm-up net${v === 'procs' ? ' per process' : ''}); other load ${pct(load)}`,
        );
      }
    }
    for (const path of o.paths) {
      const runs = oursBy[path]!;
      const first = runs[0]!.scores;
      const nonFinite = [...first.values()].filter((v) => !Number.isFinite(v)).length;
      const repeatable = runs.every((x) => archs.every((a) => Object.is(x.scores.get(a), first.get(a))));
      console.log(`our scores (${path}): ${archs.length - nonFinite} finite, ${nonFinite} -Infinity; bit-identical across runs: ${repeatable ? 'yes' : 'NO'}`);
    }
    if (oursBy.graph && oursBy.host) {
      const g = oursBy.graph[0]!.scores;
      const h = oursBy.host[0]!.scores;
      let gap = 0;
      for (const a of archs) if (Number.isFinite(g.get(a)!) && Number.isFinite(h.get(a)!)) gap = Math.max(gap, Math.abs(g.get(a)! - h.get(a)!));
      console.log(`max |graph - host| over these archs: ${gap.toExponential(3)} (host = onnxruntime level 'all'; see bench/README.md)`);
    }
    const s0 = (oursBy[o.paths[0]!] ?? [])[0]!.scores;

    // -- summary
    const med = (xs: number[]) => stats(xs).median;
    const quiet = (sd: Side, xs: number[]) => xs.filter((_, i) => sd.load[i]! < QUIET);
    const allQuiet = Object.values(sides).every((sd) => sd.load.every((l) => l < QUIET));
    const someQuiet = Object.values(sides).every((sd) => sd.load.some((l) => l < QUIET));
    const summary = (title: string, pick: (sd: Side) => number[], unit: string, ratio: 'ours/peer' | 'peer/ours', fmt = f2) => {
      console.log(`\n== ${title} ==`);
      const sets: [string, (sd: Side, xs: number[]) => number[]][] = [['all runs', (_sd, xs) => xs]];
      if (!allQuiet && someQuiet) sets.push(['quiet runs only', quiet]);
      for (const [label, filter] of sets) {
        if (sets.length > 1) console.log(`${label}:`);
        for (const [k, sd] of Object.entries(sides)) {
          const xs = filter(sd, pick(sd));
          const st = stats(xs);
          console.log(`  ${k.padEnd(15)}: median ${fmt(st.median)} ${unit} (min ${fmt(st.min)}, max ${fmt(st.max)}; ${xs.length} run(s))`);
        }
        for (const path of o.paths) {
          const us = `ours (${path})`;
          for (const v of variants) {
            const a = med(filter(sides[us]!, pick(sides[us]!)));
            const b = med(filter(sides[`torch ${v}`]!, pick(sides[`torch ${v}`]!)));
            console.log(`  ratio ${ratio === 'ours/peer' ? `${us} / torch ${v}` : `torch ${v} / ${us}`}: ${f2(ratio === 'ours/peer' ? a / b : b / a)}x (medians)`);
          }
        }
        if (o.paths.includes('graph') && o.paths.includes('host')) {
          const a = med(filter(sides['ours (graph)']!, pick(sides['ours (graph)']!)));
          const b = med(filter(sides['ours (host)']!, pick(sides['ours (host)']!)));
          console.log(`  ratio ${ratio === 'ours/peer' ? 'graph / host' : 'host / graph'}: ${f2(ratio === 'ours/peer' ? a / b : b / a)}x (medians)`);
        }
      }
    };
    if (!allQuiet) {
      console.log(
        `\nNOTE: other processes loaded the machine during some runs (see "other load"); ${someQuiet ? 'medians over the quiet runs are shown too' : 'no side has a quiet run: figures are pessimistic and noisy'}.`,
      );
    }
    summary('throughput, scoring loop (start-up excluded)', (sd) => sd.rate, 'cand/s', 'ours/peer');
    summary('CPU time per candidate (all threads of the timed process)', (sd) => sd.cpuMs, 'cpu-ms', 'peer/ours', f1);
    summary('throughput including start-up (process / worker start, warm-up nets)', (sd) => sd.wallRate, 'cand/s', 'ours/peer');

    console.log('\n== full NB201 space projection (15,625 archs at the median loop rate) ==');
    for (const [k, sd] of Object.entries(sides)) {
      const q = quiet(sd, sd.rate);
      const extra = !allQuiet && q.length ? `; quiet runs: ${f1(15625 / med(q) / 60)} min` : '';
      console.log(`${k.padEnd(15)}: ${f1(15625 / med(sd.rate) / 60)} min${extra}`);
    }

    // -- fidelity
    if (peerOk && o.fidelity > 0) {
      const sub = archs.slice(0, Math.min(o.fidelity, archs.length));
      console.log(`\n== fidelity: ${sub.length} archs, our weights and images fed to the torch peer ==`);
      const manifest = writeFidelityInputs(dir, sub, images, o.seed);
      const theirs = await peer.scores(manifest, o.threads);
      let maxDiff = 0;
      let worst = '';
      let mismatchedInf = 0;
      for (const a of sub) {
        const ourV = s0.get(a)!;
        const t = theirs[nb201.parse(a)];
        const theirV = t === null || t === undefined ? -Infinity : t;
        if (!Number.isFinite(ourV) || !Number.isFinite(theirV)) {
          if (ourV !== theirV) mismatchedInf++;
          continue;
        }
        const d = Math.abs(ourV - theirV);
        if (d > maxDiff) {
          maxDiff = d;
          worst = `${a}: ours ${ourV.toFixed(6)}, torch ${theirV.toFixed(6)}`;
        }
      }
      console.log(`max |ours - torch| = ${maxDiff.toExponential(3)}${worst ? ` (at ${worst})` : ''}`);
      if (mismatchedInf) console.log(`${mismatchedInf} arch(s) are -Infinity on one side only`);
      console.log(maxDiff <= 1e-3 && mismatchedInf === 0 ? 'within 1e-3: YES' : 'within 1e-3: NO');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// run when executed directly (not when imported)
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main().catch((e) => {
    console.error(`bench: ${(e as Error).stack ?? e}`);
    process.exit(1);
  });
}
