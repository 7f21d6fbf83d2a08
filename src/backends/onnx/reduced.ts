/**
 * Reduced forward passes: the graph itself reduces the taps (reduce.ts) and returns, per tap mode,
 * the summed per-pair vectors, instead of every tapped tensor.
 *
 * - `forwardReduced`: one network, one session (weights as initializers), released after the run;
 * - `SkeletonSessions`: one session per skeleton (ir/skeleton.ts) reused for every architecture of
 *   the family: the architecture enters as the `select` input (If branches) and its weights as inputs.
 */
import * as ort from 'onnxruntime-node';
import { type Weights } from '../../ir/init.js';
import type { Skeleton } from '../../ir/skeleton.js';
import type { Graph, TapMode } from '../../ir/types.js';
import type { ImageBatch } from '../types.js';
import { numel } from '../../ir/analysis.js';
import type { Features } from '../types.js';
import { type ExportedModel, SELECT_INPUT, dynamicParamName, exportOnnx, paramInputName, selectLayout, selectVector } from './export.js';
import type { ReduceKind, ReduceSpec } from './reduce.js';

/** What a reduced forward pass hands to the reducible proxies (pairs (0,1), (0,2), ..., (1,2), ...). */
export interface ReducedFeatures {
  n: number;
  /** per `${kind}.${mode}`: the count-weighted sum over the tapped tensors, one value per pair */
  sums: Map<string, Float64Array>;
  /** min-max normalised squared distances of the classifier input, per pair */
  y: Float64Array;
}

export function reducedKey(kind: ReduceKind, mode: TapMode): string {
  return `${kind}.${mode}`;
}

export interface SessionSettings {
  threads: number;
}

/**
 * `dynamic`: a dynamic-width skeleton runs a new set of shapes almost every call, and onnxruntime
 * keeps a memory pattern per set of input shapes: without patterns resident memory stays flat over
 * NATS-SSS (221-228 MiB over 3,000 archs against 271-286 with them) at the same CPU (11.5 vs 11.8
 * cpu-ms per run, interleaved).
 */
function sessionOptions(s: SessionSettings, dynamic = false): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: s.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    ...(dynamic ? { enableMemPattern: false } : {}),
    logSeverityLevel: 3,
    ...(process.env.RBFLEX_ORT_PROFILE ? { enableProfiling: true, profileFilePrefix: process.env.RBFLEX_ORT_PROFILE } : {}),
  };
}

function checkImages(g: Graph, images: ImageBatch): void {
  const expected = g.nodes[g.input]!.shape;
  if (images.c !== expected[0] || images.h !== expected[1] || images.w !== expected[2]) {
    throw new Error(`${g.label}: images are ${images.c}x${images.h}x${images.w}, the network expects ${expected.join('x')}`);
  }
}

function collect(model: ExportedModel, res: ort.InferenceSession.OnnxValueMapType, n: number, label: string): ReducedFeatures {
  const take = (name: string): Float64Array => {
    const t = res[name];
    if (!t) throw new Error(`${label}: onnxruntime returned no output ${name}`);
    // a copy: output buffers may live in session memory that the next run or release reuses
    return Float64Array.from(t.data as Float64Array);
  };
  const sums = new Map<string, Float64Array>();
  for (const r of model.reducedOutputs ?? []) sums.set(reducedKey(r.kind, r.mode), take(r.output));
  return { n, sums, y: take(model.reducedY!) };
}

function imageTensor(images: ImageBatch): ort.Tensor {
  return new ort.Tensor('float32', images.data, [images.n, images.c, images.h, images.w]);
}

/**
 * One network through its own session, taps reduced in the graph. `weightInputs`: the conv and
 * linear weights are fed as inputs rather than written as initializers; on TransNAS-macro at
 * 512x512 that skips most of the export and session creation (onnxruntime prepares constant weights:
 * ~1.3 cpu-s of ~4.7 per network) for a run of the same cost (bench/README.md).
 */
export async function forwardReduced(
  g: Graph,
  w: Weights,
  images: ImageBatch,
  spec: ReduceSpec,
  s: SessionSettings,
  o: { weightInputs?: boolean } = {},
): Promise<ReducedFeatures> {
  checkImages(g, images);
  const model = exportOnnx(g, w, { taps: [], bn: 'per-image', reduce: { spec, n: images.n }, ...(o.weightInputs ? { weightInputs: true } : {}) });
  const session = await ort.InferenceSession.create(model.bytes, sessionOptions(s));
  try {
    const feeds: Record<string, ort.Tensor> = { input: imageTensor(images) };
    if (model.paramInputs) {
      const byName = new Map(w.specs.map((p) => [paramInputName(g.nodes[p.node]!.name, p.role, p.shape), p]));
      for (const { name } of model.paramInputs) {
        const p = byName.get(name);
        if (!p) throw new Error(`${g.label}: no weights for parameter input ${name}`);
        feeds[name] = new ort.Tensor('float32', w.byNode.get(p.node)![p.role]!, p.shape);
      }
    }
    return collect(model, await session.run(feeds), images.n, g.label);
  } finally {
    await session.release();
  }
}

