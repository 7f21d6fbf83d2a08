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
  for (const b of blocks) {
    const agree = n === 3 ? agreements3(b.data, b.size) : agreementsN(b.data, b.size, n);
    for (let i = 0; i < n * n; i++) k[i]! += b.count * agree[i]!;
  }
  return k;
}

/** agree[i*n+j] = number of positions where images i and j are both active or both inactive */
function agreementsN(data: ArrayLike<number>, size: number, n: number): Float64Array {
  const a = new Float64Array(n * n);
  const code = new Uint8Array(n);
  for (let c = 0; c < size; c++) {
    for (let i = 0; i < n; i++) code[i] = data[i * size + c]! > 0 ? 1 : 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (code[i] === code[j]) a[i * n + j]!++;
  }
  for (let i = 0; i < n; i++) {
    a[i * n + i] = size;
    for (let j = i + 1; j < n; j++) a[j * n + i] = a[i * n + j]!;
  }
  return a;
}

function agreements3(data: ArrayLike<number>, size: number): Float64Array {
  let s01 = 0;
  let s02 = 0;
  let s12 = 0;
  for (let c = 0; c < size; c++) {
    // branch-free: codes as 0/1, agreement = 1 - |x - y|
    const x = data[c]! > 0 ? 1 : 0;
    const y = data[size + c]! > 0 ? 1 : 0;
    const z = data[2 * size + c]! > 0 ? 1 : 0;
    s01 += 1 - (x ^ y);
    s02 += 1 - (x ^ z);
    s12 += 1 - (y ^ z);
  }
  return new Float64Array([size, s01, s02, s01, size, s12, s02, s12, size]);
}

export function naswotScore(blocks: readonly ColumnBlock[], n: number): number {
  const s = logAbsDet(naswotKernel(blocks, n), n);
  return Number.isNaN(s) ? -Infinity : s;
}
