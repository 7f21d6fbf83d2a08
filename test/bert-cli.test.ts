import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, RBFLEX_CACHE: '/nonexistent-never-used' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'rbflex-bert-cli-'));
const tsv = join(dir, 'train.tsv');
writeFileSync(tsv, '1\ta fine film\n0\ta dull one\n');
const notVocab = join(dir, 'vocab.txt');
writeFileSync(notVocab, 'hello\nworld\n');
const vocab = join(dir, 'tiny-vocab.txt');
writeFileSync(vocab, '[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nfine\nfilm\n');

const CASES: [string, string[], RegExp][] = [
  ['missing sentences', ['score', '--space', 'nafbee-bert', '--arch', 'GELU', '--data', '/no/such/sst2.tsv', '--no-cache'], /\/no\/such\/sst2\.tsv: no such file/],
  ['not a vocabulary', ['score', '--space', 'nafbee-bert', '--arch', 'GELU', '--data', tsv, '--vocab', notVocab, '--no-cache'], /not a BERT vocabulary: no \[UNK\] token/],
  ['bert weights on another space', ['score', '--arch', 'ReLU', '--space', 'nafbee-vgg19', '--bert-weights', tsv], /--bert-weights applies to nafbee-bert, not nafbee-vgg19/],
  ['bad bert weights', ['score', '--space', 'nafbee-bert', '--arch', 'GELU', '--data', tsv, '--vocab', vocab, '--batch', '2', '--bert-weights', tsv, '--no-cache'], /train\.tsv: not a safetensors file: header length/],
  ['too few sentences', ['score', '--space', 'nafbee-bert', '--arch', 'GELU', '--data', tsv, '--vocab', vocab, '--no-cache'], /holds 2 sentences, fewer than the 3 asked for/],
  ['bad text format', ['score', '--space', 'nafbee-bert', '--arch', 'GELU', '--text-format', 'xlnet'], /argument 'xlnet' is invalid/],
  ['resolution on text', ['info', '--space', 'nafbee-bert', '--arch', 'GELU', '--resolution', '32'], /--resolution does not apply to text input/],
];

for (const [name, args, re] of CASES) {
  test(`nafbee-bert CLI error: ${name} -> one line, exit 2`, () => {
    const r = cli(...args);
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('detecting gammas'));
    assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
    assert.match(lines[0]!, re);
  });
}
