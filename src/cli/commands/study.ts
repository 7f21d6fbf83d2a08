import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ProxyName } from '../../proxies/index.js';
import { type ProxyStudy, type StudyRow, analyseStudy } from '../../search/protocol.js';
import { fmtCorr, jsonSafe, scatterSvg, scoresCsv, studyMarkdown, writeStudy } from '../../search/report.js';
import { correlations, meanStd, ranks } from '../../search/stats.js';
import { Rng } from '../../util/rng.js';
import { UsageError } from '../errors.js';
import { type CommonOpts, addImageOptions, addScoringOptions, addSpaceOptions, buildOptions, int, proxies, resolveSpace } from '../options.js';
import { type GammaOpts, describeImages, gammasFor, openSession, prepareImages, progressBar } from '../prepare.js';
import { type BenchOpts, addBenchmarkOptions, applyTask, openGroundTruth } from './search.js';

interface StudyOpts extends CommonOpts, GammaOpts, BenchOpts {
  samples: number;
  all?: boolean;
  proxy: string;
  out?: string;
  repeats: number;
  workers?: number;
  cache?: boolean;
}

interface Repeat {
  seed: string;
  images: string;
  gammas: string;
  rows: StudyRow[];
  studies: ProxyStudy[];
  seconds: number;
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
    .option('--repeats <k>', 'repeat with k seeds (<seed>.0 .. <seed>.k-1: new images, weights and HDA gammas each) and report the spread', int('--repeats', 1, 1000), 1)
    .option('--out <dir>', 'write scores.csv, summary.json, report.md and <proxy>.svg here')
    .option('--workers <n>', 'worker threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .option('--json', 'print the summary as JSON (no progress bar)')
    .addHelpText(
      'after',
      `
Reports Kendall tau-b, Spearman rho and Pearson r of each proxy's score against the benchmark's accuracy,
and top-k hit rates. -Infinity scores (singular kernels) rank below every finite score; Pearson uses the
finite scores only and says how many that was. With --repeats k the same architectures are scored under
k seeds; the report gives each seed's correlations, their mean +- std, and the correlation of the
architectures' mean rank over the seeds.`,
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
      // draw in a seeded order and read ground truth only for the architectures drawn (NATS-Bench
      // directories read one file per architecture); ids without a value for this dataset are passed over
      const ids = bench.archs();
      const order = o.all ? ids.map((_, i) => i) : Rng.derive(o.seed, 'study').sample(ids.length, ids.length);
      const want = o.all ? ids.length : Math.min(o.samples, ids.length);
      const chosen: string[] = [];
      const accuracy: number[] = [];
      for (const i of order) {
        if (chosen.length >= want) break;
        const acc = bench.accuracy(ids[i]!, dataset, o.metric);
        if (acc === undefined) continue;
        chosen.push(ids[i]!);
        accuracy.push(acc);
      }
      if (chosen.length < 2) throw new UsageError(`${bench.source} has fewer than 2 architectures with ${dataset} ground truth`);
      if (chosen.length < want) log(`${bench.source}: only ${chosen.length} architectures have ${dataset} ground truth`);
      const archs = chosen.map((a) => space.parse(a));

      const repeats: Repeat[] = [];
      for (let r = 0; r < o.repeats; r++) {
        const seed = o.repeats === 1 ? o.seed : `${o.seed}.${r}`;
        const ro = { ...o, seed };
        const images = await prepareImages(space, build, ro);
        const gammas = await gammasFor(list, space, build, images, ro, log);
        const bar = progressBar(o.repeats === 1 ? 'studying' : `seed ${seed}`, !o.json);
        const session = openSession(space, build, images, ro, list, gammas, bar.onProgress);
        try {
          const scores = await session.score(archs);
          bar.stop();
          const rows: StudyRow[] = archs.map((a, i) => ({ arch: a, accuracy: accuracy[i]!, scores: scores.get(a)!.scores }));
          repeats.push({
            seed,
            images: describeImages(ro, images),
            gammas: `gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source})`,
            rows,
            studies: analyseStudy(rows, list),
            seconds: session.scoringMs / 1000,
          });
        } finally {
          bar.stop();
          await session.close();
        }
      }

      const first = repeats[0]!;
      // across seeds: spread of each correlation, and the correlation of the mean rank
      const spread = list.map((p) => {
        const taus = repeats.map((r) => r.studies.find((s) => s.proxy === p)!.correlations.kendall);
        const meanRank = new Float64Array(archs.length);
        for (const r of repeats) ranks(r.rows.map((x) => x.scores[p]!)).forEach((v, i) => (meanRank[i]! += v / repeats.length));
        return { proxy: p, kendall: taus, ...meanStd(taus), meanRank: correlations([...meanRank], accuracy) };
      });
      const setup: [string, string][] = [
        ['space', space.name],
        ['dataset / task', dataset ?? '-'],
        ['benchmark', `${bench.source} (${bench.format})`],
        ['metric', o.metric ?? bench.metrics[0]!],
        ['architectures', `${archs.length}${o.all ? ' (all)' : ` sampled with seed ${o.seed}`}`],
        ['images', o.repeats === 1 ? first.images : `${o.batch} per network, a new draw per seed (${o.data})`],
        ['gammas', o.repeats === 1 ? first.gammas : repeats.map((r) => `[${r.seed}] ${r.gammas}`).join('; ')],
        ['taps', o.taps ?? space.defaultTaps],
        ['backend', o.backend],
        ['seeds', repeats.map((r) => r.seed).join(', ')],
        ['scoring time', `${repeats.reduce((a, r) => a + r.seconds, 0).toFixed(1)} s`],
      ];
      const summary = {
        setup: Object.fromEntries(setup),
        n: archs.length,
        proxies: first.studies,
        ...(o.repeats > 1 ? { repeats: repeats.map((r) => ({ seed: r.seed, gammas: r.gammas, proxies: r.studies })), acrossSeeds: spread } : {}),
      };
      if (o.out) {
        const plots = Object.fromEntries(list.map((p) => [p, `${p}.svg`]));
        let md = studyMarkdown({ title: `RBFleX study: ${space.name} ${dataset ?? ''}`.trim(), setup, studies: first.studies, n: archs.length, plots });
        if (o.repeats > 1) md += acrossSeedsMarkdown(spread, repeats.map((r) => r.seed));
        const files: Record<string, string> = {
          'scores.csv': o.repeats === 1 ? scoresCsv(first.rows, list) : repeats.map((r, i) => scoresCsv(r.rows, list, r.seed, i === 0)).join(''),
          'summary.json': `${JSON.stringify(jsonSafe(summary), null, 2)}\n`,
          'report.md': md,
        };
        for (const p of list) files[`${p}.svg`] = scatterSvg(first.rows, p, `${p} vs ${o.metric ?? 'accuracy'} (${space.name} ${dataset ?? ''}, n=${archs.length}, seed ${first.seed})`, o.metric ?? 'accuracy');
        writeStudy(o.out, files);
        log(`wrote ${Object.keys(files).join(', ')} to ${resolve(o.out)}`);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(jsonSafe(summary))}\n`);
        return;
      }
      const out = (s: string) => process.stdout.write(`${s}\n`);
      out(`${space.name} ${dataset ?? ''}: ${archs.length} architectures`);
      for (const r of repeats) {
        out(`seed ${r.seed}: images ${r.images}${list.includes('rbflex') ? `; ${r.gammas}` : ''}`);
        out('  proxy        kendall  spearman  pearson   top-1%  top-5%  top-10%  -Inf');
        for (const s of r.studies) {
          const c = s.correlations;
          out(
            `  ${s.proxy.padEnd(10)} ${fmtCorr(c.kendall).padStart(8)} ${fmtCorr(c.spearman).padStart(9)} ${fmtCorr(c.pearson).padStart(8)} ${s.topK.map((t) => t.hitRate.toFixed(3).padStart(7)).join(' ')} ${String(s.degenerate).padStart(5)}`,
          );
        }
      }
      if (o.repeats > 1) {
        out(`across ${o.repeats} seeds:`);
        for (const s of spread) out(`  ${s.proxy.padEnd(10)} kendall ${fmtCorr(s.mean)} +- ${fmtCorr(s.std)}; mean-rank kendall ${fmtCorr(s.meanRank.kendall)}`);
      }
    });
}

function acrossSeedsMarkdown(spread: { proxy: string; kendall: number[]; mean: number; std: number; meanRank: { kendall: number; spearman: number } }[], seeds: string[]): string {
  const lines = ['', `## Across ${seeds.length} seeds`, '', `| proxy | ${seeds.map((s) => `tau [${s}]`).join(' | ')} | mean +- std | tau of mean rank |`, `|---|${seeds.map(() => '---|').join('')}---|---|`];
  for (const s of spread) {
    lines.push(`| ${s.proxy} | ${s.kendall.map((t) => fmtCorr(t)).join(' | ')} | ${fmtCorr(s.mean)} +- ${fmtCorr(s.std)} | ${fmtCorr(s.meanRank.kendall)} |`);
  }
  return `${lines.join('\n')}\n`;
}
