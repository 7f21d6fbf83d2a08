/**
 * The reference backend: a plain float64 interpreter of the IR. Slow and obviously
 * correct; every other backend is held to it.
 */
import { ACTIVATION_FN } from '../ir/activations.js';
import { numel, tappedUnion } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import { isTransformerOp } from '../ir/transformer.js';
import { type Graph, type Node, activationAlpha } from '../ir/types.js';
import { evalTransformer } from './reference-transformer.js';
import {
  type Backend,
  type Features,
  type FeatureSegment,
  type ForwardOptions,
  type ImageBatch,
  imageAt,
} from './types.js';

/** A batch tensor: data[b * per + k], per = numel(shape). */
interface T {
  b: number;
  shape: readonly number[];
  data: Float64Array;
}

function conv2d(x: T, n: Node, w: Float32Array, bias: Float32Array | undefined): T {
  if (n.op.kind !== 'conv2d') throw new Error('not conv');
  const { inC, outC, kernel, stride, pad, dilation, groups } = n.op;
  const [, H, W] = x.shape as [number, number, number];
  const [, OH, OW] = n.shape as [number, number, number];
  const [KH, KW] = kernel;
  const icg = inC / groups;
  const ocg = outC / groups;
  const out = new Float64Array(x.b * outC * OH * OW);
  const inPer = inC * H * W;
  const outPer = outC * OH * OW;
  for (let b = 0; b < x.b; b++) {
    for (let oc = 0; oc < outC; oc++) {
      const g = Math.floor(oc / ocg);
      const o0 = b * outPer + oc * OH * OW;
      const bv = bias ? bias[oc]! : 0;
      for (let k = 0; k < OH * OW; k++) out[o0 + k] = bv;
      for (let ic = 0; ic < icg; ic++) {
        const cin = g * icg + ic;
        const i0 = b * inPer + cin * H * W;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const wv = w[((oc * icg + ic) * KH + kh) * KW + kw]!;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * stride[0] - pad[0] + kh * dilation[0];
              if (ih < 0 || ih >= H) continue;
              const rowIn = i0 + ih * W;
              const rowOut = o0 + oh * OW;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * stride[1] - pad[1] + kw * dilation[1];
                if (iw < 0 || iw >= W) continue;
                out[rowOut + ow]! += wv * x.data[rowIn + iw]!;
              }
            }
          }
        }
      }
    }
  }
  return { b: x.b, shape: n.shape, data: out };
}

/** Biased variance per channel over (batch, H, W), as training-mode BatchNorm normalises with. */
function batchVariance(x: T): Float64Array {
  const C = x.shape[0]!;
  const hw = numel(x.shape) / C;
  const out = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let b = 0; b < x.b; b++) for (let k = 0; k < hw; k++) s += x.data[(b * C + c) * hw + k]!;
    const mean = s / (x.b * hw);
    let v = 0;
    for (let b = 0; b < x.b; b++) {
      for (let k = 0; k < hw; k++) {
        const d = x.data[(b * C + c) * hw + k]! - mean;
        v += d * d;
      }
    }
    out[c] = v / (x.b * hw);
  }
  return out;
}

/** Training-mode BatchNorm: statistics over (batch, H, W) of the tensor it is given; biased variance. */
function batchnorm(x: T, n: Node, w?: Float32Array, bias?: Float32Array): T {
  if (n.op.kind !== 'batchnorm') throw new Error('not bn');
  const C = x.shape[0]!;
  const hw = numel(x.shape) / C;
  const per = C * hw;
  const out = new Float64Array(x.data.length);
  const cnt = x.b * hw;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let b = 0; b < x.b; b++) {
      const o = b * per + c * hw;
      for (let k = 0; k < hw; k++) s += x.data[o + k]!;
    }
    const mean = s / cnt;
    let v = 0;
    for (let b = 0; b < x.b; b++) {
      const o = b * per + c * hw;
      for (let k = 0; k < hw; k++) {
        const d = x.data[o + k]! - mean;
        v += d * d;
      }
    }
    const inv = 1 / Math.sqrt(v / cnt + n.op.eps);
    const gamma = w ? w[c]! : 1;
    const beta = bias ? bias[c]! : 0;
    for (let b = 0; b < x.b; b++) {
      const o = b * per + c * hw;
      for (let k = 0; k < hw; k++) out[o + k] = (x.data[o + k]! - mean) * inv * gamma + beta;
    }
  }
  return { b: x.b, shape: x.shape, data: out };
}

