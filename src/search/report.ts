/** Study outputs: scores.csv, summary.json, report.md and one SVG scatter plot per proxy. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProxyName } from '../proxies/index.js';
import type { ProxyStudy, StudyRow } from './protocol.js';

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function fmtNum(v: number | undefined, digits = 6): string {
  if (v === undefined) return '';
  if (v === -Infinity) return '-Infinity';
  if (Number.isNaN(v)) return 'NaN';
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

/** A correlation to 4 places; "n/a" where it is undefined (e.g. a proxy constant over the architectures). */
export function fmtCorr(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** One row per architecture; with `seed`, a leading seed column (and the header only when `header`). */
export function scoresCsv(rows: readonly StudyRow[], proxies: readonly ProxyName[], seed?: string, header = true): string {
  const lead = seed === undefined ? [] : ['seed'];
  const lines = header ? [[...lead, 'arch', 'accuracy', ...proxies].join(',')] : [];
  for (const r of rows) {
    lines.push([...(seed === undefined ? [] : [csvField(seed)]), csvField(r.arch), String(r.accuracy), ...proxies.map((p) => fmtNum(r.scores[p], 17))].join(','));
  }
  return lines.join('\n') + '\n';
}

/** JSON has no -Infinity: write it as the string "-Infinity". */
export function jsonSafe(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? (Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity') : x)),
  );
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Score (x) against accuracy (y). -Infinity scores sit in a separate strip at the left. */
export function scatterSvg(rows: readonly StudyRow[], proxy: ProxyName, title: string, yLabel: string): string {
  const W = 640;
  const H = 480;
  const m = { l: 70, r: 20, t: 40, b: 55 };
  const pts = rows.map((r) => ({ x: r.scores[proxy]!, y: r.accuracy }));
  const finite = pts.filter((p) => Number.isFinite(p.x));
  const nInf = pts.length - finite.length;
  const strip = nInf > 0 ? 30 : 0;
  const xs = finite.map((p) => p.x);
  const ys = pts.map((p) => p.y);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const px = (x: number) => m.l + strip + ((x - x0) / (x1 - x0)) * (W - m.l - m.r - strip);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${px(t)}" y1="${H - m.b}" x2="${px(t)}" y2="${H - m.b + 5}" stroke="black"/>`);
    parts.push(`<text x="${px(t)}" y="${H - m.b + 18}" text-anchor="middle">${fmtNum(t, 4)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.l - 5}" y1="${py(t)}" x2="${m.l}" y2="${py(t)}" stroke="black"/>`);
    parts.push(`<text x="${m.l - 8}" y="${py(t) + 4}" text-anchor="end">${fmtNum(t, 4)}</text>`);
  }
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(proxy)} score</text>`);
  parts.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  if (nInf > 0) {
    parts.push(`<text x="${m.l + strip / 2}" y="${H - m.b + 32}" text-anchor="middle" font-size="10">-Inf (${nInf})</text>`);
  }
  parts.push('<g fill="#1f77b4" fill-opacity="0.45">');
  for (const p of pts) {
    const cx = Number.isFinite(p.x) ? px(p.x) : m.l + strip / 2;
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.2"/>`);
  }
  parts.push('</g></svg>');
  return parts.join('\n') + '\n';
}

export function studyMarkdown(o: {
  title: string;
  setup: [string, string][];
  studies: readonly ProxyStudy[];
  n: number;
  plots: Record<string, string>;
}): string {
  const lines = [`# ${o.title}`, '', '## Setup', '', '| setting | value |', '|---|---|'];
  for (const [k, v] of o.setup) lines.push(`| ${k} | ${v} |`);
  lines.push('', `## Correlation with ground truth (${o.n} architectures)`, '');
  lines.push('| proxy | Kendall tau-b | Spearman rho | Pearson r (finite) | top-1% hit | top-5% hit | top-10% hit | -Inf/NaN scores |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const s of o.studies) {
    const c = s.correlations;
    lines.push(
      `| ${s.proxy} | ${fmtCorr(c.kendall)} | ${fmtCorr(c.spearman)} | ${fmtCorr(c.pearson)} (${c.nFinite}) | ${s.topK.map((t) => t.hitRate.toFixed(3)).join(' | ')} | ${s.degenerate} |`,
    );
  }
  lines.push('', 'Top-k hit rate: of the k best architectures by accuracy, the share also in the k best by score.', '');
  lines.push('## Plots', '');
  for (const [p, file] of Object.entries(o.plots)) lines.push(`![${p} vs accuracy](${file})`, '');
  return lines.join('\n');
}

export function writeStudy(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, content]) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  });
}
