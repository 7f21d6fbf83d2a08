/**
 * Progress of a scoring run on stderr: a bar on a terminal; on a pipe or log file (nohup, Slurm) one
 * plain line every few seconds. Both say how many networks came from the cache. The running counts
 * feed the interrupt message (terminal.ts).
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../search/runner.js';
import { runState } from './terminal.js';

/** Seconds as `42s`, `2m05s` or `1h02m`: rounded first, so never `1m60s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds between plain progress lines when stderr is not a terminal (env RBFLEX_PROGRESS_SECONDS). */
export function lineInterval(): number {
  const v = Number(process.env.RBFLEX_PROGRESS_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : 5;
}

export interface ProgressView {
  onProgress: (p: Progress) => void;
  stop: () => void;
}

/** Rate and ETA over the networks this run computes (cache hits arrive at once and are left out). */
class Clock {
  private t0 = 0;
  private base = 0;
  start(p: Progress): void {
    this.t0 = performance.now();
    this.base = p.done;
  }
  rate(p: Progress): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0.5 ? (p.done - this.base) / s : NaN;
  }
  eta(p: Progress): string {
    const r = this.rate(p);
    return r > 0 ? formatDuration((p.total - p.done) / r) : '-';
  }
}

/** A progress view: a bar on a terminal, periodic lines otherwise, nothing when `enabled` is false. */
export function progressBar(label: string, enabled: boolean): ProgressView {
  const view = !enabled ? undefined : process.stderr.isTTY ? terminalBar(label) : logLines(label, lineInterval());
  let last: Progress | undefined;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (last) runState.finish(last);
    view?.stop();
  };
  runState.stopView = stop;
  return {
    onProgress: (p) => {
      // after an interrupt stopped the view, networks in flight still finish and reach the cache
      if (stopped) {
        runState.finished += p.done - (last?.done ?? 0);
        last = p;
        return;
      }
      last = p;
      runState.current = p;
      view?.onProgress(p);
    },
    stop,
  };
}

function terminalBar(label: string): ProgressView {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} networks | {rate}/s | ETA {etaText} | cached {cached}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const clock = new Clock();
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) {
        bar.start(p.total, p.done, { rate: '-', etaText: '-', cached: p.cached });
        started = true;
        clock.start(p);
        return;
      }
      const r = clock.rate(p);
      bar.update(p.done, { rate: Number.isFinite(r) ? r.toFixed(1) : '-', etaText: clock.eta(p), cached: p.cached });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** `label: 120/1000 networks (40 from the cache), 12.3/s, ETA 1m12s` every `seconds`, and at the end. */
function logLines(label: string, seconds: number): ProgressView {
  const clock = new Clock();
  let started = false;
  let lastAt = 0;
  let last: Progress | undefined;
  const line = (p: Progress, end = false) => {
    const r = clock.rate(p);
    const tail = end ? 'done' : `${Number.isFinite(r) ? `${r.toFixed(1)}/s` : '-/s'}, ETA ${clock.eta(p)}`;
    process.stderr.write(`${label}: ${p.done}/${p.total} networks (${p.cached} from the cache), ${tail}\n`);
  };
  return {
    onProgress: (p) => {
      last = p;
      const now = performance.now();
      if (!started) {
        started = true;
        clock.start(p);
        lastAt = now;
        line(p);
        return;
      }
      if (now - lastAt >= seconds * 1000) {
        lastAt = now;
        line(p);
      }
    },
    stop: () => {
      if (started && last && last.done === last.total) line(last, true);
      started = false;
    },
  };
}
