#!/usr/bin/env node
// prepack: writes npm-shrinkwrap.json (the published package's locked dependency tree) from
// package-lock.json, marking onnxruntime-node as having no install script. npm then does not run its
// postinstall, which would download CUDA libraries from api.nuget.org (and fail offline); rbflex uses
// the CPU binaries that ship inside the npm package. `postpack` (--clean) removes the file again so the
// clone keeps one lockfile. See ARCHITECTURE.md, "Installing offline".
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'npm-shrinkwrap.json');
if (process.argv.includes('--clean')) {
  rmSync(out, { force: true });
  process.exit(0);
}
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const ort = lock.packages?.['node_modules/onnxruntime-node'];
if (!ort) throw new Error('package-lock.json has no node_modules/onnxruntime-node entry');
delete ort.hasInstallScript;
// devDependencies are not installed for consumers; keep the shrinkwrap to what they get
for (const [k, v] of Object.entries(lock.packages)) if (k !== '' && v.dev) delete lock.packages[k];
writeFileSync(out, `${JSON.stringify(lock, null, 2)}\n`);
process.stderr.write(`wrote ${out} (onnxruntime-node: no install script)\n`);
