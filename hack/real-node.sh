#!/usr/bin/env bash
# A real Kubernetes node on this machine, joined to a local control plane started by
# hack/local-cluster.sh: the kubelet built from the control plane's own k8s.io/kubernetes module
# (hack/control-plane.sh build) and its own containerd (Debian's 1.6, runc, CNI plugins), with
# pods on a bridge of their own whose egress stops at this machine.
#
#   hack/real-node.sh up DIR NAME [--zone Z] [--subnet N] [--pool P]
#        start node NAME for the cluster in DIR, wait until it is Ready; files in
#        DIR/real-nodes/NAME. Pods get 198.18.N.0/24 (N: 100-199, default 101) on bridge srbN,
#        whose address 198.18.N.1 is the node's InternalIP and the pods' only nameserver.
#        Label topology.kubernetes.io/zone=Z (default zone-a), smtpreach.io/node-pool=P
#        (default Z), smtpreach.io/real-node=true.
#   hack/real-node.sh down DIR NAME
#        stop it and undo everything it did to the host; the last node down also restores the
#        sysctls, iptables tables and directories recorded before the first one came up, then
#        compares the host with that record (exit 1, with the differences, if it is not equal)
#   hack/real-node.sh import DIR NAME ARCHIVE...
#        import OCI or `docker save` archives into the node's containerd (namespace k8s.io)
#   hack/real-node.sh images        build the pause and busybox archives (cached); print paths
#   hack/real-node.sh check         print what this machine lacks for a real node; exit 1 if any
#   hack/real-node.sh chain DIR NAME  print the node's iptables chain for test rules (below)
#
# Egress: iptables chains of the project's own, hooked in for the pod subnet only:
#   INPUT   -s 198.18.N.0/24 -> SRN<N>-RULES            (to this machine's own addresses)
#   FORWARD -s 198.18.N.0/24 -> SRN<N>-EGRESS: SRN<N>-RULES, then RETURN (accept) only out of
#           a project interface (srb*, srh*) to 198.18.0.0/15, else REJECT: nothing else leaves
# SRN<N>-RULES is empty; tests add rules to it (e.g. -p tcp --dport 587 -j DROP for a zone
# whose 587 is blocked). Pods' DNS: kubelet clusterDNS and resolvConf both name 198.18.N.1
# only, so no pod ever asks this machine's nameservers. containerd runs with a proxy of
# 127.0.0.1:9 and the images are named localhost/..., so an image pull cannot leave the host.
#
# Isolation from the host: containerd and the kubelet share a private mount namespace
# (unshare --propagation private), so none of their mounts (the kubelet's root-dir bind mount,
# overlay rootfs, shm, netns) appear in the host's mount table and all go when they stop; the
# pods' cgroups are under /smtp-reach-NAME in every cgroup v1 hierarchy (kubelet cgroupRoot),
# which `down` empties and removes. makeIPTablesUtilChains is off: the kubelet adds no KUBE-*
# chain. The kubelet still sets its sysctls and creates /var/log/containers, and the bridge
# plugin sets net.ipv4.ip_forward=1: hack/realnode/host.sh records and restores them.
#
# Environment: SMTP_REACH_CACHE_DIR (as hack/control-plane.sh; the image archives go in its
# real-node-images/), SMTP_REACH_REAL_NODE_STATE (default /run/smtp-reach-real-nodes).
set -euo pipefail

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/realnode/host.sh
source "$HACK_DIR/realnode/host.sh"
# shellcheck source=hack/realnode/images.sh
source "$HACK_DIR/realnode/images.sh"

PAUSE_REPO=localhost/smtp-reach/pause
BUSYBOX_REPO=localhost/smtp-reach/busybox
CACHE_ROOT=${SMTP_REACH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smtp-reach}
IMAGE_CACHE=$CACHE_ROOT/real-node-images
RUNC=/usr/sbin/runc
CNI_BIN=/usr/lib/cni
# A discard address: containerd's registry client goes there, and nowhere else, for any pull.
NO_NETWORK_PROXY=http://127.0.0.1:9
SHORT_RUN=/run/smtp-reach-nodes
T0=$SECONDS

log() { printf 'real-node [%3ds]: %s\n' "$((SECONDS - T0))" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }

bin_dir() { "$HACK_DIR/control-plane.sh" bin-dir; }
k8s_version() { "$HACK_DIR/control-plane.sh" versions | awk '$1 == "kubernetes" { print $2 }'; }

