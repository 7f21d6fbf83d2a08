/**
 * `--out` is checked before any scoring, so a long run never fails at the end on a bad path: a missing
 * parent folder, a folder where a file is wanted (or the other way round), an existing output without
 * --force, or a place that cannot be written (read-only, procfs) each get one UsageError. Folders are
 * created without `recursive` (Node's recursive mkdir spins forever on /proc).
 */
import { closeSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

function kind(path: string): 'missing' | 'file' | 'dir' | 'other' {
  try {
    const s = statSync(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
  } catch {
    return 'missing';
  }
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'ENOENT':
      return 'the file system does not allow new files there';
    default:
      return code ?? (e instanceof Error ? e.message : String(e));
  }
}

/** Creates and removes a probe file in `dir`: the one test that is true on every file system. */
function probeWritable(flag: string, dir: string): void {
  const probe = join(dir, `.rbflex-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    throw new UsageError(`${flag} ${dir}: cannot write there (${reason(e)}); choose another place`);
  }
  try {
    unlinkSync(probe);
  } catch {
    // written but not removable: a leftover empty probe, harmless
  }
}

function checkParent(flag: string, path: string): void {
  const parent = dirname(resolve(path));
  const k = kind(parent);
  if (k === 'missing') throw new UsageError(`${flag} ${path}: the folder ${parent} does not exist; create it first`);
  if (k !== 'dir') throw new UsageError(`${flag} ${path}: ${parent} is not a folder`);
}

/** A file to write (e.g. a CSV or an ONNX model): its folder exists and is writable; an existing file needs `force`. */
export function checkOutFile(flag: string, path: string, force: boolean): void {
  if (path.endsWith('/')) throw new UsageError(`${flag} ${path}: a file name is needed, not a folder`);
  checkParent(flag, path);
  const k = kind(path);
  if (k === 'dir') throw new UsageError(`${flag} ${path} is a folder; give a file name`);
  if (k === 'other') throw new UsageError(`${flag} ${path} is not a regular file`);
  if (k === 'file' && !force) throw new UsageError(`${flag} ${path} exists; add --force to overwrite it`);
  probeWritable(flag, dirname(resolve(path)));
}

/**
 * A folder of outputs (study): created now if missing; an existing folder that already holds any of
 * `outputs` needs `force`. Returns the absolute folder.
 */
export function prepareOutDir(flag: string, path: string, outputs: readonly string[], force: boolean): string {
  const dir = resolve(path);
  const k = kind(dir);
  if (k === 'file' || k === 'other') throw new UsageError(`${flag} ${path} is a file; give a folder name (it is created if missing)`);
  if (k === 'missing') {
    checkParent(flag, path);
    try {
      mkdirSync(dir);
    } catch (e) {
      throw new UsageError(`${flag} ${path}: cannot create the folder (${reason(e)}); choose another place`);
    }
  } else if (!force) {
    let present: string[];
    try {
      present = readdirSync(dir);
    } catch (e) {
      throw new UsageError(`${flag} ${path}: cannot read the folder (${reason(e)})`);
    }
    const clash = outputs.filter((f) => present.includes(f));
    if (clash.length > 0) {
      throw new UsageError(`${flag} ${path} already holds a report (${clash.slice(0, 3).join(', ')}${clash.length > 3 ? ', ...' : ''}); add --force to overwrite it, or name a new folder`);
    }
  }
  probeWritable(flag, dir);
  return dir;
}
