/**
 * The engine fingerprint: what the score cache keys on instead of hand-bumped version tags.
 *
 * A score is defined by the RNG, the weight init, the ops (their reference semantics and their
 * ONNX lowering), the onnxruntime build and each proxy's arithmetic. The fingerprint runs all of
 * them on a fixed canary network that uses every IR op and activation, and hashes what comes
 * out: the RNG's first outputs, the canary's weights, the reference backend's tapped features
 * (per-image and batch BatchNorm), the ONNX bytes the exporter writes, onnxruntime's version, and
 * each proxy's canary score. Any change to any of these changes the key, so old cache rows are
 * simply never hit again; a change to comments or unrelated code does not.
 *
 * Everything hashed is computed in float64 by our own code, or is bytes we write, so the
 * fingerprint is the same on every machine running the same rbflex (distributed workers compare it).
 * The canary costs a few milliseconds, once per process.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { exportOnnx } from '../backends/onnx/export.js';
import { ReferenceBackend } from '../backends/reference.js';
import type { Backend, Features, ImageBatch } from '../backends/types.js';
import { GraphBuilder } from '../ir/builder.js';
import { type Weights, initWeights } from '../ir/init.js';
import { ACTIVATIONS, type Graph } from '../ir/types.js';
import { PROXIES, PROXY_NAMES, type ProxyName, type ProxySettings, REFERENCE_GAMMAS } from '../proxies/index.js';
import { buildBert } from '../spaces/bert.js';
import { Rng } from '../util/rng.js';
import { scoreNetwork } from './scorer.js';

/** What the fingerprint is computed with; tests swap parts to check that a change is seen. */
export interface EngineParts {
  rng: (seed: string) => { nextU32(): number; nextNormal(): number };
  init: (g: Graph, seed: string) => Weights;
  backend: Backend;
  ortVersion: string;
}

/** the canary network: every IR op and every activation kind, on 3x8x8 inputs */
export function canaryGraph(): Graph {
  const b = new GraphBuilder('canary');
  const x = b.input([3, 8, 8]);
  const c1 = b.tap(b.conv2d('conv1', x, { outC: 4, kernel: 3, pad: 1, bias: false }), { reference: 1 });
  const bn = b.batchnorm('bn1', c1);
  const acts = ACTIVATIONS.map((fn) => b.activation(`act_${fn}`, bn, fn));
  const leaky = b.activation('act_leaky_alpha', bn, 'leaky_relu', 0.2);
  const sum = b.add_('sum', [...acts, leaky]);
  const avg = b.pool('avg', sum, 'avgpool', { kernel: 3, stride: 1, pad: 1, countIncludePad: false });
  const max = b.pool('max', avg, 'maxpool', { kernel: 3, stride: 2, pad: 1 });
  const sl = b.slice('slice', sum, [1, 0], [2, 2]);
  const rs = b.resize('resize', b.conv2d('conv2', sl, { outC: 4, kernel: [1, 3], pad: [0, 1], stride: [1, 1], dilation: 1, groups: 2, bias: true }), [4, 4]);
  const cat = b.concat('cat', [max, rs, b.zero('zero', max), b.identity('id', max)]);
  const c3 = b.conv2d('conv3', cat, { outC: 6, kernel: 3, stride: 2, pad: 2, dilation: 2 });
  const r = b.activation('act_out', b.batchnorm('bn3', c3, { affine: false }), 'relu');
  const q = b.flatten('flat', b.globalAvgPool('gap', r));
  const out = b.linear('fc', q, 5);
  return b.finish({ output: out, classifierInput: q, defaultTaps: 'reference' });
}

function defaultParts(): EngineParts {
  const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  return { rng: (s) => new Rng(s), init: initWeights, backend: new ReferenceBackend(), ortVersion: version };
}

class Hasher {
  private readonly h = createHash('sha256');
  text(s: string): this {
    this.h.update(`${s.length}:${s}`);
    return this;
  }
  floats(a: ArrayLike<number>): this {
    const f = Float64Array.from(a);
    this.h.update(new Uint8Array(f.buffer));
    return this;
  }
  bytes(b: Uint8Array): this {
    this.h.update(b);
    return this;
  }
  hex(n = 16): string {
    return this.h.digest('hex').slice(0, n);
  }
}

