import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphBuilder, IRError, MAX_TENSOR_ELEMENTS } from '../src/ir/builder.js';

test('builder: shape inference for conv, pool, resize, slice, concat', () => {
  const b = new GraphBuilder('t');
  const x = b.input([3, 32, 32]);
  const c = b.conv2d('c', x, { outC: 8, kernel: 3, stride: 2, pad: 1 });
  assert.deepEqual(b.shape(c), [8, 16, 16]);
  assert.deepEqual(b.shape(b.pool('p', c, 'avgpool', { kernel: 3, stride: 1, pad: 1 })), [8, 16, 16]);
  assert.deepEqual(b.shape(b.pool('m', c, 'maxpool', { kernel: 2 })), [8, 8, 8]);
  assert.deepEqual(b.shape(b.resize('r', c, [8, 8])), [8, 8, 8]);
  assert.deepEqual(b.shape(b.slice('s', c, [1, 1], [2, 2])), [8, 8, 8]);
  assert.deepEqual(b.shape(b.concat('k', [c, c])), [16, 16, 16]);
  assert.throws(() => b.add_('a', [x, c]), /cannot add shapes/);
});

test('builder: identical activations on one input merge, counting modules and taps', () => {
  const b = new GraphBuilder('t');
  const x = b.input([4, 8, 8]);
  const r1 = b.activation('r1', x, 'relu');
  const r2 = b.activation('r2', x, 'relu');
  const g = b.activation('g', x, 'gelu');
  assert.equal(r1, r2);
  assert.notEqual(r1, g);
  assert.deepEqual(b.nodes[r1]!.taps, { reference: 2, activations: 2 });
  assert.equal(b.nodes[r1]!.instances, 2);
  // GELU's class name has no "ReLU": an activation tap only
  assert.deepEqual(b.nodes[g]!.taps, { reference: 0, activations: 1 });
  // a different alpha is a different module
  assert.notEqual(b.activation('l1', x, 'leaky_relu'), b.activation('l2', x, 'leaky_relu', 0.2));
});

test('builder: a tensor larger than the limit is refused with an IRError naming the node', () => {
  const b = new GraphBuilder('huge');
  const x = b.input([3, 32, 32]);
  assert.throws(
    () => b.conv2d('stem', x, { outC: 64, kernel: 1, pad: 20000 }),
    (e: Error) => e instanceof IRError && /huge: stem \(conv2d\) would hold \d+ values per image/.test(e.message),
  );
  assert.equal(MAX_TENSOR_ELEMENTS, 2 ** 28);
});
