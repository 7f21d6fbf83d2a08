/**
 * A throwaway redis-server for tests: random loopback port, no persistence. Absent redis-server:
 * the test is skipped with a message, or fails when CI is set (CI installs it, see .ci/run).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

export interface TestRedis {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

function findRedis(): string | undefined {
  for (const p of ['redis-server', '/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    const r = spawnSync(p, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return undefined;
}

export interface RedisTls {
  cert: string;
  key: string;
  ca: string;
}

/**
 * o.tls: serve TLS only (the plain port off), with that server certificate; the URL is rediss://.
 * Returns undefined (test skipped) when redis-server is absent outside CI, or when o.tls is given
 * and this redis-server cannot serve TLS (then `tlsRefused` says why; the caller decides).
 */
export async function startRedis(t: TestContext, o: { password?: string; tls?: RedisTls; tlsRefused?: (why: string) => void } = {}): Promise<TestRedis | undefined> {
  const bin = findRedis();
  if (!bin) {
    if (process.env.CI) assert.fail('redis-server is not installed (CI must install it: apt-get install redis-server)');
    t.skip('redis-server is not installed; apt-get install redis-server to run the distributed tests');
    return undefined;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const ports = o.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key, '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const args = [...ports, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(o.password ? ['--requirepass', o.password] : [])];
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      proc.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      proc.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (!ready) {
      proc.kill('SIGKILL');
      // a build without TLS (or a bad certificate) says so on start-up: no point in other ports
      if (o.tls && /TLS|tls|SSL|ssl/.test(out)) {
        o.tlsRefused?.(out.split('\n').filter((l) => /TLS|tls|SSL|ssl/.test(l)).slice(0, 2).join(' ').trim());
        return undefined;
      }
      continue;
    }
    return {
      port,
      url: `${o.tls ? 'rediss' : 'redis'}://${o.password ? `:${o.password}@` : ''}127.0.0.1:${port}`,
      proc,
      stop: () =>
        new Promise<void>((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', () => resolve());
          proc.kill('SIGKILL');
        }),
    };
  }
  assert.fail('could not start redis-server on a free port');
}
