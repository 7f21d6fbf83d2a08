/**
 * The building blocks of the xautodl networks behind NAS-Bench-201 / NATS-Bench
 * (cell_operations.py, cells.py, tiny_network.py, InferTinyCellNet.py), written as IR.
 * Each helper mirrors one PyTorch module, with the same taps the authors' hooks see:
 * a `reference` tap on every module whose class name contains "ReLU".
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';

export const NB201_OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type Nb201Op = (typeof NB201_OPS)[number];

/** An edge of a skeleton cell (ir/skeleton.ts): a choice among all of NB201_OPS, in that order. */
export const ANY_OP = '*';

/** A cell genotype: node j (1..3) lists its incoming edges (op, from-node). */
export type Genotype = { op: Nb201Op | typeof ANY_OP; from: number }[][];

/**
 * ReLUConvBN: ReLU -> Conv(bias=False) -> BN; the module's output is a `reference` tap.
 * `seq` is the name of its nn.Sequential (`op` in xautodl, `ops` in TransNAS-Bench).
 */
export function reluConvBN(
  b: GraphBuilder,
  name: string,
  x: number,
  outC: number,
  kernel: number,
  stride: number,
  pad: number,
  seq = 'op',
): number {
  const r = b.activation(`${name}.${seq}.0`, x, 'relu');
  const c = b.conv2d(`${name}.${seq}.1`, r, { outC, kernel, stride, pad, bias: false });
  const n = b.batchnorm(`${name}.${seq}.2`, c);
  return b.tap(n, { reference: 1 });
}

/** FactorizedReduce(stride=1), skip_connect between different widths: conv1x1 -> BN (its ReLU module exists but is not called). */
function factorizedReduce(b: GraphBuilder, name: string, x: number, cOut: number): number {
  return b.batchnorm(`${name}.bn`, b.conv2d(`${name}.conv`, x, { outC: cOut, kernel: 1, bias: false }));
}

/** One edge op (OPS[op_name](C_in, C_out, stride=1)). */
function cellOp(b: GraphBuilder, name: string, x: number, op: Nb201Op, cIn: number, cOut: number): number {
  switch (op) {
    case 'none':
      // Zero: x.mul(0) when channels agree, else new zeros of the output shape
      return cIn === cOut ? b.zero(name, x) : b.zero(name, x, [cOut, ...b.shape(x).slice(1)]);
    case 'skip_connect':
      return cIn === cOut ? x : factorizedReduce(b, name, x, cOut);
    case 'nor_conv_1x1':
      return reluConvBN(b, name, x, cOut, 1, 1, 0);
    case 'nor_conv_3x3':
      return reluConvBN(b, name, x, cOut, 3, 1, 1);
    case 'avg_pool_3x3': {
      const pre = cIn === cOut ? x : reluConvBN(b, `${name}.preprocess`, x, cOut, 1, 1, 0);
      return b.pool(`${name}.op`, pre, 'avgpool', { kernel: 3, stride: 1, pad: 1, countIncludePad: false });
    }
  }
}

/**
 * InferCell(genotype, C_in, C_out, stride=1): node j sums one op per earlier node. `widthChoice`
 * (skeletons of width spaces): a skip_connect from the cell input is a choice between the identity
 * (C_in = C_out) and FactorizedReduce (C_in != C_out), whatever the widths the skeleton is built with.
 */
export function inferCell(b: GraphBuilder, name: string, x: number, g: Genotype, cIn: number, cOut: number, widthChoice = false): number {
  const nodes = [x];
  let layer = 0;
  for (const edges of g) {
    const terms = edges.map((e) => {
      const inC = e.from === 0 ? cIn : cOut;
      const edge = `${name}.layers.${layer++}`;
      const x = nodes[e.from]!;
      const op = e.op;
      if (widthChoice && op === 'skip_connect' && e.from === 0) return b.choice(edge, [() => x, () => factorizedReduce(b, edge, x, cOut)]);
      return op === ANY_OP ? b.choice(edge, NB201_OPS.map((o) => () => cellOp(b, edge, x, o, inC, cOut))) : cellOp(b, edge, x, op, inC, cOut);
    });
    nodes.push(b.add_(`${name}.node${nodes.length}`, terms));
  }
  return nodes[nodes.length - 1]!;
}

/** ResNetBasicblock(inplanes, planes, stride=2): conv_a, conv_b, downsample = AvgPool(2,2) -> Conv1x1. */
export function resnetBlock(b: GraphBuilder, name: string, x: number, planes: number): number {
  const a = reluConvBN(b, `${name}.conv_a`, x, planes, 3, 2, 1);
  const bb = reluConvBN(b, `${name}.conv_b`, a, planes, 3, 1, 1);
  const p = b.pool(`${name}.downsample.0`, x, 'avgpool', { kernel: 2, stride: 2, pad: 0 });
  const r = b.conv2d(`${name}.downsample.1`, p, { outC: planes, kernel: 1, bias: false });
  return b.add_(`${name}.add`, [r, bb]);
}

/**
 * TinyNetwork / DynamicShapeTinyNet: stem Conv3x3+BN, stages of cells separated by two
 * stride-2 ResNet blocks, lastact BN+ReLU, global average pool, Linear.
 * `channels` has one entry per layer (cells and the two reduction blocks).
 */
export function tinyNetwork(
  b: GraphBuilder,
  genotype: Genotype,
  channels: number[],
  reductions: boolean[],
  classes: number,
  inputSize: number,
  /** width-space skeleton: every cell after the first (its input width may differ from its own) gets width choices (inferCell) */
  widthChoices = false,
): Graph {
  const x = b.input([3, inputSize, inputSize]);
  let f = b.batchnorm('stem.1', b.conv2d('stem.0', x, { outC: channels[0]!, kernel: 3, pad: 1, bias: false }));
  let cPrev = channels[0]!;
  channels.forEach((c, i) => {
    f = reductions[i] ? resnetBlock(b, `cells.${i}`, f, c) : inferCell(b, `cells.${i}`, f, genotype, cPrev, c, widthChoices && i > 0);
    cPrev = c;
  });
  const bn = b.batchnorm('lastact.0', f);
  const act = b.activation('lastact.1', bn, 'relu');
  const pooled = b.globalAvgPool('global_pooling', act);
  const logits = b.linear('classifier', pooled, classes, true);
  return b.finish({ output: logits, classifierInput: pooled, defaultTaps: 'reference' });
}
