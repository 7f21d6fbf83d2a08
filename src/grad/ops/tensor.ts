/** A float64 batch tensor: data[b * per + k], per = numel(shape). */
export interface T {
  b: number;
  shape: readonly number[];
  data: Float64Array;
}

export type Vec = Float32Array | Float64Array;

export function per(t: T): number {
  return t.data.length / t.b;
}

export function zerosLike(t: T): T {
  return { b: t.b, shape: t.shape, data: new Float64Array(t.data.length) };
}
