/** A study's files: scores.csv, summary.json, report.md and one scatter plot per proxy. */
import { resolve } from 'node:path';
import { fmtCorr, jsonSafe, scatterSvg, scoresCsv, studyMarkdown, writeStudy } from '../search/report.js';
import type { SeedSpread, StudyResult } from './run.js';
import { type PickedAccuracy, proxiesSvg } from '../search/proxy-compare.js';

/** the summary object (also what `rbflex study --json` prints) */
export function studySummary(r: StudyResult): unknown {
  const first = r.repeats[0]!;
  return jsonSafe({
    setup: Object.fromEntries(r.setup),
    n: r.archs.length,
    proxies: first.studies,
    picked: first.picked,
    ...(r.repeats.length > 1
      ? {
          repeats: r.repeats.map((x) => ({ seed: x.seed, gammas: x.gammas ? `gamma_k ${x.gammas.gammaK}, gamma_q ${x.gammas.gammaQ} (${x.gammas.source})` : '-', proxies: x.studies })),
          acrossSeeds: r.spread,
        }
      : {}),
  });
}

/** file name -> content */
export function studyFiles(r: StudyResult): Record<string, string> {
  const first = r.repeats[0]!;
  const ds = r.dataset ?? '';
  const plots = Object.fromEntries(r.proxies.map((p) => [p, `${p}.svg`]));
  let md = studyMarkdown({ title: `RBFleX study: ${r.space} ${ds}`.trim(), setup: r.setup, studies: first.studies, n: r.archs.length, plots });
  md += pickedMarkdown(first.picked);
  if (r.repeats.length > 1) md += acrossSeedsMarkdown(r.spread, r.repeats.map((x) => x.seed));
  const files: Record<string, string> = {
    'scores.csv': r.repeats.length === 1 ? scoresCsv(first.rows, r.proxies) : r.repeats.map((x, i) => scoresCsv(x.rows, r.proxies, x.seed, i === 0)).join(''),
    'summary.json': `${JSON.stringify(studySummary(r), null, 2)}\n`,
    'report.md': md,
  };
  files['proxies.svg'] = proxiesSvg(first.studies, `all proxies vs ${r.metricLabel} (${r.space} ${ds}, n=${r.archs.length})`);
  for (const p of r.proxies) files[`${p}.svg`] = scatterSvg(first.rows, p, `${p} vs ${r.metricLabel} (${r.space} ${ds}, n=${r.archs.length}, seed ${first.seed})`, r.metricLabel);
  return files;
}

/** writes studyFiles(r) into dir; returns the absolute paths written */
export function writeStudyOutputs(dir: string, r: StudyResult): string[] {
  return writeStudy(resolve(dir), studyFiles(r));
}

function pickedMarkdown(picked: PickedAccuracy[]): string {
  const p0 = picked[0];
  if (!p0) return '';
  const lines = ['', '## Picked accuracy under the search protocol', '', `Each of ${p0.trials} seeded trials draws ${p0.samples} of the studied architectures and keeps the best-scored one (-Infinity and NaN scores rank last).`, '', '| proxy | picked accuracy (mean +- std) |', '|---|---|'];
  for (const p of picked) lines.push(`| ${p.proxy} | ${p.mean.toFixed(2)} +- ${p.std.toFixed(2)} |`);
  lines.push('', '![all proxies](proxies.svg)', '');
  return lines.join('\n');
}

function acrossSeedsMarkdown(spread: SeedSpread[], seeds: string[]): string {
  const lines = ['', `## Across ${seeds.length} seeds`, '', `| proxy | ${seeds.map((s) => `tau [${s}]`).join(' | ')} | mean +- std | tau of mean rank |`, `|---|${seeds.map(() => '---|').join('')}---|---|`];
  for (const s of spread) {
    lines.push(`| ${s.proxy} | ${s.kendall.map((t) => fmtCorr(t)).join(' | ')} | ${fmtCorr(s.mean)} +- ${fmtCorr(s.std)} | ${fmtCorr(s.meanRank.kendall)} |`);
  }
  return `${lines.join('\n')}\n`;
}
