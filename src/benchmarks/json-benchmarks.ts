/**
 * Ground truth stored as JSON: TransNAS-Bench-101 task files, NAFBee, NDS (pycls).
 *
 * - TransNAS-Bench-101 (`micro_<task>.json`, `macro_<task>.json`, as shipped with the RBFleX-NAS
 *   code): a list of [arch id, value] per task; a directory of them gives one benchmark per
 *   space with the tasks as datasets. The value is the task's own metric: top-1 % (class_object,
 *   class_scene, jigsaw), mIoU (segmentsemantic), SSIM (autoencoder, normal), negative L2 loss
 *   (room_layout); higher is better for all of them.
 * - NAFBee (`NAFBee_VGG19.json`, `NAFBee_BERT.json`): {id: {network, activation, accuracy}};
 *   arch ids are the activation names; VGG19 is dataset cifar10, BERT dataset sst2.
 * - NDS (`DARTS.json`, `ResNet.json`, ... from the "On Network Design Spaces" release): a list of
 *   records, or {'top': [...], 'mid': [...]} (read as top + mid, like pycls users do); arch ids are
 *   the nds space's self-describing network ids (src/spaces/nds.ts; record positions "0", "1", ...
 *   are accepted by accuracy() and config() too); metric test = 100 - min_test_top1, final =
 *   100 - test_ep_top1[-1].
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DataError, fsProblem, readText } from '../util/errors.js';
import { formatNdsId, ndsNetOfRecord } from '../spaces/nds.js';
import { type Benchmark, IndexedArchs, pickDatasetMetric } from './types.js';

/** most records an NDS file may hold (the largest NDS files have ~5,000 to ~25,000) */
export const MAX_NDS_RECORDS = 1_000_000;

export function parseJson(path: string, text?: string): unknown {
  const t = text ?? readText(path);
  try {
    return JSON.parse(t);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /end of (JSON )?input|Unterminated/i.test(msg) ? ' (file truncated?)' : '';
    throw new DataError(basename(path), `corrupted JSON: ${msg}${truncated}`);
  }
}

// ------------------------------------------------------------------------------------------
// TransNAS-Bench-101

export const TRANSNAS_TASK_METRIC: Record<string, string> = {
  class_object: 'top1',
  class_scene: 'top1',
  jigsaw: 'top1',
  segmentsemantic: 'mIoU',
  autoencoder: 'ssim',
  normal: 'ssim',
  room_layout: 'neg_l2_loss',
};

const MICRO_ID = /^64-41414-[0-3]_[0-3]{2}_[0-3]{3}$/;
const MACRO_ID = /^64-[1-4]{4,6}-basic$/;

/** Is this parsed JSON a TransNAS task file (list of [string, number])? */
export function looksLikeTransnas(data: unknown): boolean {
  return Array.isArray(data) && data.length > 0 && Array.isArray(data[0]) && typeof data[0][0] === 'string' && typeof data[0][1] === 'number';
}

function readTransnasTask(path: string, data?: unknown): { space: string; task: string; rows: [string, number][] } {
  const name = basename(path);
  const json = data ?? parseJson(path);
  if (!Array.isArray(json)) throw new DataError(name, 'wrong format: expected a list of [arch, value] pairs');
  const m = /^(micro|macro)_(.+)\.json$/i.exec(name);
  let space = m ? `transnas-${m[1]!.toLowerCase()}` : undefined;
  const task = m ? m[2]! : name.replace(/\.json$/i, '');
  const seen = new Set<string>();
  const rows = json.map((row, i): [string, number] => {
    if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string' || typeof row[1] !== 'number' || !Number.isFinite(row[1])) {
      throw new DataError(name, `item ${i}: expected [arch id, number], found ${JSON.stringify(row)?.slice(0, 60)}`);
    }
    const id = row[0];
    const s = MICRO_ID.test(id) ? 'transnas-micro' : MACRO_ID.test(id) ? 'transnas-macro' : undefined;
    if (!s) throw new DataError(name, `item ${i}: "${id}" is not a TransNAS-Bench-101 arch id (64-41414-a_bb_ccc or 64-<digits>-basic)`);
    space ??= s;
    if (s !== space) throw new DataError(name, `item ${i}: ${id} is a ${s} id in a ${space} file`);
    if (seen.has(id)) throw new DataError(name, `item ${i}: ${id} appears twice`);
    seen.add(id);
    return [id, row[1]];
  });
  if (rows.length === 0) throw new DataError(name, 'wrong format: empty list');
  return { space: space!, task, rows };
}

