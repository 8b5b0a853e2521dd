// The polyarch GitHub Action: a dependency-free launcher for the polyarch
// binary. It gets the binary (plugins/install.sh), logs in to registries
// (passwords on stdin, masked in the log), and runs `polyarch build` or
// `polyarch merge` with the inputs as flags. The binary itself, through its
// GitHub adapter (--ci github), writes the outputs (digest, tags, platforms,
// metadata) to $GITHUB_OUTPUT and the report to $GITHUB_STEP_SUMMARY, and
// reads ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL for `cache: type=gha`,
// which a node action (unlike a composite one) receives from the runner.
'use strict';

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// The value of input NAME as the runner passes it: INPUT_<NAME upper-cased,
// spaces as underscores>, trimmed; "" when unset.
function input(name) {
  const key = `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
  return (process.env[key] || '').trim();
}

// A list input: one item a line; with commas too unless lines_only (values
// such as build-args may hold commas). Empty items and "#" comments dropped.
function listInput(name, linesOnly) {
  const items = [];
  for (const line of input(name).split(/\r?\n/)) {
    const parts = linesOnly ? [line] : line.split(',');
    for (const part of parts) {
      const item = part.trim();
      if (item !== '' && !item.startsWith('#')) items.push(item);
    }
  }
  return items;
}

// "true"/"false" (YAML 1.2 core schema words, as @actions/core accepts them).
function boolInput(name) {
  const value = input(name);
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE', ''].includes(value)) return false;
  throw new Error(`input "${name}" must be true or false, got "${value}"`);
}

// Escapes a workflow command's data (%, CR, LF).
function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

// Runs a program with inherited stdout/stderr (or captured stdout); throws
// with its exit status when it fails. Arguments never pass through a shell.
function run(program, args, options = {}) {
  const result = childProcess.spawnSync(program, args, {
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', options.capture ? 'pipe' : 'inherit', 'inherit'],
    input: options.stdin,
    env: options.env || process.env,
    encoding: 'utf8',
  });
  if (result.error) throw new Error(`cannot run ${program}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${path.basename(program)} exited ${result.status === null ? result.signal : result.status}`);
  }
  return options.capture ? result.stdout : '';
}

// The polyarch binary: plugins/install.sh of this checkout of the action.
function installBinary() {
  const script = path.resolve(__dirname, '..', '..', 'plugins', 'install.sh');
  const env = { ...process.env };
  if (input('version') !== '') env.POLYARCH_VERSION = input('version');
  if (input('release-url') !== '') env.POLYARCH_RELEASE_URL = input('release-url');
  console.log('::group::polyarch: install');
  const out = run('bash', [script], { capture: true, env });
  console.log('::endgroup::');
  const lines = out.trim().split('\n');
  return lines[lines.length - 1];
}

// Logs in to `registry` with username/password, and to each line of
// `logins` ("REGISTRY USERNAME ENV_VAR_HOLDING_THE_PASSWORD").
function login(polyarch) {
  const entries = [];
  if (input('registry') !== '' && input('username') !== '') {
    entries.push([input('registry'), input('username'), input('password')]);
  }
  for (const line of listInput('logins', true)) {
    const [registry, username, variable] = line.split(/\s+/);
    if (!variable) throw new Error(`input "logins": want "REGISTRY USERNAME PASSWORD_ENV_VAR", got "${line}"`);
    entries.push([registry, username, process.env[variable] || '']);
  }
  for (const [registry, username, password] of entries) {
    if (password === '') throw new Error(`no password for ${username} at ${registry}`);
    console.log(`::add-mask::${escapeData(password)}`);
    run(polyarch, ['login', registry, '-u', username, '--password-stdin'], { stdin: password });
  }
}

// Global flags every command takes.
function globalArgs() {
  const args = ['--ci', 'github'];
  if (boolInput('verbose')) args.push('--verbose');
  if (input('config') !== '') args.push('--config', input('config'));
  return args;
}

// Tags: the `tags` input, else `polyarch tags` over `images` and `tag-rules`.
function resolveTags(polyarch) {
  const tags = listInput('tags');
  if (tags.length > 0 || listInput('images').length === 0) return tags;
  const args = [...globalArgs(), 'tags'];
  for (const image of listInput('images', true)) args.push('--image', image);
  for (const rule of listInput('tag-rules', true)) args.push('--rule', rule);
  for (const flavor of listInput('flavor', true)) args.push('--flavor', flavor);
  return run(polyarch, args, { capture: true }).split('\n').map((t) => t.trim()).filter((t) => t !== '');
}

// Does this polyarch's `build` take flag? (--summary arrived later.)
function buildTakes(polyarch, flag) {
  const help = childProcess.spawnSync(polyarch, ['build', '--help'], { encoding: 'utf8' });
  return `${help.stdout}${help.stderr}`.includes(flag);
}

// The `polyarch build` command line for the inputs.
function buildArgs(polyarch) {
  const args = [...globalArgs(), 'build', input('context') || '.'];
  const platforms = listInput('platforms');
  if (platforms.length > 0) args.push('--platform', platforms.join(','));
  for (const tag of resolveTags(polyarch)) args.push('--tag', tag);
  const pairs = { file: '--file', target: '--target', backend: '--backend', provenance: '--provenance',
    output: '--output', jobs: '--jobs' };
  for (const [name, flag] of Object.entries(pairs)) {
    if (input(name) !== '') args.push(flag, input(name));
  }
  for (const value of listInput('build-args', true)) args.push('--build-arg', value);
  for (const value of listInput('labels', true)) args.push('--label', value);
  for (const value of listInput('annotations', true)) args.push('--annotation', value);
  for (const value of listInput('cache', true)) args.push('--cache', value);
  for (const value of listInput('secrets', true)) args.push('--secret', value);
  if (boolInput('push')) args.push('--push');
  if (boolInput('push-by-digest')) {
    const file = input('digest-file') || path.join(process.env.RUNNER_TEMP || '.', 'polyarch-digests',
      `${platforms.join('_').replace(/[^A-Za-z0-9_.-]/g, '-') || 'image'}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    args.push('--push-by-digest', '--digest-file', file);
    appendOutput('digest-file', file);
  }
  if (input('summary') !== '' && buildTakes(polyarch, '--summary')) args.push('--summary', input('summary'));
  return args;
}

// The `polyarch merge` command line for the inputs.
function mergeArgs(polyarch) {
  const args = [...globalArgs(), 'merge'];
  for (const tag of resolveTags(polyarch)) args.push('--tag', tag);
  for (const value of listInput('annotations', true)) args.push('--annotation', value);
  const sources = listInput('digests', true);
  if (sources.length === 0) throw new Error('input "digests" names no digest file or directory');
  return [...args, ...sources];
}

// Appends name=value to $GITHUB_OUTPUT (single-line values only).
function appendOutput(name, value) {
  if (process.env.GITHUB_OUTPUT) fs.appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
}

// The action: mode "build" (actions/) or "merge" (actions/merge/).
async function run_action(mode) {
  try {
    const polyarch = installBinary();
    login(polyarch);
    const args = mode === 'merge' ? mergeArgs(polyarch) : buildArgs(polyarch);
    console.log(`polyarch ${args.join(' ')}`);
    run(polyarch, args);
  } catch (error) {
    process.exitCode = 1;
    console.log(`::error::${escapeData(error.message)}`);
  }
}

// The entry point @github/local-action and dist/index.js call.
async function run_build() {
  return run_action(process.env.POLYARCH_ACTION_MODE === 'merge' ? 'merge' : 'build');
}

module.exports = { run: run_build, run_action, listInput, input };
