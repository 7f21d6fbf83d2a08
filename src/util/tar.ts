/**
 * A small streaming reader for .tar.gz archives (ustar, GNU and pax headers), enough to unpack
 * the official CIFAR archives. Regular files and directories are written under `dest`; links and
 * special files are skipped, absolute paths and `..` are refused, and the total size is bounded.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
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

const BLOCK = 512;

function cstr(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(end < 0 ? b : b.subarray(0, end)).toString('utf8');
}

function octal(b: Uint8Array, file: string): number {
  if (b[0]! & 0x80) {
    // GNU base-256 for large sizes
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    if (b[0]! & 0x40) throw new DataError(file, 'corrupted tar header: negative size');
    return v + (b[0]! & 0x3f) * 256 ** (b.length - 1);
  }
  const s = cstr(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new DataError(file, `corrupted tar header: bad octal field "${s}"`);
  return parseInt(s, 8);
}

/** pax extended header records "len key=value\n" */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(data.subarray(pos, sp).toString('ascii'), 10);
    if (!(len > 0) || pos + len > data.length) break;
    const rec = data.subarray(sp + 1, pos + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    pos += len;
  }
  return out;
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
  const gunzip = createGunzip();
  let consumed = 0;
  input.on('data', (c) => {
    consumed += c.length;
    opts.onProgress?.(consumed, opts.archiveSize);
  });
  input.on('error', (e) => gunzip.destroy(e));
  input.pipe(gunzip);

  const written: string[] = [];
  let pending: Buffer = Buffer.alloc(0);
  type State = 'header' | 'data' | 'pad' | 'end';
  let state = 'header' as State;
  // startEntry() changes `state`; read it through here so TypeScript does not narrow it away
  const now = (): State => state;
  let remaining = 0;
  let padding = 0;
  let total = 0;
  let entries = 0;
  let fh: FileHandle | undefined;
  let meta: Buffer[] | undefined; // collecting a pax / GNU long-name body
  let metaKind = '';
  let nextName: string | undefined;
  let nextSize: number | undefined;

  const startEntry = async (header: Buffer): Promise<void> => {
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    const stored = octal(header.subarray(148, 156), archive);
    if (sum !== stored) throw new DataError(archive, `corrupted tar header (checksum ${stored}, computed ${sum})`);
    if (++entries > maxEntries) throw new DataError(archive, `more than ${maxEntries} entries; refusing`);
    const type = String.fromCharCode(header[156]!);
    let size = octal(header.subarray(124, 136), archive);
    let name = cstr(header.subarray(0, 100));
    if (header.subarray(257, 262).toString('ascii') === 'ustar') {
      const prefix = cstr(header.subarray(345, 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    if (nextName !== undefined && type !== 'x' && type !== 'L') {
      name = nextName;
      nextName = undefined;
    }
    if (nextSize !== undefined && type !== 'x' && type !== 'L') {
      size = nextSize;
      nextSize = undefined;
    }
    if (size > maxBytes) throw new DataError(archive, `entry ${name} claims ${size} bytes; refusing`);
    remaining = size;
    padding = (BLOCK - (size % BLOCK)) % BLOCK;
    state = 'data';
    if (type === 'x' || type === 'L' || type === 'g') {
      if (size > 1024 * 1024) throw new DataError(archive, `tar ${type} header of ${size} bytes; refusing`);
      meta = [];
      metaKind = type;
      return;
    }
    const rel = normalize(name).replace(/[/\\]+$/, '');
    if (rel === '' || rel === '.') return;
    if (isAbsolute(name) || rel.split(/[/\\]/).includes('..')) throw new DataError(archive, `unsafe path in archive: ${name}`);
    const target = join(dest, rel);
    if (!target.startsWith(dest.endsWith(sep) ? dest : dest + sep)) throw new DataError(archive, `unsafe path in archive: ${name}`);
    if (type === '5') {
      await mkdir(target, { recursive: true });
    } else if (type === '0' || type === '\0' || type === '7') {
      total += size;
      if (total > maxBytes) throw new DataError(archive, `unpacks to more than ${maxBytes} bytes; refusing`);
      await mkdir(dirname(target), { recursive: true });
      fh = await open(target, 'w');
      written.push(rel);
    }
    // links, devices, fifos: skipped (their data, if any, is consumed)
  };

  const endEntry = async (): Promise<void> => {
    if (fh) {
      await fh.close();
      fh = undefined;
    }
    if (meta) {
      const body = Buffer.concat(meta);
      if (metaKind === 'x') {
        const pax = parsePax(body);
        if (pax.path !== undefined) nextName = pax.path;
        if (pax.size !== undefined) {
          if (!/^\d+$/.test(pax.size) || Number(pax.size) > maxBytes) throw new DataError(archive, `corrupted pax header: size "${pax.size}"`);
          nextSize = Number(pax.size);
        }
      } else if (metaKind === 'L') nextName = cstr(body);
      meta = undefined;
    }
  };

  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      while (now() !== 'end') {
        if (now() === 'header') {
          if (pending.length - pos < BLOCK) break;
          const header = pending.subarray(pos, pos + BLOCK);
          pos += BLOCK;
          if (header.every((b) => b === 0)) {
            state = 'end';
            break;
          }
          await startEntry(header);
          if (remaining === 0) {
            await endEntry();
            state = padding ? 'pad' : 'header';
          }
        } else if (now() === 'data') {
          const take = Math.min(remaining, pending.length - pos);
          if (take === 0) break;
          const part = pending.subarray(pos, pos + take);
          if (fh) await fh.write(part);
          else if (meta) meta.push(Buffer.from(part));
          pos += take;
          remaining -= take;
          if (remaining === 0) {
            await endEntry();
            state = padding ? 'pad' : 'header';
          }
        } else {
          const take = Math.min(padding, pending.length - pos);
          if (take === 0) break;
          pos += take;
          padding -= take;
          if (padding === 0) state = 'header';
        }
      }
      pending = pending.subarray(pos);
      if (now() === 'end') break;
    }
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    if (e instanceof DataError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || /incorrect header check|unexpected end|invalid/i.test(msg)) {
      throw new DataError(archive, `corrupted or truncated gzip data (${msg})`, { cause: e });
    }
    if (code === 'ENOENT') throw new DataError(archive, 'no such file or directory', { cause: e });
    throw new DataError(archive, `cannot unpack (${msg})`, { cause: e });
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (fh) await fh.close();
  if (now() === 'data' || now() === 'pad' || (now() === 'header' && pending.length > 0)) {
    throw new DataError(archive, 'truncated tar archive (ends inside an entry)');
  }
  if (now() !== 'end' && entries === 0) throw new DataError(archive, 'wrong format: not a tar archive (no entries)');
  return written;
}
