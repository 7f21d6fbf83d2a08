/**
 * What coordinator and workers share: the queue of an engine, the image store, the registries in
 * which workers and coordinators announce themselves, the package version.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { LabelledBatch } from '../proxies/inputs.js';
import { imagesKey } from '../search/cache-key.js';
import { JobError } from './job.js';

/**
 * Jobs go to one queue per engine fingerprint: a worker only ever takes jobs its engine scores
 * bit-identically, so a worker on another rbflex never grabs (and burns the retries of) a job
 * meant for others. Coordinator and workers see each other's versions in the registries below.
 */
export function queueName(engine: string): string {
  return `rbflex-score-${engine}`;
}

/** hashes of live workers / coordinators: field = host:pid, value = JSON Announcement */
export const WORKERS_KEY = 'rbflex:workers';
export const COORDINATORS_KEY = 'rbflex:coordinators';
/** an announcement lives this long unless renewed (renewed every ANNOUNCE_EVERY_MS) */
export const ANNOUNCE_TTL_MS = 15_000;
export const ANNOUNCE_EVERY_MS = 5_000;
const MAX_ANNOUNCEMENTS = 10_000;

export interface Announcement {
  rbflex: string;
  engine: string;
  /** workers: jobs taken at once, scoring threads */
  concurrency?: number;
  threads?: number;
  /** Redis server time (ms) after which the entry is stale */
  until: number;
}

async function serverMs(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** (re)announces `id` in `key` for ANNOUNCE_TTL_MS of Redis server time (clocks of machines differ) */
export async function announce(redis: Redis, key: string, id: string, a: Omit<Announcement, 'until'>): Promise<void> {
  await redis.hset(key, id, JSON.stringify({ ...a, until: (await serverMs(redis)) + ANNOUNCE_TTL_MS }));
}

/** the live entries of a registry; stale and unreadable ones are removed */
export async function liveAnnouncements(redis: Redis, key: string): Promise<Map<string, Announcement>> {
  const [now, all] = await Promise.all([serverMs(redis), redis.hgetall(key)]);
  const out = new Map<string, Announcement>();
  const stale: string[] = [];
  for (const [id, v] of Object.entries(all).slice(0, MAX_ANNOUNCEMENTS)) {
    let a: Partial<Announcement> | undefined;
    try {
      a = v.length < 2000 ? (JSON.parse(v) as Partial<Announcement>) : undefined;
    } catch {
      a = undefined;
    }
    if (!a || typeof a.until !== 'number' || typeof a.engine !== 'string' || typeof a.rbflex !== 'string' || a.until < now) {
      stale.push(id);
      continue;
    }
    out.set(id.slice(0, 200), {
      rbflex: a.rbflex.slice(0, 64),
      engine: a.engine.slice(0, 64),
      until: a.until,
      ...(typeof a.concurrency === 'number' && Number.isInteger(a.concurrency) && a.concurrency > 0 ? { concurrency: Math.min(a.concurrency, 1024) } : {}),
      ...(typeof a.threads === 'number' && Number.isInteger(a.threads) && a.threads > 0 ? { threads: Math.min(a.threads, 1024) } : {}),
    });
  }
  if (stale.length) await redis.hdel(key, ...stale);
  return out;
}

/** images live this long in Redis after the last coordinator stored them */
const IMAGE_TTL_S = 7 * 24 * 3600;
const MAX_IMAGE_BYTES = 512 * 1024 * 1024;
const MAX_LABELS_CHARS = 16 * 1024 * 1024;

export function rbflexVersion(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

function imagesRedisKey(key: string): string {
  return `rbflex:images:${key}`;
}

/** the content hash of a batch, its labels included when it has any */
export function storedKey(images: LabelledBatch): string {
  const k = imagesKey(images);
  if (!images.labels) return k;
  return createHash('sha256').update(`${k}:${JSON.stringify(images.labels.map((l) => l ?? null))}`).digest('hex').slice(0, 16);
}

/** Stores the batch (and its labels) once under its content hash; returns the hash. */
export async function storeImages(redis: Redis, images: LabelledBatch): Promise<string> {
  const key = storedKey(images);
  const k = imagesRedisKey(key);
  const data = Buffer.from(images.data.buffer, images.data.byteOffset, images.data.byteLength);
  const m = redis.multi().hset(k, 'shape', `${images.n},${images.c},${images.h},${images.w}`, 'data', data);
  if (images.labels) m.hset(k, 'labels', JSON.stringify(images.labels.map((l) => l ?? null)));
  await m.expire(k, IMAGE_TTL_S).exec();
  return key;
}

/** The batch stored under `key`, checked against its hash. */
export async function loadStoredImages(redis: Redis, key: string): Promise<LabelledBatch> {
  const k = imagesRedisKey(key);
  const [shape, data, labelsText] = await Promise.all([redis.hget(k, 'shape'), redis.hgetBuffer(k, 'data'), redis.hget(k, 'labels')]);
  if (!shape || !data) throw new JobError(`the job's images ${key} are not in Redis (expired or deleted); rerun the coordinator`);
  const dims = shape.split(',').map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new JobError(`images ${key}: bad shape "${shape.slice(0, 40)}"`);
  const [n, c, h, w] = dims as [number, number, number, number];
  if (data.length > MAX_IMAGE_BYTES || data.length !== n * c * h * w * 4) throw new JobError(`images ${key}: ${data.length} bytes do not hold ${shape} float32 values`);
  const copy = new Float32Array(n * c * h * w);
  new Uint8Array(copy.buffer).set(data);
  const batch: LabelledBatch = { n, c, h, w, data: copy, id: `redis:${key}` };
  if (labelsText !== null) {
    let labels: unknown;
    try {
      labels = labelsText.length <= MAX_LABELS_CHARS ? JSON.parse(labelsText) : undefined;
    } catch {
      labels = undefined;
    }
    if (!Array.isArray(labels) || labels.length !== n || labels.some((l) => l !== null && !(Number.isInteger(l) && l >= 0))) throw new JobError(`images ${key}: the labels are not ${n} class numbers`);
    batch.labels = labels.map((l: number | null) => l ?? undefined);
  }
  if (storedKey(batch) !== key) throw new JobError(`images ${key}: the bytes in Redis do not match their hash`);
  return batch;
}
