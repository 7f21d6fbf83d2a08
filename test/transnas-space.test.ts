import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { countParams, networkInfo } from '../src/ir/analysis.js';
import type { Graph } from '../src/ir/types.js';
import {
  TRANSNAS_TASKS,
  macroSkeletons,
  minResolution,
  rewrite41414,
  transnasMacro,
  transnasMicro,
} from '../src/spaces/transnas.js';
import type { Space } from '../src/spaces/types.js';
import { sharedDataPath } from './helpers/shared-data.js';

/** The node with this PyTorch module path. */
function node(g: Graph, name: string) {
  const n = g.nodes.find((x) => x.name === name);
  assert.ok(n, `${g.label}: no node ${name}`);
  return n;
}

/** Shapes of the three stage outputs that feed head branches 0, 1, 2 (before the 8x8 resize). */
function headInputs(g: Graph): number[][] {
  return [0, 1, 2].map((i) => {
    const conv = node(g, `head.model.${i}.0`);
    const resize = g.nodes[conv.inputs[0]!]!;
    assert.equal(resize.op.kind, 'resize');
    assert.deepEqual([...resize.shape].slice(1), [8, 8]);
    return [...g.nodes[resize.inputs[0]!]!.shape];
  });
}

const isSpaceError = (re: RegExp) => (e: Error) => e.name === 'SpaceError' && re.test(e.message) && !e.message.includes('\n');

test('transnas-micro: 4,096 cells in base-4 order; indexOf inverts archAt; parse is the identity on canonical ids', () => {
  const seen = new Set<string>();
  for (let i = 0; i < transnasMicro.size; i++) {
    const a = transnasMicro.archAt(i);
    assert.equal(transnasMicro.indexOf(a), i);
    assert.equal(transnasMicro.parse(a), a);
    seen.add(a);
  }
  assert.equal(seen.size, 4096);
  assert.equal(transnasMicro.archAt(0), '64-41414-0_00_000');
  assert.equal(transnasMicro.archAt(1), '64-41414-0_00_001');
  assert.equal(transnasMicro.archAt(4 ** 5), '64-41414-1_00_000');
  assert.equal(transnasMicro.archAt(4095), '64-41414-3_33_333');
  assert.equal(transnasMicro.parse('  64-41414-1_02_333 '), '64-41414-1_02_333');
});

test('transnas-macro: 3,255 skeletons = the benchmark rule (4-6 digits, 1-3 doublings, 1-4 downsamplings) less 113444', () => {
  // independent count of the rule over all 4^4 + 4^5 + 4^6 digit strings
  let rule = 0;
  for (let len = 4; len <= 6; len++) {
    for (let v = 0; v < 4 ** len; v++) {
      const d = v.toString(4).padStart(len, '0').split('').map((c) => Number(c) + 1);
      const doubles = d.filter((x) => x % 2 === 0).length;
      const downs = d.filter((x) => x > 2).length;
      if (doubles >= 1 && doubles <= 3 && downs >= 1 && downs <= 4) rule++;
    }
  }
  assert.equal(rule, 3256);
  assert.equal(macroSkeletons().length, 3255);
  assert.equal(transnasMacro.size, 3255);
  const seen = new Set<string>();
  for (let i = 0; i < transnasMacro.size; i++) {
    const a = transnasMacro.archAt(i);
    assert.equal(transnasMacro.indexOf(a), i);
    assert.equal(transnasMacro.parse(a), a);
    seen.add(a);
  }
  assert.equal(seen.size, 3255);
  assert.ok(!seen.has('64-113444-basic'));
  assert.equal(transnasMacro.archAt(0), '64-1114-basic'); // by length, then digits: 1111..1113 break the rule
});

test('transnas: every arch of the 14 reference json files parses to itself; the files hold exactly the two spaces', (t) => {
  for (const [prefix, space] of [
    ['micro', transnasMicro],
    ['macro', transnasMacro],
  ] as [string, Space][]) {
    for (const task of TRANSNAS_TASKS) {
      const p = sharedDataPath(`transnas/${prefix}_${task}.json`, t);
      if (!p) return;
      const rows = JSON.parse(readFileSync(p, 'utf8')) as [string, number][];
      assert.equal(rows.length, space.size, `${prefix}_${task}.json`);
      const ids = new Set<string>();
      for (const [arch, acc] of rows) {
        assert.equal(space.parse(arch), arch);
        assert.ok(Number.isFinite(acc));
        ids.add(arch);
      }
      assert.equal(ids.size, space.size);
      for (let i = 0; i < space.size; i++) assert.ok(ids.has(space.archAt(i)), `${space.archAt(i)} not in ${prefix}_${task}.json`);
      // the micro files list the cells in our enumeration order
      if (prefix === 'micro') rows.forEach(([arch], i) => assert.equal(transnasMicro.indexOf(arch), i));
    }
  }
});

