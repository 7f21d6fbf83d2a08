/** Issue 14: distributed scoring on a real Redis (BullMQ): faults, restarts, malformed jobs. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import { queueName } from '../src/distributed/common.js';
import { engineVersion } from '../src/search/engine.js';
import { startRedis } from './helpers/redis.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SEARCH = ['search', '--space', 'nb201', '--samples', '36', '--trials', '1', '--seed', 'dist', '--proxy', 'naswot,params', '--json'];

interface Proc {
  p: ChildProcess;
  out: () => string;
  err: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Proc {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  p.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.on('close', (code, signal) => resolve({ code, signal })));
  return { p, out: () => out, err: () => err, done };
}

async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rows(db: string): number {
  if (!existsSync(db)) return 0;
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    d.pragma('busy_timeout = 2000');
    return (d.prepare("SELECT COUNT(*) AS n FROM scores WHERE proxy LIKE 'naswot%'").get() as { n: number }).n;
  } catch {
    return 0;
  } finally {
    d.close();
  }
}

const worker = (url: string) => start(['worker', '--redis', url, '--workers', '1', '--lock-seconds', '2']);
const jobsDone = (w: Proc) => (w.err().match(/networks in/g) ?? []).length;

let localResult: Promise<{ picks: unknown; uniqueArchs: number }> | undefined;
/** the same search run locally, once */
function local(base: string) {
  localResult ??= (async () => {
    const r = start([...SEARCH, '--workers', '1', '--cache-dir', join(base, 'local')]);
    const e = await r.done;
    assert.equal(e.code, 0, r.err());
    return JSON.parse(r.out());
  })();
  return localResult;
}

const base = mkdtempSync(join(tmpdir(), 'rbflex-dist-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

test('two workers, one killed with SIGKILL mid-run: the coordinator ends with the local result', { timeout: 180_000 }, async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const [w1, w2] = [worker(redis.url), worker(redis.url)];
  try {
    const c = start([...SEARCH, '--redis', redis.url, '--chunk', '4', '--cache-dir', join(base, 'a')]);
    await until('a first job', () => jobsDone(w1) >= 1);
    w1.p.kill('SIGKILL'); // its current job is locked; the lock expires and w2 takes the job
    const e = await c.done;
    assert.equal(e.code, 0, c.err());
    const res = JSON.parse(c.out());
    const ref = await local(base);
    assert.deepEqual(res.picks, ref.picks);
    assert.equal(res.networks.scored, ref.uniqueArchs, 'an arch was lost or counted twice');
    assert.ok(jobsDone(w2) >= 1, 'the surviving worker did no job');
  } finally {
    w1.p.kill('SIGKILL');
    w2.p.kill('SIGKILL');
    await redis.stop();
  }
});

test('a coordinator killed and restarted resumes from its cache and the same job ids', { timeout: 180_000 }, async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const w = worker(redis.url);
  try {
    const dir = join(base, 'b');
    const first = start([...SEARCH, '--redis', redis.url, '--chunk', '4', '--cache-dir', dir]);
    await until('scores in the cache', () => rows(join(dir, 'scores.sqlite')) >= 4);
    first.p.kill('SIGKILL');
    await first.done;
    const kept = rows(join(dir, 'scores.sqlite'));
    const again = start([...SEARCH, '--redis', redis.url, '--chunk', '4', '--cache-dir', dir]);
    const e = await again.done;
    assert.equal(e.code, 0, again.err());
    const res = JSON.parse(again.out());
    const ref = await local(base);
    assert.deepEqual(res.picks, ref.picks);
    assert.ok(res.networks.cached >= kept && res.networks.cached > 0, `cached ${res.networks.cached}, kept ${kept}`);
    assert.equal(res.networks.cached + res.networks.scored, ref.uniqueArchs);
  } finally {
    w.p.kill('SIGKILL');
    await redis.stop();
  }
});

test('Redis lost mid-run: one error line without the password, exit 2, received scores kept', { timeout: 180_000 }, async (t) => {
  const password = 'pw-never-printed';
  const redis = await startRedis(t, { password });
  if (!redis) return;
  const w = worker(redis.url);
  try {
    const dir = join(base, 'c');
    const c = start([...SEARCH.map((a) => (a === '36' ? '200' : a)), '--redis', redis.url, '--chunk', '4', '--cache-dir', dir]);
    await until('scores in the cache', () => rows(join(dir, 'scores.sqlite')) >= 4);
    await redis.stop();
    const before = rows(join(dir, 'scores.sqlite'));
    const e = await c.done;
    assert.equal(e.code, 2, c.err());
    const lines = c.err().trim().split('\n');
    assert.equal(lines.length, 1, c.err());
    assert.match(lines[0]!, /^rbflex: error: lost the connection to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    assert.ok(!c.err().includes(password) && !w.err().includes(password), 'the password was printed');
    assert.ok(rows(join(dir, 'scores.sqlite')) >= before && before > 0);
  } finally {
    w.p.kill('SIGKILL');
    await redis.stop();
  }
});

test('a malformed job and a forged job of another engine fail alone, without retries; the worker keeps working', { timeout: 180_000 }, async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const w = worker(redis.url);
  const queue = new Queue(queueName(await engineVersion()), { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
  try {
    await until('the worker', () => w.err().includes('scoring thread'));
    const bad = await queue.add('score', { format: 2, engine: 'x', rbflex: 'x', config: { space: '../../etc' }, images: '0123456789abcdef', archs: [] });
    const good = { space: 'nb201', build: { dataset: 'cifar10' }, proxies: ['params'], settings: { gammaK: 1, gammaQ: 1, taps: 'reference' }, backend: 'onnx', seed: '1' };
    // a job of another engine in this engine's queue (forged: coordinators use their engine's queue)
    const other = await queue.add('score', { format: 2, engine: 'ffffffffffffffff', rbflex: '9.9.9', config: good, images: '0123456789abcdef', archs: ['x'] }, { attempts: 3 });
    const reason = async (id: string): Promise<string> => {
      for (let i = 0; i < 600; i++) {
        const j = await queue.getJob(id);
        if (j?.failedReason && (await j.getState()) === 'failed') return j.failedReason;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`job ${id} did not fail`);
    };
    assert.match(await reason(bad.id!), /malformed job: .*config/);
    assert.match(await reason(other.id!), /refused: the job comes from rbflex 9\.9\.9 \(engine ffffffffffffffff\)/);
    assert.equal((await queue.getJob(other.id!))!.attemptsMade, 1, 'a refused job is not retried');
    // the same worker still scores a real run
    const c = start([...SEARCH, '--redis', redis.url, '--chunk', '12', '--cache-dir', join(base, 'd')]);
    const e = await c.done;
    assert.equal(e.code, 0, c.err());
    assert.deepEqual(JSON.parse(c.out()).picks, (await local(base)).picks);
  } finally {
    await queue.close();
    w.p.kill('SIGKILL');
    await redis.stop();
  }
});
