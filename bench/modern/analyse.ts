/**
 * Correlations of every proxy in measure.ts's JSONL files with a benchmark's accuracies, and
 * of rank ensembles over them. With --search, every member subset of size 2..--max-size is
 * tried (both aggregations) and the best by Kendall are listed: that is the selection step,
 * to be run on NB201 CIFAR-10 only; the chosen set is then reported elsewhere with --ensemble.
 *
 *   node dist/bench/modern/analyse.js --truth nb201:cifar10 a.jsonl b.jsonl [--search] [--max-size 5]
 *        [--ensemble meco,swap,zen] [--exclude ms] [--ci] [--intersect]
 *        [--order nb201:1:1000 --range 0:212] [--pool a,b,c] [--top 15]
 *        [--diff 'meco,zen/log-rank|meco,swap,zen,meco-opt/log-rank'] [--costs meco=90,zen=400,... [--budget-ms 230] [--frontier]]
 *   (--ci: 95 % bootstrap interval of each Kendall; --intersect: only archs present in every file;
 *    --order space:seed:n + --range a:b: only the archs at positions a..b-1 of measure.ts's seeded
 *    sample (a selection part / a held-out part); --pool: the proxies the search may use;
 *    --diff A|B: Kendall(A) − Kendall(B) on the same archs with a 95 % paired bootstrap interval,
 *    each side `members/aggregation` or one proxy; only archs that have every member of both)
 *   A column `az-nas` is added wherever flops and the three az-* components are present (AZ-NAS's
 *   log-rank aggregate over the archs analysed, as the az-nas proxy ranks a scored set).
 *   --truth nb201:<cifar10|cifar100|ImageNet16-120> | sss:<dataset> | transnas:<file.json>
 */
import { readFileSync } from 'node:fs';
import { type Aggregation, AGGREGATIONS, ensembleScores } from '../../src/proxies/ensemble.js';
import { costFrontier, kendallInterval, pairedKendallDifference, searchEnsembles, setCost } from '../../src/proxies/ensemble-select.js';
import { SWAP_REG } from '../../src/proxies/modern.js';
import { swapRegularFactor } from '../../src/proxies/swap.js';
import { kendallTauB, spearman } from '../../src/search/stats.js';
import { getSpace } from '../../src/spaces/index.js';
import { sampleArchs } from '../../src/spaces/types.js';
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
// --order + --range: positions in measure.ts's seeded sample (modern-sample:<seed>)
let inRange = (_a: string): boolean => true;
const order = opt('order');
if (order) {
  const [sp, seed, n] = order.split(':') as [string, string, string];
  const [lo, hi] = (opt('range') ?? `0:${n}`).split(':').map(Number) as [number, number];
  const keep = new Set(sampleArchs(getSpace(sp), new Rng(`modern-sample:${seed}`), Number(n)).slice(lo, hi));
  inRange = (a) => keep.has(a);
}
const AZ_PARTS = ['flops', 'az-expressivity', 'az-progressivity', 'az-trainability'];
/** `members/aggregation` (or one proxy) → the proxies it reads (az-nas reads its parts). */
const parseSide = (side: string): { members: string[]; aggregation: Aggregation } => {
  const [m, agg] = side.split('/') as [string, string | undefined];
  const aggregation = (agg ?? 'log-rank') as Aggregation;
  if (!AGGREGATIONS.includes(aggregation)) throw new Error(`unknown aggregation ${agg} (use ${AGGREGATIONS.join(' or ')})`);
  return { members: m.split(',').filter(Boolean), aggregation };
};
const base = (members: string[]): string[] => members.flatMap((m) => (m === 'az-nas' ? AZ_PARTS : [m]));
const diffSides = opt('diff')?.split('|').map(parseSide);
if (diffSides && diffSides.length !== 2) throw new Error('--diff wants two sides: A|B');
const has = (a: string, keys: string[]): boolean => keys.every((k) => k in rows.get(a)!);
// --intersect: only archs that every file measured (files may cover different prefixes of the sample);
// --diff: only archs that have every proxy both sides read
const allKeys = [...new Set([...rows.values()].flatMap((r) => Object.keys(r)))];
const archs = [...rows.keys()].filter(
  (a) => gt.has(a) && inRange(a) && (!args.includes('--intersect') || has(a, allKeys)) && (!diffSides || has(a, diffSides.flatMap((s) => base(s.members)))),
);
if (archs.length < 3) throw new Error(`only ${archs.length} archs with ground truth and the proxies asked for`);
const acc = archs.map((a) => gt.get(a)!);
const exclude = new Set((opt('exclude') ?? '').split(',').filter(Boolean));
const present = (p: string): boolean => archs.every((a) => p in rows.get(a)!);
const raw = (p: string): number[] => archs.map((a) => rows.get(a)![p]!).map((v) => (Number.isNaN(v) ? -Infinity : v));
// az-nas: its own log-rank aggregate of flops and the three AZ scores over the archs analysed
const azCol = AZ_PARTS.every(present) ? ensembleScores(AZ_PARTS.map(raw), 'log-rank') : undefined;
const col = (p: string): number[] => (p === 'az-nas' ? azCol! : raw(p));
const proxies = [...new Set(archs.flatMap((a) => Object.keys(rows.get(a)!))), ...(azCol ? ['az-nas'] : [])].filter(
  (p) => !exclude.has(p) && (p === 'az-nas' || present(p)),
);
const fmt = (v: number): string => v.toFixed(3);
const withCi = args.includes('--ci');
const ciText = (v: number[]): string => {
  if (!withCi) return '';
  const [lo, hi] = kendallInterval(v, acc);
  return ` [${fmt(lo)}, ${fmt(hi)}]`;
};
const score = (s: { members: string[]; aggregation: Aggregation }): number[] =>
  s.members.length === 1 ? col(s.members[0]!) : ensembleScores(s.members.map(col), s.aggregation);

