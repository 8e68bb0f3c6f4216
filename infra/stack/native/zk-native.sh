#!/usr/bin/env bash
# Builds the native Groth16 addon (circuits/native: arkworks through napi, from crates.io)
# into ~/.cache/veridis/native/zk-native-<hash>-<cpu>/veridis_zk_native.node, once per machine and
# source: <hash> covers the crate's manifest, lock file and sources, so an edit builds anew
# and CI reuses the cache otherwise (circuits/native.ts computes the same hash to find it).
# Same pattern as build.sh: a lock per node, a `.partial` directory moved into place,
# cargo `--locked`, lowest CPU priority, two jobs.
#
#   infra/stack/native/zk-native.sh        prints the addon's path on success
#   infra/stack/native/zk-native.sh test   runs the crate's Rust unit tests (same flags and
#                                          target directory, so the dependencies are reused)
set -euo pipefail
src="$(cd "$(dirname "$0")/../../../circuits/native" && pwd)"
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}/native"
version="$(cd "$src" && cat Cargo.toml Cargo.lock build.rs src/*.rs | sha256sum | cut -c1-12)"
# ark-ff's assembly field multiplication (the `asm` feature) is compiled in only when the
# target has bmi2 and adx; without them it silently falls back to portable Rust (proofs
# 7-12 % slower here). Enabled when this machine's CPU has both, and named in the directory, so a build never
# runs on a CPU it was not made for (circuits/native.ts picks the same name).
variant=portable
if grep -qw bmi2 /proc/cpuinfo 2>/dev/null && grep -qw adx /proc/cpuinfo 2>/dev/null; then
  variant=adx
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+bmi2,+adx"
fi
dir="$cache/zk-native-$version-$variant"
target="$cache/zk-native-target-$variant"

if [ "${1:-}" = test ]; then
  cd "$src" && exec env CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" nice -n 19 \
    cargo test --release --locked --target-dir "$target"
fi
addon="$dir/veridis_zk_native.node"
mkdir -p "$cache"
exec 9>"$cache/zk-native.lock"
flock 9
if [ -f "$addon" ]; then echo "$addon"; exit 0; fi

found="$(cargo --version 2>/dev/null | awk '{print $2}' || true)"
if [ -z "$found" ] || [ "$(printf '%s\n%s\n' 1.80 "$found" | sort -V | head -1)" != 1.80 ]; then
  echo "zk-native.sh: building the addon needs cargo >= 1.80 on PATH (found: ${found:-none})" >&2
  exit 69
fi

started=$(date +%s)
echo "veridis: building the native Groth16 addon $version (first time for this source; cached afterwards)" >&2
rm -rf "$dir.partial" && mkdir -p "$dir.partial"
# The target directory stays between versions, so an edit to the crate recompiles the crate only.
(cd "$src" && CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" nice -n 19 cargo build --release --locked \
  --target-dir "$target") >&2
cp "$target/release/libveridis_zk_native.so" "$dir.partial/veridis_zk_native.node"
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "veridis: built the native Groth16 addon $version in $(( $(date +%s) - started )) s" >&2
echo "$addon"
