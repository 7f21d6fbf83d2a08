/**
 * The main job's built-in default data: `rbflex search` with no --data and no --benchmark uses the
 * shared CIFAR-10 images and the NAS-Bench-201 ground truth when the shared data folder is present
 * (`$RBFLEX_SHARED_DATA`, else `../shared/data` beside the package), and seeded synthetic images
 * otherwise. Either way one note line says which data the run used.
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** the files used from the shared data folder */
export const SHARED_IMAGES = 'images/cifar10/cifar10_batch_0.png';
export const SHARED_NB201_TRUTH = 'nb201/nats-tss-200ep-test.csv';

/** `$RBFLEX_SHARED_DATA`, else `<package root>/../shared/data` (this file is dist/src/cli/default-data.js) */
export function sharedDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RBFLEX_SHARED_DATA) return resolve(env.RBFLEX_SHARED_DATA);
  return resolve(fileURLToPath(new URL('../../../', import.meta.url)), '..', 'shared', 'data');
}

export interface DefaultData {
  /** the --data to use, when the user gave none */
  data?: string;
  /** the --benchmark to use, when the user gave none */
  benchmark?: string;
  /** one line for the log */
  note?: string;
}

/**
 * What `search` uses when --data and/or --benchmark were not given. Only NB201 has shared ground
 * truth; the shared images are CIFAR-10, so they are the default for --dataset cifar10 only. Other
 * spaces get nothing (synthetic images, as before, and no note).
 */
export function searchDefaults(o: { space: string; dataset?: string; dataGiven: boolean; benchmarkGiven: boolean; dir?: string }): DefaultData {
  // only NB201 has shared ground truth and CIFAR-10 images; other spaces keep synthetic images, unannounced
  if ((o.dataGiven && o.benchmarkGiven) || o.space !== 'nb201') return {};
  const dir = o.dir ?? sharedDataDir();
  const show = (p: string) => {
    const r = relative(process.cwd(), p);
    return r.length < p.length ? r : p;
  };
  const images = join(dir, SHARED_IMAGES);
  const truth = join(dir, SHARED_NB201_TRUTH);
  const useImages = !o.dataGiven && (o.dataset ?? 'cifar10') === 'cifar10' && existsSync(images);
  const useTruth = !o.benchmarkGiven && existsSync(truth);
  const out: DefaultData = {};
  if (useImages) out.data = images;
  if (useTruth) out.benchmark = truth;
  const parts: string[] = [];
  if (useImages) parts.push(`the shared CIFAR-10 images (${show(images)})`);
  else if (!o.dataGiven) parts.push('seeded synthetic images');
  if (useTruth) parts.push(`the NAS-Bench-201 ground truth (${show(truth)})`);
  else if (!o.benchmarkGiven) parts.push('no ground truth, so no accuracies');
  const why = useImages || useTruth ? `found in ${show(dir)}` : existsSync(dir) ? `${show(dir)} lacks ${SHARED_NB201_TRUTH}` : `${show(dir)} not found`;
  out.note = `note: ${!o.dataGiven && !o.benchmarkGiven ? 'no --data or --benchmark given' : !o.dataGiven ? 'no --data given' : 'no --benchmark given'}: using ${parts.join(' and ')} (${why}; give --data/--benchmark to choose)`;
  return out;
}
