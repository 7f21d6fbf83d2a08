/**
 * Gradient proxies that cannot run on a network or a data source: one line on stderr that says what
 * and where, exit 2 (CLI).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sharedDataPath } from './helpers/shared-data.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const EMPTY = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--no-cache'], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function refused(r: ReturnType<typeof cli>, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  // notes about the inputs (e.g. images resized) may come first; the refusal is one line
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('note: '));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^rbflex: error: /);
  assert.match(lines[0]!, re);
}

test('cross-entropy proxies on a network without class logits (TransNAS autoencoder): one line, exit 2', () => {
  for (const p of ['snip', 'grasp', 'fisher', 'grad_norm']) {
    refused(cli('score', '--space', 'transnas-micro', '--arch', '64-41414-1_02_333', '--resolution', '32', '--proxy', p), new RegExp(`${p}.*ends in a \\[.*\\] feature map, not class logits; cross-entropy proxies need a classifier`));
  }
});

test('gradient proxies on a network with ops rbflex cannot differentiate (BERT): one line, exit 2', () => {
  refused(cli('score', '--space', 'nafbee-bert', '--arch', 'relu', '--proxy', 'synflow'), /synflow: .*no backward rule for embedding .*the forward proxies, e.g. rbflex or naswot, can score it/);
});

test('a data source with fewer images than a proxy batch (32): one line, exit 2', (t) => {
  const src = sharedDataPath('images/imagenet16-sample', t);
  if (!src) return;
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-few-'));
  try {
    for (const f of readdirSync(src).filter((f) => f.endsWith('.png')).slice(0, 4)) copyFileSync(join(src, f), join(dir, f));
    refused(cli('score', '--arch', EMPTY, '--proxy', 'snip', '--data', dir), /holds 4 images, fewer than the 32 asked for/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
