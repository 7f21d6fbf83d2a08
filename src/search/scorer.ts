/**
 * Scores architectures of one space with a set of proxies, on one image batch and seed.
 * Every proxy sees the same network, the same weights and the same forward pass.
 */
import { createHash } from 'node:crypto';
import { OnnxBackend } from '../backends/onnx/backend.js';
import { ReferenceBackend } from '../backends/reference.js';
import type { Backend, BackendName, ImageBatch } from '../backends/types.js';
import { type Weights, initWeights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';
import { PROXIES, type Proxy, type ProxyName, type ProxySettings } from '../proxies/index.js';
import { getSpace } from '../spaces/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';

export interface ScorerConfig {
  space: string;
  build: BuildOptions;
  proxies: ProxyName[];
  settings: ProxySettings;
  backend: BackendName;
  /** the user's seed; weights of arch A come from `${seed}/${space}/${A}` */
  seed: string;
  /** onnxruntime threads per session */
  threads?: number;
}

export interface ArchScore {
  arch: string;
  scores: Partial<Record<ProxyName, number>>;
  notes?: Partial<Record<ProxyName, string>>;
  /** wall time of this network, ms */
  ms: number;
}

export function makeBackend(name: BackendName, threads = 1): Backend {
  return name === 'onnx' ? new OnnxBackend({ threads }) : new ReferenceBackend();
}

export function weightSeed(seed: string, space: string, arch: string): string {
  return `${seed}/${space}/${arch}`;
}

/** A short content hash of an image batch (cache key part). */
export function imagesKey(images: ImageBatch): string {
  const h = createHash('sha256');
  h.update(`${images.n}x${images.c}x${images.h}x${images.w}:`);
  h.update(new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** The cache key of each proxy under a config: changes whenever the proxy's value could. */
export function proxyKeysOf(config: ScorerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of config.proxies) {
    const p = PROXIES[name](config.settings);
    out[name] = p.taps.length > 0 ? `${p.key(config.settings)}:backend=${config.backend}:bn=per-image` : p.key(config.settings);
  }
  return out;
}

/**
 * Every proxy on one network: one forward pass (when a proxy needs features), shared by all.
 * `weights` is called only when a forward pass is needed.
 */
export async function scoreNetwork(
  graph: Graph,
  weights: () => Weights,
  images: ImageBatch,
  proxies: readonly Proxy[],
  settings: ProxySettings,
  backend: Backend,
): Promise<Pick<ArchScore, 'scores' | 'notes'>> {
  const taps = [...new Set(proxies.flatMap((p) => p.taps))];
  const features = taps.length > 0 ? await backend.forward(graph, weights(), images, { taps, bn: 'per-image' }) : undefined;
  const scores: ArchScore['scores'] = {};
  const notes: ArchScore['notes'] = {};
  for (const p of proxies) {
    const r = p.score(features ? { graph, features } : { graph }, settings);
    scores[p.name] = r.value;
    if (r.note) notes[p.name] = r.note;
  }
  return Object.keys(notes).length ? { scores, notes } : { scores };
}

export class Scorer {
  readonly space: Space;
  private readonly proxies: Proxy[];
  private readonly backend: Backend;

  constructor(
    readonly config: ScorerConfig,
    readonly images: ImageBatch,
  ) {
    this.space = getSpace(config.space);
    this.proxies = config.proxies.map((p) => PROXIES[p](config.settings));
    this.backend = makeBackend(config.backend, config.threads ?? 1);
  }

  async score(arch: string): Promise<ArchScore> {
    const t0 = performance.now();
    const canonical = this.space.parse(arch);
    const graph = this.space.build(canonical, this.config.build);
    const seed = weightSeed(this.config.seed, this.space.name, canonical);
    const weights = () => (this.space.initWeights ? this.space.initWeights(graph, seed, this.config.build) : initWeights(graph, seed));
    const r = await scoreNetwork(graph, weights, this.images, this.proxies, this.config.settings, this.backend);
    return { arch: canonical, ...r, ms: performance.now() - t0 };
  }
}
