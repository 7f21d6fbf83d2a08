import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { DataError } from '../src/util/errors.js';
import { unpickle } from '../src/util/pickle.js';
import { extractTarGz } from '../src/util/tar.js';

/** one 512-byte ustar header with a valid checksum */
function tarHeader(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

test('tar: a pax header with a non-numeric size is rejected, not looped on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-tar-'));
  try {
    const record = '15 size=abcdef\n'; // the length counts the whole record
    const pax = Buffer.alloc(512);
    pax.write(record);
    const tar = Buffer.concat([tarHeader('pax', record.length, 'x'), pax, tarHeader('file.bin', 0, '0'), Buffer.alloc(1024)]);
    const archive = join(dir, 'bad.tar.gz');
    writeFileSync(archive, gzipSync(tar));
    await assert.rejects(extractTarGz(archive, join(dir, 'out')), (e: Error) => e instanceof DataError && /bad\.tar\.gz: corrupted tar header/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pickle: dict keys built from memo-shared tuples fail fast instead of growing exponentially', () => {
  // t0 = (None, None); t(k+1) = (t_k, t_k) through BINGET; 60 levels would be a 2^60-long key
  const ops: number[] = [0x80, 2, 0x7d /* } */, 0x4e, 0x4e, 0x86, 0x71, 0, 0x30 /* BINPUT 0, POP */];
  for (let k = 1; k < 60; k++) ops.push(0x68, k - 1, 0x68, k - 1, 0x86, 0x71, k, 0x30); // BINGET, BINGET, TUPLE2, BINPUT, POP
  ops.push(0x68, 59, 0x4e, 0x73, 0x2e); // key t59, value None, SETITEM, STOP
  const t0 = performance.now();
  assert.throws(() => unpickle(Uint8Array.from(ops), { name: 'keys.pkl' }), (e: Error) => e instanceof DataError && /dict key longer than/.test(e.message));
  assert.ok(performance.now() - t0 < 2000, 'took too long');
});

test('pickle: a set with 200,000 items (ADDITEMS) loads', () => {
  const ops: number[] = [0x80, 4, 0x8f /* EMPTY_SET */, 0x28 /* MARK */];
  for (let i = 0; i < 200_000; i++) ops.push(0x4b, i % 256); // BININT1
  ops.push(0x90 /* ADDITEMS */, 0x2e);
  const v = unpickle(Uint8Array.from(ops), { name: 'set.pkl' }) as unknown as { items: unknown[] };
  assert.equal(v.items.length, 200_000);
});

test('tar: links are skipped, entry count and unpacked size are bounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rbflex-tar-'));
  try {
    const pack = tarStream.pack();
    pack.entry({ name: 'a.txt' }, 'x'.repeat(100));
    pack.entry({ name: 'link', type: 'symlink', linkname: '/etc/passwd' });
    pack.entry({ name: 'd', type: 'directory' });
    pack.entry({ name: 'd/b.txt' }, 'y'.repeat(100));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    const archive = join(dir, 'x.tar.gz');
    writeFileSync(archive, gzipSync(Buffer.concat(chunks)));
    assert.deepEqual(await extractTarGz(archive, join(dir, 'ok')), ['a.txt', 'd/b.txt']);
    assert.ok(!existsSync(join(dir, 'ok', 'link')), 'a symlink was written');
    await assert.rejects(extractTarGz(archive, join(dir, 'o2'), { maxEntries: 3 }), (e: Error) => e instanceof DataError && /more than 3 entries/.test(e.message));
    await assert.rejects(extractTarGz(archive, join(dir, 'o3'), { maxBytes: 150 }), (e: Error) => e instanceof DataError && /more than 150 bytes/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
