import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/**
 * A problem with a data or benchmark file the user gave us: missing, truncated, corrupted or in
 * the wrong format. The message is one line that names the file and the problem,
 * e.g. `nats-tss-200ep-test.csv: line 17: expected 5 columns, found 3`.
 */
export class DataError extends Error {
  /** the file (or directory, or source name) the problem is in */
  readonly file: string;
  /** the problem, without the file name */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'DataError';
    this.file = file;
    this.problem = problem;
  }
}

/** Turn an fs error into a DataError naming the path (ENOENT -> "no such file or directory"). */
export function fsProblem(path: string, err: unknown): DataError {
  if (err instanceof DataError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const what =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory, expected a file'
          : code === 'ENOTDIR'
            ? 'not a directory'
            : `cannot read (${err instanceof Error ? err.message : String(err)})`;
  return new DataError(path, what, { cause: err });
}

/** Read a whole file; fs failures become a DataError naming the path. */
export function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw fsProblem(path, e);
  }
}

/** Read a whole text file (UTF-8); a file that is not valid UTF-8 is reported as such. */
export function readText(path: string): string {
  const b = readBytes(path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new DataError(path, 'wrong format: not a UTF-8 text file');
  }
}

/** The first `n` bytes of a file (fewer if it is shorter); fs failures become a DataError. */
export function readHead(path: string, n: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } catch (e) {
    throw fsProblem(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
