#!/usr/bin/env bash
# Builds and locates a local Kubernetes control plane (kube-apiserver,
# kube-controller-manager, kube-scheduler, etcd and, when the machine's own is
# missing or too far off, kubectl) and the kubelet for real nodes
# (hack/real-node.sh) from source, through the Go modules under
# hack/controlplane/. Nothing is downloaded but Go modules.
#
#   hack/control-plane.sh build     build what is missing from the cache; no-op
#                                   when it is filled (a cache from before the
#                                   kubelet was added only gets the kubelet)
#   hack/control-plane.sh bin-dir   print the cache's bin directory
#   hack/control-plane.sh versions  print the pinned versions (and kubectl's)
#   hack/control-plane.sh smoke     start etcd + apiserver + controller-manager
#                                   + scheduler on free loopback ports, check
#                                   them, stop them (runs `build` first)
#
# Environment:
#   SMTP_REACH_BUILD_JOBS=N     build with GOMAXPROCS=N and GOFLAGS=-p=N
#                               (default: the go command's own, all cores)
#   SMTP_REACH_CACHE_DIR=DIR    cache root (default ~/.cache/smtp-reach)
#   SMTP_REACH_KUBERNETES=oldest the oldest Kubernetes the chart claims
#                               (hack/controlplane/k8s-oldest): its apiserver,
#                               controller-manager and scheduler; etcd and
#                               kubectl linked from the main build; no kubelet
#   SMTP_REACH_SYSTEM_KUBECTL=P kubectl to consider before building one
#                               (default: kubectl on PATH, else /usr/bin/kubectl)
#   SMTP_REACH_KEEP=1           smoke: keep the temp dir (certs, logs)
#
# Versions come from hack/controlplane/{k8s,etcd}/go.mod, the only place they
# are pinned; see hack/controlplane/NOTES.md.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CP_DIR=$HACK_DIR/controlplane
case ${SMTP_REACH_KUBERNETES:-} in
'' | newest) OLDEST= K8S_MOD=$CP_DIR/k8s ;;
oldest) OLDEST=1 K8S_MOD=$CP_DIR/k8s-oldest ;;
*)
  printf 'control-plane: SMTP_REACH_KUBERNETES must be newest or oldest, not %s\n' "$SMTP_REACH_KUBERNETES" >&2
  exit 2
  ;;
esac
ETCD_MOD=$CP_DIR/etcd

