/**
 * The forward passes behind MeCo, SWAP and Zen-NAS, each with its authors' settings
 * (images, batch size, BatchNorm mode, initialisation); the arithmetic is in meco.ts, swap.ts, zen.ts.
 */
import { type Backend, type Features, type ImageBatch, imageAt } from '../backends/types.js';
import { countParams, numel } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import type { Graph, Node } from '../ir/types.js';
import { gaussianImages, initWeightsScheme } from './init-schemes.js';
import { MecoPass, type MecoTensor, mecoOptScore, mecoScore } from './meco.js';
import { once } from './pass-memo.js';
import { Rng } from '../util/rng.js';
import { swapPatternCodes, swapPatterns, swapRegularFactor } from './swap.js';
import { zenScore } from './zen.js';

/**
 * How many PyTorch module outputs each node stands for, for MeCo's hook-on-every-module rule.
 * Every op node is one module per instance (merged identical activations count each);
 * the input, pure reshapes and zero ops (whose correlation matrix is all zeros) count nothing.
 * Containers (nn.Sequential, cells) that re-emit a child's output are not modelled: see docs/PROXIES.md.
 */
export function mecoCount(n: Node): number {
  switch (n.op.kind) {
    case 'input':
    case 'flatten':
    case 'zero':
      return 0;
    default:
      return Math.max(1, n.instances);
  }
}

/**
 * MeCo on the first image of `images`, BatchNorm per image (training mode, batch of one);
 * with `opt`, MeCo_opt (8 random channels per module output, times C/8) drawn from that seed.
 */
export async function mecoRun(g: Graph, w: Weights, images: ImageBatch, backend: Backend, opt?: { seed: string }): Promise<number> {
  const one = imageAt(images, 0);
  // meco and meco-opt run the same pass (and share its correlation matrices)
  const pass = await once(g, `meco|${w.seed}|${one.id}|${backend.name}`, async () => {
    const nodes = g.nodes.filter((n) => mecoCount(n) > 0 && numel(n.shape) > n.shape[0]!).map((n) => n.id);
    const f = await backend.forward(g, w, one, { taps: [], bn: 'per-image', nodes });
    const tensors: MecoTensor[] = nodes.map((id) => {
      const t = f.nodes!.get(id)!;
      return { data: t.data, shape: g.nodes[id]!.shape, count: mecoCount(g.nodes[id]!) };
    });
    return new MecoPass(tensors);
  });
  return opt ? mecoOptScore(pass, new Rng(`${opt.seed}/meco-opt`)) : mecoScore(pass);
}

/** The N(0, 1) weights SWAP and Zen-NAS draw from the weight seed (drawn once per network). */
export function normalWeights(g: Graph, seed: string): Weights {
  return once(g, `normal|${seed}`, () => initWeightsScheme(g, seed, 'normal'));
}

/** The ReLU outputs SWAP hooks (nn.ReLU modules on 4-D tensors). */
export function swapNodes(g: Graph): number[] {
  return g.nodes.filter((n) => n.op.kind === 'activation' && n.op.fn === 'relu' && n.shape.length === 3).map((n) => n.id);
}

export interface SwapOptions {
  /** images (the authors use 16) */
  n: number;
  /** regulariser (swap-reg): mu and sigma in thousands of parameters */
  reg?: { mu: number; sigma: number };
}

/** SWAP: N(0,1) weights drawn from `seed`, BatchNorm over the batch (the authors run the batch at once). */
export async function swapRun(g: Graph, seed: string, images: ImageBatch, backend: Backend, o: SwapOptions): Promise<number> {
  if (images.n < o.n) throw new Error(`swap needs ${o.n} images, got ${images.n}`);
  const batch: ImageBatch = { ...images, n: o.n, data: images.data.subarray(0, o.n * images.c * images.h * images.w), id: `${images.id}[0:${o.n}]` };
  const nodes = swapNodes(g);
  if (nodes.length === 0) throw new Error(`${g.label}: swap needs ReLU layers; the network has none`);
  // swap and swap-reg count the same patterns
  const s = await once(g, `swap|${seed}|${batch.id}|${backend.name}`, async () => {
    // the onnx backend forms each neuron's pattern code in the graph (one value per neuron comes back)
    const codes = backend.name === 'onnx' && o.n <= 24;
    const f = await backend.forward(g, normalWeights(g, seed), batch, codes ? { taps: [], bn: 'batch', signCodes: { nodes, n: o.n } } : { taps: [], bn: 'batch', nodes });
    return f.signCodes ? swapPatternCodes(nodes.map((id) => f.signCodes!.get(id)!), o.n) : swapPatterns(nodes.map((id) => f.nodes!.get(id)!), o.n);
  });
  return o.reg ? s * swapRegularFactor(countParams(g), o.reg.mu, o.reg.sigma) : s;
}

