import * as ort from 'onnxruntime-node';
import { numel } from '../../ir/analysis.js';
import type { Weights } from '../../ir/init.js';
import type { Graph } from '../../ir/types.js';
import type { Backend, Features, ForwardOptions, ImageBatch } from '../types.js';
import { exportOnnx } from './export.js';

/** parameters above which a model counts as big (see forward) */
const LARGE_MODEL_PARAMS = 16_000_000;

export interface OnnxBackendOptions {
  /** onnxruntime intra-op threads per session (1 when scoring in parallel workers) */
  threads?: number;
}

/**
 * The fast backend: IR -> ONNX bytes -> onnxruntime-node (CPU, float32). All N images run
 * in one call; per-image BatchNorm statistics come from InstanceNormalization.
 */
export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;
  private readonly threads: number;

  constructor(o: OnnxBackendOptions = {}) {
    this.threads = o.threads ?? 1;
  }

  async forward(g: Graph, w: Weights, images: ImageBatch, opts: ForwardOptions): Promise<Features> {
    return (await this.forwardEach(g, w, [images], opts))[0]!;
  }

  /** One forward per batch, through one session (Zen-NAS's two passes: the model is built once). */
  async forwardEach(g: Graph, w: Weights, batches: readonly ImageBatch[], opts: ForwardOptions): Promise<Features[]> {
    const expected = g.nodes[g.input]!.shape;
    for (const images of batches) {
      if (images.c !== expected[0] || images.h !== expected[1] || images.w !== expected[2]) {
        throw new Error(`${g.label}: images are ${images.c}x${images.h}x${images.w}, the network expects ${expected.join('x')}`);
      }
    }
    const model = exportOnnx(g, w, opts);
    const session = await ort.InferenceSession.create(model.bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: this.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      // big models (BERT: 110M parameters): no pre-packed weight copies, which halves session
      // creation time and memory there and does not slow the single run
      ...(w.specs.reduce((a, p) => a + p.size, 0) > LARGE_MODEL_PARAMS ? { extra: { session: { disable_prepacking: '1' } } } : {}),
    });
    try {
      const out: Features[] = [];
      for (const images of batches) out.push(await this.runOnce(g, session, model, images));
      return out;
    } finally {
      await session.release();
    }
  }

  private async runOnce(g: Graph, session: ort.InferenceSession, model: ReturnType<typeof exportOnnx>, images: ImageBatch): Promise<Features> {
    const input = new ort.Tensor('float32', images.data, [images.n, images.c, images.h, images.w]);
    const res = await session.run({ input });
    const take = (name: string): Float32Array => {
      const t = res[name];
      if (!t) throw new Error(`${g.label}: onnxruntime returned no output ${name}`);
      // a copy: onnxruntime-node may hand out external buffers in the session's memory, which
      // session.release() below frees (large BERT outputs crashed the process when read later)
      return (t.data as Float32Array).slice();
    };
    const extra: Pick<Features, 'nodes' | 'bnVar' | 'signCodes'> = {};
    if (model.signCodeOutputs) extra.signCodes = new Map(model.signCodeOutputs.map((o) => [o.node, take(o.output)]));
    if (model.nodeOutputs) extra.nodes = new Map(model.nodeOutputs.map((o) => [o.node, { size: o.size, data: take(o.output) }]));
    if (model.bnVarOutputs) extra.bnVar = new Map(model.bnVarOutputs.map((o) => [o.node, Float64Array.from(take(o.output))]));
    return {
      ...extra,
      n: images.n,
      x: model.tapOutputs.map((t) => ({ node: t.node, counts: t.counts, size: t.size, data: take(t.output) })),
      y: {
        node: g.classifierInput,
        counts: { reference: 1, activations: 1 },
        size: numel(g.nodes[g.classifierInput]!.shape),
        data: take(model.classifierOutput!),
      },
    };
  }
}
