/** Worker thread: builds a Scorer from workerData and scores the architectures it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ImageBatch } from '../backends/types.js';
import type { ProxyName } from '../proxies/index.js';
import { Scorer, type ScorerConfig } from './scorer.js';

interface Init {
  config: ScorerConfig;
  images: ImageBatch;
}

const { config, images } = workerData as Init;
const scorer = new Scorer(config, images);

parentPort!.on('message', (msg: { id: number; arch: string; only?: ProxyName[] }) => {
  scorer.score(msg.arch, msg.only).then(
    (result) => parentPort!.postMessage({ id: msg.id, result }),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const name = e.constructor?.name && e.constructor.name !== 'Error' ? e.constructor.name : e.name;
      parentPort!.postMessage({ id: msg.id, error: { name, message: e.message, stack: e.stack } });
    },
  );
});
