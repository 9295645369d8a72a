#!/usr/bin/env bash
# make demo: smtp-reach probe against a real local Postfix, then from a "node" (a network
# namespace) whose firewall silently drops port 587. Needs root (Postfix, namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."

peer=/tmp/smtp-reach-postfix
ns=smtp-reach-demo
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: needs root (it starts Postfix and a network namespace)" >&2
  exit 1
fi

cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  ip link del srdemo0 2>/dev/null || true
  hack/postfix-peer.sh stop "$peer" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

hack/postfix-peer.sh start "$peer" >/dev/null
ca="$peer/ca.pem"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

step "1. The local Postfix on its four ports (25, 587, 465, 2525)" \
  "bin/smtp-reach probe 127.0.0.1 --ca-file $ca"
bin/smtp-reach probe 127.0.0.1 --ca-file "$ca" || true

step "2. STARTTLS asked on the implicit-TLS port: a mode mismatch, decided in well under a second" \
  "bin/smtp-reach probe 127.0.0.1 --ca-file $ca -p 465:starttls"
bin/smtp-reach probe 127.0.0.1 --ca-file "$ca" -p 465:starttls || true

# A node: its own network namespace, joined by a veth pair on 198.18.99.0/30 (RFC 2544 range).
ip netns add "$ns"
ip link add srdemo0 type veth peer name srdemo1
ip link set srdemo1 netns "$ns"
ip addr add 198.18.99.1/30 dev srdemo0 && ip link set srdemo0 up
ip netns exec "$ns" ip addr add 198.18.99.2/30 dev srdemo1
ip netns exec "$ns" ip link set srdemo1 up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" iptables -A OUTPUT -p tcp --dport 587 -j DROP

step "3. From a node whose egress firewall silently drops 587 (iptables -j DROP)" \
  "ip netns exec $ns bin/smtp-reach probe 198.18.99.1 --server-name smtp.test --ca-file $ca --connect-timeout 3s"
ip netns exec "$ns" bin/smtp-reach probe 198.18.99.1 --server-name smtp.test --ca-file "$ca" --connect-timeout 3s || true

printf '\nNext: bin/smtp-reach probe --help; the JSON form with --json; docs/states.md for every reason.\n'
