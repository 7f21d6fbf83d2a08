/**
 * synflow (Tanaka et al. 2020; NASLib / zero-cost-nas `synflow.py`) and logsynflow (FreeREA,
 * Cavagnero et al. 2022, `metrics/synflow.py`). BatchNorm removed, every parameter replaced by its
 * absolute value, one all-ones input, objective sum(logits). The authors run float64 (the sums reach
 * 1e48); rbflex runs float32 in onnxruntime with the pass rescaled into range (input and biases times
 * 2^-64, backward seeded with 1 / sum: exact for this positively homogeneous network), which agrees
 * with the float64 tape within 1e-4 per gradient tensor; `--backend reference` runs the float64 tape.
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
  precision: 'float32',
  objective: 'sum',
  absWeights: true,
  rescale: true,
  wrt: { weights: true },
};

function synflowSum(ctx: ProxyContext, name: string, remap: (g: number) => number): { log: number; value: number } {
  const r = ctx.grad;
  const w = ctx.weights;
  if (!r || !w) throw new Error(`${name} needs a gradient pass`);
  // the pass may return gradients divided by exp(k) (rescaled float32): sum of |w g'| times exp(k), in logs
  const k = r.gradLogScale ?? 0;
  const f = Math.exp(k);
  let s = 0;
  for (const n of prunableLayers(ctx.graph)) {
    const g = weightGrad(r, n.id, name);
    const wt = w.byNode.get(n.id)!.weight!;
    if (remap === identity) for (let i = 0; i < g.length; i++) s += Math.abs(wt[i]! * g[i]!);
    else for (let i = 0; i < g.length; i++) s += Math.abs(Math.abs(wt[i]!) * remap(g[i]! * f));
  }
  return remap === identity ? { log: s > 0 ? Math.log(s) + k : s === 0 ? -Infinity : NaN, value: s * f } : { log: NaN, value: s };
}

const identity = (g: number): number => g;

export function synflowProxy(): Proxy {
  return {
    name: 'synflow',
    taps: [],
    grad: SYNFLOW_NEED,
    key: () => 'synflow:v1:naslib-log',
    score: (ctx) => {
      // NASLib ZeroCost.query: log of a positive sum, 0 stays 0 (|w g| makes the sum >= 0)
      const s = synflowSum(ctx, 'synflow', identity);
      return { value: s.value === 0 ? 0 : s.log };
    },
  };
}

export function logsynflowProxy(): Proxy {
  return {
    name: 'logsynflow',
    taps: [],
    grad: SYNFLOW_NEED,
    key: () => 'logsynflow:v1:freerea',
    score: (ctx) => ({ value: synflowSum(ctx, 'logsynflow', (g) => Math.log(g + 1)).value }),
  };
}
