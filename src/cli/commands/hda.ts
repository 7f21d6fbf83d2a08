import type { Command } from 'commander';
import { HDA_VARIANTS, HDA_VARIANT_HELP } from '../../proxies/hda.js';
import { type CommonOpts, addImageOptions, addSpaceOptions, buildOptions, int, resolveSpace } from '../options.js';
import { describeImages, prepareImages, resolveGammas } from '../prepare.js';
import { Option } from 'commander';
import { BACKEND_NAMES } from '../../backends/types.js';
import { TAP_MODES } from '../../ir/types.js';
import type { HdaVariant } from '../../proxies/hda.js';

interface HdaOpts extends CommonOpts {
  networks?: number;
  variant: HdaVariant;
}

export function registerHda(program: Command): void {
  const c = program
    .command('hda')
    .description('detect the RBF kernel widths gamma_k and gamma_q with the Hyperparameter Detection Algorithm');
  addSpaceOptions(c);
  addImageOptions(c)
    .option('--networks <m>', 'networks sampled from the space (M; the reference uses 10; nafbee-bert: all 11)', int('--networks', 1, 100000))
    .addOption(new Option('--variant <v>', `which pairs count: ${HDA_VARIANTS.map((v) => `${v}: ${HDA_VARIANT_HELP[v]}`).join('; ')}`).choices([...HDA_VARIANTS]).default('paper'))
    .addOption(new Option('--backend <name>', 'forward backend').choices([...BACKEND_NAMES]).default('onnx'))
    .addOption(new Option('--taps <mode>', 'activation outputs for X').choices([...TAP_MODES]))
    .option('--json', 'print {"gamma_k":..,"gamma_q":..}')
    .addHelpText(
      'after',
      `
HDA runs each of M sampled networks once on the whole batch (BatchNorm over the batch), and for every
pair of images i<j takes G = (m_i - m_j)^2 / (2 (s_i + s_j)) from the row means m and variances s of the
raw features; gamma is the minimum G over all pairs and networks.`,
    )
    .action(async (o: HdaOpts) => {
      const space = resolveSpace(o.space);
      const build = buildOptions(space, o);
      const images = await prepareImages(space, build, o);
      const log = (s: string) => {
        if (!o.json) process.stderr.write(`${s}\n`);
      };
      const g = await resolveGammas(space, build, images, { ...o, hda: true, hdaVariant: o.variant, hdaNetworks: o.networks }, log);
      if (o.json) process.stdout.write(`${JSON.stringify({ gamma_k: g.gammaK, gamma_q: g.gammaQ })}\n`);
      else {
        log(`space ${space.name}, dataset ${build.dataset ?? '-'}, images ${describeImages(o, images)}`);
        process.stdout.write(`gamma_k ${g.gammaK}\ngamma_q ${g.gammaQ}\n`);
      }
    });
}
