import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { ImageBatch } from '../src/backends/types.js';
import { PROXIES } from '../src/proxies/index.js';
import { detectGammas } from '../src/search/hda.js';
import { scoreNetwork, weightSeed } from '../src/search/scorer.js';
import { getSpace } from '../src/spaces/index.js';
import type { BertConfig } from '../src/spaces/bert.js';
import { fixturePath } from './helpers/shared-data.js';

interface Expected {
  seed: string;
  bert: BertConfig;
  tokens: number[][][];
  gammaK: number;
  gammaQ: number;
  scores: Record<string, number>;
}

// written by tools/bert_fidelity.py (plain PyTorch with rbflex's weights)
const expected = JSON.parse(readFileSync(fixturePath('bert-fidelity.json'), 'utf8')) as Expected;

function batch(): ImageBatch {
  const s = expected.bert.seqLen;
  const data = new Float32Array(expected.tokens.length * 3 * s);
  expected.tokens.forEach((rows, i) => rows.forEach((r, k) => data.set(r, (i * 3 + k) * s)));
  return { n: expected.tokens.length, c: 3, h: 1, w: s, data, id: 'bert-fidelity' };
}

test('nafbee-bert small config (2 layers, hidden 64): HDA gammas and RBFleX scores match plain PyTorch within 1e-2', async () => {
  const space = getSpace('nafbee-bert');
  const build = { dataset: 'sst2', bert: expected.bert };
  const images = batch();
  const archs = Array.from({ length: space.size }, (_, i) => space.archAt(i));
  const g = await detectGammas({ space: space.name, build, archs, images, backend: 'onnx', seed: expected.seed, taps: 'activations', variant: 'paper', threads: 1 });
  assert.ok(Math.abs(g.gammaK / expected.gammaK - 1) < 1e-3, `gamma_k ${g.gammaK} vs PyTorch ${expected.gammaK}`);
  assert.ok(Math.abs(g.gammaQ / expected.gammaQ - 1) < 1e-3, `gamma_q ${g.gammaQ} vs PyTorch ${expected.gammaQ}`);
  // score with PyTorch's gammas, so the comparison is of the scores alone
  const settings = { gammaK: expected.gammaK, gammaQ: expected.gammaQ, taps: 'activations' as const };
  const proxy = PROXIES.rbflex(settings);
  const onnx = new OnnxBackend();
  const got: Record<string, number> = {};
  for (const arch of archs) {
    const graph = space.build(arch, build);
    const w = () => space.initWeights!(graph, weightSeed(expected.seed, space.name, arch), build);
    const r = await scoreNetwork(graph, w, images, [proxy], settings, onnx);
    got[arch] = r.scores.rbflex!;
    assert.ok(Math.abs(got[arch]! - expected.scores[arch]!) < 1e-2, `${arch}: rbflex ${got[arch]} vs PyTorch ${expected.scores[arch]}`);
  }
  // the float64 reference backend too, on two of them
  for (const arch of ['GELU', 'SELU']) {
    const graph = space.build(arch, build);
    const w = () => space.initWeights!(graph, weightSeed(expected.seed, space.name, arch), build);
    const r = await scoreNetwork(graph, w, images, [proxy], settings, new ReferenceBackend());
    assert.ok(Math.abs(r.scores.rbflex! - expected.scores[arch]!) < 1e-2, `${arch} (reference backend): ${r.scores.rbflex} vs ${expected.scores[arch]}`);
  }
  // the scores differ between activations (the check is not of a constant)
  assert.ok(new Set(Object.values(got).map((v) => v.toFixed(3))).size > 5);
});
