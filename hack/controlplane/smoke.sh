#!/usr/bin/env bash
# Smoke test of the binaries hack/control-plane.sh builds: starts etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler on free loopback
# ports with throw-away certificates (openssl), checks each one's health and
# that the controllers and the scheduler act on a Deployment, then stops them.
# Run it as `hack/control-plane.sh smoke`, which builds first and sets BIN_DIR.
# SMTP_REACH_KEEP=1 keeps the temp dir (certs, kubeconfigs, logs).
# The flags (in lib.sh, shared with hack/local-cluster.sh) are explained in
# hack/controlplane/NOTES.md.
set -euo pipefail

: "${BIN_DIR:?BIN_DIR must point at the control-plane bin directory}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtp-reach-cp.XXXXXX")
LOG_NAME=smoke
# shellcheck source=hack/controlplane/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do # reverse start order: etcd last
    cp_stop "${PIDS[i]}"
  done
}

cleanup() {
  local rc=$? name
  stop_all
  if ((rc != 0)); then
    for name in "${NAMES[@]}"; do
      log "--- last lines of $name.log ---"
      tail -n 20 "$WORK/$name.log" >&2 || true
    done
  fi
  if [[ ${SMTP_REACH_KEEP:-} == 1 || $rc != 0 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp_start_all
k() { "$BIN_DIR/kubectl" --kubeconfig "$WORK/admin.kubeconfig" "$@"; }
wait_for() { cp_wait_for "$@"; }

# --- behaviour ----------------------------------------------------------------------
k version >&2
wait_for "service account default/default created (serviceaccount controller)" 60 \
  k get serviceaccount default --namespace default
k create deployment smoke --image=registry.invalid/smoke:0 --replicas=1 >/dev/null
pod_exists() { [[ -n $(k get pods -l app=smoke -o name) ]]; }
wait_for "deployment -> replicaset -> pod (deployment and replicaset controllers)" 60 pod_exists
unschedulable() {
  [[ $(k get pods -l app=smoke \
    -o 'jsonpath={.items[0].status.conditions[?(@.type=="PodScheduled")].reason}') == Unschedulable ]]
}
wait_for "pod marked Unschedulable, no nodes (scheduler)" 60 unschedulable
k get --raw '/readyz?verbose' | tail -n 1 >&2
log "smoke test passed"
