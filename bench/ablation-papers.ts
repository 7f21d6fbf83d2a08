/**
 * Each proxy's NB201 Kendall and Spearman (with 95 % bootstrap intervals) beside its paper's figure,
 * from per-architecture value files: measure.ts / agree-full.ts JSONL rows ({"arch": .., "<proxy>": v
 * or [v, ..]: the first entry is taken; null = -Infinity, a singular kernel}) and `rbflex study --out` scores.csv files. A proxy found in
 * several files is taken from the file with the most architectures. Paper figures (below, with
 * their sources) are what the authors published; the verdict flags ours more than 0.05 below.
 *
 *   node dist/bench/ablation-papers.js --dataset cifar10 a.jsonl b/scores.csv ... [--reps 1000]
 *   --dataset cifar10 | cifar100 | ImageNet16-120 (the NB201 200-epoch test accuracy column)
 *   --naslib zc_nasbench201.json: also correlate NASLib's published values (NAS-Bench-Suite-Zero, the
 *   zero-cost-nas definitions run by NASLib) with the same ground truth, as rows "naslib:<proxy>"
 *   --naswot-csv nb201-v1_0-cifar10-200ep-naswot.csv: also the NASWOT authors' published per-architecture
 *   scores (batch 128), as the row "published:naswot"
 */
import { readFileSync } from 'node:fs';
import { readNaslibZc } from '../src/benchmarks/naslib-zc.js';
import { SWAP_REG } from '../src/proxies/modern.js';
import { swapRegularFactor } from '../src/proxies/swap.js';
import { ensembleScores } from '../src/proxies/ensemble.js';
import { rankValue } from '../src/search/protocol.js';
import { kendallTauB, spearman } from '../src/search/stats.js';
import { RANK_STATS, bootstrapInterval, resamples } from '../src/study/bootstrap.js';

/** A published figure: Kendall and/or Spearman, on which archs, and where it was read. */
export interface PaperFigure {
  kendall?: number;
  spearman?: number;
  /** "full" = all 15,625 archs */
  archs: string;
  source: string;
  /** a definition difference the figure carries (e.g. |rho|) */
  note?: string;
}

const ZC = 'mohsaied/zero-cost-nas notebooks/nasbench201_correlations.ipynb output (Table 1 of the paper): |Spearman| vs test accuracy, one batch of 64 CIFAR images, seed 42';
const SPEC = '../shared/SPEC.md section 5';
/** Per dataset, per proxy. Only figures read from the authors' code, notebooks or the SPEC; none from memory. */
export const PAPER: Record<string, Record<string, PaperFigure>> = {
  cifar10: {
    rbflex: { kendall: 0.534, spearman: 0.722, archs: 'full', source: `${SPEC}: RBFleX N=3, PyTorch reference (the paper reports Kendall 0.569 in its own setting)` },
    naswot: { kendall: 0.608, spearman: 0.793, archs: 'full', source: `${SPEC}: FreeREA's released per-architecture values (batch 128)` },
    synflow: { kendall: 0.571, spearman: 0.769, archs: 'full', source: `${SPEC}: FreeREA's released values; zero-cost-nas notebook |rho| 0.737`, note: 'zero-cost-nas: 0.737' },
    logsynflow: { kendall: 0.63, spearman: 0.826, archs: 'full', source: `${SPEC}: FreeREA's released values` },
    params: { kendall: 0.578, archs: 'full', source: `${SPEC}: "other papers report ... #params 0.578"` },
    grad_norm: { spearman: 0.594, archs: 'full', source: ZC, note: '|rho|' },
    snip: { spearman: 0.596, archs: 'full', source: ZC, note: '|rho|' },
    grasp: { spearman: 0.514, archs: 'full', source: ZC, note: '|rho|' },
    fisher: { spearman: 0.36, archs: 'full', source: ZC, note: '|rho|' },
    jacov: { spearman: 0.731, archs: 'full', source: ZC, note: '|rho|' },
    meco: { spearman: 0.89, archs: 'full', source: 'issue 11 / SPEC ("about 0.89"; MeCo, NeurIPS 2023)' },
    'az-nas': { kendall: 0.741, spearman: 0.913, archs: 'full', source: 'cvlab-yonsei/AZ-NAS NB201/tss_general.ipynb output: Kendall 0.74088, Spearman 0.91271 (CIFAR-10 ori-test, 200 epochs)' },
  },
  cifar100: {
    grad_norm: { spearman: 0.637, archs: 'full', source: ZC, note: '|rho|' },
    snip: { spearman: 0.637, archs: 'full', source: ZC, note: '|rho|' },
    grasp: { spearman: 0.547, archs: 'full', source: ZC, note: '|rho|' },
    fisher: { spearman: 0.385, archs: 'full', source: ZC, note: '|rho|' },
    synflow: { spearman: 0.763, archs: 'full', source: ZC, note: '|rho|' },
    jacov: { spearman: 0.704, archs: 'full', source: ZC, note: '|rho|' },
    'swap-reg': { spearman: 0.9, archs: 'full', source: 'issue 11 ("about 0.90"; SWAP, ICLR 2024)' },
  },
  'ImageNet16-120': {
    grad_norm: { spearman: 0.578, archs: 'full', source: ZC, note: '|rho|' },
    snip: { spearman: 0.578, archs: 'full', source: ZC, note: '|rho|' },
    grasp: { spearman: 0.549, archs: 'full', source: ZC, note: '|rho|' },
    fisher: { spearman: 0.327, archs: 'full', source: ZC, note: '|rho|' },
    synflow: { spearman: 0.751, archs: 'full', source: ZC, note: '|rho|' },
    jacov: { spearman: 0.701, archs: 'full', source: ZC, note: '|rho|' },
  },
};

