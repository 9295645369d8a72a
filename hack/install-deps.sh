#!/usr/bin/env bash
# Installs the Debian packages the tests, the demo and the benchmarks use, when missing.
# Idempotent and quiet when everything is there; needs root (apt-get) only when something is missing.
set -euo pipefail

packages=(
  postfix        # the real SMTP peer (hack/postfix-peer.sh)
  sasl2-bin      # saslpasswd2, for the peer's AUTH user
  libsasl2-modules
  openssl        # the peer's test CA and certificates
  iproute2       # network namespaces: nodes whose egress we firewall
  iptables       # the firewall rules themselves
  swaks          # peer tool in the benchmarks
  libnet-ssleay-perl  # swaks' TLS: only Recommended, and we install without Recommends
  monitoring-plugins-standard  # check_smtp, peer tool in the benchmarks
  prometheus     # promtool and the real Prometheus in later tests
  prometheus-alertmanager  # amtool and the real Alertmanager (deploy/alertmanager/ example)
  # Real nodes (hack/real-node.sh): the kubelet's runtime, built and started by the project.
  # Where systemd runs, installing containerd also starts the system's own instance; ours is
  # separate (own socket, root and state) and never uses it.
  containerd
  runc
  containernetworking-plugins
  busybox-static # the test pods' image
  nftables       # nft, to drop the iptables tables a node made when there were none before
  gcc            # the pause image, from pause.c in the k8s.io/kubernetes module
  libc6-dev      # for gcc -static
)

# dockerfilelint (npm) checks the Dockerfile in make test; npm comes with this kind of machine.
if ! command -v dockerfilelint >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  npm install -g --silent dockerfilelint@1.8.0 >/dev/null 2>&1 ||
    echo "install-deps: could not install dockerfilelint with npm; its test will skip" >&2
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing Debian packages: ${missing[*]} (run as root, or install them); tests that need them will skip" >&2
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix asks questions on install; answer them so the install never blocks.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postinst may start the default instance; the tests run their own.
postfix stop >/dev/null 2>&1 || true
