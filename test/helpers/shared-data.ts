/**
 * Where tests find data that is not part of the package.
 *
 * - `sharedDataPath(rel, t)`: a file or folder under the shared data folder that sits beside the
 *   package (`<package root>/../shared/data`, or `$RBFLEX_SHARED_DATA`). When it is absent the test
 *   is skipped with a message; when the environment variable `CI` is set it fails instead, so CI
 *   never passes by skipping.
 * - `fixturePath(rel)`: the committed miniature fixtures in `test/fixtures/` (written by
 *   tools/make-fixtures.py).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The package root: the nearest folder above this file with rbflex's package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'rbflex') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('package root (rbflex package.json) not found above the test files');
    dir = up;
  }
}

export function sharedDataRoot(): string {
  return process.env.RBFLEX_SHARED_DATA ? resolve(process.env.RBFLEX_SHARED_DATA) : resolve(packageRoot(), '..', 'shared', 'data');
}

/** the shared data folder (may not exist) */
export const SHARED_DATA = sharedDataRoot();

/**
 * The absolute path of `rel` under the shared data folder, or undefined after skipping the test
 * (`t.skip`) when it is missing. With `CI` set a missing path fails the test instead.
 */
export function sharedDataPath(rel: string, t: TestContext): string | undefined {
  const p = join(sharedDataRoot(), rel);
  if (existsSync(p)) return p;
  const msg = `shared data not found: ${p}`;
  if (process.env.CI) assert.fail(`${msg} (CI is set, so shared data is required)`);
  t.skip(`${msg}; skipping (clone beside ../shared to run it)`);
  return undefined;
}

/** A committed fixture under test/fixtures/. */
export function fixturePath(rel = ''): string {
  return join(packageRoot(), 'test', 'fixtures', rel);
}

/** expected values written by tools/make-fixtures.py */
export function fixtureExpected<T = Record<string, unknown>>(): T {
  return JSON.parse(readFileSync(fixturePath('expected.json'), 'utf8')) as T;
}
