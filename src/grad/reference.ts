/**
 * The reference gradient backend: a float64 tape over the IR. Forward keeps every node's output
 * (and what each op's backward needs); backward walks the nodes in reverse, accumulating dL/d(output)
 * per node. Golden: each op's backward is checked against central finite differences.
 */
import { numel } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import { type Graph, type Node, activationAlpha } from '../ir/types.js';
import { activate, activationGrad } from './ops/activation.js';
import { type BnSaved, batchnormBackward, batchnormForward } from './ops/batchnorm.js';
import { conv2dBackward, conv2dForward } from './ops/conv2d.js';
import { linearBackward, linearForward } from './ops/linear.js';
import { poolBackward, poolForward } from './ops/pool.js';
import { concatBackward, concatForward, gapBackward, gapForward, gatherBackward, gatherForward } from './ops/shape-ops.js';
import type { T, Vec } from './ops/tensor.js';
import { type GradBackend, type GradInput, type GradRequest, type GradResult, type Objective, type ParamGrads, GradUnsupportedError } from './types.js';

/** Parameters as the tape reads them: any float array, per node. */
export type ParamMap = Map<number, { weight?: Vec; bias?: Vec }>;

/** What a forward pass recorded for the backward pass. */
interface Tape {
  vals: T[];
  bn: Map<number, BnSaved>;
  argmax: Map<number, Int32Array>;
}

/** Piecewise patterns of a base pass, held fixed in a perturbed pass (Hessian-vector products). */
interface Frozen {
  preact: Map<number, Float64Array>;
  argmax: Map<number, Int32Array>;
}

function forward(g: Graph, params: ParamMap, x: T, bn: GradRequest['bn'], frozen?: Frozen): Tape {
  const vals: T[] = new Array(g.nodes.length);
  const tape: Tape = { vals, bn: new Map(), argmax: new Map() };
  vals[g.input] = x;
  for (const n of g.nodes) {
    if (n.id === g.input) continue;
    vals[n.id] = evalNode(n, n.inputs.map((i) => vals[i]!), params.get(n.id), x.b, bn, tape, frozen);
  }
  return tape;
}

