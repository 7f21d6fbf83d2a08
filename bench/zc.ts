/**
 * Gradient proxies: rbflex against the same definitions in PyTorch (bench/peer/zc_torch.py, Debian
 * /usr/bin/python3 + python3-torch) on the same NB201 architectures and the same 32 CIFAR-10 images.
 * Per proxy: median per-network wall time and process CPU time, one network at a time with 2 threads
 * on both sides (rbflex: onnxruntime intra-op threads; torch: set_num_threads), and the ratios (the CPU
 * ratio is the one to read on a loaded machine: wall time there mostly measures the others); then all the
 * asked proxies together per network (rbflex shares passes; torch: the sum of its per-proxy medians). Then the throughput
 * of every proxy together (forward and gradient) in a ScoringSession with one worker per core, and the
 * full-space estimate (15,625 cells).
 *
 *   node dist/bench/zc.js [--archs 100] [--proxies synflow,snip,grad_norm,fisher,grasp,jacov] [--threads 2]
 *                         [--data PNG] [--no-peer] [--python /usr/bin/python3] [--all-archs 30 (0: skip)]
 *                         [--all-inputs reference|shared (shared: every proxy on RBFleX's 3 images)]
 * Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadImages } from '../src/data/index.js';
import { PROXY_NAMES, type ProxyName, parseProxyList } from '../src/proxies/index.js';
import { Scorer } from '../src/search/scorer.js';
import { ScoringSession } from '../src/search/session.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const args = process.argv.slice(2);
const get = (k: string, d: string): string => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1]! : d;
};
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : NaN;
};

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '..', '..');
  const shared = process.env.RBFLEX_SHARED_DATA ?? join(root, '..', 'shared', 'data');
  const n = Number(get('--archs', '100'));
  const threads = Number(get('--threads', '2'));
  const proxies = parseProxyList(get('--proxies', 'synflow,snip,grad_norm,fisher,grasp,jacov'));
  const data = get('--data', join(shared, 'images', 'cifar10', 'cifar10_batch_0.png'));
  const archs = new Rng('zc-bench').sample(nb201.size, n).map((i) => nb201.archAt(i));
  const images = await loadImages(data, { dataset: 'cifar10', n: 32, seed: '1' });
  const small = await loadImages(data, { dataset: 'cifar10', n: 3, seed: '1' });
  const tmp = mkdtempSync(join(tmpdir(), 'rbflex-zc-'));
  try {
    writeFileSync(join(tmp, 'archs.txt'), archs.join('\n'));
    writeFileSync(join(tmp, 'images.bin'), new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.byteLength));
    console.log(`gradient proxies, ${n} NB201 archs, 32 CIFAR-10 images, one network at a time, ${threads} threads each side`);
    console.log('proxy        rbflex ms/net   torch ms/net   speed-up   rbflex cpu-ms   torch cpu-ms   cpu speed-up');
    const torchCpu = new Map<string, number>();
    const torchMs = new Map<string, number>();
    // the proxies one at a time, then (when several are asked) all of them on each network together:
    // rbflex computes snip, grad_norm, fisher and grasp from one pass, torch runs each proxy's own
    const rows: ProxyName[][] = [...proxies.map((p) => [p]), ...(proxies.length > 1 ? [proxies] : [])];
    for (const row of rows) {
      const p = row.length === 1 ? row[0]! : 'together';
      const scorer = new Scorer({ space: 'nb201', build: { dataset: 'cifar10' }, proxies: row, settings: { gammaK: 1, gammaQ: 1, taps: 'reference' }, backend: 'onnx', seed: '1', threads, proxyInputs: 'reference', data: images }, small);
      for (const a of archs.slice(0, 2)) await scorer.score(a);
      const ours: number[] = [];
      const oursCpu: number[] = [];
      for (const a of archs) {
        const c0 = process.cpuUsage();
        ours.push((await scorer.score(a)).ms);
        const c = process.cpuUsage(c0);
        oursCpu.push((c.user + c.system) / 1000);
      }
      let theirs = NaN;
      let theirsCpu = NaN;
      if (row.length > 1) {
        const known = row.filter((q) => torchCpu.has(q));
        theirs = known.length === row.length ? known.reduce((t, q) => t + torchMs.get(q)!, 0) : NaN;
        theirsCpu = known.length === row.length ? known.reduce((t, q) => t + torchCpu.get(q)!, 0) : NaN;
      } else if (!args.includes('--no-peer') && p !== 'logsynflow') {
        const r = spawnSync(get('--python', '/usr/bin/python3'), [join(root, 'bench', 'peer', 'zc_torch.py'), '--archs', join(tmp, 'archs.txt'), '--images', join(tmp, 'images.bin'), '--shape', '32,3,32,32', '--proxy', p, '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 26 });
        if (r.status === 0) {
          const j = JSON.parse(r.stdout) as { ms: number[]; cpu_ms: number[] };
          theirs = median(j.ms);
          theirsCpu = median(j.cpu_ms);
          torchMs.set(p, theirs);
          torchCpu.set(p, theirsCpu);
        }
        else process.stderr.write(`torch peer failed for ${p}: ${r.stderr.split('\n').slice(-3).join(' ')}\n`);
      }
      const o = median(ours);
      const oc = median(oursCpu);
      if (row.length > 1) console.log(`together = ${row.join(', ')} on each network (torch: the sum of its per-proxy medians)`);
      console.log(`${p.padEnd(12)} ${o.toFixed(1).padStart(13)} ${theirs.toFixed(1).padStart(14)} ${(theirs / o).toFixed(2).padStart(9)}x ${oc.toFixed(1).padStart(15)} ${theirsCpu.toFixed(1).padStart(14)} ${(theirsCpu / oc).toFixed(2).padStart(13)}x`);
    }
    // every proxy at once, one worker per core: throughput and the full-space estimate
    const allN = Number(get('--all-archs', '30'));
    if (allN <= 0) return;
    const all: ProxyName[] = [...PROXY_NAMES];
    // --all-inputs shared: like for like, every proxy on RBFleX's 3 images (reference: each at its own settings)
    const mode = get('--all-inputs', 'reference') === 'shared' ? 'shared' : 'reference';
    const session = new ScoringSession({ space: 'nb201', build: { dataset: 'cifar10' }, images: small, data: images, proxies: all, seed: '1', proxyInputs: mode });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await session.score(archs.slice(0, allN));
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    await session.close();
    const cpuPerNet = (c.user + c.system) / 1e6 / allN;
    console.log(`all ${all.length} proxies (${all.join(', ')}), --proxy-inputs ${mode}: ${allN} networks in ${s.toFixed(1)} s = ${(allN / s).toFixed(2)} networks/s, ${(cpuPerNet * 1000).toFixed(0)} cpu-ms per network; full NB201 (15,625) estimate ${((15625 / (allN / s)) / 60).toFixed(0)} min at this wall rate, ${((15625 * cpuPerNet) / 2 / 60).toFixed(0)} min of CPU on 2 cores`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
