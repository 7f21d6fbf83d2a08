/**
 * TransNAS-Bench-101 design spaces, as the RBFleX reference scores them (network: transnas-net.ts).
 *
 * - `transnas-micro`: 4^6 = 4,096 cells on the fixed skeleton, ids `64-41414-a_bb_ccc` with ops
 *   0 zero, 1 skip, 2 conv1x1, 3 conv3x3 (node 1 <- a; node 2 <- b0 from node 0, b1 from node 1;
 *   node 3 <- c0, c1, c2 from nodes 0, 1, 2). Order: the six ops as base-4 digits, first most
 *   significant (0_00_000, 0_00_001, ...), which is also the order of the reference's json files.
 * - `transnas-macro`: ids `64-<skeleton>-basic`, skeleton of 4 to 6 digits in 1..4 with 1 to 3
 *   channel doublings (digits 2, 4) and 1 to 4 downsamplings (digits 3, 4): 3,256 skeletons, of
 *   which the reference's ground truth (and this space) has 3,255: `113444` is absent. Order:
 *   by length, then by digits.
 *
 * The reference's BackboneTrans rewrites `41414` to `41412` (Python str.replace) in every id
 * before building, micro and macro alike; `build` does the same unless `rewrite41414: false`.
 * The head is the same for all seven tasks (all reference configs use HeadEmptyMid [32, 32, 32]),
 * so `dataset` (the task) is validated but does not change the network.
 */
import type { Rng } from '../util/rng.js';
import { mutateOne, mutateValid } from './mutate.js';
import { GraphBuilder } from '../ir/builder.js';
import { type Skeleton, repeatedCellSkeleton } from '../ir/skeleton.js';
import type { Graph } from '../ir/types.js';
import { ANY_MICRO_OP, type MicroOp, type TransNasNet, stagePlan, transNasNetwork } from './transnas-net.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';

/** The seven Taskonomy tasks of TransNAS-Bench-101 (ground-truth file names micro_<task>.json). */
export const TRANSNAS_TASKS = [
  'autoencoder',
  'class_object',
  'class_scene',
  'jigsaw',
  'normal',
  'room_layout',
  'segmentsemantic',
] as const;
export type TransNasTask = (typeof TRANSNAS_TASKS)[number];

/** Every task scores on the same Taskonomy RGB images (the reference's ./dataset/TASKONOMY/rgb, ToTensor only). */
export const TRANSNAS_IMAGES = 'taskonomy';
/** Input resolution of the reference run (Taskonomy RGB 512x512). */
export const TRANSNAS_DEFAULT_RESOLUTION = 512;
export const TRANSNAS_BASE = 64;
export const MICRO_SKELETON = '41414';
const MICRO_OPS_DESC = '0 zero, 1 skip, 2 conv1x1, 3 conv3x3';
/** Valid by the benchmark's rules but without ground truth in the reference's json files. */
const MACRO_MISSING = new Set(['113444']);

/** The reference's `arch.replace('41414', '41412')`. */
export function rewrite41414(id: string): string {
  return id.replaceAll('41414', '41412');
}

function splitId(space: string, arch: string, example: string): [string, string, string] {
  const parts = arch.trim().split('-');
  if (parts.length !== 3) {
    throw new SpaceError(`${space}: "${arch}" has ${parts.length} dash-separated part(s); expected 3 like ${example}`);
  }
  if (parts[0] !== String(TRANSNAS_BASE)) {
    throw new SpaceError(`${space}: base channel "${parts[0]}" in "${arch}" must be ${TRANSNAS_BASE} (like ${example})`);
  }
  return parts as [string, string, string];
}

// ---------------------------------------------------------------- micro

/** Parse a micro id into its six ops (edge order of the code a_bb_ccc). */
export function parseMicro(arch: string): MicroOp[] {
  const ex = '64-41414-1_02_333';
  const [, skeleton, cell] = splitId('transnas-micro', arch, ex);
  if (skeleton !== MICRO_SKELETON) {
    throw new SpaceError(`transnas-micro: skeleton "${skeleton}" in "${arch}" must be ${MICRO_SKELETON} (other skeletons are transnas-macro)`);
  }
  const groups = cell.split('_');
  if (groups.length !== 3 || groups.some((g, i) => g.length !== i + 1)) {
    throw new SpaceError(
      `transnas-micro: cell "${cell}" in "${arch}" must be a_bb_ccc (1, 2 and 3 op digits for nodes 1, 2, 3), like ${ex}`,
    );
  }
  const ops: MicroOp[] = [];
  groups.forEach((g, gi) => {
    for (const ch of g) {
      if (!/^[0-3]$/.test(ch)) {
        throw new SpaceError(`transnas-micro: op "${ch}" for node ${gi + 1} in "${arch}" is not one of ${MICRO_OPS_DESC}`);
      }
      ops.push(Number(ch) as MicroOp);
    }
  });
  return ops;
}

