/**
 * report.md of a study: set-up (version, command, date, machine, benchmark file), then the
 * correlations. With several seeds the main table is mean +- std over the seeds and each seed gets
 * its own labelled table; with one seed the values are that seed's.
 */
import { fmtCorr } from '../search/report.js';
import type { ProxyStudy } from '../search/protocol.js';
import type { PickedAccuracy } from '../search/proxy-compare.js';
import { type StudyRepeat, type StudyResult, sig } from './run.js';
import { type ProxySummary, type SeedStat, proxySummaries } from './summary.js';

const HEAD = '| proxy | Kendall tau-b | Spearman rho | Pearson r (finite) | top-1% hit | top-5% hit | top-10% hit | -Inf/NaN scores | picked accuracy |';
const RULE = '|---|---|---|---|---|---|---|---|---|';

/** a hit rate to 3 places, "n/a" where undefined */
function fmtHit(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : 'n/a';
}

/** "0.6123 ± 0.0120", or the value alone with one seed; "n/a" where any seed is n/a */
export function fmtStat(s: SeedStat, fmt: (v: number) => string = fmtCorr): string {
  if (s.perSeed.length === 1) return fmt(s.perSeed[0]!);
  return Number.isFinite(s.mean) ? `${fmt(s.mean)} ± ${fmt(s.std)}` : 'n/a';
}

function range(v: readonly number[]): string {
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
}

function meanRow(s: ProxySummary): string {
  const acc = (v: number) => v.toFixed(2);
  const deg = s.degenerate.perSeed.length === 1 ? String(s.degenerate.perSeed[0]) : range(s.degenerate.perSeed);
  return `| ${s.proxy} | ${fmtStat(s.kendall)} | ${fmtStat(s.spearman)} | ${fmtStat(s.pearson)} (${range(s.nFinite)}) | ${s.topK.map((t) => fmtStat(t.hitRate, fmtHit)).join(' | ')} | ${deg} | ${fmtStat(s.picked, acc)} |`;
}

function seedRow(s: ProxyStudy, picked: PickedAccuracy | undefined): string {
  const c = s.correlations;
  const pk = picked ? `${picked.mean.toFixed(2)} (± ${picked.std.toFixed(2)} over ${picked.trials} trials)` : '-';
  return `| ${s.proxy} | ${fmtCorr(c.kendall)} | ${fmtCorr(c.spearman)} | ${fmtCorr(c.pearson)} (${c.nFinite}) | ${s.topK.map((t) => fmtHit(t.hitRate)).join(' | ')} | ${s.degenerate} | ${pk} |`;
}

function seedTable(x: StudyRepeat): string[] {
  const lines = [HEAD, RULE];
  for (const s of x.studies) lines.push(seedRow(s, x.picked.find((p) => p.proxy === s.proxy)));
  return lines;
}

export function studyMarkdown(r: StudyResult): string {
  const ds = r.dataset ?? '';
  const k = r.repeats.length;
  const first = r.repeats[0]!;
  const p0 = first.picked[0];
  const lines = [`# RBFleX study: ${r.space} ${ds}`.trim(), '', '## Setup', '', '| setting | value |', '|---|---|'];
  for (const [key, v] of r.setup) lines.push(`| ${key} | ${v.replace(/\|/g, '\\|')} |`);
  lines.push('');
  const summaries = proxySummaries(r);
  if (k === 1) {
    lines.push(`## Correlation with ${r.metricLabel} (${r.archs.length} architectures, seed ${first.seed})`, '');
    lines.push(...seedTable(first));
  } else {
    lines.push(`## Correlation with ${r.metricLabel} (${r.archs.length} architectures; mean ± std over ${k} seeds)`, '');
    lines.push(HEAD, RULE, ...summaries.map(meanRow));
  }
  lines.push(
    '',
    `Top-k hit rate: of the k best architectures by ${r.metricLabel.replace(/, %$/, '')}, the share also among the k best by score (k = 1%, 5%, 10% of ${r.archs.length}, rounded, at least 1). ` +
      `"n/a" where that share is less than one architecture (top-1% needs n >= 100, top-5% n >= 20, top-10% n >= 10).`,
  );
  if (p0) {
    lines.push(
      '',
      `Picked accuracy: the search protocol on the studied set. Each of ${p0.trials} seeded trials draws ${p0.samples} of the ${r.archs.length} architectures and keeps the best-scored one (-Infinity and NaN scores rank last); the value is the mean ${r.metricLabel.replace(/, %$/, '')} of the picks${k > 1 ? ' (per seed; the main table gives mean ± std of the seeds\' means)' : ''}.`,
    );
  }
  if (k > 1) {
    lines.push('', `"±" is the population std over the ${k} seeds (${r.repeats.map((x) => x.seed).join(', ')}); each seed draws new images and weights (and HDA gammas, where HDA is used).`, '');
    lines.push('### Kendall tau per seed, and of the mean rank', '', `| proxy | ${r.repeats.map((x) => `seed ${x.seed}`).join(' | ')} | mean ± std | tau of mean rank |`, `|---|${r.repeats.map(() => '---|').join('')}---|---|`);
    for (const s of summaries) lines.push(`| ${s.proxy} | ${s.kendall.perSeed.map((t) => fmtCorr(t)).join(' | ')} | ${fmtStat(s.kendall)} | ${fmtCorr(s.meanRankKendall)} |`);
    lines.push('', 'Tau of mean rank: each architecture\'s rank averaged over the seeds, correlated with the ground truth.');
    for (const x of r.repeats) {
      const g = x.gammas ? `; gamma_k ${sig(x.gammas.gammaK)}, gamma_q ${sig(x.gammas.gammaQ)} (${x.gammas.source})` : '';
      lines.push('', `### Seed ${x.seed}`, '', `Images: ${x.images}${g}.`, '', ...seedTable(x));
    }
  }
  lines.push('', '## Plots', '', `![all proxies](proxies.svg)`, '');
  if (k > 1) lines.push(`Scatter plots show seed ${first.seed}.`, '');
  for (const p of r.proxies) lines.push(`![${p} vs ${r.metricLabel}](${p}.svg)`, '');
  return lines.join('\n');
}
