/**
 * Tap counts that models exported by rbflex carry in their metadata, read by both ONNX readers
 * (onnx-import lowers to the IR, onnx-asis runs the graph as it is):
 * - `rbflex.reference_taps`: value name -> extra `reference` taps: reference taps that are not
 *   ReLU-class activation modules (e.g. ReLUConvBN outputs);
 * - `rbflex.activation_repeats`: value name -> how many more times the activation module that
 *   computes it was called on the same tensor. rbflex's IR merges such calls into one node
 *   (`instances`); the export writes the node once (a second copy would be read by nothing) and
 *   the readers count each repeat as that module's taps again (and in FLOPs where they count).
 */
import { OnnxImportError } from './errors.js';

export const REFERENCE_TAPS_KEY = 'rbflex.reference_taps';
export const ACTIVATION_REPEATS_KEY = 'rbflex.activation_repeats';

const MAX_TAP_COUNT = 1_000_000;

/** The counts under `key` (zero counts dropped), or undefined when the model does not carry it. */
export function tapCountsOf(metadata: ReadonlyMap<string, string>, key: string, source: string): Record<string, number> | undefined {
  const raw = metadata.get(key);
  if (raw === undefined) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw new OnnxImportError(`${source}: metadata ${key} is not valid JSON`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new OnnxImportError(`${source}: metadata ${key} should be a JSON object {value name: count}`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TAP_COUNT) {
      throw new OnnxImportError(`${source}: metadata ${key}: count for '${k}' is ${JSON.stringify(v)}, not a non-negative integer`);
    }
    if (v > 0) out[k] = v;
  }
  return out;
}
