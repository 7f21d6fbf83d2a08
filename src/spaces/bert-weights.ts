/**
 * `--bert-weights FILE`: the user's pretrained embeddings, LayerNorms and Linear biases for the
 * NAFBee BERT networks. The authors load a fine-tuned SST-2 checkpoint and then overwrite every
 * Linear weight with xavier_uniform_, so what survives from the checkpoint is exactly the
 * embedding tables, the LayerNorm weights/biases and the Linear biases; rbflex loads those and
 * keeps its own seeded Xavier Linear weights. Tensor names are the PyTorch state-dict names
 * (`bert.embeddings.word_embeddings.weight`; a BertModel state dict without the `bert.` prefix and
 * TF-style LayerNorm `gamma` / `beta` are accepted too).
 */
import { statSync } from 'node:fs';
import type { Weights } from '../ir/init.js';
import type { Graph } from '../ir/types.js';
import { DataError } from '../util/errors.js';
import { type SafetensorsFile, openSafetensors } from '../util/safetensors.js';

const opened = new Map<string, SafetensorsFile>();
/** tensors already read (every network of a run takes the same ones; read-only in the backends) */
const tensorCache = new Map<string, Float32Array>();

function open(path: string): SafetensorsFile {
  let key: string;
  try {
    const st = statSync(path);
    key = `${path}:${st.size}:${st.mtimeMs}`;
  } catch {
    key = path;
  }
  let f = opened.get(key);
  if (!f) {
    f = openSafetensors(path);
    opened.set(key, f);
  }
  return f;
}

function candidates(node: string, role: 'weight' | 'bias'): string[] {
  const names = [`${node}.${role}`];
  if (node.endsWith('LayerNorm')) names.push(`${node}.${role === 'weight' ? 'gamma' : 'beta'}`);
  const bare = node.startsWith('bert.') ? node.slice(5) : undefined;
  return bare ? [...names, ...names.map((n) => `${bare}${n.slice(node.length)}`)] : names;
}

export interface LoadedReport {
  loaded: string[];
  missing: string[];
}

/** Overwrite embeddings, LayerNorms and Linear biases of `w` with the file's tensors, by name. */
export function applyBertWeights(g: Graph, w: Weights, path: string): LoadedReport {
  const f = open(path);
  const loaded: string[] = [];
  const missing: string[] = [];
  for (const spec of w.specs) {
    const n = g.nodes[spec.node]!;
    const kind = n.op.kind;
    const wanted = kind === 'embedding' || kind === 'layernorm' || (kind === 'dense' && spec.role === 'bias');
    if (!wanted) continue;
    const name = candidates(n.name, spec.role).find((c) => f.tensors.has(c));
    if (!name) {
      missing.push(`${n.name}.${spec.role}`);
      continue;
    }
    const info = f.tensors.get(name)!;
    const count = info.shape.reduce((a, d) => a * d, 1);
    if (count !== spec.size || info.shape.length !== spec.shape.length || info.shape.some((d, i) => d !== spec.shape[i])) {
      throw new DataError(path, `tensor ${name} is [${info.shape.join(', ')}], the network needs [${spec.shape.join(', ')}]`);
    }
    const key = `${path}\u0000${name}`;
    let data = tensorCache.get(key);
    if (!data) {
      data = f.read(name);
      tensorCache.set(key, data);
    }
    w.byNode.get(spec.node)![spec.role] = data;
    loaded.push(name);
  }
  if (loaded.length === 0) {
    throw new DataError(path, 'holds none of the BERT embedding / LayerNorm / bias tensors (expected names such as bert.embeddings.word_embeddings.weight)');
  }
  return { loaded, missing };
}
