import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ARGS = ['search', '--space', 'nb201', '--samples', '70', '--trials', '2', '--data', 'synthetic', '--seed', 'resume', '--workers', '2', '--proxy', 'rbflex,naswot', '--json'];

function run(cacheDir: string, onStart?: (p: ChildProcess) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...ARGS, '--cache-dir', cacheDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(p);
  });
}

function rows(db: string): number {
  if (!existsSync(db)) return 0;
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    d.pragma('busy_timeout = 2000');
    return (d.prepare("SELECT COUNT(*) AS n FROM scores WHERE proxy LIKE 'rbflex%'").get() as { n: number }).n;
  } catch {
    return 0; // table not created yet
  } finally {
    d.close();
  }
}

test('a search killed with SIGKILL resumes from the cache and ends with the same result', { timeout: 120_000 }, async () => {
  const base = mkdtempSync(join(tmpdir(), 'rbflex-resume-'));
  try {
    const straight = await run(join(base, 'a'));
    assert.equal(straight.code, 0, straight.stderr);
    const full = JSON.parse(straight.stdout);
    const total = full.uniqueArchs as number;
    assert.equal(full.networks.cached, 0);
    assert.equal(full.networks.scored, total);

    const dir = join(base, 'b');
    const db = join(dir, 'scores.sqlite');
    let before = 0;
    const killed = await run(dir, (p) => {
      const poll = setInterval(() => {
        const n = rows(db);
        if (n >= 20) {
          before = n;
          p.kill('SIGKILL');
          clearInterval(poll);
        }
      }, 25);
      p.on('close', () => clearInterval(poll));
    });
    assert.equal(killed.signal, 'SIGKILL', `the run finished before it could be killed: ${killed.stderr}`);
    const after = rows(db);
    assert.ok(after >= before, `committed scores were lost: ${before} before the kill, ${after} after`);
    assert.ok(after < total, 'nothing left to resume');

    const resumed = await run(dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    const res = JSON.parse(resumed.stdout);
    // everything committed before the kill came from the cache; only the rest was scored again
    assert.equal(res.networks.cached, after);
    assert.equal(res.networks.scored, total - after);
    // identical picks and scores, bit for bit
    assert.deepEqual(res.picks, full.picks);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
