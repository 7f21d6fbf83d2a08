/**
 * Where the skeleton session's run time goes: run-only CPU per NB201 network of the shared skeleton
 * session with the in-graph RBFleX reduction, of the same skeleton reducing nothing but the
 * classifier input (the forward pass and its If branches alone), and of the per-network graph with
 * weights as initializers and no taps (the forward alone, no If). Medians over --reps runs, mean
 * over archs. Asserts nothing.
 *
 *   nice -n 10 node dist/bench/reduce-cost.js [--archs 30] [--reps 5]
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../src/backends/onnx/export.js';
import { SkeletonSessions } from '../src/backends/onnx/reduced.js';
import { initWeights } from '../src/ir/init.js';
import { weightSeed } from '../src/search/scorer.js';
import { nb201 } from '../src/spaces/nb201.js';
import { cpuMs, median, nb201RunSetup } from './nb201-run-setup.js';

const { K, reps, images, input, archs } = await nb201RunSetup({ rngSeed: 'reduce-cost', archs: 30 });
const cpu = cpuMs;
const variants = ['skeleton, rbflex reduction', 'skeleton, classifier input only', 'per-network, no taps'] as const;
const perVariant: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
const skel = nb201.skeleton!();
const sk = new SkeletonSessions({ threads: 1 });
const time = async (once: () => Promise<unknown>): Promise<number> => {
  await once();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c = cpu();
    await once();
    t.push(cpu() - c);
  }
  return median(t);
};
for (const arch of archs) {
  const g = nb201.build(arch);
  const w = initWeights(g, weightSeed('1', 'nb201', arch));
  perVariant[variants[0]]!.push(await time(() => sk.forward(skel, arch, g, w, images, { distances: ['reference'] })));
  perVariant[variants[1]]!.push(await time(() => sk.forward(skel, arch, g, w, images, {})));
  const m = exportOnnx(g, w, { taps: [], bn: 'per-image', classifierInput: false, logits: true });
  const s = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
  perVariant[variants[2]]!.push(await time(() => s.run({ input })));
  await s.release();
}
await sk.close();
console.log(`run-only CPU per network, ${K} NB201 archs, 3 images, 1 onnxruntime thread (mean over archs of the median of ${reps} runs):`);
for (const v of variants) {
  const xs = perVariant[v]!;
  console.log(`  ${v.padEnd(36)}: ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)} cpu-ms`);
}
