import {
  type ActivationKind,
  type Graph,
  type Node,
  type Op,
  type Shape,
  type TapMode,
  TORCH_ACTIVATION_CLASS,
} from './types.js';
import type { Choice } from './skeleton.js';

/** Largest tensor (per image) a graph may hold: 2^28 float32 values = 1 GiB. */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;

export class IRError extends Error {
  override name = 'IRError';
}

function convOut(size: number, k: number, s: number, p0: number, p1: number, d: number): number {
  return Math.floor((size + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface TapCounts {
  reference?: number;
  activations?: number;
}

/**
 * Builds an IR graph with shape inference. Every method returns the new node's id.
 * Pure unary ops applied twice to the same input (e.g. the ReLU of several ReLUConvBN
 * edges leaving one cell node) are merged into one node whose tap counts add up: same
 * tensor values, computed once.
 */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  /** choice points made by `choice` (skeleton graphs only) */
  readonly choices: Choice[] = [];
  private readonly memo = new Map<string, number>();
  private inChoice = 0;
  private readonly label: string;

  constructor(label: string) {
    this.label = label;
  }

  shape(id: number): Shape {
    const n = this.nodes[id];
    if (!n) throw new IRError(`${this.label}: no node ${id}`);
    return n.shape;
  }

  private add(name: string, op: Op, inputs: number[], shape: Shape, taps: TapCounts = {}): number {
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) {
        throw new IRError(`${this.label}: ${name} (${op.kind}) has invalid output shape [${shape.join(', ')}]`);
      }
    }
    const size = shape.reduce((a, d) => a * d, 1);
    if (size > MAX_TENSOR_ELEMENTS) {
      throw new IRError(`${this.label}: ${name} (${op.kind}) would hold ${size} values per image [${shape.join(', ')}], over the limit of ${MAX_TENSOR_ELEMENTS}`);
    }
    const id = this.nodes.length;
    this.nodes.push({
      id,
      name,
      op,
      inputs,
      shape,
      taps: { reference: taps.reference ?? 0, activations: taps.activations ?? 0 },
      instances: 1,
    });
    return id;
  }

  /** Add tap counts to an existing node (e.g. a composite module whose output is this node). */
  tap(id: number, taps: TapCounts): number {
    const n = this.nodes[id]!;
    n.taps.reference += taps.reference ?? 0;
    n.taps.activations += taps.activations ?? 0;
    return id;
  }

  /**
   * A node of an op family whose shape rule lives in its own file (src/ir/transformer.ts):
   * the caller gives the inferred shape; sizes are still checked here.
   */
  op(name: string, op: Op, inputs: number[], shape: Shape, taps: TapCounts = {}): number {
    for (const i of inputs) this.shape(i);
    return this.add(name, op, inputs, shape, taps);
  }

  input(shape: Shape): number {
    return this.add('input', { kind: 'input' }, [], shape);
  }

  conv2d(
    name: string,
    x: number,
    o: {
      outC: number;
      kernel: number | [number, number];
      stride?: number | [number, number];
      pad?: number | [number, number] | [number, number, number, number];
      dilation?: number;
      groups?: number;
      bias?: boolean;
    },
  ): number {
    const [c, h, w] = this.fmap(x, name);
    const k: [number, number] = typeof o.kernel === 'number' ? [o.kernel, o.kernel] : o.kernel;
    const s: [number, number] =
      o.stride === undefined ? [1, 1] : typeof o.stride === 'number' ? [o.stride, o.stride] : o.stride;
    const p = o.pad ?? 0;
    const pad: [number, number, number, number] =
      typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p;
    const d = o.dilation ?? 1;
    const groups = o.groups ?? 1;
    if (c % groups !== 0 || o.outC % groups !== 0) {
      throw new IRError(`${this.label}: ${name}: channels ${c}->${o.outC} not divisible by groups ${groups}`);
    }
    const oh = convOut(h, k[0], s[0], pad[0], pad[2], d);
    const ow = convOut(w, k[1], s[1], pad[1], pad[3], d);
    return this.add(
      name,
      {
        kind: 'conv2d',
        inC: c,
        outC: o.outC,
        kernel: k,
        stride: s,
        pad,
        dilation: [d, d],
        groups,
        bias: o.bias ?? false,
      },
      [x],
      [o.outC, oh, ow],
    );
  }

  batchnorm(name: string, x: number, o: { eps?: number; affine?: boolean } = {}): number {
    const shape = this.shape(x);
    return this.add(
      name,
      { kind: 'batchnorm', channels: shape[0]!, eps: o.eps ?? 1e-5, affine: o.affine ?? true },
      [x],
      shape,
    );
  }

  /**
   * An activation module. Its taps follow the two rules: always an `activations` tap;
   * a `reference` tap when the PyTorch class name contains "ReLU".
   */
  activation(name: string, x: number, fn: ActivationKind, alpha?: number): number {
    const taps: TapCounts = { activations: 1, reference: TORCH_ACTIVATION_CLASS[fn].includes('ReLU') ? 1 : 0 };
    const key = `act:${fn}:${alpha ?? 'default'}:${x}`;
    // inside a choice branch nothing is merged: a branch's nodes must be its own
    const prev = this.inChoice > 0 ? undefined : this.memo.get(key);
    if (prev !== undefined) {
      this.nodes[prev]!.instances++;
      return this.tap(prev, taps);
    }
    const id = this.add(name, alpha === undefined ? { kind: 'activation', fn } : { kind: 'activation', fn, alpha }, [x], this.shape(x), taps);
    if (this.inChoice === 0) this.memo.set(key, id);
    return id;
  }

  /**
   * The activation module of node `id` called `k` more times on the same input (as activation()
   * merges such calls): more instances, and its taps k more times.
   */
  repeatActivation(id: number, k: number): number {
    const n = this.nodes[id]!;
    if (n.op.kind !== 'activation') throw new IRError(`${this.label}: ${n.name} is not an activation; it cannot be repeated`);
    n.instances += k;
    return this.tap(id, { activations: k, reference: TORCH_ACTIVATION_CLASS[n.op.fn].includes('ReLU') ? k : 0 });
  }

  /**
   * A choice point of a skeleton (ir/skeleton.ts): builds every branch and returns a placeholder
   * node standing for the chosen one. All branches must yield the same shape.
   */
  choice(name: string, branches: (() => number)[]): number {
    const made: Choice['branches'] = [];
    this.inChoice++;
    try {
      for (const build of branches) {
        const from = this.nodes.length;
        const output = build();
        made.push({ from, to: this.nodes.length, output });
      }
    } finally {
      this.inChoice--;
    }
    const s0 = this.shape(made[0]!.output);
    for (const b of made) {
      if (!sameShape(this.shape(b.output), s0)) throw new IRError(`${this.label}: ${name}: choice branches of different shapes`);
    }
    const merge = this.add(name, { kind: 'add' }, made.map((b) => b.output), s0);
    this.choices.push({ merge, branches: made });
    return merge;
  }

  pool(
    name: string,
    x: number,
    kind: 'avgpool' | 'maxpool',
    o: { kernel: number; stride?: number; pad?: number; countIncludePad?: boolean },
  ): number {
    const [c, h, w] = this.fmap(x, name);
    const s = o.stride ?? o.kernel;
    const p = o.pad ?? 0;
    const oh = convOut(h, o.kernel, s, p, p, 1);
    const ow = convOut(w, o.kernel, s, p, p, 1);
    return this.add(
      name,
      {
        kind,
        kernel: [o.kernel, o.kernel],
        stride: [s, s],
        pad: [p, p],
        countIncludePad: o.countIncludePad ?? true,
      },
      [x],
      [c, oh, ow],
    );
  }

  add_(name: string, xs: number[]): number {
    if (xs.length === 0) throw new IRError(`${this.label}: ${name}: add of nothing`);
    if (xs.length === 1) return xs[0]!;
    const s0 = this.shape(xs[0]!);
    for (const x of xs) {
      if (!sameShape(this.shape(x), s0)) {
        throw new IRError(
          `${this.label}: ${name}: cannot add shapes [${s0.join(',')}] and [${this.shape(x).join(',')}]`,
        );
      }
    }
    return this.add(name, { kind: 'add' }, xs, s0);
  }

  /** x * 0 with the given output shape (the input only fixes the batch and dtype). */
  zero(name: string, x: number, shape?: Shape): number {
    return this.add(name, { kind: 'zero' }, [x], shape ?? this.shape(x));
  }

  identity(name: string, x: number): number {
    return this.add(name, { kind: 'identity' }, [x], this.shape(x));
  }

  globalAvgPool(name: string, x: number): number {
    const [c] = this.fmap(x, name);
    return this.add(name, { kind: 'global_avg_pool' }, [x], [c]);
  }

  flatten(name: string, x: number): number {
    const n = this.shape(x).reduce((a, b) => a * b, 1);
    return this.add(name, { kind: 'flatten' }, [x], [n]);
  }

  linear(name: string, x: number, outF: number, bias = true): number {
    const s = this.shape(x);
    if (s.length !== 1) throw new IRError(`${this.label}: ${name}: linear needs a vector input, got [${s.join(',')}]`);
    return this.add(name, { kind: 'linear', inF: s[0]!, outF, bias }, [x], [outF]);
  }

  resize(name: string, x: number, size: [number, number]): number {
    const [c] = this.fmap(x, name);
    return this.add(name, { kind: 'resize', size }, [x], [c, size[0], size[1]]);
  }

  concat(name: string, xs: number[]): number {
    const shapes = xs.map((x) => this.fmap(x, name));
    const [, h, w] = shapes[0]!;
    for (const s of shapes) {
      if (s[1] !== h || s[2] !== w) throw new IRError(`${this.label}: ${name}: concat of different spatial sizes`);
    }
    const c = shapes.reduce((a, s) => a + s[0], 0);
    return this.add(name, { kind: 'concat' }, xs, [c, h, w]);
  }

  slice(name: string, x: number, start: [number, number], step: [number, number]): number {
    const [c, h, w] = this.fmap(x, name);
    const oh = Math.ceil((h - start[0]) / step[0]);
    const ow = Math.ceil((w - start[1]) / step[1]);
    return this.add(name, { kind: 'slice', start, step }, [x], [c, oh, ow]);
  }

  private fmap(x: number, name: string): [number, number, number] {
    const s = this.shape(x);
    if (s.length !== 3) throw new IRError(`${this.label}: ${name}: needs a [C,H,W] feature map, got [${s.join(',')}]`);
    return [s[0]!, s[1]!, s[2]!];
  }

  finish(o: { output: number; classifierInput: number; defaultTaps: TapMode }): Graph {
    return {
      label: this.label,
      nodes: this.nodes,
      input: 0,
      output: o.output,
      classifierInput: o.classifierInput,
      defaultTaps: o.defaultTaps,
    };
  }
}
