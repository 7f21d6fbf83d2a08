/**
 * Unpacks .tar.gz archives (the official CIFAR archives) with `tar-stream`, under our own limits:
 * regular files and directories are written under `dest`; links and special files are skipped;
 * absolute paths and `..` are refused; entry counts and total size are bounded.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { DataError } from './errors.js';

export interface ExtractOptions {
  /** refuse archives that unpack to more than this many bytes (default 2 GiB) */
  maxBytes?: number;
  /** refuse archives with more entries than this (default 100,000) */
  maxEntries?: number;
  /** called as bytes of the compressed archive are consumed */
  onProgress?: (done: number, total: number | undefined) => void;
  /** size of the compressed archive, for progress */
  archiveSize?: number;
}

/**
 * Unpack `archive` (.tar.gz) into `dest` (created if needed). Returns the relative paths of the
 * files written. Throws DataError for a corrupted, truncated or unsafe archive.
 */
export async function extractTarGz(archive: string, dest: string, opts: ExtractOptions = {}): Promise<string[]> {
  const maxBytes = opts.maxBytes ?? 2 * 1024 ** 3;
  const maxEntries = opts.maxEntries ?? 100_000;
  await mkdir(dest, { recursive: true });
  const input = createReadStream(archive);
  let consumed = 0;
  input.on('data', (c) => {
    consumed += c.length;
    opts.onProgress?.(consumed, opts.archiveSize);
  });
  const extract = tarStream.extract();
  const feed = pipeline(input, createGunzip(), extract);
  // a failure upstream (truncated data) can leave the entry being written without an end: race it
  const failed = new Promise<never>((_, reject) => feed.catch(reject));
  failed.catch(() => undefined);
  const written: string[] = [];
  let total = 0;
  let entries = 0;
  try {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      const size = entry.header.size ?? 0;
      if (++entries > maxEntries) throw new DataError(archive, `more than ${maxEntries} entries; refusing`);
      if (!Number.isSafeInteger(size) || size < 0 || size > maxBytes) throw new DataError(archive, `entry ${name} claims ${size} bytes; refusing`);
      const rel = normalize(name).replace(/[/\\]+$/, '');
      if (isAbsolute(name) || rel.split(/[/\\]/).includes('..')) throw new DataError(archive, `unsafe path in archive: ${name}`);
      const target = join(dest, rel);
      if (rel !== '' && rel !== '.' && !target.startsWith(dest.endsWith(sep) ? dest : dest + sep)) throw new DataError(archive, `unsafe path in archive: ${name}`);
      if (rel === '' || rel === '.') {
        entry.resume();
      } else if (type === 'directory') {
        await mkdir(target, { recursive: true });
        entry.resume();
      } else if (type === 'file' || type === 'contiguous-file') {
        total += size;
        if (total > maxBytes) throw new DataError(archive, `unpacks to more than ${maxBytes} bytes; refusing`);
        await mkdir(dirname(target), { recursive: true });
        const out = createWriteStream(target);
        try {
          await Promise.race([pipeline(entry, out), failed]);
        } finally {
          out.destroy();
        }
        written.push(rel);
      } else {
        entry.resume(); // links, devices, fifos: skipped
      }
    }
    await feed;
  } catch (e) {
    throw asDataError(archive, e);
  } finally {
    input.destroy();
  }
  if (entries === 0) throw new DataError(archive, 'wrong format: not a tar archive (no entries)');
  return written;
}

function asDataError(archive: string, e: unknown): DataError {
  if (e instanceof DataError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_') || /incorrect header check|unexpected end of file/i.test(msg)) {
    return new DataError(archive, `corrupted or truncated gzip data (${msg})`, { cause: e });
  }
  if (code === 'ENOENT') return new DataError(archive, 'no such file or directory', { cause: e });
  if (/Unexpected end of data/.test(msg)) return new DataError(archive, 'truncated tar archive (ends inside an entry)', { cause: e });
  if (/Invalid tar header|Invalid header|unknown format|exceeds max size/i.test(msg)) return new DataError(archive, `corrupted tar header (${msg})`, { cause: e });
  return new DataError(archive, `cannot unpack (${msg})`, { cause: e });
}
