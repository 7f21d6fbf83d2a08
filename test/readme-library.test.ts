/** The README's "Library" example, run as written (imports 'rbflex' through the package's own exports). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { countParams } from '../src/ir/analysis.js';
import { getSpace } from '../src/spaces/index.js';
import { packageRoot, sharedDataPath } from './helpers/shared-data.js';

test('the README Library example runs and prints real scores and correlations', { timeout: 120_000 }, async (t) => {
  const csv = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  if (!csv) return;
  const readme = readFileSync(join(packageRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, 'no js block in the README Library section');
  // inside the package, so that `import 'rbflex'` resolves to this build through package.json "exports"
  const file = join(packageRoot(), 'dist', `readme-example-${process.pid}.mjs`);
  const out = mkdtempSync(join(tmpdir(), 'rbflex-readme-'));
  writeFileSync(file, code);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { env: { ...process.env, NB201_CSV: csv, OUT: out }, cwd: out });
    const lines = stdout.trim().split('\n');
    const nb201 = getSpace('nb201');
    const scored = lines.filter((l) => l.includes(' rbflex '));
    assert.equal(scored.length, 3, stdout);
    for (const l of scored) {
      const m = /^(\S+) rbflex (\S+) params (\d+)$/.exec(l);
      assert.ok(m, l);
      assert.ok(Number.isFinite(Number(m[2])) && Number(m[2]) < 0, `rbflex score ${m[2]}`);
      assert.equal(Number(m[3]), countParams(nb201.build(m[1]!, { dataset: 'cifar10' })));
    }
    const tau = Object.fromEntries(lines.filter((l) => l.includes(' kendall ')).map((l) => [l.split(' ')[0], Number(l.split(' ')[2])]));
    assert.deepEqual(Object.keys(tau).sort(), ['naswot', 'params']);
    assert.ok(tau.params! > 0.3 && tau.params! <= 1, `params tau ${tau.params}`);
    for (const f of ['scores.csv', 'summary.json', 'report.md', 'naswot.svg', 'params.svg']) assert.ok(existsSync(join(out, f)), f);
    const csvRows = readFileSync(join(out, 'scores.csv'), 'utf8').trim().split('\n');
    assert.equal(csvRows.length, 41);
  } finally {
    rmSync(file, { force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