function pool(x: T, n: Node): T {
  if (n.op.kind !== 'avgpool' && n.op.kind !== 'maxpool') throw new Error('not pool');
  const op = n.op;
  const [C, H, W] = x.shape as [number, number, number];
  const [, OH, OW] = n.shape as [number, number, number];
  const out = new Float64Array(x.b * C * OH * OW);
  const isMax = op.kind === 'maxpool';
  for (let bc = 0; bc < x.b * C; bc++) {
    const i0 = bc * H * W;
    const o0 = bc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const h0 = oh * op.stride[0] - op.pad[0];
        const w0 = ow * op.stride[1] - op.pad[1];
        let acc = isMax ? -Infinity : 0;
        let count = 0;
        for (let kh = 0; kh < op.kernel[0]; kh++) {
          const ih = h0 + kh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < op.kernel[1]; kw++) {
            const iw = w0 + kw;
            if (iw < 0 || iw >= W) continue;
            const v = x.data[i0 + ih * W + iw]!;
            if (isMax) acc = v > acc || Number.isNaN(v) ? v : acc;
            else acc += v;
            count++;
          }
        }
        if (!isMax) {
          // PyTorch: the divisor counts padded positions (clipped to the padded input) when count_include_pad
          const hEnd = Math.min(h0 + op.kernel[0], H + op.pad[0]);
          const wEnd = Math.min(w0 + op.kernel[1], W + op.pad[1]);
          const full = (hEnd - h0) * (wEnd - w0);
          acc /= op.countIncludePad ? full : count;
        }
        out[o0 + oh * OW + ow] = acc;
      }
    }
  }
  return { b: x.b, shape: n.shape, data: out };
}

function linear(x: T, n: Node, w: Float32Array, bias?: Float32Array): T {
  if (n.op.kind !== 'linear') throw new Error('not linear');
  const { inF, outF } = n.op;
  const out = new Float64Array(x.b * outF);
  for (let b = 0; b < x.b; b++) {
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o]! : 0;
      for (let i = 0; i < inF; i++) s += w[o * inF + i]! * x.data[b * inF + i]!;
      out[b * outF + o] = s;
    }
  }
  return { b: x.b, shape: n.shape, data: out };
}

function resizeNearest(x: T, n: Node): T {
  const [C, H, W] = x.shape as [number, number, number];
  const [, OH, OW] = n.shape as [number, number, number];
  const out = new Float64Array(x.b * C * OH * OW);
  // PyTorch 'nearest': src = floor(dst * in / out)
  const sh = H / OH;
  const sw = W / OW;
  for (let bc = 0; bc < x.b * C; bc++) {
    for (let oh = 0; oh < OH; oh++) {
      const ih = Math.min(Math.floor(oh * sh), H - 1);
      for (let ow = 0; ow < OW; ow++) {
        const iw = Math.min(Math.floor(ow * sw), W - 1);
        out[bc * OH * OW + oh * OW + ow] = x.data[bc * H * W + ih * W + iw]!;
      }
    }
  }
  return { b: x.b, shape: n.shape, data: out };
}

