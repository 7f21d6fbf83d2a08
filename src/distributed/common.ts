/** What coordinator and workers share: the queue name, the image store, the package version. */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { ImageBatch } from '../backends/types.js';
import { imagesKey } from '../search/cache-key.js';
import { JobError } from './job.js';

export const QUEUE_NAME = 'rbflex-score';
/** images live this long in Redis after the last coordinator stored them */
const IMAGE_TTL_S = 7 * 24 * 3600;
const MAX_IMAGE_BYTES = 512 * 1024 * 1024;

export function rbflexVersion(): string {
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

function imagesRedisKey(key: string): string {
  return `rbflex:images:${key}`;
}

/** Stores the batch once under its content hash; returns the hash. */
export async function storeImages(redis: Redis, images: ImageBatch): Promise<string> {
  const key = imagesKey(images);
  const k = imagesRedisKey(key);
  const data = Buffer.from(images.data.buffer, images.data.byteOffset, images.data.byteLength);
  await redis.multi().hset(k, 'shape', `${images.n},${images.c},${images.h},${images.w}`, 'data', data).expire(k, IMAGE_TTL_S).exec();
  return key;
}

/** The batch stored under `key`, checked against its hash. */
export async function loadStoredImages(redis: Redis, key: string): Promise<ImageBatch> {
  const k = imagesRedisKey(key);
  const [shape, data] = await Promise.all([redis.hget(k, 'shape'), redis.hgetBuffer(k, 'data')]);
  if (!shape || !data) throw new JobError(`the job's images ${key} are not in Redis (expired or deleted); rerun the coordinator`);
  const dims = shape.split(',').map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d <= 0)) throw new JobError(`images ${key}: bad shape "${shape.slice(0, 40)}"`);
  const [n, c, h, w] = dims as [number, number, number, number];
  if (data.length > MAX_IMAGE_BYTES || data.length !== n * c * h * w * 4) throw new JobError(`images ${key}: ${data.length} bytes do not hold ${shape} float32 values`);
  const copy = new Float32Array(n * c * h * w);
  new Uint8Array(copy.buffer).set(data);
  const batch: ImageBatch = { n, c, h, w, data: copy, id: `redis:${key}` };
  if (imagesKey(batch) !== key) throw new JobError(`images ${key}: the bytes in Redis do not match their hash`);
  return batch;
}
