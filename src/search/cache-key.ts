/**
 * What a cached score is keyed on. The cache context (space + its build fingerprint, build options,
 * image bytes, seed) and the per-proxy key (the proxy's own settings: gammas, taps, ...; the backend
 * and BatchNorm mode for proxies that run a forward pass; the engine fingerprint of src/search/engine.ts)
 * together change whenever the score could.
 */
import { createHash } from 'node:crypto';
import type { ImageBatch } from '../backends/types.js';
import { PROXIES, type ProxyName } from '../proxies/index.js';
import type { BuildOptions, Space } from '../spaces/types.js';
import { type ScorerConfig, reducesInGraph } from './scorer.js';
import { gradBackendName } from '../grad/index.js';
import { needKey } from '../proxies/needs.js';

/** A short content hash of an image batch (shape and every value). */
export function imagesKey(images: ImageBatch): string {
  const h = createHash('sha256');
  h.update(`${images.n}x${images.c}x${images.h}x${images.w}:`);
  h.update(new Uint8Array(images.data.buffer, images.data.byteOffset, images.data.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** build options in a canonical order */
export function buildKey(build: BuildOptions): string {
  return JSON.stringify(build, Object.keys(build).sort());
}

/**
 * A hash of the IR graphs the space builds for three architectures (first, middle, last) under
 * these build options: a change to a space's builder changes it, without any hand-kept tag.
 */
export function spaceFingerprint(space: Space, build: BuildOptions): string {
  const h = createHash('sha256');
  const archs = space.probes ?? [...new Set([0, Math.floor(space.size / 2), space.size - 1])].map((i) => space.archAt(i));
  for (const arch of archs) {
    const g = space.build(arch, build);
    h.update(JSON.stringify({ nodes: g.nodes, input: g.input, output: g.output, q: g.classifierInput, taps: g.defaultTaps }));
  }
  return h.digest('hex').slice(0, 16);
}

/** The cache key of each proxy under a config and engine fingerprints (engine.ts). */
export function proxyKeysOf(config: ScorerConfig, engine: Partial<Record<ProxyName, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  // the in-graph path (taps reduced in the graph: a shared skeleton session, or per-network sessions
  // where the space asks for it) changes scores by float32 rounding: its own keys
  const path = reducesInGraph(config) ? ':reduce=graph' : '';
  for (const name of config.proxies) {
    const p = PROXIES[name](config.settings);
    const base =
      p.taps.length > 0 ? `${p.key(config.settings)}:backend=${config.backend}:bn=per-image${path}` : p.run ? `${p.key(config.settings)}:backend=${config.backend}` : p.key(config.settings);
    let grad = '';
    if (p.grad) {
      // gradient proxies: the need, the input mode, the gradient backend and the data batch they read
      const mode = config.proxyInputs ?? 'reference';
      grad = `:grad=${needKey(p.grad)}:inputs=${mode}:gb=${gradBackendName(config.backend, p.grad.precision)}`;
      if (p.grad.input === 'data' && mode === 'reference') grad += `:data=${config.data ? imagesKey(config.data) : 'none'}`;
    }
    out[name] = `${base}${grad}:engine=${engine[name] ?? 'none'}`;
  }
  return out;
}
