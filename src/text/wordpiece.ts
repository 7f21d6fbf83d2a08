/**
 * BERT's uncased WordPiece tokenizer, written to behave exactly like Hugging Face's
 * `BertTokenizer(do_lower_case=True)` (BasicTokenizer + WordpieceTokenizer):
 *
 * 1. clean: drop U+0000, U+FFFD and control characters (Unicode category C*, except tab, newline
 *    and carriage return); every whitespace character (those three, space, category Zs) becomes a space;
 * 2. put spaces around CJK ideographs;
 * 3. split on whitespace; lower-case each word, strip accents (NFD, drop category Mn), and split it
 *    at every punctuation character (ASCII 33-47, 58-64, 91-96, 123-126, or category P*), each
 *    punctuation character becoming a word of its own;
 * 4. WordPiece: a word longer than 100 characters is `[UNK]`; otherwise greedy longest match from the
 *    left, continuation pieces prefixed `##`; a word with any unmatched rest is one `[UNK]`.
 */
import { readFileSync, statSync } from 'node:fs';
import { DataError, fsProblem } from '../util/errors.js';

/** Bounds for an untrusted vocabulary file. */
const MAX_VOCAB_BYTES = 16 * 1024 * 1024;
const MAX_VOCAB_TOKENS = 1_000_000;
/** HF's max_input_chars_per_word */
export const MAX_CHARS_PER_WORD = 100;

export interface Vocab {
  /** token -> id (a token listed twice keeps its last line, as HF's load_vocab does) */
  ids: Map<string, number>;
  /** id -> token */
  tokens: string[];
  source: string;
}

/** A vocabulary from its lines (token id = line index). */
export function vocabFromLines(lines: readonly string[], source = 'vocab'): Vocab {
  const ids = new Map<string, number>();
  lines.forEach((t, i) => ids.set(t, i));
  for (const special of ['[UNK]', '[CLS]', '[SEP]', '[PAD]']) {
    if (!ids.has(special)) throw new DataError(source, `not a BERT vocabulary: no ${special} token`);
  }
  return { ids, tokens: [...lines], source };
}

/** Read a vocab.txt (one token per line, id = line number - 1), with size bounds. */
export function loadVocab(path: string): Vocab {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_VOCAB_BYTES) throw new DataError(path, `vocabulary file is ${size} bytes, over the ${MAX_VOCAB_BYTES}-byte limit`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fsProblem(path, e);
  }
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > MAX_VOCAB_TOKENS) throw new DataError(path, `vocabulary has ${lines.length} lines, over the limit of ${MAX_VOCAB_TOKENS}`);
  // HF strips the trailing newline only; drop a Windows carriage return too
  return vocabFromLines(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), path);
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /^\p{Zs}$/u.test(ch);
}

function isControl(ch: string): boolean {
  if (ch === '\t' || ch === '\n' || ch === '\r') return false;
  return /^\p{C}$/u.test(ch);
}

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /^\p{P}$/u.test(ch);
}

/** The CJK Unified Ideographs blocks BERT pads with spaces (not Hiragana/Katakana/Hangul). */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Steps 1-3: the words WordPiece sees. */
export function basicTokenize(text: string): string[] {
  let cleaned = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) cleaned += ' ';
    else if (isCjk(cp)) cleaned += ` ${ch} `;
    else cleaned += ch;
  }
  const out: string[] = [];
  for (const word of cleaned.trim().split(/ +/)) {
    if (word === '') continue;
    const stripped = word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    let cur = '';
    for (const ch of stripped) {
      if (isPunctuation(ch)) {
        if (cur) out.push(cur);
        out.push(ch);
        cur = '';
      } else cur += ch;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/** Step 4 on one word. */
export function wordPiece(word: string, vocab: Vocab): string[] {
  const chars = Array.from(word);
  if (chars.length > MAX_CHARS_PER_WORD) return ['[UNK]'];
  const pieces: string[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let found: string | undefined;
    while (start < end) {
      const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
      if (vocab.ids.has(sub)) {
        found = sub;
        break;
      }
      end--;
    }
    if (found === undefined) return ['[UNK]'];
    pieces.push(found);
    start = end;
  }
  return pieces;
}

/** The WordPiece tokens of a text (HF `tokenizer.tokenize(text)`). */
export function tokenize(text: string, vocab: Vocab): string[] {
  return basicTokenize(text).flatMap((w) => wordPiece(w, vocab));
}

/**
 * How a sentence becomes model input:
 * `authors`: `[CLS]` + tokens, cut to the length (no `[SEP]`), as the RBFleX-NAS SST-2 loader does;
 * `bert`: `[CLS]` + tokens + `[SEP]`, tokens cut to length - 2 (BERT's single-sentence format).
 */
export type TextFormat = 'authors' | 'bert';
export const TEXT_FORMATS: readonly TextFormat[] = ['authors', 'bert'];

export interface Encoded {
  tokens: string[];
  /** token ids, padded with 0 ([PAD]) to the length */
  ids: number[];
  /** 1 for real tokens, 0 for padding */
  mask: number[];
  /** segment ids (all 0 for a single sentence) */
  types: number[];
}

export function encode(text: string, vocab: Vocab, length: number, format: TextFormat = 'authors'): Encoded {
  if (!Number.isInteger(length) || length < 2) throw new RangeError(`sequence length must be a whole number >= 2, got ${length}`);
  const toks = tokenize(text, vocab);
  const seq = format === 'bert' ? ['[CLS]', ...toks.slice(0, length - 2), '[SEP]'] : ['[CLS]', ...toks].slice(0, length);
  const unk = vocab.ids.get('[UNK]')!;
  const pad = length - seq.length;
  return {
    tokens: seq,
    ids: [...seq.map((t) => vocab.ids.get(t) ?? unk), ...new Array<number>(pad).fill(0)],
    mask: [...new Array<number>(seq.length).fill(1), ...new Array<number>(pad).fill(0)],
    types: new Array<number>(length).fill(0),
  };
}
