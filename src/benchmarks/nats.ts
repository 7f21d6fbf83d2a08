/**
 * The official NATS-Bench "fast mode" archives: `NATS-tss-v1_0-3ffb9-simple/` (topology, 15,625
 * archs) and `NATS-sss-v1_0-50262-simple/` (size, 32,768 archs).
 *
 * Layout (mirrors nats_bench/api_utils.py and api_topology.py / api_size.py):
 * - `meta.pickle.pbz2`: bz2 pickle of {'meta_archs': [arch strings, index order], 'total_archs',
 *   'arch2infos': None, 'evaluated_indexes': set()}.
 * - `<index:06d>.pickle.pbz2` (or `<index>.pickle.pbz2`) per architecture: an OrderedDict
 *   hp -> ArchResults state dict {'arch_index', 'arch_str', 'all_results', 'dataset_seed',
 *   'clear_net_done'}, where all_results maps (dataset, seed) -> ResultsCount state dict with
 *   'epochs', 'eval_acc1es' {'<set>@<epoch>': acc}, 'train_acc1es' {epoch: acc}, ...
 *   hp is '12' / '200' for TSS and '01' / '12' / '90' for SSS.
 *
 * Opening reads only the meta file; accuracy() reads one architecture's file the first time that
 * architecture is asked for (like the API's fast_mode + _prepare_info) and keeps only the few
 * numbers it needs.
 *
 * Semantics follow `get_more_info(index, dataset, hp=hp, is_random=...)` and
 * `remap_dataset_set_names`: dataset cifar10 + metric test = ('cifar10', 'ori-test');
 * cifar10 + valid = ('cifar10-valid', 'x-valid'); cifar100 / ImageNet16-120 test = 'x-test',
 * valid = 'x-valid'; metric train = the training accuracy. seed 'mean' averages over the
 * dataset's seeds (is_random=False), a number picks that seed. The epoch is the last one
 * unless `epoch` is given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { bunzip2 } from '../util/bz2.js';
import { DataError, fsProblem } from '../util/errors.js';
import { PyDict, type PyValue, expectDict, pyNumber, pyString, unpickle } from '../util/pickle.js';
import { type Benchmark, IndexedArchs, canonicalDataset } from './types.js';

/** File access used by the reader; injectable so tests can count reads. */
export interface NatsFs {
  readFile(path: string): Uint8Array;
  exists(path: string): boolean;
}

export const nodeNatsFs: NatsFs = {
  readFile: (p) => readFileSync(p),
  exists: (p) => existsSync(p),
};

export interface NatsOptions {
  /** training budget: '12' or '200' (TSS, default '200'); '01', '12' or '90' (SSS, default '90') */
  hp?: string | number;
  /** 'mean' over seeds (default) or one seed, e.g. 777 */
  seed?: 'mean' | number;
  /** epoch to read (default: the last) */
  epoch?: number;
  fs?: NatsFs;
}

export interface NatsQuery {
  dataset?: string;
  /** test | valid | train, or a raw set name: ori-test | x-test | x-valid */
  metric?: string;
  hp?: string | number;
  seed?: 'mean' | number;
  epoch?: number;
}

const DATASETS = ['cifar10', 'cifar100', 'ImageNet16-120', 'cifar10-valid'];
const METRICS = ['test', 'valid', 'train', 'ori-test', 'x-test', 'x-valid'];

/** per hp, per dataset: seeds in dataset_seed order, and per seed {set name -> accuracy} */
type HpTable = Map<string, { epochs: number; seeds: number[]; bySeed: Map<number, Map<string, number>> }>;
type ArchTable = Map<string, HpTable>;

export class NatsBenchmark extends IndexedArchs implements Benchmark {
  readonly space: 'nb201' | 'sss';
  readonly format: string;
  readonly source: string;
  readonly datasets = DATASETS;
  readonly metrics = METRICS;
  readonly hp: string;
  readonly seed: 'mean' | number;
  readonly epoch: number | undefined;
  private readonly fs: NatsFs;
  private readonly cache = new Map<number, ArchTable>();

