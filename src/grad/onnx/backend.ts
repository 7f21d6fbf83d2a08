/**
 * The fast gradient backend: the forward + backward graph of emit.ts in onnxruntime (float32, CPU).
 * GraSP's Hessian-vector product: exact, the R-operator graph of emit.ts (forward-mode derivative of
 * the forward + backward pass along v), in the same run; H g (v = this pass's own gradient) too.
 */
import * as ort from 'onnxruntime-node';
import type { Weights } from '../../ir/init.js';
import type { Graph } from '../../ir/types.js';
import { type GradBackend, type GradInput, type GradRequest, type GradResult, type ParamGrads } from '../types.js';
import { type EmitOptions, type EmittedGrad, emitGradGraph } from './emit.js';

export class OnnxGradBackend implements GradBackend {
  readonly name = 'onnx' as const;

  constructor(private readonly threads = 1) {}

  private async session(bytes: Uint8Array, hvp: boolean): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      // H v: 'all', not 'basic': under 'basic' onnxruntime's kernels put the R-operator graph's H v 3e-3 off
      // float64 on NB201 (2 images); under 'all' within 1e-5 (test/grad-fastpath.test.ts). Plain gradients:
      // 'basic' (within 1e-4 of the tape, test/grad-onnx-agree.test.ts): session creation ~220 instead of
      // ~400 ms CPU on an NB201 pass at batch 32, the run as fast (bench/grad-profile.ts --opt --sessions)
      graphOptimizationLevel: hvp ? 'all' : 'basic',
      // no arena, no memory pattern: a fresh session's arena is fresh memory, and page-faulting it cost
      // more than the run (NB201 batch 32: 2.5-3.5 s CPU for create + first run, 1.0-1.3 s without;
      // bench/grad-profile.ts --sessions); freed tensors go back to malloc and the next network reuses them
      enableCpuMemArena: false,
      enableMemPattern: false,
    });
  }

  async gradients(g: Graph, w: Weights, x: GradInput, req: GradRequest): Promise<GradResult> {
    const expected = g.nodes[g.input]!.shape;
    if (x.c !== expected[0] || x.h !== expected[1] || x.w !== expected[2]) {
      throw new Error(`${g.label}: inputs are ${x.c}x${x.h}x${x.w}, the network expects ${expected.join('x')}`);
    }
    const hvp = req.wrt.hvp;
    // synflow's network (|w|, no BatchNorm, ReLU, sum of logits) is positively homogeneous: input and
    // biases times s scale every value by s; seeding the backward with 1 / sum keeps the gradients near 1
    const scale = req.rescale === true && req.absWeights === true && req.bn === 'off' && req.objective.kind === 'sum' && hvp === undefined && !req.wrt.inputOfSum ? RESCALE_INPUT : 1;
    const base: EmitOptions = {
      n: x.n,
      bn: req.bn,
      objective: req.objective.kind,
      normalise: scale !== 1,
      wrt: { weights: req.wrt.weights ?? false, input: req.wrt.input ?? false, outputProducts: req.wrt.outputProducts ?? false },
      hvp: hvp !== undefined,
      hvpOfGradient: hvp === 'gradient',
      inputOfSum: req.wrt.inputOfSum ?? false,
      unitBn: unitBatchNorms(g, w),
    };
    const em = emitGradGraph(g, base);
    const classes = g.nodes[g.output]!.shape.reduce((a, d) => a * d, 1);
    const feeds = inputFeeds(em, w, x, req, classes, scale);
    if (hvp && hvp !== 'gradient') {
      for (const p of em.params) {
        const h = em.hvp.get(p.node);
        if (!h || p.role !== 'weight') continue;
        const v = hvp.get(p.node);
        const size = p.dims.reduce((a, d) => a * d, 1);
        feeds[h.v] = new ort.Tensor('float32', v ? (v instanceof Float32Array ? v : Float32Array.from(v)) : new Float32Array(size), p.dims);
      }
    }
    const sess = await this.session(em.bytes, hvp !== undefined);
    let res: ort.InferenceSession.OnnxValueMapType;
    try {
      res = await sess.run(feeds);
    } finally {
      await sess.release();
    }
    const loss = Number((res.loss!.data as Float32Array)[0]);
    const out: GradResult = {
      loss: loss / scale,
      logits: scale === 1 ? (res.logits!.data as Float32Array) : Float64Array.from(res.logits!.data as Float32Array, (v) => v / scale),
      classes,
      ...(scale !== 1 ? { gradLogScale: Math.log(Math.max(loss, 1e-30)) - Math.log(scale) } : {}),
    };
    if (req.wrt.weights) out.weights = weightGrads(g, em, res);
    if (em.inputGrad) out.input = res[em.inputGrad]!.data as Float32Array;
    if (em.inputOfSum) out.inputOfSum = res[em.inputOfSum]!.data as Float32Array;
    if (req.wrt.outputProducts) {
      out.outputProducts = new Map();
      for (const n of g.nodes) {
        if (n.op.kind !== 'conv2d' && n.op.kind !== 'linear') continue;
        const name = em.products.get(n.id);
        out.outputProducts.set(n.id, name ? (res[name]!.data as Float32Array) : new Float32Array(x.n * n.shape[0]!));
      }
    }
    if (hvp) {
      out.hvp = new Map();
      for (const p of em.params) {
        const h = em.hvp.get(p.node);
        if (!h || p.role !== 'weight') continue;
        out.hvp.set(p.node, h.hv ? (res[h.hv]!.data as Float32Array) : new Float32Array(p.dims.reduce((a, d) => a * d, 1)));
      }
    }
    return out;
  }
}

