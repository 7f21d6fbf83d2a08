import { type Command, Option } from 'commander';
import type { Benchmark } from '../../benchmarks/types.js';
import { NatsBenchmark, openBenchmark } from '../../benchmarks/index.js';
import type { ProxyName } from '../../proxies/index.js';
import { EVOLUTION_DEFAULTS } from '../../search/evolution.js';
import { STRATEGIES, STRATEGY_NAMES, type StrategyName } from '../../search/strategy.js';
import { published } from '../../search/published.js';
import { fmtNum, jsonSafe } from '../../search/report.js';
import { UsageError } from '../errors.js';
import { searchDefaults } from '../default-data.js';
import { type RedisOpts, addRedisOptions } from '../redis-options.js';
import { type CommonOpts, PROXY_LIST_HELP, addImageOptions, addScoringOptions, addSpaceOptions, buildOptions, int, proxies, resolveSpace } from '../options.js';
import { type GammaOpts, describeImages, gammasFor, openSession, prepareImages, progressBar, proxyData } from '../prepare.js';

export interface BenchOpts {
  benchmark?: string;
  metric?: string;
  hp?: string;
  benchSeed?: 'mean' | number;
  task?: string;
}

interface SearchOpts extends CommonOpts, GammaOpts, BenchOpts, RedisOpts {
  samples: number;
  trials: number;
  proxy: string;
  workers?: number;
  cache?: boolean;
  strategy: StrategyName;
  population?: number;
  tournament?: number;
}

export function addBenchmarkOptions(c: Command): Command {
  return c
    .option('--benchmark <path>', 'ground truth: NB201 CSV, NATS-Bench directory (NATS-tss-v1_0-3ffb9-simple / NATS-sss-v1_0-50262-simple), TransNAS json, NAFBee json or NDS json')
    .option('--metric <name>', 'ground-truth metric (default: the benchmark\'s test accuracy)')
    .option('--hp <epochs>', 'NATS-Bench training schedule: 12 or 200 (TSS), 90 (SSS)')
    .option('--bench-seed <s>', "NATS-Bench directories: 'mean' over training seeds (default) or one seed, e.g. 777", (v: string) => {
      if (v === 'mean') return 'mean';
      if (!/^\d+$/.test(v)) throw new UsageError(`--bench-seed must be 'mean' or a seed number, got "${v}"`);
      return Number(v);
    })
    .option('--task <name>', 'TransNAS-Bench-101 task (same as --dataset for transnas spaces)');
}

export function openGroundTruth(o: BenchOpts, space: string): Benchmark | undefined {
  if (!o.benchmark) return undefined;
  const b = openBenchmark(o.benchmark, { ...(o.hp ? { hp: o.hp } : {}), ...(o.benchSeed !== undefined ? { seed: o.benchSeed } : {}), space });
  // --hp and --bench-seed choose inside a NATS-Bench directory; any other benchmark holds one schedule
  if (!(b instanceof NatsBenchmark)) {
    const given = [o.hp !== undefined ? '--hp' : '', o.benchSeed !== undefined ? '--bench-seed' : ''].filter(Boolean);
    if (given.length > 0) {
      throw new UsageError(`${given.join(' and ')} appl${given.length > 1 ? 'y' : 'ies'} to NATS-Bench directories only; ${o.benchmark} (${b.format}) holds one training schedule: drop ${given.length > 1 ? 'them' : 'it'}`);
    }
  }
  // a benchmark of family X serves the space X and its variants X-<network> (nafbee -> nafbee-vgg19)
  if (b.space !== space && !space.startsWith(`${b.space}-`)) {
    throw new UsageError(`--benchmark ${o.benchmark} holds ${b.space} architectures, not ${space}`);
  }
  return b;
}

export function applyTask(o: CommonOpts & BenchOpts): void {
  if (o.task) {
    if (o.dataset && o.dataset !== o.task) throw new UsageError('--task and --dataset disagree; give one');
    o.dataset = o.task;
  }
}

