/** Study scatter plots (issue 15 item 14): ticks, number formats, padding, labels and the SVG's text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProxyStudy, StudyRow } from '../src/search/protocol.js';
import { proxiesSvg } from '../src/search/proxy-compare.js';
import { axisRange, fmtValue, niceTicks, scatterSvg, tickLabels } from '../src/study/plot.js';

const W = 640;
const MARGIN_LEFT = 78;
const MARGIN_RIGHT = 40;

function texts(svg: string, cls: string): { x: number; text: string }[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}" x="([^"]+)"[^>]*>([^<]*)</text>`, 'g'))].map((m) => ({ x: Number(m[1]), text: m[2]! }));
}

function rows(n: number, x: (i: number) => number, arch = (i: number) => `arch-${i}`): StudyRow[] {
  return Array.from({ length: n }, (_, i) => ({ arch: arch(i), accuracy: 70 + i * 0.5, scores: { params: x(i) } }));
}

test('niceTicks: round steps inside the range', () => {
  assert.deepEqual(niceTicks(0, 10), { ticks: [0, 2, 4, 6, 8, 10], step: 2 });
  assert.deepEqual(niceTicks(0.1, 0.35).ticks, [0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
  assert.deepEqual(niceTicks(-1, 1).ticks, [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(niceTicks(5, 5), { ticks: [5], step: 0 });
  // a span a round step would cover with two ticks gets a finer step
  assert.deepEqual(niceTicks(37.13, 37.22), { ticks: [37.14, 37.16, 37.18, 37.2, 37.22], step: 0.02 });
});

test('axisRange: 5% padding; constant values get +-1% of their size, not +-1', () => {
  assert.deepEqual(axisRange([0, 100]), [-5, 105]);
  assert.deepEqual(axisRange([20040521, 20040521]), [20040521 - 200405.21, 20040521 + 200405.21]);
  assert.deepEqual(axisRange([0, 0]), [-1, 1]);
  assert.deepEqual(axisRange([]), [0, 1]);
});

test('tickLabels: SI suffixes, thousands separators, enough decimals, no -0', () => {
  assert.deepEqual(tickLabels([0, 2500, 5000, 7500], 2500), ['0', '2,500', '5,000', '7,500']);
  assert.deepEqual(tickLabels([0, 25000, 50000], 25000), ['0k', '25k', '50k']);
  assert.deepEqual(tickLabels([19.9e6, 20e6, 20.1e6], 0.1e6), ['19.9M', '20.0M', '20.1M']);
  assert.deepEqual(tickLabels([1.5e9, 3e9], 1.5e9), ['1.5G', '3.0G']);
  assert.deepEqual(tickLabels([0.25, 0.5, 0.75], 0.25), ['0.25', '0.50', '0.75']);
  assert.deepEqual(tickLabels([-0.5, 0, 0.5], 0.5), ['-0.5', '0.0', '0.5']);
  assert.deepEqual(tickLabels([2e-5, 4e-5], 2e-5), ['2e-5', '4e-5']);
  assert.equal(fmtValue(20040521), '20,040,521');
  assert.equal(fmtValue(93.456789), '93.4568');
});

test('constant x: distinct, sane ticks near the value, inside the plot, and the value in full', () => {
  const svg = scatterSvg({ rows: rows(30, () => 20040521), proxy: 'params', title: 't', yLabel: 'CIFAR-10 test accuracy, %', kendall: NaN });
  const xt = texts(svg, 'xtick');
  assert.ok(xt.length >= 3, svg);
  assert.equal(new Set(xt.map((t) => t.text)).size, xt.length, `duplicate tick labels: ${xt.map((t) => t.text)}`);
  for (const t of xt) {
    assert.match(t.text, /^\d+\.\dM$/, t.text);
    assert.ok(Math.abs(Number(t.text.slice(0, -1)) * 1e6 - 20040521) < 0.25e6, t.text);
    assert.ok(t.x >= MARGIN_LEFT && t.x <= W - MARGIN_RIGHT, `tick at ${t.x}`);
  }
  assert.doesNotMatch(svg, /20040000|20040521(?!<)/);
  assert.match(texts(svg, 'xlabel')[0]!.text, /params score \(all 30 equal: 20,040,521\)/);
  assert.match(svg, /Kendall τ = n\/a, n = 30/);
});

test('large scores get SI ticks; y label, Kendall tau and padding are on the plot', () => {
  const svg = scatterSvg({ rows: rows(40, (i) => 1e6 + i * 5e5), proxy: 'params', title: 'params vs acc', yLabel: 'CIFAR-10 test accuracy, %', kendall: 0.61234 });
  const xt = texts(svg, 'xtick');
  assert.ok(xt.every((t) => /^\d+(\.\d+)?M$/.test(t.text)), xt.map((t) => t.text).join());
  assert.match(svg, /<text class="ylabel"[^>]*>CIFAR-10 test accuracy, %<\/text>/);
  assert.match(svg, /<text class="stats"[^>]*>Kendall τ = 0\.612, n = 40<\/text>/);
  // padding: no point on the axes or the right edge
  const cx = [...svg.matchAll(/<circle cx="([^"]+)" cy="([^"]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  assert.equal(cx.length, 40);
  for (const [x, y] of cx) {
    assert.ok(x > MARGIN_LEFT + 10 && x < W - MARGIN_RIGHT - 10, `x ${x}`);
    assert.ok(y > 40 + 10 && y < 480 - 58 - 10, `y ${y}`);
  }
  // more than LABEL_POINTS_UP_TO points: no point labels
  assert.equal(texts(svg, 'point').length, 0);
});

test('few points are labelled with their architecture (long ids shortened); -Inf scores in their own strip', () => {
  const long = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
  const svg = scatterSvg({ rows: rows(11, (i) => (i === 3 ? -Infinity : i), (i) => (i === 0 ? long : `act<${i}>`)), proxy: 'params', title: 't', yLabel: 'y', kendall: 0.5 });
  const labels = texts(svg, 'point').map((t) => t.text);
  assert.equal(labels.length, 11);
  assert.ok(labels.includes('act&lt;5&gt;'), 'labels are escaped');
  assert.ok(labels.some((l) => l.startsWith('|nor_conv_3x3~0|') && l.endsWith('…') && l.length <= 28));
  assert.match(svg, />-Inf\/NaN \(1\)</);
});

test('proxies.svg: one bar per metric, the Kendall value written on its bar, n/a where a metric is missing', () => {
  const study = (proxy: 'rbflex' | 'naswot', kendall: number, hit: number) => ({
    proxy,
    correlations: { kendall, spearman: kendall * 1.3, pearson: NaN, n: 8 } as unknown as ProxyStudy['correlations'],
    topK: [{ fraction: 0.1, k: 1, hitRate: hit }],
    degenerate: 0,
  });
  const svg = proxiesSvg([study('rbflex', 0.5312, 0.4), study('naswot', -0.25, NaN)], 'all proxies vs test accuracy');
  const rects = [...svg.matchAll(/<rect [^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => m[1]);
  assert.deepEqual(rects, ['rbflex: Kendall tau 0.531', 'rbflex: Spearman rho 0.691', 'rbflex: top-10% hit 0.400', 'naswot: Kendall tau -0.250', 'naswot: Spearman rho -0.325']);
  const labels = [...svg.matchAll(/<text [^>]*font-size="9">([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual(labels, ['0.53', '-0.25']);
  assert.equal((svg.match(/>n\/a</g) ?? []).length, 1);
  assert.match(svg, /rank correlation \/ top-10% hit rate/);
});
