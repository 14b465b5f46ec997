#!/usr/bin/env bash
# Trunk post_build hook: writes this build's file list and version into the service worker, so
# it precaches exactly the hashed files of this build. Run by trunk with TRUNK_STAGING_DIR set.
set -euo pipefail
dir="${TRUNK_STAGING_DIR:?this script runs as a trunk post_build hook}"
cd "$dir"
sw=sw.js
grep -q '__CRIS_SW_VERSION__' "$sw" && grep -q '/\*__CRIS_SW_PRECACHE__\*/' "$sw" && grep -q '/\*__CRIS_SW_LATER__\*/' "$sw" || {
  echo "sw-precache: placeholders missing in $dir/$sw" >&2
  exit 1
}

mapfile -t all < <(find . -type f ! -name "$sw" ! -name '*.map' ! -name '*.br' ! -name '*.gz' -printf '%P\n' | LC_ALL=C sort)
[ "${#all[@]}" -gt 0 ] || { echo "sw-precache: no files in $dir" >&2; exit 1; }
# The office part (the supervisors' screens, see app/src/parts.rs) is kept when first fetched,
# never precached: a worker's phone does not download it.
files=() later=()
for f in "${all[@]}"; do
  case "$f" in
    split_office-*) later+=("$f") ;;
    *) files+=("$f") ;;
  esac
done
[ "${#later[@]}" -gt 0 ] || { echo "sw-precache: no office part in $dir" >&2; exit 1; }

# The version changes whenever any shipped byte changes, which is what makes browsers
# install the new worker.
version=$(sha256sum "${all[@]}" "$sw" | sha256sum | cut -c1-16)
list=$(printf '"/%s",' "${files[@]}")
list=${list%,}
later_list=$(printf '"/%s",' "${later[@]}")
later_list=${later_list%,}

tmp=$(mktemp)
sed -e "s|__CRIS_SW_VERSION__|$version|" -e "s|/\*__CRIS_SW_PRECACHE__\*/|$list|" -e "s|/\*__CRIS_SW_LATER__\*/|$later_list|" "$sw" >"$tmp"
mv "$tmp" "$sw"
chmod 644 "$sw"
echo "sw-precache: ${#files[@]} files, ${#later[@]} kept when first fetched, version $version"
