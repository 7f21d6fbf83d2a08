import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnnxBackend } from '../src/backends/onnx/backend.js';
import { ReferenceBackend } from '../src/backends/reference.js';
import type { Features } from '../src/backends/types.js';
import { initWeights } from '../src/ir/init.js';
import { transnasMacro, transnasMicro } from '../src/spaces/transnas.js';
import type { BuildOptions, Space } from '../src/spaces/types.js';
import { GOLDEN_CASES, GOLDEN_IMAGES, goldenImages } from '../bench/transnas-golden-export.js';
import { fixturePath } from './helpers/shared-data.js';
import { readFileSync } from 'node:fs';

const OPTS = { taps: ['reference'] as const, bn: 'per-image' as const };
const SPACES: Record<string, Space> = { 'transnas-micro': transnasMicro, 'transnas-macro': transnasMacro };

/**
 * PyTorch golden values, written by tools/transnas_golden.py (run it to regenerate; this test never
 * runs Python): the authors' own modules (their checkout's BackboneTrans + HeadEmptyMid, joined as
 * their CNNWrapper does, config_macs_transmicro* head settings) in float64, with these very weights
 * (initWeights(g, `golden/${arch}`), copied into the state_dict by module path = IR node name) and
 * these images (bench/transnas-golden-export.ts), hooking exactly as RBFleX_TransNAS_Micro.py does
 * ('ReLU' in str(type(module)) -> output; last of named_modules() -> input). Per image: [sum K,
 * sum K^2, sum Q, sum Q^2, Q[5], Q[1234]]; L_K and L_Q as the hooks concatenate them. In float64 the
 * IR matched PyTorch to 3e-12.
 */
interface GoldenFile {
  images: { n: number; seed: string };
  cases: { space: string; arch: string; res: number; lk: number; lq: number; perImage: number[][] }[];
}
const GOLDEN_FILE = JSON.parse(readFileSync(fixturePath('transnas-golden.json'), 'utf8')) as GoldenFile;
const GOLDEN = GOLDEN_FILE.cases.map((c) => ({ ...c, space: SPACES[c.space]! }));

test('transnas: the golden fixture covers the cases the export script writes', () => {
  assert.deepEqual(GOLDEN_FILE.images, GOLDEN_IMAGES);
  assert.deepEqual(
    GOLDEN_FILE.cases.map((c) => [c.space, c.arch, c.res]),
    GOLDEN_CASES.map((c) => [c.space.name, c.arch, c.res]),
  );
});

function summarise(f: Features): { lk: number; lq: number; perImage: number[][] } {
  let lk = 0;
  for (const s of f.x) lk += s.size * s.counts.reference;
  const perImage: number[][] = [];
  for (let i = 0; i < f.n; i++) {
    let k1 = 0;
    let k2 = 0;
    for (const s of f.x) {
      for (let j = 0; j < s.size; j++) {
        const v = s.data[i * s.size + j]!;
        k1 += v * s.counts.reference;
        k2 += v * v * s.counts.reference;
      }
    }
    const q = f.y.data.subarray(i * f.y.size, (i + 1) * f.y.size);
    let q1 = 0;
    let q2 = 0;
    for (const v of q) {
      q1 += v;
      q2 += v * v;
    }
    perImage.push([k1, k2, q1, q2, q[5]!, q[1234]!]);
  }
  return { lk, lq: f.y.size, perImage };
}

for (const gold of GOLDEN) {
  test(`transnas: ${gold.arch} at ${gold.res} matches the authors' PyTorch network (float64 reference backend)`, async () => {
    const g = gold.space.build(gold.arch, { resolution: gold.res });
    const w = initWeights(g, `golden/${gold.arch}`);
    const f = await new ReferenceBackend().forward(g, w, goldenImages(gold.res), OPTS);
    const s = summarise(f);
    assert.equal(s.lk, gold.lk);
    assert.equal(s.lq, gold.lq);
    s.perImage.forEach((row, i) =>
      row.forEach((v, k) => {
        const want = gold.perImage[i]![k]!;
        assert.ok(Math.abs(v - want) <= 1e-9 * Math.max(1, Math.abs(want)), `image ${i} stat ${k}: ${v} vs PyTorch ${want}`);
      }),
    );
  });
}

/** max |a - b| / max |a| (or max |a - b| when a is all zero). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]!));
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
  }
  return m === 0 ? d : d / m;
}

// Several op mixes per space: FactorizedReduce (stride 2 and the stride-1 one of the rewritten
// last stage), zero ops (strided, channel-changing), 1x1/3x3, identity; macro skeletons of 4-6
// stages, up to 4 downsamplings, the 41414 rewrite, and nearest up-sampling to 8x8 (80 -> 2x2 maps).
const AGREE: [Space, string, number, BuildOptions?][] = [
  [transnasMicro, '64-41414-1_02_333', 64],
  [transnasMicro, '64-41414-0_10_120', 64],
  [transnasMicro, '64-41414-2_13_031', 48],
  [transnasMicro, '64-41414-0_00_000', 64],
  [transnasMicro, '64-41414-1_11_111', 128, { rewrite41414: false }],
  [transnasMacro, '64-1234-basic', 64],
  [transnasMacro, '64-3434-basic', 80],
  [transnasMacro, '64-41414-basic', 64],
  [transnasMacro, '64-114141-basic', 64],
  [transnasMacro, '64-2311-basic', 64],
];

test('transnas: onnx and reference backends agree on every tapped tensor and Y (10 networks)', async () => {
  const ref = new ReferenceBackend();
  const onnx = new OnnxBackend();
  for (const [space, arch, res, opts] of AGREE) {
    const g = space.build(arch, { resolution: res, ...opts });
    const w = initWeights(g, `agree/${arch}`);
    const imgs = goldenImages(res, 2, `agree-images/${res}`);
    const a = await ref.forward(g, w, imgs, OPTS);
    const b = await onnx.forward(g, w, imgs, OPTS);
    assert.equal(a.x.length, b.x.length);
    assert.ok(a.x.length > 0);
    a.x.forEach((s, k) => {
      const t = b.x[k]!;
      assert.equal(t.node, s.node);
      assert.deepEqual(t.counts, s.counts);
      const e = relErr(s.data, t.data);
      assert.ok(e <= 1e-4, `${g.label} @${res}: ${g.nodes[s.node]!.name} differs by ${e}`);
    });
    const e = relErr(a.y.data, b.y.data);
    assert.ok(e <= 1e-4, `${g.label} @${res}: Y differs by ${e}`);
  }
});