  constructor(dir: string, opts: NatsOptions = {}) {
    super();
    this.source = dir;
    this.fs = opts.fs ?? nodeNatsFs;
    const metaPath = join(dir, 'meta.pickle.pbz2');
    const meta = expectDict(this.load(metaPath), 'the meta pickle', metaPath);
    const archs = meta.getStr('meta_archs');
    if (!Array.isArray(archs) || archs.length === 0) throw new DataError(metaPath, 'wrong format: no meta_archs list');
    archs.forEach((a, i) => {
      const s = pyString(a);
      if (s === undefined) throw new DataError(metaPath, `wrong format: meta_archs[${i}] is not a string`);
      if (this.index.has(s)) throw new DataError(metaPath, `corrupted: meta_archs[${i}] repeats ${s}`);
      this.addArch(s);
    });
    const total = pyNumber(meta.getStr('total_archs'));
    if (total !== undefined && total !== this.ids.length) {
      throw new DataError(metaPath, `corrupted: total_archs is ${total} but meta_archs holds ${this.ids.length}`);
    }
    const first = this.ids[0]!;
    const isSss = /^\d+(:\d+){4}$/.test(first);
    if (!isSss && !first.startsWith('|')) throw new DataError(metaPath, `wrong format: "${first}" is neither a TSS arch string nor an SSS channel list`);
    this.space = isSss ? 'sss' : 'nb201';
    this.hp = normHp(opts.hp ?? (isSss ? '90' : '200'));
    this.seed = opts.seed ?? 'mean';
    this.epoch = opts.epoch;
    this.format = `NATS-Bench ${isSss ? 'SSS' : 'TSS'} -simple archive (hp ${this.hp}, ${this.seed === 'mean' ? 'seed mean' : `seed ${this.seed}`})`;
  }

  /** number of per-architecture files read so far */
  get loadedArchs(): number {
    return this.cache.size;
  }

  /** NATS-Bench index of an arch (its position in the file) */
  natsIndex(arch: string): number | undefined {
    return this.index.get(arch);
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    return this.query(arch, { ...(dataset !== undefined ? { dataset } : {}), ...(metric !== undefined ? { metric } : {}) });
  }

  /** Full control over hp, seed and epoch for one lookup. */
  query(arch: string, q: NatsQuery = {}): number | undefined {
    const ds0 = canonicalDataset(q.dataset ?? 'cifar10');
    if (!DATASETS.includes(ds0)) throw new DataError(this.source, `no ground truth for dataset "${q.dataset}"; NATS-Bench has ${DATASETS.join(', ')}`);
    const metric = q.metric ?? 'test';
    if (!METRICS.includes(metric)) throw new DataError(this.source, `no metric "${metric}"; NATS-Bench has ${METRICS.join(', ')}`);
    const [ds, set] = remap(ds0, metric);
    const index = this.index.get(arch);
    if (index === undefined) return undefined;
    const hp = normHp(q.hp ?? this.hp);
    const seed = q.seed ?? this.seed;
    const table = q.epoch !== undefined && q.epoch !== this.epoch ? this.readArch(index, q.epoch) : this.archTable(index);
    const hpTable = table.get(hp);
    if (!hpTable) {
      if (table.size) throw new DataError(this.source, `no hp "${hp}"; this archive has ${[...table.keys()].join(', ')}`);
      return undefined;
    }
    const entry = hpTable.get(ds);
    if (!entry) return undefined;
    if (seed === 'mean') {
      let sum = 0;
      for (const s of entry.seeds) {
        const v = entry.bySeed.get(s)?.get(set);
        if (v === undefined) return undefined;
        sum += v;
      }
      return entry.seeds.length ? sum / entry.seeds.length : undefined;
    }
    return entry.bySeed.get(seed)?.get(set);
  }

  /** seeds recorded for an arch, hp and dataset (in the file's dataset_seed order) */
  seeds(arch: string, dataset = 'cifar10', hp: string | number = this.hp): number[] {
    const index = this.index.get(arch);
    if (index === undefined) return [];
    return [...(this.archTable(index).get(normHp(hp))?.get(canonicalDataset(dataset))?.seeds ?? [])];
  }

  private archTable(index: number): ArchTable {
    let t = this.cache.get(index);
    if (!t) {
      t = this.readArch(index, this.epoch);
      this.cache.set(index, t);
    }
    return t;
  }

  private archPath(index: number): string {
    const padded = join(this.source, `${String(index).padStart(6, '0')}.pickle.pbz2`);
    if (this.fs.exists(padded)) return padded;
    const plain = join(this.source, `${index}.pickle.pbz2`);
    if (this.fs.exists(plain)) return plain;
    throw new DataError(padded, `no such file or directory (architecture ${index}'s results are missing from ${basename(this.source)})`);
  }