export class TransnasBenchmark extends IndexedArchs implements Benchmark {
  readonly space: string;
  readonly format = 'TransNAS-Bench-101 json';
  readonly source: string;
  readonly datasets: string[];
  readonly metrics = ['value'];
  /** the metric each task's value is */
  readonly taskMetric: Record<string, string> = {};
  private readonly values = new Map<string, Map<string, number>>();

  constructor(source: string, tasks: { space: string; task: string; rows: [string, number][] }[]) {
    super();
    this.source = source;
    this.space = tasks[0]!.space;
    this.datasets = tasks.map((t) => t.task);
    for (const r of tasks[0]!.rows) this.addArch(r[0]);
    for (const t of tasks) {
      this.taskMetric[t.task] = TRANSNAS_TASK_METRIC[t.task] ?? 'value';
      this.values.set(t.task, new Map(t.rows));
    }
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const task = dataset ?? this.datasets[0]!;
    // the one value per task: 'value', or its own metric name (top1, mIoU, ...), or 'test'
    const m = metric === undefined || metric === 'test' || metric === this.taskMetric[task] ? 'value' : metric;
    const r = pickDatasetMetric(this, task, m, (d) => d);
    return this.values.get(r.dataset)!.get(arch);
  }
}

export function openTransnasFile(path: string, data?: unknown): TransnasBenchmark {
  return new TransnasBenchmark(path, [readTransnasTask(path, data)]);
}

export function openTransnasDir(dir: string, space?: string): TransnasBenchmark {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^(micro|macro)_.+\.json$/i.test(n)).sort();
  } catch (e) {
    throw fsProblem(dir, e);
  }
  const spaces = [...new Set(names.map((n) => `transnas-${n.split('_')[0]!.toLowerCase()}`))];
  if (spaces.length === 0) throw new DataError(dir, 'no TransNAS-Bench-101 files (micro_<task>.json / macro_<task>.json) here');
  let want = space;
  if (want === undefined) {
    if (spaces.length > 1) throw new DataError(dir, `holds both ${spaces.join(' and ')} files; choose one with space: 'transnas-micro' or 'transnas-macro'`);
    want = spaces[0]!;
  }
  if (!spaces.includes(want)) throw new DataError(dir, `no ${want} files here (found ${spaces.join(', ')})`);
  const tasks = names.filter((n) => `transnas-${n.split('_')[0]!.toLowerCase()}` === want).map((n) => readTransnasTask(join(dir, n)));
  const ids = new Set(tasks[0]!.rows.map((r) => r[0]));
  for (const t of tasks.slice(1)) {
    if (t.rows.length !== ids.size || t.rows.some((r) => !ids.has(r[0]))) {
      throw new DataError(join(dir, `${want.slice(9)}_${t.task}.json`), `holds a different set of architectures than ${want.slice(9)}_${tasks[0]!.task}.json`);
    }
  }
  return new TransnasBenchmark(dir, tasks);
}

// ------------------------------------------------------------------------------------------
// NAFBee

const NAFBEE_DATASET: Record<string, string> = { VGG19: 'cifar10', BERT: 'sst2' };

export function looksLikeNafbee(data: unknown): boolean {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const first = Object.values(data)[0] as Record<string, unknown> | undefined;
  return !!first && typeof first === 'object' && 'activation' in first && 'accuracy' in first;
}

