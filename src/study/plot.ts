/**
 * SVG scatter plots of a study: score (x) against ground truth (y), with padded axes, tick labels
 * that stay readable for large, tiny and constant values (SI suffixes k/M/G, thousands separators),
 * the Kendall tau on the plot, and point labels when there are few points.
 */
import type { ProxyName } from '../proxies/index.js';
import type { StudyRow } from '../search/protocol.js';

/** points are labelled (with their architecture) up to this many */
export const LABEL_POINTS_UP_TO = 20;

/**
 * The axis domain of `values` with `pad` (share of the span) on each side. Constant values get
 * +-1% of their size (+-1 at zero) instead, so that the ticks stay near the value.
 */
export function axisRange(values: readonly number[], pad = 0.05): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (hi === lo) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.01;
    return [lo - d, hi + d];
  }
  const span = hi - lo;
  return [lo - pad * span, hi + pad * span];
}

/** About `count` round ticks (1, 2, 2.5, 5 x 10^m apart) inside [lo, hi], and their step. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return { ticks: Number.isFinite(lo) ? [lo] : [], step: 0 };
  const r = ticksOf(lo, hi, count);
  // a round step can leave only two ticks inside the range: then take the next finer one
  return r.ticks.length >= 3 ? r : ticksOf(lo, hi, count * 2);
}

function ticksOf(lo: number, hi: number, count: number): { ticks: number[]; step: number } {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-12)) ?? 10 * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k++) ticks.push(Number((k * step).toPrecision(12)));
  return { ticks, step };
}

/** decimals that write `x` exactly enough (up to 12) */
function decimalsFor(x: number): number {
  for (let d = 0; d < 12; d++) {
    const s = x * 10 ** d;
    if (Math.abs(s - Math.round(s)) < 1e-6 * Math.max(1, Math.abs(s))) return d;
  }
  return 12;
}

/**
 * Labels for ticks `step` apart, with one shared scale: k (from 10,000), M, G; thousands separators
 * below that; an exponent for values under 0.001. Enough decimals that neighbouring ticks differ.
 */
export function tickLabels(ticks: readonly number[], step: number): string[] {
  const maxAbs = Math.max(0, ...ticks.map((t) => Math.abs(t)));
  let scale = 1;
  let suffix = '';
  if (maxAbs >= 1e9) [scale, suffix] = [1e9, 'G'];
  else if (maxAbs >= 1e6) [scale, suffix] = [1e6, 'M'];
  else if (maxAbs >= 1e4) [scale, suffix] = [1e3, 'k'];
  else if (maxAbs > 0 && maxAbs < 1e-3) {
    const e = Math.floor(Math.log10(maxAbs));
    [scale, suffix] = [10 ** e, `e${e}`];
  }
  const d = step > 0 ? decimalsFor(step / scale) : decimalsFor(ticks[0] === undefined ? 0 : ticks[0] / scale);
  return ticks.map((t) => {
    const v = t / scale;
    const text = (v === 0 ? 0 : v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: true });
    return `${text === '-0' ? '0' : text}${suffix}`;
  });
}

/** a value in full, with thousands separators (up to 6 significant digits after the point) */
export function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e-3 || v === 0) return v.toLocaleString('en-US', { maximumFractionDigits: Math.max(0, 6 - Math.floor(Math.log10(Math.abs(v) || 1)) - 1) });
  return v.toPrecision(4);
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function shorten(s: string, max = 28): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export interface ScatterOptions {
  rows: readonly StudyRow[];
  proxy: ProxyName;
  title: string;
  /** the ground truth with unit, e.g. "CIFAR-10 test accuracy, %" */
  yLabel: string;
  /** written on the plot */
  kendall?: number;
  /** label each point with its architecture when there are at most this many (default LABEL_POINTS_UP_TO) */
  labelUpTo?: number;
}

/** Score (x) against ground truth (y). -Infinity / NaN scores sit in a separate strip at the left. */
export function scatterSvg(o: ScatterOptions): string {
  const W = 640;
  const H = 480;
  const m = { l: 78, r: 40, t: 40, b: 58 };
  const pts = o.rows.map((r) => ({ x: r.scores[o.proxy] ?? NaN, y: r.accuracy, arch: r.arch }));
  const finite = pts.filter((p) => Number.isFinite(p.x));
  const nInf = pts.length - finite.length;
  const strip = nInf > 0 ? 34 : 0;
  const xs = finite.map((p) => p.x);
  const [x0, x1] = axisRange(xs);
  const [y0, y1] = axisRange(pts.map((p) => p.y));
  const constantX = xs.length > 0 && xs.every((x) => x === xs[0]);
  const left = m.l + strip;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (W - m.r - left);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
  ];
  const xt = niceTicks(x0, x1);
  tickLabels(xt.ticks, xt.step).forEach((label, i) => {
    const x = px(xt.ticks[i]!).toFixed(1);
    parts.push(`<line x1="${x}" y1="${H - m.b}" x2="${x}" y2="${H - m.b + 5}" stroke="black"/>`);
    parts.push(`<text class="xtick" x="${x}" y="${H - m.b + 18}" text-anchor="middle">${esc(label)}</text>`);
  });
  const yt = niceTicks(y0, y1);
  tickLabels(yt.ticks, yt.step).forEach((label, i) => {
    const y = py(yt.ticks[i]!).toFixed(1);
    parts.push(`<line x1="${m.l - 5}" y1="${y}" x2="${m.l}" y2="${y}" stroke="black"/>`);
    parts.push(`<text class="ytick" x="${m.l - 8}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${esc(label)}</text>`);
  });
  parts.push(`<text class="xlabel" x="${(left + W - m.r) / 2}" y="${H - 14}" text-anchor="middle">${esc(o.proxy)} score${constantX ? ` (all ${finite.length} equal: ${esc(fmtValue(xs[0]!))})` : ''}</text>`);
  parts.push(`<text class="ylabel" transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  if (nInf > 0) {
    parts.push(`<text x="${m.l + strip / 2}" y="${H - m.b + 32}" text-anchor="middle" font-size="10">-Inf/NaN (${nInf})</text>`);
  }
  const stats = [o.kendall !== undefined ? `Kendall τ = ${Number.isFinite(o.kendall) ? o.kendall.toFixed(3) : 'n/a'}` : undefined, `n = ${pts.length}`].filter((s) => s !== undefined);
  parts.push(`<text class="stats" x="${left + 8}" y="${m.t + 14}">${esc(stats.join(', '))}</text>`);
  parts.push('<g fill="#1f77b4" fill-opacity="0.45">');
  const xOf = (p: { x: number }) => (Number.isFinite(p.x) ? px(p.x) : m.l + strip / 2);
  for (const p of pts) parts.push(`<circle cx="${xOf(p).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="${pts.length <= (o.labelUpTo ?? LABEL_POINTS_UP_TO) ? 3.5 : 2.2}"/>`);
  parts.push('</g>');
  if (pts.length <= (o.labelUpTo ?? LABEL_POINTS_UP_TO)) {
    parts.push('<g font-size="10" fill="#333">');
    for (const p of pts) {
      const cx = xOf(p);
      const right = cx > W * 0.7;
      parts.push(`<text class="point" x="${(cx + (right ? -6 : 6)).toFixed(1)}" y="${(py(p.y) - 5).toFixed(1)}" text-anchor="${right ? 'end' : 'start'}">${esc(shorten(p.arch))}</text>`);
    }
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