function evalNode(n: Node, ins: T[], w: Weights, bsz: number): T {
  const p = w.byNode.get(n.id);
  const x = ins[0]!;
  if (isTransformerOp(n.op)) return evalTransformer(n, ins, w);
  switch (n.op.kind) {
    case 'input':
      throw new Error('input is not evaluated');
    case 'conv2d':
      return conv2d(x, n, p!.weight!, p?.bias);
    case 'batchnorm':
      return batchnorm(x, n, p?.weight, p?.bias);
    case 'activation': {
      const f = ACTIVATION_FN[n.op.fn];
      const alpha = activationAlpha(n.op);
      const out = new Float64Array(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = f(x.data[i]!, alpha);
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'avgpool':
    case 'maxpool':
      return pool(x, n);
    case 'add': {
      const out = new Float64Array(x.data);
      for (let j = 1; j < ins.length; j++) {
        const d = ins[j]!.data;
        for (let i = 0; i < out.length; i++) out[i]! += d[i]!;
      }
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'zero':
      return { b: bsz, shape: n.shape, data: new Float64Array(bsz * numel(n.shape)) };
    case 'identity':
    case 'flatten':
      return { b: x.b, shape: n.shape, data: x.data };
    case 'global_avg_pool': {
      const C = x.shape[0]!;
      const hw = numel(x.shape) / C;
      const out = new Float64Array(x.b * C);
      for (let bc = 0; bc < x.b * C; bc++) {
        let s = 0;
        for (let k = 0; k < hw; k++) s += x.data[bc * hw + k]!;
        out[bc] = s / hw;
      }
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'linear':
      return linear(x, n, p!.weight!, p?.bias);
    case 'resize':
      return resizeNearest(x, n);
    case 'concat': {
      const per = numel(n.shape);
      const out = new Float64Array(x.b * per);
      for (let b = 0; b < x.b; b++) {
        let o = b * per;
        for (const t of ins) {
          const tp = numel(t.shape);
          out.set(t.data.subarray(b * tp, (b + 1) * tp), o);
          o += tp;
        }
      }
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'slice': {
      const [C, H, W] = x.shape as [number, number, number];
      const [, OH, OW] = n.shape as [number, number, number];
      const out = new Float64Array(x.b * C * OH * OW);
      for (let bc = 0; bc < x.b * C; bc++) {
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = n.op.start[0] + oh * n.op.step[0];
            const iw = n.op.start[1] + ow * n.op.step[1];
            out[bc * OH * OW + oh * OW + ow] = x.data[bc * H * W + ih * W + iw]!;
          }
        }
      }
      return { b: x.b, shape: n.shape, data: out };
    }
  }
}

/** Run the graph on a batch; returns every node's output (kept only where needed). */
export function runGraph(g: Graph, w: Weights, images: ImageBatch, keep: Set<number>): Map<number, T> {
  const expected = g.nodes[g.input]!.shape;
  if (images.c !== expected[0] || images.h !== expected[1] || images.w !== expected[2]) {
    throw new Error(
      `${g.label}: images are ${images.c}x${images.h}x${images.w}, the network expects ${expected.join('x')}`,
    );
  }
  // last use of each node, to free memory early
  const lastUse = new Int32Array(g.nodes.length).fill(-1);
  for (const n of g.nodes) for (const i of n.inputs) lastUse[i] = n.id;
  const vals = new Map<number, T>();
  vals.set(g.input, { b: images.n, shape: expected, data: Float64Array.from(images.data) });
  const kept = new Map<number, T>();
  for (const n of g.nodes) {
    if (n.op.kind === 'input') {
      if (keep.has(n.id)) kept.set(n.id, vals.get(n.id)!);
      continue;
    }
    const ins = n.inputs.map((i) => vals.get(i)!);
    const out = evalNode(n, ins, w, images.n);
    vals.set(n.id, out);
    if (keep.has(n.id)) kept.set(n.id, out);
    for (const i of n.inputs) if (lastUse[i] === n.id) vals.delete(i);
  }
  return kept;
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;

  async forward(g: Graph, w: Weights, images: ImageBatch, opts: ForwardOptions): Promise<Features> {
    const taps = tappedUnion(g, opts.taps);
    const bnNodes = opts.bnVar ? g.nodes.filter((n) => n.op.kind === 'batchnorm') : [];
    if (bnNodes.length > 0 && opts.bn !== 'batch') throw new Error(`${g.label}: BatchNorm variances need batch statistics (bn: 'batch')`);
    const keep = new Set<number>([
      ...taps.map((t) => t.node),
      g.classifierInput,
      ...(opts.nodes ?? []),
      ...bnNodes.map((n) => n.inputs[0]!),
    ]);
    const runs: Map<number, T>[] =
      opts.bn === 'batch'
        ? [runGraph(g, w, images, keep)]
        : Array.from({ length: images.n }, (_, i) => runGraph(g, w, imageAt(images, i), keep));
    const gather = (node: number, counts: FeatureSegment['counts']): FeatureSegment => {
      const size = numel(g.nodes[node]!.shape);
      const data = new Float64Array(images.n * size);
      if (runs.length === 1) data.set(runs[0]!.get(node)!.data);
      else runs.forEach((r, i) => data.set(r.get(node)!.data, i * size));
      return { node, counts, size, data };
    };
    const extra: Pick<Features, 'nodes' | 'bnVar'> = {};
    if (opts.nodes) extra.nodes = new Map(opts.nodes.map((id) => [id, gather(id, { reference: 0, activations: 0 })]));
    if (opts.bnVar) extra.bnVar = new Map(bnNodes.map((n) => [n.id, batchVariance(runs[0]!.get(n.inputs[0]!)!)]));
    return {
      ...extra,
      n: images.n,
      x: taps.map((t) => gather(t.node, t.counts)),
      y: gather(g.classifierInput, { reference: 1, activations: 1 }),
    };
  }
}
