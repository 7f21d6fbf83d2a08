/**
 * Scores architectures of one space with a set of proxies, on one image batch and seed.
 * Every proxy sees the same network, the same weights and the same forward pass.
 */
import { OnnxBackend } from '../backends/onnx/backend.js';
import { SkeletonSessions, forwardReduced } from '../backends/onnx/reduced.js';
import type { ReduceSpec } from '../backends/onnx/reduce.js';
import type { Skeleton } from '../ir/skeleton.js';
import { ReferenceBackend } from '../backends/reference.js';
import type { Backend, BackendName, ImageBatch } from '../backends/types.js';
import { type Weights, initWeights } from '../ir/init.js';
import type { Graph, TapMode } from '../ir/types.js';
import type { ProxyRun } from '../proxies/run.js';
import { PROXIES, type Proxy, ProxyError, type ProxyName, type ProxySettings } from '../proxies/index.js';
import { GradUnsupportedError, gradBackend, gradBackendName } from '../grad/index.js';
import { assertDifferentiable } from '../grad/reference.js';
import type { GradRequest, GradResult } from '../grad/types.js';
import { type InputSources, type LabelledBatch, batchOf, gradInput, labelsFor } from '../proxies/inputs.js';
import { type ProxyInputsMode, foldedPasses, groupNeeds, passKey } from '../proxies/needs.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';

export interface ScorerConfig {
  space: string;
  build: BuildOptions;
  proxies: ProxyName[];
  settings: ProxySettings;
  backend: BackendName;
  /** the user's seed; weights of arch A come from `${seed}/${space}/${A}` */
  seed: string;
  /** onnxruntime threads per session */
  threads?: number;
  /**
   * Where the taps are reduced: `graph` (default) = inside a shared skeleton session when the space
   * has a skeleton and every proxy is reducible (else as `host`); `host` = raw taps out of a
   * per-network session, reduced in float64 here (the reference path).
   */
  reduce?: ReduceMode;
  /** gradient proxies: each at its reference settings (default) or all on RBFleX's images */
  proxyInputs?: ProxyInputsMode;
  /** the reference data batch of gradient proxies that read images (mode `reference`) */
  data?: LabelledBatch;
}

export type ReduceMode = 'graph' | 'host';
export const REDUCE_MODES: readonly ReduceMode[] = ['graph', 'host'];

/** Whether a config's taps are reduced inside onnxruntime graphs: a shared skeleton session, or per-network sessions where the space asks for it (Space.reduceInGraph). */
export function reducesInGraph(config: ScorerConfig, space: Space = getSpace(config.space)): boolean {
  if ((config.reduce ?? 'graph') !== 'graph' || config.backend !== 'onnx' || !(space.skeleton || space.reduceInGraph)) return false;
  const ps = config.proxies.map((p) => PROXIES[p](config.settings));
  // proxies with their own forward runs (p.run) need the per-network path
  return ps.some((p) => p.taps.length > 0) && ps.every((p) => !p.run && !p.grad && (p.taps.length === 0 || p.reduced));
}

/** Whether a config scores through a shared skeleton session with in-graph reduction. */
export function usesSkeleton(config: ScorerConfig, space: Space = getSpace(config.space)): boolean {
  return space.skeleton !== undefined && reducesInGraph(config, space);
}

export interface ArchScore {
  arch: string;
  scores: Partial<Record<ProxyName, number>>;
  notes?: Partial<Record<ProxyName, string>>;
  /** wall time of this network, ms (0 when every score came from the cache) */
  ms: number;
  /** compute time, in earlier runs, of the scores that came from the cache, ms (see ScoreCache.get) */
  cachedMs?: number;
  /** whether a forward pass ran (false for IR-only proxies and for cache hits) */
  forward?: boolean;
}

export function makeBackend(name: BackendName, threads = 1): Backend {
  return name === 'onnx' ? new OnnxBackend({ threads }) : new ReferenceBackend();
}

export function weightSeed(seed: string, space: string, arch: string): string {
  return `${seed}/${space}/${arch}`;
}

export { imagesKey } from './cache-key.js';

/** What gradient proxies run with: the backend choice, the input sources and the seed. */
export interface GradContext {
  backend: BackendName;
  sources: InputSources;
  threads?: number;
}

