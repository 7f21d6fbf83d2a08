/**
 * Ctrl-C and SIGTERM: stop the progress bar (which shows the cursor and turns line wrap back on),
 * say how many networks are safely in the score cache, and exit 130 (SIGINT) or 143 (SIGTERM).
 * Scores are written to the cache as each network finishes, so the same command resumes.
 */
import { stopAllPools } from '../search/pool.js';
import type { Progress } from '../search/runner.js';

/** What the interrupt message needs to know about the run in progress. */
export const runState = {
  /** whether scores go to the cache (false with --no-cache) */
  caching: true,
  /** networks in the cache from finished sessions of this command (e.g. earlier --repeats seeds) */
  finished: 0,
  /** the session running now */
  current: undefined as Progress | undefined,
  /** stops the progress view on screen */
  stopView: undefined as (() => void) | undefined,
  /** a session's view stopped after `p`: its networks count as finished */
  finish(p: Progress): void {
    this.finished += p.done;
    if (this.current === p) this.current = undefined;
  },
  /** networks whose scores are in the cache for this command so far */
  cached(): number {
    return this.finished + (this.current?.done ?? 0);
  },
};

const SHOW_CURSOR = '\x1b[?25h';
const LINE_WRAP_ON = '\x1b[?7h';

export function interruptMessage(): string {
  if (!runState.caching) return 'interrupted (--no-cache: nothing was cached)';
  const n = runState.cached();
  return `interrupted: ${n} network${n === 1 ? '' : 's'} cached; run the same command to resume`;
}

let installed = false;
let stopping = false;
const listeners: [NodeJS.Signals, () => void][] = [];

/** For commands that handle SIGINT / SIGTERM themselves (`rbflex worker`): removes the handlers below. */
export function leaveInterrupts(): void {
  for (const [signal, f] of listeners.splice(0)) process.off(signal, f);
}

/** Installs the SIGINT / SIGTERM handlers (once); `caching` is false with --no-cache. */
export function handleInterrupts(caching: boolean): void {
  if (installed) return;
  installed = true;
  runState.caching = caching;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const onSignal = () => {
      // a second signal while the networks in flight finish: leave at once
      if (stopping) process.exit(code);
      stopping = true;
      try {
        runState.stopView?.();
      } catch {
        // the terminal is restored below in any case
      }
      if (process.stderr.isTTY) process.stderr.write(`${SHOW_CURSOR}${LINE_WRAP_ON}\n`);
      const done = () => {
        process.stderr.write(`rbflex: ${interruptMessage()}\n`);
        process.exit(code);
      };
      // let the networks in flight finish into the cache: ending a worker inside onnxruntime aborts the process
      stopAllPools().then(done, done);
    };
    listeners.push([signal, onSignal]);
    process.on(signal, onSignal);
  }
}
