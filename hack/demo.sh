#!/usr/bin/env bash
# make demo: the operator on a real local Kubernetes. Starts the control plane (built from source,
# cached) with two process nodes in two zones, drops port 587 on zone-b's node with iptables,
# starts a local Postfix and the operator, applies hack/demo/endpoints.yaml, and prints
# `kubectl get smtpendpoints -A` once the first rounds have landed. Everything stays up for a
# look around; `make demo-down` stops it. Needs root (Postfix, network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${SMTP_REACH_DEMO_DIR:-$HOME/.cache/smtp-reach/local-cluster}
peer=/tmp/smtp-reach-postfix
netns=smtp-reach-test-92 # node-b's namespace (io.smtpreach.cluster.ProcessNodeMain)
port=${SMTP_REACH_DEMO_PORT:-8080}
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (it starts Postfix and a network namespace)" >&2
  exit 1
fi
kubectl="$(hack/control-plane.sh bin-dir)/kubectl"
export KUBECONFIG=$dir/admin.kubeconfig
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Kubernetes: etcd, kube-apiserver, controller-manager, scheduler (built from source, cached)"
mkdir -p "$dir"
hack/local-cluster.sh down "$dir"
hack/control-plane.sh build
hack/local-cluster.sh up "$dir" >/dev/null
hack/local-cluster.sh nodes-up "$dir"
"$kubectl" get nodes -L topology.kubernetes.io/zone

step "2. zone-b's egress firewall silently drops 587: iptables -A OUTPUT -p tcp --dport 587 -j DROP"
ip netns exec "$netns" iptables -A OUTPUT -p tcp --dport 587 -j DROP

step "3. A real Postfix on 25, 587 (STARTTLS), 465 (implicit TLS) and 2525, with AUTH"
hack/postfix-peer.sh start "$peer" >/dev/null
echo "Postfix runs; its test CA is $peer/ca.pem"

step "4. The operator (target/quarkus-app), with the CRD from crds/"
"$kubectl" apply --server-side -f crds/ >/dev/null
"$kubectl" wait --for=condition=Established crd/smtpendpoints.smtpreach.io --timeout=60s >/dev/null
SMTP_REACH_LEASE_NAMESPACE=default QUARKUS_HTTP_PORT=$port \
  setsid java -jar target/quarkus-app/quarkus-run.jar >"$dir/operator.log" 2>&1 </dev/null &
echo "$!" >"$dir/operator.pid"
for _ in $(seq 60); do
  curl -fsS "http://127.0.0.1:$port/q/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/q/health/ready" >/dev/null || {
  echo "demo: the operator did not become ready; see $dir/operator.log" >&2
  exit 1
}
echo "operator ready: http://127.0.0.1:$port/q/health/ready"

step "5. Two SmtpEndpoints (hack/demo/endpoints.yaml)"
"$kubectl" create namespace demo --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n demo create configmap smtp-test-ca --from-file=ca.pem="$peer/ca.pem" \
  --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n demo create secret generic smtp-credentials \
  --from-literal=username=probe@smtp.test --from-literal=password=probe-secret \
  --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" apply -f hack/demo/endpoints.yaml
for ep in submission wrong-modes; do
  "$kubectl" -n demo wait "smtpendpoint/$ep" --for=jsonpath='{.status.lastProbeTime}' --timeout=120s >/dev/null
done

step "kubectl get smtpendpoints -A"
"$kubectl" get smtpendpoints -A
printf '\n'
"$kubectl" -n demo get smtpendpoint submission \
  -o jsonpath='{range .status.ports[?(@.port==587)].sources[*]}587 from {.name} ({.node}): {.state} - {.message}{"\n"}{end}'

cat <<MSG

Look around (the cluster, Postfix and the operator keep running):
  export KUBECONFIG=$KUBECONFIG
  $kubectl describe smtpendpoint -n demo submission
  $kubectl get events -n demo --field-selector involvedObject.kind=SmtpEndpoint
  curl -s http://127.0.0.1:$port/q/metrics | grep '^smtp_reach_port_up'
  ip netns exec $netns iptables -F      # open 587 again, then:
  $kubectl annotate smtpendpoint -n demo submission smtpreach.io/probe-now="\$(date +%s)" --overwrite
Stop everything: make demo-down
MSG