# The k8s.io/kubernetes module source (for pause.c), downloaded into the module cache if needed.
k8s_module_dir() {
  local v dir
  v=$(k8s_version)
  dir=$(GOTOOLCHAIN=local go env GOMODCACHE 2>/dev/null)/k8s.io/kubernetes@$v
  if [[ ! -d $dir ]]; then
    (cd "$HACK_DIR/controlplane/k8s" && GOTOOLCHAIN=local go mod download k8s.io/kubernetes) >&2
  fi
  printf '%s\n' "$dir"
}

pause_version() { sed -n 's/^TAG ?= *//p' "$1/build/pause/Makefile"; }

# ---- check ---------------------------------------------------------------------------------
missing_pieces() {
  local b
  [[ $(id -u) == 0 ]] || echo "root (containerd, the kubelet, bridges and iptables need it)"
  for b in containerd containerd-shim-runc-v2 ctr; do
    command -v "$b" >/dev/null || echo "$b (apt-get install containerd)"
  done
  [[ -x $RUNC ]] || echo "$RUNC (apt-get install runc)"
  for b in bridge host-local loopback; do
    [[ -x $CNI_BIN/$b ]] || echo "$CNI_BIN/$b (apt-get install containernetworking-plugins)"
  done
  for b in iptables ip unshare nsenter findmnt openssl curl sysctl flock ss; do
    command -v "$b" >/dev/null || echo "$b"
  done
  [[ -x $(bin_dir)/kubelet ]] || command -v go >/dev/null ||
    echo "the kubelet (hack/control-plane.sh build) or go to build it"
  [[ -n $(host_cgroup_hierarchies) ]] || echo "cgroup v1 hierarchies under /sys/fs/cgroup (this harness does not do cgroup v2)"
  grep -qw overlay /proc/filesystems || echo "the overlay filesystem"
  ls "$IMAGE_CACHE"/pause-*.tar >/dev/null 2>&1 || command -v gcc >/dev/null || echo "gcc (for the pause image)"
  ls "$IMAGE_CACHE"/busybox-*.tar >/dev/null 2>&1 || [[ -x /bin/busybox ]] || echo "busybox-static (for the busybox image)"
}

cmd_check() {
  local m
  m=$(missing_pieces)
  [[ -z $m ]] && return 0
  printf '%s\n' "$m"
  return 1
}

cmd_images() {
  local mod
  mod=$(k8s_module_dir)
  pause_archive "$IMAGE_CACHE" "$mod" "$(pause_version "$mod")"
  busybox_archive "$IMAGE_CACHE"
}

