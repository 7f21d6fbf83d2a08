import assert from 'node:assert/strict';
import type { ImageBatch } from '../../src/backends/types.js';
import { Scorer, type ScorerConfig } from '../../src/search/scorer.js';

/**
 * Scores each arch through the default (skeleton, in-graph) path and through `--reduce host`:
 * RBFleX and NASWOT within 1e-3 of each other, params identical.
 */
export async function assertGraphPathMatchesHost(base: ScorerConfig, images: ImageBatch, archs: readonly string[]): Promise<void> {
  const graph = new Scorer(base, images);
  const host = new Scorer({ ...base, reduce: 'host' }, images);
  try {
    for (const arch of archs) {
      const a = await graph.score(arch);
      const b = await host.score(arch);
      assert.ok(Math.abs(a.scores.rbflex! - b.scores.rbflex!) <= 1e-3, `${arch}: ${a.scores.rbflex} vs ${b.scores.rbflex}`);
      assert.ok(Math.abs(a.scores.naswot! - b.scores.naswot!) <= 1e-3, `${arch}: ${a.scores.naswot} vs ${b.scores.naswot}`);
      assert.equal(a.scores.params, b.scores.params);
    }
  } finally {
    await graph.close();
    await host.close();
  }
}
