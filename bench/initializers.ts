/**
 * What onnxruntime loses when the weights are graph inputs instead of constant initializers
 * (no prepacked / NCHWc convolutions): the same per-network NB201 graphs, run-only CPU time per
 * network (session creation excluded), weights as initializers at level `all` (the host path's
 * setting), as initializers at level `extended`, and as inputs at level `all`; plus the shared
 * skeleton session (weights as inputs, If branches). Medians over --reps rounds. Asserts nothing.
 *
 *   nice -n 10 node dist/bench/initializers.js [--archs 20] [--reps 5]
 */
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../src/backends/onnx/export.js';
import { SkeletonSessions } from '../src/backends/onnx/reduced.js';
import { initWeights } from '../src/ir/init.js';
import { weightSeed } from '../src/search/scorer.js';
import { nb201 } from '../src/spaces/nb201.js';
import { cpuMs, median, nb201RunSetup } from './nb201-run-setup.js';

const { K, reps, images, input, archs } = await nb201RunSetup({ rngSeed: 'initializers', archs: 20 });
const cpu = cpuMs;
const variants = ['initializers, level all', 'initializers, level extended', 'inputs, level all', 'skeleton (inputs, If), reduced taps', 'skeleton (inputs, If), raw taps'] as const;
const perVariant: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
const skel = nb201.skeleton!();
const sk = new SkeletonSessions({ threads: 1 });
for (const arch of archs) {
  const g = nb201.build(arch);
  const w = initWeights(g, weightSeed('1', 'nb201', arch));
  for (const v of variants) {
    if (v.startsWith('skeleton')) {
      const raw = v.endsWith('raw taps');
      const once = () => (raw ? sk.forwardRaw(skel, arch, g, w, images, ['reference']) : sk.forward(skel, arch, g, w, images, { distances: ['reference'] }));
      await once();
      const t: number[] = [];
      for (let r = 0; r < reps; r++) {
        const c = cpu();
        await once();
        t.push(cpu() - c);
      }
      perVariant[v]!.push(median(t));
      continue;
    }
    const inputs = v.startsWith('inputs');
    const m = exportOnnx(g, w, { taps: ['reference'], bn: 'per-image', weightInputs: inputs });
    const s = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: v.endsWith('extended') ? 'extended' : 'all', intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds: Record<string, ort.Tensor> = { input };
    if (inputs) {
      for (const p of w.specs) {
        if (p.init.kind !== 'uniform') continue;
        const name = m.paramInputs!.find((q) => q.name.startsWith(`w:${g.nodes[p.node]!.name}:${p.role}:`))!.name;
        feeds[name] = new ort.Tensor('float32', w.byNode.get(p.node)![p.role]!, p.shape);
      }
    }
    await s.run(feeds);
    const t: number[] = [];
    for (let r = 0; r < reps; r++) {
      const c = cpu();
      await s.run(feeds);
      t.push(cpu() - c);
    }
    await s.release();
    perVariant[v]!.push(median(t));
  }
}
await sk.close();
console.log(`run-only CPU per network, ${K} NB201 archs, 3 images, 1 onnxruntime thread (mean over archs of the median of ${reps} runs):`);
for (const v of variants) {
  const xs = perVariant[v]!;
  console.log(`  ${v.padEnd(36)}: ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2)} cpu-ms`);
}
