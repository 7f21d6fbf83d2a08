/** Image folders are checked up front (issue 15 item 15): a bad file fails before scoring, named in one line; one resize note. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DataError, loadImages } from '../src/data/index.js';
import { checkImageFile, crc32, resizeNote } from '../src/data/validate.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const WORK = mkdtempSync(join(tmpdir(), 'rbflex-imgcheck-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

function png(w: number, h: number, seed = 1): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 31 + seed * 17) & 255;
  return PNG.sync.write(p);
}

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, b] of Object.entries(files)) writeFileSync(join(dir, f), b);
  return dir;
}

test('crc32 matches the PNG/zlib check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('a garbage .png anywhere in the folder fails when the folder is opened, naming the file, whichever images the seed draws', async () => {
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < 8; i++) files[`img${i}.png`] = png(32, 32, i);
  files['zz-garbage.png'] = 'this is not an image\n';
  const dir = folder('garbage', files);
  for (const seed of [1, 2, 3]) {
    await assert.rejects(loadImages(dir, { dataset: 'cifar10', n: 1, seed }), (e: unknown) => e instanceof DataError && e.file.endsWith('zz-garbage.png') && /not a PNG or JPEG/.test(e.problem));
  }
});

test('truncated and bit-flipped PNGs, and a JPEG cut short, are caught by the up-front check', () => {
  const good = png(16, 16);
  const dir = folder('damaged', {
    'cut.png': good.subarray(0, good.length - 20),
    'flip.png': Buffer.from(good.map((b, i) => (i === good.length - 30 ? b ^ 1 : b))),
    'good.png': good,
    'cut.jpg': Buffer.from(jpeg.encode({ data: Buffer.alloc(16 * 16 * 4, 128), width: 16, height: 16 }, 90).data).subarray(0, 200),
    'good.jpg': Buffer.from(jpeg.encode({ data: Buffer.alloc(16 * 16 * 4, 128), width: 16, height: 16 }, 90).data),
  });
  assert.throws(() => checkImageFile(join(dir, 'cut.png')), /cut\.png: corrupted or truncated PNG \(\d+ bytes/);
  assert.throws(() => checkImageFile(join(dir, 'flip.png')), /flip\.png: corrupted or truncated PNG \(CRC mismatch/);
  assert.deepEqual(checkImageFile(join(dir, 'good.png')), { w: 16, h: 16 });
  assert.throws(() => checkImageFile(join(dir, 'cut.jpg')), /cut\.jpg: corrupted or truncated JPEG/);
  assert.deepEqual(checkImageFile(join(dir, 'good.jpg')), { w: 16, h: 16 });
});

test('CLI: a bad file in --data is one line naming it, exit 2, before any scoring', () => {
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < 5; i++) files[`ok${i}.png`] = png(32, 32, i);
  files['broken.png'] = png(32, 32).subarray(0, 60);
  const dir = folder('cli-bad', files);
  const r = spawnSync(process.execPath, [CLI, 'score', '--space', 'nb201', '--arch', '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|', '--data', dir, '--batch', '2', '--no-cache', '--workers', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /broken\.png: corrupted or truncated PNG/);
  assert.equal(r.stdout, '');
});

test('resized images: one note line for the folder, not one per image; squashed ones counted', async () => {
  const dir = folder('sizes', { 'a.png': png(32, 32), 'b.png': png(64, 64), 'c.png': png(64, 48), 'd.png': png(40, 40), 'e.png': png(48, 64) });
  const notes: string[] = [];
  const images = await loadImages(dir, { dataset: 'cifar10', n: 5, seed: 1, onNote: (s) => notes.push(s) });
  assert.equal(images.h, 32);
  assert.equal(notes.length, 1, notes.join('\n'));
  assert.equal(notes[0], `note: 4 of 5 images in ${dir} are not 32x32 (e.g. ${join(dir, 'b.png')} is 64x64): resized to 32x32 (bilinear, antialiased), 2 of them squashed (aspect ratio changed)`);
  // images of the target size: no note
  const same: string[] = [];
  await loadImages(folder('same', { 'a.png': png(32, 32), 'b.png': png(32, 32) }), { dataset: 'cifar10', n: 2, seed: 1, onNote: (s) => same.push(s) });
  assert.deepEqual(same, []);
  // record formats (a sprite): the drawn images' sizes
  const sprite = join(folder('sprite', { 'cifar10_batch_0.png': png(1024, 4) }), 'cifar10_batch_0.png');
  const drawn: string[] = [];
  await loadImages(sprite, { dataset: 'cifar10', n: 2, seed: 1, resolution: 64, onNote: (s) => drawn.push(s) });
  assert.equal(drawn.length, 1);
  assert.match(drawn[0]!, /^note: all 2 drawn images in .*cifar10_batch_0\.png are not 64x64 \(e\.g\. image \d is 32x32\): resized to 64x64/);
  assert.equal(resizeNote('x', ['x/a.png'], [{ w: 8, h: 4 }], 4, 4), 'note: the image in x is not 4x4 (e.g. x/a.png is 8x4): resized to 4x4 (bilinear, antialiased), squashed (aspect ratio changed)');
});

test('CLI study with --repeats: the resize note is printed once', () => {
  const files: Record<string, Buffer | string> = {};
  for (let i = 0; i < 6; i++) files[`img${i}.png`] = png(40, 40, i);
  const dir = folder('study-note', files);
  const acts = ['ReLU', 'GELU', 'SiLU'];
  const bench = join(WORK, 'NAFBee_VGG19.json');
  writeFileSync(bench, JSON.stringify(Object.fromEntries(acts.map((a, i) => [String(i + 1), { network: 'VGG19', activation: a, accuracy: 90 - i }]))));
  const r = spawnSync(
    process.execPath,
    [CLI, 'study', '--space', 'nafbee-vgg19', '--benchmark', bench, '--proxy', 'params', '--repeats', '3', '--data', dir, '--batch', '2', '--no-cache', '--workers', '0'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stderr.split('\n').filter((l) => l.startsWith('note: ') && l.includes(' images in '));
  assert.equal(notes.length, 1, r.stderr);
  assert.match(notes[0]!, /all 6 images in .* are not 32x32 .*: resized to 32x32/);
  assert.ok(readFileSync(join(dir, 'img0.png')).length > 0);
});
