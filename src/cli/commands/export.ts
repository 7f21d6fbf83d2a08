import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MIN_OPSET, OPSET, exportOnnx } from '../../backends/onnx/export.js';
import { initWeights } from '../../ir/init.js';
import { weightSeed } from '../../search/scorer.js';
import { checkOutFile } from '../out-path.js';
import { addSpaceOptions, buildOptions, int, resolveSpace } from '../options.js';

interface ExportOpts {
  space: string;
  arch: string;
  dataset?: string;
  resolution?: number;
  seed: string;
  out: string;
  force?: boolean;
  opset: number;
}

export function registerExport(program: Command): void {
  const c = program
    .command('export')
    .description('write one untrained network as a standard ONNX model (weights from the seed, BatchNormalization nodes, logits output)')
    .requiredOption('--arch <id>', 'architecture id')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .option('--force', 'overwrite --out if it exists')
    .option('--opset <n>', `ONNX opset to write, ${MIN_OPSET} to ${OPSET} (17 is read by most ONNX tools; newer ops such as Gelu are written out with older ones below their opset)`, int('--opset', MIN_OPSET, OPSET), 17)
    .option('--seed <s>', 'weight seed (the same seed gives the weights `score` uses)', '1');
  addSpaceOptions(c).action((o: ExportOpts) => {
    const space = resolveSpace(o.space);
    const build = buildOptions(space, o);
    const arch = space.parse(o.arch);
    checkOutFile('--out', o.out, o.force ?? false);
    const g = space.build(arch, build);
    const w = initWeights(g, weightSeed(o.seed, space.name, arch));
    const m = exportOnnx(g, w, { taps: [], bn: 'inference', logits: true, classifierInput: false, opset: o.opset });
    writeFileSync(o.out, m.bytes);
    process.stderr.write(`wrote ${o.out} (${m.bytes.length} bytes, opset ${o.opset}): ${space.name} ${arch}\n`);
  });
}
