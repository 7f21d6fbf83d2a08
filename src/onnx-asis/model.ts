/**
 * A user's ONNX model run as it is in onnxruntime, with graph surgery instead of lowering to the
 * IR: any op onnxruntime runs is supported. See analyze.ts (taps, classifier input), surgery.ts
 * (BatchNorm, Dropout, outputs) and flops.ts. Each image runs alone (a batch of one), so no output
 * layout has to be guessed; HDA's batched pass runs all images at once.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { DT } from '../backends/onnx/fields.js';
import { ACTIVATION_REPEATS_KEY, REFERENCE_TAPS_KEY, tapCountsOf } from '../onnx-import/tap-metadata.js';
import { ProtoError } from '../backends/onnx/protobuf.js';
import type { Features, FeatureSegment, ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import { OnnxImportError } from '../onnx-import/errors.js';
import { type OnnxModel, decodeModel } from '../onnx-import/model.js';
import { type AsisTap, type GraphIndex, analyzeGraph, lastLinearInput } from './analyze.js';
import { type FlopCount, countAsisFlops, flopShapeValues } from './flops.js';
import { rewriteModel } from './surgery.js';

export interface AsisOptions {
  /** the file name, for messages */
  source: string;
  /** train: BatchNorm with training-mode statistics (default); eval: the model's running statistics */
  bn: 'train' | 'eval';
  /** value name of the classifier input (default: the input of the last Gemm / MatMul) */
  classifierInput?: string;
  /** onnxruntime intra-op threads (default: one per core) */
  threads?: number;
  /**
   * image (default): one float32 input [N, C, H, W], fed by `forward(images)`; any: the graph's
   * inputs are whatever they are (token ids, masks, ...), fed by `forwardFeeds`
   */
  inputs?: 'image' | 'any';
}

export interface AsisInfo {
  source: string;
  sha256: string;
  producer: string;
  opset: number;
  input: {
    name: string;
    /** declared [N, C, H, W]: a number when fixed, else the symbol (or null) */
    declared: (number | string | null)[];
  };
  /** every graph input that is not an initializer (name, ONNX element type, declared dims) */
  inputs: { name: string; elemType: number; declared: (number | string | null)[] }[];
  /** activation taps (value names) and how many count under each mode */
  taps: { activations: number; reference: number };
  patterns: Record<string, number>;
  classifier: { value: string; how: string };
  /** learnable parameters: float initializers, BatchNorm running statistics excluded */
  params: number;
  batchNorms: number;
  dropouts: number;
  defaultTaps: TapMode;
  notes: string[];
  /** op type -> nodes */
  opCounts: Record<string, number>;
}

export interface ForwardOpts {
  taps: readonly TapMode[];
  /** per-image: each sample alone, BatchNorm with its own statistics; batch: one run, BatchNorm over the batch */
  bn: 'per-image' | 'batch';
  /** also count FLOPs from the run's shapes */
  flops?: boolean;
}

export interface AsisForward {
  features: Features;
  flops?: FlopCount;
}

const FLOAT_TYPES = new Set<number>([DT.FLOAT, DT.DOUBLE, DT.FLOAT16, DT.BFLOAT16]);

