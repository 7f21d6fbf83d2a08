/**
 * `rbflex score --onnx A.onnx [B.onnx ...|folder]`: users' ONNX models through the same proxies.
 * A set is scored on one image batch with one pair of gammas (fixed, or HDA over the whole set)
 * and printed ranked. Models run as they are (src/onnx-asis) unless `--onnx-run ir` asks for the
 * IR import (src/onnx-import), which the reference backend and IR-only proxies need.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ImageBatch } from '../../backends/types.js';
import type { TapMode } from '../../ir/types.js';
import { AsisModel } from '../../onnx-asis/model.js';
import { ASIS_PROXIES, asisHdaCandidates, scoreAsis } from '../../onnx-asis/score.js';
import { type ImportedModel, OnnxImportError, importOnnx } from '../../onnx-import/index.js';
import { hdaFromCandidates } from '../../proxies/hda.js';
import { PROXIES, type ProxyName, type ProxySettings, REFERENCE_GAMMAS } from '../../proxies/index.js';
import { hdaNetworkCandidates } from '../../search/hda.js';
import { fmtNum, jsonSafe } from '../../search/report.js';
import { makeBackend, scoreNetwork } from '../../search/scorer.js';
import { fsProblem, readBytes } from '../../util/errors.js';
import { UsageError } from '../errors.js';
import type { CommonOpts } from '../options.js';
import { type GammaOpts, type Gammas, givenGammas, loadImagesWithProgress } from '../prepare.js';

export type OnnxRun = 'as-is' | 'ir';

export interface OnnxScoreOpts extends CommonOpts, GammaOpts {
  onnx: string[];
  bnMode: 'train' | 'eval';
  proxy: ProxyName[];
  classifierInput?: string;
  onnxRun?: OnnxRun;
}

/** Most models one command scores. */
const MAX_MODELS = 10_000;

/** Files as given, folders as their *.onnx files (sorted); duplicates dropped. */
export function expandModelPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      throw fsProblem(p, e);
    }
    if (!isDir) out.push(p);
    else {
      const files = readdirSync(p)
        .filter((f) => f.toLowerCase().endsWith('.onnx'))
        .sort()
        .map((f) => join(p, f));
      if (files.length === 0) throw new UsageError(`--onnx ${p}: the folder holds no .onnx files`);
      out.push(...files);
    }
    if (out.length > MAX_MODELS) throw new UsageError(`--onnx names more than ${MAX_MODELS} models; score them in parts`);
  }
  return [...new Set(out)];
}

interface ModelFacts {
  path: string;
  fixed: { c?: number; h?: number; w?: number };
  defaultTaps: TapMode;
}

function openAsis(path: string, o: OnnxScoreOpts): AsisModel {
  return AsisModel.open(readBytes(path), { source: path, bn: o.bnMode, ...(o.classifierInput !== undefined ? { classifierInput: o.classifierInput } : {}) });
}

function openIr(path: string, o: OnnxScoreOpts, images: ImageBatch): ImportedModel {
  return importOnnx(readBytes(path), { source: path, bn: o.bnMode, resolution: images.h });
}

/** The side the images must have: the models' fixed size, --resolution, or the data's own (undefined). */
function imageSide(facts: ModelFacts[], o: OnnxScoreOpts): number | undefined {
  const fixed = new Map<string, string[]>();
  for (const f of facts) {
    if (f.fixed.h === undefined && f.fixed.w === undefined) continue;
    if (f.fixed.h === undefined || f.fixed.w === undefined || f.fixed.h !== f.fixed.w) {
      throw new UsageError(`${f.path}: the input is ${f.fixed.h ?? '?'}x${f.fixed.w ?? '?'}; rbflex feeds square images: export with a square or fully dynamic height/width`);
    }
    const k = String(f.fixed.h);
    fixed.set(k, [...(fixed.get(k) ?? []), basename(f.path)]);
  }
  if (fixed.size > 1) {
    const list = [...fixed.entries()].map(([s, m]) => `${m.slice(0, 3).join(', ')}${m.length > 3 ? ', ...' : ''}: ${s}x${s}`).join('; ');
    throw new UsageError(`the models take different fixed input sizes (${list}); a set is scored on the same images: export them with dynamic height/width and give --resolution`);
  }
  const side = fixed.size === 1 ? Number([...fixed.keys()][0]) : undefined;
  if (side !== undefined && o.resolution !== undefined && o.resolution !== side) {
    throw new UsageError(`--resolution ${o.resolution}, but the model input is fixed at ${side}x${side}; drop --resolution or export with dynamic height/width`);
  }
  return side ?? o.resolution;
}

interface Scored {
  path: string;
  scores: Partial<Record<ProxyName, number>>;
  notes: Partial<Record<ProxyName, string>>;
}

