/** Scoring one imported model (an ONNX file through importOnnx): what `rbflex score --onnx` runs. */
import type { BackendName, ImageBatch } from '../backends/types.js';
import type { TapMode } from '../ir/types.js';
import type { ImportedModel } from '../onnx-import/index.js';
import { hdaFromCandidates } from '../proxies/hda.js';
import { PROXIES, type ProxyName, type ProxySettings, REFERENCE_GAMMAS } from '../proxies/index.js';
import { hdaNetworkCandidates } from '../search/hda.js';
import { type ArchScore, makeBackend, scoreNetwork } from '../search/scorer.js';
import { type GammaChoice, type Gammas, givenGammas } from './gammas.js';

export interface ModelScoreOptions {
  /** default ['rbflex'] */
  proxies?: ProxyName[];
  /** fixed gammas, or hda: true to detect them on this model alone (default: the reference values) */
  gammas?: GammaChoice;
  /** default: the model's default taps */
  taps?: TapMode;
  /** default 'onnx' */
  backend?: BackendName;
}

export interface ModelScore extends Pick<ArchScore, 'scores' | 'notes'> {
  gammas: Gammas;
  taps: TapMode;
}

/** The input shape [C, H, W] an imported model takes. */
export function modelInputShape(model: ImportedModel): [number, number, number] {
  return model.graph.nodes[model.graph.input]!.shape as [number, number, number];
}

export async function scoreImportedModel(model: ImportedModel, images: ImageBatch, o: ModelScoreOptions = {}): Promise<ModelScore> {
  const { graph, weights } = model;
  const list = o.proxies ?? ['rbflex'];
  const taps = o.taps ?? graph.defaultTaps;
  const backend = makeBackend(o.backend ?? 'onnx');
  const choice = o.gammas ?? {};
  let gammas: Gammas = givenGammas(choice) ?? { ...REFERENCE_GAMMAS, source: 'reference (fixed, SPEC)' };
  if (gammas.source !== 'given' && choice.hda && list.includes('rbflex')) {
    const variant = choice.hdaVariant ?? 'paper';
    const cand = await hdaNetworkCandidates(graph, weights, images, backend, taps, variant);
    const r = hdaFromCandidates(cand.k, cand.q, variant);
    gammas = { gammaK: r.gammaK, gammaQ: r.gammaQ, source: `HDA (${variant}, this model)` };
  }
  const settings: ProxySettings = { gammaK: gammas.gammaK, gammaQ: gammas.gammaQ, taps };
  const r = await scoreNetwork(graph, () => weights, images, list.map((p) => PROXIES[p](settings)), settings, backend);
  return { ...r, gammas, taps };
}
