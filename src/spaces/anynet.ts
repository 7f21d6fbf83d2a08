/**
 * AnyNet (pycls pycls/models/anynet.py, the version NDS was trained with) as IR: the NDS ResNet,
 * ResNeXt-A/B and Vanilla design spaces. A stem, stages of blocks (the first block of a stage
 * takes the stage's stride), a head of global average pool and Linear.
 *
 * - stems: res_stem_cifar (3x3 conv, BN, ReLU), res_stem_in (7x7/2 conv, BN, ReLU, 3x3/2 max pool),
 *   simple_stem_in (3x3/2 conv, BN, ReLU);
 * - blocks: vanilla_block (= NDS's double_plain_block: [3x3 conv, BN, ReLU] x2), res_basic_block
 *   (ReLU(proj(x) + [3x3, BN, ReLU, 3x3, BN](x))), res_bottleneck_block (ReLU(proj(x) + [1x1, BN,
 *   ReLU, 3x3 with `num_gs` groups, BN, ReLU, 1x1, BN](x)), inner width round(w * bot_mul));
 *   proj = 1x1 conv (stride) + BN when the width or the resolution changes.
 * Only nn.ReLU modules are taps under both rules (no class name here contains "ReLU" otherwise).
 */
import type { GraphBuilder } from '../ir/builder.js';
import type { Graph } from '../ir/types.js';
import { SpaceError } from './types.js';

export const ANYNET_STEMS = ['res_stem_cifar', 'res_stem_in', 'simple_stem_in'] as const;
export const ANYNET_BLOCKS = ['vanilla_block', 'double_plain_block', 'res_basic_block', 'res_bottleneck_block'] as const;

export interface AnyNetConfig {
  stem: (typeof ANYNET_STEMS)[number];
  stemW: number;
  block: (typeof ANYNET_BLOCKS)[number];
  ds: number[];
  ws: number[];
  ss: number[];
  bms: number[];
  gs: number[];
  nc: number;
}

/** Python's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function convBn(b: GraphBuilder, name: string, x: number, outC: number, k: number, stride: number, groups = 1): number {
  const c = b.conv2d(`${name}`, x, { outC, kernel: k, stride, pad: (k - 1) / 2, groups, bias: false });
  return b.batchnorm(`${name}_bn`, c);
}

function block(b: GraphBuilder, name: string, x: number, c: AnyNetConfig, wIn: number, wOut: number, stride: number, bm: number, g: number): number {
  if (c.block === 'vanilla_block' || c.block === 'double_plain_block') {
    const a = b.activation(`${name}.a_relu`, convBn(b, `${name}.a`, x, wOut, 3, stride), 'relu');
    return b.activation(`${name}.b_relu`, convBn(b, `${name}.b`, a, wOut, 3, 1), 'relu');
  }
  let f: number;
  if (c.block === 'res_basic_block') {
    const a = b.activation(`${name}.f.a_relu`, convBn(b, `${name}.f.a`, x, wOut, 3, stride), 'relu');
    f = convBn(b, `${name}.f.b`, a, wOut, 3, 1);
  } else {
    const wb = pyRound(wOut * bm);
    if (wb < 1 || wb % g !== 0) throw new SpaceError(`${name}: bottleneck width ${wb} (= round(${wOut} x ${bm})) is not divisible by ${g} groups`);
    const a = b.activation(`${name}.f.a_relu`, convBn(b, `${name}.f.a`, x, wb, 1, 1), 'relu');
    const bb = b.activation(`${name}.f.b_relu`, convBn(b, `${name}.f.b`, a, wb, 3, stride, g), 'relu');
    f = convBn(b, `${name}.f.c`, bb, wOut, 1, 1);
  }
  const sc = wIn !== wOut || stride !== 1 ? b.batchnorm(`${name}.bn`, b.conv2d(`${name}.proj`, x, { outC: wOut, kernel: 1, stride, bias: false })) : x;
  return b.activation(`${name}.relu`, b.add_(`${name}.add`, [sc, f]), 'relu');
}

export function anyNetwork(b: GraphBuilder, c: AnyNetConfig, size: number): Graph {
  const x = b.input([3, size, size]);
  let h: number;
  if (c.stem === 'res_stem_cifar') h = b.activation('stem.relu', convBn(b, 'stem.conv', x, c.stemW, 3, 1), 'relu');
  else if (c.stem === 'simple_stem_in') h = b.activation('stem.relu', convBn(b, 'stem.conv', x, c.stemW, 3, 2), 'relu');
  else {
    const r = b.activation('stem.relu', b.batchnorm('stem.bn', b.conv2d('stem.conv', x, { outC: c.stemW, kernel: 7, stride: 2, pad: 3, bias: false })), 'relu');
    h = b.pool('stem.pool', r, 'maxpool', { kernel: 3, stride: 2, pad: 1 });
  }
  let w = c.stemW;
  c.ds.forEach((d, i) => {
    for (let k = 0; k < d; k++) {
      h = block(b, `s${i + 1}.b${k + 1}`, h, c, k === 0 ? w : c.ws[i]!, c.ws[i]!, k === 0 ? c.ss[i]! : 1, c.bms[i]!, c.gs[i]!);
    }
    w = c.ws[i]!;
  });
  const pooled = b.globalAvgPool('head.avg_pool', h);
  const logits = b.linear('head.fc', pooled, c.nc, true);
  return b.finish({ output: logits, classifierInput: pooled, defaultTaps: 'reference' });
}
