/**
 * SWAP (Peng et al., ICLR 2024; pym1024/SWAP, src/metrics/swap.py): forward hooks on every
 * nn.ReLU with a 4-D input collect sign(output) of each sample; the activations of all hooked
 * layers are concatenated per sample (samples x neurons), transposed, and the score is the
 * number of distinct rows: the distinct sample-wise activation patterns over the batch.
 * Regularised SWAP multiplies by exp(-(P - mu)^2 / sigma), P = parameters in thousands.
 */

export interface SwapBlock {
  /** `data[i * size + k]`: neuron k of sample i */
  data: ArrayLike<number>;
  size: number;
}

/** The number of distinct patterns (sign of each neuron over the n samples) across all blocks. */
export function swapPatterns(blocks: readonly SwapBlock[], n: number): number {
  if (n <= 0) return 0;
  if (n <= 24) {
    const seen = new Uint8Array(1 << n);
    let count = 0;
    let codes = new Int32Array(0);
    for (const b of blocks) {
      // sample by sample over contiguous memory: bit i of codes[k] = neuron k active on sample i
      if (codes.length < b.size) codes = new Int32Array(b.size);
      codes.fill(0, 0, b.size);
      for (let i = 0; i < n; i++) {
        const bit = 1 << i;
        const off = i * b.size;
        for (let k = 0; k < b.size; k++) if (b.data[off + k]! > 0) codes[k]! |= bit;
      }
      for (let k = 0; k < b.size; k++) {
        const code = codes[k]!;
        if (seen[code] === 0) {
          seen[code] = 1;
          count++;
        }
      }
    }
    return count;
  }
  const seen = new Set<string>();
  const bits = new Uint8Array(n);
  for (const b of blocks) {
    for (let k = 0; k < b.size; k++) {
      for (let i = 0; i < n; i++) bits[i] = b.data[i * b.size + k]! > 0 ? 49 : 48;
      seen.add(String.fromCharCode(...bits));
    }
  }
  return seen.size;
}

/**
 * swapPatterns from pattern codes already formed (code = sum of 2^i over the samples i where the
 * neuron is active; ForwardOptions.signCodes): the number of distinct codes over all blocks, n <= 24.
 */
export function swapPatternCodes(codes: readonly ArrayLike<number>[], n: number): number {
  if (n <= 0) return 0;
  if (n > 24) throw new RangeError(`swap: pattern codes hold at most 24 samples, not ${n}`);
  const seen = new Uint8Array(1 << n);
  let count = 0;
  for (const c of codes) {
    for (let k = 0; k < c.length; k++) {
      const code = c[k]!;
      if (seen[code] === 0) {
        seen[code] = 1;
        count++;
      }
    }
  }
  return count;
}

/** The SWAP regulariser: exp(-(paramsK - mu)^2 / sigma), paramsK = parameters / 1e3. */
export function swapRegularFactor(params: number, mu: number, sigma: number): number {
  const k = params / 1e3;
  return Math.exp(-((k - mu) ** 2) / sigma);
}
