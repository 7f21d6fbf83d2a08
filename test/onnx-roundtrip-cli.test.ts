import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('rbflex export -> rbflex score --onnx gives the native score (CLI, 3 archs, rbflex and naswot)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-onnx-'));
  try {
    for (const arch of [
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
      '|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|',
      '|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|',
    ]) {
      const file = join(dir, 'model.onnx');
      cli('export', '--space', 'nb201', '--arch', arch, '--seed', '7', '--out', file, '--force');
      const common = ['--data', 'synthetic', '--seed', '7', '--proxy', 'rbflex,naswot', '--json'];
      const native = JSON.parse(cli('score', '--space', 'nb201', '--arch', arch, '--no-cache', ...common)).scores;
      const viaOnnx = JSON.parse(cli('score', '--onnx', file, ...common)).scores;
      assert.ok(Math.abs(native.rbflex - viaOnnx.rbflex) <= 1e-3, `${arch}: rbflex ${native.rbflex} vs ${viaOnnx.rbflex}`);
      assert.ok(Math.abs(native.naswot - viaOnnx.naswot) <= 1e-3, `${arch}: naswot ${native.naswot} vs ${viaOnnx.naswot}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
