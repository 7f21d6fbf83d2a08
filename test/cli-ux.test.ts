/** The command line's edges: --out checks, repeated options, ignored options, progress without a terminal, interrupts. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatDuration } from '../src/cli/progress.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const WORK = mkdtempSync(join(tmpdir(), 'rbflex-ux-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));
/** A small NAFBee-format benchmark (test input; the accuracies are arbitrary) */
const BENCH = join(WORK, 'NAFBee_VGG19.json');
const ACTS = ['ReLU', 'GELU', 'SiLU', 'LeakyReLU', 'ReLU6', 'Mish'];
writeFileSync(BENCH, JSON.stringify(Object.fromEntries(ACTS.map((a, i) => [String(i + 1), { network: 'VGG19', activation: a, accuracy: 90 - i * 0.25 }]))));
const NAF = ['--space', 'nafbee-vgg19', '--benchmark', BENCH];

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, RBFLEX_CACHE: '/nonexistent-never-used', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(r: { code: number | null; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^rbflex: error: /);
  assert.match(lines[0]!, re);
}

test('ETA and durations never show 60 seconds or minutes', () => {
  assert.equal(formatDuration(119.6), '2m00s');
  assert.equal(formatDuration(59.6), '1m00s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(3599.7), '1h00m');
  assert.equal(formatDuration(3661), '1h01m');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(Number.NaN), '-');
});

