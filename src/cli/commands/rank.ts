import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ProxyName } from '../../proxies/index.js';
import { rankArchs, rankingCsv } from '../../search/ranking.js';
import { fmtNum } from '../../search/report.js';
import { sampleArchs } from '../../spaces/types.js';
import { Rng } from '../../util/rng.js';
import { UsageError } from '../errors.js';
import { checkOutFile } from '../out-path.js';
import { type CommonOpts, addImageOptions, addScoringOptions, addSpaceOptions, buildOptions, int, proxies, resolveSpace } from '../options.js';
import { type GammaOpts, describeImages, gammasFor, openSession, prepareImages, progressBar } from '../prepare.js';

interface RankOpts extends CommonOpts, GammaOpts {
  samples?: number;
  all?: boolean;
  proxy: string;
  by?: string;
  out?: string;
  force?: boolean;
  top: number;
  workers?: number;
  cache?: boolean;
}

export function registerRank(program: Command): void {
  const c = program
    .command('rank')
    .description('rank a whole space (or a seeded sample of it) by score and write every score to a CSV; no ground truth needed');
  addSpaceOptions(c);
  addImageOptions(c);
  addScoringOptions(c)
    .option('--samples <n>', 'architectures sampled (seeded) from the space (default 1000)', int('--samples', 1, 10_000_000))
    .option('--all', 'every architecture of the space')
    .option('--proxy <list>', 'proxies to compute (comma-separated)', 'rbflex,naswot,params,flops')
    .option('--by <proxy>', 'the proxy that orders the ranking (default: the first of --proxy)')
    .option('--out <file>', 'write the ranking here as CSV (rank,index,arch,<proxy>...); default: standard output')
    .option('--force', 'overwrite --out if it exists')
    .option('--top <k>', 'also print the k best (on stderr when the CSV goes to standard output)', int('--top', 0, 1_000_000), 10)
    .option('--workers <n>', 'worker threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .addHelpText(
      'after',
      `
Scores every chosen architecture with every proxy on one image batch (the same networks, weights and
images as search and study) and sorts them by --by, best first; -Infinity scores come last, ties go
to the lower index. "index" is the architecture's position in the space's enumeration. Scores are
cached, so a ranking of the whole space resumes where an interrupted one stopped.

Examples:
  rbflex rank --space nb201 --samples 1000 --out nb201-ranking.csv
  rbflex rank --space sss --all --proxy rbflex --data ../shared/data/images/cifar10/cifar10_batch_0.png --out sss.csv`,
    )
    .action(async (o: RankOpts) => {
      if (o.all && o.samples !== undefined) throw new UsageError('give --samples or --all, not both');
      const space = resolveSpace(o.space);
      const build = buildOptions(space, o);
      const list: ProxyName[] = proxies(o.proxy);
      const by = (o.by ?? list[0]!) as ProxyName;
      if (!list.includes(by)) throw new UsageError(`--by ${o.by} is not among --proxy ${o.proxy}`);
      if (o.out) checkOutFile('--out', o.out, o.force ?? false);
      const want = o.samples ?? 1000;
      if (!o.all && want > space.size) process.stderr.write(`note: --samples ${want} is more than the ${space.size} architectures of ${space.name}: ranking all of them\n`);
      const archs = o.all ? Array.from({ length: space.size }, (_, i) => space.archAt(i)) : sampleArchs(space, Rng.derive(o.seed, 'rank'), want);
      const log = (s: string) => process.stderr.write(`${s}\n`);
      const images = await prepareImages(space, build, o);
      const gammas = await gammasFor(list, space, build, images, o, log);
      const bar = progressBar('ranking', true);
      const session = openSession(space, build, images, o, list, gammas, bar.onProgress);
      try {
        const scores = await session.score(archs);
        bar.stop();
        const rows = rankArchs(archs, scores, by, (a) => space.indexOf(a));
        const csv = rankingCsv(rows, list);
        log(`space ${space.name}, dataset ${build.dataset ?? '-'}, images ${describeImages(o, images)}`);
        if (list.includes('rbflex')) log(`gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source})`);
        log(`${rows.length} architectures${o.all ? ' (all)' : ` sampled with seed ${o.seed}`}, ranked by ${by}; ${session.scored} scored, ${session.cached} from the cache`);
        const top = (s: string) => (o.out ? process.stdout.write(`${s}\n`) : log(s));
        if (o.top > 0) {
          top(`top ${Math.min(o.top, rows.length)} by ${by}:`);
          for (const r of rows.slice(0, o.top)) top(`  ${String(r.rank).padStart(4)}  ${by} ${fmtNum(r.scores[by], 10).padStart(16)}  ${r.arch}`);
        }
        if (o.out) {
          writeFileSync(o.out, csv);
          log(`wrote ${o.out} (${rows.length} rows)`);
        } else process.stdout.write(csv);
      } finally {
        bar.stop();
        await session.close();
      }
    });
}
