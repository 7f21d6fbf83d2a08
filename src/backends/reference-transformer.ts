/** The reference (float64) kernels of the transformer ops (see src/ir/transformer.ts). */
import { numel } from '../ir/analysis.js';
import type { Weights } from '../ir/init.js';
import { TOKEN_ROWS, type TransformerOp } from '../ir/transformer.js';
import type { Node } from '../ir/types.js';

/** A batch tensor: data[b * per + k], per = numel(shape) (the reference backend's layout). */
export interface RefTensor {
  b: number;
  shape: readonly number[];
  data: Float64Array;
}

/** Row `row` of the token input [3, 1, S] of batch item b, as integers. */
function tokenRow(t: RefTensor, b: number, row: number): number[] {
  const s = t.shape[2]!;
  const o = b * 3 * s + row * s;
  return Array.from(t.data.subarray(o, o + s), (v) => Math.round(v));
}

function embedding(n: Node, op: Extract<TransformerOp, { kind: 'embedding' }>, x: RefTensor, table: Float32Array): RefTensor {
  const s = n.shape[0]!;
  const d = op.dim;
  const out = new Float64Array(x.b * s * d);
  for (let b = 0; b < x.b; b++) {
    const idx = op.index === 'position' ? Array.from({ length: s }, (_, i) => i) : tokenRow(x, b, op.index);
    idx.forEach((r, i) => {
      if (!(r >= 0 && r < op.rows)) throw new Error(`${n.name}: index ${r} outside the ${op.rows}-row table`);
      for (let k = 0; k < d; k++) out[(b * s + i) * d + k] = table[r * d + k]!;
    });
  }
  return { b: x.b, shape: n.shape, data: out };
}

function layernorm(n: Node, eps: number, x: RefTensor, w?: Float32Array, bias?: Float32Array): RefTensor {
  const d = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / d; r++) {
    const o = r * d;
    let m = 0;
    for (let k = 0; k < d; k++) m += x.data[o + k]!;
    m /= d;
    let v = 0;
    for (let k = 0; k < d; k++) v += (x.data[o + k]! - m) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let k = 0; k < d; k++) out[o + k] = (x.data[o + k]! - m) * inv * (w ? w[k]! : 1) + (bias ? bias[k]! : 0);
  }
  return { b: x.b, shape: n.shape, data: out };
}

function dense(n: Node, inF: number, outF: number, x: RefTensor, w: Float32Array, bias?: Float32Array): RefTensor {
  const rows = x.data.length / inF;
  const out = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    const xo = r * inF;
    for (let o = 0; o < outF; o++) {
      let s = bias ? bias[o]! : 0;
      const wo = o * inF;
      for (let i = 0; i < inF; i++) s += w[wo + i]! * x.data[xo + i]!;
      out[r * outF + o] = s;
    }
  }
  return { b: x.b, shape: n.shape, data: out };
}

function attention(n: Node, op: Extract<TransformerOp, { kind: 'attention' }>, q: RefTensor, k: RefTensor, v: RefTensor, t: RefTensor): RefTensor {
  const s = n.shape[0]!;
  const dim = op.dim;
  const hd = dim / op.heads;
  const scale = Math.sqrt(hd);
  const out = new Float64Array(q.b * s * dim);
  const scores = new Float64Array(s);
  for (let b = 0; b < q.b; b++) {
    const mask = tokenRow(t, b, TOKEN_ROWS.mask).map((m) => (1 - m) * op.maskValue);
    const base = b * s * dim;
    for (let h = 0; h < op.heads; h++) {
      const c0 = h * hd;
      for (let i = 0; i < s; i++) {
        let max = -Infinity;
        for (let j = 0; j < s; j++) {
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q.data[base + i * dim + c0 + c]! * k.data[base + j * dim + c0 + c]!;
          const sc = dot / scale + mask[j]!;
          scores[j] = sc;
          if (sc > max) max = sc;
        }
        let z = 0;
        for (let j = 0; j < s; j++) {
          scores[j] = Math.exp(scores[j]! - max);
          z += scores[j]!;
        }
        for (let c = 0; c < hd; c++) {
          let acc = 0;
          for (let j = 0; j < s; j++) acc += scores[j]! * v.data[base + j * dim + c0 + c]!;
          out[base + i * dim + c0 + c] = acc / z;
        }
      }
    }
  }
  return { b: q.b, shape: n.shape, data: out };
}

/** Evaluate one transformer node on its inputs. */
export function evalTransformer(n: Node, ins: RefTensor[], w: Weights): RefTensor {
  const op = n.op as TransformerOp;
  const p = w.byNode.get(n.id);
  const x = ins[0]!;
  switch (op.kind) {
    case 'embedding':
      return embedding(n, op, x, p!.weight!);
    case 'layernorm':
      return layernorm(n, op.eps, x, p?.weight, p?.bias);
    case 'dense':
      return dense(n, op.inF, op.outF, x, p!.weight!, p?.bias);
    case 'attention':
      return attention(n, op, x, ins[1]!, ins[2]!, ins[3]!);
    case 'token': {
      const [s, f] = x.shape as [number, number];
      const out = new Float64Array(x.b * f);
      for (let b = 0; b < x.b; b++) out.set(x.data.subarray(b * s * f + op.index * f, b * s * f + (op.index + 1) * f), b * f);
      return { b: x.b, shape: n.shape, data: out };
    }
  }
  throw new Error(`${n.name}: not a transformer op (${(op as { kind: string }).kind}); per item ${numel(n.shape)}`);
}
