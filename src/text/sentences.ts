/**
 * Sentences as model input: SST-2 style TSV files (`label<TAB>sentence` per line, as in the
 * RBFleX-NAS repository's dataset/SST2/data), a seeded draw of N of them, and their WordPiece
 * encoding as a token batch: an ImageBatch of shape [N, 3, 1, S] whose rows are the token ids,
 * the token-type ids and the attention mask (float32 holds ids up to 2^24 exactly).
 */
import { readFileSync, statSync } from 'node:fs';
import type { ImageBatch } from '../backends/types.js';
import { DataError, fsProblem } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { type TextFormat, type Vocab, encode } from './wordpiece.js';

const MAX_TSV_BYTES = 256 * 1024 * 1024;
const MAX_SENTENCES = 10_000_000;

export interface Sentence {
  label: number | undefined;
  text: string;
}

/** Read `label<TAB>sentence` lines (a line without a tab is a sentence without a label). */
export function readSentences(path: string): Sentence[] {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_TSV_BYTES) throw new DataError(path, `${size} bytes, over the ${MAX_TSV_BYTES}-byte limit for a sentence file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fsProblem(path, e);
  }
  const out: Sentence[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (out.length >= MAX_SENTENCES) throw new DataError(path, `more than ${MAX_SENTENCES} sentences`);
    const tab = line.indexOf('\t');
    if (tab < 0) {
      out.push({ label: undefined, text: line });
      continue;
    }
    const head = line.slice(0, tab).trim();
    const label = /^-?\d+$/.test(head) ? Number(head) : undefined;
    if (label === undefined && i === 0) continue; // a header row (e.g. "sentence<TAB>label")
    out.push({ label, text: line.slice(tab + 1) });
  }
  if (out.length === 0) throw new DataError(path, 'no sentences (expected label<TAB>sentence lines)');
  return out;
}

/** N distinct sentences, drawn with `new Rng('sentences:' + seed).sample(count, N)`, in draw order. */
export function drawSentences(all: readonly Sentence[], n: number, seed: string, source: string): { indices: number[]; sentences: Sentence[] } {
  if (n > all.length) throw new DataError(source, `holds ${all.length} sentences, fewer than the ${n} asked for`);
  const indices = new Rng(`sentences:${seed}`).sample(all.length, n);
  return { indices, sentences: indices.map((i) => all[i]!) };
}

/** Encode sentences into a token batch [N, 3, 1, length]. */
export function tokenBatch(texts: readonly string[], vocab: Vocab, length: number, format: TextFormat, id: string): ImageBatch {
  const per = 3 * length;
  const data = new Float32Array(texts.length * per);
  texts.forEach((t, i) => {
    const e = encode(t, vocab, length, format);
    data.set(e.ids, i * per);
    data.set(e.types, i * per + length);
    data.set(e.mask, i * per + 2 * length);
  });
  return { n: texts.length, c: 3, h: 1, w: length, data, id };
}