console.log(`${archs.length} archs with ground truth (${opt('truth')}${order ? `, sample positions ${opt('range') ?? 'all'}` : ''}); proxies: ${proxies.join(', ')}`);
if (diffSides) {
  const [a, b] = diffSides as [ReturnType<typeof parseSide>, ReturnType<typeof parseSide>];
  const d = pairedKendallDifference(score(a), score(b), acc);
  const name = (s: typeof a): string => `${s.members.join(',')}${s.members.length > 1 ? `/${s.aggregation}` : ''}`;
  console.log(`Kendall ${name(a)} = ${fmt(kendallTauB(score(a), acc))}${ciText(score(a))}, ${name(b)} = ${fmt(kendallTauB(score(b), acc))}${ciText(score(b))}`);
  console.log(`difference ${fmt(d.diff)} [${fmt(d.lo)}, ${fmt(d.hi)}] (95 % paired bootstrap, ${archs.length} archs)`);
  process.exit(0);
}
console.log('| proxy | Kendall | Spearman | non-finite |');
console.log('|---|---|---|---|');
for (const p of proxies) {
  const v = col(p);
  console.log(`| ${p} | ${fmt(kendallTauB(v, acc))}${ciText(v)} | ${fmt(spearman(v, acc))} | ${v.filter((x) => !Number.isFinite(x)).length} |`);
}

const ens = opt('ensemble');
if (ens) {
  for (const aggregation of AGGREGATIONS) {
    const e = score({ members: ens.split(','), aggregation });
    console.log(`| ensemble(${ens}) ${aggregation} | ${fmt(kendallTauB(e, acc))}${ciText(e)} | ${fmt(spearman(e, acc))} | |`);
  }
}

if (args.includes('--search')) {
  const poolNames = opt('pool')?.split(',') ?? proxies;
  for (const p of poolNames) if (!proxies.includes(p)) throw new Error(`--pool: ${p} is not measured on all ${archs.length} archs`);
  const all = searchEnsembles(new Map(poolNames.map((p) => [p, col(p)])), acc, { maxSize: Number(opt('max-size') ?? '4') });
  // --costs p=ms,...: CPU ms per network of each pool member (cost.ts, each alone); --budget-ms keeps
  // the sets whose summed cost fits; --frontier prints the cost / Kendall Pareto frontier (singles too)
  const costs = opt('costs') ? new Map(opt('costs')!.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])] as [string, number])) : undefined;
  const budget = opt('budget-ms') !== undefined ? Number(opt('budget-ms')) : undefined;
  if ((budget !== undefined || args.includes('--frontier')) && !costs) throw new Error('--budget-ms and --frontier need --costs p=ms,...');
  const costText = (m: string[]): string => (costs ? ` ${setCost(m, costs).toFixed(0)} ms` : '');
  const results = budget === undefined ? all : all.filter((r) => setCost(r.members, costs!) <= budget);
  const top = Number(opt('top') ?? '15');
  console.log(`\n${all.length} ensembles tried (pool ${poolNames.join(', ')})${budget !== undefined ? `, ${results.length} within ${budget} ms per network` : ''}; best ${top} by Kendall:`);
  for (const r of results.slice(0, top)) console.log(`${fmt(r.kendall)} ${fmt(r.spearman)} ${r.aggregation} ${r.members.join(',')}${costText(r.members)}`);
  if (args.includes('--frontier')) {
    const singles = poolNames.map((p) => ({ members: [p], aggregation: '-', kendall: kendallTauB(col(p), acc), spearman: spearman(col(p), acc) }));
    console.log('\ncost / Kendall frontier (each line beats every cheaper set; cost = sum of members alone):');
    for (const r of costFrontier([...singles, ...all], costs!)) console.log(`${r.cost.toFixed(0)} ms ${fmt(r.kendall)} ${fmt(r.spearman)} ${r.aggregation} ${r.members.join(',')}`);
  }
}
