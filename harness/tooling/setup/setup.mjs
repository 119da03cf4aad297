#!/usr/bin/env node
// One-command set-up for a fresh machine. It must run on the machine's own (older) Node, so it
// is plain JavaScript with no dependencies. Each step checks before it acts, so running it
// again does nothing that is already done, and every step says what it did.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemPrograms } from './system-programs.mjs';
import { cachedBinary, findGoTool, goTools } from '../../base/go-tools.mjs';
import { findMavenTool, installMavenTool, mavenToolDir, mavenTools } from './maven-tools.mjs';
import { findNpmTool, npmToolDir, npmTools } from '../../base/npm-tools.mjs';
import { installNpmTool } from './npm-tools.mjs';
import { dirname as dirOf } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const NODE_MAJOR = 22;
const NODE_MIN_MINOR = 19;

/** @param {string} line */
function say(line) {
  process.stdout.write(`setup: ${line}\n`);
}

/**
 * @param {string} command
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [opts]
 */
function run(command, args, opts = {}) {
  say(`$ ${command} ${args.join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    throw new Error(`'${command} ${args.join(' ')}' exited with ${r.status ?? r.signal}`);
  }
}

/** @param {string} program */
function which(program) {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function nodeVersionOnPath() {
  const r = spawnSync('node', ['--version'], { encoding: 'utf8' });
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(r.stdout ?? '');
  return m ? { text: m[0], major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

function ensureNode() {
  const v = nodeVersionOnPath();
  if (v && (v.major > NODE_MAJOR || (v.major === NODE_MAJOR && v.minor >= NODE_MIN_MINOR))) {
    say(`node ${v.text} is new enough (>= ${NODE_MAJOR}.${NODE_MIN_MINOR}), nothing to do`);
    return;
  }
  say(`node ${v?.text ?? '(none)'} is older than ${NODE_MAJOR}.${NODE_MIN_MINOR}: installing node@${NODE_MAJOR} from the npm registry`);
  run('npm', ['install', '-g', '--force', `node@${NODE_MAJOR}`]);
  const after = nodeVersionOnPath();
  if (!after || after.major < NODE_MAJOR) {
    throw new Error(`node on PATH is still ${after?.text ?? '(none)'} after the install; put npm's global bin (npm prefix -g) first on PATH`);
  }
  say(`node is now ${after.text}`);
}

function ensureNpmDependencies() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.faultline-lock-sha256');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) {
    say('npm dependencies match package-lock.json, nothing to do');
    return;
  }
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, want);
  say('npm dependencies installed');
}

/**
 * How to run a command as root: directly when this is root, through passwordless `sudo` when
 * there is one (a CI runner), else undefined.
 * @returns {string[] | undefined}
 */
function adminPrefix() {
  if (process.getuid?.() === 0) return [];
  if (which('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return undefined;
}

/**
 * A system program's name, and whether it is there: a command on PATH, or a library's file.
 * @param {(typeof systemPrograms)[number]} p
 */
function systemProgram(p) {
  return 'file' in p ? { name: p.file, found: existsSync(p.file) } : { name: p.command, found: which(p.command) !== undefined };
}

function ensureSystemPrograms() {
  const missing = systemPrograms.filter((p) => !systemProgram(p).found);
  for (const p of systemPrograms) {
    if (!missing.includes(p)) say(`${systemProgram(p).name} found (${p.purpose})`);
  }
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((p) => p.debianPackage))];
  const admin = adminPrefix();
  if (!which('apt-get') || !admin) {
    say(`missing: ${missing.map((p) => systemProgram(p).name).join(', ')}; install them with: sudo apt-get install -y ${packages.join(' ')}`);
    return;
  }
  /** @param {string[]} args */
  const asRoot = (args) => {
    const [command, ...rest] = [...admin, ...args];
    run(/** @type {string} */ (command), rest);
  };
  // Debian's maintainer scripts start nginx/haproxy/redis as system daemons on install. A
  // policy-rc.d that answers 101 stops that, so set-up leaves no server running.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) asRoot(['sh', '-c', `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod 755 ${policy}`]);
  try {
    asRoot(['apt-get', 'update', '-qq']);
    asRoot(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
  } finally {
    if (ownPolicy) asRoot(['rm', '-f', policy]);
  }
  say(`installed ${packages.join(', ')}`);
}

function ensureGoTools() {
  for (const tool of goTools) {
    const found = findGoTool(tool);
    if (found) {
      say(`${tool.command} found at ${found} (${tool.purpose})`);
      continue;
    }
    if (!which('go')) {
      say(`${tool.command} missing and Go is not installed: install Go, then run 'npm run setup' again (or put ${tool.command} on PATH)`);
      continue;
    }
    const target = cachedBinary(tool);
    run('go', ['install', tool.module], { env: { ...process.env, GOBIN: dirOf(target), GOFLAGS: '-buildvcs=false' } });
    if (!existsSync(target)) throw new Error(`go install ${tool.module} did not produce ${target}`);
    say(`installed ${tool.command} ${tool.version} at ${target}`);
  }
}

function ensureMavenTools() {
  for (const tool of mavenTools) {
    const found = findMavenTool(tool);
    const coordinates = `${tool.groupId}:${tool.artifactId}:${tool.version}`;
    if (found) {
      say(`${tool.name} ${tool.version} found in ${mavenToolDir(tool)} (${tool.purpose})`);
      continue;
    }
    if (!which('mvn')) {
      say(`${tool.name} missing and Maven is not installed: install Maven (Debian: maven), then run 'npm run setup' again (it fetches ${coordinates})`);
      continue;
    }
    installMavenTool(tool, say);
    say(`installed ${tool.name} ${tool.version} (${coordinates} and its dependencies) in ${mavenToolDir(tool)}`);
    if (!which('java')) say(`java is not on PATH: ${tool.name} needs a Java runtime (17 or later) to run`);
  }
}

function ensureNpmTools() {
  for (const tool of npmTools) {
    if (findNpmTool(tool)) {
      say(`${tool.package} ${tool.version} found in ${npmToolDir(tool)} (${tool.purpose})`);
      continue;
    }
    // Its native part builds from source: a compiler and make (system programs, installed above when set-up could).
    const lacking = ['g++', 'make'].filter((c) => !which(c));
    if (lacking.length > 0) {
      say(`${tool.package} missing, and building it needs ${lacking.join(' and ')}: install them (Debian: ${lacking.join(' ')}), then run 'npm run setup' again`);
      continue;
    }
    installNpmTool(tool, say);
    say(`installed ${tool.package} ${tool.version} in ${npmToolDir(tool)}`);
  }
}

// `--tools-only` (what `faultline setup` runs from an installed package): the programs the
// scenarios run, not this repository's Node and npm dependencies (the user's project has its own).
const toolsOnly = process.argv.includes('--tools-only');

try {
  if (!toolsOnly) {
    ensureNode();
    ensureNpmDependencies();
  }
  ensureSystemPrograms();
  ensureGoTools();
  ensureMavenTools();
  ensureNpmTools();
  say('done');
} catch (err) {
  process.stderr.write(`setup failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
