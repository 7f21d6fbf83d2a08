/**
 * The study's report.md and summary.json (issue 15 items 11-13): mean +- std over seeds with labelled
 * per-seed tables, computed/cached counts and compute time over runs, the header (version, command,
 * date, machine, benchmark file, rounded gammas), n/a top-k hit rates, numbers as numbers.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Benchmark } from '../src/benchmarks/types.js';
import { openBenchmark } from '../src/benchmarks/index.js';
import type { ProxyName } from '../src/proxies/index.js';
import type { ArchScore } from '../src/search/scorer.js';
import { ScoringSession, type SessionOptions } from '../src/search/session.js';
import { kendallTauB, meanStd } from '../src/search/stats.js';
import { getSpace } from '../src/spaces/index.js';
import { studyFiles } from '../src/study/outputs.js';
import { commandLine } from '../src/study/provenance.js';
import { type StudyResult, runStudy } from '../src/study/run.js';
import { Rng } from '../src/util/rng.js';
import { packageRoot, sharedDataPath } from './helpers/shared-data.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'rbflex-report-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const nb201 = getSpace('nb201');
const ARCHS = Array.from({ length: 12 }, (_, i) => nb201.archAt(i * 1231));
/** ground truth for the test (arbitrary, distinct) */
const ACC = new Map(ARCHS.map((a, i) => [a, 80 + ((i * 7) % 12) * 0.5]));

function fakeBench(archs: readonly string[]): Benchmark {
  return {
    space: 'nb201',
    format: 'test table',
    source: join(WORK, 'truth-table.csv'),
    datasets: ['cifar10'],
    metrics: ['test'],
    size: archs.length,
    archs: () => [...archs],
    has: (a) => archs.includes(a),
    accuracy: (a) => ACC.get(a),
  };
}

/** a seeded score per (seed, arch): seeds differ, so mean and seed 1 differ */
function fakeScore(seed: string, arch: string, p: ProxyName): number {
  return p === 'params' ? ARCHS.indexOf(arch) : new Rng(`${seed}/${p}/${arch}`).nextNormal() + (ACC.get(arch) ?? 0) * 0.05;
}

/** a session that scores without networks and reports fixed counts and times */
function fakeSession(so: SessionOptions) {
  return {
    score: async (archs: readonly string[]) => new Map<string, ArchScore>(archs.map((a) => [a, { arch: a, scores: Object.fromEntries((so.proxies ?? []).map((p) => [p, fakeScore(so.seed!, a, p)])), ms: 0 }])),
    close: async () => {},
    scoringMs: 1000,
    scored: 8,
    cached: 4,
    partial: 2,
    computeMs: 1500,
    cachedComputeMs: 500,
  };
}

function leaves(v: unknown, path = '$', out: [string, unknown][] = []): [string, unknown][] {
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, `${path}.${k}`, out);
  else out.push([path, v]);
  return out;
}

