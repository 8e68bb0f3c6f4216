#!/usr/bin/env bash
# The Sierra → CASM compiler for the Cairo contracts: `starknet-sierra-compile` 2.12.0-dev.0,
# the binary StarkWare ships inside the PyPI package `cairo-lang` 0.14.0.1 (no other source
# of it can be reached offline, and building it from crates.io takes most of an hour on two
# cores). Fetched with pip once per machine into ~/.cache/veridis/cairo-lang-0.14.0.1/ and
# reused. Prints the binary's path. Concurrent callers wait for one download (flock).
set -euo pipefail
version=0.14.0.1
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}"
dir="$cache/cairo-lang-$version"
bin="$dir/starknet-sierra-compile"
mkdir -p "$cache"
exec 9>"$cache/cairo-lang.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download "cairo-lang==$version" --no-deps --no-binary :all: -d "$work" -q >&2
archive="$(ls "$work"/cairo-lang-"$version".*)"
member="cairo-lang-$version/starkware/starknet/compiler/v1/sierra-compiler-major-1/bin/starknet-sierra-compile"
mkdir -p "$dir.partial"
python3 - "$archive" "$member" "$dir.partial/starknet-sierra-compile" <<'PY'
import sys, zipfile, shutil
archive, member, target = sys.argv[1:]
with zipfile.ZipFile(archive) as z, z.open(member) as src, open(target, 'wb') as dst:
    shutil.copyfileobj(src, dst)
PY
chmod 755 "$dir.partial/starknet-sierra-compile"
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "$bin"
