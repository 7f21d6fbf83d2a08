/**
 * ZiCo (Li et al., ICLR 2023; SLDGroup/ZiCo `ZeroShotProxy/compute_zico.py`, and the NAS-Bench-201
 * version AZ-NAS ships: cvlab-yonsei/AZ-NAS `NB201/ZeroShotProxy/compute_zico_score.py`):
 * the inverse coefficient of variation of the weight gradients across batches. The network (its
 * PyTorch-default init, BatchNorm in training mode over each batch) takes the cross-entropy of
 * `batch_iter = 2` batches of 64 real images against their labels, one backward per batch. For every
 * nn.Conv2d / nn.Linear weight, element-wise over the batches: mean |g| and std g (numpy, ddof 0);
 * over the elements whose std is not 0, the layer adds log(sum(mean|g| / std)) (a layer whose sum is
 * 0 adds nothing). The score is the sum over layers.
 */
import { prunableLayers, weightGrad } from './gradient-common.js';
import type { Proxy } from './index.js';
import type { GradNeed } from './needs.js';
import type { GradResult } from '../grad/types.js';
import type { Graph } from '../ir/types.js';

/** The authors' NB201 setting: two batches of the train loader (batch size 64), net.train(), cross-entropy. */
export const ZICO_NEED: GradNeed = {
  input: 'data',
  batch: 64,
  batches: 2,
  bn: 'batch',
  precision: 'float32',
  objective: 'cross-entropy',
  absWeights: false,
  wrt: { weights: true },
};

/**
 * ZiCo of per-layer weight gradients, `layers[l][b]` = the flattened gradient of layer l on batch b
 * (every batch the same length).
 */
export function zicoScore(layers: readonly (readonly ArrayLike<number>[])[]): number {
  let score = 0;
  for (const batches of layers) {
    const k = batches.length;
    if (k === 0) continue;
    const len = batches[0]!.length;
    let sum = 0;
    for (let i = 0; i < len; i++) {
      let m = 0;
      let a = 0;
      for (const g of batches) {
        m += g[i]!;
        a += Math.abs(g[i]!);
      }
      m /= k;
      let v = 0;
      for (const g of batches) v += (g[i]! - m) * (g[i]! - m);
      const std = Math.sqrt(v / k);
      if (std !== 0) sum += a / k / std;
    }
    if (sum !== 0) score += Math.log(sum);
  }
  return score;
}

/** ZiCo from the gradient passes of one network (one GradResult per batch). */
export function zicoOf(graph: Graph, passes: readonly GradResult[]): number {
  if (passes.length < 2) throw new Error(`zico needs the gradients of at least 2 batches, got ${passes.length}`);
  return zicoScore(prunableLayers(graph).map((n) => passes.map((p) => weightGrad(p, n.id, 'zico'))));
}

export function zicoProxy(): Proxy {
  return {
    name: 'zico',
    taps: [],
    grad: ZICO_NEED,
    key: () => 'zico:v1:2x64:ce:batch-bn',
    score: (ctx) => {
      if (!ctx.gradBatches) throw new Error('zico needs one gradient pass per batch');
      return { value: zicoOf(ctx.graph, ctx.gradBatches) };
    },
  };
}
