/** meco-opt (MeCo_opt, the authors' variant used for NATS-SSS): 8 random channels, times C / 8. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelCorrelation, mecoLayer, mecoOptLayer, mecoOptScore } from '../src/proxies/meco.js';
import { symmetricEigenvalues } from '../src/proxies/eigen.js';
import { Rng } from '../src/util/rng.js';

function tensor(c: number, hw: number, seed: string): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: c * hw }, () => rng.nextNormal());
}

test('meco-opt: with 8 channels it is MeCo (sample order does not matter); with 16, the 8 drawn channels x 2', () => {
  const x8 = tensor(8, 25, 'mo8');
  assert.ok(Math.abs(mecoOptLayer(x8, 8, 25, new Rng('a')) - mecoLayer(x8, 8, 25)) < 1e-10);
  const x16 = tensor(16, 25, 'mo16');
  const picked = new Rng('b').sample(16, 8);
  const sub = Float64Array.from(picked.flatMap((c) => Array.from(x16.subarray(c * 25, c * 25 + 25))));
  const want = symmetricEigenvalues(channelCorrelation(sub, 8, 25), 8)[0]! * 2;
  assert.ok(Math.abs(mecoOptLayer(x16, 16, 25, new Rng('b')) - want) < 1e-10);
  // wide layers with few positions: MeCo's full matrix is singular (min eigenvalue ~0), MeCo_opt's sample is not
  const wide = tensor(64, 16, 'wide');
  assert.ok(Math.abs(mecoLayer(wide, 64, 16)) < 1e-8);
  assert.ok(mecoOptLayer(wide, 64, 16, new Rng('c')) > 1e-3);
  // one sample per module instance
  const s = mecoOptScore([{ data: x16, shape: [16, 5, 5], count: 2 }], new Rng('d'));
  const r = new Rng('d');
  assert.ok(Math.abs(s - (mecoOptLayer(x16, 16, 25, r) + mecoOptLayer(x16, 16, 25, r))) < 1e-10);
});
