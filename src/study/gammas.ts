/** RBFleX's kernel widths for a run: given, detected by HDA, or the reference values. */
import type { BackendName, ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import type { HdaVariant } from '../proxies/hda.js';
import { type ProxyName, REFERENCE_GAMMAS } from '../proxies/index.js';
import { detectGammas } from '../search/hda.js';
import { type BuildOptions, type Space, sampleArchs } from '../spaces/types.js';
import { Rng } from '../util/rng.js';
import { SetupError } from './errors.js';

export interface Gammas {
  gammaK: number;
  gammaQ: number;
  /** where they came from, for reports */
  source: string;
}

export interface GammaChoice {
  /** fixed widths (give both, or neither) */
  gammaK?: number;
  gammaQ?: number;
  /** detect them with HDA (the default for spaces whose reference does, e.g. nafbee) */
  hda?: boolean;
  hdaVariant?: HdaVariant;
  /** networks HDA samples (default: the space's own, else 10) */
  hdaNetworks?: number;
}

/** The fixed widths of a choice, after checking it is consistent; undefined when none were given. */
export function givenGammas(o: GammaChoice): Gammas | undefined {
  if ((o.gammaK === undefined) !== (o.gammaQ === undefined)) throw new SetupError('give both --gamma-k and --gamma-q, or neither');
  if (o.gammaK === undefined || o.gammaQ === undefined) return undefined;
  if (o.hda) throw new SetupError('--hda detects the gammas: do not also give --gamma-k/--gamma-q');
  return { gammaK: o.gammaK, gammaQ: o.gammaQ, source: 'given' };
}

export interface GammaRun extends GammaChoice {
  space: Space;
  build: BuildOptions;
  images: ImageBatch;
  seed: string;
  backend?: BackendName;
  taps?: TapMode;
  log?: (s: string) => void;
}

/** Given widths, HDA when asked (or the space's default), else the reference values. */
export async function resolveGammas(o: GammaRun): Promise<Gammas> {
  const given = givenGammas(o);
  if (given) return given;
  if (o.hda || o.space.defaultGammas === 'hda') {
    const variant = o.hdaVariant ?? 'paper';
    const m = Math.min(o.hdaNetworks ?? o.space.hdaNetworks ?? 10, o.space.size);
    const archs = sampleArchs(o.space, Rng.derive(o.seed, 'hda'), m);
    o.log?.(`detecting gammas with HDA (${variant} variant) over ${m} networks...`);
    const r = await detectGammas({
      space: o.space.name,
      build: o.build,
      archs,
      images: o.images,
      backend: o.backend ?? 'onnx',
      seed: o.seed,
      taps: o.taps ?? o.space.defaultTaps,
      variant,
    });
    return { gammaK: r.gammaK, gammaQ: r.gammaQ, source: `HDA (${variant}, ${m} networks)` };
  }
  return { ...REFERENCE_GAMMAS, source: 'reference (fixed, SPEC)' };
}

/** The gammas of a run with these proxies: resolved only when rbflex is among them (no other proxy reads them). */
export async function gammasFor(proxies: readonly ProxyName[], o: GammaRun): Promise<Gammas | undefined> {
  return proxies.includes('rbflex') ? resolveGammas(o) : (givenGammas(o), undefined);
}
