#!/usr/bin/env bash
# Builds Helm from its Go module (hack/tools/helm/go.mod pins the version) into a cache under
# $HOME, once; prints the binary's path. Nothing is downloaded but Go modules.
#
#   hack/helm.sh build   build when missing; print the path
#   hack/helm.sh path    print the path (whether built or not)
set -euo pipefail
MOD=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools/helm" && pwd)
VERSION=$(awk '($1 == "require" && $2 == "helm.sh/helm/v3") { print $3; exit } $1 == "helm.sh/helm/v3" { print $2; exit }' "$MOD/go.mod")
[[ -n $VERSION ]] || { echo "helm.sh: no helm.sh/helm/v3 version in $MOD/go.mod" >&2; exit 1; }
# The Kubernetes version Helm assumes without a cluster (helm template, lint): its client-go's.
K8S_MINOR=$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$MOD/go.mod")
CACHE=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}/helm-$VERSION-k8s1.$K8S_MINOR
BIN=$CACHE/helm

case ${1:-build} in
path) echo "$BIN" ;;
build)
  if [[ ! -x $BIN ]]; then
    mkdir -p "$CACHE"
    # One build per cache at a time: make test builds this in the background while the tests run,
    # and a test that needs it waits here for that build.
    exec 9>"$CACHE/.build.lock"
    flock 9
  fi
  if [[ ! -x $BIN ]]; then
    command -v go >/dev/null || { echo "helm.sh: Go is needed to build Helm $VERSION" >&2; exit 1; }
    echo "helm.sh: building Helm $VERSION into $CACHE (once)" >&2
    mkdir -p "$CACHE"
    (cd "$MOD" && GOTOOLCHAIN=local CGO_ENABLED=0 nice -n 19 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$VERSION \
        -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR \
        -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR" \
      -o "$CACHE/helm.tmp" helm.sh/helm/v3/cmd/helm)
    mv "$CACHE/helm.tmp" "$BIN"
  fi
  echo "$BIN"
  ;;
*) echo "usage: hack/helm.sh build|path" >&2; exit 2 ;;
esac
