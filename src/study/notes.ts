/**
 * What a study tells the user about its scores besides the correlations: each distinct note a proxy
 * attached to its scores (e.g. "ran on 3 images; its authors use 16"), once, with how many networks got
 * it; and a proxy that gave every network the same finite score, whose correlations are therefore
 * undefined ("n/a" in the report) — usually a setting, not the proxy: SWAP on 3 images counts at most
 * 2^3 = 8 patterns and saturates on every network of a large space.
 */

/** A network's scores and notes, by proxy name (ArchScore's fields, looser keys). */
export interface NotedScores {
  scores: Readonly<Record<string, number | undefined>>;
  notes?: Readonly<Record<string, string | undefined>>;
}

export function studyNotes(results: readonly NotedScores[], proxies: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of proxies) {
    const counts = new Map<string, number>();
    for (const r of results) {
      const n = r.notes?.[p];
      if (n) counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    for (const [n, k] of counts) out.push(`${p}: ${n} (${k} of ${results.length} networks)`);
    const vals = results.map((r) => r.scores[p]);
    const first = vals[0];
    if (results.length > 1 && first !== undefined && Number.isFinite(first) && vals.every((v) => v === first)) {
      out.push(`${p}: every one of the ${results.length} networks scored ${first}, so its correlations are undefined (n/a)`);
    }
  }
  return out;
}