# ---- one node's layout ---------------------------------------------------------------------
# node_vars DIR NAME [SUBNET]: the node's paths and names; SUBNET from its env file when omitted.
node_vars() {
  CLUSTER=$(cd "$1" && pwd)
  NAME=$2
  [[ $NAME =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "node name '$NAME' is not a DNS label"
  NODE=$CLUSTER/real-nodes/$NAME
  if [[ -n ${3:-} ]]; then
    SUBNET=$3
  elif [[ -f $NODE/node.env ]]; then
    SUBNET=$(sed -n 's/^SUBNET=//p' "$NODE/node.env")
  else
    SUBNET=
  fi
  # Unix sockets live here, not under NODE: a path to a socket must fit in 108 bytes, and the
  # kubelet makes some a dozen levels below its root dir.
  RUN_DIR=$SHORT_RUN/$(sha256sum <<<"$NODE" | cut -c1-12)
  SOCK=$RUN_DIR/containerd.sock
  KUBELET_ROOT=$RUN_DIR/kubelet
  BRIDGE=srb$SUBNET
  CHAIN_RULES=SRN$SUBNET-RULES
  CHAIN_EGRESS=SRN$SUBNET-EGRESS
  CHAIN_SERVICE=SRN$SUBNET-SVC
  NODE_IP=198.18.$SUBNET.1
  POD_CIDR=198.18.$SUBNET.0/24
  CGROUP=smtp-reach-$NAME
  NET_NAME=smtp-reach-$NAME
  KUBECTL=("$(bin_dir)/kubectl" --kubeconfig "$CLUSTER/admin.kubeconfig")
}

alive() { [[ -f $NODE/$1.pid ]] && kill -0 "$(<"$NODE/$1.pid")" 2>/dev/null; }

# stop_pid NAME: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
  local pid n
  [[ -f $NODE/$1.pid ]] || return 0
  pid=$(<"$NODE/$1.pid")
  if kill "$pid" 2>/dev/null; then
    for ((n = 0; n < 100; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$NODE/$1.pid"
}

# ---- iptables --------------------------------------------------------------------------------
egress_up() {
  iptables -N "$CHAIN_RULES"
  iptables -N "$CHAIN_EGRESS"
  iptables -A "$CHAIN_EGRESS" -j "$CHAIN_RULES"
  iptables -A "$CHAIN_EGRESS" -d 198.18.0.0/15 -o 'srb+' -j RETURN
  iptables -A "$CHAIN_EGRESS" -d 198.18.0.0/15 -o 'srh+' -j RETURN
  iptables -A "$CHAIN_EGRESS" -m comment --comment "smtp-reach $NAME: pods reach only this machine" \
    -j REJECT --reject-with icmp-admin-prohibited
  iptables -I FORWARD 1 -s "$POD_CIDR" -j "$CHAIN_EGRESS"
  iptables -I INPUT 1 -s "$POD_CIDR" -j "$CHAIN_RULES"
}

egress_down() { ipt_remove_chains iptables "$CHAIN_EGRESS|$CHAIN_RULES|$CHAIN_SERVICE"; }

# The kubernetes Service, as kube-proxy would serve it to this node's pods (there is no kube-proxy:
# this is the one Service they need). In-cluster clients dial KUBERNETES_SERVICE_HOST:443; the API
# server listens on 127.0.0.1 only, so the packets are DNATed there. route_localnet on the bridge
# (set with it, gone with it) lets them be routed to and from 127.0.0.1; the kubelet's
# KUBE-FIREWALL lets DNATed connections to 127/8 by.
service_up() {
  local api_port svc_ip
  api_port=$(sed -n 's|^ *server: https://127.0.0.1:\([0-9]*\)$|\1|p' "$CLUSTER/admin.kubeconfig")
  [[ -n $api_port ]] || die "no https://127.0.0.1:PORT server in $CLUSTER/admin.kubeconfig"
  svc_ip=$("${KUBECTL[@]}" -n default get service kubernetes -o 'jsonpath={.spec.clusterIP}')
  iptables -t nat -N "$CHAIN_SERVICE"
  iptables -t nat -A "$CHAIN_SERVICE" -d "$svc_ip" -p tcp --dport 443 \
    -m comment --comment "smtp-reach $NAME: default/kubernetes" -j DNAT --to-destination "127.0.0.1:$api_port"
  iptables -t nat -I PREROUTING 1 -s "$POD_CIDR" -j "$CHAIN_SERVICE"
  sysctl -qw "net.ipv4.conf.$BRIDGE.route_localnet=1"
}

# ---- cgroups ---------------------------------------------------------------------------------
cgroups_up() {
  local h
  for h in $(host_cgroup_hierarchies); do
    mkdir -p "$h/$CGROUP"
    if [[ -f $h/cpuset.cpus ]]; then # a new cpuset cgroup starts empty: give it the parent's
      cat "$h/cpuset.cpus" >"$h/$CGROUP/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/$CGROUP/cpuset.mems"
    fi
  done
}

# Kills every process left in the node's cgroups (pods whose shim is gone), then removes them.
cgroups_down() {
  local h pids n
  for ((n = 0; n < 50; n++)); do
    pids=$(for h in $(host_cgroup_hierarchies); do
      if [[ -d $h/$CGROUP ]]; then find "$h/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null; fi
    done | sort -u)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.1
  done
  for h in $(host_cgroup_hierarchies); do
    [[ -d $h/$CGROUP ]] && find "$h/$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
    [[ -d $h/$CGROUP ]] && log "could not remove $h/$CGROUP"
  done
  return 0
}

# ---- certificates ----------------------------------------------------------------------------
kubelet_credentials() {
  local pki=$CLUSTER/pki k=$NODE/kubelet/pki server
  mkdir -p "$k"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/O=system:nodes/CN=system:node:$NAME" -keyout "$k/client.key" -out "$k/client.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$k/client.ext"
  openssl x509 -req -in "$k/client.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -CAserial "$k/ca.srl" -days 30 -extfile "$k/client.ext" -out "$k/client.crt" 2>/dev/null
  server=$(sed -n 's/^ *server: *//p' "$CLUSTER/admin.kubeconfig" | head -n 1)
  cat >"$NODE/kubelet/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $server
    certificate-authority: $pki/ca.crt
users:
- name: system:node:$NAME
  user:
    client-certificate: $k/client.crt
    client-key: $k/client.key
contexts:
- name: local
  context: {cluster: local, user: "system:node:$NAME"}
current-context: local
EOF
}

# ---- containerd ------------------------------------------------------------------------------
containerd_config() {
  local pause_ref=$1
  mkdir -p "$NODE/cni/net.d" "$NODE/containerd/certs.d" "$RUN_DIR"
  cat >"$NODE/cni/net.d/10-$NET_NAME.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$NET_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE/cni/ipam"
      }
    }
  ]
}
EOF
  cat >"$NODE/containerd/config.toml" <<EOF
