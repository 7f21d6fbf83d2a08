/** Which architectures a study scores: a seeded draw of those with ground truth for the dataset. */
import type { Benchmark } from '../benchmarks/types.js';
import type { Space } from '../spaces/types.js';
import { Rng } from '../util/rng.js';
import { SetupError } from './errors.js';

export interface StudyDraw {
  /** canonical ids of the space */
  archs: string[];
  /** ground truth, same order */
  accuracy: number[];
  /** how many were asked for */
  wanted: number;
}

/**
 * Draws in a seeded order and reads ground truth only for the architectures drawn (NATS-Bench
 * directories read one file per architecture); ids without a value for this dataset are passed over.
 */
export function drawStudyArchs(o: { bench: Benchmark; space: Space; seed: string; samples?: number; all?: boolean; dataset?: string; metric?: string }): StudyDraw {
  const ids = o.bench.archs();
  const order = o.all ? ids.map((_, i) => i) : Rng.derive(o.seed, 'study').sample(ids.length, ids.length);
  const wanted = o.all ? ids.length : Math.min(o.samples ?? 1000, ids.length);
  const chosen: string[] = [];
  const accuracy: number[] = [];
  for (const i of order) {
    if (chosen.length >= wanted) break;
    const acc = o.bench.accuracy(ids[i]!, o.dataset, o.metric);
    if (acc === undefined) continue;
    chosen.push(ids[i]!);
    accuracy.push(acc);
  }
  if (chosen.length < 2) throw new SetupError(`${o.bench.source} has fewer than 2 architectures with ${o.dataset ?? 'the default dataset\'s'} ground truth`);
  return { archs: chosen.map((a) => o.space.parse(a)), accuracy, wanted };
}
