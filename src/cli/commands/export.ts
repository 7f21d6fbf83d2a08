import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exportOnnx } from '../../backends/onnx/export.js';
import { initWeights } from '../../ir/init.js';
import { weightSeed } from '../../search/scorer.js';
import { checkOutFile } from '../out-path.js';
import { addSpaceOptions, buildOptions, resolveSpace } from '../options.js';

interface ExportOpts {
  space: string;
  arch: string;
  dataset?: string;
  resolution?: number;
  seed: string;
  out: string;
  force?: boolean;
}

export function registerExport(program: Command): void {
  const c = program
    .command('export')
    .description('write one untrained network as a standard ONNX model (weights from the seed, BatchNormalization nodes, logits output)')
    .requiredOption('--arch <id>', 'architecture id')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--force', 'overwrite --out if it exists')
    .option('--seed <s>', 'weight seed (the same seed gives the weights `score` uses)', '1');
  addSpaceOptions(c).action((o: ExportOpts) => {
    const space = resolveSpace(o.space);
    const build = buildOptions(space, o);
    const arch = space.parse(o.arch);
    checkOutFile('--out', o.out, o.force ?? false);
    const g = space.build(arch, build);
    const w = initWeights(g, weightSeed(o.seed, space.name, arch));
    const m = exportOnnx(g, w, { taps: [], bn: 'inference', logits: true, classifierInput: false });
    writeFileSync(o.out, m.bytes);
    process.stderr.write(`wrote ${o.out} (${m.bytes.length} bytes, opset 20): ${space.name} ${arch}\n`);
  });
}
