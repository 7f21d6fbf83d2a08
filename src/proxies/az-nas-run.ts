/**
 * AZ-NAS's pass on one network (cvlab-yonsei/AZ-NAS, NB201/ZeroShotProxy/compute_az_nas_score.py):
 * kaiming-normal (fan-in) weights and N(0, 1) inputs from the weight seed, BatchNorm over the batch;
 * expressivity and progressivity from the stem and cell outputs (az-nas.ts), trainability from one
 * vector-Jacobian product per cell: a Rademacher tensor at the cell's output, pulled back through
 * that cell alone (the cell as a sub-graph whose input is the previous feature map, run by the
 * gradient engine with a `seed` objective). The three values feed the az-nas rank aggregation with
 * FLOPs (ensemble.ts); each is also a proxy of its own (az-expressivity, ...).
 */
import type { Backend } from '../backends/types.js';
import { gradBackend } from '../grad/index.js';
import type { Weights } from '../ir/init.js';
import type { Graph, Node } from '../ir/types.js';
import { Rng } from '../util/rng.js';
import { type FeatureMap, expressivityOf, expressivityProgressivity, trainabilityOf, trainabilityTerm } from './az-nas.js';
import { cellFeatureNodes } from './forward-runs.js';
import { gaussianImages, initWeightsScheme } from './init-schemes.js';
import type { ProxyRun } from './run.js';

/** The authors' NB201 batch (random inputs, the loader's batch size 64). */
export const AZ_BATCH = 64;

export interface AzValues {
  expressivity: number;
  progressivity: number;
  trainability: number;
}

/**
 * The part of `g` between node `from` (exclusive; it becomes the input) and node `to` (the output),
 * with `w`'s parameters of the nodes kept. Throws if `to` depends on anything but `from`.
 */
export function subgraph(g: Graph, w: Weights, from: number, to: number): { graph: Graph; weights: Weights } {
  const keep = new Set<number>();
  const stack = [to];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === from || keep.has(id)) continue;
    if (id === g.input) throw new Error(`${g.label}: node ${g.nodes[to]!.name} depends on more than node ${g.nodes[from]!.name}`);
    keep.add(id);
    stack.push(...g.nodes[id]!.inputs);
  }
  const old = [...keep].sort((a, b) => a - b);
  const map = new Map<number, number>([[from, 0]]);
  old.forEach((id, i) => map.set(id, i + 1));
  const nodes: Node[] = [{ id: 0, name: 'input', op: { kind: 'input' }, inputs: [], shape: g.nodes[from]!.shape, taps: { reference: 0, activations: 0 }, instances: 1 }];
  for (const id of old) {
    const n = g.nodes[id]!;
    nodes.push({ ...n, id: map.get(id)!, inputs: n.inputs.map((i) => map.get(i)!) });
  }
  const byNode = new Map<number, { weight?: Float32Array; bias?: Float32Array }>();
  for (const [id, p] of w.byNode) if (map.has(id) && id !== from) byNode.set(map.get(id)!, p);
  const specs = w.specs.filter((s) => map.has(s.node) && s.node !== from).map((s) => ({ ...s, node: map.get(s.node)! }));
  const out = map.get(to)!;
  return {
    graph: { label: `${g.label} [${g.nodes[from]!.name} -> ${g.nodes[to]!.name}]`, nodes, input: 0, output: out, classifierInput: out, defaultTaps: g.defaultTaps },
    weights: { specs, byNode, seed: w.seed },
  };
}

/** Rademacher (±1) values, seeded. */
export function rademacher(n: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextFloat24() < 0.5 ? -1 : 1;
  return out;
}

/** Expressivity, progressivity and trainability of one network (AZ-NAS's `compute_nas_score`). */
export async function azRun(g: Graph, seed: string, backend: Backend, n: number): Promise<AzValues> {
  const features = cellFeatureNodes(g);
  if (!features) throw new Error(`${g.label}: az-nas reads the stem and cell outputs (cells.<i> nodes); this network has no such structure`);
  const [c, h, wd] = g.nodes[g.input]!.shape as [number, number, number];
  const w = initWeightsScheme(g, seed, 'kaiming-normal-fan-in');
  const x = gaussianImages(n, c, h, wd, `${seed}/az-x`);
  const f = await backend.forward(g, w, { n, c, h, w: wd, data: x, id: 'az-x' }, { taps: [], bn: 'batch', nodes: features });
  const map = (id: number, data: ArrayLike<number>): FeatureMap => {
    const [fc, fh, fw] = g.nodes[id]!.shape as [number, number, number];
    return { data, n, c: fc, h: fh, w: fw };
  };
  const ep = expressivityProgressivity(features.map((id) => expressivityOf(map(id, f.nodes!.get(id)!.data))));
  const grad = gradBackend(backend.name === 'onnx' ? 'onnx' : 'reference');
  const terms: number[] = [];
  // last cell first, as the authors' loop (the order does not change the mean)
  for (let i = features.length - 1; i >= 1; i--) {
    const sub = subgraph(g, w, features[i - 1]!, features[i]!);
    const fin = map(features[i - 1]!, f.nodes!.get(features[i - 1]!)!.data);
    const size = n * g.nodes[features[i]!]!.shape.reduce((a, d) => a * d, 1);
    const gOut = rademacher(size, `${seed}/az-g/${i}`);
    const data = fin.data instanceof Float32Array || fin.data instanceof Float64Array ? fin.data : Float32Array.from(fin.data);
    const r = await grad.gradients(sub.graph, sub.weights, { n, c: fin.c, h: fin.h, w: fin.w, data }, { objective: { kind: 'seed', grad: gOut }, bn: 'batch', wrt: { input: true } });
    terms.push(trainabilityTerm({ ...fin, data: r.input! }, map(features[i]!, gOut)));
  }
  return { ...ep, trainability: trainabilityOf(terms) };
}

/** One AZ-NAS pass per network, shared by the three component proxies (keyed by the graph object). */
const memo = new WeakMap<Graph, Map<string, Promise<AzValues>>>();

function azValues(g: Graph, seed: string, backend: Backend, n: number): Promise<AzValues> {
  let m = memo.get(g);
  if (!m) memo.set(g, (m = new Map()));
  const k = `${seed}|${backend.name}|${n}`;
  let p = m.get(k);
  if (!p) m.set(k, (p = azRun(g, seed, backend, n)));
  return p;
}

/** The run of one AZ-NAS component proxy. */
export function azRunner(part: keyof AzValues): ProxyRun {
  return {
    input: 'gaussian',
    batch: AZ_BATCH,
    exec: async (ctx) => ({ value: (await azValues(ctx.graph, ctx.seed, ctx.backend, ctx.batch))[part] }),
  };
}
