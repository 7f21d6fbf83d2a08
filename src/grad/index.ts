/**
 * Which gradient backend answers a need: onnxruntime (float32) for float32 needs under
 * `--backend onnx`, the float64 reference tape for float64 needs and `--backend reference`.
 * A network the onnx path cannot differentiate (an op it lacks) falls back to the reference.
 */
import type { BackendName } from '../backends/types.js';
import type { Precision } from '../proxies/needs.js';
import { OnnxGradBackend } from './onnx/backend.js';
import { ReferenceGradBackend } from './reference.js';
import { type GradBackend, type GradInput, type GradRequest, type GradResult, GradUnsupportedError } from './types.js';
import type { Weights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';

export type GradBackendName = 'reference' | 'onnx';

export function gradBackendName(backend: BackendName, precision: Precision): GradBackendName {
  return backend === 'onnx' && precision === 'float32' ? 'onnx' : 'reference';
}

/** onnx first; the reference tape where the onnx path lacks an op. */
class FallbackGradBackend implements GradBackend {
  readonly name = 'onnx' as const;
  private readonly ref = new ReferenceGradBackend();
  constructor(private readonly fast: OnnxGradBackend) {}
  async gradients(g: Graph, w: Weights, x: GradInput, req: GradRequest): Promise<GradResult> {
    try {
      return await this.fast.gradients(g, w, x, req);
    } catch (e) {
      if (e instanceof GradUnsupportedError) return this.ref.gradients(g, w, x, req);
      throw e;
    }
  }
}

const cache = new Map<string, GradBackend>();

export function gradBackend(name: GradBackendName, threads = 1): GradBackend {
  const k = `${name}:${threads}`;
  let b = cache.get(k);
  if (!b) {
    b = name === 'onnx' ? new FallbackGradBackend(new OnnxGradBackend(threads)) : new ReferenceGradBackend();
    cache.set(k, b);
  }
  return b;
}

export * from './types.js';
