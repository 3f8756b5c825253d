#!/usr/bin/env node
// A native-looking `solc` for py-solc-x, ape-solidity, forge and slither, built on
// the solcjs package: the machines here cannot download solc binaries.
// Supports what those callers use: --version and --standard-json (JSON on stdin),
// with --base-path / --include-path / --allow-paths resolving imports.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  return;
}
if (!args.includes('--standard-json')) {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exitCode = 1;
  return;
}

function optionValues(name) {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === name && args[i + 1]) values.push(...args[i + 1].split(','));
    else if (arg.startsWith(name + '=')) values.push(...arg.slice(name.length + 1).split(','));
  });
  return values;
}
const roots = [...optionValues('--base-path'), ...optionValues('--include-path'), ...optionValues('--allow-paths'), '.'];

function findImport(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

// A file argument (forge passes none; some callers pass the input path) or stdin.
const fileArg = args.find((arg, i) => !arg.startsWith('--') && !['--base-path', '--include-path', '--allow-paths'].includes(args[i - 1]));
const input = fs.readFileSync(fileArg || 0, 'utf8');
// Writing without exiting lets Node flush a pipe of any size.
process.stdout.write(solc.compile(input, { import: findImport }));
