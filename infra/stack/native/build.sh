#!/usr/bin/env bash
# Builds one pinned chain node from its registry (crates.io or the Go module proxy) into
# ~/.cache/veridis/native/<name>-<version>/, once per machine: these builds take 6–35 minutes
# on two cores, so a finished build is reused by every later `up` and CI run. Runs at the
# lowest CPU priority so it can build in the background while the stack and tests run.
#
#   infra/stack/native/build.sh starknet-devnet|wasmd|solana-test-validator|compose-check|kubeconform|k8s-openapi|jaeger
#
# compose-check (infra/compose-check: compose-go's loader) and kubeconform are the manifest
# validators `npm test` runs (test/ops/); they build in about 20 s each.
#
# Prints the binary's path on success. A second caller while a build runs waits for it.
set -euo pipefail
name="${1:?usage: build.sh starknet-devnet|wasmd|solana-test-validator|compose-check|kubeconform|k8s-openapi|jaeger}"
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}/native"

case "$name" in
  starknet-devnet) version=0.10.1 ;;
  wasmd) version=v0.70.3 ;;
  solana-test-validator) version=3.1.12 ;;
  # compose-go is pinned in infra/compose-check/go.mod; a change to the wrapper builds anew.
  compose-check)
    src="$(dirname "$0")/../../compose-check"
    version="compose-go-v2.16.2-$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
    ;;
  kubeconform) version=v0.8.0 ;;
  # The API server's own OpenAPI document (api/openapi-spec/swagger.json of the kubernetes
  # module, the one kube-apiserver serves): the schemas kubeconform checks against.
  k8s-openapi) version=v1.32.4 ;;
  # Jaeger v2 (an OpenTelemetry Collector distribution: OTLP in, in-memory store, query API).
  jaeger) version=v1.76.0 ;;
  *) echo "build.sh: unknown node '$name'" >&2; exit 64 ;;
esac
dir="$cache/$name-$version"
bin="$dir/bin/$name"
[ "$name" = k8s-openapi ] && bin="$dir/swagger.json"
mkdir -p "$cache"
exec 9>"$cache/$name.lock"
flock 9
if [ -f "$bin" ]; then echo "$bin"; exit 0; fi

# The toolchains come with the machine (rustup's stable Rust, Go from its own distribution):
# Debian's are too old for these modules. Go from 1.21 on fetches the release a module asks
# for from the module proxy by itself (GOTOOLCHAIN=auto); Rust has no such way offline.
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
require_toolchain() {
  local tool="$1" minimum="$2" found
  case "$tool" in
    cargo) found="$(cargo --version 2>/dev/null | awk '{print $2}' || true)" ;;
    go) found="$(go env GOVERSION 2>/dev/null | sed 's/^go//' || true)" ;;
  esac
  if [ -z "$found" ] || ! version_at_least "$found" "$minimum"; then
    echo "build.sh: building $name needs $tool >= $minimum on PATH (found: ${found:-none})" >&2
    exit 69
  fi
}
case "$name" in
  starknet-devnet | solana-test-validator) require_toolchain cargo 1.86 ;;
  *) require_toolchain go 1.21 ;;
esac

started=$(date +%s)
echo "veridis: building $name $version (first time on this machine; cached afterwards)" >&2
rm -rf "$dir.partial" && mkdir -p "$dir.partial"
case "$name" in
  starknet-devnet)
    nice -n 19 cargo install starknet-devnet --version "$version" --locked --root "$dir.partial" \
      --target-dir "$cache/cargo-target" >&2
    ;;
  solana-test-validator)
    if ! dpkg -s clang libclang-dev protobuf-compiler libudev-dev pkg-config libssl-dev >/dev/null 2>&1; then
      apt-get update -qq >&2 && apt-get install -y -qq clang libclang-dev llvm protobuf-compiler libudev-dev pkg-config libssl-dev >&2
    fi
    nice -n 19 cargo install agave-validator --version "$version" --locked --bin solana-test-validator \
      --root "$dir.partial" --target-dir "$cache/cargo-target" >&2
    ;;
  compose-check)
    export GOMODCACHE="$cache/gomod" GOFLAGS=-modcacherw
    mkdir -p "$dir.partial/bin"
    (cd "$src" && nice -n 15 go build -buildvcs=false -o "$dir.partial/bin/compose-check" .) >&2
    ;;
  kubeconform)
    export GOMODCACHE="$cache/gomod" GOFLAGS=-modcacherw
    GOBIN="$dir.partial/bin" nice -n 15 go install "github.com/yannh/kubeconform/cmd/kubeconform@$version" >&2
    ;;
  jaeger)
    # Its go.mod has replace directives, so `go install pkg@version` refuses it: build inside
    # the downloaded module, where they apply (as for wasmd).
    export GOMODCACHE="$cache/gomod" GOFLAGS=-modcacherw
    go mod download "github.com/jaegertracing/jaeger@$version" >&2
    module="$(GOMODCACHE="$GOMODCACHE" go env GOMODCACHE)/github.com/jaegertracing/jaeger@$version"
    mkdir -p "$dir.partial/bin"
    (cd "$module" && nice -n 19 go build -buildvcs=false -o "$dir.partial/bin/jaeger" ./cmd/jaeger) >&2
    ;;
  k8s-openapi)
    export GOMODCACHE="$cache/gomod" GOFLAGS=-modcacherw
    module="$(cd "$cache" && go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
    cp "$module/api/openapi-spec/swagger.json" "$dir.partial/swagger.json"
    ;;
  wasmd)
    export GOMODCACHE="$cache/gomod" GOFLAGS=-modcacherw
    go mod download "github.com/CosmWasm/wasmd@$version" >&2
    module="$(GOMODCACHE="$GOMODCACHE" go env GOMODCACHE)/github.com/!cosm!wasm/wasmd@$version"
    mkdir -p "$dir.partial/bin"
    (cd "$module" && nice -n 19 go build -buildvcs=false -o "$dir.partial/bin/wasmd" ./cmd/wasmd) >&2
    ;;
esac
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "veridis: built $name $version in $(( $(date +%s) - started )) s" >&2
echo "$bin"
