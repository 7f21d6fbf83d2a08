import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DATASETS, DataError, loadImages, openImageSource } from '../src/data/index.js';
import { Rng } from '../src/util/rng.js';
import { fixtureExpected, fixturePath } from './helpers/shared-data.js';

/** the fixture generator's pixel pattern (tools/make-fixtures.py image_bytes) */
function pix(k: number, c: number, y: number, x: number, salt = 0): number {
  return (k * 53 + c * 85 + y * 7 + x * 3 + ((x * y) % 11) + salt) % 256;
}
function image(k: number, size = 32, salt = 0): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out.push(pix(k, c, y, x, salt));
  return out;
}

const tmp = mkdtempSync(join(tmpdir(), 'rbflex-data-cifar-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('CIFAR-10 binary: a batch file and the official folder (train / test split), pixels and labels', async () => {
  const exp = fixtureExpected<{ cifar10_bin: Record<string, { first_k: number; count: number; labels: number[] }> }>().cifar10_bin;
  const one = openImageSource(fixturePath('cifar-10-batches-bin/data_batch_1.bin'));
  assert.equal(one.kind, 'cifar10-bin');
  assert.equal(one.count, 3);
  const imgs = await one.read([2, 0]);
  assert.deepEqual([...imgs[0]!.chw], image(2));
  assert.deepEqual([...imgs[1]!.chw], image(0));
  assert.deepEqual(imgs.map((i) => i.label), [exp['data_batch_1.bin']!.labels[2], exp['data_batch_1.bin']!.labels[0]]);

  const dir = openImageSource(fixturePath('cifar-10-batches-bin'));
  assert.equal(dir.count, 4, 'data_batch_1 (3) + data_batch_2 (1)');
  const [last] = await dir.read([3]);
  assert.deepEqual([...last!.chw], image(3), 'index 3 is the first record of data_batch_2');
  const test_ = openImageSource(fixturePath('cifar-10-batches-bin'), { split: 'test' });
  assert.equal(test_.count, 1);
  assert.deepEqual([...(await test_.read([0]))[0]!.chw], image(100));
});

test('CIFAR-100 binary: coarse + fine label bytes, fine label kept', async () => {
  const src = openImageSource(fixturePath('cifar-100-binary'));
  assert.equal(src.kind, 'cifar100-bin');
  assert.equal(src.count, 2);
  const imgs = await src.read([0, 1]);
  assert.deepEqual([...imgs[1]!.chw], image(11));
  assert.deepEqual(imgs.map((i) => i.label), [(10 * 7) % 100, (11 * 7) % 100]);
  const t = openImageSource(fixturePath('cifar-100-binary'), { split: 'test' });
  assert.deepEqual([...(await t.read([0]))[0]!.chw], image(200));
});

test('CIFAR python batches (Python 2 pickles) read the same pixels as the binary batches', async () => {
  const py = openImageSource(fixturePath('cifar-10-batches-py'));
  const bin = openImageSource(fixturePath('cifar-10-batches-bin/data_batch_1.bin'));
  assert.equal(py.kind, 'cifar10-py');
  assert.equal(py.count, 3);
  const a = await py.read([0, 1, 2]);
  const b = await bin.read([0, 1, 2]);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual([...a[i]!.chw], [...b[i]!.chw], `image ${i}`);
    assert.equal(a[i]!.label, b[i]!.label);
  }
  const c100 = openImageSource(fixturePath('cifar-100-python'));
  assert.equal(c100.kind, 'cifar100-py');
  const [img] = await c100.read([1]);
  assert.deepEqual([...img!.chw], image(11));
  assert.equal(img!.label, (11 * 7) % 100, 'fine label');
  const t = openImageSource(fixturePath('cifar-100-python/test'));
  assert.deepEqual([...(await t.read([0]))[0]!.chw], image(200));
});

test('ImageNet16 batches: 16x16, labels 1-based, only labels <= 120 kept (0-based after)', async () => {
  const src = openImageSource(fixturePath('imagenet16'));
  assert.equal(src.kind, 'imagenet16');
  // labels [1, 121, 120, 500, 7]: rows 0, 2, 4 stay
  assert.equal(src.count, 3);
  const imgs = await src.read([0, 1, 2]);
  assert.deepEqual(imgs.map((i) => i.label), [0, 119, 6]);
  assert.deepEqual([...imgs[1]!.chw], image(2, 16, 1));
  assert.deepEqual([...imgs[2]!.chw], image(4, 16, 1));
  const val = openImageSource(fixturePath('imagenet16'), { split: 'test' });
  assert.equal(val.count, 2, 'val_data labels [3, 999, 120]');
  assert.deepEqual([...(await val.read([1]))[0]!.chw], image(52, 16, 1));
  const all = openImageSource(fixturePath('imagenet16/train_data_batch_1'), { classes: 1000 });
  assert.equal(all.count, 5);
});

