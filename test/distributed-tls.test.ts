/**
 * Issue 14: rediss:// against a real redis-server serving TLS only, with a throwaway CA and server
 * certificate made by openssl in a temp dir. A run over TLS equals the local run (scores included,
 * on the in-graph reduction path); a certificate the
 * client does not trust and a wrong password each end in one error line without the password.
 *
 * Skips with a message when redis-server (see helpers/redis.ts), openssl or this redis-server's TLS
 * support is missing; under CI, missing openssl or TLS fails (.ci/run installs redis-server and
 * openssl, and Debian's redis-server is built with TLS).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type RedisTls, startRedis } from './helpers/redis.js';
import { startCli, until } from './helpers/procs.js';

// --reduce graph: the in-graph reduction changes scores in the float32 digits, so the picks' scores
// match only if the job carries the reduction path to the worker
const SEARCH = ['search', '--space', 'nb201', '--samples', '24', '--trials', '1', '--seed', 'tls', '--proxy', 'rbflex,params', '--reduce', 'graph', '--json'];
const PASSWORD = 'tls-pw-never-printed';

function unavailable(t: TestContext, why: string): void {
  if (process.env.CI) assert.fail(`${why} (CI installs openssl and Debian's redis-server, which serves TLS)`);
  t.skip(why);
}

/** a CA and a server certificate for 127.0.0.1 / localhost, valid one day */
function makeCerts(dir: string): RedisTls | string {
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (run(['version']).status !== 0) return 'openssl is not installed; apt-get install openssl to run the TLS test';
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const args of [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=rbflex test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf'],
  ]) {
    const r = run(args);
    if (r.status !== 0) return `openssl ${args[0]} failed: ${r.stderr.trim().split('\n')[0]}`;
  }
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

test('rediss:// with a password: a run over TLS equals the local run; TLS and password errors never print the password', { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = makeCerts(dir);
  if (typeof certs === 'string') return unavailable(t, certs);
  let refused = '';
  const redis = await startRedis(t, { password: PASSWORD, tls: certs, tlsRefused: (why) => (refused = why) });
  if (!redis) {
    if (refused) unavailable(t, `this redis-server cannot serve TLS: ${refused}`);
    return;
  }
  assert.match(redis.url, /^rediss:\/\//);
  // the throwaway CA is trusted the way a user trusts a private one
  const trusted = { ...process.env, NODE_EXTRA_CA_CERTS: certs.ca };
  const w = startCli(['worker', '--redis', redis.url, '--workers', '1'], trusted);
  try {
    const local = startCli([...SEARCH, '--workers', '1', '--cache-dir', join(dir, 'local')]);
    const remote = startCli([...SEARCH, '--redis', redis.url, '--chunk', '8', '--cache-dir', join(dir, 'remote')], trusted);
    const [l, r] = [await local.done, await remote.done];
    assert.equal(l.code, 0, local.err());
    assert.equal(r.code, 0, remote.err());
    const [a, b] = [JSON.parse(local.out()), JSON.parse(remote.out())];
    assert.deepEqual(b.picks, a.picks);
    assert.equal(b.networks.scored, a.uniqueArchs);
    assert.match(w.err(), /queue rbflex-score-\w+ at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+/);

    // a CA the client does not trust, then a wrong password: one line each, exit 2, no password
    const untrusted = startCli([...SEARCH, '--redis', redis.url, '--cache-dir', join(dir, 'x')]);
    const wrong = `${PASSWORD}-wrong`;
    const badPw = startCli([...SEARCH, '--redis', redis.url.replace(PASSWORD, wrong), '--cache-dir', join(dir, 'y')], trusted);
    for (const [c, re, secret] of [
      [untrusted, /^rbflex: error: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: .*certificate/, PASSWORD],
      [badPw, /^rbflex: error: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: .*(WRONGPASS|invalid username-password)/, wrong],
    ] as const) {
      const e = await c.done;
      assert.equal(e.code, 2, c.err());
      const lines = c.err().trim().split('\n');
      assert.equal(lines.length, 1, c.err());
      assert.match(lines[0]!, re);
      assert.ok(!c.err().includes(secret) && !c.out().includes(secret), 'the password was printed');
    }
    // a worker that does not trust the server: its log lines never carry the password
    const wBad = startCli(['worker', '--redis', redis.url, '--workers', '1']);
    await until('a TLS error in the worker log', () => /certificate/.test(wBad.err()), 30_000);
    wBad.p.kill('SIGKILL');
    await wBad.done;
    assert.ok(!wBad.err().includes(PASSWORD), 'the worker printed the password');
    assert.ok(!w.err().includes(PASSWORD), 'the worker printed the password');
  } finally {
    w.p.kill('SIGKILL');
    await redis.stop();
  }
});
