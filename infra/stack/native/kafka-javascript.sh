#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript (librdkafka behind a KafkaJS-compatible API, under
# `.KafkaJS`) from the npm registry alone into
# ~/.cache/veridis/native/kafka-javascript-<version>-node-v<abi>/node_modules/@confluentinc/kafka-javascript,
# once per machine and Node ABI: about 5 minutes on two cores. It is not a project
# dependency (`npm ci` stays as it is); the bus producer with VERIDIS_KAFKA_TRANSPORT=librdkafka
# and `bench transport` load it by path from here, through core/bus/rdkafka.ts, which computes
# the same directory. The test run's setup runs this script (test/setup/global.ts).
#
# Offline-safe: the package's own install script would download a prebuilt binary from GitHub
# and, failing that, build librdkafka statically from sources it downloads (zlib, OpenSSL,
# zstd, curl). Both are avoided:
#   - librdkafka's sources ship inside the npm tarball (deps/librdkafka, the version named by
#     the "librdkafka" field of its package.json: 2.15.1 for 1.10.1); with CKJS_LINKING=dynamic
#     its util/configure.js runs librdkafka's ./configure without --install-deps, which links
#     Debian's -dev libraries (ssl, sasl2, zstd, lz4, zlib, curl) instead of fetching them;
#   - node-gyp takes the headers NodeSource's `nodejs` package installs in /usr/include/node
#     (--nodedir) instead of downloading them from nodejs.org.
# node-gyp runs without -j: with -j2 its make races gyp's configure action ("No rule to make
# target '../deps/librdkafka/config.h'"); librdkafka.gyp runs an unbounded `make -j` for
# librdkafka itself, so the whole build runs at the lowest CPU and I/O priority.
#
# The installed tree is kept (its runtime dependencies included, `bindings` finds
# build/Release/confluent-kafka-javascript.node, whose RUNPATH $ORIGIN/../deps reaches
# build/deps/librdkafka*.so.1), so require() works from any directory without LD_LIBRARY_PATH;
# librdkafka's sources and the objects are removed, the libraries stripped of debug info.
#
#   infra/stack/native/kafka-javascript.sh     prints the directory on success
#
# A second caller while a build runs waits for it.
set -euo pipefail
version="${KAFKA_JAVASCRIPT_VERSION:-1.10.1}"
cache="${VERIDIS_CACHE:-$HOME/.cache/veridis}/native"
abi="$(node -p process.versions.modules)" # 115 for Node 20
dir="$cache/kafka-javascript-$version-node-v$abi"
pkg_path=node_modules/@confluentinc/kafka-javascript
addon="$pkg_path/build/Release/confluent-kafka-javascript.node"
mkdir -p "$cache"
exec 9>"$cache/kafka-javascript.lock"
flock 9
if [ -f "$dir/$addon" ]; then echo "$dir"; exit 0; fi

debs="g++ make python3 pkg-config binutils zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev libcurl4-openssl-dev"
# shellcheck disable=SC2086
if ! dpkg -s $debs >/dev/null 2>&1; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $debs >&2
fi
nodedir="$(node -p "require('path').resolve(process.execPath, '../..')")" # /usr
if [ ! -f "$nodedir/include/node/node.h" ]; then
  echo "kafka-javascript.sh: no Node headers in $nodedir/include/node" >&2
  exit 69
fi
node_gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js" # npm's own node-gyp
if [ ! -f "$node_gyp" ]; then
  echo "kafka-javascript.sh: npm's node-gyp not found at $node_gyp" >&2
  exit 69
fi

started=$(date +%s)
echo "veridis: building @confluentinc/kafka-javascript $version (first time on this machine; cached afterwards)" >&2
rm -rf "$dir.partial" && mkdir -p "$dir.partial"
cd "$dir.partial"
echo '{"name":"veridis-kafka-javascript","private":true}' >package.json
npm pack --silent "@confluentinc/kafka-javascript@$version" >&2
# --ignore-scripts: its install script would go to GitHub first; node-gyp is run below instead.
npm install --ignore-scripts --no-audit --no-fund --silent "./confluentinc-kafka-javascript-$version.tgz" >&2
rm -f "confluentinc-kafka-javascript-$version.tgz"
pkg="$dir.partial/$pkg_path"
(cd "$pkg" && CKJS_LINKING=dynamic nice -n 19 ionice -c3 node "$node_gyp" rebuild --nodedir="$nodedir") >&2

# Keep what require() loads: the addon and the two libraries at the paths its RUNPATH names.
keep="$dir.partial/keep"
mkdir -p "$keep/Release" "$keep/deps"
cp "$pkg/build/Release/confluent-kafka-javascript.node" "$keep/Release/"
cp -L "$pkg/build/deps/librdkafka.so.1" "$pkg/build/deps/librdkafka++.so.1" "$keep/deps/"
strip --strip-debug "$keep/Release/"*.node "$keep/deps/"*.so.1
rm -rf "$pkg/build" "$pkg/deps" "$pkg/src"
mv "$keep" "$pkg/build"
# The check the bench makes: loads from elsewhere, without LD_LIBRARY_PATH.
(cd / && env -u LD_LIBRARY_PATH node -e "const k = require(process.argv[1]); if (!k.KafkaJS || !k.librdkafkaVersion) process.exit(1)" \
  "$pkg") >&2
rm -rf "$dir" && mv "$dir.partial" "$dir"
echo "veridis: built @confluentinc/kafka-javascript $version (librdkafka $(node -p "require('$dir/$pkg_path/package.json').librdkafka")) in $(($(date +%s) - started)) s" >&2
echo "$dir"
