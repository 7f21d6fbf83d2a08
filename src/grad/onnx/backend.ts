/**
 * The fast gradient backend: the forward + backward graph of emit.ts in onnxruntime (float32, CPU).
 * GraSP's Hessian-vector product: central differences of two more runs of a graph whose ReLU masks
 * are inputs held at the first run's pattern (what autograd's double backward differentiates).
 */
import * as ort from 'onnxruntime-node';
import type { Weights } from '../../ir/init.js';
import type { Graph } from '../../ir/types.js';
import { type GradBackend, type GradInput, type GradRequest, type GradResult, type ParamGrads } from '../types.js';
import { type EmitOptions, type EmittedGrad, emitGradGraph } from './emit.js';

export class OnnxGradBackend implements GradBackend {
  readonly name = 'onnx' as const;

  constructor(private readonly threads = 1) {}

  private async session(bytes: Uint8Array): Promise<ort.InferenceSession> {
    return ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
    });
  }

  async gradients(g: Graph, w: Weights, x: GradInput, req: GradRequest): Promise<GradResult> {
    const expected = g.nodes[g.input]!.shape;
    if (x.c !== expected[0] || x.h !== expected[1] || x.w !== expected[2]) {
      throw new Error(`${g.label}: inputs are ${x.c}x${x.h}x${x.w}, the network expects ${expected.join('x')}`);
    }
    const hvp = req.wrt.hvp;
    const base: EmitOptions = {
      n: x.n,
      bn: req.bn,
      objective: req.objective.kind,
      wrt: { weights: req.wrt.weights ?? false, input: req.wrt.input ?? false, outputProducts: req.wrt.outputProducts ?? false },
      emitMasks: hvp !== undefined,
    };
    const em = emitGradGraph(g, base);
    const classes = g.nodes[g.output]!.shape.reduce((a, d) => a * d, 1);
    const feeds = inputFeeds(em, w, x, req, classes);
    const sess = await this.session(em.bytes);
    let res: ort.InferenceSession.OnnxValueMapType;
    try {
      res = await sess.run(feeds);
    } finally {
      await sess.release();
    }
    const out: GradResult = {
      loss: Number((res.loss!.data as Float32Array)[0]),
      logits: res.logits!.data as Float32Array,
      classes,
    };
    if (req.wrt.weights) out.weights = weightGrads(g, em, res);
    if (em.inputGrad) out.input = res[em.inputGrad]!.data as Float32Array;
    if (req.wrt.outputProducts) {
      out.outputProducts = new Map();
      for (const n of g.nodes) {
        if (n.op.kind !== 'conv2d' && n.op.kind !== 'linear') continue;
        const name = em.products.get(n.id);
        out.outputProducts.set(n.id, name ? (res[name]!.data as Float32Array) : new Float32Array(x.n * n.shape[0]!));
      }
    }
    if (hvp) out.hvp = await this.hessianVector(g, w, x, req, hvp, em, res);
    return out;
  }

  private async hessianVector(
    g: Graph,
    w: Weights,
    x: GradInput,
    req: GradRequest,
    v: Map<number, Float32Array | Float64Array>,
    em0: EmittedGrad,
    res0: ort.InferenceSession.OnnxValueMapType,
  ): Promise<Map<number, Float64Array>> {
    const em = emitGradGraph(g, { n: x.n, bn: req.bn, objective: req.objective.kind, wrt: { weights: true }, frozen: true });
    const classes = g.nodes[g.output]!.shape.reduce((a, d) => a * d, 1);
    let wn = 0;
    let vn = 0;
    for (const [node, vv] of v) {
      const wt = w.byNode.get(node)!.weight!;
      for (let i = 0; i < vv.length; i++) {
        wn += wt[i]! * wt[i]!;
        vn += vv[i]! * vv[i]!;
      }
    }
    const out = new Map<number, Float64Array>();
    if (vn === 0) {
      for (const [node, vv] of v) out.set(node, new Float64Array(vv.length));
      return out;
    }
    // float32: a step of 1e-3 of the weights' norm balances rounding (1e-7 / step) against curvature change
    const eps = (1e-3 * Math.sqrt(wn)) / Math.sqrt(vn);
    const sess = await this.session(em.bytes);
    try {
      const grads: Map<number, ParamGrads>[] = [];
      for (const sign of [1, -1]) {
        const shifted: Weights = { ...w, byNode: new Map(w.byNode) };
        for (const [node, vv] of v) {
          const cur = w.byNode.get(node)!;
          const wt = Float32Array.from(cur.weight!);
          for (let i = 0; i < wt.length; i++) wt[i] = wt[i]! + sign * eps * vv[i]!;
          shifted.byNode.set(node, { ...cur, weight: wt });
        }
        const feeds = inputFeeds(em, shifted, x, req, classes);
        for (const m of em.masks) {
          const src = em0.masks.find((k) => k.node === m.node)!;
          feeds[m.name] = res0[src.name]!;
        }
        grads.push(weightGrads(g, em, await sess.run(feeds)));
      }
      for (const [node, vv] of v) {
        const a = grads[0]!.get(node)?.weight;
        const b = grads[1]!.get(node)?.weight;
        const r = new Float64Array(vv.length);
        if (a && b) for (let i = 0; i < r.length; i++) r[i] = (a[i]! - b[i]!) / (2 * eps);
        out.set(node, r);
      }
    } finally {
      await sess.release();
    }
    return out;
  }
}

function inputFeeds(em: EmittedGrad, w: Weights, x: GradInput, req: GradRequest, classes: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const data = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  feeds.input = new ort.Tensor('float32', data, [x.n, x.c, x.h, x.w]);
  for (const p of em.params) {
    const src = w.byNode.get(p.node)?.[p.role];
    const size = p.dims.reduce((a, d) => a * d, 1);
    let arr = src ?? new Float32Array(size).fill(p.role === 'weight' ? 1 : 0);
    if (req.absWeights) arr = Float32Array.from(arr, Math.abs);
    feeds[p.name] = new ort.Tensor('float32', arr, p.dims);
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
