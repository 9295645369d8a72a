#!/usr/bin/env bash
# Builds Prometheus's blackbox_exporter, a peer tool in make bench-probe, from its Go module
# (hack/tools/blackbox_exporter/go.mod pins the release) into a cache under $HOME, once; prints
# the binary's path. Nothing is downloaded but Go modules.
#
#   hack/blackbox-exporter.sh build   build when missing; print the path
#   hack/blackbox-exporter.sh path    print the path (whether built or not)
set -euo pipefail
MOD=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools/blackbox_exporter" && pwd)
PKG=github.com/prometheus/blackbox_exporter
VERSION=$(awk -v pkg="$PKG" '($1 == "require" && $2 == pkg) { print $3; exit } $1 == pkg { print $2; exit }' "$MOD/go.mod")
[[ -n $VERSION ]] || { echo "blackbox-exporter.sh: no $PKG version in $MOD/go.mod" >&2; exit 1; }
CACHE=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}/blackbox_exporter-$VERSION
BIN=$CACHE/blackbox_exporter

case ${1:-build} in
path) echo "$BIN" ;;
build)
  if [[ ! -x $BIN ]]; then
    command -v go >/dev/null || { echo "blackbox-exporter.sh: Go is needed to build blackbox_exporter $VERSION" >&2; exit 1; }
    echo "blackbox-exporter.sh: building blackbox_exporter $VERSION into $CACHE (once)" >&2
    mkdir -p "$CACHE"
    (cd "$MOD" && GOTOOLCHAIN=local CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION#v}" \
      -o "$CACHE/blackbox_exporter.tmp" "$PKG")
    mv "$CACHE/blackbox_exporter.tmp" "$BIN"
  fi
  echo "$BIN"
  ;;
*) echo "usage: hack/blackbox-exporter.sh build|path" >&2; exit 2 ;;
esac
