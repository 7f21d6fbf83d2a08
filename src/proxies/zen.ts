/**
 * Zen-score (Lin et al., ICCV 2021; idstcv/ZenNAS, ZeroShotProxy/compute_zen_score.py):
 * weights ~ N(0, 1) (BatchNorm weight 1, bias 0), x ~ N(0, 1), x' = x + 0.01·eps; the network
 * without its classifier (pre-GAP features) runs on x then on x' with BatchNorm in training
 * mode; score = log(mean_i sum |f(x) - f(x')|) + sum over BatchNorm layers of
 * log sqrt(mean_c running_var). PyTorch updates running_var (momentum 0.1, start 1) with the
 * unbiased batch variance at each of the two forward passes, and the code reads it after both.
 */

/** running_var after two training-mode forwards: (1-m)^2 + m(1-m)·v1 + m·v2, v unbiased. */
export function runningVarAfterTwo(v1: number, v2: number, momentum = 0.1): number {
  return (1 - momentum) ** 2 + momentum * (1 - momentum) * v1 + momentum * v2;
}

export interface ZenBatchNorm {
  /** biased batch variance per channel on the first (x) and second (x') forward */
  var1: ArrayLike<number>;
  var2: ArrayLike<number>;
  /** elements per channel in the batch (N·H·W): biased -> unbiased factor m / (m - 1) */
  count: number;
}

export function zenScore(
  out1: ArrayLike<number>,
  out2: ArrayLike<number>,
  n: number,
  bns: readonly ZenBatchNorm[],
  momentum = 0.1,
): number {
  const size = out1.length / n;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < size; k++) s += Math.abs(out1[i * size + k]! - out2[i * size + k]!);
    total += s;
  }
  let score = Math.log(total / n);
  for (const bn of bns) {
    const unbias = bn.count > 1 ? bn.count / (bn.count - 1) : 1;
    let mean = 0;
    for (let c = 0; c < bn.var1.length; c++) mean += runningVarAfterTwo(bn.var1[c]! * unbias, bn.var2[c]! * unbias, momentum);
    mean /= bn.var1.length;
    score += Math.log(Math.sqrt(mean));
  }
  return score;
}
