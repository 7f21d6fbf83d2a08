/**
 * The scoring job: plain JSON, validated field by field on receipt (a worker never trusts a job).
 * A job is a chunk of architectures of one space, scored with one config on one image batch
 * (stored once in Redis under its content hash).
 */
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import { TAP_MODES, type TapMode } from '../ir/types.js';
import { PROXY_NAMES, type ProxyName } from '../proxies/index.js';
import { PROXY_INPUTS_MODES, type ProxyInputsMode } from '../proxies/needs.js';
import { type ArchScore, REDUCE_MODES, type ReduceMode, type ScorerConfig } from '../search/scorer.js';
import { spaceNames } from '../spaces/index.js';
import type { BuildOptions } from '../spaces/types.js';

export const JOB_FORMAT = 2;
export const MAX_ARCHS_PER_JOB = 1000;

export interface JobData {
  format: typeof JOB_FORMAT;
  /** engineVersion() of the coordinator: a worker with another engine refuses the job */
  engine: string;
  /** rbflex package version of the coordinator (for messages) */
  rbflex: string;
  config: JobConfig;
  /** content hash of the batch, stored by storeImages */
  images: string;
  /** content hash of the gradient proxies' labelled data batch (ScorerConfig.data), when the run has one */
  data?: string;
  archs: string[];
}

/** what of a ScorerConfig travels in a job (the data batch travels as a hash, threads are the worker's) */
export type JobConfig = Omit<ScorerConfig, 'data' | 'threads'>;

/** one network's result; non-finite values as strings ("-Infinity") since JSON has no such numbers */
export interface WireScore {
  arch: string;
  scores: Record<string, number | string>;
  notes?: Record<string, string>;
  ms: number;
}

export interface JobResult {
  /** host:pid of the worker */
  worker: string;
  /** wall time of the job on the worker, ms */
  ms: number;
  results: WireScore[];
  /** when the worker got the job, had its images and pool, started scoring it (its turn came) and had scored it (epoch ms, the worker's clock) */
  timing?: { received: number; ready: number; admitted: number; scored: number };
}

export class JobError extends Error {
  override name = 'JobError';
}

function fail(what: string): never {
  throw new JobError(`malformed job: ${what}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, what: string, max = 1000): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(`${what} must be a string of 1..${max} characters`);
  return v;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(`${what} must be a positive number`);
  return v;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${what} has an unknown field "${k.slice(0, 40)}"`);
}

function build(v: unknown): BuildOptions {
  if (!isObj(v)) fail('config.build must be an object');
  onlyKeys(v, ['dataset', 'classes', 'resolution', 'rewrite41414'], 'config.build');
  const b: BuildOptions = {};
  if (v.dataset !== undefined) b.dataset = str(v.dataset, 'config.build.dataset', 100);
  for (const k of ['classes', 'resolution'] as const) {
    const x = v[k];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 100_000) fail(`config.build.${k} must be an integer in 1..100000`);
    b[k] = x;
  }
  if (v.rewrite41414 !== undefined) {
    if (typeof v.rewrite41414 !== 'boolean') fail('config.build.rewrite41414 must be a boolean');
    b.rewrite41414 = v.rewrite41414;
  }
  return b;
}