/** The node whose output Zen-NAS's forward_pre_GAP returns: the input of the global pool before the classifier. */
export function preGapNode(g: Graph): number {
  let id = g.classifierInput;
  for (let guard = 0; guard < 4; guard++) {
    const n = g.nodes[id]!;
    if (n.op.kind === 'global_avg_pool') return n.inputs[0]!;
    if (n.op.kind !== 'flatten') break;
    id = n.inputs[0]!;
  }
  return g.classifierInput;
}

export interface ZenOptions {
  /** batch size (the authors' default for NB201 in AZ-NAS and Zen-NAS's CIFAR runs: 64) */
  n: number;
  /** perturbation scale (1e-2) */
  gamma: number;
}

/** Zen-score: Gaussian weights and inputs from `seed`, two batched forwards (x and x + gamma·eps). */
export async function zenRun(g: Graph, seed: string, backend: Backend, o: ZenOptions): Promise<number> {
  const [c, h, wd] = g.nodes[g.input]!.shape as [number, number, number];
  const w = normalWeights(g, seed);
  const x = gaussianImages(o.n, c, h, wd, `${seed}/zen-x`);
  const eps = gaussianImages(o.n, c, h, wd, `${seed}/zen-eps`);
  const mixed = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) mixed[i] = x[i]! + o.gamma * eps[i]!;
  const pre = preGapNode(g);
  const opts = { taps: [], bn: 'batch', nodes: [pre], bnVar: true } as const;
  const batches = [
    { n: o.n, c, h, w: wd, data: x, id: 'zen-x' },
    { n: o.n, c, h, w: wd, data: mixed, id: 'zen-mixup' },
  ];
  // the two passes through one model where the backend can (onnx: one session)
  const [f1, f2] = backend.forwardEach
    ? ((await backend.forwardEach(g, w, batches, opts)) as [Features, Features])
    : [await backend.forward(g, w, batches[0]!, opts), await backend.forward(g, w, batches[1]!, opts)];
  const bns = g.nodes
    .filter((n) => n.op.kind === 'batchnorm')
    .map((n) => ({
      var1: f1.bnVar!.get(n.id)!,
      var2: f2.bnVar!.get(n.id)!,
      count: (o.n * numel(n.shape)) / n.shape[0]!,
    }));
  return zenScore(f1.nodes!.get(pre)!.data, f2.nodes!.get(pre)!.data, o.n, bns);
}

/**
 * The feature maps AZ-NAS reads (`extract_cell_features`): the stem's output, then every cell's.
 * Cells are the IR's `cells.<i>.` name groups (NB201, NATS-SSS); a cell's output is its last node.
 * Undefined for networks without that structure.
 */
export function cellFeatureNodes(g: Graph): number[] | undefined {
  const lastOf = new Map<number, number>();
  let firstCellNode = Infinity;
  for (const n of g.nodes) {
    const m = /^cells\.(\d+)\./.exec(n.name);
    if (!m) continue;
    lastOf.set(Number(m[1]), n.id);
    firstCellNode = Math.min(firstCellNode, n.id);
  }
  if (lastOf.size < 2) return undefined;
  const cells = [...lastOf.entries()].sort((a, b) => a[0] - b[0]).map(([, id]) => id);
  // the stem's output: the input of the first cell's first node
  const stem = g.nodes[firstCellNode]!.inputs[0]!;
  if (g.nodes[stem]!.name.startsWith('cells.')) return undefined;
  return [stem, ...cells];
}
