/** Redis URLs: password and TLS forms, the password never in what is printed, bad URLs one clear line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobBounds, jobSizes } from '../src/distributed/coordinator.js';
import { JobError, fromWire, toWire, validateJob } from '../src/distributed/job.js';
import { DistributedError, parseRedisUrl, scrub } from '../src/distributed/redis-url.js';

test('redis:// and rediss:// URLs become connection options; the password is hidden', () => {
  const a = parseRedisUrl('redis://:s%40cret@10.0.0.5:6380/2');
  assert.deepEqual([a.options.host, a.options.port, a.options.db, a.options.password, a.options.tls], ['10.0.0.5', 6380, 2, 's@cret', undefined]);
  assert.equal(a.shown, 'redis://:***@10.0.0.5:6380/2');
  assert.equal(scrub('WRONGPASS for s@cret', a), 'WRONGPASS for ***');
  const b = parseRedisUrl('rediss://user:pw@cache.example.com');
  assert.deepEqual([b.options.username, b.options.port, b.options.tls], ['user', 6379, { servername: 'cache.example.com' }]);
  assert.ok(!b.shown.includes('pw@'));
  // an address is checked against the certificate's IP entries, without SNI (which carries no addresses)
  assert.deepEqual(parseRedisUrl('rediss://:pw@127.0.0.1:6390').options.tls, {});
  assert.throws(() => parseRedisUrl('http://x'), (e: Error) => e instanceof DistributedError && /redis:\/\/ or rediss:\/\//.test(e.message));
  assert.throws(() => parseRedisUrl('not a url'), DistributedError);
  assert.throws(() => parseRedisUrl('redis://h/x'), /database number/);
});

test('jobs are validated field by field; scores survive the wire bit for bit', () => {
  const ok = {
    format: 2,
    engine: 'e',
    rbflex: '0.1.0',
    images: '0123456789abcdef',
    archs: ['a'],
    config: { space: 'nb201', build: { dataset: 'cifar10' }, proxies: ['rbflex'], settings: { gammaK: 1e-12, gammaQ: 2e-12, taps: 'reference' }, backend: 'onnx', seed: '1' },
  };
  assert.equal(validateJob(ok).config.settings.gammaK, 1e-12);
  assert.equal(validateJob(ok).config.reduce, undefined, 'no reduce: the worker uses its default');
  assert.equal(validateJob({ ...ok, config: { ...ok.config, reduce: 'host' } }).config.reduce, 'host', 'the coordinator\'s tap reduction travels with the job');
  // what changes scores travels: the reduction path, the gradient proxies' inputs and data batch
  const full = validateJob({ ...ok, data: 'fedcba9876543210', config: { ...ok.config, reduce: 'graph', proxyInputs: 'shared' } });
  assert.deepEqual([full.config.reduce, full.config.proxyInputs, full.data], ['graph', 'shared', 'fedcba9876543210']);
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    [{ ...ok, extra: 1 }, /unknown field "extra"/],
    [{ ...ok, images: 'ABC' }, /images/],
    [{ ...ok, archs: [] }, /archs/],
    [{ ...ok, config: { ...ok.config, space: 'nope' } }, /config.space/],
    [{ ...ok, config: { ...ok.config, proxies: ['rm -rf'] } }, /config.proxies\[0\]/],
    [{ ...ok, config: { ...ok.config, settings: { ...ok.config.settings, gammaK: -1 } } }, /gammaK/],
    [{ ...ok, config: { ...ok.config, build: { dataset: 'x', evil: true } } }, /config.build has an unknown field/],
    [{ ...ok, config: { ...ok.config, reduce: 'gpu' } }, /config.reduce must be one of graph, host/],
    [{ ...ok, config: { ...ok.config, proxyInputs: 1 } }, /config.proxyInputs/],
    [{ ...ok, data: '../x' }, /data must be/],
    [{ ...ok, format: 1 }, /format 1, this worker reads format 2/],
  ];
  for (const [job, re] of bad) assert.throws(() => validateJob(job), (e: Error) => e instanceof JobError && re.test(e.message), String(re));
  const r = { arch: 'a', scores: { rbflex: -Infinity, naswot: 0.1 + 0.2, params: 123 }, notes: { rbflex: 'singular' }, ms: 5 };
  const back = fromWire(JSON.parse(JSON.stringify(toWire(r))), ['rbflex', 'naswot', 'params']);
  assert.deepEqual(back.scores, r.scores);
  assert.equal(back.notes?.rbflex, 'singular');
  assert.throws(() => fromWire({ arch: 'a', scores: {} }, ['rbflex']), /no rbflex score/);
});

test('chunks: at most --chunk networks; with several job slots they shrink toward the end so the slots finish together', () => {
  // one slot (or none live yet): --chunk networks, cut evenly
  assert.deepEqual(jobSizes(150, 50, 1), [50, 50, 50]);
  assert.deepEqual(jobSizes(150, 50, 0), [50, 50, 50]);
  assert.deepEqual(jobSizes(120, 50, 1), [40, 40, 40]);
  // two slots: full chunks while more than 2 x 2 x 50 remain, then a quarter of what is left, down to 5
  assert.deepEqual(jobSizes(600, 50, 2), [50, 50, 50, 50, 50, 50, 50, 50, 50, 38, 28, 21, 16, 12, 9, 7, 5, 5, 5, 4]);
  assert.deepEqual(jobSizes(10, 50, 4), [2, 1, 1, 1, 1, 1, 1, 1, 1]); // tiny run: every slot gets work
  for (const [total, req, slots] of [[150, 50, 2], [1000, 50, 3], [7, 2, 5], [15625, 50, 6], [1, 50, 3], [36, 4, 2], [3, 50, 8]] as const) {
    const sizes = jobSizes(total, req, slots);
    const at = `${total}/${req}/${slots}: ${sizes}`;
    assert.equal(sizes.reduce((a, b) => a + b, 0), total, `every network in exactly one job: ${at}`);
    assert.ok(Math.max(...sizes) <= req && Math.min(...sizes) >= 1, at);
    for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! <= sizes[i - 1]!, `sizes never grow: ${at}`);
    assert.ok(sizes.length >= Math.min(total, slots), `every slot gets a job: ${at}`);
    // the last job is small next to a full chunk (what one slot may still score while the others idle)
    if (total >= 4 * req * slots) assert.ok(sizes.at(-1)! <= Math.ceil(req / 10), at);
    // contiguous bounds over the list, the same on every call (a restarted coordinator cuts the same jobs)
    const b = jobBounds(total, req, slots);
    assert.deepEqual(b.map(([x, y]) => y - x), sizes);
    assert.ok(b.every(([x], i) => x === (i === 0 ? 0 : b[i - 1]![1])) && b.at(-1)![1] === total, at);
    assert.deepEqual(jobBounds(total, req, slots), b);
  }
});
