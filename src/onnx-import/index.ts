/**
 * Score any ONNX image classifier: read a ModelProto into our network IR plus its weights, so
 * both backends and every proxy run on it unchanged.
 *
 * Taps: `activations` = every activation node (n identical nodes on one input count n);
 * `reference` = the authors' `'ReLU' in type(module)` rule read on ONNX op types (Relu,
 * LeakyRelu, and Clip(0, 6) for ReLU6), plus the extra taps listed in the model's
 * `rbflex.reference_taps` metadata (models that rbflex exported carry it). The classifier input
 * Y is the input of the last Gemm/MatMul.
 */
import { createHash } from 'node:crypto';
import { ACTIVATION_REPEATS_KEY, REFERENCE_TAPS_KEY, tapCountsOf } from './tap-metadata.js';
import { ProtoError } from '../backends/onnx/protobuf.js';
import { paramSpecs } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import type { Graph, TapMode } from '../ir/types.js';
import { OnnxImportError } from './errors.js';
import { type BnMode, lowerModel } from './lower.js';
import { type OnnxModel, decodeModel } from './model.js';

export { OnnxImportError } from './errors.js';
export type { BnMode } from './lower.js';

export interface OnnxImportOptions {
  /** the file name, for messages and labels */
  source: string;
  /**
   * train (default for scoring): BatchNormalization normalises with the statistics of each image,
   * the model's scale and bias kept, running statistics ignored (an untrained PyTorch model in
   * training mode); eval: the running statistics are folded into a per-channel affine map
   * (a depthwise 1x1 convolution with bias).
   */
  bn: BnMode;
  /** image height = width, required when the model's input has a symbolic height or width */
  resolution?: number;
}

export interface OnnxImportInfo {
  source: string;
  /** sha256 of the file (hex); the weights' seed string is derived from it */
  sha256: string;
  producer: string;
  irVersion: number;
  /** ai.onnx opset */
  opset: number;
  graphName: string;
  input: {
    name: string;
    /** [C, H, W] the network runs at */
    shape: [number, number, number];
    /** the declared shape, symbolic dims as their names (null: unknown) */
    declared: (number | string | null)[];
  };
  /** graph output taken as the network output */
  output: string;
  /**
   * nodes in the file; of those, how many no graph output depends on (lowered all the same: their
   * activations are taps); nodes of the IR graph
   */
  nodes: { file: number; unread: number; ir: number };
  /** ONNX op type -> number of nodes */
  opCounts: Record<string, number>;
  /** multi-node patterns recognised (e.g. `x*Sigmoid(x) -> silu`) -> count */
  patterns: Record<string, number>;
  bn: BnMode;
  batchNorms: number;
  /** default tap mode: reference when the model carries rbflex.reference_taps, else activations */
  defaultTaps: TapMode;
  /** extra reference taps from the metadata: value name -> count (empty when absent) */
  referenceTaps: Record<string, number>;
  classifier: { node: string; op: string; inputValue: string; inFeatures: number; outFeatures: number };
  params: number;
  /** nodes ignored (a Softmax after the classifier), one line each */
  ignored: string[];
  notes: string[];
}

export interface ImportedModel {
  graph: Graph;
  weights: Weights;
  info: OnnxImportInfo;
}

/** Decode an ONNX model and lower it to IR + weights. Throws OnnxImportError (one line) on any problem. */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions): ImportedModel {
  const source = opts.source;
  if (opts.bn !== 'train' && opts.bn !== 'eval') throw new OnnxImportError(`${source}: bn must be 'train' or 'eval', not '${String(opts.bn)}'`);
  let model: OnnxModel;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof ProtoError) {
      throw new OnnxImportError(`${source}: not a readable ONNX model (${e.message}); the file may be truncated or not an .onnx file`);
    }
    throw e;
  }
  const refTaps = tapCountsOf(model.metadata, REFERENCE_TAPS_KEY, source);
  const repeats = tapCountsOf(model.metadata, ACTIVATION_REPEATS_KEY, source);
  let low: ReturnType<typeof lowerModel>;
  try {
    low = lowerModel(model, { source, bn: opts.bn, ...(opts.resolution !== undefined ? { resolution: opts.resolution } : {}) });
  } catch (e) {
    // tensor payloads are decoded lazily while lowering: a malformed one surfaces here
    if (e instanceof ProtoError) throw new OnnxImportError(`${source}: corrupted tensor data (${e.message})`);
    throw e;
  }
  const b = low.builder;
  for (const [name, count] of Object.entries(repeats ?? {})) {
    const id = low.tensorOf(name);
    if (id === undefined || b.nodes[id]!.op.kind !== 'activation') {
      throw new OnnxImportError(`${source}: metadata ${ACTIVATION_REPEATS_KEY} names value '${name}', which is not the output of an activation`);
    }
    b.repeatActivation(id, count);
  }
  for (const [name, count] of Object.entries(refTaps ?? {})) {
    const id = low.tensorOf(name);
    if (id === undefined) {
      throw new OnnxImportError(`${source}: metadata ${REFERENCE_TAPS_KEY} names value '${name}', which is not a tensor the network computes`);
    }
    b.tap(id, { reference: count });
  }
  const defaultTaps: TapMode = refTaps ? 'reference' : 'activations';
  const graph = b.finish({ output: low.output, classifierInput: low.classifier.input, defaultTaps });

  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const specs = paramSpecs(graph);
  const byNode = new Map<number, { weight?: Float32Array; bias?: Float32Array }>();
  for (const p of specs) {
    const arr = low.params.get(p.node)?.[p.role];
    if (!arr || arr.length !== p.size) {
      throw new Error(`${source}: internal: ${p.role} of IR node ${p.node} has ${arr?.length ?? 'no'} values, expected ${p.size}`);
    }
    const entry = byNode.get(p.node) ?? {};
    entry[p.role] = arr;
    byNode.set(p.node, entry);
  }
  const weights: Weights = { specs, byNode, seed: `onnx:sha256:${sha256}:bn=${opts.bn}` };
  const cl = low.classifier;
  const info: OnnxImportInfo = {
    source,
    sha256,
    producer: [model.producer, model.producerVersion].filter(Boolean).join(' '),
    irVersion: model.irVersion,
    opset: low.opset,
    graphName: model.graphName,
    input: { name: low.input.name, shape: low.input.shape, declared: low.input.declared },
    output: low.outputName,
    nodes: { file: model.nodes.length, unread: low.unreadNodes, ir: graph.nodes.length },
    opCounts: low.opCounts,
    patterns: low.patterns,
    bn: opts.bn,
    batchNorms: low.batchNorms,
    defaultTaps,
    referenceTaps: refTaps ?? {},
    classifier: { node: cl.node.name || `${cl.node.opType}_${cl.node.index}`, op: cl.node.opType, inputValue: cl.inputName, inFeatures: cl.inF, outFeatures: cl.outF },
    params: specs.reduce((a, p) => a + p.size, 0),
    ignored: low.ignored,
    notes: low.notes,
  };
  return { graph, weights, info };
}
