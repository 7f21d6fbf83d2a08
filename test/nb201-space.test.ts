import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkInfo } from '../src/ir/analysis.js';
import { nb201 } from '../src/spaces/nb201.js';
import { sampleArchs } from '../src/spaces/types.js';
import { Rng } from '../src/util/rng.js';

const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

test('nb201: enumerates 15,625 distinct canonical cells; indexOf inverts archAt', () => {
  const seen = new Set<string>();
  for (let i = 0; i < nb201.size; i++) {
    const a = nb201.archAt(i);
    assert.equal(nb201.indexOf(a), i);
    assert.equal(nb201.parse(a), a);
    seen.add(a);
  }
  assert.equal(seen.size, 15625);
});

test('nb201: parse accepts spaces around and prints the canonical string', () => {
  assert.equal(nb201.parse(`  ${ARCH} `), ARCH);
});

test('nb201: bad strings get one clear error naming the bad part', () => {
  const cases: [string, RegExp][] = [
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|', /2 node group/],
    ['|conv_5x5~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /unknown op "conv_5x5"/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~2|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /must come from node 1, not 2/],
    ['|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /node 2 group .* has 1 edge/],
    ['|nor_conv_3x3-0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /edge "nor_conv_3x3-0" .* not of the form op~input/],
    ['nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', /must start and end with "\|"/],
  ];
  for (const [arch, re] of cases) assert.throws(() => nb201.parse(arch), (e: Error) => e.name === 'SpaceError' && re.test(e.message) && !e.message.includes('\n'), arch);
});

test('nb201: seeded sampling is reproducible and without replacement', () => {
  const a = sampleArchs(nb201, new Rng('s1'), 1000);
  const b = sampleArchs(nb201, new Rng('s1'), 1000);
  const c = sampleArchs(nb201, new Rng('s2'), 1000);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a).size, 1000);
});

test('nb201: classifier width and input size follow the dataset', () => {
  const shapes = (ds: string) => {
    const g = nb201.build(ARCH, { dataset: ds });
    const out = g.nodes[g.output]!;
    return { input: [...g.nodes[g.input]!.shape], classes: out.shape[0], lq: networkInfo(g).lq };
  };
  assert.deepEqual(shapes('cifar10'), { input: [3, 32, 32], classes: 10, lq: 64 });
  assert.deepEqual(shapes('cifar100'), { input: [3, 32, 32], classes: 100, lq: 64 });
  assert.deepEqual(shapes('ImageNet16-120'), { input: [3, 16, 16], classes: 120, lq: 64 });
  assert.equal(nb201.build(ARCH, { classes: 7 }).nodes.at(-1)!.shape[0], 7);
  assert.throws(() => nb201.build(ARCH, { dataset: 'mnist' }), /unknown dataset "mnist"/);
});

test('nb201: L_K of the all-conv3x3 cell, derived by hand (reference taps)', () => {
  // Per cell at C x S x S: 6 ReLUConvBN edges; their ReLUs act on 3 distinct tensors (nodes 0,1,2)
  // but are 6 modules (1+2+3 edges leave nodes 0,1,2: node0 3 edges, node1 2, node2 1) -> 6 taps,
  // plus 6 ReLUConvBN outputs -> 12 tensors of C*S*S per cell.
  // Stage sizes: 16x32x32 = 16384, 32x16x16 = 8192, 64x8x8 = 4096; 5 cells each.
  // ResNet block i: conv_a ReLU on the input (C_in*S*S), conv_a out, conv_b ReLU, conv_b out (each C_out*S'*S').
  // Block 1: 16384 + 3 * 8192; block 2: 8192 + 3 * 4096. lastact ReLU: 4096.
  const cells = 5 * 12 * (16384 + 8192 + 4096);
  const blocks = 16384 + 3 * 8192 + (8192 + 3 * 4096);
  const expected = cells + blocks + 4096;
  const all3 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
  assert.equal(networkInfo(nb201.build(all3)).lk, expected);
  // activations mode: only the nn.ReLU modules (6 per cell, 2 per block, lastact)
  const act = 5 * 6 * (16384 + 8192 + 4096) + 16384 + 8192 + 8192 + 4096 + 4096;
  assert.equal(networkInfo(nb201.build(all3), 'activations').lk, act);
});
