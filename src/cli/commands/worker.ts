/** `rbflex worker --redis URL`: a scoring worker for `search|study --redis URL` coordinators. */
import type { Command } from 'commander';
import { runWorker } from '../../distributed/worker.js';
import { int } from '../options.js';

interface WorkerOpts {
  redis: string;
  workers?: number;
  concurrency: number;
  lockSeconds: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('score networks for coordinators on other machines: take jobs from Redis (BullMQ), score them, send the scores back')
    .requiredOption('--redis <url>', 'the Redis the coordinator uses: redis://[:password@]host[:port][/db], rediss:// for TLS')
    .option('--workers <n>', 'scoring threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--concurrency <k>', 'jobs taken at once (each is ~50 networks spread over the threads)', int('--concurrency', 1, 64), 1)
    .option('--lock-seconds <s>', 'a job whose worker stops answering for this long goes to another worker', int('--lock-seconds', 1, 3600), 30)
    .addHelpText(
      'after',
      `
Start Redis (apt-get install redis-server, or any managed Redis), run "rbflex worker --redis URL" on each
machine, then run "rbflex study|search ... --redis URL" anywhere: it sends the networks not in its cache as
jobs of --chunk networks and writes exactly what a local run writes. Workers need no shared files: images
travel through Redis. SIGTERM / Ctrl-C finish the current job, then stop. Coordinator and workers must run
the same rbflex: a worker refuses jobs from another engine version, saying so.`,
    )
    .action(async (o: WorkerOpts) => {
      await runWorker({ url: o.redis, ...(o.workers !== undefined ? { workers: o.workers } : {}), concurrency: o.concurrency, lockMs: o.lockSeconds * 1000 });
    });
}
