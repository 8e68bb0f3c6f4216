#!/usr/bin/env bash
# Builds the Veridis CosmWasm registry (contracts/cosmos/src/lib.rs) offline into
# contracts/cosmos/artifacts/veridis_registry.wasm and manifest.json (committed: deploying
# needs no compiler).
#
# The only wasm32 Rust here is Debian bookworm's: `apt-get install rustc cargo
# libstd-rust-dev-wasm32` (rustc 1.63 with the wasm32-unknown-unknown standard library).
# Cargo.lock pins every crate to a version rustc 1.63 compiles (cosmwasm-std 1.1.9, serde
# 1.0.193, resolved with a newer cargo's rust-version-aware resolver: `rust-version = "1.63"`
# in Cargo.toml). Debian's cargo 0.66 cannot read crates.io's sparse index, so a newer cargo
# (rustup's) vendors the locked crates once into ~/.cache/veridis/cosmwasm-vendor, and
# Debian's cargo builds from there with --locked --offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}/cosmwasm-vendor"
rustc=/usr/bin/rustc
debian_cargo=/usr/bin/cargo
if ! [ -x "$rustc" ] || ! "$rustc" --version | grep -q '^rustc 1\.63\.'; then
  echo "contracts/cosmos/build.sh: needs Debian's rustc 1.63: apt-get install rustc cargo libstd-rust-dev-wasm32" >&2
  exit 69
fi
if ! [ -d /usr/lib/rustlib/wasm32-unknown-unknown ]; then
  echo "contracts/cosmos/build.sh: no wasm32 standard library: apt-get install libstd-rust-dev-wasm32" >&2
  exit 69
fi
mkdir -p "$cache/home"
if ! [ -f "$cache/vendor.lock-hash" ] || [ "$(sha256sum < "$here/Cargo.lock")" != "$(cat "$cache/vendor.lock-hash")" ]; then
  rm -rf "$cache/vendor"
  (cd "$here" && cargo vendor --locked "$cache/vendor" > "$cache/home/config.toml")
  sha256sum < "$here/Cargo.lock" > "$cache/vendor.lock-hash"
fi
(cd "$here" && RUSTC="$rustc" RUSTDOC=/usr/bin/rustdoc CARGO_HOME="$cache/home" CARGO_TARGET_DIR="$cache/target" \
  "$debian_cargo" build --release --locked --offline --target wasm32-unknown-unknown --lib 2>&1 | grep -v 'rustc-check-cfg' >&2)
mkdir -p "$here/artifacts"
cp "$cache/target/wasm32-unknown-unknown/release/veridis_registry.wasm" "$here/artifacts/veridis_registry.wasm"
inputs="$(cd "$here" && cat Cargo.toml Cargo.lock src/lib.rs | sha256sum | cut -d' ' -f1)"
wasm="$(sha256sum < "$here/artifacts/veridis_registry.wasm" | cut -d' ' -f1)"
cat > "$here/artifacts/manifest.json" <<JSON
{
  "compiler": "$("$rustc" --version)",
  "inputHash": "$inputs",
  "inputs": ["Cargo.toml", "Cargo.lock", "src/lib.rs"],
  "wasm": "veridis_registry.wasm",
  "wasmSha256": "$wasm"
}
JSON
echo "$here/artifacts/veridis_registry.wasm"