test('--out is checked before scoring: missing parent, a file for a folder, procfs, an existing report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-out-'));
  try {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // each of these would take minutes of scoring first if --out were checked at the end
    const study = ['study', ...NAF, '--no-cache'];
    oneLineError(cli([...study, '--out', join(dir, 'no', 'such', 'folder')]), /the folder .*no\/such does not exist; create it first/);
    oneLineError(cli([...study, '--out', file]), /is a file; give a folder name/);
    oneLineError(cli([...study, '--out', '/proc/rbflex-x']), /--out \/proc\/rbflex-x: cannot create the folder/);
    const report = join(dir, 'report');
    mkdirSync(report);
    writeFileSync(join(report, 'report.md'), '# an earlier report\n');
    oneLineError(cli([...study, '--out', report]), /already holds a report \(report\.md\); add --force/);
    const exp = ['export', '--arch', ARCH];
    oneLineError(cli([...exp, '--out', dir]), /is a folder; give a file name/);
    oneLineError(cli([...exp, '--out', file]), /exists; add --force to overwrite it/);
    oneLineError(cli([...exp, '--out', join(dir, 'none', 'x.onnx')]), /does not exist; create it first/);
    oneLineError(cli([...exp, '--out', '/proc/x.onnx']), /--out \/proc: cannot write there/);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'read-only');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      oneLineError(cli([...exp, '--out', join(ro, 'x.onnx')]), /cannot write there \(permission denied\)/);
      chmodSync(ro, 0o755);
    }
    // --force overwrites, and the export still works
    const r = cli([...exp, '--out', file, '--force']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.rbflex-write-test')), [], 'no probe file left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('repeated single-value options and options the input cannot honour are errors', () => {
  oneLineError(cli(['score', '--arch', ARCH, '--seed', '1', '--seed=2']), /--seed is given 2 times \("1", "2"\); it takes one value/);
  oneLineError(cli(['study', ...NAF, '--benchmark', BENCH]), /--benchmark is given 2 times/);
  oneLineError(cli(['study', ...NAF, '--hp', '12']), /--hp applies to NATS-Bench directories only; .*NAFBee_VGG19\.json .*drop it/);
  oneLineError(cli(['study', ...NAF, '--bench-seed', '777', '--hp', '12']), /--hp and --bench-seed apply to NATS-Bench directories only/);
  oneLineError(cli(['score', '--arch', ARCH, '--resolution', '64']), /--resolution applies to spaces with a free input size \(transnas-micro, transnas-macro\); nb201/);
});

test('--samples above what the benchmark holds says so; no terminal: plain progress lines with cache counts', () => {
  const cache = mkdtempSync(join(tmpdir(), 'rbflex-lines-'));
  try {
    const args = ['study', ...NAF, '--samples', '99999', '--proxy', 'params', '--cache-dir', cache, '--workers', '0'];
    const r = cli(args, { RBFLEX_PROGRESS_SECONDS: '0.001' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /note: --samples 99999 is more than the \d+ architectures .* using all of them/);
    assert.match(r.stderr, /studying: 0\/\d+ networks \(0 from the cache\)/);
    assert.match(r.stderr, /studying: (\d+)\/\1 networks \(0 from the cache\), done/);
    const again = cli(args, { RBFLEX_PROGRESS_SECONDS: '0.001' });
    assert.match(again.stderr, /studying: (\d+)\/\1 networks \(\1 from the cache\)/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

function interrupted(signal: 'SIGINT' | 'SIGTERM', cacheDir: string): Promise<{ code: number | null; stderr: string }> {
  const args = ['search', '--samples', '40', '--trials', '1', '--seed', 'interrupt', '--workers', '1', '--cache-dir', cacheDir];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RBFLEX_PROGRESS_SECONDS: '0.001' } });
    let stderr = '';
    let sent = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      // interrupt once a few networks are done
      if (!sent && /searching: [2-9]\/40/.test(stderr)) {
        sent = true;
        p.kill(signal);
      }
    });
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

test('SIGINT and SIGTERM: a clean message with the cached count, exit 130 / 143, and the run resumes', { timeout: 240_000 }, async () => {
  const cache = mkdtempSync(join(tmpdir(), 'rbflex-int-'));
  try {
    const a = await interrupted('SIGINT', cache);
    assert.equal(a.code, 130, a.stderr);
    const m = /rbflex: interrupted: (\d+) networks? cached; run the same command to resume\n$/.exec(a.stderr);
    assert.ok(m, `interrupt message at the end of stderr:\n${a.stderr}`);
    const n = Number(m[1]);
    assert.ok(n >= 2 && n < 40, `cached count ${n}`);
    assert.doesNotMatch(a.stderr, /error|bug|FATAL/i);
    // the same command starts from exactly the networks the message counted
    const b = await interrupted('SIGTERM', cache);
    assert.equal(b.code, 143, b.stderr);
    assert.match(b.stderr, new RegExp(`searching: ${n}/40 networks \\(${n} from the cache\\)`));
    assert.match(b.stderr, /interrupted: \d+ networks cached/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('rank: a whole space, every score, best first, no ground truth; -Infinity last, ties by index', async () => {
  const { rankArchs, rankingCsv } = await import('../src/search/ranking.js');
  const scores = new Map(
    [
      ['a', -Infinity],
      ['b', 2],
      ['c', 5],
      ['d', 2],
      ['e', Number.NaN],
    ].map(([a, v]) => [a as string, { arch: a as string, scores: { rbflex: v as number, params: 1 }, ms: 0 }]),
  );
  const order = ['a', 'b', 'c', 'd', 'e'];
  const rows = rankArchs(order, scores, 'rbflex', (a) => order.indexOf(a));
  assert.deepEqual(rows.map((r) => r.arch), ['c', 'b', 'd', 'a', 'e']);
  assert.equal(rankingCsv(rows, ['rbflex', 'params']).split('\n')[4], '4,0,a,-Infinity,1');

  const out = join(WORK, 'nafbee-ranking.csv');
  const r = cli(['rank', '--space', 'nafbee-vgg19', '--all', '--proxy', 'params,flops', '--out', out, '--no-cache', '--workers', '0', '--top', '2']);
  assert.equal(r.code, 0, r.stderr);
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'rank,index,arch,params,flops');
  assert.equal(lines.length, 12, 'header + the 11 activations of nafbee-vgg19');
  const params = lines.slice(1).map((l) => Number(l.split(',')[3]));
  for (let i = 1; i < params.length; i++) assert.ok(params[i - 1]! >= params[i]!, 'sorted best first');
  assert.match(r.stdout, /^top 2 by params:\n {5}1 {2}params/);
  oneLineError(cli(['rank', '--space', 'nafbee-vgg19', '--all', '--out', out]), /exists; add --force/);
  oneLineError(cli(['rank', '--all', '--samples', '5']), /give --samples or --all, not both/);
});
