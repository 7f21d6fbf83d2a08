import type { Graph, TapMode } from '../ir/types.js';
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
  /** kernel widths the reference uses: the fixed SPEC values, or detected by HDA */
  readonly defaultGammas?: 'reference' | 'hda';
}

/** Anything with numbered architectures: a space, or a list wrapped as one. */
export interface ArchSource {
  readonly size: number;
  archAt(i: number): string;
}

/** min(k, size) distinct architectures, uniformly without replacement, from a seeded stream. */
export function sampleArchs(source: ArchSource, rng: Rng, k: number): string[] {
  return rng.sample(source.size, Math.min(k, source.size)).map((i) => source.archAt(i));
}

/** A list of ids as an ArchSource. */
export function archList(ids: readonly string[]): ArchSource {
  return { size: ids.length, archAt: (i) => ids[i]! };
}
