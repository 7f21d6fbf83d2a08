/**
 * Fetching the official CIFAR archives into a cache directory: download (with progress), verify
 * the MD5 the dataset authors publish, unpack (our own tar reader + node:zlib), and remember.
 *
 * Cache layout: `<cacheDir>/cifar-10-binary.tar.gz` and `<cacheDir>/cifar-10-batches-bin/` (same for
 * CIFAR-100). The archive is written as `<name>.part-<pid>` and renamed only after its checksum matched;
 * a failed or mismatching download leaves nothing behind. Unpacking goes to a temporary folder that
 * is renamed into place when complete.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataError, fsProblem } from '../util/errors.js';
import { extractTarGz } from '../util/tar.js';

export interface DownloadProgress {
  phase: 'download' | 'verify' | 'extract';
  /** bytes done */
  done: number;
  /** bytes in all, when known */
  total?: number;
  /** what is being fetched or unpacked */
  file: string;
}

export type ProgressFn = (p: DownloadProgress) => void;

export interface ArchiveSpec {
  url: string;
  md5: string;
  /** archive file name in the cache */
  file: string;
  /** the folder the archive unpacks to */
  dir: string;
}

/** The official binary archives (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR_ARCHIVES: Record<'cifar10' | 'cifar100', ArchiveSpec> = {
  cifar10: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    file: 'cifar-10-binary.tar.gz',
    dir: 'cifar-10-batches-bin',
  },
  cifar100: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
    file: 'cifar-100-binary.tar.gz',
    dir: 'cifar-100-binary',
  },
};

/** `$RBFLEX_CACHE`, else `$XDG_CACHE_HOME/rbflex`, else `~/.cache/rbflex`. */
export function defaultCacheDir(): string {
  if (process.env.RBFLEX_CACHE) return process.env.RBFLEX_CACHE;
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'rbflex');
  return join(homedir(), '.cache', 'rbflex');
}

export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

export interface DownloadOptions {
  /** expected MD5 (hex); the file is removed and a DataError thrown when it differs */
  md5?: string;
  onProgress?: ProgressFn;
  /** refuse a download larger than this (default 4 GiB) */
  maxBytes?: number;
}

/**
 * Download `url` to `dest`. Writes `dest.part-<pid>`, checks the size and checksum, then renames.
 * Any failure removes the partial file and throws a DataError naming the URL.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  // per-process name, so two runs filling the same cache cannot write into one file
  const part = `${dest}.part-${process.pid}`;
  const maxBytes = opts.maxBytes ?? 4 * 1024 ** 3;
  const name = url;
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow' });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new DataError(name, `download failed: ${cause?.code ?? cause?.message ?? (e as Error).message} (no network? download the archive yourself and pass its path)`);
    }
    if (!res.ok || !res.body) throw new DataError(name, `download failed: HTTP ${res.status} ${res.statusText}`);
    const lenHeader = res.headers.get('content-length');
    const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : undefined;
    if (total !== undefined && total > maxBytes) throw new DataError(name, `server announces ${total} bytes, more than the ${maxBytes} allowed`);
    const hash = createHash('md5');
    let done = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      done += chunk.length;
      if (done > maxBytes) body.destroy(new DataError(name, `download exceeds ${maxBytes} bytes; stopped`));
      hash.update(chunk);
      opts.onProgress?.({ phase: 'download', done, ...(total !== undefined ? { total } : {}), file: url });
    });
    try {
      await pipeline(body, createWriteStream(part));
    } catch (e) {
      if (e instanceof DataError) throw e;
      throw new DataError(name, `download interrupted: ${(e as Error).message}`, { cause: e });
    }
    if (total !== undefined && done !== total) throw new DataError(name, `download truncated: got ${done} of ${total} bytes`);
    const md5 = hash.digest('hex');
    opts.onProgress?.({ phase: 'verify', done, ...(total !== undefined ? { total } : {}), file: url });
    if (opts.md5 && md5 !== opts.md5.toLowerCase()) {
      throw new DataError(name, `checksum mismatch: MD5 ${md5}, expected ${opts.md5} (corrupted download; removed)`);
    }
    await rename(part, dest);
  } finally {
    await rm(part, { force: true });
  }
}

export interface EnsureOptions {
  cacheDir?: string;
  onProgress?: ProgressFn;
  /** false: never download, fail if not cached */
  download?: boolean;
  /** replace the official URL / checksum (mirrors, tests) */
  url?: string;
  md5?: string;
}

/**
 * The unpacked official folder of CIFAR-10 / CIFAR-100 in the cache, downloading and unpacking the
 * archive first if needed. Returns the folder (e.g. `~/.cache/rbflex/cifar-10-batches-bin`).
 */
export async function ensureCifar(which: 'cifar10' | 'cifar100', opts: EnsureOptions = {}): Promise<string> {
  const spec = CIFAR_ARCHIVES[which];
  const cache = opts.cacheDir ?? defaultCacheDir();
  const dir = join(cache, spec.dir);
  if (existsSync(dir)) return dir;
  const archive = join(cache, spec.file);
  const md5 = opts.md5 ?? spec.md5;
  await mkdir(cache, { recursive: true });
  if (existsSync(archive)) {
    // an archive left from an earlier run: trust it only if the checksum still matches
    if ((await md5File(archive)) !== md5) await rm(archive, { force: true });
  }
  if (!existsSync(archive)) {
    if (opts.download === false) throw new DataError(which, `not in the cache (${dir}) and downloading is off`);
    await downloadFile(opts.url ?? spec.url, archive, { md5, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  }
  await unpackInto(archive, dir, { subdir: spec.dir, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  return dir;
}

/**
 * Unpack a .tar.gz into a temporary folder beside `dest`, then move it (or its `subdir`) to `dest`
 * unless another run got there first. The temporary folder is removed whatever happens.
 */
export async function unpackInto(archive: string, dest: string, o: { subdir?: string; onProgress?: ProgressFn } = {}): Promise<void> {
  const tmp = `${dest}.unpack-${process.pid}-${Date.now()}`;
  try {
    const size = (await stat(archive)).size;
    await extractTarGz(archive, tmp, {
      archiveSize: size,
      onProgress: (done, total) => o.onProgress?.({ phase: 'extract', done, ...(total !== undefined ? { total } : {}), file: archive }),
    });
    const unpacked = o.subdir ? join(tmp, o.subdir) : tmp;
    if (!existsSync(unpacked)) throw new DataError(archive, `wrong format: the archive holds no ${o.subdir}/ folder`);
    if (!existsSync(dest)) await rename(unpacked, dest);
  } catch (e) {
    throw fsProblem(archive, e);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
