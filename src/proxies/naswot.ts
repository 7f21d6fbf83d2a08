/**
 * NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021):
 * each image's binary activation code c_i (1 where an activation output is > 0), the kernel
 * K_ij = N_A - Hamming(c_i, c_j) summed over activation layers, score = log|det K|.
 * Computed on the same forward pass (same network, weights, images) as RBFleX, from the
 * `activations` taps; for every activation in the IR, output > 0 exactly when input > 0
 * (sigmoid aside), so the codes equal the original's pre-activation codes.
 */
import { logAbsDet } from './linalg.js';
import type { ColumnBlock } from './rbflex.js';

export function naswotKernel(blocks: readonly ColumnBlock[], n: number): Float64Array {
  const k = new Float64Array(n * n);
  const code = new Uint8Array(n);
  for (const b of blocks) {
    const part = new Float64Array(n * n);
    for (let c = 0; c < b.size; c++) {
      for (let i = 0; i < n; i++) code[i] = b.data[i * b.size + c]! > 0 ? 1 : 0;
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) if (code[i] === code[j]) part[i * n + j]!++;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        k[i * n + j]! += b.count * part[i * n + j]!;
        if (j !== i) k[j * n + i] = k[i * n + j]!;
      }
    }
  }
  return k;
}

export function naswotScore(blocks: readonly ColumnBlock[], n: number): number {
  const s = logAbsDet(naswotKernel(blocks, n), n);
  return Number.isNaN(s) ? -Infinity : s;
}