test('--repeats: the main table is mean ± std over seeds, each seed has its own labelled table; summary.json has both as numbers', async () => {
  const t0 = Date.now();
  const r = await runStudy({
    space: nb201,
    benchmark: fakeBench(ARCHS),
    all: true,
    proxies: ['rbflex', 'naswot', 'params'],
    repeats: 3,
    seed: '1',
    gammas: { gammaK: 1.23456789e-7, gammaQ: 0.00987654321 },
    images: async (seed) => ({ n: 1, c: 3, h: 32, w: 32, data: new Float32Array(3 * 32 * 32), id: `zeros:${seed}` }),
    session: fakeSession,
    command: commandLine(['rbflex', 'study', '--space', 'nb201', '--data', 'my images']),
  });
  const files = studyFiles(r);
  const md = files['report.md']!;
  const summary = JSON.parse(files['summary.json']!) as Record<string, any>;
  const seeds = ['1.0', '1.1', '1.2'];
  assert.deepEqual(summary.seeds, seeds);
  const acc = ARCHS.map((a) => ACC.get(a)!);
  for (const p of ['rbflex', 'naswot'] as const) {
    const taus = seeds.map((s) => kendallTauB(ARCHS.map((a) => fakeScore(s, a, p)), acc));
    assert.ok(new Set(taus).size > 1, 'seeds give different taus (else the test shows nothing)');
    const { mean, std } = meanStd(taus);
    const ps = summary.proxies.find((x: { proxy: string }) => x.proxy === p);
    assert.deepEqual(ps.kendall.perSeed, taus);
    assert.ok(Math.abs(ps.kendall.mean - mean) < 1e-15 && Math.abs(ps.kendall.std - std) < 1e-15);
    assert.notEqual(mean.toFixed(4), taus[0]!.toFixed(4));
    // main table: mean ± std
    const main = md.slice(md.indexOf('## Correlation'), md.indexOf('### Kendall tau per seed'));
    assert.match(main, /mean ± std over 3 seeds/);
    assert.ok(main.includes(`| ${p} | ${mean.toFixed(4)} ± ${std.toFixed(4)} |`), `main table row of ${p}:\n${main}`);
    // each seed's table, labelled with the seed
    seeds.forEach((s, i) => {
      const at = md.indexOf(`### Seed ${s}\n`);
      assert.ok(at > 0, `no section for seed ${s}`);
      const section = md.slice(at, md.indexOf('\n### ', at + 1) > 0 ? md.indexOf('\n### ', at + 1) : md.indexOf('## Plots'));
      assert.ok(section.includes(`| ${p} | ${taus[i]!.toFixed(4)} |`), `seed ${s} table:\n${section}`);
      assert.equal(summary.perSeed[i].seed, s);
      assert.equal(summary.perSeed[i].proxies.find((x: { proxy: string }) => x.proxy === p).correlations.kendall, taus[i]);
    });
  }
  // header: version, command, date, machine, benchmark file by name, gammas to 4 significant digits
  const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  assert.ok(md.includes(`| rbflex | ${version} |`));
  assert.ok(md.includes("| command | `rbflex study --space nb201 --data 'my images'` |"), md);
  const date = /\| date \| (\S+) \|/.exec(md)?.[1];
  assert.ok(date && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(date) && Date.parse(date) >= t0 - 1000 && Date.parse(date) <= Date.now(), `date ${date}`);
  assert.ok(md.includes(`| machine | ${cpus().length} cores, ${cpus()[0]!.model.trim().replace(/\s+/g, ' ')}`), md);
  assert.match(md, /\| benchmark \| truth-table\.csv \(test table; /);
  assert.ok(md.includes('gamma_k 1.235e-7, gamma_q 0.009877 (given)'), md);
  assert.equal(summary.perSeed[0].gammas.gammaK, 1.23456789e-7);
  assert.equal(summary.benchmark.name, 'truth-table.csv');
  assert.equal(summary.machine.cores, cpus().length);
  assert.equal(summary.rbflex, version);
  assert.equal(summary.metricLabel, 'CIFAR-10 test accuracy, %');
  // n = 12: top-1% (0.12 networks) and top-5% (0.6) are n/a, top-10% (1.2 -> k = 1) is a number
  const naswot = summary.proxies.find((x: { proxy: string }) => x.proxy === 'naswot');
  assert.deepEqual(naswot.topK.map((t: { hitRate: { mean: number | null } }) => t.hitRate.mean === null), [true, true, false]);
  assert.equal(typeof naswot.topK[2].hitRate.mean, 'number');
  assert.match(md, /\| naswot \| [^|]+ \| [^|]+ \| [^|]+ \| n\/a \| n\/a \| \d\.\d{3} ± \d\.\d{3} \|/);
  // counts and compute time, over the 3 seeds of the fake session
  assert.deepEqual(summary.networks, { total: 36, computedNow: 24, computedInPart: 6, fromCache: 12, computeSeconds: 6, computeSecondsNow: 4.5, wallSecondsNow: 3 });
  assert.ok(md.includes('36 networks (12 x 3 seeds): 24 computed now (6 of them only for proxies missing from the cache), 12 from cache; compute time 6.0 s (all runs'), md);
  // numbers are numbers: no "25.9 s" strings anywhere
  for (const [path, v] of leaves(summary)) {
    if (typeof v === 'string') assert.doesNotMatch(v, /^-?\d+(\.\d+)?\s*(s|ms|%)$/, `${path} = ${v}`);
  }
  for (const [path, v] of leaves(summary.networks)) assert.equal(typeof v, 'number', path);
});

test('one seed: the table is that seed\'s, labelled with it', async () => {
  const r = await runStudy({
    space: nb201,
    benchmark: fakeBench(ARCHS),
    all: true,
    proxies: ['naswot'],
    seed: '7',
    images: async (seed) => ({ n: 1, c: 3, h: 32, w: 32, data: new Float32Array(3 * 32 * 32), id: `zeros:${seed}` }),
    session: fakeSession,
  });
  const md = studyFiles(r)['report.md']!;
  const tau = kendallTauB(ARCHS.map((a) => fakeScore('7', a, 'naswot')), ARCHS.map((a) => ACC.get(a)!));
  assert.match(md, /## Correlation with CIFAR-10 test accuracy, % \(12 architectures, seed 7\)/);
  assert.ok(md.includes(`| naswot | ${tau.toFixed(4)} |`));
  assert.ok(!md.includes('±') || !md.includes(`${tau.toFixed(4)} ±`));
  assert.ok(!md.includes('| command |'), 'no command line when the caller gave none');
});

test('compute time accumulates over runs through the cache: a cached rerun reports the earlier compute time', { timeout: 120_000 }, async () => {
  const archs = ARCHS.slice(0, 6);
  const cachePath = join(WORK, 'scores.sqlite');
  const study = (proxies: ProxyName[]) =>
    runStudy({ space: nb201, benchmark: fakeBench(archs), all: true, proxies, seed: 'cache-time', workers: 0, cachePath });
  const text = (r: StudyResult) => r.setup.find(([k]) => k === 'networks')![1];
  const first = await study(['naswot']);
  assert.equal(first.networks.computedNow, 6);
  assert.equal(first.networks.fromCache, 0);
  assert.ok(first.networks.computeSeconds > 0);
  assert.equal(first.networks.computeSeconds, first.networks.computeSecondsNow);

  const again = await study(['naswot']);
  assert.equal(again.networks.computedNow, 0);
  assert.equal(again.networks.fromCache, 6);
  assert.equal(again.networks.computeSecondsNow, 0);
  assert.ok(Math.abs(again.networks.computeSeconds - first.networks.computeSeconds) < 1e-9 * first.networks.computeSeconds, `${again.networks.computeSeconds} vs ${first.networks.computeSeconds}`);
  assert.ok(text(again).startsWith(`6 networks: 0 computed now, 6 from cache; compute time ${first.networks.computeSeconds.toFixed(1)} s (all runs`), text(again));

  // params added: every network is computed again for params only; the total grows by what that took
  const more = await study(['naswot', 'params']);
  assert.equal(more.networks.computedNow, 6);
  assert.equal(more.networks.computedInPart, 6);
  assert.ok(more.networks.computeSecondsNow > 0);
  assert.ok(Math.abs(more.networks.computeSeconds - (first.networks.computeSeconds + more.networks.computeSecondsNow)) < 1e-9 * more.networks.computeSeconds);
  assert.equal(more.repeats[0]!.rows.map((x) => x.scores.naswot).join(), first.repeats[0]!.rows.map((x) => x.scores.naswot).join());
});

test('nafbee-bert: the setup names the real sentence file, not "synthetic"; the 11 points are labelled', async (t) => {
  const json = sharedDataPath('nafbee/NAFBee_BERT.json', t);
  const sst2 = sharedDataPath('text/sst2/train.tsv', t);
  if (!json || !sst2) return;
  const r = await runStudy({ space: 'nafbee-bert', benchmark: openBenchmark(json), all: true, proxies: ['params'], session: fakeSession });
  const images = r.setup.find(([k]) => k === 'images')![1];
  assert.match(images, /^3 sentences of \d+ tokens \(authors format\) from .*sst2[/\\]train\.tsv, seed 1$/);
  assert.doesNotMatch(images, /synthetic/);
  const files = studyFiles(r);
  assert.doesNotMatch(files['report.md']!, /synthetic/);
  const svg = files['params.svg']!;
  const labels = [...svg.matchAll(/<text class="point"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.deepEqual([...labels].sort(), [...r.archs].sort());
  assert.ok(labels.includes('GELU') && labels.includes('Mish'));
  assert.match(svg, /<text class="ylabel"[^>]*>SST-2 test accuracy, %<\/text>/);
});

test('search --json numbers trials from 1, as the text does; its compute time survives a cached rerun', () => {
  const args = ['search', '--space', 'nb201', '--samples', '3', '--trials', '2', '--proxy', 'params', '--workers', '0'];
  const cached = [...args, '--cache-dir', join(WORK, 'search-cache'), '--json'];
  type Out = { picks: { params: { trial: number }[] }; networks: { scored: number; cached: number; computeSeconds: number } };
  const run = () => {
    const j = spawnSync(process.execPath, [CLI, ...cached], { encoding: 'utf8' });
    assert.equal(j.status, 0, j.stderr);
    return JSON.parse(j.stdout) as Out;
  };
  const a = run();
  assert.deepEqual(a.picks.params.map((p) => p.trial), [1, 2]);
  assert.ok(a.networks.scored === 6 && a.networks.computeSeconds > 0, JSON.stringify(a.networks));
  const b = run();
  assert.equal(b.networks.cached, 6);
  assert.ok(Math.abs(b.networks.computeSeconds - a.networks.computeSeconds) < 1e-9, `${b.networks.computeSeconds} vs ${a.networks.computeSeconds}`);
  const txt = spawnSync(process.execPath, [CLI, ...args, '--no-cache'], { encoding: 'utf8' });
  assert.equal(txt.status, 0, txt.stderr);
  assert.deepEqual([...txt.stdout.matchAll(/^\s+trial\s+(\d+)/gm)].map((m) => Number(m[1])), [1, 2]);
});

test('a session counts an arch it computed itself once, when a later call meets it in the cache', async () => {
  const session = new ScoringSession({ space: 'nb201', images: { n: 1, c: 3, h: 32, w: 32, data: new Float32Array(3072), id: 'zeros' }, proxies: ['params'], workers: 0, cachePath: join(WORK, 'session.sqlite') });
  try {
    await session.score(ARCHS.slice(0, 3));
    const computed = session.computeMs;
    assert.ok(computed > 0);
    await session.score(ARCHS.slice(0, 4));
    assert.deepEqual([session.scored, session.cached], [4, 0], 'four distinct networks, all computed by this session');
    assert.equal(session.cachedComputeMs, 0, 'the 3 archs were computed by this session: their time is in computeMs already');
    assert.ok(session.computeMs > computed);
  } finally {
    await session.close();
  }
});

test('commandLine quotes what a shell would split', () => {
  assert.equal(commandLine(['rbflex', 'study', '--data', 'my images', "it's", '--out=x/y', '']), `rbflex study --data 'my images' 'it'\\''s' --out=x/y ''`);
});
