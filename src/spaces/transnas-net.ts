/**
 * The TransNAS-Bench-101 network exactly as the RBFleX reference scripts build and hook it
 * (RBFleX_TransNAS_Micro.py / _Macro.py): CNNWrapper(BackboneTrans, HeadEmptyMid), written as IR.
 * PyTorch module paths are kept as node names, so `backbone.model.layer2.0.edges.3.ops.1` is
 * the conv of the fourth edge of the first cell of the third stage.
 *
 * - Stem (MacroNet.stem): Conv3x3 s2 3->C/2 (no bias), BN(C/2), ReLUConvBN(C/2 -> C, 3x3, s2).
 * - Stages (MacroNet._make_layer): one per skeleton digit d, two cells each; even d doubles the
 *   channels, d > 2 strides by 2 (in the first cell). Cells: MicroCell (4 nodes, 6 edges) or
 *   ResNetBasicblock ("basic").
 * - BackboneTrans.forward: every stage output is F.interpolate'd (nearest) to 8x8; the list is
 *   reversed and the first 3 (the last three stages, last first) go to the head. Only those three
 *   resizes are built: the others feed nothing and no hook sees them.
 * - Head (HeadEmptyMid): branch i = Conv1x1(in_i -> 32, bias=True) -> ReLU -> BN(32).
 *
 * Hooks (the reference's rule): every module whose type name contains "ReLU" — each nn.ReLU
 * and each ReLUConvBN (its output is its BN's output) — is a `reference` tap; the last module of
 * named_modules() is head.model.2.2 (the third branch's BN), whose input (the third branch's ReLU
 * output, 32x8x8) is the classifier input Y. The network's output is a list of three maps; the
 * IR's `output` is the last of them (head.model.2.2), as there are no logits.
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import { reluConvBN as xautodlReluConvBN } from './xautodl.js';

/** Micro cell ops: 0 zero, 1 skip (identity or FactorizedReduce), 2 ReLUConvBN 1x1, 3 ReLUConvBN 3x3. */
export type MicroOp = 0 | 1 | 2 | 3;

/** The four micro ops, in op-code order (a skeleton's choice has one branch per op, in this order). */
export const MICRO_OPS: readonly MicroOp[] = [0, 1, 2, 3];
/** A skeleton cell edge (ir/skeleton.ts): a choice among all of MICRO_OPS. */
export const ANY_MICRO_OP = '*';

/** What to build: base channel, macro skeleton digits and the cell (6 micro ops, or 'basic'). */
export interface TransNasNet {
  base: number;
  skeleton: string;
  cell: readonly (MicroOp | typeof ANY_MICRO_OP)[] | 'basic';
}

/** Channels of the head branches (HeadEmptyMid out_channel in every reference config) and their map size. */
export const HEAD_CHANNELS = 32;
export const HEAD_SIZE = 8;

/** Per stage: output channels and whether its first cell strides (MacroNet.__init__). */
export function stagePlan(base: number, skeleton: string): { channels: number; stride: 1 | 2 }[] {
  let inplanes = base;
  return [...skeleton].map((ch) => {
    const d = Number(ch);
    const channels = d % 2 === 0 ? inplanes * 2 : inplanes;
    inplanes = channels;
    return { channels, stride: d > 2 ? 2 : 1 };
  });
}

/** ReLUConvBN (cell_ops.py): the xautodl module, its Sequential named `ops`. */
function reluConvBN(b: GraphBuilder, name: string, x: number, outC: number, kernel: number, stride: number, pad: number): number {
  return xautodlReluConvBN(b, name, x, outC, kernel, stride, pad, 'ops');
}

/**
 * FactorizedReduce (cell_ops.py): x = ReLU(x); cat(convs.0(x), convs.1(pad(x)[:, :, 1:, 1:])) -> BN.
 * convs.1 sees x shifted up-left by one with a zero last row/column; a 1x1 conv without bias
 * commutes with that, so it is built as Conv1x1 (stride 1, padding bottom/right 1) then a slice
 * from (1, 1) in steps of the stride: the same values, ceil(H/s) x ceil(W/s) like convs.0.
 */
function factorizedReduce(b: GraphBuilder, name: string, x: number, outC: number, stride: number): number {
  const r = b.activation(`${name}.relu`, x, 'relu');
  const c0 = b.conv2d(`${name}.convs.0`, r, { outC: Math.floor(outC / 2), kernel: 1, stride, bias: false });
  const c1full = b.conv2d(`${name}.convs.1`, r, { outC: outC - Math.floor(outC / 2), kernel: 1, pad: [0, 0, 1, 1], bias: false });
  const c1 = b.slice(`${name}.convs.1.shifted`, c1full, [1, 1], [stride, stride]);
  const cat = b.concat(`${name}.cat`, [c0, c1]);
  return b.batchnorm(`${name}.bn`, cat);
}

