/**
 * BERT for sequence classification as IR, after Hugging Face's BertForSequenceClassification as
 * the NAFBee BERT script uses it (eval mode: dropout is the identity). Node names are the PyTorch
 * module paths (`bert.encoder.layer.3.intermediate.dense`), so a state dict maps onto nodes by name.
 *
 * embeddings: word(ids) + token_type(types) + position(0..S-1) -> LayerNorm
 * each layer: q, k, v = Linear(h); ctx = attention(q, k, v, mask); h1 = LayerNorm(Linear(ctx) + h);
 *             h = LayerNorm(Linear(act(Linear(h1))) + h1)       act = the NAFBee activation
 * pooler: Tanh(Linear(h[0]))   (= Y, the classifier input)   classifier: Linear(hidden, classes)
 *
 * Taps: the modules the authors hook by the name "activation": each layer's intermediate
 * activation and the pooler's Tanh, under both tap modes.
 */
import { GraphBuilder, IRError } from '../ir/builder.js';
import { type TransformerOp, transformerShape } from '../ir/transformer.js';
import { type ActivationKind, type Graph, TORCH_ACTIVATION_CLASS } from '../ir/types.js';

export interface BertConfig {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  positions: number;
  typeVocab: number;
  eps: number;
  /** tokens per sentence (the model input's length) */
  seqLen: number;
  classes: number;
}

/** bert-base-uncased with the NAFBee script's input length (50) and SST-2's two classes. */
export const BERT_BASE: BertConfig = {
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  vocab: 30522,
  positions: 512,
  typeVocab: 2,
  eps: 1e-12,
  seqLen: 50,
  classes: 2,
};

/** HF BertConfig.initializer_range: std of the embedding init */
const INIT_STD = 0.02;
/** HF's additive attention mask for padded keys (this transformers version) */
const MASK_VALUE = -10000;

export function checkBertConfig(c: BertConfig, label: string): void {
  for (const [k, v] of Object.entries(c)) {
    if (k !== 'eps' && (!Number.isInteger(v) || v < 1)) throw new IRError(`${label}: BERT ${k} must be a positive whole number, got ${v}`);
  }
  if (!(c.eps > 0)) throw new IRError(`${label}: LayerNorm eps must be positive`);
  if (c.hidden % c.heads !== 0) throw new IRError(`${label}: hidden ${c.hidden} is not a multiple of ${c.heads} heads`);
  if (c.seqLen > c.positions) throw new IRError(`${label}: ${c.seqLen} tokens exceed ${c.positions} positions`);
}

export function buildBert(label: string, act: ActivationKind, c: BertConfig): Graph {
  checkBertConfig(c, label);
  const b = new GraphBuilder(label);
  const op = (name: string, o: TransformerOp, inputs: number[]): number => {
    const shape = transformerShape(o, inputs.map((i) => b.shape(i)));
    if (typeof shape === 'string') throw new IRError(`${label}: ${name}: ${shape}`);
    return b.op(name, o, inputs, shape);
  };
  const dense = (name: string, x: number, inF: number, outF: number) => op(name, { kind: 'dense', inF, outF, bias: true, init: 'xavier' }, [x]);
  const norm = (name: string, x: number) => op(name, { kind: 'layernorm', dim: c.hidden, eps: c.eps }, [x]);
  /** an activation module the authors hook: tapped under both modes */
  const hooked = (name: string, x: number, fn: ActivationKind) => {
    const id = b.activation(name, x, fn);
    return TORCH_ACTIVATION_CLASS[fn].includes('ReLU') ? id : b.tap(id, { reference: 1 });
  };

  const input = b.input([3, 1, c.seqLen]);
  const e = 'bert.embeddings';
  const word = op(`${e}.word_embeddings`, { kind: 'embedding', rows: c.vocab, dim: c.hidden, index: 0, paddingIdx: 0, std: INIT_STD }, [input]);
  const type = op(`${e}.token_type_embeddings`, { kind: 'embedding', rows: c.typeVocab, dim: c.hidden, index: 1, std: INIT_STD }, [input]);
  const pos = op(`${e}.position_embeddings`, { kind: 'embedding', rows: c.positions, dim: c.hidden, index: 'position', std: INIT_STD }, [input]);
  let h = norm(`${e}.LayerNorm`, b.add_(`${e}.add`, [word, type, pos]));
  for (let i = 0; i < c.layers; i++) {
    const l = `bert.encoder.layer.${i}`;
    const q = dense(`${l}.attention.self.query`, h, c.hidden, c.hidden);
    const k = dense(`${l}.attention.self.key`, h, c.hidden, c.hidden);
    const v = dense(`${l}.attention.self.value`, h, c.hidden, c.hidden);
    const ctx = op(`${l}.attention.self`, { kind: 'attention', heads: c.heads, dim: c.hidden, maskValue: MASK_VALUE }, [q, k, v, input]);
    const ao = dense(`${l}.attention.output.dense`, ctx, c.hidden, c.hidden);
    const h1 = norm(`${l}.attention.output.LayerNorm`, b.add_(`${l}.attention.output.add`, [ao, h]));
    const inter = hooked(`${l}.intermediate.activation`, dense(`${l}.intermediate.dense`, h1, c.hidden, c.intermediate), act);
    const o = dense(`${l}.output.dense`, inter, c.intermediate, c.hidden);
    h = norm(`${l}.output.LayerNorm`, b.add_(`${l}.output.add`, [o, h1]));
  }
  const first = op('bert.pooler.first_token', { kind: 'token', index: 0 }, [h]);
  const pooled = hooked('bert.pooler.activation', dense('bert.pooler.dense', first, c.hidden, c.hidden), 'tanh');
  const logits = dense('classifier', pooled, c.hidden, c.classes);
  return b.finish({ output: logits, classifierInput: pooled, defaultTaps: 'activations' });
}
