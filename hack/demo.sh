#!/usr/bin/env bash
# make demo: the operator on a real local Kubernetes. Starts the control plane (built from source,
# cached) and two real nodes (kubelet + containerd) in two zones, drops port 587 on zone-b's pods
# with iptables, starts a local Postfix, installs the chart with the image make image built
# (imported into the nodes: no registry), applies hack/demo/endpoints.yaml, and prints
# `kubectl get smtpendpoints -A` once the first rounds have landed. Everything stays up for a look
# around; `make demo-down` stops it and restores the host. Needs root (containerd, Postfix, iptables).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${SMTP_REACH_DEMO_DIR:-$HOME/.cache/smtp-reach/local-cluster}
peer=/tmp/smtp-reach-postfix
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (it starts containerd, kubelets and Postfix)" >&2
  exit 1
fi
kubectl="$(hack/control-plane.sh bin-dir)/kubectl"
helm=$(hack/helm.sh build)
image=$(hack/image.sh paths | sed -n 's/^archive //p')
export KUBECONFIG=$dir/admin.kubeconfig
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Kubernetes: etcd, kube-apiserver, controller-manager, scheduler (built from source, cached)"
mkdir -p "$dir"
hack/local-cluster.sh down "$dir"
hack/control-plane.sh build
hack/local-cluster.sh up "$dir" >/dev/null

step "2. Two real nodes: a kubelet and its own containerd each, zone-a and zone-b"
hack/real-node.sh up "$dir" real-a --zone zone-a --subnet 101 | grep -v '^real-node'
hack/real-node.sh up "$dir" real-b --zone zone-b --subnet 102 | grep -v '^real-node'
"$kubectl" get nodes -o wide -L topology.kubernetes.io/zone

step "3. zone-b's egress firewall silently drops 587: iptables -A SRN102-RULES -p tcp --dport 587 -j DROP"
iptables -A "$(hack/real-node.sh chain "$dir" real-b)" -p tcp --dport 587 -j DROP

step "4. A real Postfix on 25, 587 (STARTTLS), 465 (implicit TLS) and 2525, with AUTH"
hack/postfix-peer.sh start "$peer" >/dev/null
echo "Postfix runs; its test CA is $peer/ca.pem"

step "5. helm install: the operator as a pod of the image make image built (no registry: imported)"
for node in real-a real-b; do
  hack/real-node.sh import "$dir" "$node" "$image" >/dev/null
done
"$helm" install smtp-reach helm/smtp-reach --namespace smtp-reach-system --create-namespace \
  --set image.pullPolicy=Never --set operator.defaultInterval=1m --wait --timeout 3m >/dev/null
"$kubectl" -n smtp-reach-system get pods -o wide

step "6. Three SmtpEndpoints (hack/demo/endpoints.yaml): two by probe pods, one by agents"
"$kubectl" create namespace demo --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n demo create configmap smtp-test-ca --from-file=ca.pem="$peer/ca.pem" \
  --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" -n demo create secret generic smtp-credentials \
  --from-literal=username=probe@smtp.test --from-literal=password=probe-secret \
  --dry-run=client -o yaml | "$kubectl" apply -f - >/dev/null
"$kubectl" apply -f hack/demo/endpoints.yaml
for ep in submission wrong-modes zone-egress; do
  "$kubectl" -n demo wait "smtpendpoint/$ep" --for=jsonpath='{.status.lastProbeTime}' --timeout=120s >/dev/null
done

step "kubectl get smtpendpoints -A"
"$kubectl" get smtpendpoints -A
printf '\n'
"$kubectl" -n demo get smtpendpoint submission \
  -o jsonpath='{range .status.ports[?(@.port==587)].sources[*]}587 from {.name} ({.node}, {.via}): {.state} - {.message}{"\n"}{end}'
"$kubectl" -n demo get smtpendpoint zone-egress \
  -o jsonpath='{range .status.ports[?(@.port==587)].sources[*]}587 from {.name} ({.node}, {.via}): {.state} - {.message}{"\n"}{end}'
printf '\n'
"$kubectl" -n smtp-reach-system get deployments,pods -o wide

cat <<MSG

Look around (the cluster, Postfix and the operator keep running):
  export KUBECONFIG=$KUBECONFIG
  $kubectl describe smtpendpoint -n demo submission
  $kubectl get events -n demo --field-selector involvedObject.kind=SmtpEndpoint
  $kubectl -n smtp-reach-system logs deploy/smtp-reach
  $kubectl -n smtp-reach-system port-forward svc/smtp-reach 8080:8080   # then, elsewhere:
  curl -s http://127.0.0.1:8080/q/metrics | grep '^smtp_reach_port_up'
  iptables -F $(hack/real-node.sh chain "$dir" real-b)      # open 587 again, then:
  $kubectl annotate smtpendpoint -n demo submission smtpreach.io/probe-now="\$(date +%s)" --overwrite
Stop everything: make demo-down
MSG