export function formatMicro(ops: readonly MicroOp[]): string {
  const d = ops.join('');
  return `${TRANSNAS_BASE}-${MICRO_SKELETON}-${d.slice(0, 1)}_${d.slice(1, 3)}_${d.slice(3, 6)}`;
}

// ---------------------------------------------------------------- macro

/** Why a skeleton is not in the macro space, or undefined when it is. */
function macroProblem(skeleton: string): string | undefined {
  if (!/^\d+$/.test(skeleton)) return 'must be digits 1..4';
  if (skeleton.length < 4 || skeleton.length > 6) return `has ${skeleton.length} digit(s); 4 to 6 stages are allowed`;
  const bad = [...skeleton].find((c) => c < '1' || c > '4');
  if (bad !== undefined) return `has digit ${bad}; digits are 1 (plain), 2 (channels x2), 3 (stride 2), 4 (both)`;
  const doubles = [...skeleton].filter((c) => c === '2' || c === '4').length;
  const downs = [...skeleton].filter((c) => c === '3' || c === '4').length;
  if (doubles < 1 || doubles > 3) return `doubles the channels ${doubles} time(s) (digits 2, 4); 1 to 3 are allowed`;
  if (downs < 1 || downs > 4) return `downsamples ${downs} time(s) (digits 3, 4); 1 to 4 are allowed`;
  if (MACRO_MISSING.has(skeleton)) {
    return 'is a TransNAS-Bench-101 skeleton without ground truth in the reference json files, so it is not in this 3,255-skeleton space';
  }
  return undefined;
}

let macroList: string[] | undefined;
let macroIndex: Map<string, number> | undefined;

/** All macro skeletons in enumeration order (by length, then digits). */
export function macroSkeletons(): readonly string[] {
  if (!macroList) {
    const out: string[] = [];
    for (let len = 4; len <= 6; len++) {
      for (let v = 0; v < 4 ** len; v++) {
        let s = '';
        for (let k = len - 1, r = v; k >= 0; k--, r = Math.floor(r / 4)) s = String((r % 4) + 1) + s;
        if (macroProblem(s) === undefined) out.push(s);
      }
    }
    macroList = out;
    macroIndex = new Map(out.map((s, i) => [s, i]));
  }
  return macroList;
}

/** Parse a macro id into its skeleton digits. */
export function parseMacro(arch: string): string {
  const ex = '64-1234-basic';
  const [, skeleton, cell] = splitId('transnas-macro', arch, ex);
  if (cell !== 'basic') {
    throw new SpaceError(`transnas-macro: cell "${cell}" in "${arch}" must be "basic" (cell codes a_bb_ccc are transnas-micro)`);
  }
  const problem = macroProblem(skeleton);
  if (problem) throw new SpaceError(`transnas-macro: skeleton "${skeleton}" in "${arch}" ${problem}`);
  return skeleton;
}

// ---------------------------------------------------------------- building

function checkOptions(space: string, opts: BuildOptions): number {
  if (opts.dataset !== undefined && !(TRANSNAS_TASKS as readonly string[]).includes(opts.dataset)) {
    throw new SpaceError(`${space}: unknown task "${opts.dataset}"; choose one of ${TRANSNAS_TASKS.join(', ')}`);
  }
  if (opts.classes !== undefined) {
    throw new SpaceError(`${space}: the network has no classifier (its head is three 32-channel maps), so classes cannot be set`);
  }
  const r = opts.resolution ?? TRANSNAS_DEFAULT_RESOLUTION;
  if (!Number.isInteger(r) || r < 1) {
    throw new SpaceError(`${space}: resolution ${r} must be a positive integer (the reference runs 512)`);
  }
  return r;
}

/**
 * Every stride halves a map (ceil), and PyTorch's BatchNorm refuses a 1x1 map in training mode
 * with one image ("Expected more than 1 value per channel"), so the smallest map, after the
 * stem's two strides and the skeleton's, must be at least 2x2: resolution > 2^halvings.
 */
export function minResolution(skeleton: string): number {
  const halvings = 2 + stagePlan(TRANSNAS_BASE, skeleton).filter((s) => s.stride === 2).length;
  return 2 ** halvings + 1;
}