type Rows = Map<string, Record<string, number>>;

function merge(rows: Rows, arch: string, r: Record<string, number>): void {
  rows.set(arch, { ...(rows.get(arch) ?? {}), ...r });
}

function readRows(file: string, rows: Rows): void {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.csv')) {
    const [head, ...lines] = text.trim().split('\n');
    const cols = head!.split(',');
    for (const l of lines) {
      const p = l.split(',');
      const r: Record<string, number> = {};
      cols.forEach((c, i) => {
        if (c !== 'arch' && c !== 'accuracy' && p[i] !== undefined && p[i] !== '') r[c] = Number(p[i]);
      });
      merge(rows, p[0]!, r);
    }
    return;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a line still being written by a running measurement
    }
    const r: Record<string, number> = {};
    for (const [k, v] of Object.entries(o)) {
      if (k === 'arch' || k === 'ms') continue;
      const x = Array.isArray(v) ? v[0] : v;
      // JSON has no -Infinity: agree-full.ts's singular kernels were written as null
      r[k] = x === null ? -Infinity : typeof x === 'string' ? Number(x) : (x as number);
    }
    merge(rows, o.arch as string, r);
  }
}

function truth(dataset: string): Map<string, number> {
  const col = { cifar10: 0, cifar100: 1, 'ImageNet16-120': 2 }[dataset];
  if (col === undefined) throw new Error(`--dataset must be cifar10, cifar100 or ImageNet16-120, got ${dataset}`);
  const m = new Map<string, number>();
  const lines = readFileSync(new URL('../../../shared/data/nb201/nats-tss-200ep-test.csv', import.meta.url), 'utf8').trim().split('\n');
  for (const l of lines.slice(1)) {
    const p = l.split(',');
    m.set(p[3]!, Number(p[col]));
  }
  return m;
}

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1]! : d;
};
const dataset = opt('dataset', 'cifar10');
const reps = Number(opt('reps', '1000'));
const files = args.filter((a, i) => /\.(jsonl|csv)$/.test(a) && !(args[i - 1] ?? '').startsWith('--'));
const gt = truth(dataset);
const rows: Rows = new Map();
for (const f of files) readRows(f, rows);
if (args.includes('--naswot-csv')) {
  const [, ...lines] = readFileSync(opt('naswot-csv', ''), 'utf8').trim().split('\n');
  for (const l of lines) {
    const p = l.split(',');
    merge(rows, p[1]!, { 'published:naswot': Number(p[3]) });
  }
}
const naslibFile = args.includes('--naslib') ? opt('naslib', '') : undefined;
if (naslibFile) {
  for (const r of readNaslibZc(naslibFile, dataset)) {
    const v: Record<string, number> = {};
    for (const [k, x] of Object.entries(r.values)) if (k !== 'val_accuracy') v[`naslib:${k}`] = x;
    merge(rows, r.arch, v);
  }
}
for (const r of rows.values()) {
  if (r.swap !== undefined && r.params !== undefined && r['swap-reg'] === undefined) r['swap-reg'] = r.swap * swapRegularFactor(r.params, SWAP_REG.mu, SWAP_REG.sigma);
}
const best = new Map<string, { archs: string[]; values: number[] }>();
for (const p of new Set([...rows.values()].flatMap((r) => Object.keys(r)))) {
  const archs = [...rows.keys()].filter((a) => gt.has(a) && rows.get(a)![p] !== undefined);
  best.set(p, { archs, values: archs.map((a) => rankValue(rows.get(a)![p]!)) });
}
const AZ = ['flops', 'az-expressivity', 'az-progressivity', 'az-trainability'];
{
  const archs = [...rows.keys()].filter((a) => gt.has(a) && AZ.every((m) => rows.get(a)![m] !== undefined));
  if (archs.length > 1) best.set('az-nas', { archs, values: ensembleScores(AZ.map((m) => archs.map((a) => rows.get(a)![m]!)), 'log-rank') });
}
const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3));
const papers = PAPER[dataset] ?? {};
console.log(`NB201 ${dataset}, 200-epoch test accuracy; ours: Kendall [95 % CI] / Spearman [95 % CI] (${reps} bootstrap resamples)`);
console.log('| proxy | archs | ours Kendall | ours Spearman | paper Kendall / Spearman | ours − paper | flag |');
console.log('|---|---|---|---|---|---|---|');
for (const [p, b] of [...best.entries()].sort((x, y) => x[0].localeCompare(y[0]))) {
  const acc = b.archs.map((a) => gt.get(a)!);
  const idx = resamples(b.archs.length, reps, `papers:${p}`);
  const k = kendallTauB(b.values, acc);
  const s = spearman(b.values, acc);
  const kc = bootstrapInterval(b.values, acc, RANK_STATS.kendall, idx);
  const sc = bootstrapInterval(b.values, acc, RANK_STATS.spearman, idx);
  const pf = papers[p.replace(/^(naslib|published):/, '')];
  // the paper's |rho| drops the sign: compare |ours| then
  const abs = pf?.note === '|rho|';
  const dk = pf?.kendall !== undefined ? (abs ? Math.abs(k) : k) - pf.kendall : undefined;
  const ds = pf?.spearman !== undefined ? (abs ? Math.abs(s) : s) - pf.spearman : undefined;
  const worst = Math.min(dk ?? Infinity, ds ?? Infinity);
  const flag = pf ? (worst < -0.05 ? 'BELOW' : 'ok') : '';
  const diff = [dk !== undefined ? `τ ${dk >= 0 ? '+' : ''}${dk.toFixed(3)}` : '', ds !== undefined ? `ρ ${ds >= 0 ? '+' : ''}${ds.toFixed(3)}` : ''].filter(Boolean).join(', ');
  console.log(
    `| ${p} | ${b.archs.length} | ${f3(k)} [${f3(kc.lo)}, ${f3(kc.hi)}] | ${f3(s)} [${f3(sc.lo)}, ${f3(sc.hi)}] | ${pf ? `${f3(pf.kendall)} / ${f3(pf.spearman)}${pf.note ? ` (${pf.note})` : ''}` : '—'} | ${diff} | ${flag} |`,
  );
}
