/**
 * Locates ../shared/data beside the package (a developer's or CI's checkout). When it is
 * absent the calling test is skipped with a message; when CI is set, absence is a failure.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** package root: dist/test/helpers -> ../../.. ; test/helpers -> ../.. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('package.json not found above the test helpers');
}

export const SHARED_DATA = resolve(packageRoot(), '..', 'shared', 'data');

/** Absolute path of a file in ../shared/data, or undefined after skipping the test (fails under CI). */
export function sharedDataPath(rel: string, t: TestContext): string | undefined {
  const p = join(SHARED_DATA, rel);
  if (existsSync(p)) return p;
  const msg = `shared data not found: ${p}`;
  if (process.env.CI) throw new Error(`${msg} (CI is set: data-dependent tests must not skip)`);
  t.skip(`${msg}; skipping (clone beside ../shared to run it)`);
  return undefined;
}
