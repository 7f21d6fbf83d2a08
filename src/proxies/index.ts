/**
 * One proxy interface: a proxy reads the IR (params, flops), the tapped features of the shared
 * forward pass (rbflex, naswot) or one gradient pass (synflow, snip, ...), and returns a number,
 * higher = predicted better. Each proxy declares what it needs (`taps`, `grad`); a scoring session
 * computes each need once for all proxies.
 */
import { countFlops, countParams } from '../ir/analysis.js';
import type { Graph, TapMode } from '../ir/types.js';
import { type Features, segmentsFor } from '../backends/types.js';
import type { ReducedFeatures } from '../backends/onnx/reduced.js';
import type { ReduceKind } from '../backends/onnx/reduce.js';
import type { Weights } from '../ir/init.js';
import type { GradResult } from '../grad/types.js';
import { fisherProxy } from './fisher.js';
import { gradNormProxy } from './grad-norm.js';
import { graspProxy } from './grasp.js';
import { jacovProxy } from './jacov.js';
import { type GradNeed, registerNeedLookup } from './needs.js';
import { snipProxy } from './snip.js';
import { zicoProxy } from './zico.js';
import { AZ_BATCH, azRunner } from './az-nas-run.js';
import { logsynflowProxy, synflowProxy } from './synflow.js';
import { SWAP_REG, ZEN_GAMMA, mecoOptRunner, mecoRunner, swapRunner, zenRunner } from './modern.js';
import { naswotScore } from './naswot.js';
import type { ProxyRun } from './run.js';
import { naswotReduced, rbflexReduced } from './reduced.js';
import { type ColumnBlock, rbflexScore } from './rbflex.js';

export const PROXY_NAMES = ['rbflex', 'naswot', 'params', 'flops', 'meco', 'swap', 'swap-reg', 'zen', 'ensemble', 'synflow', 'logsynflow', 'snip', 'grasp', 'fisher', 'grad_norm', 'jacov', 'zico', 'az-nas', 'az-expressivity', 'az-progressivity', 'az-trainability', 'meco-opt'] as const;
export type ProxyName = (typeof PROXY_NAMES)[number];

/** The fixed kernel widths of the reference scripts for NB201, NATS-SSS and TransNAS. */
export const REFERENCE_GAMMAS = { gammaK: 2.68690173088039e-12, gammaQ: 1.02460061284506e-11 } as const;

export interface ProxySettings {
  /** RBF kernel widths for rbflex */
  gammaK: number;
  gammaQ: number;
  /** which activation outputs rbflex reads */
  taps: TapMode;
}

export interface ProxyContext {
  graph: Graph;
  features?: Features;
  /** the network's own weights (as initialised, signs kept) */
  weights?: Weights;
  /** the gradient pass answering this proxy's `grad` need (its first batch) */
  grad?: GradResult;
  /** one gradient pass per batch of the need (`GradNeed.batches`; zico) */
  gradBatches?: GradResult[];
}

export interface Proxy {
  name: ProxyName;
  /** needs a forward pass; and which tap modes */
  taps: TapMode[];
  /** needs a gradient pass, and which (see needs.ts) */
  grad?: GradNeed;
  /** a string that changes whenever the proxy's result could (for the score cache) */
  key(s: ProxySettings): string;
  /** runs its own pass with its authors' settings instead of reading the shared forward pass (meco, swap, zen) */
  run?: ProxyRun;
  score(ctx: ProxyContext, s: ProxySettings): { value: number; note?: string };
  /**
   * Optional: the same score from taps reduced inside the graph (backends/onnx/reduce.ts). When every
   * proxy of a run has this, the scorer may use the shared-skeleton path instead of raw taps.
   */
  reduced?: {
    needs: { kind: ReduceKind; mode: TapMode }[];
    score(r: ReducedFeatures, graph: Graph, s: ProxySettings): { value: number; note?: string };
  };
}

export function blocksFor(f: Features, mode: TapMode): ColumnBlock[] {
  return segmentsFor(f, mode).map(({ seg, count }) => ({ data: seg.data, size: seg.size, count }));
}

function needFeatures(ctx: ProxyContext, name: string): Features {
  if (!ctx.features) throw new Error(`${name} needs a forward pass`);
  return ctx.features;
}

