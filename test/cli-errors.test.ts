import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, RBFLEX_CACHE: '/nonexistent-never-used' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CASES: [string, string[], RegExp][] = [
  ['unknown flag', ['score', '--arch', ARCH, '--bogus'], /unknown option '--bogus'/],
  ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
  ['unknown space', ['info', '--space', 'nb999', '--arch', ARCH], /unknown space "nb999"; choose one of nb201, sss/],
  ['bad arch', ['info', '--arch', '|nor_conv_3x3~0|+|x~0|none~1|+|none~0|none~1|none~2|'], /unknown op "x"/],
  ['bad number', ['score', '--arch', ARCH, '--batch', 'three'], /--batch must be a whole number, got "three"/],
  ['batch too small', ['score', '--arch', ARCH, '--batch', '1'], /--batch must be between 2 and 256/],
  ['unknown proxy', ['score', '--arch', ARCH, '--proxy', 'rbflex,synflowz'], /unknown proxy "synflowz"/],
  ['missing data file', ['score', '--arch', ARCH, '--data', '/no/such/file.png'], /\/no\/such\/file\.png/],
  ['missing benchmark', ['search', '--samples', '5', '--trials', '1', '--benchmark', '/no/such/bench.csv'], /\/no\/such\/bench\.csv/],
  ['study without benchmark', ['study', '--samples', '5'], /study needs --benchmark/],
  ['one gamma only', ['score', '--arch', ARCH, '--gamma-k', '1e-12'], /give both --gamma-k and --gamma-q/],
  ['bad gamma', ['score', '--arch', ARCH, '--gamma-k', '-1', '--gamma-q', '1'], /--gamma-k must be a positive number/],
  ['bad dataset', ['info', '--arch', ARCH, '--dataset', 'mnist'], /--dataset mnist is not a dataset of nb201/],
  ['bad choice', ['score', '--arch', ARCH, '--backend', 'cuda'], /argument 'cuda' is invalid/],
];

for (const [name, args, re] of CASES) {
  test(`CLI error: ${name} -> one line, exit 2, no stack`, () => {
    const r = cli(...args);
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
    assert.match(lines[0]!, /^rbflex: error: /);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('CLI error: a score cache that is not a SQLite file -> one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-badcache-'));
  try {
    writeFileSync(join(dir, 'scores.sqlite'), 'this is not a database, it is a text file that is long enough to be read as one');
    const r = cli('score', '--arch', ARCH, '--cache-dir', dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^rbflex: error: .*scores\.sqlite: cannot use the score cache .*--no-cache/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--debug adds the stack trace', () => {
  const r = cli('info', '--space', 'nb999', '--arch', ARCH, '--debug');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\n\s+at /);
});

test('--help exits 0 and teaches', () => {
  const r = cli('score', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--data <src>/);
  assert.match(r.stdout, /score = N \(log\|det K\| \+ log\|det Q\|\)/);
});