export class AsisModel {
  readonly info: AsisInfo;
  private readonly taps: AsisTap[];
  private readonly index: GraphIndex;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly m: OnnxModel,
    private readonly opts: AsisOptions,
  ) {
    const source = opts.source;
    const refTaps = tapCountsOf(m.metadata, REFERENCE_TAPS_KEY, source);
    const a = analyzeGraph(m, source, refTaps, tapCountsOf(m.metadata, ACTIVATION_REPEATS_KEY, source));
    this.taps = a.taps;
    this.index = a.index;
    const real = m.inputs.filter((i) => !m.initializers.has(i.name));
    const anyInputs = opts.inputs === 'any';
    if (real.length === 0 || (!anyInputs && real.length !== 1)) {
      throw new OnnxImportError(
        real.length === 0
          ? `${source}: the graph has no input; one image input [N, C, H, W] is needed`
          : `${source}: the graph has ${real.length} inputs (${real.map((i) => `'${i.name}'`).join(', ')}); one image input [N, C, H, W] is supported`,
      );
    }
    const inp = real[0]!;
    if (!anyInputs && inp.elemType !== DT.FLOAT && inp.elemType !== 0) throw new OnnxImportError(`${source}: input '${inp.name}' is not float32; an image input [N, C, H, W] is needed`);
    if (!anyInputs && (!inp.dims || inp.dims.length !== 4)) {
      throw new OnnxImportError(`${source}: input '${inp.name}' has ${inp.dims ? `rank ${inp.dims.length}` : 'no declared shape'}; rbflex feeds image batches [N, C, H, W] (rank 4)`);
    }
    let classifier: AsisInfo['classifier'];
    if (opts.classifierInput !== undefined) {
      const v = opts.classifierInput;
      if (!a.producer.has(v) && !real.some((i) => i.name === v)) throw new OnnxImportError(`${source}: --classifier-input '${v}' is not a value any node of the model computes`);
      classifier = { value: v, how: '--classifier-input' };
    } else {
      const last = lastLinearInput(m);
      if (!last) {
        throw new OnnxImportError(
          `${source}: the model has no Gemm or MatMul, so the classifier input (the input of the last one) is unknown; name it with --classifier-input VALUE (for a 1x1-Conv head like SqueezeNet's, the input of that Conv)`,
        );
      }
      classifier = { value: last.value, how: `input of the last ${last.node.opType} ('${last.node.name || `node ${last.node.index}`}')` };
    }
    let params = 0;
    const running = new Set<string>();
    const opCounts: Record<string, number> = {};
    for (const n of m.nodes) {
      const k = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
      opCounts[k] = (opCounts[k] ?? 0) + 1;
      if (n.opType === 'BatchNormalization') for (const i of n.inputs.slice(3)) running.add(i);
    }
    for (const t of m.initializers.values()) if (FLOAT_TYPES.has(t.dataType) && !running.has(t.name)) params += t.size;
    const batchNorms = opCounts.BatchNormalization ?? 0;
    const notes: string[] = [];
    // an eval-mode export folds BatchNorm into the convolutions: no normalisation is left at all
    const normalises = ['LayerNormalization', 'InstanceNormalization', 'GroupNormalization', 'ReduceMean'].some((op) => opCounts[op]);
    if (batchNorms === 0 && !normalises && opts.bn === 'train') {
      notes.push(
        'the model has no BatchNormalization nodes; if the network has BatchNorm layers, torch.onnx.export in eval mode fused them into the convolutions: export with training=torch.onnx.TrainingMode.TRAINING to score them in training mode',
      );
    }
    if (opCounts.Dropout) notes.push('Dropout runs as identity, so the score is deterministic');
    const activations = a.taps.reduce((s, t) => s + t.counts.activations, 0);
    const reference = a.taps.reduce((s, t) => s + t.counts.reference, 0);
    this.info = {
      source,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      producer: [m.producer, m.producerVersion].filter(Boolean).join(' '),
      opset: m.opsets.get('') ?? 0,
      input: { name: inp.name, declared: inp.dims ?? [] },
      inputs: real.map((i) => ({ name: i.name, elemType: i.elemType, declared: i.dims ?? [] })),
      taps: { activations, reference },
      patterns: a.patterns,
      classifier,
      params,
      batchNorms,
      dropouts: opCounts.Dropout ?? 0,
      defaultTaps: refTaps ? 'reference' : 'activations',
      notes,
      opCounts,
    };
  }

  /** Decode a model file. Throws OnnxImportError (one line) when it is not a usable model. */
  static open(bytes: Uint8Array, opts: AsisOptions): AsisModel {
    let m: OnnxModel;
    try {
      m = decodeModel(bytes);
    } catch (e) {
      if (e instanceof ProtoError) throw new OnnxImportError(`${opts.source}: not a readable ONNX model (${e.message}); the file may be truncated or not an .onnx file`);
      throw e;
    }
    try {
      return new AsisModel(bytes, m, opts);
    } catch (e) {
      if (e instanceof ProtoError) throw new OnnxImportError(`${opts.source}: corrupted tensor data (${e.message})`);
      throw e;
    }
  }

  /** The fixed channel count, height and width the model declares (undefined where dynamic). */
  get fixedSize(): { c?: number; h?: number; w?: number } {
    const [, c, h, w] = this.info.input.declared;
    const fixed = (d: number | string | null | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
    const out: { c?: number; h?: number; w?: number } = {};
    const fc = fixed(c);
    const fh = fixed(h);
    const fw = fixed(w);
    if (fc !== undefined) out.c = fc;
    if (fh !== undefined) out.h = fh;
    if (fw !== undefined) out.w = fw;
    return out;
  }

  /** One clear error when the images do not fit the declared input. */
  checkImages(images: ImageBatch, what: string): void {
    const f = this.fixedSize;
    const src = this.opts.source;
    if (f.c !== undefined && f.c !== images.c) throw new OnnxImportError(`${src}: the model takes ${f.c}-channel input; ${what} has ${images.c} channels`);
    if ((f.h !== undefined && f.h !== images.h) || (f.w !== undefined && f.w !== images.w)) {
      throw new OnnxImportError(`${src}: the model takes ${f.h ?? images.h}x${f.w ?? images.w} images; ${what} is ${images.h}x${images.w} (set --resolution, or export with dynamic height/width)`);
    }
  }

  private tapsFor(modes: readonly TapMode[]): AsisTap[] {
    return this.taps.filter((t) => modes.some((m) => t.counts[m] > 0));
  }

  /**
   * One forward pass over the images. `per-image`: each image alone, BatchNorm with that image's
   * statistics; `batch`: all images in one run, BatchNorm over the batch (HDA). With `flops`,
   * also the FLOP count from the run's shapes.
   */
  async forward(images: ImageBatch, o: ForwardOpts): Promise<AsisForward> {
    const src = this.opts.source;
    this.checkImages(images, 'the image batch');
    const declaredBatch = this.info.input.declared[0];
    const batched = o.bn === 'batch';
    if (batched && typeof declaredBatch === 'number' && declaredBatch !== images.n) {
      throw new OnnxImportError(
        `${src}: HDA runs all ${images.n} images in one batch, but the model's batch dimension is fixed at ${declaredBatch}; export with dynamic_axes={'${this.info.input.name}': {0: 'N'}}, or give --gamma-k/--gamma-q`,
      );
    }
    if (!batched && typeof declaredBatch === 'number' && declaredBatch !== 1) {
      throw new OnnxImportError(`${src}: the model's batch dimension is fixed at ${declaredBatch}; rbflex runs one image at a time: export with batch 1 or a dynamic batch`);
    }
    const per = images.c * images.h * images.w;
    const feeds: Record<string, ort.Tensor>[] = [];
    const b = batched ? images.n : 1;
    for (let r = 0; r < images.n; r += b) {
      feeds.push({ [this.info.input.name]: new ort.Tensor('float32', images.data.subarray(r * per, (r + b) * per), [b, images.c, images.h, images.w]) });
    }
    return this.forwardFeeds(feeds, images.n, o);
  }

  /**
   * The forward pass on prepared inputs: `feeds` holds one run each (one sample each for
   * `per-image`, all `n` samples in one run for `batch`). Taps and the classifier input come back
   * per sample, `data[i * size + k]`.
   */
  async forwardFeeds(feeds: Record<string, ort.Tensor>[], n: number, o: ForwardOpts): Promise<AsisForward> {
    const src = this.opts.source;
    const batched = o.bn === 'batch';
    if (batched && feeds.length !== 1) throw new Error(`${src}: a batched pass takes one feed, got ${feeds.length}`);
    if (!batched && feeds.length !== n) throw new Error(`${src}: a per-sample pass takes one feed per sample, got ${feeds.length} for ${n}`);
    const taps = this.tapsFor(o.taps);
    const cls = this.info.classifier.value;
    const surgery = rewriteModel(
      this.bytes,
      this.m,
      this.index,
      {
        bn: this.opts.bn === 'eval' ? 'keep' : o.bn,
        outputs: [...taps.map((t) => t.value), cls],
        shapes: o.flops ? flopShapeValues(this.m) : [],
      },
      src,
    );
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(surgery.bytes, {
        executionProviders: ['cpu'],
        intraOpNumThreads: this.opts.threads ?? availableParallelism(),
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        enableCpuMemArena: true,
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new OnnxImportError(`${src}: onnxruntime cannot load the model: ${String((e as Error).message ?? e).split('\n')[0]}`);
    }
    const names = [...new Set(surgery.outputOf.values())];
    const collected = new Map<string, Float32Array[]>();
    let shapes: Map<string, number[]> | undefined;
    try {
      for (const [r, feed] of feeds.entries()) {
        let res: ort.InferenceSession.OnnxValueMapType;
        try {
          res = await session.run(feed);
        } catch (e) {
          const dims = Object.entries(feed).map(([k, t]) => `${k} [${t.dims.join(', ')}]`).join(', ');
          throw new OnnxImportError(`${src}: onnxruntime failed to run the model on ${dims}: ${String((e as Error).message ?? e).split('\n')[0]}`);
        }
        for (const name of names) {
          const t = res[name];
          if (!t) throw new Error(`${src}: onnxruntime returned no output ${name}`);
          if (t.type !== 'float32') throw new OnnxImportError(`${src}: value '${name}' is ${t.type}; taps and the classifier input must be float32 tensors`);
          if (batched && t.dims[0] !== n) {
            throw new OnnxImportError(`${src}: value '${name}' has shape [${t.dims.join(', ')}], not the batch first; HDA needs every tapped value batch-first`);
          }
          const l = collected.get(name) ?? [];
          l.push(t.data as Float32Array);
          collected.set(name, l);
        }
        if (r === 0 && o.flops) {
          shapes = new Map();
          for (const [v, name] of surgery.shapeOf) shapes.set(v, Array.from(res[name]!.data as BigInt64Array, Number));
        }
      }
    } finally {
      await session.release();
    }
    const segment = (value: string, counts: FeatureSegment['counts'], node: number): FeatureSegment => {
      const parts = collected.get(surgery.outputOf.get(value)!)!;
      const total = parts.reduce((s, p) => s + p.length, 0);
      if (total % n !== 0 || (!batched && parts.some((p) => p.length !== parts[0]!.length))) {
        throw new OnnxImportError(`${src}: value '${value}' changes size from sample to sample`);
      }
      let data: Float32Array;
      if (parts.length === 1) data = parts[0]!;
      else {
        data = new Float32Array(total);
        let off = 0;
        for (const p of parts) {
          data.set(p, off);
          off += p.length;
        }
      }
      return { node, counts, size: total / n, data };
    };
    const features: Features = {
      n,
      x: taps.map((t, i) => segment(t.value, { reference: o.taps.includes('reference') ? t.counts.reference : 0, activations: o.taps.includes('activations') ? t.counts.activations : 0 }, i)),
      y: segment(cls, { reference: 1, activations: 1 }, -1),
    };
    const out: AsisForward = { features };
    if (o.flops && shapes) {
      const sh = shapes;
      out.flops = countAsisFlops(this.m, (v) => sh.get(v), batched ? n : 1);
    }
    return out;
  }
}