function evalNode(n: Node, ins: T[], p: { weight?: Vec; bias?: Vec } | undefined, b: number, bn: GradRequest['bn'], tape: Tape, frozen?: Frozen): T {
  const x = ins[0]!;
  const op = n.op;
  switch (op.kind) {
    case 'input':
      throw new Error('input is not evaluated');
    case 'conv2d':
      return conv2dForward(op, x, n.shape, p!.weight!, p?.bias);
    case 'linear':
      return linearForward(op, x, n.shape, p!.weight!, p?.bias);
    case 'batchnorm': {
      if (bn === 'off') return x;
      const r = batchnormForward(op, x, bn !== 'eval', p?.weight, p?.bias);
      tape.bn.set(n.id, r.saved);
      return r.y;
    }
    case 'activation': {
      const a = activationAlpha(op);
      const base = frozen?.preact.get(n.id);
      const out = new Float64Array(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = activate(op.fn, a, x.data[i]!, base?.[i]);
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'avgpool':
    case 'maxpool': {
      const r = poolForward(op, x, n.shape, frozen?.argmax.get(n.id));
      if (r.argmax) tape.argmax.set(n.id, r.argmax);
      return r.y;
    }
    case 'add': {
      const out = new Float64Array(x.data);
      for (let j = 1; j < ins.length; j++) {
        const d = ins[j]!.data;
        for (let i = 0; i < out.length; i++) out[i]! += d[i]!;
      }
      return { b: x.b, shape: n.shape, data: out };
    }
    case 'zero':
      return { b, shape: n.shape, data: new Float64Array(b * numel(n.shape)) };
    case 'identity':
    case 'flatten':
      return { b: x.b, shape: n.shape, data: x.data };
    case 'global_avg_pool':
      return gapForward(x, n.shape);
    case 'resize':
    case 'slice':
      return gatherForward(op, x, n.shape);
    case 'concat':
      return concatForward(ins, n.shape);
    default:
      throw new GradUnsupportedError(`gradients: no backward rule for ${n.op.kind} (${n.name}); gradient proxies cannot run on this network`);
  }
}

const DIFFERENTIABLE = new Set(['input', 'conv2d', 'linear', 'batchnorm', 'activation', 'avgpool', 'maxpool', 'add', 'zero', 'identity', 'flatten', 'global_avg_pool', 'resize', 'slice', 'concat']);

/** Throws GradUnsupportedError (before any work) when the tape has no backward rule for an op of g. */
export function assertDifferentiable(g: Graph): void {
  const n = g.nodes.find((m) => !DIFFERENTIABLE.has(m.op.kind));
  if (n) throw new GradUnsupportedError(`gradients: no backward rule for ${n.op.kind} (${n.name}); gradient proxies cannot run on this network`);
}

/** The objective's value and dL/dlogits. */
export function objectiveGrad(obj: Objective, logits: Float64Array, n: number, classes: number, scale = 1): { loss: number; dlogits: Float64Array } {
  const d = new Float64Array(logits.length);
  if (obj.kind === 'seed') {
    if (obj.grad.length !== logits.length) throw new Error(`seed objective: ${obj.grad.length} values for an output of ${logits.length}`);
    let s = 0;
    for (let i = 0; i < d.length; i++) {
      d[i] = scale * obj.grad[i]!;
      s += logits[i]! * obj.grad[i]!;
    }
    return { loss: s, dlogits: d };
  }
  if (obj.kind === 'sum') {
    let s = 0;
    for (const v of logits) s += v;
    d.fill(scale);
    return { loss: s, dlogits: d };
  }
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let mx = -Infinity;
    for (const v of row) mx = Math.max(mx, v);
    let se = 0;
    for (const v of row) se += Math.exp(v - mx);
    const lse = mx + Math.log(se);
    const y = obj.labels[i]!;
    loss += lse - row[y]!;
    for (let k = 0; k < classes; k++) d[i * classes + k] = (scale * (Math.exp(row[k]! - lse) - (k === y ? 1 : 0))) / n;
  }
  return { loss: loss / n, dlogits: d };
}

interface BackwardOut {
  params: Map<number, ParamGrads>;
  input?: Float64Array;
  products: Map<number, Float64Array>;
}

function backward(g: Graph, params: ParamMap, tape: Tape, dlogits: Float64Array, want: { input: boolean; products: boolean }, frozen?: Frozen): BackwardOut {
  const grads: (T | undefined)[] = new Array(g.nodes.length);
  const out = tape.vals[g.output]!;
  grads[g.output] = { b: out.b, shape: out.shape, data: dlogits };
  // which nodes lead from the input (their input gradients are only needed when asked)
  const needsDx = new Uint8Array(g.nodes.length);
  for (const n of g.nodes) {
    if (n.id === g.input) needsDx[n.id] = want.input ? 1 : 0;
    else if (n.op.kind !== 'zero' && (paramsOf(n) || n.inputs.some((i) => needsDx[i]))) needsDx[n.id] = 1;
  }
  const res: BackwardOut = { params: new Map(), products: new Map() };
  const acc = (id: number, d: T): void => {
    if (!needsDx[id]) return;
    const cur = grads[id];
    // always a copy: one dy can flow to several inputs (add), and forward values are shared (identity)
    if (!cur) grads[id] = { b: d.b, shape: d.shape, data: new Float64Array(d.data) };
    else for (let i = 0; i < cur.data.length; i++) cur.data[i]! += d.data[i]!;
  };
  for (let id = g.nodes.length - 1; id >= 0; id--) {
    const n = g.nodes[id]!;
    const dy = grads[id];
    if (!dy || n.id === g.input) continue;
    grads[id] = undefined;
    const ins = n.inputs.map((i) => tape.vals[i]!);
    const x = ins[0]!;
    const p = params.get(n.id);
    const op = n.op;
    const wantX = n.inputs.length > 0 && needsDx[n.inputs[0]!] === 1;
    switch (op.kind) {
      case 'input':
      case 'zero':
        break;
      case 'conv2d':
      case 'linear': {
        const r = op.kind === 'conv2d' ? conv2dBackward(op, x, dy, p!.weight!, wantX) : linearBackward(op, x, dy, p!.weight!, wantX);
        res.params.set(n.id, { weight: r.dw, ...(r.db ? { bias: r.db } : {}) });
        if (want.products) res.products.set(n.id, outputProducts(tape.vals[id]!, dy));
        if (r.dx) acc(n.inputs[0]!, r.dx);
        break;
      }
      case 'batchnorm': {
        const saved = tape.bn.get(n.id);
        if (!saved) {
          acc(n.inputs[0]!, dy);
          break;
        }
        const r = batchnormBackward(dy, saved, p?.weight);
        if (op.affine) res.params.set(n.id, { weight: r.dgamma, bias: r.dbeta });
        acc(n.inputs[0]!, r.dx);
        break;
      }
      case 'activation': {
        const a = activationAlpha(op);
        const base = frozen?.preact.get(n.id);
        const d = new Float64Array(dy.data.length);
        for (let i = 0; i < d.length; i++) d[i] = dy.data[i]! * activationGrad(op.fn, a, x.data[i]!, base?.[i]);
        acc(n.inputs[0]!, { b: dy.b, shape: x.shape, data: d });
        break;
      }
      case 'avgpool':
      case 'maxpool':
        acc(n.inputs[0]!, poolBackward(op, x, dy, tape.argmax.get(n.id)));
        break;
      case 'add':
        for (const i of n.inputs) acc(i, dy);
        break;
      case 'identity':
      case 'flatten':
        acc(n.inputs[0]!, { b: dy.b, shape: x.shape, data: dy.data });
        break;
      case 'global_avg_pool':
        acc(n.inputs[0]!, gapBackward(x, dy));
        break;
      case 'resize':
      case 'slice':
        acc(n.inputs[0]!, gatherBackward(op, x, dy));
        break;
      case 'concat':
        concatBackward(ins, dy).forEach((d, j) => acc(n.inputs[j]!, d));
        break;
    }
  }
  const dIn = grads[g.input];
  if (want.input) res.input = dIn ? dIn.data : new Float64Array(tape.vals[g.input]!.data.length);
  return res;
}

function paramsOf(n: Node): boolean {
  return n.op.kind === 'conv2d' || n.op.kind === 'linear' || (n.op.kind === 'batchnorm' && n.op.affine);
}

/** sum over spatial positions of z * dz, per (image, channel). */
function outputProducts(z: T, dz: T): Float64Array {
  const C = z.shape[0]!;
  const hw = z.data.length / z.b / C;
  const r = new Float64Array(z.b * C);
  for (let bc = 0; bc < z.b * C; bc++) {
    let s = 0;
    for (let k = 0; k < hw; k++) s += z.data[bc * hw + k]! * dz.data[bc * hw + k]!;
    r[bc] = s;
  }
  return r;
}

/** The network as the request sees it: |w| when asked. */
export function paramMap(w: Weights, abs: boolean): ParamMap {
  const m: ParamMap = new Map();
  for (const [node, p] of w.byNode) {
    const f = (v?: Float32Array): Vec | undefined => (v ? (abs ? Float64Array.from(v, Math.abs) : v) : undefined);
    const weight = f(p.weight);
    const bias = f(p.bias);
    m.set(node, { ...(weight ? { weight } : {}), ...(bias ? { bias } : {}) });
  }
  return m;
}

interface Pass {
  loss: number;
  logits: Float64Array;
  back: BackwardOut;
  frozen: Frozen;
}

/** One forward + backward over the batch (per-image BatchNorm: one image at a time, summed). */
function pass(g: Graph, params: ParamMap, x: GradInput, req: GradRequest, want: { input: boolean; products: boolean }, frozen?: Frozen[]): { passes: Pass[]; merged: Pass } {
  const classes = numel(g.nodes[g.output]!.shape);
  const shape = g.nodes[g.input]!.shape;
  const perImg = x.c * x.h * x.w;
  const groups = req.bn === 'per-image' ? Array.from({ length: x.n }, (_, i) => [i]) : [Array.from({ length: x.n }, (_, i) => i)];
  const passes: Pass[] = groups.map((idx, gi) => {
    const data = new Float64Array(idx.length * perImg);
    idx.forEach((i, k) => data.set(x.data.subarray(i * perImg, (i + 1) * perImg), k * perImg));
    const fz = frozen?.[gi];
    const tape = forward(g, params, { b: idx.length, shape, data }, req.bn, fz);
    const logits = tape.vals[g.output]!.data;
    // cross-entropy is a mean over the whole batch: each part contributes its share
    const ro = req.objective;
    const obj: Objective =
      ro.kind === 'sum'
        ? ro
        : ro.kind === 'seed'
          ? { kind: 'seed', grad: Float64Array.from(idx.flatMap((i) => Array.from(ro.grad.subarray(i * classes, (i + 1) * classes)))) }
          : { kind: 'cross-entropy', labels: Int32Array.from(idx, (i) => ro.labels[i]!) };
    const share = obj.kind === 'cross-entropy' ? idx.length / x.n : 1;
    const o = objectiveGrad(obj, logits, idx.length, classes, share);
    const back = backward(g, params, tape, o.dlogits, want, fz);
    const fr: Frozen = fz ?? { preact: new Map(), argmax: tape.argmax };
    if (!fz) for (const n of g.nodes) if (n.op.kind === 'activation') fr.preact.set(n.id, tape.vals[n.inputs[0]!]!.data);
    return { loss: o.loss * share, logits, back, frozen: fr };
  });
  if (passes.length === 1) return { passes, merged: passes[0]! };
  const merged: Pass = { loss: 0, logits: new Float64Array(x.n * classes), back: { params: new Map(), products: new Map() }, frozen: passes[0]!.frozen };
  if (want.input) merged.back.input = new Float64Array(x.n * perImg);
  passes.forEach((p, i) => {
    merged.loss += p.loss;
    merged.logits.set(p.logits, i * classes);
    for (const [node, pg] of p.back.params) {
      const cur = merged.back.params.get(node);
      if (!cur) merged.back.params.set(node, { ...(pg.weight ? { weight: Float64Array.from(pg.weight) } : {}), ...(pg.bias ? { bias: Float64Array.from(pg.bias) } : {}) });
      else {
        for (const k of ['weight', 'bias'] as const) {
          const a = cur[k];
          const b = pg[k];
          if (a && b) for (let j = 0; j < a.length; j++) a[j]! += b[j]!;
        }
      }
    }
    for (const [node, pr] of p.back.products) {
      const cur = merged.back.products.get(node) ?? new Float64Array(x.n * pr.length);
      cur.set(pr, i * pr.length);
      merged.back.products.set(node, cur);
    }
    if (want.input && p.back.input) merged.back.input!.set(p.back.input, i * perImg);
  });
  return { passes, merged };
}

export class ReferenceGradBackend implements GradBackend {
  readonly name = 'reference' as const;

  async gradients(g0: Graph, w: Weights, x: GradInput, req: GradRequest): Promise<GradResult> {
    return referenceGradients(g0, paramMap(w, req.absWeights ?? false), x, req);
  }
}

/** Synchronous core, on any float parameters (tests perturb float64 parameters). */
export function referenceGradients(g: Graph, params: ParamMap, x: GradInput, req: GradRequest): GradResult {
  const expected = g.nodes[g.input]!.shape;
  if (x.c !== expected[0] || x.h !== expected[1] || x.w !== expected[2]) {
    throw new Error(`${g.label}: inputs are ${x.c}x${x.h}x${x.w}, the network expects ${expected.join('x')}`);
  }
  const want = { input: req.wrt.input ?? false, products: req.wrt.outputProducts ?? false };
  const { passes, merged } = pass(g, params, x, req, want);
  const classes = numel(g.nodes[g.output]!.shape);
  const res: GradResult = { loss: merged.loss, logits: merged.logits, classes };
  // layers the objective does not reach (dead branches) get zero gradients, not none
  for (const n of g.nodes) {
    if (n.op.kind !== 'conv2d' && n.op.kind !== 'linear') continue;
    const p = params.get(n.id)!;
    if (!merged.back.params.has(n.id)) merged.back.params.set(n.id, { weight: new Float64Array(p.weight!.length), ...(p.bias ? { bias: new Float64Array(p.bias.length) } : {}) });
    if (want.products && !merged.back.products.has(n.id)) merged.back.products.set(n.id, new Float64Array(x.n * n.shape[0]!));
  }
  if (req.wrt.weights) res.weights = merged.back.params;
  if (want.input) res.input = merged.back.input!;
  if (want.products) res.outputProducts = merged.back.products;
  // the second backward from a ones seed through the same forward (the same batch statistics)
  if (req.wrt.inputOfSum) res.inputOfSum = pass(g, params, x, { ...req, objective: { kind: 'sum' } }, { input: true, products: false }).merged.back.input!;
  if (req.wrt.hvp) {
    const v = req.wrt.hvp === 'gradient' ? new Map(prunable(g).map((n) => [n.id, merged.back.params.get(n.id)!.weight!] as [number, Vec])) : req.wrt.hvp;
    res.hvp = hessianVector(g, params, x, req, v, passes.map((p) => p.frozen));
  }
  return res;
}

/**
 * H v by central differences of the gradient along v, with the piecewise pattern of the point held
 * fixed (so the difference quotient sees a smooth function; its error is O(eps^2), ~1e-10 here).
 */
function hessianVector(g: Graph, params: ParamMap, x: GradInput, req: GradRequest, v: Map<number, Vec>, frozen: Frozen[]): Map<number, Float64Array> {
  let wn = 0;
  let vn = 0;
  for (const [node, vv] of v) {
    const w = params.get(node)!.weight!;
    for (let i = 0; i < vv.length; i++) {
      wn += w[i]! * w[i]!;
      vn += vv[i]! * vv[i]!;
    }
  }
  const out = new Map<number, Float64Array>();
  if (vn === 0) {
    for (const [node, vv] of v) out.set(node, new Float64Array(vv.length));
    return out;
  }
  const eps = (1e-5 * Math.sqrt(Math.max(wn, 1e-30))) / Math.sqrt(vn);
  const shifted = (sign: number): Map<number, ParamGrads> => {
    const p2: ParamMap = new Map(params);
    for (const [node, vv] of v) {
      const cur = params.get(node)!;
      const w = Float64Array.from(cur.weight!);
      for (let i = 0; i < w.length; i++) w[i]! += sign * eps * vv[i]!;
      p2.set(node, { ...cur, weight: w });
    }
    return pass(g, p2, x, req, { input: false, products: false }, frozen).merged.back.params;
  };
  const plus = shifted(1);
  const minus = shifted(-1);
  for (const node of v.keys()) {
    const a = plus.get(node)?.weight;
    const b = minus.get(node)?.weight;
    const r = new Float64Array(v.get(node)!.length);
    if (a && b) for (let i = 0; i < r.length; i++) r[i] = (a[i]! - b[i]!) / (2 * eps);
    out.set(node, r);
  }
  return out;
}

/** conv2d and linear nodes (the weights H v is taken over) */
function prunable(g: Graph): Graph['nodes'] {
  return g.nodes.filter((n) => n.op.kind === 'conv2d' || n.op.kind === 'linear');
}
