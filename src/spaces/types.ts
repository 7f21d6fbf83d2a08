import type { ImageBatch } from '../backends/types.js';
import type { Weights } from '../ir/init.js';
import type { Skeleton } from '../ir/skeleton.js';
import type { Graph, TapMode } from '../ir/types.js';
import type { BertConfig } from './bert.js';
import type { Rng } from '../util/rng.js';

/** A user-facing problem with an architecture id or build option (one clear line). */
export class SpaceError extends Error {
  override name = 'SpaceError';
}

export interface BuildOptions {
  /** dataset name; fixes classes and input size where the space depends on it */
  dataset?: string;
  /** override the classifier width */
  classes?: number;
  /** input resolution (spaces that allow it) */
  resolution?: number;
  /**
   * TransNAS only: rewrite the macro skeleton `41414` to `41412` before building, as the
   * reference's BackboneTrans does (default true); false builds the skeleton as written.
   */
  rewrite41414?: boolean;
  /** nafbee-bert only: override bert-base's shape (tests and the fidelity check use a small one) */
  bert?: Partial<BertConfig>;
  /** nafbee-bert only: safetensors file with pretrained embeddings, LayerNorms and Linear biases */
  bertWeights?: string;
  /** DARTS-family cell networks: initial channels C (default 16 for scoring) */
  initChannels?: number;
  /** DARTS-family cell networks: number of cells L (default 8 for scoring) */
  layers?: number;
}

/** Where a space with its own input (text) gets it: see Space.loadInputs. */
export interface InputOptions {
  /** the --data value */
  data: string;
  /** inputs per network (N) */
  n: number;
  seed: string;
  /** WordPiece vocabulary file (--vocab) */
  vocab?: string;
  /** how sentences become token sequences (default: as the authors' loader) */
  textFormat?: 'authors' | 'bert';
}

export interface Space {
  readonly name: string;
  readonly description: string;
  /** number of architectures */
  readonly size: number;
  /** tap mode the reference uses for this space */
  readonly defaultTaps: TapMode;
  /** datasets this space is built for (first is the default) */
  readonly datasets: readonly string[];
  /** the canonical id of architecture i, 0 <= i < size (the space's own enumeration order) */
  archAt(i: number): string;
  /** validate and canonicalise an id; throws SpaceError naming the bad part */
  parse(arch: string): string;
  /** enumeration index of a canonical id */
  indexOf(arch: string): number;
  /** the network for an architecture */
  build(arch: string, opts?: BuildOptions): Graph;
  /** which image statistics / source family a dataset of this space uses (default: the dataset name) */
  imageDataset?(dataset: string): string;
  /** whether `BuildOptions.resolution` may be set by the user (--resolution); otherwise the dataset fixes it */
  readonly takesResolution?: boolean;
  /**
   * One graph for every architecture of the space (given the build options), with a choice per
   * varying edge (ir/skeleton.ts); spaces that have one score through one shared onnxruntime session.
   */
  skeleton?(opts?: BuildOptions): Skeleton;
  /**
   * A space without a skeleton whose per-network sessions reduce the taps inside the graph under
   * `--reduce graph` (the default) instead of copying them out for the float64 host path, where
   * that was measured to pay (TransNAS-macro at 512x512: its taps are tens of MB per network).
   */
  readonly reduceInGraph?: boolean;
  /** kernel widths the reference uses: the fixed SPEC values, or detected by HDA */
  readonly defaultGammas?: 'reference' | 'hda';
  /** worker threads by default (0: one network at a time, onnxruntime using every core; for big networks) */
  readonly defaultWorkers?: number;
  /** networks HDA runs over by default (the reference: 10; nafbee-bert: all 11) */
  readonly hdaNetworks?: number;
  /** weights of a built network (default: initWeights(graph, seed)); e.g. with a user's pretrained tensors */
  initWeights?(g: Graph, seed: string, opts?: BuildOptions): Weights;
  /** a space whose input is not images (text) loads it here instead of from an image source */
  loadInputs?(o: InputOptions, opts?: BuildOptions): Promise<ImageBatch>;
  /**
   * A neighbour of `arch` for evolutionary search: one op, one input edge or one width changed
   * (never `arch` itself), drawn from `rng`.
   */
  mutate?(arch: string, rng: Rng): string;
  /** spaces too large to number exactly draw their own samples (k distinct ids) */
  sample?(rng: Rng, k: number): string[];
  /** fixed architectures whose IR fingerprints the space (cache keys), for spaces without a usable archAt */
  readonly probes?: readonly string[];
}

/** Anything with numbered architectures: a space, or a list wrapped as one. */
export interface ArchSource {
  readonly size: number;
  archAt(i: number): string;
  /** spaces too large to number exactly draw their own samples (k distinct ids) */
  sample?(rng: Rng, k: number): string[];
}

/** min(k, size) distinct architectures, uniformly without replacement, from a seeded stream. */
export function sampleArchs(source: ArchSource, rng: Rng, k: number): string[] {
  if (source.sample) return source.sample(rng, k);
  return rng.sample(source.size, Math.min(k, source.size)).map((i) => source.archAt(i));
}

/** A list of ids as an ArchSource. */
export function archList(ids: readonly string[]): ArchSource {
  return { size: ids.length, archAt: (i) => ids[i]! };
}
