/**
 * IR ops for transformer encoders (BERT). Shapes exclude the batch dimension: a token sequence is
 * [S, F]; the token input is [3, 1, S] (rows: token ids, token-type ids, attention mask 1/0),
 * carried as float32 like an image so it flows through the same batches, caches and workers.
 *
 * - `embedding`: rows of a [rows, dim] table picked by one row of the token input (or by position
 *   0..S-1): [3, 1, S] -> [S, dim]. PyTorch nn.Embedding.
 * - `layernorm`: over the last axis, biased variance, affine (weight 1, bias 0). nn.LayerNorm(dim, eps).
 * - `dense`: nn.Linear on the last axis of [.., inF] (weight [outF, inF]); init `xavier`
 *   (xavier_uniform_ weight, zero bias: what the NAFBee BERT script and HF's init give) or `torch`.
 * - `attention`: BERT self-attention core on inputs (q, k, v, token input): per head,
 *   softmax(q k^T / sqrt(d) + (1 - mask) * -10000) v; heads concatenated: [S, dim].
 * - `token`: one position of a sequence, [S, F] -> [F] (the pooler's hidden_states[:, 0]).
 */
import type { Node, ParamSpec, Shape } from './types.js';

export interface EmbeddingOp {
  kind: 'embedding';
  rows: number;
  dim: number;
  /** row of the token input holding the indices (0 ids, 1 token types), or `position` */
  index: 0 | 1 | 'position';
  /** a row initialised to zero (nn.Embedding padding_idx), if any */
  paddingIdx?: number;
  /** init std of the normal draw (HF BERT: initializer_range 0.02) */
  std: number;
}
export interface LayerNormOp {
  kind: 'layernorm';
  dim: number;
  eps: number;
}
export interface DenseOp {
  kind: 'dense';
  inF: number;
  outF: number;
  bias: boolean;
  init: 'xavier' | 'torch';
}
export interface AttentionOp {
  kind: 'attention';
  heads: number;
  dim: number;
  /** added to the scores of masked-out keys (HF BERT: -10000) */
  maskValue: number;
}
export interface TokenOp {
  kind: 'token';
  index: number;
}

export type TransformerOp = EmbeddingOp | LayerNormOp | DenseOp | AttentionOp | TokenOp;
export const TRANSFORMER_OPS: readonly TransformerOp['kind'][] = ['embedding', 'layernorm', 'dense', 'attention', 'token'];

export function isTransformerOp(op: { kind: string }): op is TransformerOp {
  return (TRANSFORMER_OPS as readonly string[]).includes(op.kind);
}

/** Rows of the token input. */
export const TOKEN_ROWS = { ids: 0, types: 1, mask: 2 } as const;

/** Parameter tensors of a transformer node (PyTorch layouts). */
export function transformerParamSpecs(n: Node): ParamSpec[] {
  const op = n.op as TransformerOp;
  switch (op.kind) {
    case 'embedding': {
      const size = op.rows * op.dim;
      return [{ node: n.id, role: 'weight', shape: [op.rows, op.dim], size, init: { kind: 'normal', std: op.std, ...(op.paddingIdx !== undefined ? { zeroRow: op.paddingIdx } : {}) } }];
    }
    case 'layernorm':
      return [
        { node: n.id, role: 'weight', shape: [op.dim], size: op.dim, init: { kind: 'const', value: 1 } },
        { node: n.id, role: 'bias', shape: [op.dim], size: op.dim, init: { kind: 'const', value: 0 } },
      ];
    case 'dense': {
      const xavier = op.init === 'xavier';
      const wBound = xavier ? Math.sqrt(6 / (op.inF + op.outF)) : 1 / Math.sqrt(op.inF);
      const specs: ParamSpec[] = [{ node: n.id, role: 'weight', shape: [op.outF, op.inF], size: op.outF * op.inF, init: { kind: 'uniform', bound: wBound } }];
      if (op.bias) {
        specs.push({ node: n.id, role: 'bias', shape: [op.outF], size: op.outF, init: xavier ? { kind: 'const', value: 0 } : { kind: 'uniform', bound: 1 / Math.sqrt(op.inF) } });
      }
      return specs;
    }
    default:
      return [];
  }
}

/** Multiply-accumulates per input of a transformer node (plus one add per output for a bias). */
export function transformerFlops(n: Node, inShape: Shape): number {
  const op = n.op as TransformerOp;
  if (op.kind === 'dense') {
    const rows = inShape.slice(0, -1).reduce((a, d) => a * d, 1);
    return rows * (op.inF * op.outF + (op.bias ? op.outF : 0));
  }
  if (op.kind === 'attention') {
    const s = n.shape[0]!;
    return 2 * s * s * op.dim;
  }
  return 0;
}

/** Output shape of a transformer op, or a message saying why the inputs do not fit. */
export function transformerShape(op: TransformerOp, ins: readonly Shape[]): Shape | string {
  const x = ins[0]!;
  switch (op.kind) {
    case 'embedding':
      if (x.length !== 3 || x[0] !== 3 || x[1] !== 1) return `embedding needs the [3, 1, S] token input, got [${x.join(',')}]`;
      return [x[2]!, op.dim];
    case 'layernorm':
      if (x[x.length - 1] !== op.dim) return `layernorm over ${op.dim} got [${x.join(',')}]`;
      return x;
    case 'dense':
      if (x[x.length - 1] !== op.inF) return `dense(${op.inF} -> ${op.outF}) got [${x.join(',')}]`;
      return [...x.slice(0, -1), op.outF];
    case 'attention': {
      if (ins.length !== 4) return 'attention takes q, k, v and the token input';
      const [q, k, v, t] = ins as [Shape, Shape, Shape, Shape];
      for (const s of [q, k, v]) if (s.length !== 2 || s[1] !== op.dim || s[0] !== q[0]) return `attention needs q, k, v of [S, ${op.dim}], got [${s.join(',')}]`;
      if (t.length !== 3 || t[0] !== 3 || t[2] !== q[0]) return `attention needs the [3, 1, ${q[0]}] token input, got [${t.join(',')}]`;
      if (op.dim % op.heads !== 0) return `attention width ${op.dim} is not a multiple of ${op.heads} heads`;
      return q;
    }
    case 'token':
      if (x.length !== 2 || op.index < 0 || op.index >= x[0]!) return `token ${op.index} of [${x.join(',')}]`;
      return [x[1]!];
  }
}