export async function scoreOnnxModels(o: OnnxScoreOpts): Promise<void> {
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  const run: OnnxRun = o.onnxRun ?? (o.backend === 'reference' ? 'ir' : 'as-is');
  if (run === 'as-is' && o.backend === 'reference') throw new UsageError('--backend reference runs the IR: use --onnx-run ir (or drop --onnx-run)');
  if (run === 'ir' && o.classifierInput !== undefined) throw new UsageError('--classifier-input applies to --onnx-run as-is (the IR import takes the input of the last Gemm/MatMul)');
  const paths = expandModelPaths(o.onnx);
  if (paths.length === 0) throw new UsageError('name at least one --onnx model');

  // 1. what every model takes (decoded one at a time; nothing large is kept)
  const facts: ModelFacts[] = paths.map((p) => {
    const m = openAsis(p, o);
    for (const n of m.info.notes) log(`note: ${paths.length > 1 ? `${basename(p)}: ` : ''}${n}`);
    return { path: p, fixed: m.fixedSize, defaultTaps: m.info.defaultTaps };
  });
  const side = imageSide(facts, o);
  const dataset = o.dataset ?? 'cifar10';
  const images = await loadImagesWithProgress(o, dataset, side);
  for (const f of facts) {
    if (f.fixed.c !== undefined && f.fixed.c !== images.c) throw new UsageError(`${f.path}: the model takes ${f.fixed.c}-channel input; --data ${o.data} gives ${images.c}-channel images`);
  }
  let taps: TapMode;
  if (o.taps) taps = o.taps;
  else {
    const defaults = new Set(facts.map((f) => f.defaultTaps));
    taps = defaults.size === 1 ? [...defaults][0]! : 'activations';
    if (defaults.size > 1) log('note: the models have different default tap rules; all are scored with --taps activations (set --taps to choose)');
  }

  // 2. one pair of gammas for the whole set
  const wantsRbflex = o.proxy.includes('rbflex');
  let gammas: Gammas = givenGammas(o) ?? { ...REFERENCE_GAMMAS, source: 'reference (fixed, SPEC)' };
  if (gammas.source !== 'given' && o.hda && wantsRbflex) {
    log(`detecting gammas with HDA (${o.hdaVariant} variant) over all ${paths.length} model(s)...`);
    const candK: number[] = [];
    const candQ: number[] = [];
    for (const p of paths) {
      const c =
        run === 'as-is'
          ? await asisHdaCandidates(openAsis(p, o), images, taps, o.hdaVariant)
          : await (async () => {
              const m = openIr(p, o, images);
              return hdaNetworkCandidates(m.graph, m.weights, images, makeBackend(o.backend), taps, o.hdaVariant);
            })();
      for (const v of c.k) candK.push(v);
      for (const v of c.q) candQ.push(v);
    }
    const r = hdaFromCandidates(candK, candQ, o.hdaVariant);
    gammas = { gammaK: r.gammaK, gammaQ: r.gammaQ, source: `HDA (${o.hdaVariant}) over the ${paths.length} model(s) scored together` };
  }
  const settings: ProxySettings = { gammaK: gammas.gammaK, gammaQ: gammas.gammaQ, taps };

  // 3. every model, one after another
  const results: Scored[] = [];
  for (const [i, p] of paths.entries()) {
    if (paths.length > 1) log(`[${i + 1}/${paths.length}] ${p}`);
    const r: Scored = { path: p, scores: {}, notes: {} };
    const irProxies = run === 'ir' ? o.proxy : o.proxy.filter((x) => !ASIS_PROXIES.includes(x));
    if (run === 'as-is') {
      const s = await scoreAsis(openAsis(p, o), images, o.proxy, settings);
      Object.assign(r.scores, s.scores);
      Object.assign(r.notes, s.notes);
    }
    if (irProxies.length > 0) {
      let m: ImportedModel | undefined;
      try {
        m = openIr(p, o, images);
      } catch (e) {
        if (run === 'ir' || !(e instanceof OnnxImportError)) throw e;
        for (const x of irProxies) r.notes[x] = `n/a: ${x} needs the IR import, which cannot read this model (${e.message})`;
      }
      if (m) {
        if (paths.length === 1) for (const n of m.info.notes) log(`note: ${n}`);
        const s = await scoreNetwork(m.graph, () => m.weights, images, irProxies.map((x) => PROXIES[x](settings)), settings, makeBackend(o.backend));
        Object.assign(r.scores, s.scores);
        Object.assign(r.notes, s.notes ?? {});
      }
    }
    results.push(r);
  }

  // 4. ranked by the first proxy (higher is better; -Infinity and n/a last)
  const key = o.proxy[0]!;
  const val = (r: Scored) => {
    const v = r.scores[key];
    return v === undefined || Number.isNaN(v) ? -Infinity : v;
  };
  const ranked = [...results].sort((a, b) => (val(a) === val(b) ? a.path.localeCompare(b.path) : val(b) > val(a) ? 1 : -1));
  const cell = (r: Scored, p: ProxyName) => (r.scores[p] === undefined ? 'n/a' : fmtNum(r.scores[p], 10));
  if (o.json) {
    ranked.forEach((r, k) => {
      const notes = Object.keys(r.notes).length ? { notes: r.notes } : {};
      process.stdout.write(`${JSON.stringify(jsonSafe({ model: r.path, ...(paths.length > 1 ? { rank: k + 1 } : {}), scores: r.scores, ...notes }))}\n`);
    });
    return;
  }
  log(`images ${images.n} x ${images.c}x${images.h}x${images.w} from ${o.data} (${dataset} normalisation), seed ${o.seed}`);
  log(`run ${run}, BatchNorm ${o.bnMode === 'train' ? 'training mode (per image)' : 'inference mode (running statistics)'}, taps ${taps}`);
  if (wantsRbflex) log(`gamma_k ${gammas.gammaK}, gamma_q ${gammas.gammaQ} (${gammas.source})`);
  if (paths.length === 1) {
    const r = results[0]!;
    const parts = o.proxy.map((p) => `${p} ${cell(r, p)}`);
    const notes = Object.values(r.notes);
    process.stdout.write(`${basename(r.path)}  ${parts.join('  ')}${notes.length ? `  (${notes.join('; ')})` : ''}\n`);
    return;
  }
  const rows = ranked.map((r, k) => [String(k + 1), ...o.proxy.map((p) => cell(r, p)), r.path]);
  const head = ['rank', ...o.proxy, 'model'];
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((x, c) => (c === cells.length - 1 ? x : x.padStart(width[c]!))).join('  ');
  process.stdout.write(`${line(head)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
  for (const r of ranked) for (const [p, n] of Object.entries(r.notes)) log(`${basename(r.path)}: ${p}: ${n}`);
}
