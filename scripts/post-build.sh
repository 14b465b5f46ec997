#!/usr/bin/env bash
# Trunk post_build hook (run with TRUNK_STAGING_DIR set): makes the build run under the
# server's Content-Security-Policy, writes the service worker's precache list, then the
# compressed copies the server sends (last: they are of the files as shipped).
#
# Trunk starts the app with an inline <script type=module>; the policy allows no inline
# script, so its text moves to boot-<hash>.js and index.html loads that file instead.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?this script runs as a trunk post_build hook}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
index="$dir/index.html"

# First the wasm, cut into parts (see scripts/wasm-split.mjs): it renames the files the page loads.
node "$here/wasm-split.mjs" "$dir"

boot=$(perl -0ne 'print $1 if m{<script type="?module"?>(.*?)</script>}s' "$index")
[ -n "$boot" ] || { echo "post-build: no inline module script in $index" >&2; exit 1; }
hash=$(printf '%s' "$boot" | sha256sum | cut -c1-16)
printf '%s\n' "$boot" >"$dir/boot-$hash.js"
BOOT="boot-$hash.js" perl -0pi -e 's{<script type="?module"?>.*?</script>}{<script type=module src=/$ENV{BOOT}></script>}s' "$index"
if grep -Eq '<script( [^>]*)?>[^<]' "$index"; then
  echo "post-build: $index still has an inline script" >&2
  exit 1
fi
echo "post-build: the start script is boot-$hash.js"

bash "$here/sw-precache.sh"
node "$here/compress.mjs" "$dir"
