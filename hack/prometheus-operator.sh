#!/usr/bin/env bash
# Builds prometheus-operator from its Go module (hack/tools/prometheus-operator/go.mod pins the
# version) into a cache under $HOME, once; prints the binary's path. Its CRDs come from the same
# module (example/prometheus-operator-crd). Nothing is downloaded but Go modules.
#
#   hack/prometheus-operator.sh build   build when missing; print the binary's path
#   hack/prometheus-operator.sh path    print the binary's path (whether built or not)
#   hack/prometheus-operator.sh crds    print the directory of the module's CRD manifests
set -euo pipefail
MOD=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools/prometheus-operator" && pwd)
PKG=github.com/prometheus-operator/prometheus-operator
VERSION=$(awk -v p="$PKG" '$1 == p { print $2; exit }' "$MOD/go.mod")
[[ -n $VERSION ]] || { echo "prometheus-operator.sh: no $PKG version in $MOD/go.mod" >&2; exit 1; }
CACHE=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}/prometheus-operator-$VERSION
BIN=$CACHE/prometheus-operator

case ${1:-build} in
path) echo "$BIN" ;;
crds)
  dir=$(cd "$MOD" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "$PKG")
  echo "$dir/example/prometheus-operator-crd"
  ;;
build)
  if [[ ! -x $BIN ]]; then
    mkdir -p "$CACHE"
    # One build per cache at a time: make test builds this in the background while the tests run,
    # and a test that needs it waits here for that build.
    exec 9>"$CACHE/.build.lock"
    flock 9
  fi
  if [[ ! -x $BIN ]]; then
    command -v go >/dev/null || { echo "prometheus-operator.sh: Go is needed to build prometheus-operator $VERSION" >&2; exit 1; }
    echo "prometheus-operator.sh: building prometheus-operator $VERSION into $CACHE (once)" >&2
    mkdir -p "$CACHE"
    (cd "$MOD" && GOTOOLCHAIN=local CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${VERSION#v}" \
      -o "$CACHE/prometheus-operator.tmp" "$PKG/cmd/operator")
    mv "$CACHE/prometheus-operator.tmp" "$BIN"
  fi
  echo "$BIN"
  ;;
*) echo "usage: hack/prometheus-operator.sh build|path|crds" >&2; exit 2 ;;
esac
