/**
 * Issue 15 item 21: the `study` and `hda` commands end to end, and an error raised inside a worker
 * thread reaching the command line as one clean line.
 *
 * - study: the files it writes, checked against the truth rows it used (read here from the CSV
 *   independently), a Kendall tau recomputed here from scores.csv, and its scores against `score`.
 * - hda: the gammas it prints against HDA computed here (float64 forward, own moments and minimum),
 *   and its exit codes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReferenceBackend } from '../src/backends/reference.js';
import { countParams } from '../src/ir/analysis.js';
import { initWeights } from '../src/ir/init.js';
import { blocksFor } from '../src/proxies/index.js';
import { weightSeed } from '../src/search/scorer.js';
import { getSpace } from '../src/spaces/index.js';
import { sampleArchs } from '../src/spaces/types.js';
import { imagesFor } from '../src/study/images.js';
import { Rng } from '../src/util/rng.js';
import { sharedDataPath } from './helpers/shared-data.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'rbflex-cmds-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));
const nb201 = getSpace('nb201');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, RBFLEX_CACHE: join(WORK, 'cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Kendall tau-b, straight from its definition (O(n^2)) */
function kendallTauB(x: number[], y: number[]): number {
  let c = 0;
  let d = 0;
  let tx = 0;
  let ty = 0;
  let pairs = 0;
  for (let i = 0; i < x.length; i++) {
    for (let j = i + 1; j < x.length; j++) {
      pairs++;
      const a = Math.sign(x[i]! - x[j]!);
      const b = Math.sign(y[i]! - y[j]!);
      if (a === 0) tx++;
      if (b === 0) ty++;
      if (a * b > 0) c++;
      else if (a * b < 0) d++;
    }
  }
  return (c - d) / Math.sqrt((pairs - tx) * (pairs - ty));
}

function csvRows(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(','));
}

test('study: report files agree with the truth rows used and with `score`', { timeout: 120_000 }, (t) => {
  const csv = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  if (!csv) return;
  // the truth, read here: arch string -> CIFAR-10 test accuracy
  const [head, ...rows] = csvRows(readFileSync(csv, 'utf8'));
  const accCol = head!.indexOf('CIFAR10TestAccuracy200Epochs');
  const archCol = head!.indexOf('ArchitectureString');
  const truth = new Map(rows.map((r) => [r[archCol]!, Number(r[accCol])]));

  const out = join(WORK, 'study');
  const proxies = ['rbflex', 'naswot', 'params'];
  const r = cli(['study', '--benchmark', csv, '--samples', '8', '--proxy', proxies.join(','), '--seed', '3', '--no-cache', '--workers', '1', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['scores.csv', 'summary.json', 'report.md', 'proxies.svg', ...proxies.map((p) => `${p}.svg`)]) assert.ok(existsSync(join(out, f)), `${f} not written`);

  // scores.csv: 8 distinct archs of the space, each with its truth value and its real parameter count
  const [sHead, ...sRows] = csvRows(readFileSync(join(out, 'scores.csv'), 'utf8'));
  assert.deepEqual(sHead, ['arch', 'accuracy', ...proxies]);
  assert.equal(sRows.length, 8);
  assert.equal(new Set(sRows.map((x) => x[0])).size, 8);
  for (const row of sRows) {
    const arch = row[0]!;
    assert.equal(nb201.parse(arch), arch);
    assert.equal(Number(row[1]), truth.get(arch), `accuracy of ${arch}`);
    assert.equal(Number(row[4]), countParams(nb201.build(arch, { dataset: 'cifar10' })), `params of ${arch}`);
  }
  const acc = sRows.map((x) => Number(x[1]));
  const col = (p: string) => sRows.map((x) => Number(x[sHead!.indexOf(p)]));

  // summary.json: n, the networks counted, and each proxy's Kendall tau as recomputed here from the rows
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    n: number;
    networks: { total: number; computedNow: number; fromCache: number };
    proxies: { proxy: string; kendall: { perSeed: number[]; mean: number }; picked: { mean: number } }[];
  };
  assert.equal(summary.n, 8);
  assert.deepEqual([summary.networks.total, summary.networks.computedNow, summary.networks.fromCache], [8, 8, 0]);
  assert.deepEqual(summary.proxies.map((p) => p.proxy), proxies);
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  for (const p of summary.proxies) {
    const tau = kendallTauB(col(p.proxy), acc);
    assert.ok(Number.isFinite(tau));
    assert.equal(p.kendall.perSeed.length, 1);
    assert.ok(Math.abs(p.kendall.perSeed[0]! - tau) < 1e-12, `${p.proxy}: summary.json kendall ${p.kendall.perSeed[0]}, recomputed ${tau}`);
    assert.equal(p.kendall.mean, p.kendall.perSeed[0]);
    // report.md shows the same tau (4 decimals) in the proxy's row of the correlation table
    const line = md.slice(md.indexOf('## Correlation')).split('\n').find((l) => l.startsWith(`| ${p.proxy} |`));
    assert.ok(line, `no table row for ${p.proxy} in report.md`);
    assert.ok(line.includes(tau.toFixed(4)), `report.md row "${line}" lacks tau ${tau.toFixed(4)}`);
    // picked accuracy is a mean of studied architectures' accuracies
    assert.ok(p.picked.mean >= Math.min(...acc) && p.picked.mean <= Math.max(...acc), `${p.proxy} picked ${p.picked.mean}`);
  }
  assert.match(md, /nb201/);
  assert.match(md, /nats-tss-200ep-test\.csv/);
  for (const p of proxies) assert.equal((readFileSync(join(out, `${p}.svg`), 'utf8').match(/<circle/g) ?? []).length, 8, `${p}.svg: one point per architecture`);

  // the study's scores are the scores `score` gives for the same seed and images
  const arch = sRows[0]![0]!;
  const s = cli(['score', '--arch', arch, '--proxy', 'rbflex,naswot', '--seed', '3', '--no-cache', '--json']);
  assert.equal(s.code, 0, s.stderr);
  const one = JSON.parse(s.stdout) as { scores: { rbflex: number; naswot: number } };
  assert.equal(one.scores.rbflex, Number(sRows[0]![2]));
  assert.equal(one.scores.naswot, Number(sRows[0]![3]));
});

