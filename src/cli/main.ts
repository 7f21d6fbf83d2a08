#!/usr/bin/env node
/** rbflex command line: parses, validates and calls the library; errors are one line, exit 2. */
import { Command, CommanderError } from 'commander';
import { registerHda } from './commands/hda.js';
import { registerInfo } from './commands/info.js';
import { registerScore } from './commands/score.js';
import { registerSearch } from './commands/search.js';
import { registerStudy } from './commands/study.js';
import { registerExport } from './commands/export.js';
import { registerRank } from './commands/rank.js';
import { registerWorker } from './commands/worker.js';
import { isUserError } from './errors.js';
import { installRepeatCheck } from './repeated.js';
import { handleInterrupts } from './terminal.js';

// a closed pipe (`rbflex ... | head`) ends the program quietly
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

handleInterrupts(!process.argv.includes('--no-cache'));

const program = new Command();
program
  .name('rbflex')
  .description(
    'Training-free neural architecture search with RBFleX-NAS: score untrained networks from a few images, ' +
      'rank design spaces (NAS-Bench-201, NATS-Bench SSS, TransNAS-Bench-101, NAFBee), reproduce the paper.',
  )
  .version('0.1.0')
  .option('--debug', 'print stack traces on errors')
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(`rbflex: ${s.trim()} (see --help)\n`) });

registerInfo(program);
registerScore(program);
registerHda(program);
registerSearch(program);
registerStudy(program);
registerExport(program);
registerRank(program);
registerWorker(program);
installRepeatCheck(program, () => process.argv.slice(2));

program.addHelpText(
  'after',
  `
Examples:
  rbflex info   --space nb201 --arch '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'
  rbflex score  --space nb201 --arch '...' --data ../shared/data/images/cifar10/cifar10_batch_0.png --proxy rbflex,naswot
  rbflex search --space nb201 --dataset cifar10 --benchmark ../shared/data/nb201/nats-tss-200ep-test.csv
  rbflex study  --space nb201 --benchmark ../shared/data/nb201/nats-tss-200ep-test.csv --samples 1000 --out study/
  rbflex rank   --space nb201 --samples 1000 --out ranking.csv
Each command has its own --help.`,
);

function debugWanted(argv: string[]): boolean {
  return argv.includes('--debug') || process.env.RBFLEX_DEBUG === '1';
}

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; parse errors were already printed by commander
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    const user = isUserError(err);
    process.stderr.write(`rbflex: error: ${err.message}\n`);
    if (debugWanted(argv)) process.stderr.write(`${(err as Error & { originalStack?: string }).originalStack ?? err.stack}\n`);
    else if (!user) process.stderr.write('rbflex: (this looks like a bug; run again with --debug for the stack trace)\n');
    return user ? 2 : 1;
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
