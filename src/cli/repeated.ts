/**
 * A single-value option given twice (`--seed 1 --seed 2`) is an error, never "the last one wins".
 * Options that collect their values (variadic, or with an accumulating parser such as
 * `score --arch`) may repeat; flags without a value may too.
 */
import type { Command, Option } from 'commander';
import { UsageError } from './errors.js';

/** Whether the option gathers every value it is given (variadic, or a parser that appends to an array). */
export function collects(opt: Option): boolean {
  if (opt.variadic) return true;
  if (!opt.parseArg) return false;
  try {
    const r: unknown = opt.parseArg('1', ['1'] as never);
    return Array.isArray(r) && r.length === 2;
  } catch {
    return false;
  }
}

/** Throws a UsageError when `args` (the command's own arguments) give a single-value option more than once. */
export function rejectRepeats(cmd: Command, args: readonly string[]): void {
  const single = cmd.options.filter((o) => (o.required || o.optional) && !collects(o));
  for (const opt of single) {
    const names = [opt.long, opt.short].filter((n): n is string => n !== undefined);
    const values: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--') break;
      const eq = a.indexOf('=');
      const name = eq > 0 && a.startsWith('--') ? a.slice(0, eq) : a;
      if (!names.includes(name)) continue;
      values.push(eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : (args[i + 1] ?? ''));
    }
    if (values.length > 1) {
      const shown = values.map((v) => JSON.stringify(v)).join(', ');
      throw new UsageError(`${opt.long ?? opt.short} is given ${values.length} times (${shown}); it takes one value: give it once`);
    }
  }
}

/** Installs the check on every subcommand of `program` (run before the command's action). */
export function installRepeatCheck(program: Command, argv: () => readonly string[]): void {
  program.hook('preAction', (_root, action) => {
    const all = argv();
    const at = all.indexOf(action.name());
    rejectRepeats(action, at >= 0 ? all.slice(at + 1) : all);
  });
}