export function registerSearch(program: Command): void {
  const c = program
    .command('search')
    .description('the RBFleX-NAS search protocol: sample S networks, pick the best score, repeat T independent trials')
  addSpaceOptions(c);
  addImageOptions(c);
  addBenchmarkOptions(c);
  addScoringOptions(c)
    .option('--samples <s>', 'networks scored per trial (S): sampled (random) or the evolution budget', int('--samples', 1, 10_000_000), 1000)
    .addOption(new Option('--strategy <name>', 'random: the paper protocol (sample S, pick the best); evolution: regularised evolution with the proxy as fitness').choices([...STRATEGY_NAMES]).default('random'))
    .option('--population <p>', `evolution: population size (default ${EVOLUTION_DEFAULTS.population})`, int('--population', 2, 100000))
    .option('--tournament <k>', `evolution: tournament size (default ${EVOLUTION_DEFAULTS.tournament})`, int('--tournament', 1, 100000))
    .option('--trials <t>', 'independent trials (T)', int('--trials', 1, 10000), 10)
    .option('--proxy <list>', PROXY_LIST_HELP, 'rbflex')
    .option('--workers <n>', 'worker threads (default: 1 per core)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .option('--json', 'print the result as one JSON object (no progress bar)');
  addRedisOptions(c)
    .addHelpText(
      'after',
      `
Each trial draws its own S architectures uniformly without replacement (seeded), scores them on one fixed
image batch, and picks the highest score. With --strategy evolution each trial instead runs regularised
evolution (Real et al. 2019): a random population of P, tournaments of k, the fittest member mutated (one
op, one input edge or one width), the oldest member retired, until S distinct networks are scored; each
proxy is its own fitness and the pick is the fittest network scored. Evolution needs a space with a
mutation (nb201, sss, darts, transnas-micro/macro, nafbee-vgg19). With --benchmark the picks' ground-truth accuracies are reported
as mean +- std over trials (population std, as the reference). Search time counts scoring only, not
benchmark look-ups. Scores are cached (SQLite) so an interrupted search resumes where it stopped.
Built-in default for nb201 without --data / --benchmark: the shared CIFAR-10 images and NAS-Bench-201
ground truth when the shared data folder is present ($RBFLEX_SHARED_DATA, else ../shared/data beside
rbflex), otherwise seeded synthetic Gaussian images and no accuracies; a note line says which.`,
    )
    .action(async (o: SearchOpts, cmd: Command) => {
      applyTask(o);
      const space = resolveSpace(o.space);
      const log = (s: string) => {
        if (!o.json) process.stderr.write(`${s}\n`);
      };
      // the built-in default: shared CIFAR-10 images and NB201 truth when present, else synthetic
      const defaults = searchDefaults({ space: space.name, dataset: o.dataset ?? space.datasets[0], dataGiven: cmd.getOptionValueSource('data') !== 'default', benchmarkGiven: o.benchmark !== undefined });
      if (defaults.data) o.data = defaults.data;
      if (defaults.benchmark) o.benchmark = defaults.benchmark;
      const bench = openGroundTruth(o, space.name);
      if (o.dataset === undefined && space.name === 'nds' && bench) o.dataset = bench.datasets[0];
      const build = buildOptions(space, o);
      const list: ProxyName[] = proxies(o.proxy);
      const images = await prepareImages(space, build, o, bench && space.name === 'nds' ? space.parse(bench.archs()[0]!) : undefined);
      // said once the data opened: an error stays one line
      if (defaults.note) log(defaults.note);
      const gammas = await gammasFor(list, space, build, images, o, log);
      if ((o.population !== undefined || o.tournament !== undefined) && o.strategy !== 'evolution') {
        throw new UsageError('--population and --tournament apply to --strategy evolution');
      }
      if (o.strategy === 'evolution' && !space.mutate) throw new UsageError(`--strategy evolution: space ${space.name} has no mutation`);
      const population = o.population ?? EVOLUTION_DEFAULTS.population;
      const tournament = o.tournament ?? EVOLUTION_DEFAULTS.tournament;
      if (tournament > population) throw new UsageError(`--tournament ${tournament} is larger than the population (${population})`);
      const bar = progressBar('searching', !o.json);
      // evolution scores a network at a time from many runs at once: it reports progress itself
      const evolve = o.strategy === 'evolution';
      const session = openSession(space, build, images, o, list, gammas, evolve ? () => {} : bar.onProgress, undefined, await proxyData(space, build, o, list));
      const dataset = build.dataset;
      const accuracy = bench ? (a: string) => bench.accuracy(a, dataset, o.metric) : undefined;
      try {
        // a benchmark that covers only part of the space: sample from the architectures it has
        const pool = bench && bench.size < space.size ? bench.archs().map((a) => space.parse(a)) : undefined;
        if (pool) log(`the benchmark holds ${pool.length} of the space's ${space.size} architectures: sampling from those`);
        const available = pool?.length ?? space.size;
        if (o.samples > available) log(`note: --samples ${o.samples} is more than the ${available} architectures available: each trial takes all ${available}`);
        const res = await STRATEGIES[o.strategy].run({
          space,
          ...(evolve ? { evolution: { population, tournament }, onProgress: (done: number, total: number) => bar.onProgress({ done, total, cached: 0 }) } : {}),
          seed: o.seed,
          samples: o.samples,
          trials: o.trials,
          proxies: list,
          score: (a) => session.score(a),
          ...(accuracy ? { accuracy } : {}),
          ...(pool ? { pool } : {}),
          scoringMs: () => session.scoringMs,
        });
        bar.stop();
        const pub = published(space.name, dataset);
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify(
              jsonSafe({
                space: space.name,
                dataset,
                strategy: o.strategy,
                ...(evolve ? { population, tournament } : {}),
                images: describeImages(o, images),
                gammas,
                benchmark: bench?.source,
                ...res,
                // trials numbered from 1, as in the text output
                picks: Object.fromEntries(Object.entries(res.picks).map(([p, ts]) => [p, ts.map((t) => ({ ...t, trial: t.trial + 1 }))])),
                searchSeconds: res.searchMs / 1000,
                networks: { scored: session.scored, cached: session.cached, computeSeconds: (session.computeMs + session.cachedComputeMs) / 1000 },
                published: pub,
              }),
            )}\n`,
          );
          return;
        }
        log(`space ${space.name}, dataset ${dataset ?? '-'}, images ${describeImages(o, images)}`);
        if (list.includes('rbflex')) log(`gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source}), taps ${session.settings.taps}`);
        const out = (s: string) => process.stdout.write(`${s}\n`);
        for (const p of list) {
          out(`\n${p}: ${res.trials} trials x ${res.samples} ${evolve ? `networks scored by evolution (population ${population}, tournament ${tournament})` : 'samples'}`);
          for (const t of res.picks[p]!) {
            out(`  trial ${String(t.trial + 1).padStart(2)}  score ${fmtNum(t.score, 10).padStart(16)}  ${t.accuracy === undefined ? '' : `acc ${t.accuracy.toFixed(2)}  `}${t.arch}`);
          }
          const s = res.summary[p];
          if (s) out(`  ${p} picks: test accuracy ${s.mean.toFixed(2)} +- ${s.std.toFixed(2)} (mean +- std over ${res.trials} trials)`);
        }
        // the answer: the best-scoring pick over all trials, and where ground truth is known how good it is
        const truth = bench && !(bench instanceof NatsBenchmark) ? bench.archs().map((a) => bench.accuracy(a, dataset, o.metric)).filter((v): v is number => v !== undefined) : undefined;
        const bestPossible = truth?.length ? Math.max(...truth) : pub?.optimum;
        out('');
        for (const p of list) {
          const best = res.picks[p]!.reduce((a, t) => (t.score > a.score ? t : a));
          let acc = '';
          if (best.accuracy !== undefined) {
            const rank = truth ? 1 + truth.filter((v) => v > best.accuracy!).length : undefined;
            acc = `; test accuracy ${best.accuracy.toFixed(2)} %${bestPossible !== undefined ? ` (best possible ${bestPossible.toFixed(2)} %` : ''}${rank !== undefined ? `, rank ${rank} of ${truth!.length}` : ''}${bestPossible !== undefined ? ')' : ''}`;
          }
          out(`answer (${p}): ${best.arch}  score ${fmtNum(best.score, 10)}${acc}`);
        }
        if (pub && bench) {
          const parts = [];
          if (pub.optimum !== undefined) parts.push(`best in space ${pub.optimum}`);
          if (pub.naswot !== undefined && list.includes('naswot')) parts.push(`NASWOT paper (N=1000) ${pub.naswot}`);
          if (parts.length) out(`\npublished (${dataset}): ${parts.join(', ')}`);
        }
        out(
          `\nsearch time ${(res.searchMs / 1000).toFixed(1)} s for ${res.uniqueArchs} distinct networks (${session.scored} scored, ${session.cached} from the cache; ${(res.searchMs / 1000 / res.trials).toFixed(1)} s per trial; ${evolve ? 'wall time of all runs' : 'scoring only, benchmark look-ups excluded'}); compute time of the scores ${((session.computeMs + session.cachedComputeMs) / 1000).toFixed(1)} s over all runs (summed over networks)`,
        );
      } finally {
        bar.stop();
        await session.close();
      }
    });
}
