// Trunk post_build hook, first step: cuts the app's wasm into parts, so that a phone's first
// load carries only the shell, the login, the lock and the sync, and each screen's code follows
// when the screen opens (app/src/parts.rs declares where the cuts go).
//
// Trunk has built the wasm (linked with relocations, see .cargo/config.toml) and run
// wasm-bindgen on it. This script takes trunk's wasm before wasm-bindgen, splits it with
// wasm-split-cli, runs wasm-bindgen on the main part (keeping the function table that the
// parts link against), optimises every part with wasm-opt, names every file of the set by one
// hash of its content, and puts the set in place of trunk's files: index.html loads the new
// main part, with subresource integrity anew.
//
//   node scripts/wasm-split.mjs <staging dir>
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const staging = process.argv[2];
if (!staging) {
  console.error('wasm-split: name the staging folder of the build');
  process.exit(1);
}
const fail = (message) => {
  console.error(`wasm-split: ${message}`);
  process.exit(1);
};
// A tool's output is shown only when it fails (wasm-opt warns at length about the name
// sections of the parts, which it drops anyway).
const run = (tool, args) => {
  try {
    execFileSync(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fail(`${tool} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
};

const runAsync = (tool, args) => new Promise((done) => {
  execFile(tool, args, (e, stdout, stderr) => {
    if (e) fail(`${tool} ${args.join(' ')} failed:\n${stdout}${stderr || e.message}`);
    done();
  });
});

// Parts up to this size skip wasm-opt.
const SMALL = 16 * 1024;

// A wasm module without its custom sections (id 0): the rest is kept byte for byte.
function withoutCustomSections(bytes) {
  const kept = [bytes.subarray(0, 8)];
  let at = 8;
  while (at < bytes.length) {
    const start = at;
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      size += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    at += size;
    if (at > bytes.length) fail('a part ends inside a section');
    if (id !== 0) kept.push(bytes.subarray(start, at));
  }
  return Buffer.concat(kept);
}

// The wasm of trunk's cargo build, in the profile that app/Trunk.toml names.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const targetDir = process.env.CARGO_TARGET_DIR || join(root, 'target');
const raw = join(targetDir, 'wasm32-unknown-unknown', 'wasm-release', 'cris-app.wasm');
try { statSync(raw); } catch { fail(`no ${raw}`); }

// Trunk's files, as index.html names them.
const indexPath = join(staging, 'index.html');
let index = readFileSync(indexPath, 'utf8');
const shipped = index.match(/cris-app-([0-9a-f]+)\.js/);
if (!shipped) fail(`index.html loads no cris-app-<hash>.js`);
const oldJs = `cris-app-${shipped[1]}.js`;
const oldWasm = `cris-app-${shipped[1]}_bg.wasm`;

const work = mkdtempSync(join(tmpdir(), 'cris-split-'));
try {
  run('wasm-split-cli', [raw, work, '--out-name', 'main']);
  run('wasm-bindgen', [
    '--target', 'web', '--keep-lld-exports', '--no-typescript',
    '--out-dir', work, '--out-name', 'main', join(work, 'main.wasm'),
  ]);
  unlinkSync(join(work, 'main.wasm'));
  const parts = readdirSync(work).filter((f) => f.endsWith('.wasm'));
  // wasm-opt on every part but the smallest, two at a time (each run of wasm-opt from npm
  // spends half a second starting). The smallest shared parts only lose their custom
  // sections (names, relocations): wasm-opt would gain a few bytes there, for a second each.
  const optimised = parts.filter((p) => statSync(join(work, p)).size > SMALL);
  for (const part of parts.filter((p) => !optimised.includes(p))) {
    const file = join(work, part);
    writeFileSync(file, withoutCustomSections(readFileSync(file)));
  }
  const queue = [...optimised];
  await Promise.all([0, 1].map(async () => {
    for (let part = queue.shift(); part; part = queue.shift()) {
      const file = join(work, part);
      // The features Rust's wasm32 target uses; the parts have no section that says so.
      await runAsync('wasm-opt', [
        '-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
        '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
        file, '--output', file,
      ]);
    }
  }));

  // One hash for the whole set: the main part and the loader name each other.
  const hash = createHash('sha256');
  for (const f of readdirSync(work).sort()) hash.update(f).update(readFileSync(join(work, f)));
  const h = hash.digest('hex').slice(0, 16);
  const named = (f) => (f === 'main_bg.wasm' ? `cris-app-${h}_bg.wasm` : f.replace(/\.wasm$/, `-${h}.wasm`));
  const mainJs = `cris-app-${h}.js`;
  const loader = `wasm-split-${h}.js`;

  const loaderPath = join(work, '__wasm_split.js');
  // Only the files' names change: the module names inside the wasm stay as they are.
  const rename = (text, what, from, to) => {
    if (!text.includes(from)) fail(`${what} does not name ${from}`);
    return text.replaceAll(from, to);
  };
  let loaderText = readFileSync(loaderPath, 'utf8');
  loaderText = rename(loaderText, 'the loader', 'from "./main.js"', `from "./${mainJs}"`);
  for (const part of parts.filter((p) => p !== 'main_bg.wasm')) {
    loaderText = rename(loaderText, 'the loader', `"./${part}"`, `"./${named(part)}"`);
  }
  let js = readFileSync(join(work, 'main.js'), 'utf8');
  js = rename(js, 'main.js', 'from "./__wasm_split.js"', `from "./${loader}"`);

  for (const f of [oldJs, oldWasm]) rmSync(join(staging, f), { force: true });
  writeFileSync(join(staging, mainJs), js);
  writeFileSync(join(staging, loader), loaderText);
  for (const part of parts) renameSync(join(work, part), join(staging, named(part)));

  // index.html: the new names, and integrity hashes of the new files.
  index = index.replaceAll(oldJs, mainJs).replaceAll(oldWasm, `cris-app-${h}_bg.wasm`);
  const sri = (f) => `sha384-${createHash('sha384').update(readFileSync(join(staging, f))).digest('base64')}`;
  // (trunk's minified page leaves attribute values unquoted where it can)
  const newWasm = `cris-app-${h}_bg.wasm`;
  index = index.replace(/<link\b[^>]*>/g, (tag) => {
    const file = [mainJs, newWasm].find((f) => tag.includes(`/${f}`));
    if (!file || !/integrity=/.test(tag)) return tag;
    return tag.replace(/integrity=("?)[^"\s>]+\1/, `integrity="${sri(file)}"`);
  });
  for (const f of [mainJs, newWasm]) {
    if (!index.includes(`integrity="${sri(f)}"`)) fail(`index.html has no integrity hash of ${f}`);
  }
  writeFileSync(indexPath, index);
  const size = (p) => statSync(join(staging, named(p))).size;
  const screens = parts.filter((p) => p.startsWith('split_'));
  const shared = parts.filter((p) => p.startsWith('chunk_'));
  const sum = (list) => list.reduce((n, p) => n + size(p), 0);
  console.log(`wasm-split: main part ${size('main_bg.wasm')} bytes; ${screens.length} screens' parts `
    + `${sum(screens)} bytes (${screens.map((p) => `${p.slice(6, -5)} ${size(p)}`).join(', ')}); `
    + `${shared.length} shared parts ${sum(shared)} bytes`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
