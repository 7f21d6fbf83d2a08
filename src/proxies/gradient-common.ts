/** Helpers the gradient proxies share: the conv / linear layers (NASLib's prunable layers) and their tensors. */
import type { Weights } from '../ir/init.js';
import type { Graph, Node } from '../ir/types.js';
import type { GradResult } from '../grad/types.js';

/** Nodes that are nn.Conv2d or nn.Linear in PyTorch, in module order. */
export function prunableLayers(g: Graph): Node[] {
  return g.nodes.filter((n) => n.op.kind === 'conv2d' || n.op.kind === 'linear');
}

export function weightGrad(r: GradResult, node: number, proxy: string): Float32Array | Float64Array {
  const gw = r.weights?.get(node)?.weight;
  if (!gw) throw new Error(`${proxy}: the gradient pass returned no weight gradient for node ${node}`);
  return gw;
}

export function weightOf(w: Weights, node: number): Float32Array {
  const t = w.byNode.get(node)?.weight;
  if (!t) throw new Error(`node ${node} has no weight`);
  return t;
}
