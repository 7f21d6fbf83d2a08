/** Option parsing and validation shared by the commands: every bad value is one clear UsageError. */
import { resolve } from 'node:path';
import { AGGREGATIONS, type Aggregation, DEFAULT_ENSEMBLE } from '../proxies/ensemble.js';
import type { EnsembleSpec } from '../search/ensemble-scores.js';
import { type Command, Option } from 'commander';
import { BACKEND_NAMES, type BackendName } from '../backends/types.js';
import { defaultCacheDir } from '../data/download.js';
import { TAP_MODES, type TapMode } from '../ir/types.js';
import { HDA_VARIANTS } from '../proxies/hda.js';
import { REDUCE_MODES, type ReduceMode } from '../search/scorer.js';
import { PROXY_NAMES, type ProxyName, parseProxyList } from '../proxies/index.js';
import { PROXY_INPUTS_MODES, type ProxyInputsMode } from '../proxies/needs.js';
import { getSpace, spaceNames } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { TEXT_FORMATS, type TextFormat } from '../text/wordpiece.js';
import { openSafetensors } from '../util/safetensors.js';
import { UsageError } from './errors.js';

export function int(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`${name} must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

export function positiveFloat(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${name} must be a positive number, got "${v}"`);
    return n;
  };
}

/** Options every scoring command takes. */
export interface CommonOpts {
  space: string;
  dataset?: string;
  data: string;
  batch: number;
  seed: string;
  backend: BackendName;
  reduce?: ReduceMode;
  taps?: TapMode;
  resolution?: number;
  initChannels?: number;
  layers?: number;
  augment?: boolean;
  json?: boolean;
  debug?: boolean;
  cacheDir?: string;
  /** nafbee-bert: WordPiece vocabulary, pretrained tensors, sentence format */
  vocab?: string;
  bertWeights?: string;
  textFormat?: TextFormat;
  proxyInputs?: ProxyInputsMode;
}

/** The --proxy help line: every proxy name, or all. */
export const PROXY_LIST_HELP = `comma-separated proxies: ${PROXY_NAMES.join(', ')}; or all (docs/PROXIES.md defines each)`;

export function addSpaceOptions(c: Command): Command {
  return c
    .addOption(new Option('--space <name>', `design space: ${spaceNames().join(', ')}`).default('nb201'))
    .option('--dataset <name>', 'dataset: sets the classifier width, input size and image normalisation (default: the space\'s first)')
    .option('--resolution <px>', 'input resolution, for spaces that allow it (TransNAS)', int('--resolution', 8, 4096))
    .option('--bert-weights <file>', 'nafbee-bert: safetensors with pretrained embeddings, LayerNorms and Linear biases (e.g. an SST-2 checkpoint); default: BERT\'s own init')
    .option('--init-channels <C>', 'darts: initial channels of NetworkCIFAR (default 16; DARTS evaluates at 36)', int('--init-channels', 2, 1024))
    .option('--layers <L>', 'darts: number of cells (default 8; DARTS evaluates at 20)', int('--layers', 1, 100));
}

export function addImageOptions(c: Command): Command {
  return c
    .option(
      '--data <src>',
      'images: "synthetic" (seeded Gaussian), a CIFAR/ImageNet16 batch file or folder, an image folder, the CIFAR-10 PNG sprite, or cifar10/cifar100 (downloaded once into the cache)',
      'synthetic',
    )
    .option('--batch <n>', 'images per network (N; the reference uses 3)', int('--batch', 2, 256), 3)
    .option('--seed <s>', 'seed for the image choice, augmentation, sampling and weight initialisation', '1')
    .option('--augment', 'random crop (4-pixel padding) and horizontal flip, as the reference loader does')
    .option('--vocab <file>', 'nafbee-bert: WordPiece vocabulary (bert-base-uncased-vocab.txt; default: beside the --data sentences)')
    .addOption(new Option('--text-format <f>', 'nafbee-bert: authors = [CLS] + tokens, no [SEP] (the RBFleX-NAS loader); bert = [CLS] tokens [SEP]').choices([...TEXT_FORMATS]))
    .option('--cache-dir <dir>', 'where downloads and the score cache (scores.sqlite) live; env RBFLEX_CACHE', defaultCacheDir());
}

