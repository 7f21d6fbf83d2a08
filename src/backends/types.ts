import type { Weights } from '../ir/init.js';
import type { Graph, TapMode } from '../ir/types.js';

/** A batch of images, NCHW, already normalised, float32. */
export interface ImageBatch {
  n: number;
  c: number;
  h: number;
  w: number;
  data: Float32Array;
  /** where the images came from (for cache keys and messages) */
  id: string;
}

/**
 * How BatchNorm normalises in training mode:
 * `per-image`: statistics of each image alone (the reference scores images one at a time);
 * `batch`: statistics over the whole batch (the reference HDA runs one batched forward).
 */
export type BatchNormMode = 'per-image' | 'batch';

export interface ForwardOptions {
  /** tap modes whose tensors are wanted (their union is returned) */
  taps: readonly TapMode[];
  bn: BatchNormMode;
  /** extra node outputs wanted whole (any node id), returned in `Features.nodes` */
  nodes?: readonly number[];
  /**
   * `batch` BatchNorm only: return each BatchNorm node's batch variance of its input per channel
   * (biased, over N·H·W) in `Features.bnVar` (Zen-NAS reads it)
   */
  bnVar?: boolean;
  /**
   * per node, SWAP's pattern code of each element over a batch of exactly `n` <= 24 images
   * (sum of 2^i over images i where it is > 0), returned in `Features.signCodes`; backends that
   * cannot leave it out (the caller then reads `nodes`)
   */
  signCodes?: { nodes: readonly number[]; n: number };
}

/** One tapped tensor: `data[i * size + k]` is element k of image i. */
export interface FeatureSegment {
  node: number;
  /** how many times it counts in x_i under each tap mode (modules producing the same tensor) */
  counts: Record<TapMode, number>;
  size: number;
  data: Float32Array | Float64Array;
}

/** What a forward pass hands to the proxies. */
export interface Features {
  n: number;
  /** activation outputs: x_i = concatenation of the segments, each repeated counts[mode] times */
  x: FeatureSegment[];
  /** classifier input y_i (counts are 1) */
  y: FeatureSegment;
  /** the outputs asked for by `ForwardOptions.nodes`: `data[i * size + k]` */
  nodes?: Map<number, { size: number; data: Float32Array | Float64Array }>;
  /** per BatchNorm node: biased batch variance of its input, one value per channel (`ForwardOptions.bnVar`) */
  bnVar?: Map<number, Float64Array>;
  /** per node of `ForwardOptions.signCodes`: one pattern code per element (integers in float32) */
  signCodes?: Map<number, Float32Array>;
}

/** The segments of x under one tap mode, with their multiplicity. */
export function segmentsFor(f: Features, mode: TapMode): { seg: FeatureSegment; count: number }[] {
  return f.x.filter((s) => s.counts[mode] > 0).map((seg) => ({ seg, count: seg.counts[mode] }));
}

export interface Backend {
  readonly name: BackendName;
  forward(g: Graph, w: Weights, images: ImageBatch, opts: ForwardOptions): Promise<Features>;
  /** the same as one `forward` per batch, where a backend can share the work of building the model */
  forwardEach?(g: Graph, w: Weights, batches: readonly ImageBatch[], opts: ForwardOptions): Promise<Features[]>;
}

export type BackendName = 'onnx' | 'reference';
export const BACKEND_NAMES: readonly BackendName[] = ['onnx', 'reference'];

/** Slice image i out of a batch (a view, no copy). */
export function imageAt(b: ImageBatch, i: number): ImageBatch {
  const per = b.c * b.h * b.w;
  return { ...b, n: 1, data: b.data.subarray(i * per, (i + 1) * per), id: `${b.id}[${i}]` };
}
