/** `rbflex worker --redis URL`: a scoring worker for `search|study --redis URL` coordinators. */
import type { Command } from 'commander';
import { runWorker } from '../../distributed/worker.js';
import { int } from '../options.js';
import { leaveInterrupts } from '../terminal.js';

interface WorkerOpts {
  redis: string;
  workers?: number;
  concurrency: number;
  lockSeconds: number;
  graceSeconds: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('score networks for coordinators on other machines: take jobs from Redis (BullMQ), score them, send the scores back')
    .requiredOption('--redis <url>', 'the Redis the coordinator uses: redis://[:password@]host[:port][/db], rediss:// for TLS')
    .option('--workers <n>', 'scoring threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--concurrency <k>', 'jobs scored at once (each is ~50 networks spread over the threads; one more is fetched ahead, so the threads never wait between jobs)', int('--concurrency', 1, 64), 1)
    .option('--lock-seconds <s>', 'a job whose worker stops answering for this long goes to another worker', int('--lock-seconds', 1, 3600), 30)
    .option('--grace-seconds <s>', 'after SIGTERM / Ctrl-C, how long the current job may run before it goes back to the queue', int('--grace-seconds', 0, 3600), 25)
    .addHelpText(
      'after',
      `
Start Redis (apt-get install redis-server, or any managed Redis), run "rbflex worker --redis URL" on each
machine, then run "rbflex study|search ... --redis URL" anywhere: it sends the networks not in its cache as
jobs of --chunk networks and writes exactly what a local run writes. Workers need no shared files: images
travel through Redis. SIGTERM / Ctrl-C: take no new job, put the one fetched ahead back, finish the current one, exit 0; a second signal (or
--grace-seconds) puts it back in the queue for another worker at once. Each rbflex engine has its own queue:
a worker never takes the jobs of a coordinator on another rbflex (it says so in its log), and such a
coordinator stops with a message when no worker of its own version is running.
Private CA for rediss://: NODE_EXTRA_CA_CERTS=/path/ca.pem rbflex worker --redis rediss://...`,
    )
    .action(async (o: WorkerOpts) => {
      leaveInterrupts(); // runWorker stops gracefully on SIGTERM / SIGINT
      await runWorker({ url: o.redis, ...(o.workers !== undefined ? { workers: o.workers } : {}), concurrency: o.concurrency, lockMs: o.lockSeconds * 1000, graceMs: o.graceSeconds * 1000 });
      // stopped: nothing of this process is left to finish (a Redis client reconnecting in vain must not keep it alive)
      process.exit(0);
    });
}
