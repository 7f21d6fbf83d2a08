/**
 * grasp (Wang et al. 2020; NASLib / zero-cost-nas `grasp.py`): g = dL/dW over conv / linear weights,
 * H g the Hessian-gradient product of L (g held constant, as `grad_w.data`), score = sum of -w * (H g).
 * L: cross-entropy of one batch (temperature T = 1), BatchNorm in training mode over the batch.
 */
import { prunableLayers, weightOf } from './gradient-common.js';
import type { Proxy } from './index.js';
import { NASLIB_CE_NEED } from './snip.js';

export function graspProxy(): Proxy {
  return {
    name: 'grasp',
    taps: [],
    grad: { ...NASLIB_CE_NEED, wrt: { weights: true, hvp: true } },
    key: () => 'grasp:v1:naslib',
    score: (ctx) => {
      const hg = ctx.grad?.hvp;
      if (!hg || !ctx.weights) throw new Error('grasp needs a Hessian-gradient product');
      let s = 0;
      for (const n of prunableLayers(ctx.graph)) {
        const h = hg.get(n.id)!;
        const w = weightOf(ctx.weights, n.id);
        for (let i = 0; i < h.length; i++) s += -w[i]! * h[i]!;
      }
      return { value: s };
    },
  };
}
