/**
 * What a proxy needs, declared: the shared RBFleX forward pass (taps) and/or one gradient pass
 * (input kind, batch size, labels, BatchNorm mode, precision, objective, what to differentiate).
 * A scoring session groups equal gradient needs and computes each once for all proxies.
 */
import type { GradBnMode, GradRequest } from '../grad/types.js';

/** `data`: images from --data (with labels); `gaussian`: seeded N(0,1) tensors; `ones`: all-ones tensors. */
export type InputKind = 'data' | 'gaussian' | 'ones';
export const INPUT_KINDS: readonly InputKind[] = ['data', 'gaussian', 'ones'];

export type Precision = 'float32' | 'float64';

/**
 * `reference`: each proxy runs at its reference settings (its own batch size and input kind);
 * `shared`: like for like, every proxy runs on RBFleX's N images (with their labels); data-free
 * inputs (ones, gaussian) keep their kind but take N as the batch size.
 */
export type ProxyInputsMode = 'reference' | 'shared';
export const PROXY_INPUTS_MODES: readonly ProxyInputsMode[] = ['reference', 'shared'];

export interface GradNeed {
  input: InputKind;
  /** images per batch at reference settings */
  batch: number;
  /** batches, one gradient pass each on consecutive slices of the data (default 1; zico: 2) */
  batches?: number;
  bn: GradBnMode;
  /** float64 needs the reference (float64) gradient backend; float32 may run in onnxruntime */
  precision: Precision;
  /** cross-entropy against the batch's labels, or the sum of the logits */
  objective: 'cross-entropy' | 'sum';
  /** every parameter replaced by its absolute value (synflow) */
  absWeights: boolean;
  /** the proxy accepts gradients divided by exp(GradResult.gradLogScale) (float32 range; synflow) */
  rescale?: boolean;
  wrt: { weights?: boolean; input?: boolean; outputProducts?: boolean; hvp?: boolean };
}

/** The part of a need that decides which pass answers it (needs equal here share one pass). */
export function passKey(n: GradNeed): string {
  const k = (n.batches ?? 1) > 1 ? `:k=${n.batches}` : '';
  return `in=${n.input}:b=${n.batch}${k}:bn=${n.bn}:p=${n.precision}:obj=${n.objective}:abs=${n.absWeights}${n.rescale ? ':rescale' : ''}`;
}

/** A short description for cache keys and reports. */
export function needKey(n: GradNeed): string {
  const wrt = Object.entries(n.wrt)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort()
    .join('+');
  return `${passKey(n)}:wrt=${wrt}`;
}

/** Merge needs with equal pass keys: one pass, the union of what each differentiates. */
export function groupNeeds(needs: readonly GradNeed[]): Map<string, GradNeed> {
  const out = new Map<string, GradNeed>();
  for (const n of needs) {
    const k = passKey(n);
    const cur = out.get(k);
    if (!cur) out.set(k, { ...n, wrt: { ...n.wrt } });
    else for (const [w, v] of Object.entries(n.wrt) as [keyof GradNeed['wrt'], boolean][]) if (v) cur.wrt[w] = true;
  }
  return out;
}

export type { GradRequest };

/** How many images the reference data batch needs (the largest `data` batch of these proxies), or undefined. */
export function proxyDataSize(names: readonly string[], mode: ProxyInputsMode, needOf: (name: string) => GradNeed | undefined = defaultNeedOf): number | undefined {
  if (mode !== 'reference') return undefined;
  const sizes = names.map(needOf).filter((g): g is GradNeed => g?.input === 'data').map((g) => g.batch * (g.batches ?? 1));
  return sizes.length ? Math.max(...sizes) : undefined;
}

let defaultNeedOf: (name: string) => GradNeed | undefined = () => undefined;
/** the proxy registry registers how to read a proxy's need (avoids an import cycle) */
export function registerNeedLookup(f: (name: string) => GradNeed | undefined): void {
  defaultNeedOf = f;
}

/**
 * Passes that ride on another: a pass that only wants d sum(logits) / d input (jacov) and a
 * cross-entropy pass over the same images, batch, BatchNorm mode and precision share one forward (the
 * same batch statistics); the input gradient of the sum is a second backward in the cross-entropy
 * graph (`GradRequest.wrt.inputOfSum`). Returns rider pass key -> host pass key.
 */
export function foldedPasses(groups: ReadonlyMap<string, GradNeed>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, n] of groups) {
    const inputOnly = n.wrt.input === true && !n.wrt.weights && !n.wrt.outputProducts && !n.wrt.hvp;
    if (n.objective !== 'sum' || n.absWeights || n.rescale || !inputOnly) continue;
    const host = passKey({ ...n, objective: 'cross-entropy' });
    if (groups.get(host)?.objective === 'cross-entropy') out.set(k, host);
  }
  return out;
}
