#!/usr/bin/env bash
# A local Kubernetes control plane that stays up: etcd, kube-apiserver
# (Node,RBAC authorization, the default admission plugins plus
# NodeRestriction), kube-controller-manager (every default controller) and
# kube-scheduler on free 127.0.0.1 ports, everything under DIR. Nodes are not
# part of it: the tests' ProcessNode (or `nodes-up`) registers nodes that run
# pods as local processes.
#
#   hack/local-cluster.sh up DIR        build (no-op when cached), start, wait
#                                       for /readyz and the default
#                                       ServiceAccount; writes DIR/admin.kubeconfig
#   hack/local-cluster.sh nodes-up DIR  start two process nodes (zone-a on this
#                                       host, zone-b in a network namespace) as a
#                                       background Java process from the test
#                                       class path (runs ./mvnw test-compile)
#   hack/local-cluster.sh down DIR      stop everything in reverse order, real nodes
#                                       (hack/real-node.sh) included; idempotent
#   hack/local-cluster.sh status DIR    which components run, and the kubeconfig
#
# DIR holds pki/, etcd/, COMPONENT.log, COMPONENT.pid, *.kubeconfig. `up` on a
# DIR whose cluster still runs fails; after `down` it starts afresh (old data
# removed). The flags are in hack/controlplane/lib.sh, explained in
# hack/controlplane/NOTES.md.
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HACK_DIR")
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
NODES_MAIN=io.smtpreach.cluster.ProcessNodeMain

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

running() { # running DIR NAME: the pid file names a live process
  local pid
  [[ -f $1/$2.pid ]] && pid=$(<"$1/$2.pid") && [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

cmd_up() {
  local dir=$1 c
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  for c in "${COMPONENTS[@]}"; do
    if running "$dir" "$c"; then
      printf 'local-cluster: %s already runs in %s (run down first)\n' "$c" "$dir" >&2
      exit 1
    fi
  done
  "$HACK_DIR/control-plane.sh" build
  BIN_DIR=$("$HACK_DIR/control-plane.sh" bin-dir)
  rm -rf "${dir:?}/pki" "$dir/etcd" "$dir/apiserver" "$dir/controller-manager" "$dir/scheduler" "$dir"/*.log "$dir"/*.pid
  WORK=$dir
  LOG_NAME=local-cluster
  # shellcheck source=hack/controlplane/lib.sh
  source "$HACK_DIR/controlplane/lib.sh"
  CERT_DAYS=30
  # On failure, stop what was started; the logs stay in DIR.
  UP_DIR=$dir
  trap 'rc=$?; if ((rc != 0)); then log "failed; logs in $UP_DIR"; cmd_down "$UP_DIR"; fi' EXIT
  cp_start_all
  cp_wait_for "service account default/default created" 60 \
    "$BIN_DIR/kubectl" --kubeconfig "$dir/admin.kubeconfig" get serviceaccount default --namespace default
  printf '%s\n' "$dir/admin.kubeconfig"
}

cmd_nodes_up() {
  local dir=$1 cp
  dir=$(cd "$dir" && pwd)
  [[ -f $dir/admin.kubeconfig ]] || {
    echo "local-cluster: no cluster in $dir (run up first)" >&2
    exit 1
  }
  if running "$dir" process-nodes; then
    echo "local-cluster: process nodes already run" >&2
    return 0
  fi
  (cd "$ROOT" && ./mvnw -q test-compile &&
    ./mvnw -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$dir/classpath.txt") >&2
  cp="$ROOT/target/test-classes:$ROOT/target/classes:$(<"$dir/classpath.txt")"
  # The test class path holds JBoss LogManager; JUL must be told to use it.
  setsid java -Djava.util.logging.manager=org.jboss.logmanager.LogManager -cp "$cp" "$NODES_MAIN" "$dir/admin.kubeconfig" "$dir/nodes" \
    >"$dir/process-nodes.log" 2>&1 </dev/null &
  echo "$!" >"$dir/process-nodes.pid"
  BIN_DIR=$("$HACK_DIR/control-plane.sh" bin-dir)
  local deadline=$((SECONDS + 60))
  until "$BIN_DIR/kubectl" --kubeconfig "$dir/admin.kubeconfig" wait --for=condition=Ready \
    node -l smtpreach.io/process-node=true --timeout=5s >/dev/null 2>&1 &&
    [[ $("$BIN_DIR/kubectl" --kubeconfig "$dir/admin.kubeconfig" get nodes -o name | wc -l) -ge 2 ]]; do
    running "$dir" process-nodes || {
      echo "local-cluster: process nodes exited; see $dir/process-nodes.log" >&2
      exit 1
    }
    ((SECONDS < deadline)) || {
      echo "local-cluster: nodes not Ready after 60s; see $dir/process-nodes.log" >&2
      exit 1
    }
    sleep 1
  done
}

# stop_pidfiles DIR NAME...: SIGTERM to all of them at once, up to 10 s, then SIGKILL.
stop_pidfiles() {
  local dir=$1 name pid pids=() n
  shift
  for name in "$@"; do
    [[ -f $dir/$name.pid ]] || continue
    pid=$(<"$dir/$name.pid")
    [[ -n $pid ]] && kill "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$dir/$name.pid"
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    for ((n = 0; n < 100; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  done
}

# Reverse start order; the scheduler and the controller-manager are
# independent of each other, so they stop together.
cmd_down() {
  local dir=$1 node
  [[ -d $dir ]] || return 0
  stop_pidfiles "$dir" operator # make demo's operator, when it runs here
  stop_pidfiles "$dir" process-nodes
  # Real nodes (hack/real-node.sh) restore the host as they stop; their files stay for a look.
  for node in "$dir"/real-nodes/*/; do
    [[ -f $node/node.env ]] || continue
    "$HACK_DIR/real-node.sh" down "$dir" "$(basename "$node")" || true
  done
  stop_pidfiles "$dir" kube-scheduler kube-controller-manager
  stop_pidfiles "$dir" kube-apiserver
  stop_pidfiles "$dir" etcd
}

cmd_status() {
  local dir=$1 c rc=0
  for c in "${COMPONENTS[@]}" process-nodes; do
    if running "$dir" "$c"; then
      printf '%-24s running (pid %s)\n' "$c" "$(<"$dir/$c.pid")"
    elif [[ $c != process-nodes ]]; then
      printf '%-24s stopped\n' "$c"
      rc=3
    fi
  done
  if ((rc == 0)); then
    printf 'export KUBECONFIG=%s\n' "$(cd "$dir" && pwd)/admin.kubeconfig"
  fi
  return "$rc"
}

case ${1:-} in
up | down | status | nodes-up)
  [[ -n ${2:-} ]] || {
    usage >&2
    exit 2
  }
  cmd=${1//-/_}
  "cmd_$cmd" "$2"
  ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
