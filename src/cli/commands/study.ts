import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ProxyName } from '../../proxies/index.js';
import { type StudyRow, analyseStudy } from '../../search/protocol.js';
import { jsonSafe, scatterSvg, scoresCsv, studyMarkdown, writeStudy } from '../../search/report.js';
import { ScoringSession } from '../../search/session.js';
import { defaultWorkers } from '../../search/pool.js';
import { Rng } from '../../util/rng.js';
import { UsageError } from '../errors.js';
import { type CommonOpts, addImageOptions, addScoringOptions, addSpaceOptions, buildOptions, int, proxies, resolveSpace } from '../options.js';
import { type GammaOpts, cachePath, describeImages, prepareImages, progressBar, resolveGammas } from '../prepare.js';
import { type BenchOpts, addBenchmarkOptions, applyTask, openGroundTruth } from './search.js';

interface StudyOpts extends CommonOpts, GammaOpts, BenchOpts {
  samples: number;
  all?: boolean;
  proxy: string;
  out?: string;
  workers?: number;
  cache?: boolean;
}

export function registerStudy(program: Command): void {
  const c = program
    .command('study')
    .description('correlation study: score identical networks with every proxy and compare with ground truth');
  addSpaceOptions(c);
  addImageOptions(c);
  addBenchmarkOptions(c);
  addScoringOptions(c)
    .option('--samples <n>', 'architectures sampled (seeded) from the benchmark', int('--samples', 2, 10_000_000), 1000)
    .option('--all', 'every architecture the benchmark has')
    .option('--proxy <list>', 'proxies to compare', 'rbflex,naswot,params,flops')
    .option('--out <dir>', 'write scores.csv, summary.json, report.md and <proxy>.svg here')
    .option('--workers <n>', 'worker threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .option('--json', 'print the summary as JSON (no progress bar)')
    .addHelpText(
      'after',
      `
Reports Kendall tau-b, Spearman rho and Pearson r of each proxy's score against the benchmark's accuracy,
and top-k hit rates. -Infinity scores (singular kernels) rank below every finite score; Pearson uses the
finite scores only and says how many that was.`,
    )
    .action(async (o: StudyOpts) => {
      applyTask(o);
      if (!o.benchmark) throw new UsageError('study needs --benchmark (the ground truth to correlate with)');
      const space = resolveSpace(o.space);
      const build = buildOptions(space, o);
      const list: ProxyName[] = proxies(o.proxy);
      const bench = openGroundTruth(o, space.name)!;
      const dataset = build.dataset;
      const log = (s: string) => {
        if (!o.json) process.stderr.write(`${s}\n`);
      };
      const pool = bench.archs().filter((a) => bench.accuracy(a, dataset, o.metric) !== undefined);
      if (pool.length < 2) throw new UsageError(`${bench.source} has fewer than 2 architectures with ${dataset} ground truth`);
      const chosen = o.all ? pool : Rng.derive(o.seed, 'study').sample(pool.length, Math.min(o.samples, pool.length)).map((i) => pool[i]!);
      const archs = chosen.map((a) => space.parse(a));
      const images = await prepareImages(space, build, o);
      const gammas = list.includes('rbflex') ? await resolveGammas(space, build, images, o, log) : { gammaK: 1, gammaQ: 1, source: '-' };
      const bar = progressBar('studying', !o.json);
      const session = new ScoringSession({
        space: space.name,
        build,
        images,
        seed: o.seed,
        proxies: list,
        gammaK: gammas.gammaK,
        gammaQ: gammas.gammaQ,
        ...(o.taps ? { taps: o.taps } : {}),
        backend: o.backend,
        workers: o.workers ?? defaultWorkers(),
        cachePath: cachePath(o),
        onProgress: bar.onProgress,
      });
      try {
        const scores = await session.score(archs);
        bar.stop();
        const rows: StudyRow[] = archs.map((a, i) => ({ arch: a, accuracy: bench.accuracy(chosen[i]!, dataset, o.metric)!, scores: scores.get(a)!.scores }));
        const studies = analyseStudy(rows, list);
        const setup: [string, string][] = [
          ['space', space.name],
          ['dataset / task', dataset ?? '-'],
          ['benchmark', `${bench.source} (${bench.format})`],
          ['metric', o.metric ?? bench.metrics[0]!],
          ['architectures', `${rows.length}${o.all ? ' (all)' : ` sampled with seed ${o.seed}`}`],
          ['images', describeImages(o, images)],
          ['gammas', `gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source})`],
          ['taps', session.settings.taps],
          ['backend', o.backend],
          ['scoring time', `${(session.scoringMs / 1000).toFixed(1)} s`],
        ];
        const summary = { setup: Object.fromEntries(setup), n: rows.length, proxies: studies };
        if (o.out) {
          const plots = Object.fromEntries(list.map((p) => [p, `${p}.svg`]));
          const files: Record<string, string> = {
            'scores.csv': scoresCsv(rows, list),
            'summary.json': `${JSON.stringify(jsonSafe(summary), null, 2)}\n`,
            'report.md': studyMarkdown({ title: `RBFleX study: ${space.name} ${dataset ?? ''}`.trim(), setup, studies, n: rows.length, plots }),
          };
          for (const p of list) files[`${p}.svg`] = scatterSvg(rows, p, `${p} vs ${o.metric ?? 'accuracy'} (${space.name} ${dataset ?? ''}, n=${rows.length})`, o.metric ?? 'accuracy');
          writeStudy(o.out, files);
          log(`wrote ${Object.keys(files).join(', ')} to ${resolve(o.out)}`);
        }
        if (o.json) {
          process.stdout.write(`${JSON.stringify(jsonSafe(summary))}\n`);
          return;
        }
        const out = (s: string) => process.stdout.write(`${s}\n`);
        out(`${space.name} ${dataset ?? ''}: ${rows.length} architectures, images ${describeImages(o, images)}`);
        out('proxy        kendall  spearman  pearson   top-1%  top-5%  top-10%  -Inf');
        for (const s of studies) {
          const c = s.correlations;
          out(
            `${s.proxy.padEnd(10)} ${c.kendall.toFixed(4).padStart(8)} ${c.spearman.toFixed(4).padStart(9)} ${c.pearson.toFixed(4).padStart(8)} ${s.topK.map((t) => t.hitRate.toFixed(3).padStart(7)).join(' ')} ${String(s.degenerate).padStart(5)}`,
          );
        }
      } finally {
        bar.stop();
        await session.close();
      }
    });
}
