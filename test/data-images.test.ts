import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DATASETS, DataError, decodeImage, loadImages, openImageSource, resizeImage } from '../src/data/index.js';
import { sharedDataPath } from './helpers/shared-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'rbflex-data-images-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** an RGBA image whose pixel (x, y) has R = f(x, y), G = 2R mod 256, B = 255 - R */
function rgba(w: number, h: number, f: (x: number, y: number) => number): Uint8Array {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r = f(x, y) & 255;
      d.set([r, (2 * r) & 255, 255 - r, 255], (y * w + x) * 4);
    }
  }
  return d;
}
function writePng(path: string, w: number, h: number, f: (x: number, y: number) => number): void {
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgba(w, h, f));
  writeFileSync(path, PNG.sync.write(png));
}
function writeJpeg(path: string, w: number, h: number, f: (x: number, y: number) => number): void {
  writeFileSync(path, jpeg.encode({ width: w, height: h, data: rgba(w, h, f) }, 100).data);
}

test('image folder: class sub-folders, sorted order, labels, PNG exact and JPEG close', async () => {
  const dir = join(tmp, 'folder');
  mkdirSync(join(dir, 'dogs'), { recursive: true });
  mkdirSync(join(dir, 'cats'), { recursive: true });
  writePng(join(dir, 'dogs', 'c.png'), 32, 32, (x, y) => x + 3 * y);
  writePng(join(dir, 'cats', 'b.png'), 32, 32, (x) => 8 * x);
  writeJpeg(join(dir, 'cats', 'a.jpg'), 32, 32, () => 128);
  writeFileSync(join(dir, 'cats', 'notes.txt'), 'ignored');
  const src = openImageSource(dir, { dataset: 'cifar10' });
  assert.equal(src.kind, 'folder');
  assert.equal(src.count, 3);
  const imgs = await src.read([0, 1, 2]);
  assert.deepEqual(imgs.map((i) => i.label), [0, 0, 1], 'cats/a.jpg, cats/b.png, dogs/c.png');
  // PNG: exact pixels, CHW
  const c = imgs[2]!;
  assert.equal(c.chw[5 + 32 * 2], 5 + 6, 'R of dogs/c.png at (x=5, y=2)');
  assert.equal(c.chw[1024 + 5 + 32 * 2], 22, 'G');
  assert.equal(c.chw[2048 + 5 + 32 * 2], 255 - 11, 'B');
  assert.equal(imgs[1]!.chw[31], 248);
  // JPEG quality 100 of a flat image: within a grey level or two
  for (const v of imgs[0]!.chw.subarray(0, 1024)) assert.ok(Math.abs(v - 128) <= 2, `JPEG R ${v}`);
  // through loadImages: N of 3, seeded, labels carried
  const r = await loadImages(dir, { dataset: 'cifar10', n: 3, seed: 5 });
  assert.deepEqual([...r.labels].sort(), [0, 0, 1]);
});

test('resize: antialiased bilinear keeps flat images flat and linear ramps linear; folders of any size', async () => {
  const w = 64;
  const ramp = { h: w, w, chw: new Float32Array(3 * w * w).map((_, i) => i % w) };
  const half = resizeImage(ramp, 32, 32);
  // 2x down: weights 1/8, 3/8, 3/8, 1/8 around each output pixel -> 2o + 0.5 inside
  for (let o = 1; o < 31; o++) assert.ok(Math.abs(half.chw[5 * 32 + o]! - (2 * o + 0.5)) < 1e-4, `ramp at ${o}: ${half.chw[5 * 32 + o]}`);
  const flat = resizeImage({ h: 50, w: 70, chw: new Float32Array(3 * 50 * 70).fill(77) }, 33, 17);
  for (const v of flat.chw) assert.ok(Math.abs(v - 77) < 1e-3);
  const up = resizeImage({ h: 2, w: 2, chw: Float32Array.from([0, 10, 0, 10, 0, 10, 0, 10, 0, 10, 0, 10]) }, 4, 4);
  assert.deepEqual([...up.chw.subarray(0, 4)].map((v) => +v.toFixed(4)), [0, 2.5, 7.5, 10], 'bilinear upsampling (PIL sample positions)');

  const dir = join(tmp, 'taskonomy-like');
  mkdirSync(dir);
  writePng(join(dir, 'point_1_view_0_domain_rgb.png'), 64, 64, () => 200);
  writePng(join(dir, 'point_2_view_0_domain_rgb.png'), 48, 48, () => 100);
  const r = await loadImages(dir, { dataset: 'taskonomy', n: 2, seed: 1, resolution: 16 });
  assert.deepEqual([r.n, r.c, r.h, r.w], [2, 3, 16, 16]);
  for (let i = 0; i < 2; i++) {
    const want = r.indices[i] === 0 ? 200 / 255 : 100 / 255;
    assert.ok(Math.abs(r.data[i * 768 + 100]! - want) < 1e-5, 'ToTensor only, resized from 64 and 48');
  }
  // no resolution and no dataset size: the first chosen image's size
  const own = await loadImages(dir, { dataset: 'none', n: 1, seed: 1 });
  assert.equal(own.h, r.indices[0] === 0 ? 64 : 48);
});

