/**
 * Skeletons: one graph for a whole family of architectures that differ only in which op sits on
 * some edges. Each edge is a `Choice` among branches (node id ranges of the graph, built by
 * `GraphBuilder.choice`); an architecture is one branch index per choice. The ONNX backend lowers a
 * choice to If nodes and feeds the weights as inputs, so one onnxruntime session serves every
 * architecture of the family (src/backends/onnx/skeleton.ts).
 */
import type { Graph } from './types.js';

export interface ChoiceBranch {
  /** node ids [from, to) built by this branch (may be empty, e.g. a skip connection) */
  from: number;
  to: number;
  /** the node whose value the branch yields */
  output: number;
}

export interface Choice {
  /** the placeholder node standing for the chosen branch's value (an `add` of the branch outputs) */
  merge: number;
  branches: ChoiceBranch[];
  /** choices of one group always pick the same branch (e.g. one edge in every cell of NB201) */
  group?: string;
}

export interface Skeleton {
  graph: Graph;
  choices: Choice[];
  /** what the skeleton depends on besides the space (build options), for session caches */
  key: string;
  /** the branch index of every choice for a canonical architecture id */
  picks(arch: string): number[];
  /**
   * Architectures differ in widths too (NATS-SSS): `graph` is built at the widest widths, every
   * parameter (BatchNorm's too) enters as an input with symbolic dimensions, and an architecture's
   * own tensors are fed at its own widths (src/backends/onnx/reduced.ts).
   */
  dynamic?: boolean;
}

/**
 * The skeleton of a cell space whose cells all carry the same ops (NB201, TransNAS-micro): `choices`
 * come cell by cell, `edges` per cell, so edge e of every cell is one group and an architecture's
 * picks (`cellPicks`, one branch per edge) repeat for every cell. `key` names the space and the build
 * options the graph was built with.
 */
export function repeatedCellSkeleton(
  space: string,
  graph: Graph,
  choices: Choice[],
  edges: number,
  opts: object,
  cellPicks: (arch: string) => number[],
): Skeleton {
  const cells = choices.length / edges;
  choices.forEach((c, k) => (c.group = `edge${k % edges}`));
  return {
    graph,
    choices,
    key: `${space}:${JSON.stringify(opts, Object.keys(opts).sort())}`,
    picks: (arch) => {
      const ops = cellPicks(arch);
      return Array.from({ length: cells }, () => ops).flat();
    },
  };
}