/** HDA (paper variant) from its definition: per network, min over image pairs of (m_i-m_j)^2 / (2(s_i+s_j)) */
function hdaHere(blocks: { data: ArrayLike<number>; size: number; count: number }[], n: number): number[] {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    let len = 0;
    for (const b of blocks) for (let k = 0; k < b.size; k++) (sum += b.count * b.data[i * b.size + k]!), (len += b.count);
    const m = sum / len;
    let v = 0;
    for (const b of blocks) for (let k = 0; k < b.size; k++) v += b.count * (b.data[i * b.size + k]! - m) ** 2;
    mean.push(m);
    variance.push(v / len);
  }
  const g: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = variance[i]! + variance[j]!;
      const m2 = (mean[i]! - mean[j]!) ** 2;
      if (s > 0 && m2 > 0) g.push(m2 / (2 * s));
    }
  }
  return g;
}

test('hda: the printed gammas match HDA computed here; bad input exits 2 with one line', { timeout: 120_000 }, async () => {
  const r = cli(['hda', '--space', 'nb201', '--networks', '3', '--seed', '5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { gamma_k: number; gamma_q: number };

  const build = { dataset: 'cifar10' };
  const images = await imagesFor(nb201, build, { data: 'synthetic', batch: 3 }, '5');
  const backend = new ReferenceBackend();
  const k: number[] = [];
  const q: number[] = [];
  for (const arch of sampleArchs(nb201, Rng.derive('5', 'hda'), 3)) {
    const g = nb201.build(arch, build);
    const f = await backend.forward(g, initWeights(g, weightSeed('5', 'nb201', arch)), images, { taps: ['reference'], bn: 'batch' });
    k.push(...hdaHere(blocksFor(f, 'reference'), f.n));
    q.push(...hdaHere([{ data: f.y.data, size: f.y.size, count: 1 }], f.n));
  }
  const want = { gamma_k: Math.min(...k), gamma_q: Math.min(...q) };
  // onnxruntime runs float32; this is float64
  for (const key of ['gamma_k', 'gamma_q'] as const) {
    assert.ok(want[key] > 0);
    assert.ok(Math.abs(got[key] / want[key] - 1) < 1e-3, `${key}: printed ${got[key]}, computed here ${want[key]}`);
  }

  for (const [args, re] of [
    [['--networks', '0'], /--networks must be between 1 and/],
    [['--variant', 'median'], /--variant/],
    [['--data', join(WORK, 'no-such-images')], /no-such-images/],
  ] as const) {
    const bad = cli(['hda', '--space', 'nb201', ...args]);
    assert.equal(bad.code, 2, `hda ${args.join(' ')}: exit ${bad.code}, stderr ${bad.stderr}`);
    const lines = bad.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `hda ${args.join(' ')}: one line expected, got\n${bad.stderr}`);
    assert.match(lines[0]!, re);
    assert.equal(bad.stdout, '');
  }
});

test('an error raised inside a worker thread reaches the command line as one clean line, exit 2', { timeout: 120_000 }, () => {
  // snip needs class logits; TransNAS autoencoder networks end in a feature map: the worker's Scorer refuses
  const r = cli(['search', '--space', 'transnas-micro', '--task', 'autoencoder', '--resolution', '32', '--proxy', 'snip', '--samples', '2', '--trials', '1', '--workers', '1', '--no-cache']);
  assert.equal(r.code, 2, r.stderr);
  // without a terminal the progress lines stay; the rest is exactly one error line, no stack, no "bug"
  const lines = r.stderr.trim().split('\n').filter((l) => !/^searching: /.test(l));
  assert.equal(lines.length, 1, `one line expected, got\n${r.stderr}`);
  assert.match(lines[0]!, /^rbflex: error: snip: transnas-micro:\S+ .*ends in a \[\d+x\d+x\d+\] feature map, not class logits/);
  assert.doesNotMatch(r.stderr, /\n\s+at |looks like a bug|WorkerTaskError/);
  assert.equal(r.stdout, '');
});
