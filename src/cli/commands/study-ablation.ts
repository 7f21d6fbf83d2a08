/**
 * `rbflex study --ablation`: the RBFleX ablation (src/study/ablation.ts) from the study's options.
 * With --out, every scored network is appended to ablation-scores.jsonl as it is done, so a stopped
 * run resumes where it stopped when started again with the same settings (a larger --samples reuses
 * the networks already scored: the seeded draw of k architectures is the start of the draw of k' > k).
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Benchmark } from '../../benchmarks/types.js';
import type { TapMode } from '../../ir/types.js';
import type { HdaVariant } from '../../proxies/hda.js';
import type { BuildOptions, Space } from '../../spaces/types.js';
import { ablationMarkdown } from '../../study/ablation-report.js';
import type { KernelWidths } from '../../study/ablation-scores.js';
import { type AblationRow, type AblationResult, ABLATION_TAPS, runAblation } from '../../study/ablation.js';
import { jsonNumbers } from '../../study/summary.js';
import { UsageError } from '../errors.js';
import { prepareOutDir } from '../out-path.js';
import { progressBar } from '../prepare.js';

export interface AblationCliOpts {
  samples: number;
  seed: string;
  data: string;
  augment?: boolean;
  cacheDir?: string;
  metric?: string;
  hdaNetworks?: number;
  hdaVariant: HdaVariant;
  backend: 'onnx' | 'reference';
  ablationBatches: string;
  out?: string;
  force?: boolean;
  json?: boolean;
}

const SCORES = 'ablation-scores.jsonl';
const MAX_RESUME_BYTES = 256 * 1024 * 1024;

/** "3,8,16" -> [3, 8, 16]: whole numbers 2..256, distinct */
export function parseBatches(v: string): number[] {
  const ns = v.split(',').map((s) => s.trim());
  const out = ns.map((s) => {
    if (!/^\d+$/.test(s) || Number(s) < 2 || Number(s) > 256) throw new UsageError(`--ablation-batches: "${s}" is not a whole number from 2 to 256 (give e.g. 3,8,16,32,64)`);
    return Number(s);
  });
  if (new Set(out).size !== out.length) throw new UsageError(`--ablation-batches ${v}: a number is repeated`);
  return out.sort((a, b) => a - b);
}

interface Header {
  kind: 'rbflex-ablation';
  space: string;
  dataset: string | null;
  seed: string;
  data: string;
  augment: boolean;
  ns: number[];
  taps: readonly TapMode[];
  hdaNetworks: number | null;
  hdaVariant: string;
  backend: string;
  metric: string | null;
  gammas?: Record<string, KernelWidths>;
}

/** The rows and HDA widths of an earlier run in `file`, or why they cannot be reused. */
function readResume(file: string, want: Header): { gammas?: Record<string, KernelWidths>; rows: AblationRow[] } | string {
  if (statSync(file).size > MAX_RESUME_BYTES) return `it is larger than ${MAX_RESUME_BYTES >> 20} MiB`;
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  let head: Header;
  try {
    head = JSON.parse(lines[0] ?? '') as Header;
  } catch {
    return 'its first line is not an ablation header';
  }
  const { gammas, ...rest } = head;
  if (head.kind !== 'rbflex-ablation' || JSON.stringify(rest) !== JSON.stringify(want)) return 'it was written with other settings';
  const rows: AblationRow[] = [];
  for (const l of lines.slice(1)) {
    let r: AblationRow;
    try {
      r = JSON.parse(l, (_k, v: unknown) => (v === '-Infinity' ? -Infinity : v)) as AblationRow;
    } catch {
      break; // a line cut off when the run was stopped: score that network again
    }
    if (typeof r.arch !== 'string' || typeof r.accuracy !== 'number' || typeof r.scores !== 'object' || r.scores === null) break;
    rows.push(r);
  }
  return { ...(gammas ? { gammas } : {}), rows };
}

export async function studyAblation(
  o: AblationCliOpts,
  space: Space,
  bench: Benchmark,
  build: BuildOptions,
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<AblationResult> {
  const ns = parseBatches(o.ablationBatches);
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  const header: Header = {
    kind: 'rbflex-ablation',
    space: space.name,
    dataset: build.dataset ?? null,
    seed: o.seed,
    data: o.data,
    augment: o.augment ?? false,
    ns,
    taps: ABLATION_TAPS,
    hdaNetworks: o.hdaNetworks ?? null,
    hdaVariant: o.hdaVariant,
    backend: o.backend,
    metric: o.metric ?? null,
  };
  let resume: { gammas?: Record<string, KernelWidths>; rows: AblationRow[] } | undefined;
  let scoresFile: string | undefined;
  if (o.out) {
    const dir = resolve(o.out);
    const file = join(dir, SCORES);
    if (existsSync(file) && !o.force) {
      const r = readResume(file, header);
      if (typeof r === 'string') throw new UsageError(`--out ${o.out}: ${SCORES} cannot be resumed (${r}); add --force to start again, or name a new folder`);
      resume = r;
      log(`resuming: ${r.rows.length} networks already scored in ${file}`);
    }
    prepareOutDir('--out', o.out, ['ablation.md', 'ablation.json', ...(resume ? [] : [SCORES])], (o.force ?? false) || resume !== undefined);
    scoresFile = file;
  }
  const save = (line: unknown, first = false) => {
    if (!scoresFile) return;
    const text = `${JSON.stringify(line, (_k, v: unknown) => (v === -Infinity ? '-Infinity' : v))}\n`;
    if (first) writeFileSync(scoresFile, text);
    else appendFileSync(scoresFile, text);
  };
  const bar = progressBar('ablation', !o.json);
  let result: AblationResult;
  try {
    result = await runAblation({
      space,
      benchmark: bench,
      build,
      ...(o.metric ? { metric: o.metric } : {}),
      samples: o.samples,
      seed: o.seed,
      images: { data: o.data, augment: o.augment ?? false, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) },
      ns,
      taps: ABLATION_TAPS,
      ...(o.hdaNetworks !== undefined ? { hdaNetworks: o.hdaNetworks } : {}),
      hdaVariant: o.hdaVariant,
      backend: o.backend,
      ...(resume ? { resume } : {}),
      onGammas: (gammas) => {
        // (re)write the header with the widths, then the rows already scored
        save({ ...header, gammas }, true);
        for (const r of resume?.rows ?? []) save(r);
      },
      onRow: (r) => save(r),
      onProgress: (done, total, resumed) => bar.onProgress({ done, total, cached: resumed }),
      log,
    });
  } finally {
    bar.stop();
  }
  const md = ablationMarkdown(result);
  if (o.out) {
    const dir = resolve(o.out);
    writeFileSync(join(dir, 'ablation.md'), md);
    const { rows: _rows, ...summary } = result;
    writeFileSync(join(dir, 'ablation.json'), `${JSON.stringify(jsonNumbers(summary), null, 2)}\n`);
    log(`wrote ablation.md, ablation.json, ${SCORES} to ${dir}`);
  }
  if (o.json) {
    const { rows: _rows, ...summary } = result;
    write(`${JSON.stringify(jsonNumbers(summary))}\n`);
  } else write(md);
  return result;
}
