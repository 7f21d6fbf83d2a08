import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { countFlops, countFlopsTensorwatch, countParams } from '../src/ir/analysis.js';
import { nb201 } from '../src/spaces/nb201.js';
import { sharedDataPath } from './helpers/shared-data.js';

/**
 * Five archs whose benchmark `params` is a whole number yet is not a parameter count: it is the
 * mean of two different architectures' counts inside the NAS-Bench-201 v1_0 file (like the 199
 * fractional values). The test proves each is such a mean: 2 * value - ours is the exact count
 * of another arch of the space.
 */
const WHOLE_AVERAGES = new Set([
  '|skip_connect~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|skip_connect~2|',
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|none~2|',
  '|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|',
  '|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|',
  '|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|',
]);

test('nb201 parameter counts equal the benchmark for all 15,426 whole-number entries', (t) => {
  const file = sharedDataPath('nb201/nb201-v1_0-cifar10-200ep-naswot.csv', t);
  if (!file) return;
  const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  assert.equal(rows.length, 15625);
  const allCounts = new Set<number>();
  const ours = new Map<string, number>();
  for (const r of rows) {
    const arch = r.split(',')[1]!;
    const p = countParams(nb201.build(arch));
    ours.set(arch, p);
    allCounts.add(p);
  }
  let exact = 0;
  let fractional = 0;
  for (const r of rows) {
    const c = r.split(',');
    const arch = c[1]!;
    const value = Number(c[2]) * 1e6;
    const whole = Math.abs(value - Math.round(value)) < 1e-6;
    if (!whole) {
      fractional++;
      continue;
    }
    if (WHOLE_AVERAGES.has(arch)) {
      const other = 2 * Math.round(value) - ours.get(arch)!;
      assert.ok(allCounts.has(other), `${arch}: ${Math.round(value)} is not a mean of ours and another arch's count`);
      continue;
    }
    assert.equal(ours.get(arch), Math.round(value), arch);
    exact++;
  }
  assert.equal(fractional, 199, 'fractional (averaged) entries');
  assert.equal(exact + WHOLE_AVERAGES.size, 15426);
  assert.equal(exact, 15421);
});

test('nb201 FLOPs: tensorwatch convention equals NASLib zc_nasbench201.json exactly; xautodl MACs by hand', (t) => {
  const file = sharedDataPath('naslib-zc/zc_nasbench201.json', t);
  if (!file) return;
  const zc = JSON.parse(readFileSync(file, 'utf8')).nasbench201 as Record<string, Record<string, { flops: number; params: number }>>;
  // NASLib keys: op indices (0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avgpool) in edge order
  // |t0~0|+|t1~0|t3~1|+|t2~0|t4~1|t5~2|
  const OPS = ['skip_connect', 'none', 'nor_conv_3x3', 'nor_conv_1x1', 'avg_pool_3x3'];
  let n = 0;
  for (const [dataset, entries] of Object.entries(zc)) {
    for (const [key, v] of Object.entries(entries)) {
      const o = key.replace(/[()\s]/g, '').split(',').map((i) => OPS[Number(i)]!);
      const arch = `|${o[0]}~0|+|${o[1]}~0|${o[3]}~1|+|${o[2]}~0|${o[4]}~1|${o[5]}~2|`;
      const g = nb201.build(arch, { dataset });
      assert.ok(Math.abs(countFlopsTensorwatch(g) / 1e6 - v.flops) < 1e-9, `${dataset} ${arch}: ${countFlopsTensorwatch(g) / 1e6} vs ${v.flops}`);
      assert.ok(Math.abs(countParams(g) / 1e6 - v.params) < 1e-12, `${dataset} ${arch} params`);
      n++;
    }
  }
  assert.ok(n >= 1400, `${n} entries`);
});

test('nb201 FLOPs (xautodl MACs) of a cell without convolutions, derived by hand', () => {
  // stem 3->16 3x3 at 32x32: 1024*27*16; block 1: conv_a 256*9*16*32, conv_b 256*9*32*32, shortcut 256*16*32;
  // block 2: conv_a 64*9*32*64, conv_b 64*9*64*64, shortcut 64*32*64; classifier 64*10 + 10 bias.
  const expected = 1024 * 27 * 16 + (256 * 9 * 16 * 32 + 256 * 9 * 32 * 32 + 256 * 16 * 32) + (64 * 9 * 32 * 64 + 64 * 9 * 64 * 64 + 64 * 32 * 64) + 650;
  const noConv = '|avg_pool_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|skip_connect~1|none~2|';
  assert.equal(countFlops(nb201.build(noConv)), expected);
  assert.equal(expected, 7783050);
  // each conv3x3 edge adds 9*C*C*S*S over the three stages (5 cells each)
  const oneConv = '|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|skip_connect~1|none~2|';
  assert.equal(countFlops(nb201.build(oneConv)) - expected, 5 * 9 * (16 * 16 * 1024 + 32 * 32 * 256 + 64 * 64 * 64));
});
