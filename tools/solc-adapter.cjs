#!/usr/bin/env node
// A `solc` command line over the npm `solc` package (solcjs), for machines where the native
// binary cannot be downloaded. It answers the calls py-solc-x and ape-solidity make:
//   --version
//   --standard-json [FILE] [--base-path DIR] [--include-path DIR]... [--allow-paths A,B]
// Anything else exits with status 2 and says what is supported.
'use strict';

const fs = require('fs');
const path = require('path');

const USAGE =
  'supported: --version | --standard-json [input.json] [--base-path DIR] ' +
  '[--include-path DIR]... [--allow-paths DIR[,DIR...]]';

function fail(message) {
  process.stderr.write(`solc adapter (solcjs): ${message}\n${USAGE}\n`);
  process.exitCode = 2;
}

function parseArgs(argv) {
  const options = { includePaths: [], allowPaths: [], basePath: null, mode: null, inputFile: null };
  const takesValue = new Set(['--base-path', '--include-path', '--allow-paths']);
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let value = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (takesValue.has(arg)) {
      if (value === null) {
        i += 1;
        if (i >= argv.length) throw new Error(`option ${arg} needs a value`);
        value = argv[i];
      }
      if (arg === '--base-path') options.basePath = value;
      else if (arg === '--include-path') options.includePaths.push(value);
      else options.allowPaths.push(...value.split(',').filter(Boolean));
    } else if (arg === '--version' || arg === '--standard-json') {
      if (options.mode && options.mode !== arg) throw new Error(`${options.mode} and ${arg} exclude each other`);
      options.mode = arg;
    } else if (!arg.startsWith('-') && options.mode === '--standard-json' && !options.inputFile) {
      options.inputFile = arg;
    } else {
      throw new Error(`unsupported argument '${argv[i]}'`);
    }
  }
  if (!options.mode) throw new Error('no mode given');
  return options;
}

function isInside(file, dir) {
  const rel = path.relative(path.resolve(dir), path.resolve(file));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

// Resolves an import the way native solc does with --base-path and --include-path, and refuses
// files outside the allowed directories.
function makeImportResolver(options) {
  const roots = [options.basePath || process.cwd(), ...options.includePaths];
  const allowed = [...roots, ...options.allowPaths];
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((root) => path.join(root, importPath));
    for (const candidate of candidates) {
      if (!fs.existsSync(candidate)) continue;
      if (!allowed.some((dir) => isInside(candidate, dir))) {
        return { error: `File outside of allowed directories: ${candidate}` };
      }
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
    return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
  };
}

function readInput(inputFile) {
  return fs.readFileSync(inputFile || 0, 'utf8');
}

function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    fail(error.message);
    return;
  }
  const solc = require('solc');
  if (options.mode === '--version') {
    process.stdout.write(
      `solc, the solidity compiler commandline interface (solcjs adapter)\nVersion: ${solc.version()}\n`,
    );
    return;
  }
  const output = solc.compile(readInput(options.inputFile), { import: makeImportResolver(options) });
  // Let Node flush stdout and end on its own: exiting at once can truncate a piped write.
  process.stdout.write(output.endsWith('\n') ? output : `${output}\n`);
}

main();
