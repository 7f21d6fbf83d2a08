/**
 * Writes what tools/transnas_golden.py needs to check rbflex's TransNAS networks against the
 * authors' PyTorch modules: for each golden case, rbflex's own seeded weights
 * (initWeights(g, `golden/${arch}`)) as safetensors named by the PyTorch state-dict keys (IR node
 * name = module path), and the case's images (the test's seeded stream).
 *
 *     node dist/bench/transnas-golden-export.js OUTDIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initWeights } from '../src/ir/init.js';
import { transnasMacro, transnasMicro } from '../src/spaces/transnas.js';
import type { Space } from '../src/spaces/types.js';
import type { ImageBatch } from '../src/backends/types.js';
import { Rng } from '../src/util/rng.js';
import { writeSafetensors } from '../src/util/safetensors.js';

/** The golden cases: test/transnas-backends.test.ts checks the same networks on the same images. */
export const GOLDEN_CASES: { space: Space; arch: string; res: number }[] = [
  { space: transnasMicro, arch: '64-41414-1_02_333', res: 32 },
  { space: transnasMacro, arch: '64-1234-basic', res: 64 },
];
export const GOLDEN_IMAGES = { n: 2, seed: 'transnas-golden' };

/** n seeded images, roughly normalised (uniform [0,1) shifted and scaled), NCHW float32. */
export function goldenImages(res: number, n = GOLDEN_IMAGES.n, seed = GOLDEN_IMAGES.seed): ImageBatch {
  const rng = new Rng(seed);
  const data = new Float32Array(n * 3 * res * res);
  for (let i = 0; i < data.length; i++) data[i] = (rng.nextFloat24() - 0.45) / 0.25;
  return { n, c: 3, h: res, w: res, data, id: seed };
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node dist/bench/transnas-golden-export.js OUTDIR');
  mkdirSync(out, { recursive: true });
  const cases = [];
  for (const [i, c] of GOLDEN_CASES.entries()) {
    const g = c.space.build(c.arch, { resolution: c.res });
    const w = initWeights(g, `golden/${c.arch}`);
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const s of w.specs) tensors[`${g.nodes[s.node]!.name}.${s.role}`] = { shape: s.shape, data: w.byNode.get(s.node)![s.role]! };
    const img = goldenImages(c.res);
    tensors['__images__'] = { shape: [img.n, img.c, img.h, img.w], data: img.data };
    const file = `case${i}.safetensors`;
    writeSafetensors(join(out, file), tensors);
    cases.push({ space: c.space.name, arch: c.arch, res: c.res, file });
  }
  writeFileSync(join(out, 'meta.json'), JSON.stringify({ images: GOLDEN_IMAGES, cases }, null, 2));
  process.stdout.write(`wrote ${cases.length} networks and their images to ${out}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
