#!/usr/bin/env python3
"""Write the miniature test fixtures in test/fixtures/, in the exact layouts of the official files.

    python3 tools/make-fixtures.py            # (re)writes test/fixtures/

Needs only the standard library, plus numpy for the protocol samples in pickle-protocols/ (skipped
with a note when numpy is absent). Everything is deterministic: running it twice gives the same
bytes (gzip/tar timestamps are fixed), so the committed fixtures can be checked against it.

What is written (and which official file each one imitates):

  cifar-10-batches-bin/    data_batch_{1,2}.bin, test_batch.bin, batches.meta.txt
                           (cifar-10-binary.tar.gz: records of 1 label byte + 3072 pixel bytes)
  cifar-100-binary/        train.bin, test.bin, {coarse,fine}_label_names.txt
                           (cifar-100-binary.tar.gz: 1 coarse + 1 fine label byte + 3072)
  cifar-10-batches-py/     data_batch_1, test_batch, batches.meta
                           (cifar-10-python.tar.gz: Python 2 cPickle protocol 2; str is a
                           Python 2 byte string, `data` a numpy uint8 N x 3072 array)
  cifar-100-python/        train, test, meta (same, with fine_labels / coarse_labels)
  imagenet16/              train_data_batch_1, val_data (the ImageNet16 downsampled batches that
                           NATS-Bench uses: protocol 3 pickles of {'data': uint8 N x 768,
                           'labels': 1-based list, 'mean': float64 768 (train only)})
  cifar10-sprite/          cifar10_batch_{0,1}.png: row-packed sprites (one 32x32 RGB image per
                           1024-pixel row, row-major), the same pixels as data_batch_{1,2}.bin
  NATS-tss-v1_0-3ffb9-simple/, NATS-sss-v1_0-50262-simple/
                           meta.pickle.pbz2 + <index:06d>.pickle.pbz2 per architecture: bz2
                           protocol-4 pickles with the structure of the official `-simple`
                           archives (OrderedDict hp -> ArchResults state dict -> ResultsCount
                           state dicts; params/latency as numpy float64 scalars). Per-epoch
                           dicts are sparse (first and last epoch only) to keep them small.
  nds/DARTS.json, nds/ResNet.json
                           NDS (pycls) result files: a list of records, or {'top': [...],
                           'mid': [...]}, with 'net', 'min_test_top1', 'test_ep_top1', ...
  download/cifar-10-binary.tar.gz
                           a tiny archive in the layout of the official one, for the download test
  pickle-protocols/p{0..5}.pkl
                           the same small dict pickled by CPython + numpy with protocols 0-5
  expected.json            values the tests check against, computed here in Python
"""
import bz2
import collections
import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import tarfile
import zlib

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')
EXPECTED = {}