  private load(path: string): PyValue {
    let raw: Uint8Array;
    try {
      raw = this.fs.readFile(path);
    } catch (e) {
      throw fsProblem(path, e);
    }
    return unpickle(bunzip2(raw, path), { name: path });
  }

  private readArch(index: number, epoch: number | undefined): ArchTable {
    const path = this.archPath(index);
    const top = expectDict(this.load(path), 'the architecture pickle', path);
    const table: ArchTable = new Map();
    for (const [hpKey, state] of top.entries()) {
      const hp = pyString(hpKey) ?? String(pyNumber(hpKey));
      const st = expectDict(state, `hp ${hp}`, path);
      const archIndex = pyNumber(st.getStr('arch_index'));
      const archStr = pyString(st.getStr('arch_str'));
      if (archIndex !== index || archStr !== this.ids[index]) {
        throw new DataError(path, `corrupted: holds architecture ${archIndex} ${archStr}, meta says ${index} ${this.ids[index]}`);
      }
      const all = expectDict(st.getStr('all_results'), `hp ${hp} all_results`, path);
      const dsSeeds = expectDict(st.getStr('dataset_seed'), `hp ${hp} dataset_seed`, path);
      const hpTable: HpTable = new Map();
      for (const [dsKey, seedList] of dsSeeds.entries()) {
        const ds = pyString(dsKey);
        if (ds === undefined || !Array.isArray(seedList)) throw new DataError(path, `wrong format: hp ${hp} dataset_seed entry is not dataset -> seeds`);
        const seeds = seedList.map((s) => {
          const n = pyNumber(s);
          if (n === undefined) throw new DataError(path, `wrong format: hp ${hp} ${ds} seed is not a number`);
          return n;
        });
        const bySeed = new Map<number, Map<string, number>>();
        let epochs = 0;
        for (const seed of seeds) {
          const rc = all.get([ds, seed]);
          if (!(rc instanceof PyDict)) throw new DataError(path, `corrupted: hp ${hp} has no result for (${ds}, ${seed})`);
          epochs = pyNumber(rc.getStr('epochs')) ?? 0;
          if (!Number.isInteger(epochs) || epochs <= 0) throw new DataError(path, `corrupted: hp ${hp} (${ds}, ${seed}) epochs is not a positive integer`);
          const ep = epoch ?? epochs - 1;
          bySeed.set(seed, extractSets(rc, ep, path));
        }
        hpTable.set(ds, { epochs, seeds, bySeed });
      }
      table.set(hp, hpTable);
    }
    return table;
  }
}

function extractSets(rc: PyDict, epoch: number, path: string): Map<string, number> {
  const out = new Map<string, number>();
  const evals = rc.getStr('eval_acc1es');
  if (evals !== null && evals !== undefined) {
    const d = expectDict(evals, 'eval_acc1es', path);
    const suffix = `@${epoch}`;
    for (const [k, v] of d.entries()) {
      const key = pyString(k);
      const val = pyNumber(v);
      if (key?.endsWith(suffix) && val !== undefined) out.set(key.slice(0, -suffix.length), val);
    }
  }
  const train = rc.getStr('train_acc1es');
  if (train instanceof PyDict) {
    const v = pyNumber(train.get(epoch));
    if (v !== undefined) out.set('train', v);
  }
  return out;
}

/** remap_dataset_set_names of the NATS-Bench API, plus raw set names */
function remap(dataset: string, metric: string): [string, string] {
  if (metric === 'train') return [dataset, 'train'];
  if (metric === 'valid') return dataset === 'cifar10' ? ['cifar10-valid', 'x-valid'] : [dataset, 'x-valid'];
  if (metric === 'test') {
    if (dataset === 'cifar10' || dataset === 'cifar10-valid') return [dataset, 'ori-test'];
    return [dataset, 'x-test'];
  }
  return [dataset, metric];
}

function normHp(hp: string | number): string {
  const s = String(hp);
  return s === '1' ? '01' : s;
}

/** true if `dir` looks like a NATS-Bench -simple archive */
export function isNatsDir(dir: string, fs: NatsFs = nodeNatsFs): boolean {
  return fs.exists(join(dir, 'meta.pickle.pbz2'));
}