interface Compiled {
  model: ExportedModel;
  session: ort.InferenceSession;
  params: Set<string>;
  /**
   * zeros for the parameters of branches an architecture does not pick (every input must be fed);
   * a dynamic skeleton's are one element (the If never reads them)
   */
  zeros: Map<string, ort.Tensor>;
  dynamic: boolean;
}

/**
 * onnxruntime sessions of skeletons, one per (skeleton, reduction, batch size), kept until `close`.
 * A session holds the skeleton's graph once; each architecture costs one `run`.
 */
export class SkeletonSessions {
  private readonly compiled = new Map<string, Promise<Compiled>>();

  constructor(private readonly settings: SessionSettings) {}

  /** reduce: in-graph reduction for n images; else raw taps of these modes */
  private compile(skel: Skeleton, how: { spec: ReduceSpec; n: number } | { raw: readonly TapMode[] }): Promise<Compiled> {
    const key = `${skel.key}|${JSON.stringify(how)}`;
    let c = this.compiled.get(key);
    if (!c) {
      const empty: Weights = { specs: [], byNode: new Map(), seed: '' };
      const model = exportOnnx(skel.graph, empty, {
        taps: 'raw' in how ? how.raw : [],
        bn: 'per-image',
        weightInputs: skel.dynamic ? 'dynamic' : true,
        choices: skel.choices,
        ...('spec' in how ? { reduce: how } : {}),
      });
      c = ort.InferenceSession.create(model.bytes, sessionOptions(this.settings, skel.dynamic)).then((session) => ({
        model,
        session,
        params: new Set(model.paramInputs!.map((p) => p.name)),
        zeros: new Map(
          model.paramInputs!.map((p) => {
            const dims = skel.dynamic ? p.dims.map(() => 1) : p.dims;
            return [p.name, new ort.Tensor('float32', new Float32Array(dims.reduce((a, d) => a * d, 1)), dims)];
          }),
        ),
        dynamic: skel.dynamic ?? false,
      }));
      this.compiled.set(key, c);
    }
    return c;
  }

  /**
   * The reduced features of architecture `arch` (canonical id) whose own graph is `g` with weights `w`:
   * the weights are fed by parameter name and shape, the branches by `skel.picks(arch)`.
   */
  async forward(skel: Skeleton, arch: string, g: Graph, w: Weights, images: ImageBatch, spec: ReduceSpec): Promise<ReducedFeatures> {
    checkImages(g, images);
    const c = await this.compile(skel, { spec, n: images.n });
    return collect(c.model, await c.session.run(feedsOf(c, skel, arch, g, w, images)), images.n, g.label);
  }

  /**
   * Raw taps from the skeleton session: per tap mode, one segment holding every tapped tensor of the
   * architecture side by side (repeated by count), and the classifier input. Proxies that treat the
   * taps as column blocks (RBFleX and NASWOT on the host) read it as they read a per-network pass;
   * the segments carry no node ids (node -1).
   */
  async forwardRaw(skel: Skeleton, arch: string, g: Graph, w: Weights, images: ImageBatch, taps: readonly TapMode[]): Promise<Features> {
    checkImages(g, images);
    const c = await this.compile(skel, { raw: taps });
    const res = await c.session.run(feedsOf(c, skel, arch, g, w, images));
    const take = (name: string): Float32Array => {
      const t = res[name];
      if (!t) throw new Error(`${g.label}: onnxruntime returned no output ${name}`);
      return (t.data as Float32Array).slice();
    };
    return {
      n: images.n,
      x: c.model.rawOutputs!.map((r) => {
        const data = take(r.output);
        return { node: -1, counts: { reference: r.mode === 'reference' ? 1 : 0, activations: r.mode === 'activations' ? 1 : 0 }, size: data.length / images.n, data };
      }),
      y: { node: g.classifierInput, counts: { reference: 1, activations: 1 }, size: numel(g.nodes[g.classifierInput]!.shape), data: take(c.model.classifierOutput!) },
    };
  }

  /** sessions compiled so far */
  get size(): number {
    return this.compiled.size;
  }

  async close(): Promise<void> {
    const all = [...this.compiled.values()];
    this.compiled.clear();
    for (const c of all) await (await c).session.release();
  }
}


function feedsOf(c: Compiled, skel: Skeleton, arch: string, g: Graph, w: Weights, images: ImageBatch): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {
    ...Object.fromEntries(c.zeros),
    input: imageTensor(images),
    [SELECT_INPUT]: new ort.Tensor('bool', selectVector(skel.choices, skel.picks(arch)), [selectLayout(skel.choices).length]),
  };
  for (const p of w.specs) {
    // a fixed-width skeleton keeps constant-initialised parameters (BatchNorm) as initializers
    if (!c.dynamic && p.init.kind !== 'uniform') continue;
    const name = c.dynamic ? dynamicParamName(g.nodes[p.node]!.name, p.role) : paramInputName(g.nodes[p.node]!.name, p.role, p.shape);
    if (!c.params.has(name)) throw new Error(`${g.label}: parameter ${name} has no place in skeleton ${skel.key}`);
    feeds[name] = new ort.Tensor('float32', w.byNode.get(p.node)![p.role]!, p.shape);
  }
  return feeds;
}
