/**
 * NAS-Bench-201 / NATS-Bench topology search space (TSS): 5^6 = 15,625 cells.
 * Arch string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`.
 *
 * Enumeration order here is our own and fixed: the six edges (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)
 * as base-5 digits over NB201_OPS, first edge most significant. The NATS-Bench index of an arch
 * is a benchmark fact and comes from the benchmark file (see src/benchmarks).
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import type { Rng } from '../util/rng.js';
import { mutateOne } from './mutate.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';
import { type Choice, type Skeleton, repeatedCellSkeleton } from '../ir/skeleton.js';
import { ANY_OP, type Genotype, NB201_OPS, type Nb201Op, tinyNetwork } from './xautodl.js';

export const NB201_DATASETS: Record<string, { classes: number; size: number }> = {
  cifar10: { classes: 10, size: 32 },
  cifar100: { classes: 100, size: 32 },
  'ImageNet16-120': { classes: 120, size: 16 },
};

/** Edge order of the arch string: [to, from] */
const EDGES: [number, number][] = [
  [1, 0],
  [2, 0],
  [2, 1],
  [3, 0],
  [3, 1],
  [3, 2],
];

export function parseNb201(arch: string): Nb201Op[] {
  const s = arch.trim();
  const groups = s.split('+');
  if (groups.length !== 3) {
    throw new SpaceError(
      `nb201: "${arch}" has ${groups.length} node group(s); expected 3 separated by "+", like |nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|`,
    );
  }
  const ops: Nb201Op[] = [];
  groups.forEach((grp, gi) => {
    const node = gi + 1;
    if (!grp.startsWith('|') || !grp.endsWith('|') || grp.length < 2) {
      throw new SpaceError(`nb201: node ${node} group "${grp}" must start and end with "|"`);
    }
    const edges = grp.slice(1, -1).split('|');
    if (edges.length !== node) {
      throw new SpaceError(`nb201: node ${node} group "${grp}" has ${edges.length} edge(s); node ${node} needs ${node} (one from each earlier node)`);
    }
    edges.forEach((e, from) => {
      const m = /^([a-z_0-9]+)~(\d+)$/.exec(e);
      if (!m) throw new SpaceError(`nb201: edge "${e}" in node ${node} is not of the form op~input`);
      const [, op, inp] = m;
      if (!(NB201_OPS as readonly string[]).includes(op!)) {
        throw new SpaceError(`nb201: unknown op "${op}" in edge "${e}" (node ${node}); ops are ${NB201_OPS.join(', ')}`);
      }
      if (Number(inp) !== from) {
        throw new SpaceError(`nb201: edge "${e}" is edge ${from + 1} of node ${node} and must come from node ${from}, not ${inp}`);
      }
      ops.push(op as Nb201Op);
    });
  });
  return ops;
}

export function formatNb201(ops: readonly Nb201Op[]): string {
  const groups: string[] = [];
  let k = 0;
  for (let node = 1; node <= 3; node++) {
    const parts: string[] = [];
    for (let from = 0; from < node; from++) parts.push(`${ops[k++]}~${from}`);
    groups.push(`|${parts.join('|')}|`);
  }
  return groups.join('+');
}

export function genotypeOf(ops: readonly Nb201Op[]): Genotype {
  const g: Genotype = [[], [], []];
  EDGES.forEach(([to, from], i) => g[to - 1]!.push({ op: ops[i]!, from }));
  return g;
}

export function datasetSpec(space: string, dataset: string | undefined, table: Record<string, { classes: number; size: number }>) {
  const name = dataset ?? Object.keys(table)[0]!;
  const spec = table[name];
  if (!spec) throw new SpaceError(`${space}: unknown dataset "${name}"; choose one of ${Object.keys(table).join(', ')}`);
  return { name, ...spec };
}

export const nb201: Space = {
  name: 'nb201',
  description: 'NAS-Bench-201 / NATS-Bench TSS: 15,625 cells of 6 edges x 5 ops, C=16, N=5',
  size: 5 ** 6,
  defaultTaps: 'reference',
  datasets: Object.keys(NB201_DATASETS),
  archAt(i: number): string {
    if (!Number.isInteger(i) || i < 0 || i >= 5 ** 6) throw new SpaceError(`nb201: index ${i} out of range 0..15624`);
    const ops: Nb201Op[] = [];
    let v = i;
    for (let k = 5; k >= 0; k--) {
      ops[k] = NB201_OPS[v % 5]!;
      v = Math.floor(v / 5);
    }
    return formatNb201(ops);
  },
  parse(arch: string): string {
    return formatNb201(parseNb201(arch));
  },
  indexOf(arch: string): number {
    return parseNb201(arch).reduce((acc, op) => acc * 5 + NB201_OPS.indexOf(op), 0);
  },
  mutate(arch: string, rng: Rng): string {
    return formatNb201(mutateOne(parseNb201(arch), NB201_OPS, rng));
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    const ops = parseNb201(arch);
    return nb201Network(`nb201:${formatNb201(ops)}`, genotypeOf(ops), opts).graph;
  },
  skeleton(opts: BuildOptions = {}): Skeleton {
    const any: Genotype = [[], [], []];
    for (const [to, from] of EDGES) any[to - 1]!.push({ op: ANY_OP, from });
    const { graph, choices } = nb201Network('nb201:skeleton', any, opts);
    return repeatedCellSkeleton('nb201', graph, choices, EDGES.length, opts, (arch) => parseNb201(arch).map((o) => NB201_OPS.indexOf(o)));
  },
};

/** TinyNetwork C=16, N=5 around a genotype (a skeleton genotype gives one choice per cell edge). */
function nb201Network(label: string, genotype: Genotype, opts: BuildOptions): { graph: Graph; choices: Choice[] } {
  const ds = datasetSpec('nb201', opts.dataset, NB201_DATASETS);
  const classes = opts.classes ?? ds.classes;
  const size = opts.resolution ?? ds.size;
  const C = 16;
  const N = 5;
  const channels = [...Array(N).fill(C), 2 * C, ...Array(N).fill(2 * C), 4 * C, ...Array(N).fill(4 * C)];
  const reductions = [...Array(N).fill(false), true, ...Array(N).fill(false), true, ...Array(N).fill(false)];
  const b = new GraphBuilder(label);
  const graph = tinyNetwork(b, genotype, channels, reductions, classes, size);
  return { graph, choices: b.choices };
}