test('sprite image k equals binary record k (same pixels in both fixtures), through the whole pipeline', async () => {
  const sprite = openImageSource(fixturePath('cifar10-sprite'));
  assert.equal(sprite.kind, 'sprite');
  assert.equal(sprite.count, 4);
  const bin = openImageSource(fixturePath('cifar-10-batches-bin'));
  for (let k = 0; k < 4; k++) assert.deepEqual([...(await sprite.read([k]))[0]!.chw], [...(await bin.read([k]))[0]!.chw], `image ${k}`);
  const a = await loadImages(fixturePath('cifar10-sprite'), { dataset: 'cifar10', n: 4, seed: 'x' });
  const b = await loadImages(fixturePath('cifar-10-batches-bin'), { dataset: 'cifar10', n: 4, seed: 'x' });
  assert.deepEqual(a.indices, b.indices);
  assert.deepEqual(a.data, b.data);
  assert.notEqual(a.id, b.id, 'ids name the source');
});

test('which images: a seeded choice of N distinct indices, in sampling order; normalisation on known pixels', async () => {
  const src = fixturePath('cifar-10-batches-bin');
  const r = await loadImages(src, { dataset: 'cifar10', n: 3, seed: 42 });
  assert.deepEqual(r.indices, new Rng('images:42').sample(4, 3));
  assert.equal(new Set(r.indices).size, 3);
  assert.deepEqual([r.n, r.c, r.h, r.w], [3, 3, 32, 32]);
  const ks = [0, 1, 2, 3];
  const { mean, std } = DATASETS.cifar10!;
  for (let i = 0; i < 3; i++) {
    const k = ks[r.indices[i]!]!;
    for (let c = 0; c < 3; c++) {
      for (const [y, x] of [
        [0, 0],
        [5, 17],
        [31, 31],
      ] as const) {
        const want = Math.fround((pix(k, c, y, x) / 255 - mean![c]!) / std![c]!);
        assert.equal(r.data[i * 3072 + c * 1024 + y * 32 + x], want, `image ${i} c${c} (${y},${x})`);
      }
    }
  }
  // the numbers themselves: pixel value 0 of channel 0 under each dataset's statistics
  const z = await loadImages(src, { dataset: 'cifar100', n: 1, seed: 42 });
  const k0 = r.indices[0]!;
  assert.equal(z.data[0], Math.fround((pix(k0, 0, 0, 0) / 255 - 0.5070751592371323) / 0.2673342858792401));
  const tk = await loadImages(src, { dataset: 'taskonomy', n: 1, seed: 42 });
  assert.equal(tk.data[0], Math.fround(pix(k0, 0, 0, 0) / 255), 'taskonomy: ToTensor only');
  const inn = await loadImages(fixturePath('imagenet16'), { dataset: 'ImageNet16-120', n: 1, seed: 1 });
  const idx = inn.indices[0]!;
  const k = [0, 2, 4][idx]!;
  assert.equal(inn.data[0], Math.fround((pix(k, 0, 0, 0, 1) / 255 - 122.68 / 255) / (63.22 / 255)));
  assert.equal(inn.h, 16);
});

test('augment: seeded random crop (4-pixel zero padding) and flip, torchvision order', async () => {
  const src = fixturePath('cifar-10-batches-bin');
  const plain = await loadImages(src, { dataset: 'cifar10', n: 4, seed: 7 });
  const a1 = await loadImages(src, { dataset: 'cifar10', n: 4, seed: 7, augment: true });
  const a2 = await loadImages(src, { dataset: 'cifar10', n: 4, seed: 7, augment: true });
  assert.deepEqual(a1.data, a2.data, 'same seed, same crops and flips');
  assert.deepEqual(a1.indices, plain.indices, 'augmenting does not change which images');
  assert.notEqual(a1.id, plain.id);
  const { mean, std } = DATASETS.cifar10!;
  const pad = (c: number) => Math.fround((0 - mean![c]!) / std![c]!);
  let moved = 0;
  for (let i = 0; i < 4; i++) {
    const orig = plain.data.subarray(i * 3072, (i + 1) * 3072);
    const aug = a1.data.subarray(i * 3072, (i + 1) * 3072);
    // find the (top, left, flip) that explains the augmented image
    const found: string[] = [];
    for (let top = 0; top <= 8; top++) {
      for (let left = 0; left <= 8; left++) {
        for (const flip of [false, true]) {
          let ok = true;
          for (let c = 0; c < 3 && ok; c++) {
            for (let y = 0; y < 32 && ok; y++) {
              for (let x = 0; x < 32 && ok; x++) {
                const sy = y + top - 4;
                const sx = (flip ? 31 - x : x) + left - 4;
                const want = sy < 0 || sy > 31 || sx < 0 || sx > 31 ? pad(c) : orig[c * 1024 + sy * 32 + sx]!;
                if (aug[c * 1024 + y * 32 + x] !== want) ok = false;
              }
            }
          }
          if (ok) found.push(`${top},${left},${flip}`);
        }
      }
    }
    assert.ok(found.length >= 1, `image ${i}: augmented image is a padded crop (+flip) of the original`);
    if (!found.includes('4,4,false')) moved++;
  }
  assert.ok(moved >= 1, 'at least one of four images was actually moved or flipped');
  const other = await loadImages(src, { dataset: 'cifar10', n: 4, seed: 8, augment: true });
  assert.notDeepEqual(other.data, a1.data);
});