/** The job, checked; throws JobError naming the first bad field. */
export function validateJob(data: unknown): JobData {
  if (!isObj(data)) fail('not an object');
  onlyKeys(data, ['format', 'engine', 'rbflex', 'config', 'images', 'data', 'archs'], 'the job');
  if (data.format !== JOB_FORMAT) fail(`format ${JSON.stringify(data.format)?.slice(0, 20)}, this worker reads format ${JOB_FORMAT}`);
  const engine = str(data.engine, 'engine', 64);
  const rbflex = str(data.rbflex, 'rbflex', 64);
  const images = str(data.images, 'images', 64);
  if (!/^[0-9a-f]{16}$/.test(images)) fail('images must be a 16-digit hex content hash');
  const dataKey = data.data === undefined ? undefined : str(data.data, 'data', 16);
  if (dataKey !== undefined && !/^[0-9a-f]{16}$/.test(dataKey)) fail('data must be a 16-digit hex content hash');
  const c = data.config;
  if (!isObj(c)) fail('config must be an object');
  onlyKeys(c, ['space', 'build', 'proxies', 'settings', 'backend', 'seed', 'reduce', 'proxyInputs'], 'config');
  const space = str(c.space, 'config.space', 100);
  if (!spaceNames().includes(space)) fail(`config.space "${space}" is not a space of this rbflex`);
  if (!Array.isArray(c.proxies) || c.proxies.length === 0 || c.proxies.length > PROXY_NAMES.length) fail('config.proxies must be a non-empty list');
  const proxies = c.proxies.map((p, i) => {
    if (typeof p !== 'string' || !(PROXY_NAMES as readonly string[]).includes(p)) fail(`config.proxies[${i}] is not a proxy of this rbflex`);
    return p as ProxyName;
  });
  const s = c.settings;
  if (!isObj(s)) fail('config.settings must be an object');
  onlyKeys(s, ['gammaK', 'gammaQ', 'taps'], 'config.settings');
  const taps = s.taps;
  if (typeof taps !== 'string' || !(TAP_MODES as readonly string[]).includes(taps)) fail('config.settings.taps must be a tap mode');
  const backend = c.backend;
  if (typeof backend !== 'string' || !(BACKEND_NAMES as readonly string[]).includes(backend)) fail('config.backend must be a backend name');
  const reduce = c.reduce;
  if (reduce !== undefined && (typeof reduce !== 'string' || !(REDUCE_MODES as readonly string[]).includes(reduce))) fail(`config.reduce must be one of ${REDUCE_MODES.join(', ')}`);
  const proxyInputs = c.proxyInputs;
  if (proxyInputs !== undefined && (typeof proxyInputs !== 'string' || !(PROXY_INPUTS_MODES as readonly string[]).includes(proxyInputs))) fail(`config.proxyInputs must be one of ${PROXY_INPUTS_MODES.join(', ')}`);
  if (!Array.isArray(data.archs) || data.archs.length === 0 || data.archs.length > MAX_ARCHS_PER_JOB) fail(`archs must be a list of 1..${MAX_ARCHS_PER_JOB}`);
  const archs = data.archs.map((a, i) => str(a, `archs[${i}]`, 2000));
  return {
    format: JOB_FORMAT,
    engine,
    rbflex,
    images,
    ...(dataKey !== undefined ? { data: dataKey } : {}),
    archs,
    config: {
      space,
      build: build(c.build),
      proxies,
      settings: { gammaK: num(s.gammaK, 'config.settings.gammaK'), gammaQ: num(s.gammaQ, 'config.settings.gammaQ'), taps: taps as TapMode },
      backend: backend as BackendName,
      seed: str(c.seed, 'config.seed', 500),
      ...(reduce !== undefined ? { reduce: reduce as ReduceMode } : {}),
      ...(proxyInputs !== undefined ? { proxyInputs: proxyInputs as ProxyInputsMode } : {}),
    },
  };
}

export function toWire(r: ArchScore): WireScore {
  const scores: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(r.scores)) scores[k] = Number.isFinite(v) ? v! : String(v);
  return { arch: r.arch, scores, ...(r.notes && Object.keys(r.notes).length ? { notes: r.notes as Record<string, string> } : {}), ms: r.ms };
}

/** A worker's result back to an ArchScore, checked against what the job asked for. */
export function fromWire(w: unknown, proxies: readonly ProxyName[]): ArchScore {
  if (!isObj(w) || typeof w.arch !== 'string' || !isObj(w.scores)) throw new JobError('a worker returned a malformed result');
  const scores: ArchScore['scores'] = {};
  for (const p of proxies) {
    const v = w.scores[p];
    const x = typeof v === 'number' ? v : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? Number.NaN : undefined;
    if (x === undefined) throw new JobError(`a worker returned no ${p} score for ${w.arch}`);
    scores[p] = x;
  }
  const r: ArchScore = { arch: w.arch, scores, ms: typeof w.ms === 'number' ? w.ms : 0 };
  if (isObj(w.notes)) {
    const notes: ArchScore['notes'] = {};
    for (const p of proxies) if (typeof w.notes[p] === 'string') notes[p] = w.notes[p] as string;
    if (Object.keys(notes).length) r.notes = notes;
  }
  return r;
}
