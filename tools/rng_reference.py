#!/usr/bin/env python3
"""Independent re-implementation of rbflex's seeded RNG and default weight init, to pin them.

Written from the definitions, not from the TypeScript: cyrb128 string hashing (UTF-16 code units) of
"rbflex:<seed>" into four 32-bit words, xoshiro128** (Blackman & Vigna), 53-bit floats, Box-Muller
normals, partial Fisher-Yates sampling, and PyTorch's default init of a small network: Conv2d and Linear
weights and biases uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)),
BatchNorm weight 1 and bias 0, float32 round-to-nearest, drawn in layer order (weight, then bias) from
one stream with 24-bit uniforms u = (x >> 8) / 2^24.

    /usr/bin/python3 tools/rng_reference.py > test/fixtures/rng-pinned.json
"""
import json
import math
import struct

M = 0xFFFFFFFF


def imul(a, b):
    return (a * b) & M


def hash128(key):
    h1, h2, h3, h4 = 1779033703, 3144134277, 1013904242, 2773480762
    raw = key.encode('utf-16-le')
    codes = [int.from_bytes(raw[i:i + 2], 'little') for i in range(0, len(raw), 2)]
    for k in codes:
        h1 = h2 ^ imul(h1 ^ k, 597399067)
        h2 = h3 ^ imul(h2 ^ k, 2869860233)
        h3 = h4 ^ imul(h3 ^ k, 951274213)
        h4 = h1 ^ imul(h4 ^ k, 2716044179)
    h1 = imul(h3 ^ (h1 >> 18), 597399067)
    h2 = imul(h4 ^ (h2 >> 22), 2869860233)
    h3 = imul(h1 ^ (h3 >> 17), 951274213)
    h4 = imul(h2 ^ (h4 >> 19), 2716044179)
    h1 ^= h2 ^ h3 ^ h4
    h2 ^= h1
    h3 ^= h1
    h4 ^= h1
    return [h1 & M, h2 & M, h3 & M, h4 & M]


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


class Xoshiro128ss:
    def __init__(self, seed):
        self.s = hash128('rbflex:' + str(seed))
        if not any(self.s):
            self.s[0] = 1

    def u32(self):
        a, b, c, d = self.s
        result = imul(rotl(imul(b, 5), 7), 9)
        t = (b << 9) & M
        c ^= a
        d ^= b
        b ^= c
        a ^= d
        c ^= t
        d = rotl(d, 11)
        self.s = [a, b, c, d]
        return result

    def float53(self):
        hi = self.u32() >> 5
        lo = self.u32() >> 6
        return (hi * 67108864 + lo) / 9007199254740992

    def normal(self):
        u = 0.0
        while u == 0.0:
            u = self.float53()
        v = self.float53()
        return math.sqrt(-2 * math.log(u)) * math.cos(2 * math.pi * v)

    def int_below(self, n):
        limit = (2 ** 32 // n) * n
        while True:
            v = self.u32()
            if v < limit:
                return v % n

    def sample(self, n, k):
        swaps, out = {}, []
        for i in range(k):
            j = i + self.int_below(n - i)
            vi, vj = swaps.get(i, i), swaps.get(j, j)
            swaps[j] = vi
            out.append(vj)
        return out


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def uniform_init(rng, count, fan_in):
    bound = 1 / math.sqrt(fan_in)
    return [f32((2 * ((rng.u32() >> 8) / 16777216) - 1) * bound) for _ in range(count)]


def small_network_init(seed):
    """Conv2d(3, 2, 3, bias) -> BatchNorm2d(2) -> ReLU -> global average pool -> Linear(2, 3)."""
    rng = Xoshiro128ss(seed)
    conv_fan_in = 3 * 3 * 3
    return {
        'conv.weight': uniform_init(rng, 2 * 3 * 3 * 3, conv_fan_in),
        'conv.bias': uniform_init(rng, 2, conv_fan_in),
        'bn.weight': [1.0, 1.0],
        'bn.bias': [0.0, 0.0],
        'fc.weight': uniform_init(rng, 3 * 2, 2),
        'fc.bias': uniform_init(rng, 3, 2),
    }


def main():
    out = {'u32': {}, 'float53': {}, 'normal': {}, 'sample': {}}
    for seed in ['1', 'rbflex', 'é∑ seed']:
        r = Xoshiro128ss(seed)
        out['u32'][seed] = [r.u32() for _ in range(8)]
        r = Xoshiro128ss(seed)
        out['float53'][seed] = [r.float53() for _ in range(4)]
        r = Xoshiro128ss(seed)
        out['normal'][seed] = [r.normal() for _ in range(4)]
        r = Xoshiro128ss(seed)
        out['sample'][seed] = r.sample(15625, 10)
    out['init'] = {'seed': 'pinned/small', 'params': small_network_init('pinned/small')}
    print(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
