/**
 * Work shared by the own-pass proxies of one network, keyed by the graph object (so it lives only as
 * long as the network being scored) and a key naming everything the work depends on: MeCo and
 * MeCo_opt share one pass and its correlation matrices, SWAP and swap-reg one pass, SWAP and Zen-NAS
 * their N(0, 1) weights. A proxy alone computes exactly what it computed before; together they
 * compute each shared part once.
 */
import type { Graph } from '../ir/types.js';

const memo = new WeakMap<Graph, Map<string, unknown>>();

/** `make()` the first time (graph, key) is asked for, the same value after. */
export function once<T>(g: Graph, key: string, make: () => T): T {
  let m = memo.get(g);
  if (!m) memo.set(g, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}