test('transnas: all 7,351 networks build at 512; the head ends in three 32x8x8 maps, Y = the third branch ReLU', () => {
  for (const space of [transnasMicro, transnasMacro]) {
    for (let i = 0; i < space.size; i++) {
      const g = space.build(space.archAt(i));
      assert.deepEqual([...g.nodes[g.input]!.shape], [3, 512, 512]);
      const y = g.nodes[g.classifierInput]!;
      const out = g.nodes[g.output]!;
      assert.equal(y.name, 'head.model.2.1');
      assert.equal(out.name, 'head.model.2.2');
      assert.equal(g.output, g.nodes.length - 1);
      assert.deepEqual([...y.shape], [32, 8, 8]);
      assert.deepEqual([...out.shape], [32, 8, 8]);
      for (const b of [0, 1]) assert.deepEqual([...node(g, `head.model.${b}.2`).shape], [32, 8, 8]);
    }
  }
});

test('transnas: shapes at the head as the reference produces them (512 input)', () => {
  // stem: Conv3x3 s2 -> 32x256x256; ReLUConvBN 3x3 s2 -> 64x128x128 (inplanes 64)
  const m = transnasMicro.build('64-41414-1_02_333');
  assert.deepEqual([...node(m, 'backbone.model.stem.0').shape], [32, 256, 256]);
  assert.deepEqual([...node(m, 'backbone.model.stem.2.ops.2').shape], [64, 128, 128]);
  // 41414 rewritten to 41412: 4 -> 128@64, 1 -> 128@64, 4 -> 256@32, 1 -> 256@32, 2 -> 512@32;
  // xs.reverse()[:3] = stages 4, 3, 2
  assert.deepEqual(headInputs(m), [
    [512, 32, 32],
    [256, 32, 32],
    [256, 32, 32],
  ]);
  // as written (41414): the last digit 4 also strides: 512@16
  assert.deepEqual(headInputs(transnasMicro.build('64-41414-1_02_333', { rewrite41414: false })), [
    [512, 16, 16],
    [256, 32, 32],
    [256, 32, 32],
  ]);
  // 1234: 1 -> 64@128, 2 -> 128@128, 3 -> 128@64, 4 -> 256@32
  assert.deepEqual(headInputs(transnasMacro.build('64-1234-basic')), [
    [256, 32, 32],
    [128, 64, 64],
    [128, 128, 128],
  ]);
  // 114141: 64@128, 64@128, 128@64, 128@64, 256@32, 256@32
  assert.deepEqual(headInputs(transnasMacro.build('64-114141-basic')), [
    [256, 32, 32],
    [256, 32, 32],
    [128, 64, 64],
  ]);
  // 414143 contains 41414: built as 414123: 128@64, 128@64, 256@32, 256@32, 512@32, 512@16
  assert.deepEqual(headInputs(transnasMacro.build('64-414143-basic')), [
    [512, 16, 16],
    [512, 32, 32],
    [256, 32, 32],
  ]);
  // as written: 128@64, 128@64, 256@32, 256@32, 512@16, 512@8
  assert.deepEqual(headInputs(transnasMacro.build('64-414143-basic', { rewrite41414: false })), [
    [512, 8, 8],
    [512, 16, 16],
    [256, 32, 32],
  ]);
  // smaller inputs: 128 -> stem 32x32; micro (41412) stages 16, 16, 8, 8, 8
  assert.deepEqual(headInputs(transnasMicro.build('64-41414-1_02_333', { resolution: 128 })), [
    [512, 8, 8],
    [256, 8, 8],
    [256, 8, 8],
  ]);
});

