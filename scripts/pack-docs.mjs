#!/usr/bin/env node
// A published package's comments and README cite the repository's docs (docs/compat.md §7, say); this puts
// every cited page into the package (its `files` lists `docs`), so a citation in node_modules leads
// somewhere. Run by each package's prepack (cwd: the package) and, with --clean, its postpack.
import fs from 'node:fs';
import path from 'node:path';

const packageDir = process.cwd();
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const target = path.join(packageDir, 'docs');
fs.rmSync(target, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);

function textFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : textFiles(full);
    return /\.(js|cjs|mjs|ts|md)$/.test(entry.name) ? [full] : [];
  });
}

const { files = [] } = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
const cited = new Set();
for (const entry of files.filter((name) => name !== 'docs')) {
  const full = path.join(packageDir, entry);
  const sources = fs.existsSync(full) && fs.statSync(full).isDirectory() ? textFiles(full) : [full];
  for (const file of sources.filter((name) => fs.existsSync(name))) {
    for (const match of fs.readFileSync(file, 'utf8').matchAll(/docs\/([A-Za-z0-9_.-]+\.md)/g))
      cited.add(match[1]);
  }
}
fs.mkdirSync(target, { recursive: true });
for (const name of [...cited].sort()) {
  const source = path.join(root, 'docs', name);
  if (!fs.existsSync(source)) {
    console.error(`pack-docs: ${path.basename(packageDir)} cites docs/${name}, which does not exist`);
    process.exit(1);
  }
  fs.copyFileSync(source, path.join(target, name));
}