function buildNet(space: string, id: string, net: TransNasNet, built: string, resolution: number, b?: GraphBuilder): Graph {
  const min = minResolution(net.skeleton);
  if (resolution < min) {
    throw new SpaceError(
      `${space}: resolution ${resolution} is too small for ${built}: its last stage would be 1x1, which BatchNorm ` +
        `refuses in training mode with one image; use a resolution of at least ${min}`,
    );
  }
  const label = built === id ? `${space}:${id}` : `${space}:${id} (built as ${built})`;
  return transNasNetwork(b ?? new GraphBuilder(label), net, resolution);
}

export const transnasMicro: Space = {
  name: 'transnas-micro',
  takesResolution: true,
  description: 'TransNAS-Bench-101 micro: 4,096 cells 64-41414-a_bb_ccc (ops 0 zero, 1 skip, 2 conv1x1, 3 conv3x3), Taskonomy 512x512',
  size: 4 ** 6,
  defaultTaps: 'reference',
  defaultGammas: 'reference',
  datasets: TRANSNAS_TASKS,
  imageDataset: () => TRANSNAS_IMAGES,
  archAt(i: number): string {
    if (!Number.isInteger(i) || i < 0 || i >= 4 ** 6) throw new SpaceError(`transnas-micro: index ${i} out of range 0..4095`);
    const ops: MicroOp[] = [];
    for (let k = 5, v = i; k >= 0; k--, v = Math.floor(v / 4)) ops[k] = (v % 4) as MicroOp;
    return formatMicro(ops);
  },
  parse(arch: string): string {
    return formatMicro(parseMicro(arch));
  },
  indexOf(arch: string): number {
    return parseMicro(arch).reduce<number>((acc, op) => acc * 4 + op, 0);
  },
  mutate(arch: string, rng: Rng): string {
    return formatMicro(mutateOne(parseMicro(arch), [0, 1, 2, 3] as MicroOp[], rng));
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    const ops = parseMicro(arch);
    const resolution = checkOptions('transnas-micro', opts);
    const id = formatMicro(ops);
    const built = opts.rewrite41414 === false ? id : rewrite41414(id);
    const skeleton = built.split('-')[1]!;
    return buildNet('transnas-micro', id, { base: TRANSNAS_BASE, skeleton, cell: ops }, built, resolution);
  },
  skeleton(opts: BuildOptions = {}): Skeleton {
    const resolution = checkOptions('transnas-micro', opts);
    const macro = opts.rewrite41414 === false ? MICRO_SKELETON : rewrite41414(MICRO_SKELETON);
    const b = new GraphBuilder('transnas-micro:skeleton');
    const cell = Array<typeof ANY_MICRO_OP>(6).fill(ANY_MICRO_OP);
    const graph = buildNet('transnas-micro', 'skeleton', { base: TRANSNAS_BASE, skeleton: macro, cell }, 'skeleton', resolution, b);
    // branch index = op code
    return repeatedCellSkeleton('transnas-micro', graph, b.choices, 6, opts, parseMicro);
  },
};

export const transnasMacro: Space = {
  name: 'transnas-macro',
  takesResolution: true,
  description: 'TransNAS-Bench-101 macro: 3,255 skeletons 64-<4..6 digits>-basic of ResNet basic blocks, Taskonomy 512x512',
  size: 3255,
  // every id is its own structure (no shared session); the taps are reduced in each network's graph
  reduceInGraph: true,
  defaultTaps: 'reference',
  defaultGammas: 'reference',
  datasets: TRANSNAS_TASKS,
  imageDataset: () => TRANSNAS_IMAGES,
  archAt(i: number): string {
    const list = macroSkeletons();
    if (!Number.isInteger(i) || i < 0 || i >= list.length) {
      throw new SpaceError(`transnas-macro: index ${i} out of range 0..${list.length - 1}`);
    }
    return `${TRANSNAS_BASE}-${list[i]}-basic`;
  },
  parse(arch: string): string {
    return `${TRANSNAS_BASE}-${parseMacro(arch)}-basic`;
  },
  indexOf(arch: string): number {
    const skeleton = parseMacro(arch);
    macroSkeletons();
    return macroIndex!.get(skeleton)!;
  },
  mutate(arch: string, rng: Rng): string {
    macroSkeletons();
    const digits = mutateValid(parseMacro(arch).split(''), ['1', '2', '3', '4'], rng, (d) => macroIndex!.has(d.join('')));
    return `${TRANSNAS_BASE}-${digits.join('')}-basic`;
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    const id = `${TRANSNAS_BASE}-${parseMacro(arch)}-basic`;
    const resolution = checkOptions('transnas-macro', opts);
    const built = opts.rewrite41414 === false ? id : rewrite41414(id);
    const skeleton = built.split('-')[1]!;
    return buildNet('transnas-macro', id, { base: TRANSNAS_BASE, skeleton, cell: 'basic' }, built, resolution);
  },
};