/** BatchNorm nodes with gamma = 1 and beta = 0 (PyTorch's initialisation; |w| keeps them) */
function unitBatchNorms(g: Graph, w: Weights): Set<number> {
  const out = new Set<number>();
  for (const n of g.nodes) {
    if (n.op.kind !== 'batchnorm' || !n.op.affine) continue;
    const p = w.byNode.get(n.id);
    // absent parameters are fed as 1 and 0 (inputFeeds)
    if ((p?.weight?.every((v) => v === 1) ?? true) && (p?.bias?.every((v) => v === 0) ?? true)) out.add(n.id);
  }
  return out;
}

/** the input and bias factor of a rescaled pass: 2^-64 (exact), room for sums up to ~1e57 */
const RESCALE_INPUT = 2 ** -64;

function inputFeeds(em: EmittedGrad, w: Weights, x: GradInput, req: GradRequest, classes: number, scale = 1): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const data = scale !== 1 ? Float32Array.from(x.data, (v) => v * scale) : x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  feeds.input = new ort.Tensor('float32', data, [x.n, x.c, x.h, x.w]);
  for (const p of em.params) {
    const src = w.byNode.get(p.node)?.[p.role];
    const size = p.dims.reduce((a, d) => a * d, 1);
    let arr = src ?? new Float32Array(size).fill(p.role === 'weight' ? 1 : 0);
    if (req.absWeights) arr = Float32Array.from(arr, Math.abs);
    if (scale !== 1 && p.role === 'bias') arr = Float32Array.from(arr, (v) => v * scale);
    feeds[p.name] = new ort.Tensor('float32', arr, p.dims);
  }
  if (req.objective.kind === 'seed') {
    const sd = req.objective.grad;
    feeds.seed = new ort.Tensor('float32', sd instanceof Float32Array ? sd : Float32Array.from(sd), [x.n, classes]);
  }
  if (req.objective.kind === 'cross-entropy') {
    const oh = new Float32Array(x.n * classes);
    req.objective.labels.forEach((l, i) => (oh[i * classes + l] = 1));
    feeds.onehot = new ort.Tensor('float32', oh, [x.n, classes]);
  }
  return feeds;
}

function weightGrads(g: Graph, em: EmittedGrad, res: ort.InferenceSession.OnnxValueMapType): Map<number, ParamGrads> {
  const m = new Map<number, ParamGrads>();
  for (const n of g.nodes) {
    if (n.op.kind !== 'conv2d' && n.op.kind !== 'linear') continue;
    const names = em.weightGrads.get(n.id);
    const wSize = em.params.find((p) => p.node === n.id && p.role === 'weight')!.dims.reduce((a, d) => a * d, 1);
    const hasBias = n.op.bias;
    m.set(n.id, {
      weight: names?.weight ? (res[names.weight]!.data as Float32Array) : new Float32Array(wSize),
      ...(hasBias ? { bias: names?.bias ? (res[names.bias]!.data as Float32Array) : new Float32Array(n.shape[0]!) } : {}),
    });
  }
  return m;
}
