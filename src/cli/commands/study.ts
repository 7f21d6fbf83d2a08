import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ProxyName } from '../../proxies/index.js';
import { fmtCorr } from '../../search/report.js';
import { type StudyResult, runStudy } from '../../study/run.js';
import { studySummary, writeStudyOutputs } from '../../study/outputs.js';
import { commandLine } from '../../study/provenance.js';
import { networksText, sig } from '../../study/run.js';
import { UsageError } from '../errors.js';
import { prepareOutDir } from '../out-path.js';
import { type RedisOpts, addRedisOptions, remoteOptions } from '../redis-options.js';
import { type CommonOpts, PROXY_LIST_HELP, addImageOptions, addScoringOptions, addSpaceOptions, buildOptions, ensembleSpec, int, proxies, resolveSpace } from '../options.js';
import { type GammaOpts, cachePath, downloadBar, gammaChoice, imageSpec, progressBar } from '../prepare.js';
import { type BenchOpts, addBenchmarkOptions, applyTask, openGroundTruth } from './search.js';
import { studyAblation } from './study-ablation.js';
interface StudyOpts extends CommonOpts, GammaOpts, BenchOpts, RedisOpts {
  ablation?: boolean;
  ablationBatches: string;
  ensemble?: string;
  ensembleAggregation?: 'log-rank' | 'rank';
  samples: number;
  all?: boolean;
  proxy: string;
  out?: string;
  force?: boolean;
  repeats: number;
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
    .option('--proxy <list>', PROXY_LIST_HELP, 'rbflex,naswot,params,flops')
    .option('--repeats <k>', 'repeat with k seeds (<seed>.0 .. <seed>.k-1: new images, weights and HDA gammas each) and report the spread', int('--repeats', 1, 1000), 1)
    .option('--out <dir>', 'write scores.csv, summary.json, report.md and <proxy>.svg into this folder (created if missing; checked before scoring)')
    .option('--force', 'overwrite a report already in --out')
    .option('--workers <n>', 'worker threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .option('--json', 'print the summary as JSON (no progress bar)')
    .option('--ablation', 'instead of the proxies: the RBFleX ablation (Kendall/Spearman with 95 % bootstrap intervals for each N of --ablation-batches, fixed vs HDA gammas, reference vs activations taps; with --out, resumable)')
    .option('--ablation-batches <list>', 'image counts N the ablation compares (one forward of the largest serves all)', '3,8,16,32,64');
  addRedisOptions(c)
    .addHelpText(
      'after',
      `
Reports Kendall tau-b, Spearman rho and Pearson r of each proxy's score against the benchmark's accuracy,
and top-k hit rates. -Infinity scores (singular kernels) rank below every finite score; Pearson uses the
finite scores only and says how many that was. With --repeats k the same architectures are scored under
k seeds; the report gives each seed's correlations, their mean +- std, and the correlation of the
architectures' mean rank over the seeds.

--ablation runs the RBFleX ablation instead: for N in --ablation-batches, fixed vs HDA gammas and
reference vs activations taps, RBFleX's Kendall and Spearman with 95 % bootstrap intervals and the
paired difference to the default (N=3, fixed, the space's taps); one forward of the largest N per network.
  rbflex study --ablation --space nb201 --benchmark ../shared/data/nb201/nats-tss-200ep-test.csv \
    --data ../shared/data/images/cifar10 --samples 200 --out ablation/`,
    )
    .action(async (o: StudyOpts) => {
      applyTask(o);
      if (!o.benchmark) throw new UsageError('study needs --benchmark (the ground truth to correlate with)');
      const space = resolveSpace(o.space);
      const bench = openGroundTruth(o, space.name)!;
      // NDS: the file says CIFAR or ImageNet
      if (o.dataset === undefined && space.name === 'nds') o.dataset = bench.datasets[0];
      const build = buildOptions(space, o);
      if (o.ablation) {
        if (o.repeats > 1 || o.all || o.redis || o.hda || o.gammaK !== undefined || o.taps) {
          throw new UsageError('--ablation compares taps, gammas and N itself on one seed: leave out --repeats, --all, --redis, --hda, --gamma-k/--gamma-q and --taps');
        }
        await studyAblation(o, space, bench, build);
        return;
      }
      const list: ProxyName[] = proxies(o.proxy);
      // a bad --out fails now, not after the scoring
      if (o.out) prepareOutDir('--out', o.out, ['scores.csv', 'summary.json', 'report.md', ...list.map((p) => `${p}.svg`)], o.force ?? false);
      const log = (s: string) => {
        if (!o.json) process.stderr.write(`${s}\n`);
      };
      if (!o.all && o.samples > bench.size) log(`note: --samples ${o.samples} is more than the ${bench.size} architectures ${bench.source} holds: using all of them`);
      const download = downloadBar(o);
      let bar: ReturnType<typeof progressBar> | undefined;
      let barSeed: string | undefined;
      let result: StudyResult;
      try {
        result = await runStudy({
          space,
          build,
          benchmark: bench,
          ...(o.metric ? { metric: o.metric } : {}),
          samples: o.samples,
          ...(o.all ? { all: true } : {}),
          proxies: list,
          seed: o.seed,
          repeats: o.repeats,
          images: imageSpec(o, download.onProgress),
          gammas: gammaChoice(o),
          ...(o.taps ? { taps: o.taps } : {}),
          backend: o.backend,
          ...(o.proxyInputs ? { proxyInputs: o.proxyInputs } : {}),
          ...(o.workers !== undefined ? { workers: o.workers } : {}),
          ...(cachePath(o) ? { cachePath: cachePath(o)! } : {}),
          ...(list.includes('ensemble') ? { ensemble: ensembleSpec(o) } : {}),
          ...(o.redis ? { remote: remoteOptions(o)! } : {}),
          onProgress: (p) => {
            if (p.seed !== barSeed) {
              download.stop();
              bar?.stop();
              barSeed = p.seed;
              bar = progressBar(o.repeats === 1 ? 'studying' : `seed ${p.seed}`, !o.json);
            }
            bar!.onProgress(p);
          },
          log,
          command: commandLine(['rbflex', ...process.argv.slice(2)]),
        });
      } finally {
        download.stop();
        bar?.stop();
      }
      if (o.out) {
        const written = writeStudyOutputs(o.out, result);
        log(`wrote ${written.map((f) => basename(f)).join(', ')} to ${resolve(o.out)}`);
      }
      if (o.json) {
        process.stdout.write(`${JSON.stringify(studySummary(result))}\n`);
        return;
      }
      const out = (s: string) => process.stdout.write(`${s}\n`);
      out(`${result.space} ${result.dataset ?? ''}: ${result.archs.length} architectures`);
      for (const r of result.repeats) {
        const g = r.gammas ? `; gamma_k ${sig(r.gammas.gammaK)}, gamma_q ${sig(r.gammas.gammaQ)} (${r.gammas.source})` : '';
        out(`seed ${r.seed}: images ${r.images}${g}`);
        out('  proxy        kendall  spearman  pearson   top-1%  top-5%  top-10%  -Inf/NaN  picked acc');
        for (const s of r.studies) {
          const c = s.correlations;
          const pk = r.picked.find((x) => x.proxy === s.proxy)!;
          out(
            `  ${s.proxy.padEnd(10)} ${fmtCorr(c.kendall).padStart(8)} ${fmtCorr(c.spearman).padStart(9)} ${fmtCorr(c.pearson).padStart(8)} ${s.topK.map((t) => (Number.isFinite(t.hitRate) ? t.hitRate.toFixed(3) : 'n/a').padStart(7)).join(' ')} ${String(s.degenerate).padStart(9)}  ${pk.mean.toFixed(2)} +- ${pk.std.toFixed(2)}`,
          );
        }
        out(`  (picked acc: best-scored of ${r.picked[0]?.samples} archs drawn from the studied set, ${r.picked[0]?.trials} seeded trials)`);
      }
      if (o.repeats > 1) {
        out(`across ${o.repeats} seeds:`);
        for (const s of result.spread) out(`  ${s.proxy.padEnd(10)} kendall ${fmtCorr(s.mean)} +- ${fmtCorr(s.std)}; mean-rank kendall ${fmtCorr(s.meanRank.kendall)}`);
      }
      out(networksText(result.networks, result.archs.length, result.repeats.length));
    });
}
