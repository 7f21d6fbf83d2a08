/**
 * Issue 15 item 4: the main job's built-in default data. Without --data and --benchmark, `search`
 * on nb201 uses the shared CIFAR-10 images and NB201 truth when the shared data folder is there and
 * seeded synthetic images otherwise, saying which in one note line; its answer line gives the best
 * architecture, its score and, with truth, its accuracy against the best possible.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SHARED_IMAGES, SHARED_NB201_TRUTH, searchDefaults, sharedDataDir } from '../src/cli/default-data.js';
import { sharedDataPath } from './helpers/shared-data.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

test('searchDefaults: shared images and truth when present, synthetic otherwise, never over what the user gave', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-shared-'));
  try {
    const none = searchDefaults({ space: 'nb201', dataset: 'cifar10', dataGiven: false, benchmarkGiven: false, dir: join(dir, 'absent') });
    assert.deepEqual([none.data, none.benchmark], [undefined, undefined]);
    assert.match(none.note!, /^note: no --data or --benchmark given: using seeded synthetic images and no ground truth, so no accuracies \(.*absent not found;/);

    mkdirSync(join(dir, 'images', 'cifar10'), { recursive: true });
    mkdirSync(join(dir, 'nb201'));
    writeFileSync(join(dir, SHARED_IMAGES), 'png');
    writeFileSync(join(dir, SHARED_NB201_TRUTH), 'csv');
    const both = searchDefaults({ space: 'nb201', dataset: 'cifar10', dataGiven: false, benchmarkGiven: false, dir });
    assert.equal(both.data, join(dir, SHARED_IMAGES));
    assert.equal(both.benchmark, join(dir, SHARED_NB201_TRUTH));
    assert.match(both.note!, /using the shared CIFAR-10 images \(.*cifar10_batch_0\.png\) and the NAS-Bench-201 ground truth \(.*nats-tss-200ep-test\.csv\)/);
    assert.equal(both.note!.split('\n').length, 1);

    // the shared images are CIFAR-10: other datasets keep synthetic images but get the NB201 truth
    const c100 = searchDefaults({ space: 'nb201', dataset: 'cifar100', dataGiven: false, benchmarkGiven: false, dir });
    assert.deepEqual([c100.data, c100.benchmark], [undefined, join(dir, SHARED_NB201_TRUTH)]);
    assert.match(c100.note!, /seeded synthetic images and the NAS-Bench-201 ground truth/);
    // what the user gave is kept; nothing to say when both were given
    const dataGiven = searchDefaults({ space: 'nb201', dataset: 'cifar10', dataGiven: true, benchmarkGiven: false, dir });
    assert.deepEqual([dataGiven.data, dataGiven.benchmark], [undefined, join(dir, SHARED_NB201_TRUTH)]);
    assert.match(dataGiven.note!, /^note: no --benchmark given: using the NAS-Bench-201 ground truth/);
    assert.deepEqual(searchDefaults({ space: 'nb201', dataGiven: true, benchmarkGiven: true, dir }), {});
    // other spaces have no shared default: synthetic images as before, nothing to say
    assert.deepEqual(searchDefaults({ space: 'sss', dataset: 'cifar10', dataGiven: false, benchmarkGiven: false, dir }), {});

    assert.equal(sharedDataDir({ RBFLEX_SHARED_DATA: dir }), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search with no --data/--benchmark: one note line, and the answer with accuracy vs the best possible', { timeout: 120_000 }, (t) => {
  const truthFile = sharedDataPath('nb201/nats-tss-200ep-test.csv', t);
  if (!truthFile) return;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, [CLI, 'search', '--samples', '6', '--trials', '2', '--seed', 'default-data', '--no-cache', '--workers', '1'], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  const r = run({});
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('note: '));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0]!, /using the shared CIFAR-10 images .* and the NAS-Bench-201 ground truth/);
  assert.match(r.stderr, /images 3 x 3x32x32 from .*cifar10_batch_0\.png/);
  const answer = r.stdout.split('\n').find((l) => l.startsWith('answer (rbflex): '));
  assert.ok(answer, r.stdout);
  const m = /^answer \(rbflex\): (\S+) {2}score (-?[\d.]+); test accuracy ([\d.]+) % \(best possible ([\d.]+) %, rank (\d+) of 15625\)$/.exec(answer);
  assert.ok(m, answer);
  // the accuracy and the best possible are the truth file's CIFAR-10 column
  const rows = readFileSync(truthFile, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const acc = new Map(rows.map((x) => [x[3]!, Number(x[0])]));
  assert.equal(m[3], acc.get(m[1]!)!.toFixed(2));
  assert.equal(m[4], Math.max(...acc.values()).toFixed(2));
  assert.equal(Number(m[5]), 1 + [...acc.values()].filter((v) => v > acc.get(m[1]!)!).length);

  // without the shared folder: synthetic images, no accuracy, still an answer
  const s = run({ RBFLEX_SHARED_DATA: join(tmpdir(), 'rbflex-no-such-shared-data') });
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stderr, /^note: no --data or --benchmark given: using seeded synthetic images and no ground truth/m);
  assert.match(s.stdout, /^answer \(rbflex\): \S+ {2}score -?[\d.]+$/m);
});
