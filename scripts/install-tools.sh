#!/usr/bin/env bash
# Installs the build and test tools that CRIS Field needs, skipping those already present.
# Versions are pinned to what builds with Rust 1.95 (see README, "Toolchain pins").
#   scripts/install-tools.sh build   -> wasm target, wasm-bindgen CLI, trunk, wasm-opt
#   scripts/install-tools.sh test    -> the above, plus Chromium and chromedriver
set -euo pipefail

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
# Cuts the app's wasm into parts loaded when needed (scripts/wasm-split.mjs); 0.2.3 is the
# first that reads what wasm-bindgen 0.2.128 and later write.
WASM_SPLIT_VERSION=0.2.3

say() { printf '==> %s\n' "$*"; }

need_build_tools() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi

  if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi

  if ! command -v trunk >/dev/null || [ "$(trunk --version | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about ten minutes, once)"
    cargo install trunk --version "$TRUNK_VERSION" --locked --force
  fi

  # (it has no --version: cargo's list of installed crates says which one it is)
  if ! command -v wasm-split-cli >/dev/null || ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    say "installing wasm-split-cli $WASM_SPLIT_VERSION (a few minutes, once)"
    cargo install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked --force
  fi

  if ! command -v wasm-opt >/dev/null || ! wasm-opt --version | grep -q "version $BINARYEN_VERSION"; then
    command -v npm >/dev/null || apt_install nodejs npm
    say "installing wasm-opt (binaryen $BINARYEN_VERSION) from npm"
    npm install -g "binaryen@$BINARYEN_VERSION"
  fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

need_test_tools() {
  if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    apt_install chromium chromium-driver
  fi
}

case "${1:-build}" in
  build) need_build_tools ;;
  test) need_build_tools; need_test_tools ;;
  *) echo "usage: $0 build|test" >&2; exit 2 ;;
esac
