/**
 * Two measure.ts JSONL files on the same archs, proxy by proxy: how many archs both hold, how many
 * values are bit-identical, and the largest relative difference (the check that a faster
 * implementation left the values alone).
 *
 *   node dist/bench/modern/compare.js old.jsonl new.jsonl [--proxies meco,meco-opt,swap,zen]
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.jsonl'));
if (files.length !== 2) {
  console.error('compare: give two .jsonl files (old, new) from bench/modern/measure.ts');
  process.exit(2);
}
const pi = args.indexOf('--proxies');
const only = pi >= 0 ? new Set(args[pi + 1]!.split(',')) : undefined;
const load = (f: string): Map<string, Record<string, unknown>> => {
  const m = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(f, 'utf8').split('\n')) if (line.trim()) m.set((JSON.parse(line) as { arch: string }).arch, JSON.parse(line) as Record<string, unknown>);
  return m;
};
const [a, b] = files.map(load) as [Map<string, Record<string, unknown>>, Map<string, Record<string, unknown>>];
const common = [...a.keys()].filter((k) => b.has(k));
const proxies = [...new Set(common.flatMap((k) => Object.keys(b.get(k)!)))].filter((p) => p !== 'arch' && p !== 'ms' && (!only || only.has(p)));
console.log(`${common.length} archs in both files`);
console.log('| proxy | archs | identical | max relative difference |');
console.log('|---|---|---|---|');
for (const p of proxies) {
  let n = 0;
  let same = 0;
  let worst = 0;
  for (const k of common) {
    const x = Number(a.get(k)![p]);
    const y = Number(b.get(k)![p]);
    if (a.get(k)![p] === undefined || b.get(k)![p] === undefined) continue;
    n++;
    if (Object.is(x, y)) {
      same++;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300));
  }
  console.log(`| ${p} | ${n} | ${same} | ${worst.toExponential(2)} |`);
}
