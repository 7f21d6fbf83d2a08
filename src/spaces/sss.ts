/**
 * NATS-Bench size search space (SSS): 8^5 = 32,768 channel configurations `c1:c2:c3:c4:c5`,
 * each c in {8, 16, ..., 64}, on the fixed best NB201 cell, one cell per stage
 * (xautodl "infer.shape.tiny" = DynamicShapeTinyNet with channels [c1..c5]):
 * stem 3->c1, cell c1->c1, ResNet block c1->c2 (stride 2), cell c2->c3, ResNet block c3->c4 (stride 2),
 * cell c4->c5, lastact, global pool, Linear(c5).
 * Enumeration order: base-8 digits (c/8 - 1), c1 most significant.
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Skeleton } from '../ir/skeleton.js';
import type { Graph } from '../ir/types.js';
import { NB201_DATASETS, datasetSpec, genotypeOf, parseNb201 } from './nb201.js';
import type { Rng } from '../util/rng.js';
import { mutateOne } from './mutate.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';
import { tinyNetwork } from './xautodl.js';

export const SSS_CELL =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';
export const SSS_CHANNELS = [8, 16, 24, 32, 40, 48, 56, 64] as const;
const SSS_GENOTYPE = genotypeOf(parseNb201(SSS_CELL));

export function parseSss(arch: string): number[] {
  const parts = arch.trim().split(':');
  if (parts.length !== 5) {
    throw new SpaceError(`sss: "${arch}" has ${parts.length} channel count(s); expected 5 like 64:32:16:8:64`);
  }
  return parts.map((p, i) => {
    const c = Number(p);
    if (!/^\d+$/.test(p) || !(SSS_CHANNELS as readonly number[]).includes(c)) {
      throw new SpaceError(`sss: channel ${i + 1} "${p}" in "${arch}" must be one of ${SSS_CHANNELS.join(', ')}`);
    }
    return c;
  });
}

export const sss: Space = {
  name: 'sss',
  description: 'NATS-Bench size search space: 32,768 channel configs c1:c2:c3:c4:c5 in {8..64}',
  size: 8 ** 5,
  defaultTaps: 'reference',
  datasets: Object.keys(NB201_DATASETS),
  archAt(i: number): string {
    if (!Number.isInteger(i) || i < 0 || i >= 8 ** 5) throw new SpaceError(`sss: index ${i} out of range 0..32767`);
    const cs: number[] = [];
    let v = i;
    for (let k = 4; k >= 0; k--) {
      cs[k] = SSS_CHANNELS[v % 8]!;
      v = Math.floor(v / 8);
    }
    return cs.join(':');
  },
  parse(arch: string): string {
    return parseSss(arch).join(':');
  },
  indexOf(arch: string): number {
    return parseSss(arch).reduce((acc, c) => acc * 8 + (c / 8 - 1), 0);
  },
  mutate(arch: string, rng: Rng): string {
    return mutateOne(parseSss(arch), SSS_CHANNELS, rng).join(':');
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    return sssNetwork(`sss:${parseSss(arch).join(':')}`, parseSss(arch), opts).graph;
  },
  /**
   * One graph for every width: built at 64 everywhere, weights fed at the architecture's widths
   * (Skeleton.dynamic); the only structural difference, a cell's skip edge from its input being the
   * identity (c_in = c_out) or FactorizedReduce, is a choice in cells 2 and 4.
   */
  skeleton(opts: BuildOptions = {}): Skeleton {
    const { graph, choices } = sssNetwork('sss:skeleton', Array<number>(5).fill(SSS_CHANNELS[SSS_CHANNELS.length - 1]!), opts, true);
    return {
      graph,
      choices,
      key: `sss:dynamic:${JSON.stringify(opts, Object.keys(opts).sort())}`,
      dynamic: true,
      picks: (arch) => {
        const c = parseSss(arch);
        // choices in build order: the skip edge of cell 2 (c2 -> c3), then of cell 4 (c4 -> c5)
        return [c[1] === c[2] ? 0 : 1, c[3] === c[4] ? 0 : 1];
      },
    };
  },
};

function sssNetwork(label: string, channels: number[], opts: BuildOptions, widthChoices = false): { graph: Graph; choices: GraphBuilder['choices'] } {
  const ds = datasetSpec('sss', opts.dataset, NB201_DATASETS);
  const b = new GraphBuilder(label);
  const graph = tinyNetwork(b, SSS_GENOTYPE, channels, [false, true, false, true, false], opts.classes ?? ds.classes, opts.resolution ?? ds.size, widthChoices);
  return { graph, choices: b.choices };
}
