/**
 * NASLib's published zero-cost proxy values (NAS-Bench-Suite-Zero, `zc_nasbench201.json`): per
 * dataset, op-index tuples -> {synflow, snip, jacov, grad_norm, fisher, grasp, ..., val_accuracy}.
 * Keys are NASLib's op indices (0 skip, 1 none, 2 conv3x3, 3 conv1x1, 4 avgpool) in NASLib's edge
 * order, which maps to the NB201 string `|t0~0|+|t1~0|t3~1|+|t2~0|t4~1|t5~2|`.
 */
import { DataError } from '../util/errors.js';
import { parseJson } from './json-benchmarks.js';

const OPS = ['skip_connect', 'none', 'nor_conv_3x3', 'nor_conv_1x1', 'avg_pool_3x3'];
/** NB201 has 15,625 cells: a file with more records per dataset is not this file */
const MAX_ROWS = 15_625;

/** NASLib's op-index tuple, e.g. "(4, 3, 3, 3, 2, 3)" -> NB201 arch string. */
export function naslibKeyToArch(key: string): string {
  const t = key.replace(/[()\s]/g, '').split(',').map(Number);
  if (t.length !== 6 || t.some((v) => !Number.isInteger(v) || v < 0 || v > 4)) throw new Error(`bad NASLib NB201 key ${key.slice(0, 40)}`);
  const o = (i: number) => OPS[t[i]!]!;
  return `|${o(0)}~0|+|${o(1)}~0|${o(3)}~1|+|${o(2)}~0|${o(4)}~1|${o(5)}~2|`;
}

export interface NaslibRow {
  arch: string;
  values: Record<string, number>;
}

/** The rows of one dataset (cifar10, cifar100, ImageNet16-120), in file order. */
export function readNaslibZc(file: string, dataset: string): NaslibRow[] {
  const j = parseJson(file) as { nasbench201?: Record<string, Record<string, Record<string, unknown>>> };
  const d = j?.nasbench201?.[dataset];
  if (!d || typeof d !== 'object') throw new DataError(file, `no nasbench201 / ${dataset} section (is this NASLib's zc_nasbench201.json?)`);
  const entries = Object.entries(d);
  if (entries.length > MAX_ROWS) throw new DataError(file, `${entries.length} records for ${dataset}, over the ${MAX_ROWS} cells of NB201`);
  return entries.map(([k, v]) => {
    let arch: string;
    try {
      arch = naslibKeyToArch(k);
    } catch (e) {
      throw new DataError(file, (e as Error).message);
    }
    const values: Record<string, number> = {};
    for (const [name, x] of Object.entries(v ?? {})) if (typeof x === 'number') values[name] = x;
    return { arch, values };
  });
}
