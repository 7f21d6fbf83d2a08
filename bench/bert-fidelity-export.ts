/**
 * Writes what tools/bert_fidelity.py needs to check nafbee-bert against plain PyTorch: rbflex's own
 * seeded weights for the 11 small networks (2 layers, hidden 64) as safetensors named by the PyTorch
 * state-dict keys, and the token batch of 3 SST-2 sentences.
 *
 *     node dist/bench/bert-fidelity-export.js OUTDIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { weightSeed } from '../src/search/scorer.js';
import { getSpace } from '../src/spaces/index.js';
import { bertConfigOf } from '../src/spaces/nafbee-bert.js';
import { writeSafetensors } from '../src/util/safetensors.js';

/** The fidelity check's setting (the test reads it back from test/fixtures/bert-fidelity.json). */
export const FIDELITY = { seed: 'fidelity', bert: { layers: 2, hidden: 64, heads: 4, intermediate: 256 } };

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node dist/bench/bert-fidelity-export.js OUTDIR');
  mkdirSync(out, { recursive: true });
  const space = getSpace('nafbee-bert');
  const build = { dataset: 'sst2', bert: FIDELITY.bert };
  const input = await space.loadInputs!({ data: 'synthetic', n: 3, seed: FIDELITY.seed }, build);
  writeSafetensors(join(out, 'input.safetensors'), { input: { shape: [input.n, input.c, input.h, input.w], data: input.data } });
  const archs = Array.from({ length: space.size }, (_, i) => space.archAt(i));
  for (const arch of archs) {
    const g = space.build(arch, build);
    const w = space.initWeights!(g, weightSeed(FIDELITY.seed, space.name, arch), build);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const s of w.specs) tensors[`${g.nodes[s.node]!.name}.${s.role}`] = { shape: s.shape, data: w.byNode.get(s.node)![s.role]! };
    writeSafetensors(join(out, `${arch}.safetensors`), tensors);
  }
  writeFileSync(join(out, 'meta.json'), JSON.stringify({ seed: FIDELITY.seed, bert: { ...bertConfigOf(build) }, archs, input: input.id }, null, 2));
  process.stdout.write(`wrote ${archs.length} networks and the token batch to ${out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
