import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../../src/backends/onnx/export.js';
import type { ImageBatch } from '../../src/backends/types.js';
import { numel } from '../../src/ir/analysis.js';
import type { Weights } from '../../src/ir/init.js';
import type { Graph } from '../../src/ir/types.js';
import { REFERENCE_GAMMAS } from '../../src/proxies/index.js';
import { rbflexScore } from '../../src/proxies/rbflex.js';
import { Scorer, type ScorerConfig } from '../../src/search/scorer.js';

/** How close the in-graph path must come to the host path (defaults: 1e-3 for both scores). */
export interface PathTolerance {
  rbflex?: number;
  naswot?: number;
  /** the host score must be finite */
  finite?: boolean;
}

/**
 * Scores each arch through the default (in-graph) path and through `--reduce host`: RBFleX and
 * NASWOT within the tolerances, params identical.
 */
export async function assertGraphPathMatchesHost(base: ScorerConfig, images: ImageBatch, archs: readonly string[], tol: PathTolerance = {}): Promise<void> {
  const graph = new Scorer(base, images);
  const host = new Scorer({ ...base, reduce: 'host' }, images);
  try {
    for (const arch of archs) {
      const a = await graph.score(arch);
      const b = await host.score(arch);
      if (tol.finite) assert.ok(Number.isFinite(b.scores.rbflex), `${arch}: finite host score expected, got ${b.scores.rbflex}`);
      assert.ok(Math.abs(a.scores.rbflex! - b.scores.rbflex!) <= (tol.rbflex ?? 1e-3), `${arch}: rbflex in-graph ${a.scores.rbflex}, host ${b.scores.rbflex}`);
      assert.ok(Math.abs(a.scores.naswot! - b.scores.naswot!) <= (tol.naswot ?? 1e-3), `${arch}: naswot in-graph ${a.scores.naswot}, host ${b.scores.naswot}`);
      assert.equal(a.scores.params, b.scores.params);
    }
  } finally {
    await graph.close();
    await host.close();
  }
}

/** RBFleX (reference gammas) of one network through its own onnxruntime session at level `extended` (no NCHWc reordering of constant weights: the skeleton's kernels). */
export async function perNetworkRbflex(g: Graph, w: Weights, images: ImageBatch): Promise<number> {
  const m = exportOnnx(g, w, { taps: ['reference'], bn: 'per-image' });
  const sess = await ort.InferenceSession.create(m.bytes, { graphOptimizationLevel: 'extended', intraOpNumThreads: 1 });
  const res = await sess.run({ input: new ort.Tensor('float32', images.data, [images.n, images.c, images.h, images.w]) });
  await sess.release();
  const blocks = m.tapOutputs.map((t) => ({ data: res[t.output]!.data as Float32Array, size: t.size, count: t.counts.reference }));
  const y = [{ data: res[m.classifierOutput!]!.data as Float32Array, size: numel(g.nodes[g.classifierInput]!.shape), count: 1 }];
  return rbflexScore(blocks, y, images.n, REFERENCE_GAMMAS.gammaK, REFERENCE_GAMMAS.gammaQ).score;
}
