/**
 * DARTS-family cell networks as IR: the ops of DARTS (quark0/darts cnn/operations.py) and of the
 * NDS cell spaces (pycls pycls/models/nas/operations.py), and the NetworkCIFAR / NetworkImageNet
 * macro structure (model.py / nas.py) without the auxiliary head (it only runs in training).
 *
 * Taps follow the authors' hook rule (a module whose type name contains "ReLU"): every nn.ReLU
 * (inside SepConv, DilConv, FactorizedReduce, conv_*, the ImageNet stems) and every ReLUConvBN
 * module (the cells' 1x1 preprocessing); SepConv, DilConv and FactorizedReduce do not match.
 * `activations` taps are the nn.ReLU modules only.
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import type { CellGenotype, Genotype } from './genotype.js';
import { SpaceError } from './types.js';
import { reluConvBN } from './xautodl.js';

/** The eight DARTS primitives (genotypes.py PRIMITIVES). */
export const DARTS_OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'] as const;

/** Every op the builder knows: DARTS's (with sep_conv_7x7, conv_7x1_1x7) and pycls's NDS extras. */
export const CELL_OPS = [
  ...DARTS_OPS,
  'sep_conv_7x7',
  'conv_7x1_1x7',
  'conv_3x1_1x3',
  'conv_1x1',
  'conv_3x3',
  'dil_sep_conv_3x3',
  'max_pool_5x5',
  'max_pool_7x7',
] as const;

/** ReLU -> depthwise conv (k, stride, pad, dilation) -> conv1x1 -> BN. */
function reluDwPwBN(b: GraphBuilder, name: string, at: number, x: number, C: number, k: number, stride: number, pad: number, dil: number): number {
  const r = b.activation(`${name}.op.${at}`, x, 'relu');
  const dw = b.conv2d(`${name}.op.${at + 1}`, r, { outC: C, kernel: k, stride, pad, dilation: dil, groups: C, bias: false });
  const pw = b.conv2d(`${name}.op.${at + 2}`, dw, { outC: C, kernel: 1, bias: false });
  return b.batchnorm(`${name}.op.${at + 3}`, pw);
}

/**
 * FactorizedReduce (pycls form): ReLU; cat(conv_1(x), conv_2(pad(x)[:, :, 1:, 1:])); BN, both
 * convs 1x1 with stride 2. Equals DARTS's form (conv_2(x[:, :, 1:, 1:])) on even sizes and also
 * works on odd ones. conv_2 reads positions (2i+1, 2j+1), zero past the edge: built as a slice
 * from (1, 1) in steps of 2, then the 1x1 conv with a bottom/right zero pad where the size is odd.
 */
export function factorizedReduce(b: GraphBuilder, name: string, x: number, outC: number): number {
  if (outC % 2 !== 0) throw new SpaceError(`${name}: FactorizedReduce needs an even channel count, got ${outC}`);
  const r = b.activation(`${name}.relu`, x, 'relu');
  const [, h, w] = b.shape(r) as [number, number, number];
  const c1 = b.conv2d(`${name}.conv_1`, r, { outC: outC / 2, kernel: 1, stride: 2, bias: false });
  const shifted = b.slice(`${name}.shifted`, r, [1, 1], [2, 2]);
  const [, sh, sw] = b.shape(shifted) as [number, number, number];
  const pad: [number, number, number, number] = [0, 0, Math.ceil(h / 2) - sh, Math.ceil(w / 2) - sw];
  const c2 = b.conv2d(`${name}.conv_2`, shifted, { outC: outC / 2, kernel: 1, pad, bias: false });
  return b.batchnorm(`${name}.bn`, b.concat(`${name}.cat`, [c1, c2]));
}

/** ReLU -> conv (1,k) stride (1,s) -> conv (k,1) stride (s,1) -> BN. */
function factorizedConv(b: GraphBuilder, name: string, x: number, C: number, k: number, stride: number): number {
  const p = (k - 1) / 2;
  const r = b.activation(`${name}.0`, x, 'relu');
  const a = b.conv2d(`${name}.1`, r, { outC: C, kernel: [1, k], stride: [1, stride], pad: [0, p], bias: false });
  const c = b.conv2d(`${name}.2`, a, { outC: C, kernel: [k, 1], stride: [stride, 1], pad: [p, 0], bias: false });
  return b.batchnorm(`${name}.3`, c);
}

