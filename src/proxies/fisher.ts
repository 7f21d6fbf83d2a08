/**
 * fisher (Theis et al. 2018, Turner et al. 2020; NASLib / zero-cost-nas `fisher.py`): for each conv /
 * linear output z (channel k, image n), g_nk = sum over positions of z * dL/dz; per channel
 * 0.5 * mean_n g_nk^2; NASLib broadcasts each channel's value over that channel's weights
 * (prod(W.shape[1:]) copies) before summing, so the score is sum_k |0.5 mean_n g_nk^2| * prod(W.shape[1:]).
 * L: cross-entropy of one batch, BatchNorm in training mode over the batch.
 */
import { prunableLayers } from './gradient-common.js';
import type { Proxy } from './index.js';
import { NASLIB_CE_NEED } from './snip.js';

export function fisherProxy(): Proxy {
  return {
    name: 'fisher',
    taps: [],
    grad: { ...NASLIB_CE_NEED, wrt: { outputProducts: true } },
    key: () => 'fisher:v1:naslib',
    score: (ctx) => {
      const prods = ctx.grad?.outputProducts;
      if (!prods) throw new Error('fisher needs a gradient pass with output products');
      let s = 0;
      for (const n of prunableLayers(ctx.graph)) {
        const op = n.op;
        const fan = op.kind === 'conv2d' ? (op.inC / op.groups) * op.kernel[0] * op.kernel[1] : op.kind === 'linear' ? op.inF : 0;
        const C = op.kind === 'conv2d' ? op.outC : op.kind === 'linear' ? op.outF : 0;
        const g = prods.get(n.id)!;
        const N = g.length / C;
        for (let k = 0; k < C; k++) {
          let q = 0;
          for (let i = 0; i < N; i++) q += g[i * C + k]! * g[i * C + k]!;
          s += Math.abs(0.5 * (q / N)) * fan;
        }
      }
      return { value: s };
    },
  };
}
