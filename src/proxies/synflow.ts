/**
 * synflow (Tanaka et al. 2020; NASLib / zero-cost-nas `synflow.py`) and logsynflow (FreeREA,
 * Cavagnero et al. 2022, `metrics/synflow.py`). BatchNorm removed, every parameter replaced by its
 * absolute value, float64, one all-ones input, objective sum(logits).
 * synflow = log(sum over conv / linear weights of |w * dL/dw|) (NASLib's ZeroCost predictor takes the log);
 * logsynflow = sum of |w * log(dL/dw + 1)|.
 */
import type { GradNeed } from './needs.js';
import { prunableLayers, weightGrad } from './gradient-common.js';
import type { Proxy, ProxyContext } from './index.js';

export const SYNFLOW_NEED: GradNeed = {
  input: 'ones',
  batch: 1,
  bn: 'off',
  precision: 'float64',
  objective: 'sum',
  absWeights: true,
  wrt: { weights: true },
};

function synflowSum(ctx: ProxyContext, name: string, remap: (g: number) => number): number {
  const r = ctx.grad;
  const w = ctx.weights;
  if (!r || !w) throw new Error(`${name} needs a gradient pass`);
  let s = 0;
  for (const n of prunableLayers(ctx.graph)) {
    const g = weightGrad(r, n.id, name);
    const wt = w.byNode.get(n.id)!.weight!;
    for (let i = 0; i < g.length; i++) s += Math.abs(Math.abs(wt[i]!) * remap(g[i]!));
  }
  return s;
}

export function synflowProxy(): Proxy {
  return {
    name: 'synflow',
    taps: [],
    grad: SYNFLOW_NEED,
    key: () => 'synflow:v1:naslib-log',
    score: (ctx) => {
      const s = synflowSum(ctx, 'synflow', (g) => g);
      // NASLib ZeroCost.query: log of a positive sum, -log(-s) of a negative one, 0 stays 0
      return { value: s === 0 ? 0 : s > 0 ? Math.log(s) : -Math.log(-s) };
    },
  };
}

export function logsynflowProxy(): Proxy {
  return {
    name: 'logsynflow',
    taps: [],
    grad: SYNFLOW_NEED,
    key: () => 'logsynflow:v1:freerea',
    score: (ctx) => ({ value: synflowSum(ctx, 'logsynflow', (g) => Math.log(g + 1)) }),
  };
}