function readNafbee(path: string, data?: unknown): { dataset: string; rows: [string, number][] } {
  const name = basename(path);
  const json = data ?? parseJson(path);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new DataError(name, 'wrong format: expected an object of {network, activation, accuracy} records');
  const entries = Object.entries(json as Record<string, unknown>).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (entries.length === 0) throw new DataError(name, 'wrong format: no records');
  let network: string | undefined;
  const seen = new Set<string>();
  const rows = entries.map(([k, rec]): [string, number] => {
    const r = rec as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || typeof r.activation !== 'string' || typeof r.accuracy !== 'number' || !Number.isFinite(r.accuracy) || typeof r.network !== 'string') {
      throw new DataError(name, `record "${k}": expected {network, activation, accuracy}`);
    }
    network ??= r.network;
    if (r.network !== network) throw new DataError(name, `record "${k}": network ${r.network} in a ${network} file`);
    if (seen.has(r.activation)) throw new DataError(name, `record "${k}": activation ${r.activation} appears twice`);
    seen.add(r.activation);
    return [r.activation, r.accuracy];
  });
  return { dataset: NAFBEE_DATASET[network!] ?? network!.toLowerCase(), rows };
}

export class NafbeeBenchmark extends IndexedArchs implements Benchmark {
  readonly space = 'nafbee';
  readonly format = 'NAFBee json';
  readonly source: string;
  readonly datasets: string[];
  readonly metrics = ['test'];
  private readonly values = new Map<string, Map<string, number>>();

  constructor(source: string, sets: { dataset: string; rows: [string, number][] }[]) {
    super();
    this.source = source;
    this.datasets = sets.map((s) => s.dataset);
    for (const r of sets[0]!.rows) this.addArch(r[0]);
    for (const s of sets) this.values.set(s.dataset, new Map(s.rows));
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const r = pickDatasetMetric(this, dataset, metric, (d) => d.toLowerCase());
    return this.values.get(r.dataset)!.get(arch);
  }
}

export function openNafbeeFile(path: string, data?: unknown): NafbeeBenchmark {
  return new NafbeeBenchmark(path, [readNafbee(path, data)]);
}

export function openNafbeeDir(dir: string): NafbeeBenchmark {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^NAFBee_.+\.json$/i.test(n));
  } catch (e) {
    throw fsProblem(dir, e);
  }
  if (names.length === 0) throw new DataError(dir, 'no NAFBee_<network>.json files here');
  // VGG19 (the CIFAR-10 space of the paper) first, then the others by name
  names.sort((a, b) => Number(/vgg/i.test(b)) - Number(/vgg/i.test(a)) || a.localeCompare(b));
  return new NafbeeBenchmark(dir, names.map((n) => readNafbee(join(dir, n))));
}

// ------------------------------------------------------------------------------------------
// NDS

export function looksLikeNds(data: unknown): boolean {
  const list = Array.isArray(data) ? data : data && typeof data === 'object' && 'top' in data ? (data as { top: unknown }).top : undefined;
  return Array.isArray(list) && list.length > 0 && !!list[0] && typeof list[0] === 'object' && 'net' in list[0];
}

export class NdsBenchmark extends IndexedArchs implements Benchmark {
  readonly space = 'nds';
  readonly format = 'NDS json';
  readonly source: string;
  /** the design space the file holds, from its name (DARTS, ResNet, ENAS_in, ...) */
  readonly name: string;
  readonly datasets: string[];
  readonly metrics = ['test', 'final'];
  private readonly nets: unknown[];
  private readonly test: Float64Array;
  private readonly final: Float64Array;
  private readonly params: Float64Array;
  private readonly flops: Float64Array;

