/**
 * NAFBee on BERT: bert-base-uncased for SST-2 (two classes) whose feed-forward activation is one of
 * the 11 NAFBee functions, as in the authors' RBFleX_NAFBee_BERT.py and BERT_CustomActivation_Models:
 * eval mode (dropout off), every Linear xavier_uniform_, taps = the modules named "activation"
 * (12 intermediate activations + the pooler's Tanh), Y = the classifier's input (the pooled output),
 * gammas from HDA over all 11 networks.
 *
 * Not reproducible offline: the authors start from the fine-tuned checkpoint
 * textattack/bert-base-uncased-SST-2 and keep its embeddings, LayerNorms and Linear biases. rbflex
 * initialises those as BERT does (embeddings normal(0, 0.02) with the [PAD] row zero, LayerNorm 1 and
 * 0, biases 0) unless `--bert-weights FILE` gives them (see bert-weights.ts).
 *
 * Input: N sentences drawn (seeded) from an SST-2 TSV, WordPiece-tokenised, `[CLS]` + tokens cut to
 * 50 and padded with [PAD] (the authors' loader adds no [SEP]), attention mask, token types 0.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageBatch } from '../backends/types.js';
import { type Weights, initWeights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';
import { drawSentences, readSentences, tokenBatch } from '../text/sentences.js';
import { type TextFormat, loadVocab } from '../text/wordpiece.js';
import { DataError } from '../util/errors.js';
import { applyBertWeights } from './bert-weights.js';
import { BERT_BASE, type BertConfig, buildBert } from './bert.js';
import { NAFBEE_ACTIVATIONS, activationChoice } from './nafbee.js';
import { type BuildOptions, type InputOptions, type Space, SpaceError } from './types.js';

export const VOCAB_FILE = 'bert-base-uncased-vocab.txt';

const choice = activationChoice('nafbee-bert');
const lookup = choice.lookup;

/** The BERT shape a build asks for: bert-base unless `opts.bert` overrides fields (tests, fidelity). */
export function bertConfigOf(opts: BuildOptions): BertConfig {
  return { ...BERT_BASE, ...(opts.bert ?? {}), ...(opts.classes !== undefined ? { classes: opts.classes } : {}) };
}

/** Where the shared SST-2 text data may sit: $RBFLEX_SHARED_DATA/text, ./../shared/data/text, <package>/../shared/data/text. */
function sharedTextDirs(): string[] {
  const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dirs = [resolve('..', 'shared', 'data', 'text'), resolve(pkg, '..', 'shared', 'data', 'text')];
  if (process.env.RBFLEX_SHARED_DATA) dirs.unshift(resolve(process.env.RBFLEX_SHARED_DATA, 'text'));
  return dirs;
}

/** The sentence file `--data` names (a TSV, or a folder holding train.tsv); `synthetic` = the shared SST-2 train.tsv. */
export function resolveSentenceFile(data: string): string {
  if (data === 'synthetic') {
    const hit = sharedTextDirs().map((d) => join(d, 'sst2', 'train.tsv')).find((p) => existsSync(p));
    if (!hit) throw new DataError('--data', 'nafbee-bert needs sentences: give --data <SST-2 train.tsv> (label<TAB>sentence lines) and --vocab <bert-base-uncased-vocab.txt>');
    return hit;
  }
  try {
    if (statSync(data).isDirectory()) return join(data, 'train.tsv');
  } catch {
    // not there: readSentences names it
  }
  return data;
}

/** The vocabulary: `--vocab`, else bert-base-uncased-vocab.txt beside the sentences or one folder up, else the shared one. */
export function resolveVocabFile(vocab: string | undefined, sentences: string): string {
  if (vocab) return vocab;
  const near = [dirname(sentences), dirname(dirname(sentences)), ...sharedTextDirs()].map((d) => join(d, VOCAB_FILE));
  const hit = near.find((p) => existsSync(p));
  if (!hit) throw new DataError(sentences, `no ${VOCAB_FILE} beside it; give --vocab <file>`);
  return hit;
}

export const nafbeeBert: Space = {
  name: 'nafbee-bert',
  description: 'NAFBee: BERT-base uncased (SST-2) with one of 11 activation functions in every feed-forward layer',
  size: NAFBEE_ACTIVATIONS.length,
  defaultTaps: 'activations',
  defaultGammas: 'hda',
  hdaNetworks: NAFBEE_ACTIVATIONS.length,
  // 110M parameters: one network at a time (onnxruntime on every core) keeps memory under 2 GB
  defaultWorkers: 0,
  datasets: ['sst2'],
  archAt: choice.archAt,
  parse: choice.parse,
  indexOf: choice.indexOf,
  build(arch: string, opts: BuildOptions = {}): Graph {
    const [name, fn] = lookup(arch);
    if (opts.dataset !== undefined && opts.dataset !== 'sst2') throw new SpaceError(`nafbee-bert: dataset "${opts.dataset}" is not available; NAFBee BERT is trained on sst2`);
    if (opts.resolution !== undefined) throw new SpaceError('nafbee-bert: --resolution does not apply to text input');
    return buildBert(`nafbee-bert:${name}`, fn, bertConfigOf(opts));
  },
  initWeights(g: Graph, seed: string, opts: BuildOptions = {}): Weights {
    const w = initWeights(g, seed);
    if (opts.bertWeights) applyBertWeights(g, w, opts.bertWeights);
    return w;
  },
  async loadInputs(o: InputOptions, opts: BuildOptions = {}): Promise<ImageBatch> {
    const file = resolveSentenceFile(o.data);
    const vocabFile = resolveVocabFile(o.vocab, file);
    const vocab = loadVocab(vocabFile);
    const cfg = bertConfigOf(opts);
    const largest = Math.max(...vocab.ids.values());
    if (largest >= cfg.vocab) throw new DataError(vocabFile, `${largest + 1} tokens, more than the model's ${cfg.vocab}-row embedding`);
    const { indices, sentences } = drawSentences(readSentences(file), o.n, o.seed, file);
    const format: TextFormat = o.textFormat ?? 'authors';
    return tokenBatch(
      sentences.map((s) => s.text),
      vocab,
      cfg.seqLen,
      format,
      `${file}#${indices.join(',')}:${format}`,
    );
  },
};