test('transnas: parameter counts derived by hand', () => {
  // Stem: Conv 3->32 3x3 (864) + BN(32) (64) + ReLUConvBN 32->64 3x3 (18,432 + BN 128) = 19,488.
  const stem = 3 * 32 * 9 + 64 + 32 * 64 * 9 + 128;
  assert.equal(stem, 19488);
  // Head branch: Conv1x1 in->32 with bias (32*in + 32) + BN(32) (64).
  const branch = (cin: number) => 32 * cin + 32 + 64;

  // 64-41414-3_33_333, built as 41412: every edge ReLUConvBN 3x3.
  // cell(ci, co) = 3 edges from node 0 (9*ci*co + 2co) + 3 edges co->co (9*co^2 + 2co)
  const cell3 = (ci: number, co: number) => 3 * (9 * ci * co + 2 * co) + 3 * (9 * co * co + 2 * co);
  // stages 4,1,4,1,2: (64->128)(128->128) (128->128)x2 (128->256)(256->256) (256->256)x2 (256->512)(512->512)
  const allConv =
    stem +
    cell3(64, 128) +
    3 * cell3(128, 128) +
    cell3(128, 256) +
    3 * cell3(256, 256) +
    cell3(256, 512) +
    cell3(512, 512) +
    branch(512) +
    2 * branch(256);
  assert.equal(allConv, 41444672);
  assert.equal(countParams(transnasMicro.build('64-41414-3_33_333', { resolution: 64 })), 41444672);

  // 64-41414-1_02_333: node1 skip(0); node2 zero(0) + conv1x1(1); node3 conv3x3 from 0, 1, 2.
  // skip from node 0 is FactorizedReduce when the cell strides or changes channels:
  // two 1x1 convs ci -> co/2 (ci*co) + BN(co) (2co); otherwise identity (0).
  const cellA = (ci: number, co: number, fr: boolean) =>
    (fr ? ci * co + 2 * co : 0) + (co * co + 2 * co) + (9 * ci * co + 2 * co) + 2 * (9 * co * co + 2 * co);
  const mixed =
    stem +
    cellA(64, 128, true) + // layer0.0: stride 2, 64->128
    3 * cellA(128, 128, false) + // layer0.1, layer1.0, layer1.1
    cellA(128, 256, true) + // layer2.0: stride 2
    3 * cellA(256, 256, false) + // layer2.1, layer3.*
    cellA(256, 512, true) + // layer4.0: digit 2 (after the rewrite): stride 1, 256->512 -> FactorizedReduce
    cellA(512, 512, false) +
    branch(512) +
    2 * branch(256);
  assert.equal(mixed, 22553664);
  assert.equal(countParams(transnasMicro.build('64-41414-1_02_333')), 22553664);

  // 64-1234-basic: ResNetBasicblock(ci, co, s) = conv_a (9*ci*co + 2co) + conv_b (9*co^2 + 2co)
  // + downsample Conv1x1 + BN (ci*co + 2co) when s != 1 or ci != co.
  const basic = (ci: number, co: number, s: number) =>
    9 * ci * co + 2 * co + 9 * co * co + 2 * co + (s !== 1 || ci !== co ? ci * co + 2 * co : 0);
  const macro =
    stem +
    2 * basic(64, 64, 1) + // 1: 64
    basic(64, 128, 1) + basic(128, 128, 1) + // 2: 128
    basic(128, 128, 2) + basic(128, 128, 1) + // 3: 128, stride 2
    basic(128, 256, 2) + basic(256, 256, 1) + // 4: 256, stride 2
    branch(256) +
    2 * branch(128);
  assert.equal(macro, 3416896);
  assert.equal(countParams(transnasMacro.build('64-1234-basic')), 3416896);
});

test('transnas: reference taps of 64-1234-basic at 512: L_K derived by hand, L_Q = 32*8*8', () => {
  const g = transnasMacro.build('64-1234-basic');
  // 17 ReLUConvBN (stem + 2 per block x 8 blocks): each an nn.ReLU tap on its input and a module
  // tap on its BN output; plus the 3 head nn.ReLU.
  const taps = g.nodes.reduce((a, n) => a + n.taps.reference, 0);
  assert.equal(taps, 17 * 2 + 3);
  assert.equal(g.nodes.reduce((a, n) => a + n.taps.activations, 0), 17 + 3);
  // per ReLUConvBN: ReLU(input) + output; block = relu_a(in) + out_a + relu_b(out_a) + out_b
  const stem = 32 * 256 * 256 + 64 * 128 * 128;
  const s1 = 2 * 4 * 64 * 128 * 128; // 64 ch at 128x128, two blocks
  const s2 = 64 * 128 * 128 + 3 * 128 * 128 * 128 + 4 * 128 * 128 * 128; // 64->128 at 128x128
  const s3 = 128 * 128 * 128 + 3 * 128 * 64 * 64 + 4 * 128 * 64 * 64; // stride 2 to 64x64
  const s4 = 128 * 64 * 64 + 3 * 256 * 32 * 32 + 4 * 256 * 32 * 32; // 128->256, stride 2 to 32x32
  const head = 3 * 32 * 8 * 8;
  const info = networkInfo(g);
  assert.equal(info.lk, stem + s1 + s2 + s3 + s4 + head);
  assert.equal(info.lk, 35395584);
  assert.equal(info.lq, 2048);
});

