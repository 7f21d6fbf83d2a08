/**
 * Seeded pseudo-random numbers: xoshiro128** (32-bit state words), seeded from a string
 * through a 128-bit mixing hash. Same seed string, same stream, on every platform.
 */

function hash128(key: string): [number, number, number, number] {
  // cyrb128-style mixing of the UTF-16 code units
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` may be any string or number; derive sub-streams with `Rng.derive(seed, ...parts)`. */
  constructor(seed: string | number) {
    [this.a, this.b, this.c, this.d] = hash128(`rbflex:${seed}`);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  static derive(...parts: (string | number)[]): Rng {
    return new Rng(parts.join('\u0000'));
  }

  /** next 32-bit unsigned integer */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** The next out.length values of nextU32(), in a tight loop (bulk weight initialisation). */
  fillU32(out: Uint32Array): Uint32Array {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(b, 5);
      out[i] = Math.imul((m << 7) | (m >>> 25), 9);
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /**
   * out[i] = (2 * nextFloat24() - 1) * bound for each i in order, the same values as that loop
   * (weight initialisation): generation and conversion fused, no intermediate buffer.
   */
  fillUniform(out: Float32Array, bound: number): Float32Array {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const m = Math.imul(b, 5);
      const u = Math.imul((m << 7) | (m >>> 25), 9) >>> 8;
      // 2 * (u * 2^-24) - 1, exactly (power-of-two scaling)
      out[i] = (u * 1.1920928955078125e-7 - 1) * bound;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /** uniform in [0, 1) with 24 random bits (float32-exact) */
  nextFloat24(): number {
    return (this.nextU32() >>> 8) * 5.9604644775390625e-8;
  }

  /** uniform in [0, 1) with 53 random bits */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** integer in [0, n) without modulo bias */
  nextInt(n: number): number {
    if (!(n > 0) || n > 2 ** 32) throw new RangeError(`nextInt: bad range ${n}`);
    const limit = Math.floor(2 ** 32 / n) * n;
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /** standard normal (Box-Muller) */
  nextNormal(): number {
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * out[i] = nextNormal() * scale for every i, in order: the same values as that loop (the same
   * stream, the same arithmetic), with the generator inlined (bulk Gaussian weights and inputs).
   */
  fillNormal(out: Float32Array | Float64Array, scale = 1): Float32Array | Float64Array {
    let a = this.a;
    let b = this.b;
    let c = this.c;
    let d = this.d;
    const next = (): number => {
      const m = Math.imul(b, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
      const t = b << 9;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = (d << 11) | (d >>> 21);
      return r;
    };
    const float = (): number => {
      const hi = next() >>> 5;
      const lo = next() >>> 6;
      return (hi * 67108864 + lo) / 9007199254740992;
    };
    for (let i = 0; i < out.length; i++) {
      let u = 0;
      while (u === 0) u = float();
      const v = float();
      out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * scale;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
    return out;
  }

  /** k distinct integers from [0, n), in sampling order (partial Fisher-Yates over a sparse map). */
  sample(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`cannot sample ${k} of ${n} without replacement`);
    const swaps = new Map<number, number>();
    const out: number[] = [];
    for (let i = 0; i < k; i++) {
      const j = i + this.nextInt(n - i);
      const vi = swaps.get(i) ?? i;
      const vj = swaps.get(j) ?? j;
      swaps.set(j, vi);
      out.push(vj);
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