  constructor(path: string, data?: unknown) {
    super();
    const file = basename(path);
    this.source = path;
    this.name = file.replace(/\.json$/i, '');
    const imagenet = /_in($|[-_.])/i.test(this.name);
    this.datasets = [imagenet ? 'imagenet' : 'cifar10'];
    const json = data ?? parseJson(path);
    let list: unknown;
    if (Array.isArray(json)) list = json;
    else if (json && typeof json === 'object' && Array.isArray((json as { top?: unknown }).top)) {
      const j = json as { top: unknown[]; mid?: unknown };
      if (j.mid !== undefined && !Array.isArray(j.mid)) throw new DataError(file, 'wrong format: "mid" is not a list');
      list = [...j.top, ...((j.mid as unknown[] | undefined) ?? [])];
    } else throw new DataError(file, 'wrong format: expected a list of NDS records or {"top": [...], "mid": [...]}');
    const recs = list as unknown[];
    if (recs.length === 0) throw new DataError(file, 'wrong format: no records');
    if (recs.length > MAX_NDS_RECORDS) throw new DataError(file, `${recs.length} records, over the limit of ${MAX_NDS_RECORDS}`);
    this.nets = new Array(recs.length);
    this.test = new Float64Array(recs.length);
    this.final = new Float64Array(recs.length);
    this.params = new Float64Array(recs.length).fill(NaN);
    this.flops = new Float64Array(recs.length).fill(NaN);
    const repeats = new Map<string, number>();
    recs.forEach((rec, i) => {
      const r = rec as Record<string, unknown> | null;
      if (!r || typeof r !== 'object' || !r.net || typeof r.net !== 'object') throw new DataError(file, `record ${i}: no "net" config`);
      const top1 = r.min_test_top1;
      if (typeof top1 !== 'number' || !Number.isFinite(top1) || top1 < 0 || top1 > 100) {
        throw new DataError(file, `record ${i}: min_test_top1 is ${JSON.stringify(top1)}, expected an error rate in 0..100`);
      }
      let id: string;
      try {
        id = formatNdsId(ndsNetOfRecord(r.net, imagenet));
      } catch (e) {
        throw new DataError(file, `record ${i}: ${(e as Error).message}`);
      }
      // the same network more than once (e.g. the lr-wd spaces): the k-th repeat is id#k
      const k = repeats.get(id) ?? 0;
      repeats.set(id, k + 1);
      this.addArch(k === 0 ? id : `${id}#${k}`);
      const ep = r.test_ep_top1;
      const last = Array.isArray(ep) && ep.length ? ep[ep.length - 1] : undefined;
      this.nets[i] = r.net;
      this.test[i] = 100 - top1;
      this.final[i] = typeof last === 'number' && Number.isFinite(last) ? 100 - last : NaN;
      if (typeof r.params === 'number' && Number.isFinite(r.params)) this.params[i] = r.params;
      if (typeof r.flops === 'number' && Number.isFinite(r.flops)) this.flops[i] = r.flops;
    });
  }
  /** the record's "net" config (genotype / AnyNet parameters), by id or by record position "0", "1", ... */
  config(arch: string): unknown {
    const i = this.idx(arch);
    return i === undefined ? undefined : this.nets[i];
  }
  /** the parameter count and FLOPs the record carries (undefined where it has none) */
  recorded(arch: string): { params?: number; flops?: number } | undefined {
    const i = this.idx(arch);
    if (i === undefined) return undefined;
    const out: { params?: number; flops?: number } = {};
    if (!Number.isNaN(this.params[i]!)) out.params = this.params[i]!;
    if (!Number.isNaN(this.flops[i]!)) out.flops = this.flops[i]!;
    return out;
  }
  accuracy(arch: string, dataset?: string, metric?: string): number | undefined {
    const r = pickDatasetMetric(this, dataset, metric, (d) => d.toLowerCase());
    const i = this.idx(arch);
    if (i === undefined) return undefined;
    const v = (r.metric === 'final' ? this.final : this.test)[i]!;
    return Number.isNaN(v) ? undefined : v;
  }
  private idx(arch: string): number | undefined {
    const i = this.index.get(arch);
    if (i !== undefined) return i;
    if (!/^\d+$/.test(arch)) return undefined;
    const n = Number(arch);
    return n < this.nets.length ? n : undefined;
  }
}
