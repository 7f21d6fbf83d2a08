/**
 * Network Design Spaces (Radosavovic et al. 2019, facebookresearch/nds): the networks of NDS json
 * records, built as pycls builds them. Arch ids describe the whole network, so any worker can
 * build one without the file:
 *
 *   cell:<cifar|in>:w<width>:d<depth>:<genotype text>          DARTS, ENAS, PNAS, NASNet, Amoeba
 *   anynet:<cifar|in>:<block>:<stem>:<stem_w>:ds=..:ws=..:ss=..:bms=..:gs=..:nc=<classes>
 *                                                               ResNet, ResNeXt-A/B, Vanilla
 *
 * `cifar` cell networks are NetworkCIFAR (32 px, 10 classes), `in` ones NetworkImageNet (224 px,
 * 1000 classes), without auxiliary heads; AnyNet takes stem, widths and classes from the record and
 * 32 or 224 px input. `gs` is NDS's `num_gs`: the number of groups of the bottleneck 3x3 conv.
 * A trailing `#k` (the k-th repeat of one network in a file, e.g. in the lr-wd spaces) is accepted
 * and dropped. The space is not enumerated: its architectures come from an NDS file (--benchmark).
 */
import { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import type { Rng } from '../util/rng.js';
import { ANYNET_BLOCKS, ANYNET_STEMS, type AnyNetConfig, anyNetwork } from './anynet.js';
import { mutateCells } from './darts.js';
import { CELL_OPS, cellNetwork } from './darts-net.js';
import { type Genotype, formatGenotype, parseGenotypeText, validateCell } from './genotype.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';

export const MAX_NDS_ID_CHARS = 20_000;
const MAX_STAGES = 16;

export type NdsNet = { kind: 'cell'; imagenet: boolean; width: number; depth: number; genotype: Genotype } | { kind: 'anynet'; imagenet: boolean; config: AnyNetConfig };

function wholeIn(v: unknown, lo: number, hi: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new SpaceError(`nds: ${what} must be a whole number in ${lo}..${hi}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function numList(v: unknown, what: string, check: (x: number) => boolean, n?: number): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_STAGES || (n !== undefined && v.length !== n)) {
    throw new SpaceError(`nds: ${what} must be a list of ${n ?? `1..${MAX_STAGES}`} numbers`);
  }
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x) || !check(x)) throw new SpaceError(`nds: ${what} has a bad value ${JSON.stringify(x)?.slice(0, 40)}`);
  return v as number[];
}

function checkAnyNet(c: AnyNetConfig): AnyNetConfig {
  if (!(ANYNET_STEMS as readonly string[]).includes(c.stem)) throw new SpaceError(`nds: unknown stem_type "${c.stem}"; stems are ${ANYNET_STEMS.join(', ')}`);
  if (!(ANYNET_BLOCKS as readonly string[]).includes(c.block)) throw new SpaceError(`nds: unknown block_type "${c.block}"; blocks are ${ANYNET_BLOCKS.join(', ')}`);
  wholeIn(c.stemW, 1, 8192, 'stem_w');
  wholeIn(c.nc, 1, 100000, 'nc');
  const n = numList(c.ds, 'ds', (x) => Number.isInteger(x) && x >= 1 && x <= 64).length;
  numList(c.ws, 'ws', (x) => Number.isInteger(x) && x >= 1 && x <= 8192, n);
  numList(c.ss, 'ss', (x) => x === 1 || x === 2, n);
  numList(c.bms, 'bot_muls', (x) => x > 0 && x <= 16, n);
  numList(c.gs, 'num_gs', (x) => Number.isInteger(x) && x >= 1 && x <= 8192, n);
  return c;
}

/** The network of an NDS record's `net` config (`imagenet` from the file: *_in.json). */
export function ndsNetOfRecord(net: unknown, imagenet: boolean): NdsNet {
  if (!net || typeof net !== 'object') throw new SpaceError('nds: "net" is not an object');
  const r = net as Record<string, unknown>;
  if ('genotype' in r) {
    const g = r.genotype as Record<string, unknown> | null;
    if (!g || typeof g !== 'object') throw new SpaceError('nds: "genotype" is not an object');
    const cell = (edges: unknown, concat: unknown, name: string) => {
      if (!Array.isArray(edges) || edges.length > 64) throw new SpaceError(`nds: genotype.${name} must be a list of [op, input] pairs`);
      const es = edges.map((e, k) => {
        if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number' || !Number.isInteger(e[1]) || e[1] < 0) {
          throw new SpaceError(`nds: genotype.${name}[${k}] must be [op, input]`);
        }
        return { op: e[0], from: e[1] };
      });
      return { edges: es, concat: numList(concat, `genotype.${name}_concat`, (x) => Number.isInteger(x) && x >= 0) };
    };
    const genotype = { normal: cell(g.normal, g.normal_concat, 'normal'), reduce: cell(g.reduce, g.reduce_concat, 'reduce') };
    validateCell(genotype.normal, CELL_OPS, 'nds', 'normal');
    validateCell(genotype.reduce, CELL_OPS, 'nds', 'reduce');
    return { kind: 'cell', imagenet, width: wholeIn(r.width, 2, 4096, 'width'), depth: wholeIn(r.depth, 1, 200, 'depth'), genotype };
  }
  if ('block_type' in r) {
    const ds = r.ds as number[];
    const ones = Array.isArray(ds) ? ds.map(() => 1) : [];
    const config: AnyNetConfig = {
      stem: r.stem_type as AnyNetConfig['stem'],
      stemW: r.stem_w as number,
      block: r.block_type as AnyNetConfig['block'],
      ds,
      ws: r.ws as number[],
      ss: r.ss as number[],
      bms: (r.bot_muls ?? r.bms ?? ones) as number[],
      gs: (r.num_gs ?? ones) as number[],
      nc: (r.nc ?? (imagenet ? 1000 : 10)) as number,
    };
    return { kind: 'anynet', imagenet, config: checkAnyNet(config) };
  }
  throw new SpaceError('nds: "net" has neither a genotype (cell spaces) nor a block_type (AnyNet spaces)');
}

export function formatNdsId(n: NdsNet): string {
  const v = n.imagenet ? 'in' : 'cifar';
  if (n.kind === 'cell') return `cell:${v}:w${n.width}:d${n.depth}:${formatGenotype(n.genotype)}`;
  const c = n.config;
  return `anynet:${v}:${c.block}:${c.stem}:${c.stemW}:ds=${c.ds.join(',')}:ws=${c.ws.join(',')}:ss=${c.ss.join(',')}:bms=${c.bms.join(',')}:gs=${c.gs.join(',')}:nc=${c.nc}`;
}

export function parseNdsId(id: string): NdsNet {
  const text = id.trim().replace(/#\d+$/, '');
  if (text.length > MAX_NDS_ID_CHARS) throw new SpaceError(`nds: id of ${text.length} characters, over the limit of ${MAX_NDS_ID_CHARS}`);
  const parts = text.split(':');
  const variant = parts[1];
  if (variant !== 'cifar' && variant !== 'in') throw new SpaceError(`nds: "${text.slice(0, 60)}" must start with cell:<cifar|in>: or anynet:<cifar|in>:`);
  const imagenet = variant === 'in';
  if (parts[0] === 'cell') {
    const w = /^w(\d+)$/.exec(parts[2] ?? '');
    const d = /^d(\d+)$/.exec(parts[3] ?? '');
    if (!w || !d || parts.length < 5) throw new SpaceError('nds: a cell id is cell:<cifar|in>:w<width>:d<depth>:<genotype text>');
    const genotype = parseGenotypeText(parts.slice(4).join(':'), 'nds');
    validateCell(genotype.normal, CELL_OPS, 'nds', 'normal');
    validateCell(genotype.reduce, CELL_OPS, 'nds', 'reduce');
    return { kind: 'cell', imagenet, width: wholeIn(Number(w[1]), 2, 4096, 'width'), depth: wholeIn(Number(d[1]), 1, 200, 'depth'), genotype };
  }
  if (parts[0] === 'anynet') {
    if (parts.length !== 11) throw new SpaceError('nds: an anynet id is anynet:<cifar|in>:<block>:<stem>:<stem_w>:ds=..:ws=..:ss=..:bms=..:gs=..:nc=<n>');
    const field = (k: number, name: string): number[] => {
      const m = new RegExp(`^${name}=([0-9.,]+)$`).exec(parts[k]!);
      if (!m) throw new SpaceError(`nds: expected ${name}=<numbers> in place ${k + 1} of the anynet id`);
      return m[1]!.split(',').map(Number);
    };
    const config: AnyNetConfig = {
      block: parts[2] as AnyNetConfig['block'],
      stem: parts[3] as AnyNetConfig['stem'],
      stemW: Number(parts[4]),
      ds: field(5, 'ds'),
      ws: field(6, 'ws'),
      ss: field(7, 'ss'),
      bms: field(8, 'bms'),
      gs: field(9, 'gs'),
      nc: field(10, 'nc')[0]!,
    };
    return { kind: 'anynet', imagenet, config: checkAnyNet(config) };
  }
  throw new SpaceError(`nds: "${text.slice(0, 60)}" must start with cell: or anynet:`);
}

export function buildNds(n: NdsNet, opts: BuildOptions = {}): Graph {
  const size = opts.resolution ?? (n.imagenet ? 224 : 32);
  const b = new GraphBuilder(`nds:${formatNdsId(n).slice(0, 200)}`);
  if (n.kind === 'cell') {
    return cellNetwork(b, n.genotype, { C: n.width, layers: n.depth, classes: opts.classes ?? (n.imagenet ? 1000 : 10), size, imagenet: n.imagenet });
  }
  return anyNetwork(b, opts.classes === undefined ? n.config : { ...n.config, nc: opts.classes }, size);
}

export const nds: Space = {
  name: 'nds',
  description: 'Network Design Spaces (DARTS, ENAS, PNAS, NASNet, Amoeba, ResNet, ResNeXt-A/B; CIFAR and ImageNet): networks of NDS json records (--benchmark)',
  size: Number.POSITIVE_INFINITY,
  defaultTaps: 'reference',
  datasets: ['cifar10', 'imagenet'],
  imageDataset: (d) => d,
  archAt(): string {
    throw new SpaceError('nds: the space is not enumerated; its architectures come from an NDS json file (--benchmark DARTS.json)');
  },
  parse(arch: string): string {
    return formatNdsId(parseNdsId(arch));
  },
  indexOf(): number {
    throw new SpaceError('nds: the space is not enumerated; architectures are identified by their ids');
  },
  probes: [
    "cell:cifar:w8:d5:Genotype(normal=[('dil_sep_conv_3x3', 0), ('conv_3x1_1x3', 1), ('conv_1x1', 0), ('conv_3x3', 2), ('max_pool_5x5', 1), ('max_pool_7x7', 3)], normal_concat=[2, 3, 4], reduce=[('skip_connect', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3])",
    'anynet:cifar:res_bottleneck_block:res_stem_cifar:16:ds=1,1,1:ws=32,64,128:ss=1,2,2:bms=0.5,0.25,0.5:gs=2,4,8:nc=10',
    'anynet:cifar:res_basic_block:simple_stem_in:16:ds=1,1:ws=16,32:ss=1,2:bms=1,1:gs=1,1:nc=10',
  ],
  sample(): string[] {
    throw new SpaceError('nds: architectures come from an NDS json file: give --benchmark <file> to sample from it');
  },
  mutate(arch: string, rng: Rng): string {
    const n = parseNdsId(arch);
    if (n.kind === 'cell') return formatNdsId({ ...n, genotype: mutateCells(n.genotype, rng, CELL_OPS) });
    // AnyNet: one stage one block deeper or shallower
    const ds = [...n.config.ds];
    const k = rng.nextInt(ds.length);
    ds[k] = ds[k]! <= 1 || rng.nextInt(2) === 0 ? ds[k]! + 1 : ds[k]! - 1;
    return formatNdsId({ ...n, config: { ...n.config, ds } });
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    return buildNds(parseNdsId(arch), opts);
  },
};
