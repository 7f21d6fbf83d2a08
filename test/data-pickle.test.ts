import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { bunzip2 } from '../src/util/bz2.js';
import { DataError } from '../src/util/errors.js';
import { NdArray, PyDict, PySet, unpickle } from '../src/util/pickle.js';
import { fixtureExpected, fixturePath } from './helpers/shared-data.js';

interface ProtoExpected {
  pickle_protocols: {
    u8: { shape: number[]; data: number[] };
    f4: number[];
    i8be: number[];
    fortran: { shape: number[]; data: number[] };
    scalar: number;
    labels: number[];
    big: string;
    x: number;
    text: string;
    raw: number[];
    tuple_key: string;
  };
}

const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

test('pickle: CPython + numpy output of every protocol 0-5 reads to the same data', () => {
  const exp = fixtureExpected<ProtoExpected>().pickle_protocols;
  for (let p = 0; p <= 5; p++) {
    const name = `p${p}.pkl`;
    const v = unpickle(readFileSync(fixturePath(`pickle-protocols/${name}`)), { name });
    assert.ok(v instanceof PyDict, name);
    const u8 = v.get('u8');
    assert.ok(u8 instanceof NdArray && u8.filled, `${name} u8`);
    assert.equal(u8.dtype, 'u1');
    assert.deepEqual(u8.shape, exp.u8.shape);
    assert.deepEqual([...u8.data], exp.u8.data, `${name} u8 data`);
    const f4 = v.get('f4') as NdArray;
    assert.ok(f4.data instanceof Float32Array);
    assert.deepEqual([...f4.data], exp.f4);
    const i8 = v.get('i8be') as NdArray;
    assert.deepEqual([...(i8.data as BigInt64Array)].map(Number), exp.i8be, `${name} big-endian int64`);
    const fo = v.get('fortran') as NdArray;
    assert.deepEqual(fo.shape, exp.fortran.shape);
    assert.deepEqual([...fo.data], exp.fortran.data, `${name} Fortran-order array comes back in C order`);
    assert.equal(v.get('scalar'), exp.scalar);
    assert.deepEqual(v.get('labels'), exp.labels);
    assert.equal(String(v.get('big')), exp.big);
    assert.equal(v.get('x'), exp.x);
    assert.equal(v.get('text'), exp.text);
    assert.deepEqual([...(v.get('raw') as Uint8Array)], exp.raw);
    assert.deepEqual(v.get('tuple'), [1, 'a', null, true, false]);
    assert.ok(v.get('set') instanceof PySet);
    assert.deepEqual((v.get('set') as PySet).items, [3]);
    const od = v.get('od') as PyDict;
    assert.deepEqual(od.keys(), ['b', 'a'], `${name} OrderedDict keeps order`);
    assert.equal(v.get(['k', 1]), exp.tuple_key, `${name} tuple dict key`);
  }
});

test('pickle: refuses globals outside the allow-list, and object-building opcodes', () => {
  const evil = [
    ['protocol 0 os.system', 'cos\nsystem\n(S\'echo hi\'\ntR.', /refusing global os\.system/],
    ['builtins.eval via STACK_GLOBAL', '\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x011\x85R.', /refusing global builtins\.eval/],
    ['subprocess.Popen', 'csubprocess\nPopen\n.', /refusing global subprocess\.Popen/],
    ['INST opcode', '(ios\nsystem\nS\'x\'\n.', /refusing to construct an object/],
    ['NEWOBJ', '\x80\x02ccollections\nOrderedDict\n)\x81.', /refusing to construct an object/],
    ['persistent id', '\x80\x02N\x51.', /persistent id/],
  ] as const;
  for (const [what, src, re] of evil) {
    assert.throws(() => unpickle(bytes(src), { name: 'evil.pkl' }), (e: unknown) => e instanceof DataError && re.test(e.message) && e.message.startsWith('evil.pkl: '), what);
  }
});

test('pickle: truncated, corrupted and implausible input is a DataError naming the file', () => {
  const good = readFileSync(fixturePath('pickle-protocols/p4.pkl'));
  const cases: [string, Uint8Array, RegExp][] = [
    ['truncated', good.subarray(0, good.length - 40), /truncated|stack/],
    ['empty', new Uint8Array(0), /truncated: no STOP/],
    ['unknown opcode', bytes('\x80\x04\xff.'), /unknown opcode 0xff/],
    ['huge BINBYTES8 length', bytes('\x80\x04\x8e\xff\xff\xff\xff\xff\x00\x00\x00ab.'), /truncated: needs \d+ more bytes/],
    ['BINUNICODE longer than the file', bytes('\x80\x03X\x00\x00\x00\x40abc.'), /truncated/],
    ['huge LONG4', bytes('\x80\x02\x8b\x00\x00\x00\x40.'), /not plausible/],
    ['memo miss', bytes('\x80\x02h\x05.'), /memo entry 5 not defined/],
    ['text', bytes('hello world, not a pickle'), /unknown opcode|memo entry|truncated/],
  ];
  for (const [what, b, re] of cases) {
    assert.throws(
      () => unpickle(b, { name: 'x.pkl' }),
      (e: unknown) => e instanceof DataError && e.message.startsWith('x.pkl: pickle: ') && re.test(e.message),
      what,
    );
  }
});

test('pickle: a numpy array whose data disagrees with its shape is refused, not read short', () => {
  // dtype u1, shape (3, 3) but 2 bytes of data
  const p =
    '\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01K\x03K\x03\x86cnumpy\ndtype\nU\x02u1K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89U\x02abtb.';
  assert.throws(() => unpickle(bytes(p), { name: 'a.pkl' }), /a\.pkl: pickle: corrupted: array data has 2 bytes, shape and dtype need 9/);
});

test('bz2: round trip of a fixture, and corrupted / truncated / non-bz2 input', () => {
  const raw = readFileSync(fixturePath('NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2'));
  const out = bunzip2(raw, 'meta');
  assert.equal(out[0], 0x80, 'a pickle comes out');
  assert.throws(() => bunzip2(raw.subarray(0, raw.length - 20), 'meta.pickle.pbz2'), /meta\.pickle\.pbz2: truncated bzip2 data/);
  const bad = Uint8Array.from(raw);
  bad[20] = bad[20]! ^ 0xff;
  bad[21] = bad[21]! ^ 0x55;
  assert.throws(() => bunzip2(bad, 'meta.pickle.pbz2'), /meta\.pickle\.pbz2: corrupted or truncated bzip2/);
  assert.throws(() => bunzip2(bytes('PK\x03\x04 zip'), 'x.pbz2'), /x\.pbz2: wrong format: not a bzip2 file/);
  assert.throws(() => bunzip2(raw, 'meta', 100), /decompresses to more than 100 bytes/);
});
