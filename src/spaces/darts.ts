/**
 * The DARTS search space (Liu et al. 2019): architectures are genotype texts
 * `Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])`,
 * built as DARTS's NetworkCIFAR with C initial channels and L cells (defaults C=16, L=8 for scoring;
 * DARTS's evaluation network is C=36, L=20).
 *
 * Ids are parsed as data (src/spaces/genotype.ts) and canonicalised to Python's repr. Any genotype with
 * DARTS's ops (plus sep_conv_7x7 and conv_7x1_1x7) builds; the enumerated space, used for sampling,
 * is the DARTS cell space: 4 intermediate nodes, each with two edges (op from the 8 primitives, input
 * any earlier state, repeats allowed), concat [2, 3, 4, 5], normal and reduce cells independent:
 * (16*24*32*40)^2 ~ 5.6e22 architectures. Its index is exact through `archAt`/`indexOf` with BigInt
 * arithmetic below 2^53; random samples are drawn edge by edge.
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import type { Rng } from '../util/rng.js';
import { DARTS_OPS, cellNetwork } from './darts-net.js';
import { type CellGenotype, type Genotype, formatGenotype, parseGenotypeText, validateCell } from './genotype.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';

/** Ops a `darts` genotype may use. */
export const DARTS_SPACE_OPS: readonly string[] = [...DARTS_OPS, 'sep_conv_7x7', 'conv_7x1_1x7'];

export const DARTS_DATASETS: Record<string, { classes: number; size: number }> = {
  cifar10: { classes: 10, size: 32 },
  cifar100: { classes: 100, size: 32 },
};

export const DARTS_DEFAULT_C = 16;
export const DARTS_DEFAULT_LAYERS = 8;

/** Published genotypes (quark0/darts genotypes.py), for tests and examples. */
export const DARTS_V2 =
  "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

const NODES = 4;
const RADIX = Array.from({ length: 2 * NODES }, (_, k) => BigInt(DARTS_OPS.length * (Math.floor(k / 2) + 2)));
const CELL_COUNT = RADIX.reduce((a, r) => a * r, 1n);
const CONCAT = [2, 3, 4, 5];

export function parseDarts(arch: string): Genotype {
  const g = parseGenotypeText(arch.trim(), 'darts');
  validateCell(g.normal, DARTS_SPACE_OPS, 'darts', 'normal');
  validateCell(g.reduce, DARTS_SPACE_OPS, 'darts', 'reduce');
  return g;
}

function cellAt(v: bigint): CellGenotype {
  const edges: CellGenotype['edges'] = [];
  for (let k = RADIX.length - 1; k >= 0; k--) {
    const d = Number(v % RADIX[k]!);
    v /= RADIX[k]!;
    const inputs = Math.floor(k / 2) + 2;
    edges[k] = { op: DARTS_OPS[Math.floor(d / inputs)]!, from: d % inputs };
  }
  return { edges, concat: [...CONCAT] };
}

function cellIndex(c: CellGenotype): bigint {
  if (c.edges.length !== 2 * NODES || c.concat.join(',') !== CONCAT.join(',')) {
    throw new SpaceError('darts: only genotypes with 4 nodes and concat [2, 3, 4, 5] have an index in the enumerated space');
  }
  return c.edges.reduce((acc, e, k) => {
    const op = (DARTS_OPS as readonly string[]).indexOf(e.op);
    if (op < 0) throw new SpaceError(`darts: op ${e.op} is outside the 8 DARTS primitives, so the genotype has no index`);
    return acc * RADIX[k]! + BigInt(op * (Math.floor(k / 2) + 2) + e.from);
  }, 0n);
}

function randomCell(rng: Rng): CellGenotype {
  const edges = Array.from({ length: 2 * NODES }, (_, k) => ({
    op: DARTS_OPS[rng.nextInt(DARTS_OPS.length)]!,
    from: rng.nextInt(Math.floor(k / 2) + 2),
  }));
  return { edges, concat: [...CONCAT] };
}

