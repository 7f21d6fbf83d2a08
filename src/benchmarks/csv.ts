import { DataError } from '../util/errors.js';
/** Minimal CSV splitting: comma-separated, optional double quotes ("" escapes a quote). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Lines of a text file without the line terminators; a final empty line is dropped. */
export function textLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * A CSV file cut into its header and rows, with the checks every ground-truth reader makes: a header,
 * at most `maxRows` rows (a bound on untrusted input), and each row as many cells as the header
 * (a short last row is reported as a likely truncation). Errors are DataErrors naming the file and line.
 */
export class CsvRows {
  readonly header: string[];
  /** number of data rows */
  readonly count: number;
  private readonly lines: string[];

  constructor(
    readonly name: string,
    text: string,
    o: { maxRows: number; tooMany: (rows: number) => string; needRows?: boolean; trimHeader?: boolean },
  ) {
    this.lines = textLines(text);
    if (this.lines.length === 0) throw new DataError(name, 'wrong format: empty file');
    if (o.needRows && this.lines.length < 2) throw new DataError(name, 'wrong format: no rows');
    this.count = this.lines.length - 1;
    if (this.count > o.maxRows) throw new DataError(name, o.tooMany(this.count));
    const header = splitCsvLine(this.lines[0]!);
    this.header = o.trimHeader ? header.map((h) => h.trim()) : header;
  }

  /** the file's line number of data row r (1-based, the header is line 1) */
  lineNo(r: number): number {
    return r + 2;
  }

  /** the cells of data row r (0-based), checked against the header's width */
  cells(r: number): string[] {
    const cells = splitCsvLine(this.lines[r + 1]!);
    if (cells.length !== this.header.length) {
      const last = r === this.count - 1 ? ' (file truncated?)' : '';
      throw new DataError(this.name, `line ${this.lineNo(r)}: expected ${this.header.length} columns, found ${cells.length}${last}`);
    }
    return cells;
  }
}