def out(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write(path_parts, data):
    with open(out(*path_parts), 'wb') as f:
        f.write(data)


# --------------------------------------------------------------------------------------------
# pixels: image k of a set, channel c, row y, column x (a pattern that compresses well)

PIXEL_FORMULA = '(k*53 + c*85 + y*7 + x*3 + (x*y) % 11 + salt) % 256'


def image_bytes(k, size=32, salt=0):
    """CHW planar bytes of image k: 3*size*size values, as CIFAR and ImageNet16 store them."""
    return bytes(
        (k * 53 + c * 85 + y * 7 + x * 3 + (x * y) % 11 + salt) % 256
        for c in range(3)
        for y in range(size)
        for x in range(size)
    )


# --------------------------------------------------------------------------------------------
# a pickler that writes exactly what the official files hold

class Py2Str(bytes):
    """A Python 2 `str`: written as SHORT_BINSTRING / BINSTRING (read back as bytes)."""


def _numpy_attr(module_names, name):
    for m in module_names:
        try:
            mod = __import__(m, fromlist=[name])
            return getattr(mod, name)
        except (ImportError, AttributeError):
            continue
    return None


if np is not None:
    NP_RECONSTRUCT = _numpy_attr(['numpy._core.multiarray', 'numpy.core.multiarray'], '_reconstruct')
    NP_SCALAR = _numpy_attr(['numpy._core.multiarray', 'numpy.core.multiarray'], 'scalar')
    # the official files were written by numpy 1.x, whose module is numpy.core.multiarray
    RENAMES = {id(NP_RECONSTRUCT): ('numpy.core.multiarray', '_reconstruct'),
               id(NP_SCALAR): ('numpy.core.multiarray', 'scalar')}
else:
    RENAMES = {}


class OfficialPickler(pickle._Pickler):
    """Pure-Python pickler with numpy objects reduced as numpy 1.x did (module numpy.core.*), and
    optional Python 2 str semantics (py2=True) for the CIFAR python batches."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, f, protocol, py2=False):
        super().__init__(f, protocol)
        self.py2 = py2

    def save_py2str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + bytes(obj))
        else:
            self.write(pickle.BINSTRING + struct.pack('<i', n) + bytes(obj))
        self.memoize(obj)

    dispatch[Py2Str] = save_py2str

    def save_global(self, obj, name=None):
        r = RENAMES.get(id(obj))
        if r is None:
            return super().save_global(obj, name)
        module, qual = r
        if self.proto >= 4:
            self.save(module)
            self.save(qual)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f'{module}\n{qual}\n'.encode('ascii'))
        self.memoize(obj)

    def _s(self, text):
        return Py2Str(text.encode('latin-1')) if self.py2 else text

    def reducer_override(self, obj):
        if np is None:
            return NotImplemented
        if isinstance(obj, np.ndarray):
            raw = obj.tobytes()
            return (NP_RECONSTRUCT, (np.ndarray, (0,), Py2Str(b'b') if self.py2 else b'b'),
                    (1, tuple(obj.shape), obj.dtype, False, Py2Str(raw) if self.py2 else raw))
        if isinstance(obj, np.dtype):
            order = obj.str[0] if obj.str[0] in '<>' else '|'
            return (np.dtype, (self._s(obj.str[1:]), 0 if self.py2 else False, 1 if self.py2 else True),
                    (3, self._s(order), None, None, None, -1, -1, 0))
        if isinstance(obj, np.generic):
            return (NP_SCALAR, (obj.dtype, obj.tobytes()))
        return NotImplemented


def official_dumps(obj, protocol, py2=False):
    f = io.BytesIO()
    OfficialPickler(f, protocol, py2=py2).dump(obj)
    return f.getvalue()


# --------------------------------------------------------------------------------------------
# CIFAR binary

def cifar_bin():
    # CIFAR-10: data_batch_1 (3 records), data_batch_2 (1), test_batch (1)
    sets = {'data_batch_1.bin': (0, 3), 'data_batch_2.bin': (3, 1), 'test_batch.bin': (100, 1)}
    info = {}
    for name, (k0, n) in sets.items():
        recs = b''.join(bytes([(k0 + i) % 10]) + image_bytes(k0 + i) for i in range(n))
        write(['cifar-10-batches-bin', name], recs)
        info[name] = {'first_k': k0, 'count': n, 'labels': [(k0 + i) % 10 for i in range(n)]}
    write(['cifar-10-batches-bin', 'batches.meta.txt'],
          b'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n')
    EXPECTED['cifar10_bin'] = info
    # CIFAR-100: train (2 records), test (1); coarse label = k % 20, fine = (k * 7) % 100
    sets = {'train.bin': (10, 2), 'test.bin': (200, 1)}
    info = {}
    for name, (k0, n) in sets.items():
        recs = b''.join(bytes([(k0 + i) % 20, ((k0 + i) * 7) % 100]) + image_bytes(k0 + i) for i in range(n))
        write(['cifar-100-binary', name], recs)
        info[name] = {'first_k': k0, 'count': n, 'fine': [((k0 + i) * 7) % 100 for i in range(n)]}
    write(['cifar-100-binary', 'coarse_label_names.txt'], b''.join(b'coarse%d\n' % i for i in range(20)))
    write(['cifar-100-binary', 'fine_label_names.txt'], b''.join(b'fine%d\n' % i for i in range(100)))
    EXPECTED['cifar100_bin'] = info


# --------------------------------------------------------------------------------------------
# CIFAR python (Python 2 cPickle, protocol 2, encoding='bytes' keys when read in Python 3)

def cifar_py():
    if np is None:
        print('numpy absent: skipping the CIFAR python batches')
        return
    s = Py2Str
    info = {}
    for name, (k0, n) in {'data_batch_1': (0, 3), 'test_batch': (100, 1)}.items():
        data = np.frombuffer(b''.join(image_bytes(k0 + i) for i in range(n)), dtype=np.uint8).reshape(n, 3072)
        d = {
            s(b'data'): data,
            s(b'labels'): [(k0 + i) % 10 for i in range(n)],
            s(b'batch_label'): s(b'training batch 1 of 5' if name != 'test_batch' else b'testing batch 1 of 1'),
            s(b'filenames'): [s(b'img_%05d.png' % (k0 + i)) for i in range(n)],
        }
        write(['cifar-10-batches-py', name], official_dumps(d, 2, py2=True))
        info[name] = {'first_k': k0, 'count': n, 'labels': [(k0 + i) % 10 for i in range(n)]}
        check = pickle.loads(open(out('cifar-10-batches-py', name), 'rb').read(), encoding='bytes')
        assert (check[b'data'] == data).all()
    meta = {s(b'num_cases_per_batch'): 10000,
            s(b'label_names'): [s(x) for x in [b'airplane', b'automobile', b'bird', b'cat', b'deer', b'dog', b'frog', b'horse', b'ship', b'truck']],
            s(b'num_vis'): 3072}
    write(['cifar-10-batches-py', 'batches.meta'], official_dumps(meta, 2, py2=True))
    EXPECTED['cifar10_py'] = info

    info = {}
    for name, (k0, n) in {'train': (10, 2), 'test': (200, 1)}.items():
        data = np.frombuffer(b''.join(image_bytes(k0 + i) for i in range(n)), dtype=np.uint8).reshape(n, 3072)
        d = {
            s(b'filenames'): [s(b'img_%05d.png' % (k0 + i)) for i in range(n)],
            s(b'batch_label'): s(b'training batch 1 of 1' if name == 'train' else b'testing batch 1 of 1'),
            s(b'fine_labels'): [((k0 + i) * 7) % 100 for i in range(n)],
            s(b'coarse_labels'): [(k0 + i) % 20 for i in range(n)],
            s(b'data'): data,
        }
        write(['cifar-100-python', name], official_dumps(d, 2, py2=True))
        info[name] = {'first_k': k0, 'count': n, 'fine': [((k0 + i) * 7) % 100 for i in range(n)]}
    meta = {s(b'fine_label_names'): [s(b'fine%d' % i) for i in range(100)],
            s(b'coarse_label_names'): [s(b'coarse%d' % i) for i in range(20)]}
    write(['cifar-100-python', 'meta'], official_dumps(meta, 2, py2=True))
    EXPECTED['cifar100_py'] = info


# --------------------------------------------------------------------------------------------
# ImageNet16 (downsampled ImageNet batches; labels 1-based; NATS-Bench keeps labels <= 120)

def imagenet16():
    if np is None:
        print('numpy absent: skipping the ImageNet16 batches')
        return
    batches = {
        # label 121 and 500 are outside ImageNet16-120 and must be skipped
        'train_data_batch_1': (0, [1, 121, 120, 500, 7]),
        'val_data': (50, [3, 999, 120]),
    }
    info = {}
    for name, (k0, labels) in batches.items():
        n = len(labels)
        data = np.frombuffer(b''.join(image_bytes(k0 + i, 16, salt=1) for i in range(n)), dtype=np.uint8).reshape(n, 768)
        d = {'data': data, 'labels': labels}
        if name.startswith('train'):
            d['mean'] = (np.arange(768, dtype=np.float64) / 768.0)
        write(['imagenet16', name], official_dumps(d, 3))
        info[name] = {'first_k': k0, 'labels': labels}
    EXPECTED['imagenet16'] = info


# --------------------------------------------------------------------------------------------
# row-packed PNG sprites (like ../shared/data/images/cifar10), same pixels as the .bin records

def png_rgb(width, height, rgb):
    raw = b''.join(b'\x00' + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(tag, data):
        return struct.pack('>I', len(data)) + tag + data + struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff)

    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def sprites():
    for name, (k0, n) in {'cifar10_batch_0.png': (0, 3), 'cifar10_batch_1.png': (3, 1)}.items():
        rows = b''
        for i in range(n):
            chw = image_bytes(k0 + i)
            # one row = the 1024 pixels of the image in row-major order, RGB interleaved
            rows += bytes(chw[c * 1024 + p] for p in range(1024) for c in range(3))
        write(['cifar10-sprite', name], png_rgb(1024, n, rows))


# --------------------------------------------------------------------------------------------
# NATS-Bench `-simple` directories

TSS_ARCHS = [
    '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|',
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|',
    '|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|',
    '|none~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|none~1|avg_pool_3x3~2|',
]
SSS_ARCHS = ['8:8:8:8:8', '8:8:8:8:16', '64:32:16:8:64']
SSS_GENOTYPE = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'
DATASETS = ['cifar10-valid', 'cifar10', 'cifar100', 'ImageNet16-120']
DS_OFF = {'cifar10-valid': 0.0, 'cifar10': 1.0, 'cifar100': 2.0, 'ImageNet16-120': 3.0}
SET_OFF = {'x-valid': 0.25, 'x-test': 0.5, 'ori-test': 0.75, 'train': 0.125}
CLASSES = {'cifar10-valid': 10, 'cifar10': 10, 'cifar100': 100, 'ImageNet16-120': 120}


def acc(index, hp, ds, seed, setname, epoch):
    """The accuracy we store: every argument changes it, so a wrong lookup cannot pass."""
    return 40.0 + 10.0 * index + DS_OFF[ds] + SET_OFF[setname] + (seed % 1000) / 1000.0 \
        + epoch / 10000.0 + int(hp) / 100000.0


def eval_names(ds):
    if ds == 'cifar10-valid':
        return ['x-valid', 'ori-test']
    if ds == 'cifar10':
        return ['ori-test']
    return ['x-valid', 'x-test', 'ori-test']


def results_count(kind, index, arch, hp, ds, seed, epochs):
    ep = sorted({0, epochs - 1})  # sparse: first and last epoch only
    names = eval_names(ds)
    arch_config = ({'channel': 16, 'num_cells': 5, 'arch_str': arch, 'class_num': CLASSES[ds]} if kind == 'tss'
                   else {'name': 'infer.shape.tiny', 'channels': arch, 'genotype': SSS_GENOTYPE, 'class_num': CLASSES[ds]})
    return {
        'name': ds,
        'train_acc1es': {e: acc(index, hp, ds, seed, 'train', e) for e in ep},
        'train_acc5es': {e: 99.0 for e in ep} if hp != '200' else None,
        'train_losses': {e: 1.0 / (e + 1) for e in ep},
        'train_times': collections.OrderedDict((e, 12.5) for e in ep),
        'arch_config': arch_config,
        'params': np.float64(0.1 + index / 10) if np is not None else 0.1 + index / 10,
        'flop': 10.0 + index,
        'seed': '%04d' % seed,
        'epochs': epochs,
        'latency': [np.float64(0.015) if np is not None else 0.015],
        'eval_names': names,
        'eval_acc1es': {f'{n}@{e}': acc(index, hp, ds, seed, n, e) for n in names for e in ep},
        'eval_times': {f'{n}@{e}': 4.0 for n in names for e in ep},
        'eval_losses': {f'{n}@{e}': 2.0 for n in names for e in ep},
        'net_state_dict': None,
    }


def arch_results(kind, index, arch, hp, seeds, epochs):
    all_results = {}
    dataset_seed = {}
    for ds in DATASETS:
        dataset_seed[ds] = sorted(seeds[ds])
        for seed in seeds[ds]:
            all_results[(ds, seed)] = results_count(kind, index, arch, hp, ds, seed, epochs)
    return {'arch_index': index, 'arch_str': arch, 'all_results': all_results,
            'dataset_seed': dataset_seed, 'clear_net_done': True}


def nats_dir(kind, dirname, archs, present, hps):
    meta = {'meta_archs': list(archs), 'total_archs': len(archs), 'arch2infos': None, 'evaluated_indexes': set()}
    write([dirname, 'meta.pickle.pbz2'], bz2.compress(official_dumps(meta, 4), 9))
    expected = []
    for index in present:
        arch = archs[index]
        per = collections.OrderedDict()
        for hp, (epochs, seeds) in hps.items():
            per[hp] = arch_results(kind, index, arch, hp, seeds, epochs)
        write([dirname, '%06d.pickle.pbz2' % index], bz2.compress(official_dumps(per, 4), 9))
        # the values NATS-Bench's get_more_info(index, dataset, hp=hp, is_random=False) gives
        for hp, (epochs, seeds) in hps.items():
            for ds in ['cifar10', 'cifar100', 'ImageNet16-120']:
                for metric in ['test', 'valid']:
                    if ds == 'cifar10' and metric == 'valid':
                        real_ds, setname = 'cifar10-valid', 'x-valid'
                    elif ds == 'cifar10':
                        real_ds, setname = 'cifar10', 'ori-test'
                    else:
                        real_ds, setname = ds, 'x-test' if metric == 'test' else 'x-valid'
                    ss = sorted(seeds[real_ds])
                    vals = [per[hp]['all_results'][(real_ds, s)]['eval_acc1es'][f'{setname}@{epochs - 1}'] for s in ss]
                    expected.append({'index': index, 'arch': arch, 'hp': hp, 'dataset': ds, 'metric': metric,
                                     'seed': 'mean', 'value': sum(vals) / len(vals)})
                    if hp in ('200', '90'):
                        expected.append({'index': index, 'arch': arch, 'hp': hp, 'dataset': ds, 'metric': metric,
                                         'seed': ss[-1], 'value': vals[-1]})
    return expected


def nats():
    if np is None:
        print('numpy absent: NATS fixtures use plain floats for params')
    all3 = [777, 888, 999]
    tss_hps = collections.OrderedDict([
        ('12', (12, {'cifar10-valid': [777, 111], 'cifar10': [111], 'cifar100': [111], 'ImageNet16-120': [111]})),
        ('200', (200, {ds: all3 for ds in DATASETS})),
    ])
    sss_hps = collections.OrderedDict([
        ('01', (1, {ds: [777] for ds in DATASETS})),
        ('12', (12, {ds: all3 for ds in DATASETS})),
        ('90', (90, {ds: [777] for ds in DATASETS})),
    ])
    EXPECTED['nats_tss'] = {
        'dir': 'NATS-tss-v1_0-3ffb9-simple', 'archs': TSS_ARCHS, 'present': [0, 1, 3],
        'values': nats_dir('tss', 'NATS-tss-v1_0-3ffb9-simple', TSS_ARCHS, [0, 1, 3], tss_hps)}
    EXPECTED['nats_sss'] = {
        'dir': 'NATS-sss-v1_0-50262-simple', 'archs': SSS_ARCHS, 'present': [0, 2],
        'values': nats_dir('sss', 'NATS-sss-v1_0-50262-simple', SSS_ARCHS, [0, 2], sss_hps)}


# --------------------------------------------------------------------------------------------
# NDS (pycls "On Network Design Spaces" result files)

def nds_record(i, net):
    test_ep = [60.0 - i, 20.0 - i, 8.0 + i / 10]
    return {
        'job_id': 1000 + i, 'exp_mem': 100.0, 'params': 1.0e6 + i, 'flops': 2.0e8 + i,
        'net': net, 'optim': {'lr': 0.1, 'wd': 5e-4, 'max_ep': 100},
        'act_mem': 1.0e6, 'prec_time': 0.1, 'iter_time': 0.2,
        'min_test_top1': min(test_ep) - 0.5, 'train_ep_loss': [2.0, 1.0, 0.5],
        'train_ep_top1': [70.0, 30.0, 10.0], 'test_ep_top1': test_ep,
        'train_it_loss': [2.1, 1.1], 'train_it_top1': [71.0, 31.0],
    }


def nds():
    darts_net = lambda i: {  # noqa: E731
        'genotype': {
            'normal': [['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 0], ['dil_conv_3x3', 2 - i % 2]],
            'normal_concat': [2, 3],
            'reduce': [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1]],
            'reduce_concat': [2, 3],
        },
        'width': 16 + 8 * i, 'depth': 8 + 4 * i, 'aux': False, 'drop_prob': 0.0,
    }
    darts = [nds_record(i, darts_net(i)) for i in range(3)]
    write(['nds', 'DARTS.json'], json.dumps(darts, indent=1).encode())
    resnet_net = lambda i: {  # noqa: E731
        'block_type': 'res_basic_block', 'ds': [1 + i, 2, 3], 'ws': [16, 32 + i, 64], 'ss': [1, 2, 2],
        'bot_muls': [1.0, 1.0, 1.0], 'num_gs': [1, 1, 1], 'stem_type': 'res_stem_cifar', 'stem_w': 16, 'nc': 10,
    }
    resnet = {'top': [nds_record(i, resnet_net(i)) for i in range(2)],
              'mid': [nds_record(i + 2, resnet_net(i + 2)) for i in range(2)]}
    write(['nds', 'ResNet.json'], json.dumps(resnet, indent=1).encode())
    EXPECTED['nds'] = {
        'DARTS.json': [100 - r['min_test_top1'] for r in darts],
        'ResNet.json': [100 - r['min_test_top1'] for r in resnet['top'] + resnet['mid']],
        'ResNet.json:final': [100 - r['test_ep_top1'][-1] for r in resnet['top'] + resnet['mid']],
    }


# --------------------------------------------------------------------------------------------
# download: a tiny archive in the layout of cifar-10-binary.tar.gz

def tar_add(tf, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1262304000
    ti.mode = 0o644
    ti.uname = ti.gname = 'kriz'
    tf.addfile(ti, io.BytesIO(data))


def download_archive():
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.GNU_FORMAT) as tf:
        d = tarfile.TarInfo('cifar-10-batches-bin')
        d.type = tarfile.DIRTYPE
        d.mode = 0o755
        d.mtime = 1262304000
        tf.addfile(d)
        for j in range(1, 6):
            k = 1000 + j
            tar_add(tf, f'cifar-10-batches-bin/data_batch_{j}.bin', bytes([k % 10]) + image_bytes(k))
        tar_add(tf, 'cifar-10-batches-bin/test_batch.bin', bytes([7]) + image_bytes(2000))
        tar_add(tf, 'cifar-10-batches-bin/batches.meta.txt', b'airplane\nautomobile\n')
    gz = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=gz, mtime=0, compresslevel=9) as g:
        g.write(raw.getvalue())
    data = gz.getvalue()
    write(['download', 'cifar-10-binary.tar.gz'], data)
    EXPECTED['download'] = {'file': 'cifar-10-binary.tar.gz', 'md5': hashlib.md5(data).hexdigest(),
                            'train_first_k': [1001, 1002, 1003, 1004, 1005]}


# --------------------------------------------------------------------------------------------
# the same data pickled by CPython (+ numpy) with every protocol

def pickle_protocols():
    if np is None:
        print('numpy absent: skipping pickle-protocols/')
        return
    obj = {
        'u8': np.arange(6, dtype=np.uint8).reshape(2, 3),
        'f4': np.array([1.5, -2.25], dtype=np.float32),
        'i8be': np.array([1, -2, 300], dtype='>i8'),
        'fortran': np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        'scalar': np.float64(0.802426),
        'labels': [1, 2, 300, 70000, -5],
        'big': 2 ** 70,
        'x': 1.5,
        'text': 'h\u00e9llo \u2603',
        'raw': b'\x00\xff\x10',
        'tuple': (1, 'a', None, True, False),
        'set': {3},
        'od': collections.OrderedDict([('b', 1), ('a', 2)]),
        ('k', 1): 'tuple key',
    }
    for p in range(6):
        write(['pickle-protocols', f'p{p}.pkl'], pickle.dumps(obj, protocol=p))
    EXPECTED['pickle_protocols'] = {
        'u8': {'shape': [2, 3], 'data': list(range(6))},
        'f4': [1.5, -2.25], 'i8be': [1, -2, 300],
        'fortran': {'shape': [2, 3], 'data': [0, 1, 2, 3, 4, 5]},
        'scalar': 0.802426, 'labels': [1, 2, 300, 70000, -5], 'big': str(2 ** 70), 'x': 1.5,
        'text': 'h\u00e9llo \u2603', 'raw': [0, 255, 16], 'tuple_key': 'tuple key',
    }


def main():
    cifar_bin()
    cifar_py()
    imagenet16()
    sprites()
    nats()
    nds()
    download_archive()
    pickle_protocols()
    EXPECTED['pixel_formula'] = PIXEL_FORMULA
    with open(out('expected.json'), 'w') as f:
        json.dump(EXPECTED, f, sort_keys=True, separators=(',', ':'))
        f.write('\n')
    total = 0
    for dp, _dn, fn in os.walk(ROOT):
        for name in fn:
            total += os.path.getsize(os.path.join(dp, name))
    print(f'wrote {ROOT} ({total} bytes)')


if __name__ == '__main__':
    sys.exit(main())
