/** rbflex export: opset 17 by default, no dead nodes (both ONNX readers still see every tap), and older-opset forms of Gelu / Mish / Resize compute the same. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { exportOnnx } from '../src/backends/onnx/export.js';
import { GraphBuilder } from '../src/ir/builder.js';
import { nb201 } from '../src/spaces/nb201.js';
import { initWeights } from '../src/ir/init.js';
import { type OnnxModel, decodeModel } from '../src/onnx-import/model.js';
import { Rng } from '../src/util/rng.js';
import { ACTIVATION_REPEATS_KEY } from '../src/onnx-import/tap-metadata.js';
import { importOnnx } from '../src/onnx-import/index.js';
import { AsisModel } from '../src/onnx-asis/model.js';
import { activationLength, countFlops } from '../src/ir/analysis.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|';

/** nodes no graph output depends on */
function deadNodes(m: OnnxModel): number {
  const producer = new Map<string, number>();
  m.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  const live = new Set<number>();
  const stack = m.outputs.map((o) => o.name);
  while (stack.length) {
    const p = producer.get(stack.pop()!);
    if (p === undefined || live.has(p)) continue;
    live.add(p);
    stack.push(...m.nodes[p]!.inputs.filter((i) => i !== ''));
  }
  return m.nodes.length - live.size;
}

test('export writes opset 17 (IR 8) by default with no dead nodes, readable with the native taps by both readers; --opset 20 on request; bad opsets are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-export-'));
  try {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'export', '--arch', ARCH, ...args], { encoding: 'utf8' });
    const a = run('--out', join(dir, 'a.onnx'));
    assert.equal(a.status, 0, a.stderr);
    assert.match(a.stderr, /wrote .*a\.onnx \(\d+ bytes, opset 17\)/);
    const m = decodeModel(readFileSync(join(dir, 'a.onnx')));
    assert.equal(m.opsets.get(''), 17);
    assert.equal(m.irVersion, 8);
    // no dead nodes: every node feeds a graph output. A module called twice on one tensor (one IR
    // node, instances 2) is written once; the metadata counts its repeats, so both of rbflex's ONNX
    // readers see the native network's taps.
    assert.equal(deadNodes(m), 0, 'nodes no graph output depends on');
    const g = nb201.build(ARCH);
    const repeats = g.nodes.filter((n) => n.op.kind === 'activation' && n.instances > 1);
    assert.ok(repeats.length > 0, 'the test arch should have a repeated module');
    assert.equal(Object.values(JSON.parse(m.metadata.get(ACTIVATION_REPEATS_KEY)!) as Record<string, number>).reduce((a, k) => a + k, 0), repeats.reduce((a, n) => a + n.instances - 1, 0));
    const bytes = readFileSync(join(dir, 'a.onnx'));
    const imported = importOnnx(bytes, { source: 'a.onnx', bn: 'train' }).graph;
    const asis = AsisModel.open(bytes, { source: 'a.onnx', bn: 'train', threads: 1 });
    for (const mode of ['reference', 'activations'] as const) {
      const native = g.nodes.reduce((a, n) => a + n.taps[mode], 0);
      assert.equal(imported.nodes.reduce((a, n) => a + n.taps[mode], 0), native, `onnx-import, ${mode} taps`);
      assert.equal(activationLength(imported, mode), activationLength(g, mode), `onnx-import, L_K ${mode}`);
      assert.equal(asis.info.taps[mode], native, `onnx-asis, ${mode} taps`);
    }
    assert.equal(countFlops(imported), countFlops(g), 'repeated activations count in FLOPs as before');
    assert.equal(run('--out', join(dir, 'b.onnx'), '--opset', '20').status, 0);
    assert.equal(decodeModel(readFileSync(join(dir, 'b.onnx'))).opsets.get(''), 20);
    const bad = run('--out', join(dir, 'c.onnx'), '--opset', '12');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--opset must be between 14 and 20/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Gelu, Mish, Resize and ReduceMean written for opset 17 compute what the opset-20 ops compute', async () => {
  const b = new GraphBuilder('opset-forms');
  const x = b.input([3, 6, 6]);
  const c = b.conv2d('conv', x, { outC: 4, kernel: 3, pad: 1 });
  const n = b.batchnorm('bn', c);
  const g = b.activation('gelu', n, 'gelu');
  const m = b.activation('mish', g, 'mish');
  const r = b.resize('up', m, [9, 9]);
  const p = b.globalAvgPool('gap', r);
  const out = b.linear('fc', p, 5);
  const graph = b.finish({ output: out, classifierInput: p, defaultTaps: 'activations' });
  const w = initWeights(graph, 'opset-forms');
  const rng = new Rng('opset-forms');
  const data = Float32Array.from({ length: 2 * 3 * 6 * 6 }, () => rng.nextNormal());
  const logits = async (opset: number, bn: 'inference' | 'batch') => {
    const { bytes } = exportOnnx(graph, w, { taps: [], bn, logits: true, classifierInput: false, opset });
    const s = await ort.InferenceSession.create(bytes);
    const res = await s.run({ input: new ort.Tensor('float32', data, [2, 3, 6, 6]) });
    return res.logits!.data as Float32Array;
  };
  for (const bn of ['inference', 'batch'] as const) {
    const [a, z] = [await logits(17, bn), await logits(20, bn)];
    assert.equal(a.length, 10);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - z[i]!) <= 1e-5 * Math.max(1, Math.abs(z[i]!)), `${bn} logit ${i}: ${a[i]} vs ${z[i]}`);
  }
});
