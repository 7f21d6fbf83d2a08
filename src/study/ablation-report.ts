/** The ablation as Markdown: Kendall and Spearman tables with intervals, and what to set. */
import type { AblationCell, AblationResult } from './ablation.js';
import type { AblationSetting } from './ablation-scores.js';
import { sig } from './run.js';

const f3 = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const ci = (i: { lo: number; hi: number }): string => `[${f3(i.lo)}, ${f3(i.hi)}]`;
const signed = (v: number): string => (v >= 0 ? `+${f3(v)}` : f3(v));
export const settingText = (s: AblationSetting): string => `${s.taps} taps, N=${s.n}, ${s.gammas === 'fixed' ? 'fixed gammas' : 'HDA gammas'}`;

function table(r: AblationResult, cell: (c: AblationCell) => string): string[] {
  const out = [`| taps | gammas | ${r.ns.map((n) => `N=${n}`).join(' | ')} |`, `|---|---|${r.ns.map(() => '---|').join('')}`];
  for (const t of r.taps) {
    for (const g of ['fixed', 'hda'] as const) {
      const cells = r.ns.map((n) => cell(r.cells.find((c) => c.taps === t && c.n === n && c.gammas === g)!));
      out.push(`| ${t} | ${g === 'fixed' ? 'fixed' : 'HDA'} | ${cells.join(' | ')} |`);
    }
  }
  return out;
}

/** Cells whose paired Kendall difference to the default is above 0 (interval excludes 0), best first. */
export function clearlyBetter(r: AblationResult): AblationCell[] {
  return r.cells.filter((c) => c.deltaKendallCi.lo > 0).sort((a, b) => b.kendall - a.kendall);
}

export function ablationMarkdown(r: AblationResult): string {
  const base = r.cells.find((c) => c.taps === r.baseline.taps && c.n === r.baseline.n && c.gammas === r.baseline.gammas)!;
  const better = clearlyBetter(r);
  const worse = r.cells.filter((c) => c.deltaKendallCi.hi < 0);
  const lines = [
    `# RBFleX ablation: ${r.space} ${r.dataset ?? ''}, ${r.archs} architectures (seed ${r.seed})`,
    '',
    `Images: ${r.images} (cell N uses the first N). Fixed gammas: gamma_k ${sig(r.fixed.gammaK)}, gamma_q ${sig(r.fixed.gammaQ)}; HDA: detected per (taps, N) over ${r.hdaNetworks} networks. Intervals: 95 % percentile bootstrap over the architectures, ${r.bootstrap} resamples.`,
    '',
    '## Kendall tau [95 % CI]',
    '',
    ...table(r, (c) => `${f3(c.kendall)} ${ci(c.kendallCi)}`),
    '',
    '## Spearman rho [95 % CI]',
    '',
    ...table(r, (c) => `${f3(c.spearman)} ${ci(c.spearmanCi)}`),
    '',
    `## Kendall minus the default (${settingText(r.baseline)}), paired 95 % CI`,
    '',
    ...table(r, (c) => `${signed(c.kendall - base.kendall)} ${ci(c.deltaKendallCi)}`),
    '',
    '## HDA gammas',
    '',
    '| taps | N | gamma_k | gamma_q |',
    '|---|---|---|---|',
    ...r.taps.flatMap((t) => r.ns.map((n) => `| ${t} | ${n} | ${sig(r.hda[`${t}:${n}`]!.gammaK)} | ${sig(r.hda[`${t}:${n}`]!.gammaQ)} |`)),
    '',
    '## What to set',
    '',
    `Best Kendall: ${settingText(r.best)} (${f3(r.best.kendall)} ${ci(r.best.kendallCi)}; default ${f3(base.kendall)}, difference ${signed(r.best.kendall - base.kendall)} ${ci(r.best.deltaKendallCi)}).`,
    better.length > 0
      ? `Above the default with the paired interval excluding 0: ${better.map((c) => `${settingText(c)} (${signed(c.kendall - base.kendall)})`).join('; ')}.`
      : 'No setting is above the default with a paired interval excluding 0.',
    worse.length > 0 ? `Below the default (interval excludes 0): ${worse.map((c) => `${settingText(c)} (${signed(c.kendall - base.kendall)}${c.degenerate > 0 ? `, ${c.degenerate} singular` : ''})`).join('; ')}.` : 'No setting is below the default with an interval excluding 0.',
    '',
  ];
  return lines.join('\n');
}