export const PROXIES: Record<ProxyName, (s: ProxySettings) => Proxy> = {
  rbflex: (s) => ({
    name: 'rbflex',
    taps: [s.taps],
    key: (st) => `rbflex:v1:taps=${st.taps}:gk=${st.gammaK}:gq=${st.gammaQ}`,
    score: (ctx, st) => {
      const f = needFeatures(ctx, 'rbflex');
      const y: ColumnBlock[] = [{ data: f.y.data, size: f.y.size, count: 1 }];
      const r = rbflexScore(blocksFor(f, st.taps), y, f.n, st.gammaK, st.gammaQ);
      return r.degenerate ? { value: r.score, note: r.degenerate } : { value: r.score };
    },
    reduced: {
      needs: [{ kind: 'distances', mode: s.taps }],
      score: (r, _g, st) => {
        const p = rbflexReduced(r, st.taps, st.gammaK, st.gammaQ);
        return p.degenerate ? { value: p.score, note: p.degenerate } : { value: p.score };
      },
    },
  }),
  naswot: () => ({
    name: 'naswot',
    taps: ['activations'],
    key: () => 'naswot:v1:taps=activations',
    score: (ctx) => ({ value: naswotScore(blocksFor(needFeatures(ctx, 'naswot'), 'activations'), needFeatures(ctx, 'naswot').n) }),
    reduced: { needs: [{ kind: 'hamming', mode: 'activations' }], score: (r, g) => ({ value: naswotReduced(r, g, 'activations') }) },
  }),
  params: () => ({ name: 'params', taps: [], key: () => 'params:v1', score: (ctx) => ({ value: countParams(ctx.graph) }) }),
  flops: () => ({ name: 'flops', taps: [], key: () => 'flops:v1:xautodl', score: (ctx) => ({ value: countFlops(ctx.graph) }) }),
  meco: () => ownPass('meco', 'meco:v1:all-nodes:image0:per-image-bn', mecoRunner),
  'meco-opt': () => ownPass('meco-opt', 'meco-opt:v1:all-nodes:image0:per-image-bn:8-channels', mecoOptRunner),
  swap: () => ownPass('swap', 'swap:v1:relu:normal-init:batch-bn', swapRunner(false)),
  'swap-reg': () => ownPass('swap-reg', `swap-reg:v1:relu:normal-init:batch-bn:mu=${SWAP_REG.mu}:sigma=${SWAP_REG.sigma}`, swapRunner(true)),
  zen: () => ownPass('zen', `zen:v1:gaussian:normal-init:batch-bn:gamma=${ZEN_GAMMA}`, zenRunner),
  ensemble: () => population('ensemble'),
  'az-nas': () => population('az-nas'),
  'az-expressivity': () => ownPass('az-expressivity', `az-expressivity:v1:kaiming-fan-in:gaussian:batch-bn:b=${AZ_BATCH}`, azRunner('expressivity')),
  'az-progressivity': () => ownPass('az-progressivity', `az-progressivity:v1:kaiming-fan-in:gaussian:batch-bn:b=${AZ_BATCH}`, azRunner('progressivity')),
  'az-trainability': () => ownPass('az-trainability', `az-trainability:v1:kaiming-fan-in:gaussian:batch-bn:rademacher-vjp:b=${AZ_BATCH}`, azRunner('trainability')),
  synflow: synflowProxy,
  logsynflow: logsynflowProxy,
  snip: snipProxy,
  grasp: graspProxy,
  fisher: fisherProxy,
  grad_norm: gradNormProxy,
  jacov: jacovProxy,
  zico: zicoProxy,
};

/** A proxy that ranks a set of networks (its members are scored per network; see ensemble-scores.ts). */
function population(name: ProxyName): Proxy {
  return {
    name,
    taps: [],
    key: () => name,
    score: () => {
      throw new ProxyError(`${name} ranks a set of networks: score it through a session (score, search, study), not one network alone`);
    },
  };
}

function ownPass(name: ProxyName, key: string, run: ProxyRun): Proxy {
  return {
    name,
    taps: [],
    run,
    key: () => key,
    score: () => {
      throw new ProxyError(`${name} runs its own pass; score it through scoreNetwork`);
    },
  };
}

export class ProxyError extends Error {
  override name = 'ProxyError';
}

/** `a,b,c`, or `all` for every proxy (`all` may be mixed with names). */
export function parseProxyList(s: string): ProxyName[] {
  const names = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .flatMap((x) => (x === 'all' ? [...PROXY_NAMES] : [x]));
  if (names.length === 0) throw new ProxyError('no proxy named; choose from ' + PROXY_NAMES.join(', '));
  for (const n of names) {
    if (!(PROXY_NAMES as readonly string[]).includes(n)) {
      throw new ProxyError(`unknown proxy "${n}"; choose from ${PROXY_NAMES.join(', ')} or all`);
    }
  }
  return [...new Set(names)] as ProxyName[];
}

registerNeedLookup((name) => ((PROXY_NAMES as readonly string[]).includes(name) ? PROXIES[name as ProxyName]({ ...REFERENCE_GAMMAS, taps: 'reference' }).grad : undefined));
