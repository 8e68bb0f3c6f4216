#!/usr/bin/env bash
# Builds one of the project's Rust Node addons (napi, dependencies from crates.io) into
# ~/.cache/veridis/native/<name>-<hash>-<cpu>/<library>.node, once per machine and source:
# <hash> covers the crate's manifest, lock file and sources, so an edit builds anew and CI
# reuses the cache otherwise (core/native/rust-addon.ts computes the same hash to find it).
# Same pattern as build.sh: a lock per addon, a `.partial` directory moved into place,
# cargo `--locked`, lowest CPU priority, two jobs.
#
#   infra/stack/native/rust-addon.sh zk-native|evm-native        prints the addon's path
#   infra/stack/native/rust-addon.sh zk-native|evm-native test   runs the crate's Rust tests
#                                          (same flags and target directory, so the
#                                          dependencies are reused)
#
# zk-native: circuits/native, the Groth16 prover and batch verifier (arkworks).
# evm-native: producers/chains/evm/native, secp256k1 public-key recovery (libsecp256k1).
set -euo pipefail
name="${1:?usage: rust-addon.sh zk-native|evm-native [test]}"
root="$(cd "$(dirname "$0")/../../.." && pwd)"
case "$name" in
  zk-native) src="$root/circuits/native" library=veridis_zk_native what="native Groth16 addon" ;;
  evm-native) src="$root/producers/chains/evm/native" library=veridis_evm_native what="native secp256k1 addon" ;;
  *) echo "rust-addon.sh: unknown addon '$name'" >&2; exit 64 ;;
esac
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}/native"
version="$(cd "$src" && cat Cargo.toml Cargo.lock build.rs src/*.rs | sha256sum | cut -c1-12)"
# ark-ff's assembly field multiplication (the `asm` feature) is compiled in only when the
# target has bmi2 and adx; without them it silently falls back to portable Rust (proofs
# 7-12 % slower here). Enabled when this machine's CPU has both, and named in the directory, so a build never
# runs on a CPU it was not made for (core/native/rust-addon.ts picks the same name).
variant=portable
if grep -qw bmi2 /proc/cpuinfo 2>/dev/null && grep -qw adx /proc/cpuinfo 2>/dev/null; then
  variant=adx
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C target-feature=+bmi2,+adx"
fi
dir="$cache/$name-$version-$variant"
target="$cache/$name-target-$variant"

if [ "${2:-}" = test ]; then
  cd "$src" && exec env CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" nice -n 19 \
    cargo test --release --locked --target-dir "$target"
fi
addon="$dir/$library.node"
mkdir -p "$cache"
exec 9>"$cache/$name.lock"
flock 9
if [ -f "$addon" ]; then echo "$addon"; exit 0; fi

found="$(cargo --version 2>/dev/null | awk '{print $2}' || true)"
if [ -z "$found" ] || [ "$(printf '%s\n%s\n' 1.80 "$found" | sort -V | head -1)" != 1.80 ]; then
  echo "rust-addon.sh: building the $what needs cargo >= 1.80 on PATH (found: ${found:-none})" >&2
  exit 69
fi

started=$(date +%s)
echo "veridis: building the $what $version (first time for this source; cached afterwards)" >&2
rm -rf "$dir.partial" && mkdir -p "$dir.partial"
# The target directory stays between versions, so an edit to the crate recompiles the crate only.
(cd "$src" && CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" nice -n 19 cargo build --release --locked \
  --target-dir "$target") >&2
cp "$target/release/lib$library.so" "$dir.partial/$library.node"
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "veridis: built the $what $version in $(( $(date +%s) - started )) s" >&2
echo "$addon"
