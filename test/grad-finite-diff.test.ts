/**
 * The float64 reference backward against central finite differences, op by op: each small graph
 * wraps one op (or a few) between a conv and a linear classifier, and every gradient the engine
 * returns (weights, BatchNorm affine, input) is compared with (L(p + h) - L(p - h)) / 2h.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceGradients, type ParamMap } from '../src/grad/reference.js';
import type { GradBnMode, GradInput, GradRequest, Objective } from '../src/grad/types.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { paramSpecs } from '../src/ir/analysis.js';
import { ACTIVATIONS, type Graph } from '../src/ir/types.js';
import { Rng } from '../src/util/rng.js';

function params64(g: Graph, seed: string): ParamMap {
  const rng = new Rng(seed);
  const m: ParamMap = new Map();
  for (const p of paramSpecs(g)) {
    const a = new Float64Array(p.size);
    for (let i = 0; i < a.length; i++) a[i] = p.init.kind === 'const' ? p.init.value + 0.3 * (rng.nextFloat24() - 0.5) : (2 * rng.nextFloat24() - 1) * (p.init.kind === 'uniform' ? p.init.bound : 0.5) * 2;
    const e = m.get(p.node) ?? {};
    e[p.role] = a;
    m.set(p.node, e);
  }
  return m;
}

function input(n: number, c: number, s: number, seed: string): GradInput {
  const rng = new Rng(seed);
  return { n, c, h: s, w: s, data: Float64Array.from({ length: n * c * s * s }, () => rng.nextNormal()) };
}

/** classifier head: global pool, flatten, linear to 5 classes */
function head(b: GraphBuilder, x: number): Graph {
  const shape = b.shape(x);
  const v = shape.length === 3 ? b.flatten('flat', b.globalAvgPool('gap', x)) : x;
  const out = b.linear('fc', v, 5);
  return b.finish({ output: out, classifierInput: v, defaultTaps: 'activations' });
}

function checkGraph(g: Graph, bn: GradBnMode, objective: 'ce' | 'sum', label: string): void {
  const x = input(3, g.nodes[0]!.shape[0]!, g.nodes[0]!.shape[1]!, `${label}:x`);
  const params = params64(g, `${label}:w`);
  const obj: Objective = objective === 'sum' ? { kind: 'sum' } : { kind: 'cross-entropy', labels: Int32Array.from([1, 4, 2]) };
  const req: GradRequest = { objective: obj, bn, wrt: { weights: true, input: true } };
  const r = referenceGradients(g, params, x, req);
  const loss = (p: ParamMap, xi: GradInput): number => referenceGradients(g, p, xi, { ...req, wrt: {} }).loss;
  const h = 1e-6;
  const rng = new Rng(`${label}:pick`);
  const close = (fd: number, an: number, what: string): void => {
    assert.ok(Math.abs(fd - an) <= 1e-6 * Math.max(1, Math.abs(fd)), `${label} ${what}: finite difference ${fd}, backward ${an}`);
  };
  // parameters: a few entries of every tensor
  for (const [node, pg] of params) {
    for (const role of ['weight', 'bias'] as const) {
      const arr = pg[role];
      if (!arr) continue;
      const an = r.weights!.get(node)?.[role];
      for (let k = 0; k < Math.min(4, arr.length); k++) {
        const i = Math.floor(rng.nextFloat24() * arr.length);
        const shifted = (s: number): number => {
          const a2 = Float64Array.from(arr);
          a2[i]! += s * h;
          const p2: ParamMap = new Map(params);
          p2.set(node, { ...pg, [role]: a2 });
          return loss(p2, x);
        };
        close((shifted(1) - shifted(-1)) / (2 * h), an ? an[i]! : 0, `${g.nodes[node]!.name}.${role}[${i}]`);
      }
    }
  }
  for (let k = 0; k < 6; k++) {
    const i = Math.floor(rng.nextFloat24() * x.data.length);
    const shifted = (s: number): number => {
      const d = Float64Array.from(x.data);
      d[i]! += s * h;
      return loss(params, { ...x, data: d });
    };
    close((shifted(1) - shifted(-1)) / (2 * h), r.input![i]!, `input[${i}]`);
  }
}

test('conv2d: stride, padding, dilation, groups, bias', () => {
  for (const [k, s, p, d, groups] of [
    [3, 1, 1, 1, 1],
    [3, 2, 1, 1, 1],
    [1, 1, 0, 1, 1],
    [3, 1, 2, 2, 1],
    [3, 1, 1, 1, 2],
    [3, 2, 1, 1, 4],
    [5, 1, 2, 1, 1],
  ] as const) {
    const b = new GraphBuilder('conv');
    const x = b.input([4, 7, 7]);
    const c = b.conv2d('conv', x, { outC: 4, kernel: k, stride: s, pad: p, dilation: d, groups, bias: true });
    checkGraph(head(b, c), 'batch', 'ce', `conv k${k} s${s} p${p} d${d} g${groups}`);
  }
  const b = new GraphBuilder('conv-asym');
  const x = b.input([3, 6, 6]);
  checkGraph(head(b, b.conv2d('conv', x, { outC: 2, kernel: [1, 3], pad: [0, 1, 0, 1] })), 'batch', 'sum', 'conv 1x3');
});

