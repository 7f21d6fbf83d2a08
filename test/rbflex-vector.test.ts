import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hdaCandidates, hdaFromCandidates } from '../src/proxies/hda.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { rbflexScore } from '../src/proxies/rbflex.js';

// SPEC section 1 test vector: N = 3, L_K = 200000, L_Q = 64, float64.
function vector() {
  const N = 3;
  const LK = 200000;
  const LQ = 64;
  const X = new Float64Array(N * LK);
  const Y = new Float64Array(N * LQ);
  for (let r = 0; r < N; r++) {
    for (let i = 0; i < LK; i++) X[r * LK + i] = Math.max(0, Math.sin(0.001 * i * (r + 1) + r));
    for (let q = 0; q < LQ; q++) Y[r * LQ + q] = Math.cos(0.1 * q * (r + 2)) + 0.01 * r;
  }
  return { N, x: [{ data: X, size: LK, count: 1 }], y: [{ data: Y, size: LQ, count: 1 }] };
}

test('SPEC test vector: RBFleX score with the fixed gammas is -214.948899 (within 1e-5)', () => {
  const v = vector();
  const r = rbflexScore(v.x, v.y, v.N, REFERENCE_GAMMAS.gammaK, REFERENCE_GAMMAS.gammaQ);
  assert.ok(Math.abs(r.score - -214.948899) < 1e-5, `score ${r.score}`);
});

test('SPEC test vector: HDA (reference variant) gammas within 1e-9 relative', () => {
  const v = vector();
  const res = hdaFromCandidates(hdaCandidates(v.x, v.N, 'reference'), hdaCandidates(v.y, v.N, 'reference'), 'reference');
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  assert.ok(rel(res.gammaK, 2.2086220314466e-6) < 1e-9, `gamma_k ${res.gammaK}`);
  assert.ok(rel(res.gammaQ, 4.890876686049e-5) < 1e-9, `gamma_q ${res.gammaQ}`);
});