log() { printf 'control-plane: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# modver GOMOD MODULE: the version MODULE is required at in GOMOD (plain text
# parse, so the no-op path never starts the go command).
modver() {
  awk -v m="$2" '
    $1 == "require" && $2 == m { print $3; exit }
    $1 == m && $2 ~ /^v[0-9]/  { print $2; exit }
  ' "$1"
}

K8S_VERSION=$(modver "$K8S_MOD/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(modver "$ETCD_MOD/go.mod" go.etcd.io/etcd/server/v3)
[[ -n $K8S_VERSION && -n $ETCD_VERSION ]] || die "cannot read pinned versions from $CP_DIR/*/go.mod"
K8S_MINOR=${K8S_VERSION#v1.}
K8S_MINOR=${K8S_MINOR%%.*}

CACHE_ROOT=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}
CACHE_DIR=$CACHE_ROOT/k8s-$K8S_VERSION-etcd-$ETCD_VERSION
BIN_DIR=$CACHE_DIR/bin
CORE_BINS=(kube-apiserver kube-controller-manager kube-scheduler etcd)
NODE_BINS=(kubelet) # same module and cache dir; real nodes only
[[ -n $OLDEST ]] && NODE_BINS=() # the oldest runs on process nodes only

have_all() {
  local b
  for b in "${CORE_BINS[@]}" "${NODE_BINS[@]}" kubectl; do
    [[ -x $BIN_DIR/$b ]] || return 1
  done
}

# The kubectl to try before building one: an explicit one, else the first on
# PATH that is not ours, else /usr/bin/kubectl.
system_kubectl() {
  local k=${SMTP_REACH_SYSTEM_KUBECTL:-}
  if [[ -z $k ]]; then
    k=$(command -v kubectl || true)
    [[ -z $k || $k == "$CACHE_ROOT"/* ]] && k=/usr/bin/kubectl
  fi
  printf '%s\n' "$k"
}

# kubectl_minor PATH: the client's minor version number ("32+" -> 32), or nothing.
kubectl_minor() {
  [[ -x $1 ]] || return 0
  "$1" version --client -o json 2>/dev/null |
    sed -n 's/.*"minor": *"\([0-9][0-9]*\).*/\1/p' | head -n 1
}

# Usable when within the supported client/server skew: one minor either way.
kubectl_ok() {
  local minor
  minor=$(kubectl_minor "$1")
  [[ -n $minor ]] && ((minor >= K8S_MINOR - 1 && minor <= K8S_MINOR + 1))
}

go_env() {
  export GOTOOLCHAIN=local # never download a toolchain; go.mod pins the machine's
  export CGO_ENABLED=0     # upstream builds these binaries static, too
  local jobs=${SMTP_REACH_BUILD_JOBS:-}
  if [[ -n $jobs ]]; then
    [[ $jobs =~ ^[1-9][0-9]*$ ]] || die "SMTP_REACH_BUILD_JOBS must be a positive integer, not '$jobs'"
    export GOMAXPROCS=$jobs
    export GOFLAGS="${GOFLAGS:+$GOFLAGS }-p=$jobs"
  fi
  command -v go >/dev/null || die "go is not on PATH"
}

# gobuild MODDIR OUTDIR LDFLAGS PKG...: one go build for several main packages
# (shared work, parallel links), low CPU priority, binaries named after the
# packages' last path element.
gobuild() {
  local dir=$1 out=$2 ldflags=$3
  shift 3
  (cd "$dir" && nice -n 19 go build -trimpath -buildvcs=false -ldflags="$ldflags" -o "$out/" "$@")
}

k8s_ldflags() {
  local info date="" flags="-s -w" pkg kv key val
  info="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.info"
  [[ -f $info ]] && date=$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info")
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for kv in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$K8S_MINOR" ${date:+"buildDate=$date"}; do
      key=${kv%%=*} val=${kv#*=}
      flags+=" -X $pkg.$key=$val"
    done
  done
  printf '%s\n' "$flags"
}

# The oldest control plane shares the main build's etcd (an etcd newer than a
# release's own is supported) and kubectl: build that first, then link them.
link_from_newest() {
  local newest b
  SMTP_REACH_KUBERNETES=newest "${BASH_SOURCE[0]}" build
  newest=$(SMTP_REACH_KUBERNETES=newest "${BASH_SOURCE[0]}" bin-dir)
  for b in etcd kubectl; do
    [[ -x $BIN_DIR/$b ]] || ln -sfn "$(readlink -f "$newest/$b")" "$BIN_DIR/$b"
  done
}

cmd_build() {
  if have_all; then
    return 0
  fi
  mkdir -p "$BIN_DIR"
  # One build per cache directory at a time: make test builds the oldest control plane in the
  # background while the unit tests run, and its test may ask for it before that build is done.
  exec 9>"$CACHE_DIR/.build.lock"
  flock 9
  if have_all; then
    return 0
  fi
  go_env
  if [[ -n $OLDEST ]]; then link_from_newest; fi
  local tmp
  tmp=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT

  local k8s_pkgs=() b
  for b in kube-apiserver kube-controller-manager kube-scheduler "${NODE_BINS[@]}"; do
    [[ -x $BIN_DIR/$b ]] || k8s_pkgs+=("k8s.io/kubernetes/cmd/$b")
  done
  if [[ ! -x $BIN_DIR/kubectl ]]; then
    local sys
    sys=$(system_kubectl)
    if kubectl_ok "$sys"; then
      log "using $sys (client minor $(kubectl_minor "$sys"), within one of $K8S_VERSION)"
      ln -sfn "$sys" "$BIN_DIR/kubectl"
    else
      log "$sys is missing or not within one minor of $K8S_VERSION: building kubectl"
      rm -f "$BIN_DIR/kubectl"
      k8s_pkgs+=(k8s.io/kubernetes/cmd/kubectl)
    fi
  fi

  local start=$SECONDS
  if ((${#k8s_pkgs[@]})); then
    log "building kubernetes $K8S_VERSION: ${k8s_pkgs[*]##*/}"
    gobuild "$K8S_MOD" "$tmp" "$(k8s_ldflags)" "${k8s_pkgs[@]}"
  fi
  if [[ ! -x $BIN_DIR/etcd ]]; then
    log "building etcd $ETCD_VERSION"
    gobuild "$ETCD_MOD" "$tmp" "-s -w" ./cmd/etcd
  fi
  # Move into place only after every build succeeded; a mv within one
  # filesystem is atomic, so a cancelled build never leaves a half binary.
  for b in "$tmp"/*; do
    [[ -e $b ]] && mv -f "$b" "$BIN_DIR/"
  done
  have_all || die "build finished but $BIN_DIR is incomplete"
  log "built into $BIN_DIR in $((SECONDS - start))s"
}

cmd_versions() {
  local sys minor
  printf 'kubernetes %s\n' "$K8S_VERSION"
  printf 'etcd %s\n' "$ETCD_VERSION"
  printf 'go %s\n' "$(awk '$1 == "toolchain" { print $2; exit }' "$K8S_MOD/go.mod")"
  if [[ -L $BIN_DIR/kubectl ]]; then
    printf 'kubectl %s (system, client minor %s)\n' "$(readlink "$BIN_DIR/kubectl")" "$(kubectl_minor "$BIN_DIR/kubectl")"
  elif [[ -x $BIN_DIR/kubectl ]]; then
    printf 'kubectl %s (built)\n' "$BIN_DIR/kubectl"
  else
    sys=$(system_kubectl)
    minor=$(kubectl_minor "$sys")
    if kubectl_ok "$sys"; then
      printf 'kubectl %s (system, client minor %s; not yet linked: run build)\n' "$sys" "$minor"
    else
      if [[ -n $minor ]]; then
        printf 'kubectl to be built (%s is client minor %s, not within one of %s)\n' "$sys" "$minor" "$K8S_MINOR"
      else
        printf 'kubectl to be built (%s missing or unreadable)\n' "$sys"
      fi
    fi
  fi
  printf 'bin-dir %s\n' "$BIN_DIR"
}

cmd_smoke() {
  cmd_build
  # Only BIN_DIR goes in: etcd reads every ETCD_* environment variable as a
  # flag (an exported ETCD_VERSION makes it warn "cannot set special
  # environment variable"), so nothing named like that is exported.
  BIN_DIR=$BIN_DIR bash "$CP_DIR/smoke.sh"
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

case ${1:-} in
build) cmd_build ;;
bin-dir) printf '%s\n' "$BIN_DIR" ;;
versions) cmd_versions ;;
smoke) cmd_smoke ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