/** One edge of a MicroCell: OPS[op](C_in, C_out, stride). */
function microOp(b: GraphBuilder, name: string, x: number, op: MicroOp, cIn: number, cOut: number, stride: number): number {
  switch (op) {
    case 0: {
      // Zero: x.mul(0.) (x[:, :, ::s, ::s] when strided), or new zeros of [C_out, (H+1)//s, (W+1)//s]
      const [, h, w] = b.shape(x) as [number, number, number];
      const shape = stride === 1 ? [cOut, h, w] : [cOut, Math.ceil(h / stride), Math.ceil(w / stride)];
      return b.zero(name, x, shape);
    }
    case 1:
      return stride === 1 && cIn === cOut ? x : factorizedReduce(b, name, x, cOut, stride);
    case 2:
      return reluConvBN(b, name, x, cOut, 1, stride, 0);
    case 3:
      return reluConvBN(b, name, x, cOut, 3, stride, 1);
  }
}

/**
 * MicroCell (cell_micro.py): node j = sum of one edge from every earlier node; edges in the
 * order of the code `a_bb_ccc`; edges from node 0 carry C_in -> C_out and the stride.
 */
function microCell(
  b: GraphBuilder,
  name: string,
  x: number,
  ops: readonly (MicroOp | typeof ANY_MICRO_OP)[],
  cIn: number,
  cOut: number,
  stride: number,
): number {
  const nodes = [x];
  let edge = 0;
  for (let node = 1; node <= 3; node++) {
    const terms: number[] = [];
    for (let from = 0; from < node; from++) {
      const op = ops[edge]!;
      const edgeName = `${name}.edges.${edge}`;
      const x0 = nodes[from]!;
      const [ci, s] = from === 0 ? [cIn, stride] : [cOut, 1];
      terms.push(
        op === ANY_MICRO_OP
          ? b.choice(edgeName, MICRO_OPS.map((o) => () => microOp(b, edgeName, x0, o, ci, cOut, s)))
          : microOp(b, edgeName, x0, op, ci, cOut, s),
      );
      edge++;
    }
    nodes.push(b.add_(`${name}.node${node}`, terms));
  }
  return nodes[3]!;
}

/**
 * ResNetBasicblock (cell_micro.py): conv_b(conv_a(x)) + residual, residual = x or
 * downsample = Conv1x1(stride) -> BatchNorm2d(planes, affine, track_running_stats). That BN gets
 * its flags positionally, so eps = True = 1.0 (and momentum 1.0, which training-mode output
 * ignores): modelled with eps 1.
 */
function basicBlock(b: GraphBuilder, name: string, x: number, cIn: number, cOut: number, stride: number): number {
  const a = reluConvBN(b, `${name}.conv_a`, x, cOut, 3, stride, 1);
  const f = reluConvBN(b, `${name}.conv_b`, a, cOut, 3, 1, 1);
  let residual = x;
  if (stride !== 1 || cIn !== cOut) {
    const c = b.conv2d(`${name}.downsample.0`, x, { outC: cOut, kernel: 1, stride, bias: false });
    residual = b.batchnorm(`${name}.downsample.1`, c, { eps: 1 });
  }
  return b.add_(`${name}.add`, [residual, f]);
}

/** CNNWrapper(BackboneTrans, HeadEmptyMid) on a 3 x resolution x resolution input. */
export function transNasNetwork(b: GraphBuilder, net: TransNasNet, resolution: number): Graph {
  const x = b.input([3, resolution, resolution]);
  const half = Math.floor(net.base / 2);
  const s0 = b.conv2d('backbone.model.stem.0', x, { outC: half, kernel: 3, stride: 2, pad: 1, bias: false });
  const s1 = b.batchnorm('backbone.model.stem.1', s0);
  let f = reluConvBN(b, 'backbone.model.stem.2', s1, net.base, 3, 2, 1);

  const plan = stagePlan(net.base, net.skeleton);
  const stageOut: { node: number; channels: number }[] = [];
  let cIn = net.base;
  plan.forEach((st, i) => {
    for (let j = 0; j < 2; j++) {
      const name = `backbone.model.layer${i}.${j}`;
      const inC = j === 0 ? cIn : st.channels;
      const stride = j === 0 ? st.stride : 1;
      f =
        net.cell === 'basic'
          ? basicBlock(b, name, f, inC, st.channels, stride)
          : microCell(b, name, f, net.cell, inC, st.channels, stride);
    }
    cIn = st.channels;
    stageOut.push({ node: f, channels: st.channels });
  });

  // xs.reverse(); xs[:3] -> head branch i takes stage (S-1-i), resized to 8x8
  const S = stageOut.length;
  let last = -1;
  let y = -1;
  for (let i = 0; i < 3; i++) {
    const stage = S - 1 - i;
    const r = b.resize(`backbone.interpolate${stage}`, stageOut[stage]!.node, [HEAD_SIZE, HEAD_SIZE]);
    const c = b.conv2d(`head.model.${i}.0`, r, { outC: HEAD_CHANNELS, kernel: 1, bias: true });
    const a = b.activation(`head.model.${i}.1`, c, 'relu');
    last = b.batchnorm(`head.model.${i}.2`, a);
    y = a;
  }
  return b.finish({ output: last, classifierInput: y, defaultTaps: 'reference' });
}
