/**
 * Issue 15 item 21: a program that uses the library and forgets `session.close()` still ends by
 * itself. A child process imports the built package, scores networks on two worker threads (and on
 * the shared-skeleton path, which holds its own onnxruntime sessions), prints the scores and
 * returns from its module without closing anything. It must exit 0 within the time limit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { packageRoot } from './helpers/shared-data.js';

const INDEX = pathToFileURL(join(packageRoot(), 'dist', 'src', 'index.js')).href;

const CHILD = `
import { ScoringSession, getSpace, loadImages } from ${JSON.stringify(INDEX)};
const images = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 1 });
const nb201 = getSpace('nb201');
const archs = [5374, 8201, 11111].map((i) => nb201.archAt(i));
for (const [reduce, cache] of [['host', true], ['graph', false]]) {
  const s = new ScoringSession({ space: 'nb201', images, proxies: ['rbflex', 'naswot'], workers: 2, reduce, ...(cache ? { cachePath: process.env.CACHE_FILE } : {}) });
  const scores = await s.score(archs);
  for (const [a, r] of scores) console.log(reduce, a, r.scores.rbflex, r.scores.naswot);
  // no s.close()
}
console.log('module done');
`;

test('a forgotten close() never keeps the process alive', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-noclose-'));
  try {
    const file = join(dir, 'child.mjs');
    writeFileSync(file, CHILD);
    const child = spawn(process.execPath, [file], { env: { ...process.env, CACHE_FILE: join(dir, 'scores.sqlite') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const limitMs = 90_000;
    const t0 = Date.now();
    let doneAt = 0;
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('hung');
      }, limitMs);
      child.stdout.on('data', () => {
        if (!doneAt && stdout.includes('module done')) doneAt = Date.now();
      });
      child.on('exit', (c, sig) => {
        clearTimeout(timer);
        resolve(c ?? String(sig));
      });
    });
    assert.notEqual(code, 'hung', `the child did not exit within ${limitMs / 1000} s after scoring (stdout: ${stdout}; stderr: ${stderr})`);
    assert.equal(code, 0, stderr);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 7, stdout);
    assert.equal(lines[6], 'module done');
    for (const l of lines.slice(0, 6)) assert.match(l, /^(host|graph) \|\S+\| -?\d+\.\d+ \d+\.\d+$/);
    // it ended right after its module did: nothing waited for a worker or a timer
    assert.ok(Date.now() - doneAt < 10_000, `exited ${(Date.now() - doneAt) / 1000} s after its last line`);
    assert.ok(Date.now() - t0 < limitMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