function hashFeatures(h: Hasher, f: Features): void {
  for (const s of f.x) h.text(`${s.node}:${s.counts.reference}:${s.counts.activations}:${s.size}`).floats(s.data);
  h.floats(f.y.data);
}

const canaryImages = (parts: EngineParts): ImageBatch => {
  const r = parts.rng('rbflex-canary-images');
  const data = new Float32Array(3 * 3 * 8 * 8);
  for (let i = 0; i < data.length; i++) data[i] = r.nextNormal();
  return { n: 3, c: 3, h: 8, w: 8, data, id: 'canary' };
};

/** the fingerprint of everything every score shares (RNG, init, ops, ONNX lowering, onnxruntime) */
export async function coreFingerprint(parts: EngineParts = defaultParts()): Promise<string> {
  const h = new Hasher();
  const r = parts.rng('rbflex-canary');
  for (let i = 0; i < 16; i++) h.floats([r.nextU32(), r.nextNormal()]);
  const g = canaryGraph();
  const w = parts.init(g, 'rbflex-canary/weights');
  for (const [node, t] of [...w.byNode].sort((a, b) => a[0] - b[0])) {
    h.text(`n${node}`);
    if (t.weight) h.floats(t.weight);
    if (t.bias) h.floats(t.bias);
  }
  const images = canaryImages(parts);
  for (const bn of ['per-image', 'batch'] as const) {
    hashFeatures(h, await parts.backend.forward(g, w, images, { taps: ['reference', 'activations'], bn }));
    h.bytes(exportOnnx(g, w, { taps: ['reference', 'activations'], bn }).bytes);
  }
  h.bytes(exportOnnx(g, w, { taps: ['reference'], bn: 'inference', logits: true }).bytes);
  // the transformer ops (src/ir/transformer.ts) on a tiny BERT: two token rows, one padded position
  const tg = buildBert('canary-bert', 'gelu', { layers: 1, hidden: 8, heads: 2, intermediate: 8, vocab: 16, positions: 8, typeVocab: 2, eps: 1e-12, seqLen: 4, classes: 2 });
  const tw = parts.init(tg, 'rbflex-canary/bert');
  const tokens: ImageBatch = { n: 2, c: 3, h: 1, w: 4, data: Float32Array.from([2, 5, 9, 0, 0, 1, 1, 0, 1, 1, 1, 0, 2, 7, 3, 15, 0, 0, 0, 1, 1, 1, 1, 1]), id: 'canary-bert' };
  hashFeatures(h, await parts.backend.forward(tg, tw, tokens, { taps: ['activations'], bn: 'per-image' }));
  h.bytes(exportOnnx(tg, tw, { taps: ['activations'], bn: 'per-image' }).bytes);
  return h.text(`onnxruntime ${parts.ortVersion}`).hex();
}

/** the fingerprint of one proxy: the core, plus the proxy's score of the canary (default settings) */
export async function proxyFingerprint(name: ProxyName, parts: EngineParts = defaultParts(), core?: string): Promise<string> {
  const h = new Hasher().text(core ?? (await coreFingerprint(parts))).text(name);
  const settings: ProxySettings = { ...REFERENCE_GAMMAS, taps: 'reference' };
  const g = canaryGraph();
  try {
    const images = canaryImages(parts);
    const r = await scoreNetwork(g, () => parts.init(g, 'rbflex-canary/weights'), images, [PROXIES[name](settings)], settings, parts.backend, undefined, {
      backend: 'onnx',
      sources: { mode: 'shared', images, seed: 'rbflex-canary' },
    });
    h.floats([r.scores[name] ?? Number.NaN]).text(r.notes?.[name] ?? '');
  } catch (e) {
    h.text(`error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return h.hex();
}

let memo: Promise<Record<ProxyName, string>> | undefined;

/** every proxy's fingerprint with the real engine, computed once per process */
export function engineFingerprints(): Promise<Record<ProxyName, string>> {
  memo ??= (async () => {
    const parts = defaultParts();
    const core = await coreFingerprint(parts);
    const out = {} as Record<ProxyName, string>;
    for (const p of PROXY_NAMES) out[p] = await proxyFingerprint(p, parts, core);
    return out;
  })();
  return memo;
}

/** one string for the whole engine (what distributed workers and coordinators compare) */
export async function engineVersion(): Promise<string> {
  const fp = await engineFingerprints();
  const h = new Hasher();
  for (const p of PROXY_NAMES) h.text(`${p}=${fp[p]}`);
  return h.hex();
}
