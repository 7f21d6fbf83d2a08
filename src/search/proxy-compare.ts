/**
 * All proxies of a study side by side: picked accuracy under the search protocol (best-scored of S
 * archs drawn from the studied set, over seeded trials) and one grouped bar figure (Kendall, Spearman,
 * top-10% hit rate per proxy).
 */
import type { ProxyName } from '../proxies/index.js';
import { type ArchScore, } from './scorer.js';
import { type ProxyStudy, type StudyRow, pickBest, trialSample } from './protocol.js';
import { meanStd } from './stats.js';
import { archList } from '../spaces/types.js';

export interface PickedAccuracy {
  proxy: ProxyName;
  samples: number;
  trials: number;
  mean: number;
  std: number;
}

/** Each trial draws `samples` of the studied archs (seeded) and takes the best-scored one's accuracy. */
export function pickedAccuracy(rows: readonly StudyRow[], proxies: readonly ProxyName[], seed: string, trials = 10, samples = Math.min(100, Math.max(1, Math.floor(rows.length / 2)))): PickedAccuracy[] {
  const byArch = new Map<string, ArchScore>(rows.map((r) => [r.arch, { arch: r.arch, scores: r.scores, ms: 0 }]));
  const acc = new Map(rows.map((r) => [r.arch, r.accuracy]));
  const pool = archList(rows.map((r) => r.arch));
  const draws = Array.from({ length: trials }, (_, t) => trialSample(pool, `${seed}/picked`, t, samples));
  return proxies.map((p) => {
    const accs = draws.map((d) => acc.get(pickBest(d, byArch, p).arch)!);
    return { proxy: p, samples, trials, ...meanStd(accs) };
  });
}

/** Grouped bars: Kendall tau, Spearman rho and top-10% hit rate of every proxy, in one SVG. */
export function proxiesSvg(studies: readonly ProxyStudy[], title: string): string {
  const metrics: { label: string; color: string; get: (s: ProxyStudy) => number }[] = [
    { label: 'Kendall tau', color: '#4477aa', get: (s) => s.correlations.kendall },
    { label: 'Spearman rho', color: '#66ccee', get: (s) => s.correlations.spearman },
    { label: 'top-10% hit', color: '#228833', get: (s) => s.topK.find((t) => t.fraction === 0.1)?.hitRate ?? NaN },
  ];
  const W = Math.max(480, 90 + studies.length * 70);
  const H = 320;
  const left = 62;
  const top = 40;
  const plotH = H - top - 60;
  const y = (v: number) => top + ((1 - v) / 2) * plotH; // axis -1..1
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
  ];
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 0 ? '#000' : '#ddd'}"/>`, `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
  }
  const mid = (y(1) + y(-1)) / 2;
  parts.push(`<text x="14" y="${mid}" text-anchor="middle" transform="rotate(-90 14 ${mid})">rank correlation / top-10% hit rate</text>`);
  const groupW = (W - left - 10) / Math.max(1, studies.length);
  const barW = Math.min(18, (groupW - 10) / metrics.length);
  studies.forEach((s, i) => {
    const gx = left + i * groupW + (groupW - barW * metrics.length) / 2;
    metrics.forEach((m, k) => {
      const v = m.get(s);
      const bx = gx + k * barW;
      // a metric that could not be computed (too few archs, constant scores) is marked, not left blank
      if (!Number.isFinite(v)) {
        parts.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(y(0) - 3).toFixed(1)}" text-anchor="middle" font-size="8" fill="#888">n/a</text>`);
        return;
      }
      const y0 = y(Math.max(0, v));
      parts.push(`<rect x="${bx.toFixed(1)}" y="${y0.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${Math.abs(y(v) - y(0)).toFixed(1)}" fill="${m.color}"><title>${esc(s.proxy)}: ${m.label} ${v.toFixed(3)}</title></rect>`);
      // the Kendall value, the figure the report ranks by, above (or below) its bar
      if (k === 0) parts.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(v >= 0 ? y(v) - 3 : y(v) + 10).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(2)}</text>`);
    });
    parts.push(`<text x="${(left + (i + 0.5) * groupW).toFixed(1)}" y="${H - 40}" text-anchor="middle">${esc(s.proxy)}</text>`);
  });
  metrics.forEach((m, k) => {
    const lx = left + k * 120;
    parts.push(`<rect x="${lx}" y="${H - 22}" width="10" height="10" fill="${m.color}"/>`, `<text x="${lx + 14}" y="${H - 13}">${m.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
