import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { DataError, type DownloadProgress, downloadFile, ensureCifar, loadImages, type LoadProgress } from '../src/data/index.js';
import { extractTarGz } from '../src/util/tar.js';
import { fixtureExpected, fixturePath } from './helpers/shared-data.js';

const archive = readFileSync(fixturePath('download/cifar-10-binary.tar.gz'));
const { md5, train_first_k: trainK } = fixtureExpected<{ download: { md5: string; train_first_k: number[] } }>().download;

let server: Server;
let base = '';
let requests = 0;
/** set by a test's progress callback when the download's first bytes arrived */
let firstChunkSeen = false;

before(async () => {
  server = createServer((req, res) => {
    requests++;
    if (req.url === '/cifar-10-binary.tar.gz') {
      res.writeHead(200, { 'content-length': archive.length, 'content-type': 'application/gzip' });
      // two chunks, so progress is reported more than once: the second waits until the client has
      // reported the first (a loaded machine would otherwise deliver both in one read), at most 2 s
      firstChunkSeen = false;
      res.write(archive.subarray(0, 4000));
      const t0 = Date.now();
      const rest = () => (firstChunkSeen || Date.now() - t0 > 2000 ? res.end(archive.subarray(4000)) : setTimeout(rest, 2));
      setTimeout(rest, 2);
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/cifar-10-binary.tar.gz' });
      res.end();
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, 3000));
      setTimeout(() => res.destroy(), 5);
    } else {
      res.writeHead(404);
      res.end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'rbflex-download-'));
  after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function pix(k: number, c: number, y: number, x: number): number {
  return (k * 53 + c * 85 + y * 7 + x * 3 + ((x * y) % 11)) % 256;
}

test('download: fetch, verify the MD5, show progress, unpack, then read from the cache without the network', async () => {
  const cacheDir = await tempDir();
  const seen: LoadProgress[] = [];
  const r = await loadImages('cifar10', {
    dataset: 'cifar10',
    n: 5,
    seed: 11,
    cacheDir,
    mirror: { url: `${base}/moved`, md5 },
    onProgress: (p) => {
      if (p.phase === 'download') firstChunkSeen = true;
      seen.push({ ...p });
    },
  });
  assert.ok(existsSync(join(cacheDir, 'cifar-10-batches-bin', 'data_batch_5.bin')));
  assert.ok(existsSync(join(cacheDir, 'cifar-10-binary.tar.gz')), 'verified archive kept');
  assert.deepEqual(readdirSync(cacheDir).sort(), ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz'], 'no .part or temporary folder left');
  const dl = seen.filter((p): p is DownloadProgress => p.phase === 'download');
  assert.ok(dl.length >= 2, 'download progress reported');
  assert.equal(dl[dl.length - 1]!.done, archive.length);
  assert.equal(dl[dl.length - 1]!.total, archive.length);
  assert.ok(seen.some((p) => p.phase === 'verify'));
  assert.ok(seen.some((p) => p.phase === 'extract'));
  // the five training records, one per data_batch_N.bin, pixels as written
  for (let i = 0; i < 5; i++) {
    const k = trainK[r.indices[i]!]!;
    assert.equal(r.data[i * 3072 + 1024 + 33], Math.fround((pix(k, 1, 1, 1) / 255 - 0.4822) / 0.1994));
  }
  const before = requests;
  const again = await loadImages('cifar10', { dataset: 'cifar10', n: 5, seed: 11, cacheDir, mirror: { url: `${base}/nowhere`, md5 } });
  assert.equal(requests, before, 'cached: no request');
  assert.deepEqual(again.data, r.data);
  const test_ = await loadImages('cifar10', { dataset: 'cifar10', n: 1, seed: 1, cacheDir, split: 'test', download: false });
  assert.equal(test_.data[0], Math.fround((pix(2000, 0, 0, 0) / 255 - 0.4914) / 0.2023));
});

test('download: a wrong checksum is rejected and leaves no file behind', async () => {
  const cacheDir = await tempDir();
  await assert.rejects(
    ensureCifar('cifar10', { cacheDir, url: `${base}/cifar-10-binary.tar.gz`, md5: '0'.repeat(32) }),
    (e: unknown) => e instanceof DataError && /checksum mismatch: MD5 [0-9a-f]{32}, expected 0{32}/.test(e.message),
  );
  assert.deepEqual(readdirSync(cacheDir), [], 'no half file, no archive, no folder');
  // the official checksum is the default: our tiny archive does not match it
  await assert.rejects(ensureCifar('cifar10', { cacheDir, url: `${base}/cifar-10-binary.tar.gz` }), /checksum mismatch: .* expected c32a1d4ab5d03f1284b67883e8d87530/);
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('download: HTTP errors, cut connections and no network are clear errors and leave nothing', async () => {
  const cacheDir = await tempDir();
  const dest = join(cacheDir, 'x.tar.gz');
  await assert.rejects(downloadFile(`${base}/missing`, dest, { md5 }), /missing: download failed: HTTP 404/);
  await assert.rejects(downloadFile(`${base}/cut`, dest, { md5 }), (e: unknown) => e instanceof DataError && /cut: download (interrupted|truncated)/.test(e.message));
  assert.deepEqual(readdirSync(cacheDir), []);
  // a port nothing listens on any more
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(
    loadImages('cifar100', { dataset: 'cifar100', n: 1, seed: 1, cacheDir, mirror: { url: `http://127.0.0.1:${port}/c.tar.gz`, md5 } }),
    /c\.tar\.gz: download failed: ECONNREFUSED \(no network\? download the archive yourself and pass its path\)/,
  );
  await assert.rejects(loadImages('cifar100', { dataset: 'cifar100', n: 1, seed: 1, cacheDir, download: false }), /cifar100: not in the cache .* downloading is off/);
  assert.deepEqual(readdirSync(cacheDir), []);
});

/** a one-entry tar with the given name (ustar header, correct checksum) */
function tarOf(name: string, body: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const data = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  data.write(body);
  return Buffer.concat([h, data, Buffer.alloc(1024)]);
}

test('tar reader: refuses unsafe paths, truncated and corrupted archives', async () => {
  const dir = await tempDir();
  const ok = join(dir, 'ok.tar.gz');
  writeFileSync(ok, gzipSync(tarOf('a/b.txt', 'hello')));
  assert.deepEqual(await extractTarGz(ok, join(dir, 'out')), ['a/b.txt']);
  assert.equal(readFileSync(join(dir, 'out', 'a', 'b.txt'), 'utf8'), 'hello');
  const evil = join(dir, 'evil.tar.gz');
  writeFileSync(evil, gzipSync(tarOf('../../escape.txt', 'x')));
  await assert.rejects(extractTarGz(evil, join(dir, 'out2')), /evil\.tar\.gz: unsafe path in archive: \.\.\/\.\.\/escape\.txt/);
  assert.ok(!existsSync(join(dir, '..', 'escape.txt')));
  const badSum = tarOf('c.txt', 'x');
  badSum[0] = 'd'.charCodeAt(0);
  writeFileSync(evil, gzipSync(badSum));
  await assert.rejects(extractTarGz(evil, join(dir, 'out3')), /corrupted tar header \(Invalid tar header/);
  const cut = join(dir, 'cut.tar.gz');
  writeFileSync(cut, archive.subarray(0, archive.length - 200));
  await assert.rejects(extractTarGz(cut, join(dir, 'out4')), /cut\.tar\.gz: corrupted or truncated gzip data/);
  writeFileSync(cut, gzipSync(tarOf('big.bin', 'y'.repeat(3000)).subarray(0, 1200)));
  await assert.rejects(extractTarGz(cut, join(dir, 'out5')), /cut\.tar\.gz: truncated tar archive/);
  writeFileSync(cut, 'plain text, not gzip');
  await assert.rejects(extractTarGz(cut, join(dir, 'out6')), /cut\.tar\.gz: corrupted or truncated gzip data/);
  await assert.rejects(extractTarGz(join(dir, 'none.tar.gz'), join(dir, 'out7')), /none\.tar\.gz: no such file or directory/);
});