/** One edge's op or input changed, in the normal or the reduce cell. */
export function mutateCells(g: Genotype, rng: Rng, ops: readonly string[]): Genotype {
  const which = rng.nextInt(2) === 0 ? 'normal' : 'reduce';
  const cell = g[which];
  const edges = cell.edges.map((e) => ({ ...e }));
  const k = rng.nextInt(edges.length);
  const e = edges[k]!;
  const inputs = Math.floor(k / 2) + 2;
  if (rng.nextInt(2) === 0 || inputs < 2) {
    const others = ops.filter((o) => o !== e.op);
    e.op = others[rng.nextInt(others.length)]!;
  } else {
    const r = rng.nextInt(inputs - 1);
    e.from = r >= e.from ? r + 1 : r;
  }
  return { ...g, [which]: { edges, concat: [...cell.concat] } };
}

export function buildDarts(g: Genotype, opts: BuildOptions, label: string): Graph {
  const ds = DARTS_DATASETS[opts.dataset ?? 'cifar10'];
  if (!ds) throw new SpaceError(`darts: unknown dataset "${opts.dataset}"; choose one of ${Object.keys(DARTS_DATASETS).join(', ')}`);
  const C = opts.initChannels ?? DARTS_DEFAULT_C;
  const layers = opts.layers ?? DARTS_DEFAULT_LAYERS;
  if (!Number.isInteger(C) || C < 2 || C > 1024 || C % 2 !== 0) throw new SpaceError(`darts: --init-channels must be an even whole number in 2..1024, got ${C}`);
  if (!Number.isInteger(layers) || layers < 1 || layers > 100) throw new SpaceError(`darts: --layers must be a whole number in 1..100, got ${layers}`);
  const b = new GraphBuilder(label);
  return cellNetwork(b, g, { C, layers, classes: opts.classes ?? ds.classes, size: opts.resolution ?? ds.size });
}

export const darts: Space = {
  name: 'darts',
  description: 'DARTS cell space: genotype text, NetworkCIFAR with --init-channels C (16) and --layers L (8), ~5.6e22 cells',
  size: Number(CELL_COUNT * CELL_COUNT),
  defaultTaps: 'reference',
  datasets: Object.keys(DARTS_DATASETS),
  archAt(i: number): string {
    if (!Number.isSafeInteger(i) || i < 0) throw new SpaceError(`darts: index ${i} must be a whole number in 0..2^53 (the space is sampled, not enumerated, beyond that)`);
    const v = BigInt(i);
    return formatGenotype({ normal: cellAt(v / CELL_COUNT), reduce: cellAt(v % CELL_COUNT) });
  },
  parse(arch: string): string {
    return formatGenotype(parseDarts(arch));
  },
  indexOf(arch: string): number {
    const g = parseDarts(arch);
    const v = cellIndex(g.normal) * CELL_COUNT + cellIndex(g.reduce);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new SpaceError('darts: this genotype\'s index is above 2^53 and has no exact number');
    return Number(v);
  },
  probes: [DARTS_V2, "Genotype(normal=[('none', 0), ('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 2), ('sep_conv_5x5', 1), ('dil_conv_5x5', 3), ('sep_conv_7x7', 4), ('conv_7x1_1x7', 0)], normal_concat=[2, 3, 4, 5], reduce=[('skip_connect', 0), ('none', 1), ('avg_pool_3x3', 1), ('sep_conv_3x3', 0), ('dil_conv_3x3', 3), ('max_pool_3x3', 2), ('sep_conv_5x5', 4), ('skip_connect', 1)], reduce_concat=[2, 3, 4, 5])"],
  sample(rng: Rng, k: number): string[] {
    const out = new Set<string>();
    let tries = 0;
    while (out.size < k && tries++ < 100 * k + 100) out.add(formatGenotype({ normal: randomCell(rng), reduce: randomCell(rng) }));
    return [...out];
  },
  mutate(arch: string, rng: Rng): string {
    return formatGenotype(mutateCells(parseDarts(arch), rng, DARTS_OPS));
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    const g = parseDarts(arch);
    return buildDarts(g, opts, `darts:${formatGenotype(g)}`);
  },
};
