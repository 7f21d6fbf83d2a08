/** Shared pieces of study outputs: number formats, scores.csv, JSON-safe values, writing the files (the rest is in src/study). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProxyName } from '../proxies/index.js';
import type { StudyRow } from './protocol.js';

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function fmtNum(v: number | undefined, digits = 6): string {
  if (v === undefined) return '';
  if (v === -Infinity) return '-Infinity';
  if (Number.isNaN(v)) return 'NaN';
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

/** A correlation to 4 places; "n/a" where it is undefined (e.g. a proxy constant over the architectures). */
export function fmtCorr(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** One row per architecture; with `seed`, a leading seed column (and the header only when `header`). */
export function scoresCsv(rows: readonly StudyRow[], proxies: readonly ProxyName[], seed?: string, header = true): string {
  const lead = seed === undefined ? [] : ['seed'];
  const lines = header ? [[...lead, 'arch', 'accuracy', ...proxies].join(',')] : [];
  for (const r of rows) {
    lines.push([...(seed === undefined ? [] : [csvField(seed)]), csvField(r.arch), String(r.accuracy), ...proxies.map((p) => fmtNum(r.scores[p], 17))].join(','));
  }
  return lines.join('\n') + '\n';
}

/** JSON has no -Infinity: write it as the string "-Infinity". */
export function jsonSafe(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? (Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity') : x)),
  );
}

export function writeStudy(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, content]) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  });
}
