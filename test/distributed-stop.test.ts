/**
 * Issue 14: a worker stopped with SIGTERM finishes its job (a second SIGTERM puts it back in the
 * queue) and exits 0, the run still ending with the local result; a worker on another rbflex takes
 * none of a coordinator's jobs, says so, and such a coordinator fails fast when no worker of its
 * own version runs. Real redis-server (helpers/redis.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { WORKERS_KEY, queueName } from '../src/distributed/common.js';
import { runWorker } from '../src/distributed/worker.js';
import { engineVersion } from '../src/search/engine.js';
import { startRedis } from './helpers/redis.js';
import { type Proc, jobLog, startCli, until } from './helpers/procs.js';

const SEARCH = ['search', '--space', 'nb201', '--samples', '40', '--trials', '1', '--seed', 'stop', '--proxy', 'rbflex,params', '--json'];
const base = mkdtempSync(join(tmpdir(), 'rbflex-stop-'));
test.after(() => rmSync(base, { recursive: true, force: true }));

let localResult: Promise<{ picks: unknown; uniqueArchs: number }> | undefined;
function local() {
  localResult ??= (async () => {
    const r = startCli([...SEARCH, '--workers', '1', '--cache-dir', join(base, 'local')]);
    const e = await r.done;
    assert.equal(e.code, 0, r.err());
    return JSON.parse(r.out());
  })();
  return localResult;
}

const worker = (url: string, lock = 30) => startCli(['worker', '--redis', url, '--workers', '1', '--lock-seconds', String(lock)]);
/** a worker in the middle of a job (started more than it finished) */
const midJob = (w: Proc) => {
  const j = jobLog(w.err());
  return j.started > j.finished + j.released && j.finished >= 1;
};

test('SIGTERM mid-job: the worker finishes its job and exits 0; a second SIGTERM puts the job back at once; the run ends with the local result', { timeout: 180_000 }, async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const ref = local();
  // a long lock: a job left locked by a stopped worker would stall the run for 30 s, not be re-run at once
  const [w1, w2] = [worker(redis.url), worker(redis.url)];
  let w3: Proc | undefined;
  try {
    const c = startCli([...SEARCH, '--redis', redis.url, '--chunk', '4', '--cache-dir', join(base, 'a')]);
    await until('worker 1 mid-job', () => midJob(w1));
    w1.p.kill('SIGTERM');
    await until('worker 2 mid-job', () => midJob(w2));
    w2.p.kill('SIGTERM');
    await until('worker 2 stopping', () => /SIGTERM: /.test(w2.err()));
    w2.p.kill('SIGTERM');
    const [e1, e2] = [await w1.done, await w2.done];
    w3 = worker(redis.url);
    assert.equal(e1.code, 0, w1.err());
    assert.equal(e2.code, 0, w2.err());
    const [j1, j2] = [jobLog(w1.err()), jobLog(w2.err())];
    // worker 1 finished every job it started; worker 2 finished or released each
    assert.equal(j1.finished, j1.started, w1.err());
    assert.equal(j1.released, 0, w1.err());
    assert.equal(j2.finished + j2.released, j2.started, w2.err());
    // the second signal put back exactly the job it found in progress (the job may have ended between
    // the two signals: then the worker says there was nothing left to put back, and released none)
    const putBack = /second (?:SIGTERM|signal): putting (\d+) job/.exec(w2.err());
    assert.ok(putBack || /second (?:SIGTERM|signal): no job left to put back|no job in progress, stopping/.test(w2.err()), w2.err());
    assert.equal(j2.released, putBack ? Number(putBack[1]) : 0, w2.err());
    // 1 job, or 2 when the signal came while the prefetched job had started on the last one's final network
    if (/SIGTERM: finishing/.test(w1.err())) assert.match(w1.err(), /SIGTERM: finishing [12] current job[\s\S]* networks in [\s\S]*stopped/);
    for (const w of [w1, w2]) assert.match(w.err(), /stopped\n$/);
    const e = await c.done;
    assert.equal(e.code, 0, c.err());
    const res = JSON.parse(c.out());
    const want = await ref;
    assert.deepEqual(res.picks, want.picks);
    assert.equal(res.networks.scored, want.uniqueArchs, 'an arch was lost or counted twice');
    // the stopped workers left the registry the coordinators size their jobs by
    const q = new Queue('registry', { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null } });
    const r = await q.client;
    for (const w of [w1, w2]) assert.equal(await r.hexists(WORKERS_KEY, `${hostname()}:${w.p.pid}`), 0);
    assert.equal(await r.hexists(WORKERS_KEY, `${hostname()}:${w3.p.pid}`), 1);
    await q.close();
    // Redis gone: SIGTERM still ends the worker, at once, with 0 (nothing could be finished or released)
    await redis.stop();
    w3.p.kill('SIGTERM');
    const t0 = Date.now();
    assert.equal((await w3.done).code, 0, w3.err());
    assert.ok(Date.now() - t0 < 20_000, `the worker took ${Date.now() - t0} ms to stop without Redis`);
    assert.match(w3.err(), /stopped\n$/);
  } finally {
    for (const w of [w1, w2, w3]) w?.p.kill('SIGKILL');
    await redis.stop();
  }
});