test('synthetic: seeded Gaussian images of the dataset size', async () => {
  const a = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 9 });
  const b = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 9 });
  const c = await loadImages('synthetic', { dataset: 'cifar10', n: 3, seed: 10 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.deepEqual([a.n, a.c, a.h, a.w], [3, 3, 32, 32]);
  let s = 0;
  let s2 = 0;
  for (const v of a.data) {
    s += v;
    s2 += v * v;
  }
  const mean = s / a.data.length;
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(s2 / a.data.length - 1) < 0.05, 'standard normal');
  assert.equal((await loadImages('synthetic', { dataset: 'ImageNet16-120', n: 1, seed: 1 })).h, 16);
  assert.equal((await loadImages('synthetic', { dataset: 'taskonomy', n: 1, seed: 1 })).h, 512);
  assert.equal((await loadImages('synthetic', { dataset: 'taskonomy', n: 1, seed: 1, resolution: 64 })).h, 64);
});

test('image decoding rejects corrupted, truncated and wrong-format files', async () => {
  const p = join(tmp, 'x.png');
  writePng(p, 8, 8, () => 1);
  const good = readFileSync(p);
  assert.throws(() => decodeImage(good.subarray(0, 40), 'x.png'), /x\.png: corrupted or truncated PNG/);
  const bad = Buffer.from(good);
  bad[40] = bad[40]! ^ 0xff;
  assert.throws(() => decodeImage(bad, 'x.png'), (e: unknown) => e instanceof DataError && /x\.png: corrupted or truncated PNG/.test(e.message));
  const huge = Buffer.from(good);
  huge.writeUInt32BE(100000, 16);
  huge.writeUInt32BE(100000, 20);
  assert.throws(() => decodeImage(huge, 'x.png'), /x\.png: PNG of 100000x100000 pixels is not plausible; refusing/);
  assert.throws(() => decodeImage(Buffer.from('GIF89a....'), 'y.gif'), /y\.gif: wrong format: not a PNG or JPEG image/);
  const j = join(tmp, 'x.jpg');
  writeJpeg(j, 16, 16, () => 9);
  assert.throws(() => decodeImage(readFileSync(j).subarray(0, 30), 'x.jpg'), /x\.jpg: corrupted or truncated JPEG/);
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  await assert.rejects(loadImages(empty, { dataset: 'cifar10', n: 1, seed: 1 }), /empty: no PNG or JPEG images here/);
});

test('shared data: the CIFAR-10 sprite rows are 32x32 images in row-major order', async (t) => {
  const file = sharedDataPath('images/cifar10/cifar10_batch_0.png', t);
  if (!file) return;
  const src = openImageSource(file);
  assert.equal(src.kind, 'sprite');
  assert.equal(src.count, 1000);
  const png = PNG.sync.read(readFileSync(file));
  const [img] = await src.read([517]);
  for (const [y, x] of [
    [0, 0],
    [3, 29],
    [31, 31],
  ] as const) {
    const p = (517 * 1024 + y * 32 + x) * 4;
    for (let c = 0; c < 3; c++) assert.equal(img!.chw[c * 1024 + y * 32 + x], png.data[p + c]);
  }
  const dir = sharedDataPath('images/cifar10', t);
  if (!dir) return;
  const r = await loadImages(dir, { dataset: 'cifar10', n: 3, seed: 0 });
  assert.equal(openImageSource(dir).count, 2000);
  assert.equal(r.kind, 'sprite');
  const { mean, std } = DATASETS.cifar10!;
  r.data.forEach((v, i) => {
    const c = Math.floor(i / 1024) % 3;
    assert.ok(v >= (0 - mean![c]!) / std![c]! - 1e-5 && v <= (1 - mean![c]!) / std![c]! + 1e-5, `normalised value ${v} in range`);
  });
});

test('shared data: ImageNet16 sample folder and Taskonomy images', async (t) => {
  const in16 = sharedDataPath('images/imagenet16-sample', t);
  if (!in16) return;
  const src = openImageSource(in16);
  assert.equal(src.count, 120);
  const r = await loadImages(in16, { dataset: 'ImageNet16-120', n: 4, seed: 3 });
  assert.deepEqual([r.h, r.w], [16, 16]);
  const tk = sharedDataPath('images/taskonomy', t);
  if (!tk) return;
  const a = await loadImages(tk, { dataset: 'taskonomy', n: 2, seed: 3, resolution: 32 });
  const b = await loadImages(tk, { dataset: 'taskonomy', n: 2, seed: 3, resolution: 32 });
  assert.deepEqual(a.data, b.data);
  assert.equal(openImageSource(tk).count, 32);
  for (const v of a.data) assert.ok(v >= 0 && v <= 1, 'taskonomy: ToTensor only');
  const native = await loadImages(tk, { dataset: 'taskonomy', n: 1, seed: 3 });
  assert.deepEqual([native.h, native.w], [512, 512], 'native size when no resolution is given');
});

test('image folder root with train/ and test/ (or val/) sub-folders: the split picks one', async () => {
  const root = join(tmp, 'splits');
  mkdirSync(join(root, 'train', 'a'), { recursive: true });
  mkdirSync(join(root, 'val', 'a'), { recursive: true });
  writePng(join(root, 'train', 'a', '1.png'), 4, 4, () => 10);
  writePng(join(root, 'train', 'a', '2.png'), 4, 4, () => 20);
  writePng(join(root, 'val', 'a', '3.png'), 4, 4, () => 30);
  assert.equal(openImageSource(root).count, 2);
  const val = openImageSource(root, { split: 'test' });
  assert.equal(val.count, 1);
  assert.equal((await val.read([0]))[0]!.chw[0], 30);
});
