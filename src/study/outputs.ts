/** A study's files: scores.csv, summary.json, report.md and one scatter plot per proxy. */
import { resolve } from 'node:path';
import { scoresCsv, writeStudy } from '../search/report.js';
import { proxiesSvg } from '../search/proxy-compare.js';
import { scatterSvg } from './plot.js';
import { studyMarkdown } from './report-md.js';
import type { StudyResult } from './run.js';
import { studySummary } from './summary.js';

export { studySummary } from './summary.js';

/** file name -> content */
export function studyFiles(r: StudyResult): Record<string, string> {
  const first = r.repeats[0]!;
  const ds = r.dataset ?? '';
  const files: Record<string, string> = {
    'scores.csv': r.repeats.length === 1 ? scoresCsv(first.rows, r.proxies) : r.repeats.map((x, i) => scoresCsv(x.rows, r.proxies, x.seed, i === 0)).join(''),
    'summary.json': `${JSON.stringify(studySummary(r), null, 2)}\n`,
    'report.md': studyMarkdown(r),
  };
  files['proxies.svg'] = proxiesSvg(first.studies, `all proxies vs ${r.metricLabel} (${r.space} ${ds}, n=${r.archs.length}, seed ${first.seed})`);
  for (const p of r.proxies) {
    const study = first.studies.find((s) => s.proxy === p)!;
    files[`${p}.svg`] = scatterSvg({
      rows: first.rows,
      proxy: p,
      title: `${p} vs ${r.metricLabel.replace(/, %$/, '')} (${r.space} ${ds}, n=${r.archs.length}, seed ${first.seed})`,
      yLabel: r.metricLabel,
      kendall: study.correlations.kendall,
    });
  }
  return files;
}

/** writes studyFiles(r) into dir; returns the absolute paths written */
export function writeStudyOutputs(dir: string, r: StudyResult): string[] {
  return writeStudy(resolve(dir), studyFiles(r));
}