/** OPS[op](C, stride, affine=True) applied to x. */
export function cellOp(b: GraphBuilder, name: string, x: number, op: string, C: number, stride: number): number {
  switch (op) {
    case 'none': {
      const [c, h, w] = b.shape(x) as [number, number, number];
      return b.zero(name, x, stride === 1 ? [c, h, w] : [c, Math.ceil(h / stride), Math.ceil(w / stride)]);
    }
    case 'skip_connect':
      return stride === 1 ? x : factorizedReduce(b, name, x, C);
    case 'avg_pool_3x3':
      return b.pool(name, x, 'avgpool', { kernel: 3, stride, pad: 1, countIncludePad: false });
    case 'max_pool_3x3':
      return b.pool(name, x, 'maxpool', { kernel: 3, stride, pad: 1 });
    case 'max_pool_5x5':
      return b.pool(name, x, 'maxpool', { kernel: 5, stride, pad: 2 });
    case 'max_pool_7x7':
      return b.pool(name, x, 'maxpool', { kernel: 7, stride, pad: 3 });
    case 'sep_conv_3x3':
    case 'sep_conv_5x5':
    case 'sep_conv_7x7': {
      const k = Number(op.slice(-1));
      const h = reluDwPwBN(b, name, 0, x, C, k, stride, (k - 1) / 2, 1);
      return reluDwPwBN(b, name, 4, h, C, k, 1, (k - 1) / 2, 1);
    }
    case 'dil_sep_conv_3x3': {
      const h = reluDwPwBN(b, name, 0, x, C, 3, stride, 2, 2);
      return reluDwPwBN(b, name, 4, h, C, 3, 1, 2, 2);
    }
    case 'dil_conv_3x3':
      return reluDwPwBN(b, name, 0, x, C, 3, stride, 2, 2);
    case 'dil_conv_5x5':
      return reluDwPwBN(b, name, 0, x, C, 5, stride, 4, 2);
    case 'conv_7x1_1x7':
      return factorizedConv(b, name, x, C, 7, stride);
    case 'conv_3x1_1x3':
      return factorizedConv(b, name, x, C, 3, stride);
    case 'conv_1x1':
    case 'conv_3x3': {
      // nn.Sequential(ReLU, Conv, BN): not a ReLUConvBN module, so only its ReLU is a tap
      const k = op === 'conv_1x1' ? 1 : 3;
      const r = b.activation(`${name}.0`, x, 'relu');
      return b.batchnorm(`${name}.2`, b.conv2d(`${name}.1`, r, { outC: C, kernel: k, stride, pad: (k - 1) / 2, bias: false }));
    }
    default:
      throw new SpaceError(`unknown cell op "${op}"; ops are ${CELL_OPS.join(', ')}`);
  }
}

/** Cell(genotype, C_prev_prev, C_prev, C, reduction, reduction_prev): returns the output and its channels. */
function cell(b: GraphBuilder, name: string, s0: number, s1: number, g: CellGenotype, C: number, reduction: boolean, reductionPrev: boolean): { out: number; channels: number } {
  const p0 = reductionPrev ? factorizedReduce(b, `${name}.preprocess0`, s0, C) : reluConvBN(b, `${name}.preprocess0`, s0, C, 1, 1, 0);
  const p1 = reluConvBN(b, `${name}.preprocess1`, s1, C, 1, 1, 0);
  const states = [p0, p1];
  for (let i = 0; i < g.edges.length / 2; i++) {
    const terms = [2 * i, 2 * i + 1].map((k) => {
      const e = g.edges[k]!;
      const stride = reduction && e.from < 2 ? 2 : 1;
      return cellOp(b, `${name}._ops.${k}`, states[e.from]!, e.op, C, stride);
    });
    states.push(b.add_(`${name}.node${i + 2}`, terms));
  }
  const parts = g.concat.map((c) => states[c]!);
  return { out: parts.length === 1 ? parts[0]! : b.concat(`${name}.concat`, parts), channels: C * g.concat.length };
}

export interface CellNetOptions {
  /** initial channels C */
  C: number;
  /** cells L */
  layers: number;
  classes: number;
  /** input resolution */
  size: number;
  /** NetworkImageNet (3-conv stem, reduction_prev at the first cell) instead of NetworkCIFAR */
  imagenet?: boolean;
}

/** NetworkCIFAR / NetworkImageNet with no auxiliary head: cells, global average pool, Linear. */
export function cellNetwork(b: GraphBuilder, g: Genotype, o: CellNetOptions): Graph {
  const x = b.input([3, o.size, o.size]);
  let s0: number;
  let s1: number;
  let reductionPrev: boolean;
  if (o.imagenet) {
    const half = Math.floor(o.C / 2);
    let h = b.batchnorm('stem0.1', b.conv2d('stem0.0', x, { outC: half, kernel: 3, stride: 2, pad: 1, bias: false }));
    h = b.activation('stem0.2', h, 'relu');
    s0 = b.batchnorm('stem0.4', b.conv2d('stem0.3', h, { outC: o.C, kernel: 3, stride: 2, pad: 1, bias: false }));
    const r = b.activation('stem1.0', s0, 'relu');
    s1 = b.batchnorm('stem1.2', b.conv2d('stem1.1', r, { outC: o.C, kernel: 3, stride: 2, pad: 1, bias: false }));
    reductionPrev = true;
  } else {
    const c = 3 * o.C;
    s0 = s1 = b.batchnorm('stem.1', b.conv2d('stem.0', x, { outC: c, kernel: 3, pad: 1, bias: false }));
    reductionPrev = false;
  }
  let C = o.C;
  const reductions = new Set([Math.floor(o.layers / 3), Math.floor((2 * o.layers) / 3)]);
  for (let i = 0; i < o.layers; i++) {
    const reduction = reductions.has(i);
    if (reduction) C *= 2;
    const c = cell(b, `cells.${i}`, s0, s1, reduction ? g.reduce : g.normal, C, reduction, reductionPrev);
    reductionPrev = reduction;
    s0 = s1;
    s1 = c.out;
  }
  const pooled = b.globalAvgPool('global_pooling', s1);
  const logits = b.linear('classifier', pooled, o.classes, true);
  return b.finish({ output: logits, classifierInput: pooled, defaultTaps: 'reference' });
}
