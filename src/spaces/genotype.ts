/**
 * DARTS genotype text, read as data: a small tokenizer and recursive-descent parser for
 * `Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])`.
 * Nothing is evaluated. Accepted spellings: tuples or lists for the pairs, `range(a, b)` for a
 * concat, single or double quotes, whitespace anywhere, an optional `Genotype` prefix, fields in
 * any order. Sizes are bounded before use (text length, edges per cell).
 */
import { SpaceError } from './types.js';

export interface CellGenotype {
  /** edges in order: node i (0-based intermediate node) takes edges 2i and 2i+1 */
  edges: { op: string; from: number }[];
  /** the states concatenated into the cell output (0, 1 = cell inputs, 2.. = intermediate nodes) */
  concat: number[];
}

export interface Genotype {
  normal: CellGenotype;
  reduce: CellGenotype;
}

export const MAX_GENOTYPE_CHARS = 20_000;
export const MAX_CELL_EDGES = 64;

type Tok = { t: 'id' | 'str' | 'num' | 'p'; v: string; at: number };

function tokenize(text: string, where: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('()[],='.includes(c)) {
      out.push({ t: 'p', v: c, at: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new SpaceError(`${where}: unterminated string starting at character ${i + 1}`);
      const v = text.slice(i + 1, end);
      if (!/^[A-Za-z0-9_]*$/.test(v)) throw new SpaceError(`${where}: op name "${v.slice(0, 40)}" at character ${i + 1} has characters other than letters, digits and _`);
      out.push({ t: 'str', v, at: i });
      i = end + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^\d+/.exec(text.slice(i, i + 64));
    if (!m) throw new SpaceError(`${where}: unexpected character "${c}" at character ${i + 1}`);
    out.push({ t: /^\d/.test(m[0]) ? 'num' : 'id', v: m[0], at: i });
    i += m[0].length;
  }
  return out;
}

class Parser {
  private k = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly where: string,
  ) {}
  private fail(msg: string): never {
    const t = this.toks[this.k];
    throw new SpaceError(`${this.where}: ${msg}${t ? ` at character ${t.at + 1} ("${t.v}")` : ' at the end of the text'}`);
  }
  peek(v?: string): Tok | undefined {
    const t = this.toks[this.k];
    return t && (v === undefined || t.v === v) ? t : undefined;
  }
  take(v: string): void {
    if (!this.peek(v)) this.fail(`expected "${v}"`);
    this.k++;
  }
  ident(): string {
    const t = this.toks[this.k];
    if (!t || t.t !== 'id') this.fail('expected a field name');
    this.k++;
    return t.v;
  }
  int(): number {
    const t = this.toks[this.k];
    if (!t || t.t !== 'num') this.fail('expected a whole number');
    this.k++;
    if (t.v.length > 6) this.fail('number too large');
    return Number(t.v);
  }
  str(): string {
    const t = this.toks[this.k];
    if (!t || t.t !== 'str') this.fail("expected a quoted op name like 'sep_conv_3x3'");
    this.k++;
    return t.v;
  }
  done(): boolean {
    return this.k >= this.toks.length;
  }
  /** [ item, item, ... ] with an optional trailing comma */
  list<T>(item: () => T, max: number): T[] {
    this.take('[');
    const out: T[] = [];
    while (!this.peek(']')) {
      if (out.length >= max) this.fail(`more than ${max} items`);
      out.push(item());
      if (!this.peek(']')) this.take(',');
    }
    this.take(']');
    return out;
  }
  /** ('op', 0) or ['op', 0] */
  pair(): { op: string; from: number } {
    const open = this.peek('(') ? '(' : '[';
    this.take(open);
    const op = this.str();
    this.take(',');
    const from = this.int();
    if (this.peek(',')) this.take(',');
    this.take(open === '(' ? ')' : ']');
    return { op, from };
  }
  /** [2, 3, 4, 5] or range(2, 6) */
  concat(): number[] {
    if (this.peek('range')) {
      this.k++;
      this.take('(');
      const a = this.int();
      this.take(',');
      const b = this.int();
      this.take(')');
      if (b <= a || b - a > MAX_CELL_EDGES) this.fail(`range(${a}, ${b}) is empty or too long`);
      return Array.from({ length: b - a }, (_, i) => a + i);
    }
    return this.list(() => this.int(), MAX_CELL_EDGES);
  }
}

/** Parse genotype text into cells; checks structure only (ops and indices are checked by validateGenotype). */
export function parseGenotypeText(text: string, where = 'genotype'): Genotype {
  if (text.length > MAX_GENOTYPE_CHARS) throw new SpaceError(`${where}: ${text.length} characters, over the limit of ${MAX_GENOTYPE_CHARS}`);
  const p = new Parser(tokenize(text, where), where);
  if (p.peek('Genotype')) p.ident();
  p.take('(');
  const fields: Record<string, unknown> = {};
  while (!p.peek(')')) {
    const name = p.ident();
    if (!['normal', 'normal_concat', 'reduce', 'reduce_concat'].includes(name)) {
      throw new SpaceError(`${where}: unknown field "${name}"; a genotype has normal, normal_concat, reduce, reduce_concat`);
    }
    if (name in fields) throw new SpaceError(`${where}: field ${name} given twice`);
    p.take('=');
    fields[name] = name.endsWith('_concat') ? p.concat() : p.list(() => p.pair(), MAX_CELL_EDGES);
    if (!p.peek(')')) p.take(',');
  }
  p.take(')');
  if (!p.done()) throw new SpaceError(`${where}: unexpected text after the closing ")"`);
  for (const f of ['normal', 'normal_concat', 'reduce', 'reduce_concat']) {
    if (!(f in fields)) throw new SpaceError(`${where}: field ${f} is missing; write Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])`);
  }
  return {
    normal: { edges: fields.normal as CellGenotype['edges'], concat: fields.normal_concat as number[] },
    reduce: { edges: fields.reduce as CellGenotype['edges'], concat: fields.reduce_concat as number[] },
  };
}

/**
 * Check a cell against an op set: an even number of edges (two per node), node i's inputs in
 * 0..i+1, concat indices in 0..nodes+1, each once.
 */
export function validateCell(cell: CellGenotype, ops: readonly string[], where: string, name: 'normal' | 'reduce'): void {
  const n = cell.edges.length;
  if (n === 0 || n % 2 !== 0) throw new SpaceError(`${where}: ${name} has ${n} edge(s); each node takes two, so the count must be even and above 0`);
  cell.edges.forEach((e, k) => {
    if (!ops.includes(e.op)) throw new SpaceError(`${where}: ${name} edge ${k}: unknown op "${e.op}"; ops are ${ops.join(', ')}`);
    const node = Math.floor(k / 2);
    if (e.from > node + 1) throw new SpaceError(`${where}: ${name} edge ${k} (node ${node + 2}) takes state ${e.from}; it can take states 0..${node + 1}`);
  });
  const states = n / 2 + 2;
  if (cell.concat.length === 0) throw new SpaceError(`${where}: ${name}_concat is empty`);
  const seen = new Set<number>();
  for (const c of cell.concat) {
    if (c >= states) throw new SpaceError(`${where}: ${name}_concat has state ${c}; the cell has states 0..${states - 1}`);
    if (seen.has(c)) throw new SpaceError(`${where}: ${name}_concat lists state ${c} twice`);
    seen.add(c);
  }
}

function cellText(c: CellGenotype): string {
  return `[${c.edges.map((e) => `('${e.op}', ${e.from})`).join(', ')}]`;
}

/** The canonical text (Python's repr of the namedtuple with list concats). */
export function formatGenotype(g: Genotype): string {
  return `Genotype(normal=${cellText(g.normal)}, normal_concat=[${g.normal.concat.join(', ')}], reduce=${cellText(g.reduce)}, reduce_concat=[${g.reduce.concat.join(', ')}])`;
}