test('a worker on another rbflex takes none of the jobs and says so; the coordinator fails fast without a worker of its version, and runs with one', { timeout: 180_000 }, async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const ref = local();
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const oldLog: string[] = [];
  let stopOld: () => void = () => {};
  const old = runWorker({
    url: redis.url,
    workers: 1,
    engine: { engine: '0123456789abcdef', rbflex: '0.0.1' },
    log: (s) => oldLog.push(s),
    stop: new Promise((r) => (stopOld = () => r('stop'))),
  });
  let w: Proc | undefined;
  const engine = await engineVersion();
  const mine = new Queue(queueName(engine), { connection });
  const theirs = new Queue(queueName('0123456789abcdef'), { connection });
  try {
    await until('the old worker', () => oldLog.some((l) => l.includes('scoring thread')));
    const c1 = startCli([...SEARCH.filter((a) => a !== '--json'), '--redis', redis.url, '--chunk', '8', '--cache-dir', join(base, 'v')]);
    const e1 = await c1.done;
    assert.equal(e1.code, 2, c1.err());
    const last = c1.err().trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^rbflex: error: no worker at redis://127\\.0\\.0\\.1:\\d+/? runs this rbflex \\S+ \\(engine ${engine}\\): the live workers are 1 on rbflex 0\\.0\\.1 \\(engine 0123456789abcdef\\); start workers with the same rbflex`));
    assert.ok(oldLog.some((l) => /refusing the jobs of coordinator \S+: it runs rbflex \S+ \(engine [0-9a-f]{16}\), this worker rbflex 0\.0\.1 \(engine 0123456789abcdef\)/.test(l)), oldLog.join('\n'));
    assert.ok(!oldLog.some((l) => /scoring \d+ networks/.test(l)), 'the old worker took a job');
    // nothing failed or burned a retry: the jobs wait for a compatible worker
    const counts = await mine.getJobCounts('wait', 'active', 'failed', 'completed', 'delayed');
    assert.equal(counts.failed, 0);
    assert.ok(counts.wait! > 0, JSON.stringify(counts));
    for (const j of await mine.getJobs(['wait'])) assert.equal(j.attemptsMade, 0);
    assert.deepEqual(Object.values(await theirs.getJobCounts()).reduce((a, b) => a + b, 0), 0);
    // a worker of this rbflex joins (the old one still runs): the same command completes with the local result
    w = worker(redis.url);
    await until('the new worker', () => w!.err().includes('scoring thread'));
    const c2 = startCli([...SEARCH, '--redis', redis.url, '--chunk', '8', '--cache-dir', join(base, 'v')]);
    const e2 = await c2.done;
    assert.equal(e2.code, 0, c2.err());
    assert.deepEqual(JSON.parse(c2.out()).picks, (await ref).picks);
    assert.ok(!oldLog.some((l) => /scoring \d+ networks/.test(l)), 'the old worker took a job');
    stopOld();
    await old;
    assert.equal(await (await mine.client).hexists(WORKERS_KEY, `${hostname()}:${process.pid}`), 0, 'the stopped worker is still announced');
  } finally {
    stopOld();
    w?.p.kill('SIGKILL');
    await Promise.all([mine.close(), theirs.close()]);
    await redis.stop();
  }
});
