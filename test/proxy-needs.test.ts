/**
 * The proxy needs interface: equal gradient needs share one pass, labels come from the source or
 * from the seed, `--proxy all` expands, and a session computes gradient proxies on one network with
 * both input modes (values checked against the float64 reference tape).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { initWeights } from '../src/ir/init.js';
import { PROXIES, PROXY_NAMES, ProxyError, parseProxyList } from '../src/proxies/index.js';
import { labelsFor } from '../src/proxies/inputs.js';
import { foldedPasses, groupNeeds, passKey } from '../src/proxies/needs.js';
import { jacovScore } from '../src/proxies/jacov.js';
import { ReferenceGradBackend } from '../src/grad/reference.js';
import { scoreNetwork } from '../src/search/scorer.js';
import { getSpace } from '../src/spaces/index.js';
import { gaussianImages } from './helpers/fixtures.js';

const S = { gammaK: 1, gammaQ: 1, taps: 'reference' as const };

test('needs: snip, grad_norm, fisher and grasp share one pass; synflow and jacov have their own', () => {
  const needs = ['snip', 'grad_norm', 'fisher', 'grasp', 'synflow', 'logsynflow', 'jacov'].map((n) => PROXIES[n as 'snip'](S).grad!);
  const groups = groupNeeds(needs);
  assert.equal(groups.size, 3);
  const ce = [...groups.values()].find((g) => g.objective === 'cross-entropy')!;
  assert.deepEqual(ce.wrt, { weights: true, outputProducts: true, hvp: true });
  assert.equal(ce.batch, 32);
  const sf = [...groups.values()].find((g) => g.input === 'ones')!;
  assert.deepEqual([sf.bn, sf.precision, sf.absWeights, sf.rescale, sf.batch], ['off', 'float32', true, true, 1]);
  // jacov rides on the cross-entropy pass (same images, batch, BatchNorm): one forward for both
  const jac = PROXIES.jacov(S).grad!;
  assert.deepEqual([...foldedPasses(groups)], [[passKey(jac), passKey(ce)]]);
  // not when the batches differ (its own pass then), nor onto synflow's pass
  assert.equal(foldedPasses(groupNeeds([jac, { ...PROXIES.snip(S).grad!, batch: 16 }])).size, 0);
  assert.equal(foldedPasses(groupNeeds([jac, PROXIES.synflow(S).grad!])).size, 0);
});

test('labels: the source labels when complete and in range, else seeded random ones', () => {
  const b = { ...gaussianImages(4, 8, 'l'), labels: [3, 1, 0, 9] };
  assert.deepEqual([...labelsFor(b, 4, 10, 's')], [3, 1, 0, 9]);
  const r1 = labelsFor({ ...b, labels: [3, undefined, 0, 9] }, 4, 10, 's');
  const r2 = labelsFor(undefined, 4, 10, 's');
  assert.deepEqual([...r1], [...r2]);
  assert.ok(r1.every((l) => l >= 0 && l < 10));
  assert.notDeepEqual([...labelsFor(undefined, 16, 10, 's')], [...labelsFor(undefined, 16, 10, 't')]);
  // a label outside the network's classes is not used
  assert.deepEqual([...labelsFor(b, 4, 5, 's')], [...labelsFor(undefined, 4, 5, 's')]);
});

test('--proxy all lists every proxy once; unknown names are refused', () => {
  assert.deepEqual(parseProxyList('all'), [...PROXY_NAMES]);
  assert.deepEqual(parseProxyList('snip,all'), ['snip', ...PROXY_NAMES.filter((p) => p !== 'snip')]);
  assert.throws(() => parseProxyList('snip,zzz'), ProxyError);
});

test('a session scores gradient proxies from one pass per need, in both input modes', async () => {
  const space = getSpace('nb201');
  const arch = space.parse('|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|');
  const g = space.build(arch, { dataset: 'cifar10' });
  const w = initWeights(g, 'needs/1');
  const images = gaussianImages(3, 32, 'needs-rbflex');
  const data = { ...gaussianImages(4, 32, 'needs-data'), labels: [1, 2, 3, 4] };
  const proxies = (['snip', 'grad_norm', 'jacov'] as const).map((p) => {
    const q = PROXIES[p](S);
    return { ...q, grad: { ...q.grad!, batch: 4 } };
  });
  const ref = new ReferenceGradBackend();
  for (const mode of ['reference', 'shared'] as const) {
    const r = await scoreNetwork(g, () => w, images, proxies, S, new OnnxBackend(), undefined, { backend: 'onnx', sources: { mode, images, data, seed: 'x' } });
    // the same definition on the float64 tape
    const src = mode === 'shared' ? images : data;
    const x = { n: src.n, c: 3, h: 32, w: 32, data: src.data };
    const labels = labelsFor(mode === 'shared' ? images : data, src.n, 10, 'x');
    const gr = await ref.gradients(g, w, x, { objective: { kind: 'cross-entropy', labels }, bn: 'batch', wrt: { weights: true } });
    const snip = PROXIES.snip(S).score({ graph: g, grad: gr, weights: w }, S).value;
    assert.ok(Math.abs(r.scores.snip! - snip) < 1e-4 * snip, `${mode}: snip ${r.scores.snip} vs reference ${snip}`);
    assert.ok(Number.isFinite(r.scores.grad_norm!) && r.scores.grad_norm! > 0);
    // jacov rode on the cross-entropy pass: its definition is a sum(logits) pass of its own
    const gs = await ref.gradients(g, w, x, { objective: { kind: 'sum' }, bn: 'batch', wrt: { input: true } });
    const jac = jacovScore(gs.input!, src.n, gs.input!.length / src.n);
    assert.ok(Math.abs(r.scores.jacov! - jac) < 1e-4 * Math.abs(jac), `${mode}: jacov ${r.scores.jacov} vs reference ${jac}`);
    const alone = await scoreNetwork(g, () => w, images, [proxies[2]!], S, new OnnxBackend(), undefined, { backend: 'onnx', sources: { mode, images, data, seed: 'x' } });
    assert.ok(Math.abs(alone.scores.jacov! - jac) < 1e-4 * Math.abs(jac), `${mode}: jacov alone ${alone.scores.jacov} vs reference ${jac}`);
  }
  await assert.rejects(
    scoreNetwork(g, () => w, images, proxies, S, new OnnxBackend()),
    (e: Error) => e instanceof ProxyError && /gradient proxies cannot run here/.test(e.message),
  );
});