/** Every gradient need of these proxies, computed once per distinct pass. */
async function gradientPasses(graph: Graph, weights: () => Weights, proxies: readonly Proxy[], ctx: GradContext): Promise<Map<string, GradResult[]>> {
  const out = new Map<string, GradResult[]>();
  const needs = proxies.flatMap((p) => (p.grad ? [p.grad] : []));
  const classes = graph.nodes[graph.output]!.shape.reduce((a, d) => a * d, 1);
  const grouped = groupNeeds(needs);
  const groups = [...grouped].map(([k, need]) => ({ need, names: proxies.filter((p) => p.grad && passKey(p.grad) === k).map((p) => p.name).join(', ') }));
  // jacov's pass rides on the cross-entropy pass over the same images when there is one (one forward)
  const riders = foldedPasses(grouped);
  // refuse before any work (BERT's weights alone take seconds to draw)
  for (const { need, names } of groups) {
    if (need.objective === 'cross-entropy' && graph.nodes[graph.output]!.shape.length !== 1) {
      throw new ProxyError(`${names}: ${graph.label} ends in a [${graph.nodes[graph.output]!.shape.join('x')}] feature map, not class logits; cross-entropy proxies need a classifier (use synflow, logsynflow, jacov or the forward proxies)`);
    }
  }
  try {
    assertDifferentiable(graph);
  } catch (e) {
    throw new ProxyError(`${groups.map((g) => g.names).join(', ')}: ${graph.label}: ${(e as Error).message} (the forward proxies, e.g. rbflex or naswot, can score it)`);
  }
  const w = weights();
  for (const [k, { need, names }] of groups.map((g) => [passKey(g.need), g] as const)) {
    if (riders.has(k)) continue;
    const rides = [...riders].filter(([, host]) => host === k).map(([r]) => r);
    const backend = gradBackend(gradBackendName(ctx.backend, need.precision), ctx.threads ?? 1);
    const results: GradResult[] = [];
    try {
      // one pass per batch (zico: 2), on consecutive slices of the data; random labels get a stream per batch
      for (let b = 0; b < (need.batches ?? 1); b++) {
        const { x, from } = gradInput(need, ctx.sources, graph.nodes[graph.input]!.shape, b);
        const labelSeed = b === 0 ? ctx.sources.seed : `${ctx.sources.seed}:batch${b}`;
        const objective: GradRequest['objective'] =
          need.objective === 'sum' ? { kind: 'sum' } : { kind: 'cross-entropy', labels: labelsFor(from, batchOf(need, ctx.sources), classes, labelSeed) };
        const base: GradRequest = {
          objective,
          bn: need.bn,
          absWeights: need.absWeights,
          ...(need.rescale ? { rescale: true } : {}),
          wrt: {
            weights: (need.wrt.weights ?? false) || (need.wrt.hvp ?? false),
            input: need.wrt.input ?? false,
            outputProducts: need.wrt.outputProducts ?? false,
            ...(rides.length ? { inputOfSum: true } : {}),
          },
        };
        // GraSP: H g with g the weight gradient of this same pass, over conv / linear weights (same run)
        results.push(await backend.gradients(graph, w, x, need.wrt.hvp ? { ...base, wrt: { ...base.wrt, hvp: 'gradient' } } : base));
      }
      out.set(k, results);
      // the riders' results: the objective sum(logits) of the same forward, its input gradient
      const ridden = results.map((r): GradResult => ({ loss: sumOf(r.logits), logits: r.logits, classes: r.classes, input: r.inputOfSum! }));
      for (const r of rides) out.set(r, ridden);
    } catch (e) {
      if (e instanceof GradUnsupportedError) throw new ProxyError(`${names}: ${graph.label}: ${e.message} (the forward proxies, e.g. rbflex or naswot, can score it)`);
      throw e;
    }
  }
  return out;
}

function sumOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return s;
}

/**
 * Every proxy on one network: one forward pass (when a proxy needs features), shared by all.
 * `weights` is called only when a forward pass is needed.
 */
export async function scoreNetwork(
  graph: Graph,
  weights: () => Weights,
  images: ImageBatch,
  proxies: readonly Proxy[],
  settings: ProxySettings,
  backend: Backend,
  /** the network's weight seed: proxies that draw their own initialisation (swap, zen) need it */
  weightSeed?: string,
  grad?: GradContext,
): Promise<Pick<ArchScore, 'scores' | 'notes'>> {
  const taps = [...new Set(proxies.flatMap((p) => p.taps))];
  let w: Weights | undefined;
  const wts = (): Weights => (w ??= weights());
  const features = taps.length > 0 ? await backend.forward(graph, wts(), images, { taps, bn: 'per-image' }) : undefined;
  let passes: Map<string, GradResult[]> | undefined;
  if (proxies.some((p) => p.grad)) {
    if (!grad) throw new ProxyError(`${proxies.filter((p) => p.grad).map((p) => p.name).join(', ')}: gradient proxies cannot run here (no gradient inputs were set up)`);
    passes = await gradientPasses(graph, wts, proxies, grad);
  }
  const scores: ArchScore['scores'] = {};
  const notes: ArchScore['notes'] = {};
  for (const p of proxies) {
    const gr = p.grad ? passes!.get(passKey(p.grad)) : undefined;
    const r = p.run
      ? await runOwnPass(p.name, p.run, graph, wts, images, backend, weightSeed)
      : p.score({ graph, ...(features ? { features } : {}), ...(gr ? { grad: gr[0]!, gradBatches: gr, weights: wts() } : {}) }, settings);
    scores[p.name] = r.value;
    if (r.note) notes[p.name] = r.note;
  }
  return Object.keys(notes).length ? { scores, notes } : { scores };
}

