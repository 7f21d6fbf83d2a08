/** Redis URLs (redis://[:password@]host[:port][/db], rediss:// for TLS) as connection options, and a printable form without the password. */
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';

export class DistributedError extends Error {
  override name = 'DistributedError';
}

export interface RedisTarget {
  options: RedisOptions;
  /** the URL with any password replaced by *** (safe to print) */
  shown: string;
  /** the secret, to scrub from any message before printing */
  password?: string;
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DistributedError(`--redis: not a URL (expected redis://[:password@]host[:port][/db] or rediss://...)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new DistributedError(`--redis: the scheme must be redis:// or rediss:// (TLS), got ${u.protocol}//`);
  }
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0 || db > 1_000_000) throw new DistributedError(`--redis: the database number must be an integer, got "${u.pathname.slice(1)}"`);
  const shownUrl = new URL(u.href);
  if (shownUrl.password) shownUrl.password = '***';
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const options: RedisOptions = {
    host,
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    // TLS: the certificate is checked against the host name (or IP address: SNI carries no addresses)
    ...(u.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
  };
  return { options, shown: shownUrl.href, ...(password ? { password } : {}) };
}

/** a message with the password removed, whatever produced it */
export function scrub(message: string, t: RedisTarget): string {
  return t.password ? message.split(t.password).join('***') : message;
}
