import { type Command, Option } from 'commander';
import { countFlopsTensorwatch, networkInfo } from '../../ir/analysis.js';
import { TAP_MODES, type TapMode } from '../../ir/types.js';
import { addSpaceOptions, buildOptions, int, resolveSpace } from '../options.js';

interface InfoOpts {
  space: string;
  arch: string;
  dataset?: string;
  classes?: number;
  resolution?: number;
  taps?: TapMode;
  json?: boolean;
}

export function registerInfo(program: Command): void {
  const c = program
    .command('info')
    .description('size of one network: parameters, FLOPs, and the lengths of the RBFleX feature vectors (L_K, L_Q)')
    .requiredOption('--arch <id>', "architecture id (nb201: '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|', sss: 'c1:c2:c3:c4:c5')");
  addSpaceOptions(c)
    .option('--classes <n>', 'classifier width (default: from --dataset)', int('--classes', 1, 100000))
    .addOption(new Option('--taps <mode>', 'which activation outputs count in L_K (default: the space\'s)').choices([...TAP_MODES]))
    .option('--json', 'print {"params","flops","lk","lq"} as JSON')
    .addHelpText(
      'after',
      `
FLOPs are multiply-accumulates per image of Conv2d and Linear plus bias additions (the xautodl /
NAS-Bench-201 convention). "flops_tensorwatch" adds BatchNorm, pooling and ReLU counts the way
NASLib's zero-cost benchmark files do. L_K counts each tapped tensor once per module that produces it.`,
    )
    .action((o: InfoOpts) => {
      const space = resolveSpace(o.space);
      const build = buildOptions(space, o);
      if (o.classes !== undefined) build.classes = o.classes;
      const arch = space.parse(o.arch);
      const g = space.build(arch, build);
      const info = networkInfo(g, o.taps ?? g.defaultTaps);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ params: info.params, flops: info.flops, lk: info.lk, lq: info.lq })}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['space', space.name],
        ['arch', arch],
        ['dataset', build.dataset ?? '-'],
        ['input', info.inputShape.join('x')],
        ['params', `${info.params} (${(info.params / 1e6).toFixed(6)} M)`],
        ['flops', `${info.flops} (${(info.flops / 1e6).toFixed(6)} M multiply-adds)`],
        ['flops_tensorwatch', `${countFlopsTensorwatch(g)}`],
        [`lk (${info.taps} taps)`, String(info.lk)],
        ['lq (classifier input)', String(info.lq)],
        ['IR nodes', String(info.nodes)],
      ];
      const w = Math.max(...rows.map((r) => r[0].length));
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
    });
}