export function addScoringOptions(c: Command): Command {
  return c
    .addOption(new Option('--backend <name>', 'onnx (fast, float32 forward) or reference (float64 interpreter, slow)').choices([...BACKEND_NAMES]).default('onnx'))
    .addOption(
      new Option(
        '--reduce <where>',
        'where the taps are reduced: graph (default: one shared onnxruntime session per space skeleton, taps reduced inside it, about 2.4x less CPU per network; used for spaces that have a skeleton (nb201, sss, transnas-micro), and in per-network sessions for transnas-macro, when every proxy allows it (rbflex, naswot, params, flops), host otherwise; RBFleX scores differ from host by float32 rounding, at most 5e-6 over the whole NB201 space, see ARCHITECTURE.md) or host (per-network sessions, raw taps reduced in float64: the reference path)',
      )
        .choices([...REDUCE_MODES])
        .default('graph'),
    )
    .addOption(new Option('--taps <mode>', 'activation outputs for RBFleX: reference ("ReLU" in the module type, as the authors\' hooks) or activations (activation functions only, as the paper)').choices([...TAP_MODES]))
    .option('--gamma-k <g>', 'RBF width for the activations kernel K; give with --gamma-q (default: the fixed reference value for nb201/sss/transnas, HDA for nafbee)', positiveFloat('--gamma-k'))
    .option('--gamma-q <g>', 'RBF width for the classifier-input kernel Q; give with --gamma-k', positiveFloat('--gamma-q'))
    .option('--hda', 'detect both gammas with HDA before scoring (instead of the fixed values)')
    .addOption(new Option('--hda-variant <v>', 'HDA variant when detecting gammas').choices([...HDA_VARIANTS]).default('paper'))
    .option('--hda-networks <m>', 'networks HDA samples (default 10; nafbee-bert: all 11, as the authors)', int('--hda-networks', 1, 10000))
    .option('--ensemble <list>', `members of the ensemble proxy (default ${DEFAULT_ENSEMBLE.members.join(',')}: chosen on NB201 CIFAR-10, see docs/PROXIES.md)`)
    .addOption(new Option('--ensemble-aggregation <a>', 'log-rank: sum of log(rank/n) (AZ-NAS); rank: sum of rank/n (Borda)').choices([...AGGREGATIONS]).default(DEFAULT_ENSEMBLE.aggregation))
    .addOption(
      new Option(
        '--proxy-inputs <mode>',
        'inputs of gradient proxies (synflow, snip, ...): reference = each at its reference settings (its own batch size, input kind and a batch of --data images with labels), shared = like for like, every proxy on the same --batch images as RBFleX',
      )
        .choices([...PROXY_INPUTS_MODES])
        .default('reference'),
    );
}

/** The ensemble spec of --ensemble / --ensemble-aggregation (members checked against the proxy names). */
export function ensembleSpec(o: { ensemble?: string; ensembleAggregation?: Aggregation }): EnsembleSpec {
  const members = o.ensemble === undefined ? [...DEFAULT_ENSEMBLE.members] : proxies(o.ensemble).map(String);
  if (members.includes('ensemble')) throw new UsageError('--ensemble: the ensemble cannot contain itself');
  if (members.length < 2) throw new UsageError(`--ensemble needs at least two proxies, got "${o.ensemble}"`);
  return { members, aggregation: o.ensembleAggregation ?? DEFAULT_ENSEMBLE.aggregation };
}


export function resolveSpace(name: string): Space {
  return getSpace(name);
}

export function buildOptions(space: Space, o: { dataset?: string; resolution?: number; bertWeights?: string; initChannels?: number; layers?: number }): BuildOptions {
  const dataset = o.dataset ?? space.datasets[0];
  if (dataset !== undefined && !space.datasets.includes(dataset)) {
    throw new UsageError(`--dataset ${dataset} is not a dataset of ${space.name}; choose one of ${space.datasets.join(', ')}`);
  }
  if (o.resolution !== undefined && !space.takesResolution) {
    const why = space.loadInputs ? '--resolution does not apply to text input' : "its networks take the dataset's image size";
    throw new UsageError(`--resolution applies to spaces with a free input size (${spacesTakingResolution().join(', ')}); ${space.name}: ${why}`);
  }
  const b: BuildOptions = {};
  if (dataset !== undefined) b.dataset = dataset;
  if (o.resolution !== undefined) b.resolution = o.resolution;
  if (o.bertWeights !== undefined) {
    if (space.name !== 'nafbee-bert') throw new UsageError(`--bert-weights applies to nafbee-bert, not ${space.name}`);
    b.bertWeights = resolve(o.bertWeights);
    openSafetensors(b.bertWeights); // a bad file is refused here, before any work
  }
  if (o.initChannels !== undefined || o.layers !== undefined) {
    if (space.name !== 'darts') throw new UsageError(`--init-channels and --layers apply to --space darts, not ${space.name}`);
    if (o.initChannels !== undefined) {
      if (o.initChannels % 2 !== 0) throw new UsageError(`--init-channels must be even (FactorizedReduce halves it), got ${o.initChannels}`);
      b.initChannels = o.initChannels;
    }
    if (o.layers !== undefined) b.layers = o.layers;
  }
  return b;
}

function spacesTakingResolution(): string[] {
  return spaceNames().filter((n) => getSpace(n).takesResolution);
}

export function proxies(list: string): ProxyName[] {
  return parseProxyList(list);
}