test('transnas: the 41414 -> 41412 rewrite is the default, switchable, and applies to macro ids too', () => {
  assert.equal(rewrite41414('64-41414-1_02_333'), '64-41412-1_02_333');
  assert.equal(rewrite41414('64-414141-basic'), '64-414121-basic');
  assert.equal(rewrite41414('64-1234-basic'), '64-1234-basic');
  const on = transnasMicro.build('64-41414-3_33_333', { resolution: 64 });
  const off = transnasMicro.build('64-41414-3_33_333', { resolution: 64, rewrite41414: false });
  assert.match(on.label, /built as 64-41412-3_33_333/);
  assert.equal(off.label, 'transnas-micro:64-41414-3_33_333');
  // same modules and parameters (the last stage differs only by stride), different maps
  assert.equal(countParams(on), countParams(off));
  assert.ok(networkInfo(on).lk > networkInfo(off).lk);
  // macro 41414 builds exactly as macro 41412
  const a = transnasMacro.build('64-41414-basic', { resolution: 128 });
  const b = transnasMacro.build('64-41412-basic', { resolution: 128 });
  assert.deepEqual(
    a.nodes.map((n) => [n.name, n.op, [...n.shape]]),
    b.nodes.map((n) => [n.name, n.op, [...n.shape]]),
  );
});

test('transnas: bad ids and options get one clear SpaceError naming the bad part', () => {
  const micro: [string, RegExp][] = [
    ['64-41414-1_02', /cell "1_02" .* a_bb_ccc/],
    ['64-41414-1_02_334', /op "4" for node 3/],
    ['32-41414-1_02_333', /base channel "32"/],
    ['64-41412-1_02_333', /skeleton "41412" .* must be 41414/],
    ['64-41414', /2 dash-separated part/],
    ['64-41414-1_002_33', /a_bb_ccc/],
  ];
  for (const [arch, re] of micro) assert.throws(() => transnasMicro.parse(arch), isSpaceError(re), arch);
  const macro: [string, RegExp][] = [
    ['64-1234-1_02_333', /cell "1_02_333" .* must be "basic"/],
    ['64-123-basic', /3 digit\(s\); 4 to 6/],
    ['64-1254-basic', /digit 5/],
    ['64-1111-basic', /doubles the channels 0 time/],
    ['64-2222-basic', /doubles the channels 4 time/],
    ['64-2111-basic', /downsamples 0 time/],
    ['64-233333-basic', /downsamples 5 time/],
    ['64-113444-basic', /without ground truth/],
    ['64-12a4-basic', /must be digits/],
  ];
  for (const [arch, re] of macro) assert.throws(() => transnasMacro.parse(arch), isSpaceError(re), arch);
  assert.throws(() => transnasMacro.build('64-1234-basic', { dataset: 'cifar10' }), isSpaceError(/unknown task "cifar10"/));
  assert.throws(() => transnasMacro.build('64-1234-basic', { classes: 10 }), isSpaceError(/no classifier/));
  assert.throws(() => transnasMicro.build('64-41414-1_02_333', { resolution: 0 }), isSpaceError(/positive integer/));
  assert.throws(() => transnasMicro.build('64-41414-1_02_333', { resolution: 63.5 }), isSpaceError(/positive integer/));
  assert.throws(() => transnasMicro.archAt(4096), isSpaceError(/out of range 0..4095/));
  assert.throws(() => transnasMacro.archAt(-1), isSpaceError(/out of range 0..3254/));
  for (const task of TRANSNAS_TASKS) transnasMicro.build('64-41414-1_02_333', { dataset: task, resolution: 64 });
});

test('transnas: the smallest map must stay above 1x1 (PyTorch BatchNorm in training mode with one image)', () => {
  // halvings = 2 (stem) + stride-2 stages; the last map is ceil(r / 2^halvings) >= 2 iff r > 2^halvings
  assert.equal(minResolution('41412'), 2 ** 4 + 1);
  assert.equal(minResolution('41414'), 2 ** 5 + 1);
  assert.equal(minResolution('3434'), 2 ** 6 + 1);
  assert.throws(() => transnasMacro.build('64-3434-basic', { resolution: 64 }), isSpaceError(/resolution 64 is too small .* at least 65/));
  const g = transnasMacro.build('64-3434-basic', { resolution: 65 });
  assert.deepEqual([...node(g, 'backbone.model.layer3.1.conv_b.ops.2').shape], [256, 2, 2]);
  assert.throws(() => transnasMicro.build('64-41414-1_02_333', { resolution: 16 }), isSpaceError(/at least 17/));
  assert.throws(() => transnasMicro.build('64-41414-1_02_333', { resolution: 32, rewrite41414: false }), isSpaceError(/at least 33/));
  transnasMicro.build('64-41414-1_02_333', { resolution: 17 });
});
