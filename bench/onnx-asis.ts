/**
 * Users' ONNX models run as they are (src/onnx-asis): speed and memory of `rbflex score --onnx` on
 * a full-size model, and agreement with PyTorch on full-size torchvision models.
 *
 *   /usr/bin/python3 tools/export-torchvision.py /tmp/tv resnet50 [more torchvision names ...]
 *   npm run build && node dist/bench/onnx-asis.js --model /tmp/tv/resnet50.onnx [--runs 5] [--resolution 224]
 *   node dist/bench/onnx-asis.js --compare /tmp/tv        # every model in /tmp/tv/expected.json vs PyTorch
 *
 * Speed: the whole CLI command (`rbflex score --onnx MODEL --resolution R --proxy rbflex`, synthetic
 * images, batch 3) as a child process under /usr/bin/time, `--runs` times: median wall seconds and the
 * largest peak resident memory. Then one in-process run split into phases. Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageBatch } from '../src/backends/types.js';
import { AsisModel } from '../src/onnx-asis/model.js';
import { scoreAsis } from '../src/onnx-asis/score.js';
import { REFERENCE_GAMMAS } from '../src/proxies/index.js';
import { Rng } from '../src/util/rng.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function speed(model: string, runs: number, resolution: number): void {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for the peak-memory figure');
  console.log(`model ${model}, ${resolution} px, 3 synthetic images, ${availableParallelism()} cores, ${runs} runs of the CLI`);
  const walls: number[] = [];
  const cpus: number[] = [];
  const rss: number[] = [];
  for (let r = 0; r < runs; r++) {
    const p = spawnSync(
      '/usr/bin/time',
      ['-f', 'TIME %e %M %U %S', process.execPath, CLI, 'score', '--onnx', model, '--resolution', String(resolution), '--proxy', 'rbflex', '--data', 'synthetic', '--batch', '3', '--json'],
      { encoding: 'utf8' },
    );
    const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(p.stderr);
    if (p.status !== 0 || !m) throw new Error(`run failed: ${p.stderr}`);
    walls.push(Number(m[1]));
    rss.push(Number(m[2]) / 1024);
    cpus.push(Number(m[3]) + Number(m[4]));
    console.log(`  run ${r + 1}: ${m[1]} s wall, ${(Number(m[3]) + Number(m[4])).toFixed(2)} s CPU (user+sys), peak RSS ${(Number(m[2]) / 1024).toFixed(0)} MB, ${p.stdout.trim()}`);
  }
  console.log(
    `CLI wall time: median ${median(walls).toFixed(2)} s (min ${Math.min(...walls).toFixed(2)}, max ${Math.max(...walls).toFixed(2)}); ` +
      `CPU median ${median(cpus).toFixed(2)} s; peak RSS max ${Math.max(...rss).toFixed(0)} MB; load average ${loadavg()[0]!.toFixed(1)} at the end`,
  );
  console.log(`  vs the targets: ${(median(walls) / 10).toFixed(2)}x of 10 s, ${(Math.max(...rss) / 3072).toFixed(2)}x of 3 GB`);
}

async function phases(model: string, resolution: number): Promise<void> {
  const t0 = performance.now();
  const bytes = readFileSync(model);
  const t1 = performance.now();
  const m = AsisModel.open(bytes, { source: model, bn: 'train' });
  const t2 = performance.now();
  const rng = new Rng('bench-onnx');
  const data = new Float32Array(3 * 3 * resolution * resolution);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextNormal();
  const images: ImageBatch = { n: 3, c: 3, h: resolution, w: resolution, data, id: 'bench' };
  const t3 = performance.now();
  const f = await m.forward(images, { taps: ['activations'], bn: 'per-image' });
  const t4 = performance.now();
  const s = await scoreAsis(m, images, ['rbflex'], { ...REFERENCE_GAMMAS, taps: 'activations' });
  const t5 = performance.now();
  const lk = f.features.x.reduce((a, x) => a + x.size, 0);
  console.log(
    `in-process: read ${(t1 - t0).toFixed(0)} ms, decode + analyse ${(t2 - t1).toFixed(0)} ms, surgery + session + 3 runs ${(t4 - t3).toFixed(0)} ms ` +
      `(${m.info.taps.activations} taps, L_K ${lk}), whole score again ${(t5 - t4).toFixed(0)} ms; rbflex ${s.scores.rbflex}`,
  );
}

async function compare(dir: string): Promise<void> {
  const exp = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    images: { file: string; shape: [number, number, number, number] };
    gammas: { gammaK: number; gammaQ: number };
    models: Record<string, { file: string; rbflex?: number; params: number; L_K?: number }>;
  };
  const buf = readFileSync(join(dir, exp.images.file));
  const [n, c, h, w] = exp.images.shape;
  const data = new Float32Array(n * c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(i * 4);
  const images: ImageBatch = { n, c, h, w, data, id: 'compare' };
  console.log(`model                  rbflex (ours)      PyTorch            |diff|     params (ours / torch)    L_K       seconds`);
  for (const [name, e] of Object.entries(exp.models)) {
    const t0 = performance.now();
    try {
      const m = AsisModel.open(readFileSync(join(dir, e.file)), { source: e.file, bn: 'train' });
      const s = await scoreAsis(m, images, ['rbflex', 'params', 'flops'], { ...exp.gammas, taps: 'activations' });
      const diff = e.rbflex === undefined ? NaN : Math.abs(s.scores.rbflex! - e.rbflex);
      console.log(
        `${name.padEnd(22)} ${String(s.scores.rbflex?.toFixed(6)).padStart(16)}  ${String(e.rbflex?.toFixed(6) ?? '-').padStart(16)}  ${diff.toExponential(1).padStart(8)}  ` +
          `${String(s.scores.params).padStart(10)} / ${String(e.params).padEnd(10)}  ${String(e.L_K ?? '').padStart(9)}  ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}` +
          `${s.notes.flops ? `  flops ${s.notes.flops}` : `  flops ${s.scores.flops}`}`,
      );
    } catch (err) {
      console.log(`${name.padEnd(22)} FAILED: ${(err as Error).message}`);
    }
  }
}

const cmp = arg('compare');
if (cmp) await compare(cmp);
else {
  const model = arg('model', 'bench/models/resnet50.onnx')!;
  if (!existsSync(model)) {
    console.error(`${model} not found: export it with /usr/bin/python3 tools/export-torchvision.py bench/models resnet50 --no-score`);
    process.exit(2);
  }
  const resolution = Number(arg('resolution', '224'));
  speed(model, Number(arg('runs', '5')), resolution);
  await phases(model, resolution);
}
