import assert from 'node:assert/strict';
import { test } from 'node:test';
import { studyNotes } from '../src/study/notes.js';

test('studyNotes: each distinct proxy note once with its count; a proxy constant over every network is flagged; nothing for ordinary scores', () => {
  const note = 'ran on 3 images; its authors use 16 (give --batch 16 or more)';
  const results = [
    { scores: { swap: 8, meco: 1.5, zen: -Infinity }, notes: { swap: note } },
    { scores: { swap: 8, meco: 2.5, zen: -Infinity }, notes: { swap: note } },
    { scores: { swap: 8, meco: 0.5, zen: -Infinity }, notes: { swap: note, zen: 'pre-GAP output does not depend on the input' } },
  ];
  const lines = studyNotes(results, ['meco', 'swap', 'zen']);
  assert.deepEqual(lines, [
    `swap: ${note} (3 of 3 networks)`,
    'swap: every one of the 3 networks scored 8, so its correlations are undefined (n/a)',
    'zen: pre-GAP output does not depend on the input (1 of 3 networks)',
  ]);
  // a constant -Infinity (every kernel singular) is not reported as a constant score; one network is no study
  assert.deepEqual(studyNotes([{ scores: { swap: 8 } }], ['swap']), []);
  assert.deepEqual(studyNotes(results, ['meco']), []);
});