/**
 * A proxy with its own pass: data proxies read the first `batch` images of the batch (fewer when the
 * batch is smaller, with a note), data-free ones draw their inputs from the weight seed.
 */
async function runOwnPass(
  name: string,
  run: ProxyRun,
  graph: Graph,
  weights: () => Weights,
  images: ImageBatch,
  backend: Backend,
  seed: string | undefined,
): Promise<{ value: number; note?: string }> {
  if (seed === undefined) throw new ProxyError(`${name} draws its own initialisation and needs the network's weight seed`);
  const batch = run.input === 'data' ? Math.min(run.batch, images.n) : run.batch;
  const r = await run.exec({ graph, weights, seed, images, backend, batch });
  if (batch < run.batch) {
    const note = `ran on ${batch} image${batch === 1 ? '' : 's'}; its authors use ${run.batch} (give --batch ${run.batch} or more)`;
    return { value: r.value, note: r.note ? `${r.note}; ${note}` : note };
  }
  return r;
}

export class Scorer {
  readonly space: Space;
  private readonly proxies: Proxy[];
  private readonly backend: Backend;
  /** the in-graph reduction (reducesInGraph): what to reduce, and the shared skeleton session if the space has one */
  private readonly inGraph?: { spec: ReduceSpec; skeleton?: { skel: Skeleton; sessions: SkeletonSessions } };

  constructor(
    readonly config: ScorerConfig,
    readonly images: ImageBatch,
  ) {
    this.space = getSpace(config.space);
    this.proxies = config.proxies.map((p) => PROXIES[p](config.settings));
    this.backend = makeBackend(config.backend, config.threads ?? 1);
    if (reducesInGraph(config, this.space)) {
      const spec: Record<string, TapMode[]> = {};
      for (const p of this.proxies) for (const n of p.reduced?.needs ?? []) spec[n.kind] = [...new Set([...(spec[n.kind] ?? []), n.mode])];
      this.inGraph = {
        spec,
        ...(this.space.skeleton ? { skeleton: { skel: this.space.skeleton(config.build), sessions: new SkeletonSessions({ threads: config.threads ?? 1 }) } } : {}),
      };
    }
  }

  /** every proxy of the config on one arch, or only those listed (the forward pass runs only if one of them needs it) */
  async score(arch: string, only?: readonly ProxyName[]): Promise<ArchScore> {
    const t0 = performance.now();
    const proxies = only ? this.proxies.filter((p) => only.includes(p.name)) : this.proxies;
    const canonical = this.space.parse(arch);
    const graph = this.space.build(canonical, this.config.build);
    const seed = weightSeed(this.config.seed, this.space.name, canonical);
    const weights = () => (this.space.initWeights ? this.space.initWeights(graph, seed, this.config.build) : initWeights(graph, seed));
    const grad: GradContext = {
      backend: this.config.backend,
      sources: { mode: this.config.proxyInputs ?? 'reference', images: this.images, ...(this.config.data ? { data: this.config.data } : {}), seed: this.config.seed },
      threads: this.config.threads ?? 1,
    };
    const r =
      this.inGraph && proxies.some((p) => p.taps.length > 0)
        ? await this.scoreReduced(canonical, graph, weights(), proxies)
        : await scoreNetwork(graph, weights, this.images, proxies, this.config.settings, this.backend, seed, grad);
    return { arch: canonical, ...r, ms: performance.now() - t0, forward: proxies.some((p) => p.taps.length > 0) };
  }

  private async scoreReduced(arch: string, graph: Graph, weights: Weights, proxies: readonly Proxy[]): Promise<Pick<ArchScore, 'scores' | 'notes'>> {
    const { spec, skeleton } = this.inGraph!;
    const reduced = skeleton
      ? await skeleton.sessions.forward(skeleton.skel, arch, graph, weights, this.images, spec)
      : await forwardReduced(graph, weights, this.images, spec, { threads: this.config.threads ?? 1 }, { weightInputs: true });
    const scores: ArchScore['scores'] = {};
    const notes: ArchScore['notes'] = {};
    for (const p of proxies) {
      const r = p.reduced ? p.reduced.score(reduced, graph, this.config.settings) : p.score({ graph }, this.config.settings);
      scores[p.name] = r.value;
      if (r.note) notes[p.name] = r.note;
    }
    return Object.keys(notes).length ? { scores, notes } : { scores };
  }

  /** Release the shared sessions (the per-network path holds none between networks). */
  async close(): Promise<void> {
    await this.inGraph?.skeleton?.sessions.close();
  }
}
