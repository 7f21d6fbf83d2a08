/**
 * NAFBee activation design space on VGG-19 for CIFAR-10: 11 networks that differ only in the
 * activation used at all 16 positions. cfg 64,64,M,128,128,M,256x4,M,512x4,M,512x4,M;
 * each conv is Conv3x3 pad 1 with bias (PyTorch default) -> BN -> activation; M = MaxPool2d(2,2);
 * a no-op AvgPool2d(1,1); flatten 512; Linear(512, 10). Arch ids are the PyTorch class names.
 */
import type { Rng } from '../util/rng.js';
import { mutateOne } from './mutate.js';
import { GraphBuilder } from '../ir/builder.js';
import type { ActivationKind, Graph } from '../ir/types.js';
import { type BuildOptions, type Space, SpaceError } from './types.js';

/** In the order of the published accuracies (SPEC section 3). */
export const NAFBEE_ACTIVATIONS: readonly [string, ActivationKind][] = [
  ['ReLU', 'relu'],
  ['GELU', 'gelu'],
  ['SiLU', 'silu'],
  ['LeakyReLU', 'leaky_relu'],
  ['ReLU6', 'relu6'],
  ['Mish', 'mish'],
  ['Hardswish', 'hardswish'],
  ['CELU', 'celu'],
  ['ELU', 'elu'],
  ['Hardtanh', 'hardtanh'],
  ['SELU', 'selu'],
];

const VGG19: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'];

/** What both NAFBee spaces share: an arch is one of the 11 activations, by name (any case) or kind. */
export function activationChoice(space: string) {
  const lookup = (arch: string): [string, ActivationKind] => {
    const k = arch.trim().toLowerCase();
    const hit = NAFBEE_ACTIVATIONS.find(([name, fn]) => name.toLowerCase() === k || fn === k);
    if (!hit) throw new SpaceError(`${space}: unknown activation "${arch}"; choose one of ${NAFBEE_ACTIVATIONS.map((a) => a[0]).join(', ')}`);
    return hit;
  };
  return {
    lookup,
    archAt(i: number): string {
      const a = NAFBEE_ACTIVATIONS[i];
      if (!a) throw new SpaceError(`${space}: index ${i} out of range 0..${NAFBEE_ACTIVATIONS.length - 1}`);
      return a[0];
    },
    parse: (arch: string): string => lookup(arch)[0],
    indexOf(arch: string): number {
      const name = lookup(arch)[0];
      return NAFBEE_ACTIVATIONS.findIndex((a) => a[0] === name);
    },
  };
}
const choice = activationChoice('nafbee-vgg19');
const lookup = choice.lookup;

export const nafbeeVgg19: Space = {
  name: 'nafbee-vgg19',
  description: 'NAFBee: VGG-19 (CIFAR-10) with one of 11 activation functions at all 16 positions',
  size: NAFBEE_ACTIVATIONS.length,
  defaultTaps: 'activations',
  defaultGammas: 'hda',
  datasets: ['cifar10'],
  archAt: choice.archAt,
  parse: choice.parse,
  indexOf: choice.indexOf,
  mutate(arch: string, rng: Rng): string {
    return mutateOne([lookup(arch)[0]], NAFBEE_ACTIVATIONS.map((a) => a[0]), rng)[0]!;
  },
  build(arch: string, opts: BuildOptions = {}): Graph {
    const [name, fn] = lookup(arch);
    if (opts.dataset !== undefined && opts.dataset !== 'cifar10') {
      throw new SpaceError(`nafbee-vgg19: dataset "${opts.dataset}" is not available; NAFBee VGG-19 is trained on cifar10`);
    }
    const size = opts.resolution ?? 32;
    if (size % 32 !== 0) throw new SpaceError(`nafbee-vgg19: resolution ${size} must be a multiple of 32 (five 2x2 max-pools, then a 512-wide classifier)`);
    const b = new GraphBuilder(`nafbee-vgg19:${name}`);
    let x = b.input([3, size, size]);
    let idx = 0;
    for (const v of VGG19) {
      if (v === 'M') {
        x = b.pool(`features.${idx++}`, x, 'maxpool', { kernel: 2, stride: 2 });
      } else {
        x = b.conv2d(`features.${idx++}`, x, { outC: v, kernel: 3, pad: 1, bias: true });
        x = b.batchnorm(`features.${idx++}`, x);
        x = b.activation(`features.${idx++}`, x, fn);
      }
    }
    x = b.pool(`features.${idx}`, x, 'avgpool', { kernel: 1, stride: 1 });
    const flat = b.flatten('view', x);
    if (b.shape(flat)[0] !== 512) throw new SpaceError(`nafbee-vgg19: resolution ${size} gives ${b.shape(flat)[0]} features; the classifier takes 512 (use 32)`);
    const logits = b.linear('classifier', flat, opts.classes ?? 10, true);
    return b.finish({ output: logits, classifierInput: flat, defaultTaps: 'activations' });
  },
};
