/**
 * NDS records carry the parameter count and FLOPs pycls computed for each network; rebuilding the
 * network and comparing both checks that rbflex scores the network that was trained.
 */
import type { NdsBenchmark } from '../benchmarks/index.js';
import { countFlops, countParams } from '../ir/analysis.js';
import type { BuildOptions, Space } from '../spaces/types.js';

export interface NdsCheck {
  checked: number;
  paramsMatch: number;
  flopsMatch: number;
  withParams: number;
  withFlops: number;
  firstMismatch?: string;
}

export function compareNdsRecords(bench: NdsBenchmark, space: Space, build: BuildOptions, ids: readonly string[]): NdsCheck {
  const r: NdsCheck = { checked: 0, paramsMatch: 0, flopsMatch: 0, withParams: 0, withFlops: 0 };
  for (const id of ids) {
    const rec = bench.recorded(id);
    if (!rec || (rec.params === undefined && rec.flops === undefined)) continue;
    const g = space.build(id, build);
    r.checked++;
    if (rec.params !== undefined) {
      r.withParams++;
      const p = countParams(g);
      if (p === rec.params) r.paramsMatch++;
      else r.firstMismatch ??= `${id.slice(0, 80)}...: params ${p} built, ${rec.params} in the file`;
    }
    if (rec.flops !== undefined) {
      r.withFlops++;
      const f = countFlops(g);
      if (f === rec.flops) r.flopsMatch++;
      else r.firstMismatch ??= `${id.slice(0, 80)}...: flops ${f} built, ${rec.flops} in the file`;
    }
  }
  return r;
}

/** One line for the log. */
export function checkNdsRecords(bench: NdsBenchmark, space: Space, build: BuildOptions, ids: readonly string[]): string {
  const r = compareNdsRecords(bench, space, build, ids);
  if (r.checked === 0) return `${bench.name}: the records carry no parameter counts or FLOPs to check the builds against`;
  const line = `${bench.name}: built networks match the file's parameter counts for ${r.paramsMatch}/${r.withParams} and FLOPs for ${r.flopsMatch}/${r.withFlops} records`;
  return r.firstMismatch ? `${line}; first mismatch: ${r.firstMismatch}` : line;
}