version = 2
root = "$NODE/containerd/root"
state = "$NODE/containerd/state"
# opt would create /opt/containerd; the others are snapshotters we never use. (containerd 1.6's
# tasks service, and so CRI, will not load without the v1 runtime plugin.)
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$SOCK"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_ref"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails in runc's nsexec.
  restrict_oom_score_adj = true
  # Pods' network namespaces under the state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$NODE/cni/net.d"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$RUNC"
        SystemdCgroup = false
        Root = "$NODE/containerd/state/runc"

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$NODE/containerd/certs.d"
EOF
}

ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }

start_containerd() {
  # Its own mount namespace, private: what it and the kubelet mount stays out of the host's.
  HTTP_PROXY=$NO_NETWORK_PROXY HTTPS_PROXY=$NO_NETWORK_PROXY http_proxy=$NO_NETWORK_PROXY \
    https_proxy=$NO_NETWORK_PROXY NO_PROXY='' no_proxy='' \
    setsid unshare --mount --propagation private \
    containerd --config "$NODE/containerd/config.toml" --log-level info \
    >"$NODE/containerd.log" 2>&1 </dev/null &
  echo "$!" >"$NODE/containerd.pid"
  local deadline=$((SECONDS + 30))
  until [[ -S $SOCK ]] && ctr -a "$SOCK" version >/dev/null 2>&1; do
    alive containerd || die "containerd exited; see $NODE/containerd.log"
    ((SECONDS < deadline)) || die "containerd not answering after 30s; see $NODE/containerd.log"
    sleep 0.2
  done
  log "containerd $(ctr -a "$SOCK" version 2>/dev/null | awk '/Version:/ { v = $2 } END { print v }') on $SOCK"
}

# The pid whose mount namespace containerd runs in (unshare execs it, so the same pid).
containerd_pid() { cat "$NODE/containerd.pid"; }

# ---- kubelet ---------------------------------------------------------------------------------
kubelet_config() {
  local port=$1 healthz=$2
  printf 'nameserver %s\n' "$NODE_IP" >"$NODE/resolv.conf"
  cat >"$NODE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine kind has cgroup v1 and no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
containerRuntimeEndpoint: unix://$SOCK
imageServiceEndpoint: unix://$SOCK
failSwapOn: false
podCIDR: $POD_CIDR
podLogsDir: $NODE/pod-logs
volumePluginDir: $NODE/kubelet/volume-plugins
address: $NODE_IP
port: $port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $healthz
# Pods ask only the address the tests serve DNS on, never this machine's nameservers.
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $NODE/resolv.conf
makeIPTablesUtilChains: false
# Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which root lacks here.
oomScoreAdj: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $CLUSTER/pki/ca.crt}
authorization: {mode: Webhook}
rotateCertificates: false
serverTLSBootstrap: false
EOF
}

start_kubelet() {
  local zone=$1 pool=$2
  setsid nsenter --target "$(containerd_pid)" --mount -- \
    "$(bin_dir)/kubelet" --config "$NODE/kubelet/config.yaml" \
    --kubeconfig "$NODE/kubelet/kubeconfig" --root-dir "$KUBELET_ROOT" \
    --cert-dir "$NODE/kubelet/pki" \
    --hostname-override "$NAME" --node-ip "$NODE_IP" \
    --node-labels "topology.kubernetes.io/zone=$zone,smtpreach.io/node-pool=$pool,smtpreach.io/real-node=true" \
    >"$NODE/kubelet.log" 2>&1 </dev/null &
  echo "$!" >"$NODE/kubelet.pid"
}

