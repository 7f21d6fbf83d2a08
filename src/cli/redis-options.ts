/** `--redis URL` and `--chunk N` for search and study: score on `rbflex worker` processes through Redis. */
import type { Command } from 'commander';
import type { RemoteOptions } from '../distributed/coordinator.js';
import { int } from './options.js';

export interface RedisOpts {
  redis?: string;
  chunk?: number;
  json?: boolean;
}

export function addRedisOptions(c: Command): Command {
  return c
    .option('--redis <url>', 'coordinate: send the networks to `rbflex worker` processes through Redis (redis://[:password@]host[:port][/db], rediss:// for TLS)')
    .option('--chunk <n>', 'at most N networks per job with --redis (fewer when needed so every live worker gets jobs)', int('--chunk', 1, 1000), 50);
}

export function remoteOptions(o: RedisOpts): RemoteOptions | undefined {
  if (!o.redis) return undefined;
  return {
    url: o.redis,
    ...(o.chunk !== undefined ? { chunk: o.chunk } : {}),
    log: (s) => {
      if (!o.json) process.stderr.write(`${s}\n`);
    },
  };
}
