#!/usr/bin/env bash
# make image: builds the project's container image from src/main/docker/Dockerfile where no
# registry can be reached, saves it as target/image/smtp-reach-VERSION.tar (a `docker save`
# archive, which `ctr -n k8s.io images import` takes as it is) and runs it to prove it works.
#
#   hack/image.sh build   all of make image; needs target/quarkus-app (make build)
#   hack/image.sh base    only the base tarball (made once, then cached); prints its path
#   hack/image.sh check   run the checks make image runs on target/image/smtp-reach-VERSION.tar
#   hack/image.sh paths   print the base tarball, the archive and the tag this checkout makes
#   hack/image.sh docker ARGS...   one docker command against the engine, started for it
#                                  (e.g. `hack/image.sh docker images`)
#
# The base: Debian SUITE (bookworm) made from packages, `debootstrap --variant=minbase` plus
# openjdk-17-jre-headless and ca-certificates, from the mirror apt uses on this machine, with
# apt's caches emptied, tarred to ~/.cache/smtp-reach/image/base-SUITE-HASH.tar (HASH: of suite,
# variant, architecture and package list) and imported as the image smtp-reach-base:SUITE-HASH.
# A second run finds both and does not run debootstrap again. Users with a registry build on the
# public Temurin JRE instead, the Dockerfile's default BASE_IMAGE (README, "The image").
#
# The engine: Debian's docker.io. Its dockerd (and the containerd it starts) runs only for the
# build, with its own data root, exec root, pid file and socket under
# ~/.cache/smtp-reach/image/engine, and --iptables=false --bridge=none --ip-forward=false
# --ip-masq=false: no iptables rule, no docker0, no sysctl. The build runs with BuildKit (COPY
# --chmod needs it; Debian's docker client 20.10 has it built in, no buildx plugin needed) and
# `--network none`; every check container too, and none may pull.
#
# What it changes on the host:
#   - installs debootstrap and docker.io with their dependencies (containerd, runc, tini) when
#     missing; a policy-rc.d is in place during the install so that no docker service starts;
#   - writes ~/.cache/smtp-reach/image/ (base tarballs; the engine's images and build cache) and
#     target/image/;
#   - while making a base: a chroot under ~/.cache/smtp-reach/image/ in which debootstrap mounts
#     /proc and /sys; on any exit whatever is still mounted under it is unmounted, findmnt must
#     show nothing under it, and only then is it removed;
#   - while it runs: dockerd and containerd, stopped on any exit; containerd's shims put their
#     sockets in /run/containerd/s/ (a path containerd 1.6 fixes). net.ipv4.ip_forward and
#     `iptables -S` are compared before and after; an ip_forward the engine changed is restored.
#
# Environment:
#   SMTP_REACH_CACHE_DIR       cache root (default ~/.cache/smtp-reach)
#   SMTP_REACH_DEBIAN_MIRROR   mirror for the base (default: the one apt's sources name for SUITE)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}/image
ENGINE=$CACHE/engine
SOCK=$ENGINE/run/docker.sock
DOCKER=/usr/bin/docker # Debian's client: BuildKit built in; another docker first on PATH may lack buildx

SUITE=bookworm
VARIANT=minbase
ARCH=$(dpkg --print-architecture)
BASE_PACKAGES=(openjdk-17-jre-headless ca-certificates)
BASE_KEY=$(printf '%s\n' "$SUITE" "$VARIANT" "$ARCH" "${BASE_PACKAGES[@]}" | sha256sum | cut -c1-12)
BASE_TAR=$CACHE/base-$SUITE-$BASE_KEY.tar
BASE_IMAGE=smtp-reach-base:$SUITE-$BASE_KEY

# The image's version: the pom's without -SNAPSHOT, which must be the chart's appVersion, the tag
# the chart and the operator's default probe image name (ghcr.io/smtp-reach/smtp-reach:0.1.0).
POM_VERSION=$(sed -n '/<artifactId>smtp-reach<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;q}' "$ROOT/pom.xml")
VERSION=${POM_VERSION%-SNAPSHOT}
APP_VERSION=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$ROOT/helm/smtp-reach/Chart.yaml")
TAG=ghcr.io/smtp-reach/smtp-reach:$VERSION
ARCHIVE=$ROOT/target/image/smtp-reach-$VERSION.tar

mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; } # as docker prints sizes
log() { printf 'image: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Cleanup steps run last-registered first, on any exit; one that fails fails the run.
CLEANUPS=()
on_exit() { CLEANUPS=("$1" "${CLEANUPS[@]}"); }
run_cleanups() {
  local rc=$? c
  for c in "${CLEANUPS[@]}"; do
    "$c" || rc=1
  done
  exit "$rc"
}
trap run_cleanups EXIT
trap 'exit 130' INT TERM

# ---- packages ----------------------------------------------------------------------------------

POLICY_RC=/usr/sbin/policy-rc.d
remove_policy_rc() { rm -f "$POLICY_RC"; }

install_packages() {
  local missing=() p
  for p in debootstrap docker.io; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  # docker.io's postinst would start the system's dockerd (its bridge, iptables rules); with a
  # policy-rc.d that says 101 no service starts. One already there is left as it is.
  if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\n# hack/image.sh: no service starts during its install\nexit 101\n' >"$POLICY_RC"
    chmod 0755 "$POLICY_RC"
    on_exit remove_policy_rc
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# ---- the base ----------------------------------------------------------------------------------

# The first URI apt's sources name for SUITE itself (not SUITE-security or -updates) with main:
# one-line sources.list entries and deb822 .sources stanzas alike.
debian_mirror() {
  if [[ -n ${SMTP_REACH_DEBIAN_MIRROR:-} ]]; then
    echo "$SMTP_REACH_DEBIAN_MIRROR"
    return
  fi
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk -v s="$SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while (i <= NF && $i !~ /\]$/) i++;
      if ($2 ~ /^\[/) i++; if ($(i + 1) == s) for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk -v s="$SUITE" '
      function flush() { if (deb && on && main && suite && uris != "") { split(uris, u, " "); print u[1]; found = 1 }
                         deb = 0; on = 1; main = 0; suite = 0; uris = "" }
      BEGIN { on = 1 }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      /^[ \t]*#/ { next }
      { key = tolower($1); sub(/:$/, "", key); $1 = "" }
      key == "types" { deb = ($0 ~ /(^| )deb( |$)/) }
      key == "uris" { uris = $0; sub(/^ +/, "", uris) }
      key == "enabled" { on = ($0 !~ /no/) }
      key == "suites" { for (i = 2; i <= NF; i++) if ($i == s) suite = 1 }
      key == "components" { for (i = 2; i <= NF; i++) if ($i == "main") main = 1 }
      END { if (!found) flush() }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  die "no Debian mirror for $SUITE in apt's sources; set SMTP_REACH_DEBIAN_MIRROR"
}

CHROOT=
mounts_under() { findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r; }
release_chroot() {
  [[ -n $CHROOT && -d $CHROOT ]] || return 0
  local m
  for m in $(mounts_under "$CHROOT"); do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  if [[ -n $(mounts_under "$CHROOT") ]]; then
    log "error: still mounted under $CHROOT, left in place:"
    mounts_under "$CHROOT" >&2
    return 1
  fi
  rm -rf --one-file-system "$CHROOT"
}

cmd_base() {
  if [[ -f $BASE_TAR ]]; then
    echo "$BASE_TAR"
    return
  fi
  [[ $(id -u) -eq 0 ]] || die "making the base needs root (debootstrap, chroot)"
  install_packages
  local mirror start=$SECONDS
  mirror=$(debian_mirror)
  mkdir -p "$CACHE"
  CHROOT=$(mktemp -d "$CACHE/.chroot.XXXXXX")
  on_exit release_chroot
  log "base: debootstrap --variant=$VARIANT $SUITE + ${BASE_PACKAGES[*]} from $mirror (once)"
  local pkgs
  pkgs=$(IFS=,; echo "${BASE_PACKAGES[*]}")
  nice -n 10 debootstrap --variant="$VARIANT" --arch="$ARCH" --include="$pkgs" \
    "$SUITE" "$CHROOT" "$mirror" >"$CACHE/debootstrap.log" 2>&1 || {
    cat "$CHROOT/debootstrap/debootstrap.log" >>"$CACHE/debootstrap.log" 2>/dev/null || true
    die "debootstrap failed; its log: $CACHE/debootstrap.log"
  }
  # debootstrap unmounts /proc and /sys itself; whatever it left is released now, and nothing
  # under the chroot may be mounted while it is tarred.
  local m
  for m in $(mounts_under "$CHROOT"); do umount "$m"; done
  [[ -z $(mounts_under "$CHROOT") ]] || die "still mounted under $CHROOT: $(mounts_under "$CHROOT" | tr '\n' ' ')"
  # What apt and debootstrap leave that an image does not need: package caches and lists, device
  # nodes (the engine gives each container its /dev), logs.
  rm -rf "${CHROOT:?}"/var/cache/apt/archives/*.deb "$CHROOT"/var/cache/apt/*.bin \
    "$CHROOT"/var/lib/apt/lists/* "$CHROOT"/debootstrap "$CHROOT"/dev/* \
    "$CHROOT"/var/log/*.log "$CHROOT"/var/cache/debconf/*-old "$CHROOT"/var/lib/dpkg/*-old
  mkdir -p "$CHROOT"/var/lib/apt/lists/partial
  chroot "$CHROOT" getent passwd root >/dev/null && [[ -x $CHROOT/usr/sbin/useradd && -x $CHROOT/usr/sbin/groupadd ]] ||
    die "the base lacks useradd/groupadd, which the Dockerfile runs"
  [[ -x $(readlink -f "$CHROOT/usr/bin/java" 2>/dev/null || echo /nonexistent) || -x $CHROOT/usr/lib/jvm/java-17-openjdk-$ARCH/bin/java ]] ||
    die "the base has no java"
  tar --numeric-owner --xattrs --one-file-system -C "$CHROOT" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  release_chroot
  log "base: $BASE_TAR, $(mb "$(stat -c %s "$BASE_TAR")"), in $((SECONDS - start)) s"
  echo "$BASE_TAR"
}

# ---- the engine --------------------------------------------------------------------------------

FORWARD_BEFORE=
FORWARD_UP=
IPTABLES_BEFORE=
host_iptables() { iptables -S 2>/dev/null; iptables -t nat -S 2>/dev/null; }
DOCKERD_PID=

engine_up() {
  [[ $(id -u) -eq 0 ]] || die "the engine needs root (dockerd)"
  install_packages
  mkdir -p "$ENGINE/data" "$ENGINE/run" "$ENGINE/client"
  export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$ENGINE/client DOCKER_BUILDKIT=1
  FORWARD_BEFORE=$(sysctl -n net.ipv4.ip_forward)
  IPTABLES_BEFORE=$(host_iptables)
  local had_docker0=0
  ip link show docker0 >/dev/null 2>&1 && had_docker0=1
  [[ ! -S $SOCK ]] || ! "$DOCKER" version >/dev/null 2>&1 ||
    die "an engine already answers on $SOCK (another make image?)"
  rm -f "$SOCK" "$ENGINE/run/dockerd.pid"
  setsid /usr/sbin/dockerd --iptables=false --bridge=none --ip-forward=false --ip-masq=false \
    --userland-proxy=false --log-level=warn \
    --data-root "$ENGINE/data" --exec-root "$ENGINE/run/exec" --pidfile "$ENGINE/run/dockerd.pid" \
    -H "unix://$SOCK" >"$ENGINE/dockerd.log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  on_exit engine_down
  local i
  for ((i = 0; i < 60; i++)); do
    "$DOCKER" version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || die "dockerd exited; its log: $ENGINE/dockerd.log"
    sleep 0.5
  done
  "$DOCKER" version >/dev/null 2>&1 || die "dockerd did not answer on $SOCK in 30 s; its log: $ENGINE/dockerd.log"
  # The flags above keep dockerd off the host's network settings; this holds it to that. It sets
  # ip_forward, if ever, while it starts: a change after that is another program's (a CNI plugin
  # of a test node), which engine_down must not undo.
  FORWARD_UP=$(sysctl -n net.ipv4.ip_forward)
  [[ $had_docker0 -eq 1 ]] || ! ip link show docker0 >/dev/null 2>&1 || die "dockerd made a docker0 bridge"
}

engine_down() {
  [[ -n $DOCKERD_PID ]] || return 0
  local rc=0 i now
  kill -TERM "$DOCKERD_PID" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    log "dockerd did not stop in 30 s: killing it and its containerd"
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    local cpid
    cpid=$(cat "$ENGINE/run/exec/containerd/containerd.pid" 2>/dev/null || true)
    [[ -n $cpid ]] && grep -qF "$ENGINE" "/proc/$cpid/cmdline" 2>/dev/null && kill -KILL "$cpid"
    rc=1
  fi
  DOCKERD_PID=
  local m
  for m in $(mounts_under "$ENGINE"); do
    log "unmounting $m, which the engine left"
    umount "$m" 2>/dev/null || umount -l "$m" || rc=1
  done
  now=$(sysctl -n net.ipv4.ip_forward)
  if [[ -n $FORWARD_UP && $FORWARD_UP != "$FORWARD_BEFORE" ]]; then
    log "error: dockerd set net.ipv4.ip_forward to $FORWARD_UP: restoring $FORWARD_BEFORE"
    sysctl -qw net.ipv4.ip_forward="$FORWARD_BEFORE"
    rc=1
  elif [[ $now != "$FORWARD_BEFORE" ]]; then
    log "net.ipv4.ip_forward went from $FORWARD_BEFORE to $now after dockerd started: another program's, left as it is"
  fi
  # Other builds on this machine (a kubelet, a CNI plugin) may change iptables meanwhile: a
  # difference fails the run only when it names Docker.
  if [[ $(host_iptables) != "$IPTABLES_BEFORE" ]]; then
    if diff <(echo "$IPTABLES_BEFORE") <(host_iptables) | grep -qi docker; then
      log "error: iptables changed, with Docker's chains:"
      rc=1
    else
      log "iptables changed while the engine ran, not by Docker (no DOCKER chain):"
    fi
    diff <(echo "$IPTABLES_BEFORE") <(host_iptables) >&2 || true
  fi
  return "$rc"
}

# ---- the image ---------------------------------------------------------------------------------

import_base() {
  "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null 2>&1 && return
  log "importing $BASE_TAR as $BASE_IMAGE"
  "$DOCKER" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
}

build_image() {
  # BuildKit looks for FROM in the engine's store first; were the base missing there, it would
  # ask a registry. import_base has just made sure it is there.
  "$DOCKER" image inspect "$BASE_IMAGE" >/dev/null
  [[ -f $ROOT/target/quarkus-app/quarkus-run.jar && -f $ROOT/target/quarkus-app/probe/classes.lst ]] ||
    die "target/quarkus-app is not built: make build (./mvnw package) first"
  log "building $TAG on $BASE_IMAGE (BuildKit, --network none)"
  (cd "$ROOT" && nice -n 10 "$DOCKER" build --network none --progress plain \
    --build-arg BASE_IMAGE="$BASE_IMAGE" -f src/main/docker/Dockerfile -t "$TAG" .) \
    >"$CACHE/build.log" 2>&1 || {
    tail -n 40 "$CACHE/build.log" >&2
    die "docker build failed; its log: $CACHE/build.log"
  }
  # The previous build's image, now untagged, and build cache beyond 1 GB: the store stays bounded.
  "$DOCKER" image prune -f >/dev/null
  "$DOCKER" builder prune -f --keep-storage 1GB >/dev/null
  mkdir -p "$(dirname "$ARCHIVE")"
  "$DOCKER" save -o "$ARCHIVE.tmp" "$TAG"
  mv "$ARCHIVE.tmp" "$ARCHIVE"
}

# ---- the checks: the image as probe pods and the chart run it ----------------------------------

# expect NAME WANT_EXIT PATTERN... -- DOCKER_RUN_ARGS...: runs a container as probe pods run
# (no network, read-only root, uid 65532, no capabilities); fails unless it exits WANT_EXIT and its
# output matches every PATTERN (grep -E).
expect() {
  local name=$1 want=$2 patterns=() out rc=0 p
  shift 2
  while [[ $1 != -- ]]; do
    patterns+=("$1")
    shift
  done
  shift
  out=$("$DOCKER" run --rm --pull never --network none --read-only --user 65532 --cap-drop ALL \
    --security-opt no-new-privileges "$@" 2>&1) || rc=$?
  for p in "${patterns[@]}"; do
    if [[ $rc -ne $want ]] || ! grep -qE "$p" <<<"$out"; then
      printf '%s\n' "$out" >&2
      die "check '$name': exit $rc (want $want), output must match /$p/"
    fi
  done
  log "ok: $name"
}

check_image() {
  local quoted_version=${POM_VERSION//./\\.}
  expect "smtp-reach --version says $POM_VERSION" 0 "^smtp-reach $quoted_version\$" -- \
    --memory 80m "$TAG" --version
  expect "the probe maps its class-data archive, as uid 65532 on a read-only root" 0 \
    'io\.smtpreach\.cli\.Main source: shared objects file' -- --memory 80m \
    -e JAVA_TOOL_OPTIONS="-XX:-UsePerfData -Xshare:on -Xlog:class+load=info" "$TAG" --version
  expect "a probe of a closed port on the container's own loopback: Refused, as expected (blocked)" 0 \
    '^1 +None +Blocked +Refused +ConnectionRefused' -- --memory 80m "$TAG" probe 127.0.0.1 -p 1:none:blocked --connect-timeout 2s
  expect "the same port expected reachable: exit 1" 1 '^1 +None +Reachable +Refused' -- --memory 80m \
    "$TAG" probe 127.0.0.1 -p 1:none --connect-timeout 2s
  # The operator with an API server that refuses at once (and no retries): Quarkus and the
  # operator start, then stop with the error (exit 1) in well under a second.
  expect "the operator starts on a read-only root with a writable /tmp, and stops without a cluster" 1 \
    'Starting operator\.' 'Failed to start application' 'Connection refused: /127\.0\.0\.1:1' -- \
    --memory 512m --tmpfs /tmp -e QUARKUS_KUBERNETES_CLIENT_API_SERVER_URL=https://127.0.0.1:1 \
    -e QUARKUS_KUBERNETES_CLIENT_REQUEST_RETRY_BACKOFF_LIMIT=0 --entrypoint /opt/smtp-reach/bin/operator "$TAG"
}

cmd_build() {
  local start=$SECONDS
  [[ -n $POM_VERSION ]] || die "no project version in pom.xml"
  [[ $VERSION == "$APP_VERSION" ]] ||
    die "pom.xml's version $POM_VERSION is not the chart's appVersion $APP_VERSION (the tag the chart pulls)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -n 9 || die "another make image runs ($CACHE/lock)"
  cmd_base >/dev/null
  engine_up
  import_base
  build_image
  check_image
  log "$TAG: $(mb "$("$DOCKER" image inspect -f '{{.Size}}' "$TAG")") in the engine," \
    "$(mb "$(stat -c %s "$ARCHIVE")") as $ARCHIVE (base tarball $(mb "$(stat -c %s "$BASE_TAR")")), in $((SECONDS - start)) s"
}

cmd_check() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -n 9 || die "another make image runs ($CACHE/lock)"
  [[ -f $ARCHIVE ]] || die "no $ARCHIVE: make image"
  engine_up
  "$DOCKER" load -q -i "$ARCHIVE" >/dev/null # the archive is what gets checked, as nodes import it
  check_image
}

cmd_docker() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -n 9 || die "another make image runs ($CACHE/lock)"
  engine_up
  "$DOCKER" "$@"
}

case ${1:-} in
build) cmd_build ;;
docker) shift && cmd_docker "$@" ;;
base) cmd_base ;;
check) cmd_check ;;
paths) printf 'base %s\narchive %s\ntag %s\n' "$BASE_TAR" "$ARCHIVE" "$TAG" ;;
*)
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
