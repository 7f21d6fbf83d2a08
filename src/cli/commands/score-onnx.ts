/** `rbflex score --onnx MODEL.onnx`: any ONNX image classifier through the same backends and proxies. */
import { basename } from 'node:path';
import { hdaFromCandidates } from '../../proxies/hda.js';
import { PROXIES, type ProxyName, type ProxySettings, REFERENCE_GAMMAS } from '../../proxies/index.js';
import { hdaNetworkCandidates } from '../../search/hda.js';
import { fmtNum, jsonSafe } from '../../search/report.js';
import { makeBackend, scoreNetwork } from '../../search/scorer.js';
import { importOnnx } from '../../onnx-import/index.js';
import { readBytes } from '../../util/errors.js';
import { UsageError } from '../errors.js';
import type { CommonOpts } from '../options.js';
import { type GammaOpts, type Gammas, givenGammas, loadImagesWithProgress } from '../prepare.js';

export interface OnnxScoreOpts extends CommonOpts, GammaOpts {
  onnx: string;
  bnMode: 'train' | 'eval';
  proxy: ProxyName[];
}

export async function scoreOnnxModel(o: OnnxScoreOpts): Promise<void> {
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  const model = importOnnx(readBytes(o.onnx), { source: o.onnx, bn: o.bnMode, ...(o.resolution ? { resolution: o.resolution } : {}) });
  const { graph, weights, info } = model;
  for (const n of info.notes) log(`note: ${n}`);
  for (const n of info.ignored) log(`ignored: ${n}`);
  const [c, h, w] = graph.nodes[graph.input]!.shape as [number, number, number];
  const dataset = o.dataset ?? 'cifar10';
  const images = await loadImagesWithProgress(o, dataset, h);
  if (images.c !== c || images.h !== h || images.w !== w) {
    throw new UsageError(`--data ${o.data} gives ${images.c}x${images.h}x${images.w} images; ${basename(o.onnx)} takes ${c}x${h}x${w}`);
  }
  const taps = o.taps ?? graph.defaultTaps;
  const backend = makeBackend(o.backend);
  let gammas: Gammas = givenGammas(o) ?? { ...REFERENCE_GAMMAS, source: 'reference (fixed, SPEC)' };
  if (gammas.source !== 'given' && o.hda && o.proxy.includes('rbflex')) {
    const cand = await hdaNetworkCandidates(graph, weights, images, backend, taps, o.hdaVariant);
    const r = hdaFromCandidates(cand.k, cand.q, o.hdaVariant);
    gammas = { gammaK: r.gammaK, gammaQ: r.gammaQ, source: `HDA (${o.hdaVariant}, this model)` };
  }
  const settings: ProxySettings = { gammaK: gammas.gammaK, gammaQ: gammas.gammaQ, taps };
  const r = await scoreNetwork(graph, () => weights, images, o.proxy.map((p) => PROXIES[p](settings)), settings, backend);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(jsonSafe({ model: o.onnx, scores: r.scores, ...(r.notes ? { notes: r.notes } : {}) }))}\n`);
    return;
  }
  log(`model ${o.onnx}: ${info.params} params, input ${c}x${h}x${w}, BatchNorm ${o.bnMode === 'train' ? 'training mode (per image)' : 'inference mode'}, taps ${taps}`);
  log(`images ${images.n} x ${c}x${h}x${w} from ${o.data} (${dataset} normalisation), seed ${o.seed}`);
  if (o.proxy.includes('rbflex')) log(`gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source}), backend ${o.backend}`);
  const parts = o.proxy.map((p) => `${p} ${fmtNum(r.scores[p], 10)}`);
  process.stdout.write(`${basename(o.onnx)}  ${parts.join('  ')}${r.notes ? `  (${Object.values(r.notes).join('; ')})` : ''}\n`);
}
