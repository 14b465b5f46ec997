// Trunk post_build hook, last step: writes a brotli (quality 11) and a gzip (level 9) copy next
// to every compressible file of the build (`x.wasm.br`, `x.wasm.gz`). The server serves these
// as they are, so no request waits while a large wasm file is compressed. Node's zlib is the
// compressor: node is here already, for wasm-opt (binaryen from npm).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import zlib from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('compress: name the folder of the build');
  process.exit(1);
}
// As the server's `is_compressible` (server/src/assets.rs).
const compressible = /\.(html|js|mjs|css|wasm|json|webmanifest|svg|txt)$/;

function* files(folder) {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

let count = 0;
let raw = 0;
let br = 0;
for (const file of files(dir)) {
  if (!compressible.test(file)) continue;
  const data = readFileSync(file);
  const brotli = zlib.brotliCompressSync(data, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 22,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  writeFileSync(`${file}.br`, brotli);
  writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
  count += 1;
  raw += data.length;
  br += brotli.length;
}
console.log(`compress: ${count} files, ${raw} bytes, ${br} as brotli`);
