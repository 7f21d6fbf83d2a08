/**
 * Where the time of one gradient pass goes: the NB201 cross-entropy fwd+bwd graph (batch 32, weights +
 * output products, as snip / grad_norm / fisher) in onnxruntime with per-node profiling, summed by op type.
 *
 *   node dist/bench/grad-profile.js [--arch '|nor_conv_3x3~0|+...'] [--runs 3] [--threads 1] [--hvp] [--wrt weights,outputProducts,input] [--opt all|extended|basic] [--no-profile]
 * Prints session creation and run times, then ms per op type over the profiled runs.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { emitGradGraph } from '../src/grad/onnx/emit.js';
import { initWeights } from '../src/ir/init.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const args = process.argv.slice(2);
const get = (k: string, d: string): string => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1]! : d;
};

async function main(): Promise<void> {
  const arch = get('--arch', '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|');
  const runs = Number(get('--runs', '3'));
  const threads = Number(get('--threads', '1'));
  const N = 32;
  const g = nb201.build(arch, { dataset: 'cifar10' });
  const w = initWeights(g, 'profile');
  const hvp = args.includes('--hvp');
  const t0 = performance.now();
  const wrtArg = get('--wrt', 'weights,outputProducts').split(',');
  const em = emitGradGraph(g, { n: N, bn: 'batch', objective: 'cross-entropy', wrt: { weights: wrtArg.includes('weights'), outputProducts: wrtArg.includes('outputProducts'), input: wrtArg.includes('input') }, hvp });
  const tEmit = performance.now() - t0;
  const rng = new Rng('profile-x');
  const feeds: Record<string, ort.Tensor> = {};
  const x = new Float32Array(N * 3 * 32 * 32);
  for (let i = 0; i < x.length; i++) x[i] = rng.nextFloat24() * 2 - 1;
  feeds.input = new ort.Tensor('float32', x, [N, 3, 32, 32]);
  const oh = new Float32Array(N * 10);
  for (let i = 0; i < N; i++) oh[i * 10 + (i % 10)] = 1;
  feeds.onehot = new ort.Tensor('float32', oh, [N, 10]);
  for (const p of em.params) {
    const size = p.dims.reduce((a, d) => a * d, 1);
    feeds[p.name] = new ort.Tensor('float32', w.byNode.get(p.node)?.[p.role] ?? new Float32Array(size).fill(p.role === 'weight' ? 1 : 0), p.dims);
    const h = em.hvp.get(p.node);
    if (h && p.role === 'weight') feeds[h.v] = new ort.Tensor('float32', Float32Array.from({ length: size }, () => rng.nextFloat24() - 0.5), p.dims);
  }
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-prof-'));
  const mk = () => ort.InferenceSession.create(em.bytes, { executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: get('--opt', 'all') as 'all', enableProfiling: !args.includes('--no-profile'), enableCpuMemArena: !args.includes('--no-arena'), enableMemPattern: !args.includes('--no-pattern'), profileFilePrefix: join(dir, 'p') });
  // --sessions K: K fresh sessions one after the other, one run each (as one session per network)
  for (let k = 1; k < Number(get('--sessions', '1')); k++) {
    const c = process.cpuUsage();
    const s = await mk();
    await s.run(feeds);
    await s.release();
    const d = process.cpuUsage(c);
    console.log(`rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB; fresh session ${k}: create + 1 run cpu ${((d.user + d.system) / 1000).toFixed(0)} ms (sys ${(d.system / 1000).toFixed(0)})`);
  }
  const c0 = process.cpuUsage();
  const t1 = performance.now();
  const sess = await mk();
  const tCreate = performance.now() - t1;
  const cCreate = process.cpuUsage(c0);
  const times: number[] = [];
  const cpus: number[] = [];
  const sys: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await sess.run(feeds);
    times.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpus.push((d.user + d.system) / 1000);
    sys.push(d.system / 1000);
  }
  console.log(`${arch}: emit ${tEmit.toFixed(0)} ms, session ${tCreate.toFixed(0)} ms wall / ${((cCreate.user + cCreate.system) / 1000).toFixed(0)} ms cpu, runs wall ${times.map((t) => t.toFixed(0)).join(' ')} ms, cpu ${cpus.map((t) => t.toFixed(0)).join(' ')} ms (sys ${sys.map((t) => t.toFixed(0)).join(' ')})`);
  if (args.includes('--no-profile')) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  sess.endProfiling();
  await sess.release();
  const file = join(dir, readdirSync(dir)[0]!);
  const ev = JSON.parse(readFileSync(file, 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  rmSync(dir, { recursive: true, force: true });
  const byOp = new Map<string, { us: number; n: number }>();
  const byNode = new Map<string, number>();
  for (const e of ev) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const op = e.args?.op_name ?? '?';
    const cur = byOp.get(op) ?? { us: 0, n: 0 };
    cur.us += e.dur;
    cur.n++;
    byOp.set(op, cur);
    byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b.us, 0);
  console.log(`op type: ms per run (share), kernels per run; total ${(total / runs / 1000).toFixed(0)} ms per run`);
  for (const [op, v] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, 15)) console.log(`  ${op.padEnd(22)} ${(v.us / runs / 1000).toFixed(1).padStart(8)}  ${((100 * v.us) / total).toFixed(1).padStart(5)}%  ${v.n / runs}`);
  console.log('top nodes:');
  for (const [nm, us] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${nm.padEnd(40)} ${(us / runs / 1000).toFixed(1)}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
