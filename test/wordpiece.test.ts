import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { drawSentences, readSentences, tokenBatch } from '../src/text/sentences.js';
import { basicTokenize, encode, loadVocab, tokenize, vocabFromLines } from '../src/text/wordpiece.js';
import { sharedDataPath } from './helpers/shared-data.js';

// a toy vocabulary: ids are line numbers
const toy = vocabFromLines(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'aff', 'cafe', ',', '!', '北', '京', 'x', '##x', 'a']);

test('basic tokenizer: lower-case, accents, punctuation, CJK, control and whitespace characters', () => {
  assert.deepEqual(basicTokenize('  Héllo,\tWORLD!! '), ['hello', ',', 'world', '!', '!']);
  assert.deepEqual(basicTokenize('Café Naïve'), ['cafe', 'naive']);
  assert.deepEqual(basicTokenize('北京x'), ['北', '京', 'x']);
  assert.deepEqual(basicTokenize('a\u0000b\u200bc\ufffdd\u00a0e'), ['abcd', 'e']); // NUL, U+FFFD, format char dropped; NBSP splits
  assert.deepEqual(basicTokenize("re-imagining wo n't $5"), ['re', '-', 'imagining', 'wo', 'n', "'", 't', '$', '5']);
  assert.deepEqual(basicTokenize('«quoted»'), ['«', 'quoted', '»']); // category P (Pi/Pf)
});

test('wordpiece: greedy longest match with ##, [UNK] for an unmatched rest and for words over 100 characters', () => {
  assert.deepEqual(tokenize('unaffable', toy), ['un', '##aff', '##able']);
  assert.deepEqual(tokenize('Unaffable, CAFÉ!', toy), ['un', '##aff', '##able', ',', 'cafe', '!']);
  assert.deepEqual(tokenize('unaffz', toy), ['[UNK]']);
  assert.deepEqual(tokenize('xx', toy), ['x', '##x']);
  assert.deepEqual(tokenize('x'.repeat(100), toy).length, 100);
  assert.deepEqual(tokenize('x'.repeat(101), toy), ['[UNK]']);
});

test('encode: [CLS] + tokens cut to the length (authors), or [CLS] tokens [SEP] (bert); [PAD] and mask', () => {
  const e = encode('cafe, cafe', toy, 6);
  assert.deepEqual(e.tokens, ['[CLS]', 'cafe', ',', 'cafe']);
  assert.deepEqual(e.ids, [2, 8, 9, 8, 0, 0]);
  assert.deepEqual(e.mask, [1, 1, 1, 1, 0, 0]);
  assert.deepEqual(e.types, [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(encode('cafe, cafe', toy, 3).ids, [2, 8, 9]);
  assert.deepEqual(encode('cafe, cafe', toy, 6, 'bert').ids, [2, 8, 9, 8, 3, 0]);
  assert.deepEqual(encode('cafe, cafe', toy, 4, 'bert').ids, [2, 8, 9, 3]);
  assert.deepEqual(encode('zzz', toy, 3).ids, [2, 1, 0]);
});

test('the bert-base-uncased vocabulary: ids derived by hand from the vocab file', (t) => {
  const path = sharedDataPath('text/bert-base-uncased-vocab.txt', t);
  if (!path) return;
  const v = loadVocab(path);
  assert.equal(v.tokens.length, 30522);
  // looked up with grep -n -x in the vocab file (id = line - 1)
  const s1 = 'A stirring, funny and finally transporting re-imagining of Beauty and the Beast.';
  assert.deepEqual(
    tokenize(s1, v).map((x) => v.ids.get(x)),
    [1037, 18385, 1010, 6057, 1998, 2633, 18276, 2128, 1011, 16603, 1997, 5053, 1998, 1996, 6841, 1012],
  );
  // rbflex: rbflex..rbf not in the vocab, rb = 21144; ##flex no, ##fle = 21031; ##x = 2595
  assert.deepEqual(tokenize("Café naïve wo n't RBFleX!", v), ['cafe', 'naive', 'wo', 'n', "'", 't', 'rb', '##fle', '##x', '!']);
  assert.deepEqual(
    encode("Café naïve wo n't RBFleX!", v, 14).ids,
    [101, 7668, 15743, 24185, 1050, 1005, 1056, 21144, 21031, 2595, 999, 0, 0, 0],
  );
  // unaffordably: una (14477) ##ff (4246) ##ord (8551) ##ably (8231); CJK split per character
  assert.deepEqual(tokenize('unaffordably 北京', v).map((x) => v.ids.get(x)), [14477, 4246, 8551, 8231, 1781, 1755]);
});

test('SST-2 sentences: seeded draw and token batch rows (ids, types, mask)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-sst2-'));
  const f = join(dir, 'train.tsv');
  writeFileSync(f, '1\tcafe , cafe\n0\tunaffable !\n1\ta\n\n');
  const rows = readSentences(f);
  assert.deepEqual(rows.map((r) => r.label), [1, 0, 1]);
  const a = drawSentences(rows, 2, '7', f);
  assert.deepEqual(drawSentences(rows, 2, '7', f).indices, a.indices);
  assert.equal(new Set(a.indices).size, 2);
  assert.throws(() => drawSentences(rows, 4, '7', f), /holds 3 sentences, fewer than the 4/);
  const b = tokenBatch(['cafe , cafe', 'unaffable !'], toy, 5, 'authors', 'x');
  assert.deepEqual([b.n, b.c, b.h, b.w], [2, 3, 1, 5]);
  assert.deepEqual([...b.data], [2, 8, 9, 8, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 2, 4, 5, 6, 10, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  writeFileSync(f, '');
  assert.throws(() => readSentences(f), /no sentences/);
});