test('CIFAR readers reject truncated, corrupted and wrong-format files and missing paths with a clear DataError', async () => {
  // truncated binary batch
  const bin = readFileSync(fixturePath('cifar-10-batches-bin/data_batch_1.bin'));
  const cut = join(tmp, 'data_batch_1.bin');
  writeFileSync(cut, bin.subarray(0, bin.length - 100));
  assert.throws(() => openImageSource(cut), (e: unknown) => e instanceof DataError && /data_batch_1\.bin: size 9119 is not a multiple of the 3073-byte CIFAR-10 record \(truncated/.test(e.message));
  // corrupted binary batch: a label byte out of range
  const bad = Buffer.from(bin);
  bad[3073] = 200;
  const badPath = join(tmp, 'bad', 'data_batch_1.bin');
  mkdirSync(join(tmp, 'bad'));
  writeFileSync(badPath, bad);
  await assert.rejects(openImageSource(badPath).read([1]), /data_batch_1\.bin: record 1: label 200 out of range \(corrupted/);
  // truncated python batch
  const py = readFileSync(fixturePath('cifar-10-batches-py/data_batch_1'));
  const pyCut = join(tmp, 'test_batch');
  writeFileSync(pyCut, py.subarray(0, 5000));
  assert.throws(() => openImageSource(pyCut), (e: unknown) => e instanceof DataError && /test_batch: pickle: truncated/.test(e.message));
  // corrupted python batch: a byte inside the pickle structure
  const pyBad = Buffer.from(py);
  pyBad[2] = 0xff;
  writeFileSync(pyCut, pyBad);
  assert.throws(() => openImageSource(pyCut), /test_batch: pickle: corrupted or not a pickle: unknown opcode 0xff/);
  // wrong format: text where a python batch should be; a CIFAR batch where ImageNet16 is expected
  writeFileSync(pyCut, 'label,file\n1,a.png\n');
  assert.throws(() => openImageSource(pyCut), /test_batch: wrong format: not a pickle \(expected a CIFAR-10 python batch\)/);
  const val = join(tmp, 'val_data');
  copyFileSync(fixturePath('cifar-10-batches-py/test_batch'), val);
  assert.throws(() => openImageSource(val), /val_data: wrong format: 'data' is u1 \[1, 3072\], expected uint8 \[N, 768\]/);
  // a corrupted sprite PNG
  const png = readFileSync(fixturePath('cifar10-sprite/cifar10_batch_0.png'));
  const pngCut = join(tmp, 'cifar10_batch_0.png');
  writeFileSync(pngCut, png.subarray(0, 200));
  await assert.rejects(loadImages(pngCut, { dataset: 'cifar10', n: 1, seed: 1 }), /cifar10_batch_0\.png: corrupted or truncated PNG/);
  // missing paths, and asking for more images than there are
  await assert.rejects(loadImages(join(tmp, 'nope', 'data_batch_9.bin'), { dataset: 'cifar10', n: 1, seed: 1 }), (e: unknown) => e instanceof DataError && /nope.data_batch_9\.bin: no such file or directory/.test(e.message));
  assert.throws(() => openImageSource(join(tmp, 'missing')), /missing: no such file or directory/);
  await assert.rejects(loadImages(fixturePath('cifar-10-batches-bin'), { dataset: 'cifar10', n: 5, seed: 1 }), /holds 4 images, fewer than the 5 asked for/);
  await assert.rejects(loadImages('synthetic', { dataset: 'mnist', n: 1, seed: 1 }), /mnist: unknown image dataset; choose one of cifar10, cifar100, ImageNet16-120, taskonomy, none/);
});
