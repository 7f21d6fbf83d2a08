/**
 * Agreement with NASLib's published zero-cost values on NB201 (../shared/data/naslib-zc/zc_nasbench201.json,
 * ~490 archs per dataset): Spearman between rbflex's value and NASLib's, per proxy, over the same archs.
 * The weights differ (seeded PyTorch-default init on both sides, different streams), so equality is not
 * expected; the ceiling is rbflex's own seed-to-seed Spearman (printed beside it with --seeds 2).
 *
 *   node dist/bench/naslib-zc.js [--dataset cifar10] [--archs 491 | --sample K] [--seeds 1|2]
 *                                [--proxies synflow,snip,...] [--data PNG] [--workers 2]
 * --archs N takes the first N archs of the file, --sample K a seeded sample of K (the data test's);
 * --dump FILE writes every arch's values (NASLib's and rbflex's per seed) as JSON.
 * Prints a table; asserts nothing (test/naslib-agreement.test.ts checks a subset).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNaslibZc } from '../src/benchmarks/naslib-zc.js';
import { loadImages } from '../src/data/index.js';
import { type ProxyName, parseProxyList } from '../src/proxies/index.js';
import { spearman } from '../src/search/stats.js';
import { ScoringSession } from '../src/search/session.js';
import { rankValue } from '../src/search/protocol.js';
import { Rng } from '../src/util/rng.js';

export { naslibKeyToArch, type NaslibRow } from '../src/benchmarks/naslib-zc.js';

/** Spearman over archs where both sides are finite. */
export function agreement(ours: number[], theirs: number[]): { rho: number; n: number } {
  const keep = ours.map((v, i) => Number.isFinite(v) && Number.isFinite(theirs[i]!));
  const a = ours.filter((_, i) => keep[i]);
  const b = theirs.filter((_, i) => keep[i]);
  return { rho: spearman(a.map(rankValue), b), n: a.length };
}

/** The first k of a seeded permutation of the rows, in file order (the data test's subset; smaller k, nested subsets). */
export function naslibSample<T>(rows: readonly T[], k: number): T[] {
  return new Rng('naslib-zc-sample')
    .sample(rows.length, rows.length)
    .slice(0, Math.min(k, rows.length))
    .sort((a, b) => a - b)
    .map((i) => rows[i]!);
}

export async function scoreNaslibArchs(o: { archs: string[]; proxies: ProxyName[]; dataset: string; data: string; seed: string; workers: number; augment: boolean; onProgress?: (done: number, total: number) => void }) {
  const images = await loadImages(o.data, { dataset: o.dataset, n: 3, seed: o.seed, augment: o.augment });
  const data = await loadImages(o.data, { dataset: o.dataset, n: 32, seed: o.seed, augment: o.augment });
  const session = new ScoringSession({
    space: 'nb201',
    build: { dataset: o.dataset },
    images,
    data,
    seed: o.seed,
    proxies: o.proxies,
    gammaK: 1,
    gammaQ: 1,
    workers: o.workers,
    ...(o.onProgress ? { onProgress: (p: { done: number; total: number }) => o.onProgress!(p.done, p.total) } : {}),
  });
  try {
    return await session.score(o.archs);
  } finally {
    await session.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (k: string, d: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1]! : d;
  };
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const shared = process.env.RBFLEX_SHARED_DATA ?? join(root, '..', 'shared', 'data');
  const dataset = get('--dataset', 'cifar10');
  const proxies = parseProxyList(get('--proxies', 'synflow,snip,grad_norm,jacov,grasp,fisher'));
  const seeds = Number(get('--seeds', '1'));
  const all = readNaslibZc(join(shared, 'naslib-zc', 'zc_nasbench201.json'), dataset);
  const rows = args.includes('--sample') ? naslibSample(all, Number(get('--sample', '40'))) : all.slice(0, Number(get('--archs', '100000')));
  const data = get('--data', join(shared, 'images', 'cifar10', 'cifar10_batch_0.png'));
  const perSeed: Map<string, { scores: Partial<Record<ProxyName, number>> }>[] = [];
  for (let s = 1; s <= seeds; s++) {
    const t0 = performance.now();
    const r = await scoreNaslibArchs({
      archs: rows.map((x) => x.arch),
      proxies,
      dataset,
      data,
      seed: String(s),
      workers: Number(get('--workers', '2')),
      augment: !args.includes('--no-augment'),
      onProgress: (d, t) => {
        if (d % 5 === 0 || d === t) process.stderr.write(`seed ${s}: ${d}/${t} networks, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      },
    });
    perSeed.push(r);
    process.stderr.write(`seed ${s}: ${rows.length} archs in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const key = (p: string) => p;
  if (args.includes('--dump')) {
    const dump = rows.map((x) => ({ arch: x.arch, naslib: x.values, rbflex: perSeed.map((m) => m.get(x.arch)!.scores) }));
    writeFileSync(get('--dump', 'naslib-zc.json'), JSON.stringify(dump));
  }
  console.log(`NASLib agreement, NB201 ${dataset}, ${rows.length} archs (Spearman of rbflex's value vs NASLib's published value)`);
  console.log('proxy       rho(seed 1)  n    ' + (seeds > 1 ? 'rho(seed 2)  seed-to-seed rho' : ''));
  for (const p of proxies) {
    const theirs = rows.map((x) => x.values[key(p)] ?? NaN);
    const cols = perSeed.map((m) => agreement(rows.map((x) => m.get(x.arch)!.scores[p] ?? NaN), theirs));
    let line = `${p.padEnd(11)} ${cols[0]!.rho.toFixed(4).padStart(10)}  ${String(cols[0]!.n).padStart(4)}`;
    if (seeds > 1) {
      const a = rows.map((x) => perSeed[0]!.get(x.arch)!.scores[p] ?? NaN);
      const b = rows.map((x) => perSeed[1]!.get(x.arch)!.scores[p] ?? NaN);
      line += `   ${cols[1]!.rho.toFixed(4).padStart(10)}  ${agreement(a, b).rho.toFixed(4).padStart(10)}`;
    }
    console.log(line);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
