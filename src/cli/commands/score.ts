import { type Command, Option } from 'commander';
import { type OnnxRun, scoreOnnxModels } from './score-onnx.js';
import type { ProxyName } from '../../proxies/index.js';
import { jsonSafe, fmtNum } from '../../search/report.js';
import { defaultWorkers } from '../../search/pool.js';
import { UsageError } from '../errors.js';
import {
  type CommonOpts,
  addImageOptions,
  addScoringOptions,
  addSpaceOptions,
  buildOptions,
  int,
  PROXY_LIST_HELP,
  proxies,
  resolveSpace,
} from '../options.js';
import { type GammaOpts, describeImages, gammasFor, openSession, prepareImages, progressBar, proxyData } from '../prepare.js';

interface ScoreOpts extends CommonOpts, GammaOpts {
  arch?: string[];
  onnx?: string[];
  bnMode: 'train' | 'eval';
  classifierInput?: string;
  onnxRun?: OnnxRun;
  proxy: string;
  workers?: number;
  cache?: boolean;
}

export function registerScore(program: Command): void {
  const c = program
    .command('score')
    .description('score one or more architectures with RBFleX (and peer proxies) on a batch of images')
    .option('--arch <id>', 'architecture id; repeat for several', (v: string, prev: string[] = []) => [...prev, v])
    .option('--onnx <files...>', 'score your own ONNX image classifiers (files or folders of .onnx files; repeatable) instead of a space\'s architectures')
    .addOption(new Option('--bn-mode <mode>', 'with --onnx: BatchNormalization in training mode (per-image statistics, as the reference treats an untrained model) or inference mode (running statistics)').choices(['train', 'eval']).default('train'))
    .addOption(
      new Option('--onnx-run <how>', 'with --onnx: as-is runs the graph itself in onnxruntime (any op; default); ir lowers it to rbflex\'s IR (fixed op set; needed by --backend reference)').choices([
        'as-is',
        'ir',
      ]),
    )
    .option('--classifier-input <value>', 'with --onnx: the ONNX value that is the classifier input Y (default: the input of the last Gemm/MatMul; name it for a 1x1-Conv head like SqueezeNet\'s)');
  addSpaceOptions(c);
  addImageOptions(c);
  addScoringOptions(c)
    .option('--proxy <list>', PROXY_LIST_HELP, 'rbflex')
    .option('--workers <n>', 'worker threads (default: 1 per core when scoring many)', int('--workers', 0, 256))
    .option('--no-cache', 'do not read or write the score cache')
    .option('--json', 'one JSON object per architecture: {"arch":..,"scores":{"rbflex":..}} (-Infinity as the string "-Infinity")')
    .addHelpText(
      'after',
      `
RBFleX: each image runs alone through the untrained network (BatchNorm in training mode, per image);
every activation output (X) and the classifier input (Y) are min-max normalised column-wise; two RBF
kernels give score = N (log|det K| + log|det Q|). Higher is better; -Infinity means two images gave
identical features. Weights come from the seed: same seed, same scores.
With --onnx, the model's own weights are used; activation outputs are the taps (x*Sigmoid(x),
x*HardSigmoid(x), Mish and the Erf GELU count as one activation), the input of the last Gemm/MatMul
is the classifier input, BatchNorm uses each image's statistics, Dropout is off; --dataset picks the
image normalisation and --resolution the image size where the model's height/width are dynamic.
Export models with training=torch.onnx.TrainingMode.TRAINING (see README).
Comparing models: give them all to one command (--onnx a.onnx b.onnx c.onnx, or a folder). They
are scored on the same images with ONE pair of gammas (the fixed reference values, --gamma-k/-q,
or --hda over the whole set) and printed ranked. Scores from separate runs with per-model --hda
are not comparable.`,
    )
    .action(async (o: ScoreOpts) => {
      if (o.onnx) {
        if (o.arch?.length) throw new UsageError('give --arch (a space\'s network) or --onnx (your model), not both');
        await scoreOnnxModels({ ...o, onnx: o.onnx, proxy: proxies(o.proxy) });
        return;
      }
      if (!o.arch?.length) throw new UsageError('name at least one --arch, or an --onnx model');
      const space = resolveSpace(o.space);
      const build = buildOptions(space, o);
      const archs = o.arch.map((a) => space.parse(a));
      const list: ProxyName[] = proxies(o.proxy);
      const images = await prepareImages(space, build, o);
      const log = (s: string) => {
        if (!o.json) process.stderr.write(`${s}\n`);
      };
      const gammas = await gammasFor(list, space, build, images, o, log);
      const bar = progressBar('scoring', !o.json && archs.length > 4);
      const session = openSession(space, build, images, o, list, gammas, bar.onProgress, archs.length > 4 ? defaultWorkers() : 0, await proxyData(space, build, o, list));
      try {
        const scores = await session.score(archs);
        bar.stop();
        if (!o.json) {
          log(`space ${space.name}, dataset ${build.dataset ?? '-'}, images ${describeImages(o, images)}`);
          if (list.includes('rbflex')) log(`gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source}), taps ${session.settings.taps}, backend ${o.backend}`);
        }
        for (const a of archs) {
          const r = scores.get(a)!;
          if (o.json) {
            process.stdout.write(`${JSON.stringify(jsonSafe({ arch: a, scores: r.scores, ...(r.notes ? { notes: r.notes } : {}) }))}\n`);
          } else {
            const parts = list.map((p) => `${p} ${fmtNum(r.scores[p], 10)}`);
            process.stdout.write(`${a}  ${parts.join('  ')}${r.notes ? `  (${Object.values(r.notes).join('; ')})` : ''}\n`);
          }
        }
      } finally {
        bar.stop();
        await session.close();
      }
    });
}
