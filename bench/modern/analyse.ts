/**
 * Correlations of every proxy in measure.ts's JSONL files with a benchmark's accuracies, and
 * of rank ensembles over them. With --search, every member subset of size 2..--max-size is
 * tried (both aggregations) and the best by Kendall are listed: that is the selection step,
 * to be run on NB201 CIFAR-10 only; the chosen set is then reported elsewhere with --ensemble.
 *
 *   node dist/bench/modern/analyse.js --truth nb201:cifar10 a.jsonl b.jsonl [--search] [--max-size 5]
 *        [--ensemble meco,swap,zen] [--exclude ms] [--ci] [--intersect]
 *   (--ci: 95 % bootstrap interval of each Kendall; --intersect: only archs present in every file)
 *   --truth nb201:<cifar10|cifar100|ImageNet16-120> | sss:<dataset> | transnas:<file.json>
 */
import { readFileSync } from 'node:fs';
import { type Aggregation, AGGREGATIONS, ensembleScores } from '../../src/proxies/ensemble.js';
import { SWAP_REG } from '../../src/proxies/modern.js';
import { swapRegularFactor } from '../../src/proxies/swap.js';
import { kendallTauB, spearman } from '../../src/search/stats.js';
import { Rng } from '../../src/util/rng.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const files = args.filter((a, i) => a.endsWith('.jsonl') && !(args[i - 1] ?? '').startsWith('--'));
const rows = new Map<string, Record<string, number>>();
for (const f of files) {
  for (const line of readFileSync(f, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    const arch = o.arch as string;
    const row = rows.get(arch) ?? {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'arch' || k === 'ms') continue;
      row[k] = typeof v === 'string' ? Number(v) : (v as number);
    }
    // swap-reg = swap x the parameter regulariser (a function of the parameter count alone)
    if (row.swap !== undefined && row.params !== undefined) row['swap-reg'] = row.swap * swapRegularFactor(row.params, SWAP_REG.mu, SWAP_REG.sigma);
    rows.set(arch, row);
  }
}

function truth(spec: string): Map<string, number> {
  const [kind, ds] = spec.split(':') as [string, string];
  const m = new Map<string, number>();
  if (kind === 'nb201') {
    const col = { cifar10: 0, cifar100: 1, 'ImageNet16-120': 2 }[ds]!;
    const lines = readFileSync(new URL('../../../../shared/data/nb201/nats-tss-200ep-test.csv', import.meta.url), 'utf8').trim().split('\n');
    for (const l of lines.slice(1)) {
      const p = l.split(',');
      m.set(p[3]!, Number(p[col]));
    }
  } else if (kind === 'sss') {
    const lines = readFileSync(new URL('../../../../shared/data/sss/nats-sss-90ep-test.csv', import.meta.url), 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const col = head.indexOf(`${ds}-test`);
    for (const l of lines.slice(1)) {
      const p = l.split(',');
      m.set(p[1]!, Number(p[col]));
    }
  } else if (kind === 'transnas') {
    for (const [a, v] of JSON.parse(readFileSync(ds, 'utf8')) as [string, number][]) m.set(a, v);
  } else throw new Error(`unknown truth ${spec}`);
  return m;
}

const gt = truth(opt('truth') ?? 'nb201:cifar10');
// --intersect: only archs that every file measured (files may cover different prefixes of the sample)
const allKeys = new Set([...rows.values()].flatMap((r) => Object.keys(r)));
const archs = [...rows.keys()].filter((a) => gt.has(a) && (!args.includes('--intersect') || [...allKeys].every((k) => k in rows.get(a)!)));
const acc = archs.map((a) => gt.get(a)!);
const exclude = new Set((opt('exclude') ?? '').split(',').filter(Boolean));
const proxies = [...new Set(archs.flatMap((a) => Object.keys(rows.get(a)!)))].filter(
  (p) => !exclude.has(p) && archs.every((a) => p in rows.get(a)!),
);
const col = (p: string): number[] => archs.map((a) => rows.get(a)![p]!).map((v) => (Number.isNaN(v) ? -Infinity : v));
const fmt = (v: number): string => v.toFixed(3);
/** 95 % percentile bootstrap interval of Kendall's tau (seeded resamples of the archs). */
function kendallCi(v: number[], y: number[], reps = 400): [number, number] {
  const rng = new Rng('analyse-bootstrap');
  const ks: number[] = [];
  for (let r = 0; r < reps; r++) {
    const idx = Array.from({ length: v.length }, () => Math.floor(rng.nextFloat24() * v.length));
    ks.push(kendallTauB(idx.map((i) => v[i]!), idx.map((i) => y[i]!)));
  }
  ks.sort((a, b) => a - b);
  return [ks[Math.floor(0.025 * reps)]!, ks[Math.ceil(0.975 * reps) - 1]!];
}
const withCi = args.includes('--ci');
const ciText = (v: number[]): string => {
  if (!withCi) return '';
  const [lo, hi] = kendallCi(v, acc);
  return ` [${fmt(lo)}, ${fmt(hi)}]`;
};

console.log(`${archs.length} archs with ground truth (${opt('truth')}); proxies: ${proxies.join(', ')}`);
console.log('| proxy | Kendall | Spearman | non-finite |');
console.log('|---|---|---|---|');
for (const p of proxies) {
  const v = col(p);
  console.log(`| ${p} | ${fmt(kendallTauB(v, acc))}${ciText(v)} | ${fmt(spearman(v, acc))} | ${v.filter((x) => !Number.isFinite(x)).length} |`);
}

const ens = opt('ensemble');
if (ens) {
  for (const agg of AGGREGATIONS) {
    // an ensemble member may be az-nas: its own log-rank aggregate over flops and the three AZ scores
    const member = (m: string): number[] =>
      m === 'az-nas' ? ensembleScores(['flops', 'az-expressivity', 'az-progressivity', 'az-trainability'].map(col), 'log-rank') : col(m);
    const e = ensembleScores(ens.split(',').map(member), agg);
    console.log(`| ensemble(${ens}) ${agg} | ${fmt(kendallTauB(e, acc))}${ciText(e)} | ${fmt(spearman(e, acc))} | |`);
  }
}

if (args.includes('--search')) {
  const maxSize = Number(opt('max-size') ?? '5');
  const cols = new Map(proxies.map((p) => [p, col(p)]));
  const results: { set: string[]; agg: Aggregation; k: number; s: number }[] = [];
  const rec = (start: number, set: string[]): void => {
    if (set.length >= 2) {
      for (const agg of AGGREGATIONS) {
        const e = ensembleScores(set.map((p) => cols.get(p)!), agg);
        results.push({ set: [...set], agg, k: kendallTauB(e, acc), s: spearman(e, acc) });
      }
    }
    if (set.length === maxSize) return;
    for (let i = start; i < proxies.length; i++) rec(i + 1, [...set, proxies[i]!]);
  };
  rec(0, []);
  results.sort((a, b) => b.k - a.k);
  console.log(`\n${results.length} ensembles tried; best 15 by Kendall:`);
  for (const r of results.slice(0, 15)) console.log(`${fmt(r.k)} ${fmt(r.s)} ${r.agg} ${r.set.join(',')}`);
}
