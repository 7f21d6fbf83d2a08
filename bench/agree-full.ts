/**
 * In-graph reduction against the float64 host path on the whole NB201 space (or --limit K archs),
 * RBFleX and NASWOT, 3 CIFAR-10 images, seed 1. Both sides run the same skeleton forward (same
 * kernels): the shared skeleton session with in-graph float32 reduction against the same skeleton
 * returning raw taps, reduced in float64 on the host (proxies/rbflex.ts, proxies/naswot.ts).
 * Archs go in a seeded random order and each result is appended to --out (JSONL), so a partial
 * run is a uniform sample and a rerun resumes. `--summary` prints the gaps and discordant pairs.
 * `--ties` rescoring each RBFleX pair the two paths order differently through two other forwards:
 * the float64 reference interpreter and a per-network onnxruntime session (other float32 kernels),
 * both reduced in float64, and counts which order each forward gives: whether such a pair is
 * resolved by the float32 forward at all.
 *
 *   nice -n 10 node dist/bench/agree-full.js --out agree.jsonl [--limit K]
 *   node dist/bench/agree-full.js --out agree.jsonl --summary
 *   node dist/bench/agree-full.js --out agree.jsonl --ties
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { SkeletonSessions } from '../src/backends/onnx/reduced.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { Backend } from '../src/backends/types.js';
import { loadImages } from '../src/data/index.js';
import { initWeights } from '../src/ir/init.js';
import { REFERENCE_GAMMAS, blocksFor } from '../src/proxies/index.js';
import { naswotScore } from '../src/proxies/naswot.js';
import { rbflexScore } from '../src/proxies/rbflex.js';
import { naswotReduced, rbflexReduced } from '../src/proxies/reduced.js';
import { weightSeed } from '../src/search/scorer.js';
import { nb201 } from '../src/spaces/nb201.js';
import { Rng } from '../src/util/rng.js';

const arg = (k: string): string | undefined => {
  const i = process.argv.indexOf(k);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const out = arg('--out') ?? 'agree.jsonl';
interface Row {
  arch: string;
  rbflex: [number, number];
  naswot: [number, number];
}
const done = new Map<string, Row>();
if (existsSync(out)) {
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Row;
      done.set(r.arch, r);
    } catch {
      // a line cut by an interrupted run
    }
  }
}

if (process.argv.includes('--summary')) {
  const rows = [...done.values()];
  const num = (v: number | null): number => (v === null ? -Infinity : v);
  for (const proxy of ['rbflex', 'naswot'] as const) {
    const a = rows.map((r) => num(r[proxy][0] as number | null));
    const b = rows.map((r) => num(r[proxy][1] as number | null));
    let maxGap = 0;
    let infMismatch = 0;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) {
        if (a[i] !== b[i]) infMismatch++;
        continue;
      }
      maxGap = Math.max(maxGap, Math.abs(a[i]! - b[i]!));
    }
    // discordant pairs: pairs ordered one way by the host (float64) scores and the other way by the
    // graph scores. "strict" counts every pair whose host scores differ at all; "resolved" leaves out
    // pairs closer than the path's own resolution (the largest |graph - host| over the space), which
    // float32 cannot order. Sorted by host score, then the n^2 sweep (1.2e8 pairs: seconds).
    const idx = a.map((_, i) => i).sort((i, j) => b[i]! - b[j]! || a[i]! - a[j]!);
    let strict = 0;
    let resolved = 0;
    let maxHostGapDiscordant = 0;
    for (let x = 0; x < idx.length; x++) {
      for (let y = x + 1; y < idx.length; y++) {
        const i = idx[x]!;
        const j = idx[y]!;
        if (b[i] === b[j]) continue;
        if (a[i]! > a[j]!) {
          strict++;
          const gap = Math.abs(b[j]! - b[i]!);
          if (gap > maxGap) resolved++;
          maxHostGapDiscordant = Math.max(maxHostGapDiscordant, gap);
        }
      }
    }
    const pairs = (rows.length * (rows.length - 1)) / 2;
    console.log(
      `${proxy}: ${rows.length} archs (${pairs.toExponential(2)} pairs), max |graph - host| ${maxGap.toExponential(3)}, -Infinity mismatches ${infMismatch}, ` +
        `discordant pairs: ${strict} strict${strict ? ` (largest host gap among them ${maxHostGapDiscordant.toExponential(3)})` : ''}, ` +
        `${resolved} among pairs whose host scores differ by more than the max gap`,
    );
  }
  process.exit(0);
}

const images = await loadImages(arg('--data') ?? '../shared/data/images/cifar10/cifar10_batch_0.png', { dataset: 'cifar10', n: 3, seed: '1' } as never);
const { gammaK, gammaQ } = REFERENCE_GAMMAS;

if (process.argv.includes('--ties')) {
  // the pairs the in-graph path orders against the host path (same skeleton forward)
  const rows = [...done.values()].filter((r) => r.rbflex[0] !== null && r.rbflex[1] !== null);
  rows.sort((p, q) => p.rbflex[1] - q.rbflex[1]);
  const pairs: [Row, Row][] = [];
  for (let x = 0; x < rows.length; x++) {
    for (let y = x + 1; y < rows.length && rows[y]!.rbflex[1] - rows[x]!.rbflex[1] < 1e-3; y++) {
      const lo = rows[x]!;
      const hi = rows[y]!;
      if (hi.rbflex[1] !== lo.rbflex[1] && lo.rbflex[0] > hi.rbflex[0]) pairs.push([lo, hi]);
    }
  }
  const forwards: [string, Backend][] = [
    ['float64 interpreter', new ReferenceBackend()],
    ['per-network onnxruntime', new OnnxBackend({ threads: 1 })],
  ];
  const memo = new Map<string, number[]>();
  const rescore = async (arch: string): Promise<number[]> => {
    const hit = memo.get(arch);
    if (hit) return hit;
    const g = nb201.build(arch);
    const w = initWeights(g, weightSeed('1', 'nb201', arch));
    const s: number[] = [];
    for (const [, b] of forwards) {
      const f = await b.forward(g, w, images, { taps: ['reference'], bn: 'per-image' });
      s.push(rbflexScore(blocksFor(f, 'reference'), [{ data: f.y.data, size: f.y.size, count: 1 }], images.n, gammaK, gammaQ).score);
    }
    memo.set(arch, s);
    return s;
  };
  const agreeHost = forwards.map(() => 0);
  const agreeGraph = forwards.map(() => 0);
  let maxHostGap = 0;
  const maxShift = forwards.map(() => 0);
  for (const [lo, hi] of pairs) {
    const a = await rescore(lo.arch);
    const b = await rescore(hi.arch);
    maxHostGap = Math.max(maxHostGap, hi.rbflex[1] - lo.rbflex[1]);
    forwards.forEach((_, k) => {
      const order = Math.sign(b[k]! - a[k]!);
      if (order === 1) agreeHost[k]!++; // the host path has hi above lo
      if (order === -1) agreeGraph[k]!++; // the in-graph path has lo above hi
      maxShift[k] = Math.max(maxShift[k]!, Math.abs(a[k]! - lo.rbflex[1]), Math.abs(b[k]! - hi.rbflex[1]));
    });
  }
  console.log(`rbflex: ${pairs.length} pairs ordered differently by the in-graph and host reductions (largest host gap ${maxHostGap.toExponential(3)})`);
  forwards.forEach(([name], k) => {
    console.log(
      `  ${name} forward: orders ${agreeHost[k]} as the host reduction, ${agreeGraph[k]} as the in-graph one; ` +
        `its scores are up to ${maxShift[k]!.toExponential(3)} from the skeleton forward's host scores`,
    );
  });
  process.exit(0);
}

const limit = Number(arg('--limit') ?? nb201.size);
const order = new Rng('agree-full').sample(nb201.size, Math.min(limit, nb201.size));
const skel = nb201.skeleton!();
const sessions = new SkeletonSessions({ threads: 1 });
const spec = { distances: ['reference' as const], hamming: ['activations' as const] };
let k = 0;
const t0 = performance.now();
for (const i of order) {
  const arch = nb201.archAt(i);
  if (done.has(arch)) continue;
  const g = nb201.build(arch);
  const w = initWeights(g, weightSeed('1', 'nb201', arch));
  const r = await sessions.forward(skel, arch, g, w, images, spec);
  const f = await sessions.forwardRaw(skel, arch, g, w, images, ['reference', 'activations']);
  const blocks = (mode: 'reference' | 'activations') => blocksFor(f, mode);
  const y = [{ data: f.y.data, size: f.y.size, count: 1 }];
  const row: Row = {
    arch,
    rbflex: [rbflexReduced(r, 'reference', gammaK, gammaQ).score, rbflexScore(blocks('reference'), y, images.n, gammaK, gammaQ).score],
    naswot: [naswotReduced(r, g, 'activations'), naswotScore(blocks('activations'), images.n)],
  };
  appendFileSync(out, JSON.stringify(row, (_k, v) => (v === -Infinity ? null : v)) + '\n');
  if (++k % 200 === 0) console.error(`${done.size + k} / ${order.length} (${((performance.now() - t0) / k).toFixed(0)} ms each)`);
}
await sessions.close();