test('batchnorm: batched, per image, inference, off; affine or not', () => {
  for (const bn of ['batch', 'per-image', 'eval', 'off'] as const) {
    for (const affine of [true, false]) {
      const b = new GraphBuilder('bn');
      const x = b.input([3, 5, 5]);
      const c = b.conv2d('conv', x, { outC: 4, kernel: 3, pad: 1 });
      checkGraph(head(b, b.activation('act', b.batchnorm('bn', c, { affine }), 'relu')), bn, 'ce', `bn ${bn} affine=${affine}`);
    }
  }
  // BatchNorm1d on a vector
  const b = new GraphBuilder('bn1d');
  const x = b.input([3, 4, 4]);
  const v = b.flatten('flat', b.globalAvgPool('gap', b.conv2d('conv', x, { outC: 6, kernel: 1 })));
  checkGraph(head(b, b.batchnorm('bn', v)), 'batch', 'ce', 'bn1d');
});

test('every activation', () => {
  for (const fn of ACTIVATIONS) {
    const b = new GraphBuilder(fn);
    const x = b.input([2, 5, 5]);
    const c = b.conv2d('conv', x, { outC: 3, kernel: 3, pad: 1, bias: true });
    checkGraph(head(b, b.activation('act', c, fn, fn === 'leaky_relu' ? 0.2 : fn === 'elu' || fn === 'celu' ? 0.7 : undefined)), 'batch', 'ce', `activation ${fn}`);
  }
});

test('max and average pools (count_include_pad both ways, strides)', () => {
  for (const [kind, k, s, p, cip] of [
    ['maxpool', 3, 1, 1, true],
    ['maxpool', 2, 2, 0, true],
    ['avgpool', 3, 1, 1, false],
    ['avgpool', 3, 1, 1, true],
    ['avgpool', 2, 2, 0, true],
    ['avgpool', 3, 2, 1, false],
  ] as const) {
    const b = new GraphBuilder('pool');
    const x = b.input([2, 6, 6]);
    const c = b.conv2d('conv', x, { outC: 3, kernel: 3, pad: 1 });
    checkGraph(head(b, b.pool('pool', c, kind, { kernel: k, stride: s, pad: p, countIncludePad: cip })), 'batch', 'ce', `${kind} k${k} s${s} p${p} cip=${cip}`);
  }
});

test('add, zero, identity, concat, slice, resize, flatten, global pool, linear', () => {
  const mix = (): Graph => {
    const b = new GraphBuilder('mix');
    const x = b.input([3, 8, 8]);
    const c1 = b.conv2d('c1', x, { outC: 4, kernel: 3, pad: 1 });
    const c2 = b.conv2d('c2', x, { outC: 4, kernel: 1 });
    const z = b.zero('zero', c1);
    const s = b.add_('add', [c1, b.identity('id', c2), z, c1]);
    const r = b.activation('relu', s, 'relu');
    const sl0 = b.conv2d('f0', b.slice('s0', r, [0, 0], [2, 2]), { outC: 2, kernel: 1 });
    const sl1 = b.conv2d('f1', b.slice('s1', r, [1, 1], [2, 2]), { outC: 2, kernel: 1 });
    const cat = b.concat('cat', [sl0, sl1]);
    const up = b.resize('up', cat, [6, 6]);
    const down = b.resize('down', up, [3, 3]);
    const h = b.linear('hidden', b.flatten('flat', down), 7);
    return head(b, b.activation('tanh', h, 'tanh'));
  };
  checkGraph(mix(), 'batch', 'ce', 'mix');
  checkGraph(mix(), 'per-image', 'sum', 'mix per-image sum');
});

test('Hessian-vector product (GraSP) against differences of the backward', () => {
  const b = new GraphBuilder('hvp');
  const x0 = b.input([2, 5, 5]);
  const c = b.conv2d('conv', x0, { outC: 3, kernel: 3, pad: 1 });
  const g = head(b, b.activation('act', b.batchnorm('bn', c), 'gelu'));
  const params = params64(g, 'hvp:w');
  const x = input(4, 2, 5, 'hvp:x');
  const obj: Objective = { kind: 'cross-entropy', labels: Int32Array.from([0, 1, 2, 3]) };
  const v = new Map<number, Float64Array>();
  const rng = new Rng('hvp:v');
  for (const n of g.nodes) if (n.op.kind === 'conv2d' || n.op.kind === 'linear') v.set(n.id, Float64Array.from(params.get(n.id)!.weight!, () => rng.nextNormal()));
  const r = referenceGradients(g, params, x, { objective: obj, bn: 'batch', wrt: { hvp: v } });
  // check one entry of H v: d/dw_i (g . v), g . v by differences of the loss along v
  const gv = (p: ParamMap): number => {
    const gr = referenceGradients(g, p, x, { objective: obj, bn: 'batch', wrt: { weights: true } }).weights!;
    let s = 0;
    for (const [node, vv] of v) for (let i = 0; i < vv.length; i++) s += gr.get(node)!.weight![i]! * vv[i]!;
    return s;
  };
  for (const [node, vv] of v) {
    const i = Math.floor(vv.length / 2);
    const shifted = (s: number): number => {
      const w = Float64Array.from(params.get(node)!.weight!);
      w[i]! += s * 1e-5;
      const p2: ParamMap = new Map(params);
      p2.set(node, { ...params.get(node)!, weight: w });
      return gv(p2);
    };
    const fd = (shifted(1) - shifted(-1)) / 2e-5;
    assert.ok(Math.abs(fd - r.hvp!.get(node)![i]!) <= 1e-5 * Math.max(1, Math.abs(fd)), `Hv[${i}] of ${g.nodes[node]!.name}: ${fd} vs ${r.hvp!.get(node)![i]}`);
  }
});
