/** Where and how a study ran, for its report header: rbflex version, command line, date, machine. */
import { cpus } from 'node:os';
import { rbflexVersion } from '../distributed/common.js';

export interface RunInfo {
  rbflex: string;
  /** the command line as given (the CLI passes it; library callers may) */
  command?: string;
  /** start of the study, ISO 8601 (UTC) */
  date: string;
  machine: { cores: number; cpu: string };
}

export function runInfo(command?: string, now = new Date()): RunInfo {
  const c = cpus();
  const models = [...new Set(c.map((x) => x.model.trim().replace(/\s+/g, ' ')))].filter((m) => m.length > 0);
  return {
    rbflex: rbflexVersion(),
    ...(command !== undefined ? { command } : {}),
    date: now.toISOString(),
    machine: { cores: c.length, cpu: models.join(' + ') || 'unknown' },
  };
}

/** argv as one line a shell would read back the same way (single quotes where needed). */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