wait_ready() {
  local deadline=$((SECONDS + 90)) start=$SECONDS
  until [[ $("${KUBECTL[@]}" get node "$NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]; do
    alive kubelet || die "the kubelet exited; see $NODE/kubelet.log"
    alive containerd || die "containerd exited; see $NODE/containerd.log"
    ((SECONDS < deadline)) || die "node $NAME not Ready after 90s; see $NODE/kubelet.log"
    sleep 0.2
  done
  log "node $NAME Ready $((SECONDS - start))s after the kubelet started"
}

# ---- commands --------------------------------------------------------------------------------
cmd_up() {
  local dir=$1 name=$2 zone=zone-a subnet=101 pool=
  shift 2
  while (($#)); do
    case $1 in
    --zone) zone=$2 ;;
    --subnet) subnet=$2 ;;
    --pool) pool=$2 ;;
    *) die "unknown option $1" ;;
    esac
    shift 2
  done
  pool=${pool:-$zone}
  [[ $subnet =~ ^1[0-9][0-9]$ ]] || die "--subnet must be 100-199, not $subnet"
  local m
  m=$(missing_pieces) || true
  [[ -z $m ]] || die "this machine lacks: $(tr '\n' ';' <<<"$m")"
  [[ -f $dir/admin.kubeconfig && -f $dir/pki/ca.key ]] || die "no local cluster in $dir (hack/local-cluster.sh up $dir)"
  node_vars "$dir" "$name" "$subnet"
  # A node left from a killed run goes first; so does another node on the same subnet.
  if [[ -d $NODE ]]; then
    cmd_down "$dir" "$name" || true
    node_vars "$dir" "$name" "$subnet"
  fi
  ip link show "$BRIDGE" >/dev/null 2>&1 && die "$BRIDGE exists: subnet $SUBNET is in use by another node"
  egress_down # chains of a node on this subnet that was killed before its down
  "$HACK_DIR/control-plane.sh" build
  local images
  images=$(cmd_images)

  rm -rf --one-file-system "$NODE"
  mkdir -p "$NODE"/{kubelet,pod-logs} "$KUBELET_ROOT"
  printf 'SUBNET=%s\nZONE=%s\n' "$SUBNET" "$zone" >"$NODE/node.env"
  trap 'rc=$?; if ((rc != 0)); then log "failed; logs in $NODE"; cmd_down "$CLUSTER" "$NAME" >&2 || true; fi' EXIT
  mkdir -p "$HOST_STATE/nodes"
  (
    flock 9
    if [[ -z $(ls -A "$HOST_STATE/nodes") ]]; then
      if [[ -d $HOST_STATE/before ]]; then
        # The last `down` could not restore it: that record is still the host as it was.
        log "keeping the record of $HOST_STATE/before, which the last down could not restore"
      else
        host_capture "$HOST_STATE/before"
      fi
    fi
    printf '%s\n' "$NODE" >"$HOST_STATE/nodes/$(sha256sum <<<"$NODE" | cut -c1-16)"
  ) 9>"$HOST_STATE/lock"

  # The fence comes first: no pod exists before its egress is limited.
  egress_up
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  service_up
  cgroups_up

  local pause_ref
  pause_ref=$PAUSE_REPO:$(basename "$(head -n 1 <<<"$images")" .tar | sed 's/^pause-//')
  containerd_config "$pause_ref"
  start_containerd
  local archive
  while IFS= read -r archive; do
    ctr_ images import "$archive" >/dev/null
  done <<<"$images"
  log "imported $(tr '\n' ' ' <<<"$images")"

  # shellcheck source=hack/controlplane/lib.sh
  (
    BIN_DIR=$(bin_dir) WORK=$NODE
    source "$HACK_DIR/controlplane/lib.sh"
    cp_pick_ports 2
    printf 'KUBELET_PORT=%s\nHEALTHZ_PORT=%s\n' "${PORTS[0]}" "${PORTS[1]}" >>"$NODE/node.env"
  )
  kubelet_config "$(sed -n 's/^KUBELET_PORT=//p' "$NODE/node.env")" "$(sed -n 's/^HEALTHZ_PORT=//p' "$NODE/node.env")"
  kubelet_credentials
  # A Node of this name from an earlier run would carry its old labels and address.
  "${KUBECTL[@]}" delete node "$NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  start_kubelet "$zone" "$pool"
  wait_ready
  trap - EXIT
  printf 'node %s zone %s address %s pods %s chain %s kubelet %s containerd %s\n' \
    "$NAME" "$zone" "$NODE_IP" "$POD_CIDR" "$CHAIN_RULES" "$(<"$NODE/kubelet.pid")" "$(<"$NODE/containerd.pid")"
}

# Processes of this node that are not children we keep pid files of: the shims.
shim_pids() {
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-address $SOCK " && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

cmd_down() {
  node_vars "$1" "$2"
  [[ -d $NODE ]] || return 0
  [[ -n $SUBNET ]] || die "$NODE/node.env is missing: cannot tell the node's subnet"
  stop_pid kubelet
  if alive containerd; then
    # Kill the pods' tasks while containerd can still clean up after its shims.
    local id
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      ctr_ tasks kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      timeout 10 ctr_ tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  cgroups_down
  local p
  for p in $(shim_pids); do kill -9 "$p" 2>/dev/null || true; done
  # Whatever is mounted under the node dir in the host's namespace (nothing, unless a process
  # escaped the private namespace), deepest first.
  local n
  for ((n = 0; n < 5; n++)); do
    mapfile -t mounts < <(findmnt -rn -o TARGET | grep -F -e "$NODE/" -e "$RUN_DIR/" | sort -r)
    ((${#mounts[@]})) || break
    for p in "${mounts[@]}"; do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true; done
  done
  # Host ends of pod veths whose pod namespace outlived the runtime, then the bridge.
  for p in $(ip -o link show master "$BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip link del "$p" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
  egress_down
  # The kubelet's /var/log/containers links into this node's pod logs; libcni's result cache.
  find /var/log/containers -maxdepth 1 -type l -lname "$NODE/*" -delete 2>/dev/null || true
  rm -f /var/lib/cni/results/"$NET_NAME"-* 2>/dev/null || true
  "${KUBECTL[@]}" delete node "$NAME" --ignore-not-found --wait=false --request-timeout=5s >/dev/null 2>&1 || true
  # Nothing may be mounted below before the files go.
  if ! findmnt -rn -o TARGET | grep -qF "$NODE/"; then
    rm -rf --one-file-system "$NODE/containerd/root" "$NODE/containerd/state"
  fi
  if ! findmnt -rn -o TARGET | grep -qF "$RUN_DIR/"; then
    rm -rf --one-file-system "$RUN_DIR"
    rmdir "$SHORT_RUN" 2>/dev/null || true
  fi

  local rc=0
  mkdir -p "$HOST_STATE/nodes"
  (
    flock 9
    rm -f "$HOST_STATE/nodes/$(sha256sum <<<"$NODE" | cut -c1-16)"
    if [[ -z $(ls -A "$HOST_STATE/nodes") && ! -d $HOST_STATE/before ]]; then
      log "no record of the host from before the first node (restored already)"
    elif [[ -z $(ls -A "$HOST_STATE/nodes") ]]; then
      host_restore
      if host_diff "$HOST_STATE/before" >"$NODE/host-diff.txt"; then
        rm -f "$NODE/host-diff.txt"
        rm -rf "$HOST_STATE/before" "$HOST_STATE/nodes"
        log "host restored to its state before the first node"
      else
        log "the host differs from before the first node (kept in $HOST_STATE/before):"
        cat "$NODE/host-diff.txt" >&2
        exit 1
      fi
    fi
  ) 9>"$HOST_STATE/lock" || rc=1
  if ((rc == 0)) && [[ ! -d $HOST_STATE/before ]]; then
    rm -rf "$HOST_STATE"
  fi
  log "node $NAME down"
  return "$rc"
}

cmd_import() {
  node_vars "$1" "$2"
  shift 2
  alive containerd || die "node $NAME does not run"
  local a
  for a in "$@"; do
    ctr_ images import "$a" | sed -n 's/^unpacking \([^ ]*\) .*/\1/p'
  done
}

case ${1:-} in
up)
  (($# >= 3)) || {
    usage >&2
    exit 2
  }
  shift
  cmd_up "$@"
  ;;
down | import)
  (($# >= 3)) || {
    usage >&2
    exit 2
  }
  c=$1
  shift
  "cmd_$c" "$@"
  ;;
chain)
  node_vars "$2" "$3"
  printf '%s\n' "$CHAIN_RULES"
  ;;
images) cmd_images ;;
check) cmd_check ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
