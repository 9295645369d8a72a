# shellcheck shell=bash
# What a real node changes on the host outside its own directory, recorded before the first
# node starts and put back after the last one stops. Sourced by hack/real-node.sh, not run.
#
# The kubelet writes sysctls (vm.overcommit_memory, vm.panic_on_oom, kernel.panic,
# kernel.panic_on_oops, kernel.keys.root_max*) and creates /var/log/containers; the CNI bridge
# plugin sets net.ipv4.ip_forward=1; containerd's shims put their sockets in /run/containerd/s and
# libcni caches results in /var/lib/cni; iptables-nft creates the tables our chains live in.
# Several nodes share these, so the first `up` takes the snapshot (HOST_STATE/before) and the
# last `down` (HOST_STATE/nodes empty again) restores it and checks the host against it.

HOST_STATE=${SMTP_REACH_REAL_NODE_STATE:-/run/smtp-reach-real-nodes}

HOST_SYSCTLS=(
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
  net.ipv6.conf.all.forwarding
)
# Paths the kubelet, containerd or libcni create when missing; removed again if they were.
HOST_PATHS=(/run/containerd /var/lib/cni /var/log/containers /etc/cni /opt/containerd
  /opt/cni /usr/libexec/kubernetes /var/lib/kubelet /var/lib/containerd /etc/kubernetes)
IPT_TABLES=(filter nat mangle raw)

# The cgroup v1 hierarchies mounted here (their mount points).
host_cgroup_hierarchies() { awk '$3 == "cgroup" { print $2 }' /proc/self/mounts; }

# iptables-save without counters and comments: equal text means equal rules.
_ipt_save() { "$1-save" 2>/dev/null | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]$/[0:0]/'; }

# Process nodes' network namespaces and host links come and go with them (their own teardown
# removes them); a record that held them would make the real nodes' check fail for their sake.
_without_process_nodes() { grep -v -E 'smtp-reach-test-[0-9]+|^srh[0-9]+$' || true; }

# host_capture DIR: everything that the teardown check compares, one file per kind.
host_capture() {
  local d=$1 k h
  mkdir -p "$d"
  for k in "${HOST_SYSCTLS[@]}"; do
    printf '%s=%s\n' "$k" "$(sysctl -n "$k" 2>/dev/null || echo -)"
  done >"$d/sysctl"
  _ipt_save iptables >"$d/iptables"
  _ipt_save ip6tables >"$d/ip6tables"
  if command -v nft >/dev/null; then nft list tables 2>/dev/null | sort >"$d/nft-tables"; else : >"$d/nft-tables"; fi
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | _without_process_nodes | sort >"$d/links"
  findmnt -rn -o TARGET,FSTYPE | _without_process_nodes | sort >"$d/mounts"
  for h in $(host_cgroup_hierarchies); do
    find "$h" -mindepth 1 -maxdepth 1 -type d -printf "$h/%f\n"
  done | sort >"$d/cgroups"
  for k in "${HOST_PATHS[@]}"; do
    [[ -e $k ]] && printf '%s\n' "$k"
  done >"$d/paths"
  { ls -1 /run/netns 2>/dev/null || true; } | _without_process_nodes | sort >"$d/netns"
}

# host_diff BEFORE: the differences between BEFORE and now, as unified diffs; status 1 if any.
host_diff() {
  local before=$1 now rc=0 f
  now=$(mktemp -d)
  host_capture "$now"
  for f in sysctl iptables ip6tables nft-tables links mounts cgroups paths netns; do
    diff -u --label "before/$f" --label "now/$f" "$before/$f" "$now/$f" || rc=1
  done
  rm -rf "$now"
  return "$rc"
}

# ipt_remove_chains BINARY REGEX: removes every rule that jumps to a chain whose name matches
# REGEX, then flushes and deletes those chains, in every table.
ipt_remove_chains() {
  local ipt=$1 re=$2 t chain rule
  for t in "${IPT_TABLES[@]}"; do
    "$ipt" -t "$t" -S >/dev/null 2>&1 || continue
    while IFS= read -r rule; do
      # "-A CHAIN ... -j TARGET ..." -> "-D CHAIN ... -j TARGET ..."
      eval "\"$ipt\" -t $t -D ${rule#-A }" 2>/dev/null || true
    done < <("$ipt" -t "$t" -S 2>/dev/null | grep -E "^-A .* -(j|g) ($re)( |$)" || true)
    for chain in $("$ipt" -t "$t" -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep -E "^($re)$" || true); do
      "$ipt" -t "$t" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$ipt" -t "$t" -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep -E "^($re)$" || true); do
      "$ipt" -t "$t" -X "$chain" 2>/dev/null || true
    done
  done
}

# host_restore: puts back what HOST_STATE/before recorded; prints what still differs.
host_restore() {
  local before=$HOST_STATE/before line k v p ipt fam t
  [[ -d $before ]] || return 0
  # Forwarding stops before anything else is touched.
  while IFS= read -r line; do
    k=${line%%=*} v=${line#*=}
    [[ $v == - ]] && continue
    [[ $(sysctl -n "$k" 2>/dev/null) == "$v" ]] || sysctl -qw "$k=$v" >/dev/null 2>&1 || true
  done < <(grep ip_forward "$before/sysctl"; grep -v ip_forward "$before/sysctl")
  # The kubelet's KUBE-* chains (with makeIPTablesUtilChains, which our nodes turn off) and the
  # CNI plugins' CNI-* chains (portmap, firewall, ipMasq), should anything have made them.
  for ipt in iptables ip6tables; do
    ipt_remove_chains "$ipt" 'KUBE-[A-Z0-9-]+|CNI-[A-Za-z0-9_-]+'
  done
  # iptables-nft leaves a table behind once it made one; drop those that were not there before
  # and hold no rule any more.
  if command -v nft >/dev/null; then
    for fam in ip ip6; do
      ipt=iptables
      [[ $fam == ip6 ]] && ipt=ip6tables
      for t in "${IPT_TABLES[@]}"; do
        grep -qx "table $fam $t" "$before/nft-tables" && continue
        nft list table "$fam" "$t" >/dev/null 2>&1 || continue
        if ! "$ipt" -t "$t" -S 2>/dev/null | grep -qv '^-P .* ACCEPT$'; then
          nft delete table "$fam" "$t" 2>/dev/null || true
        fi
      done
    done
  fi
  for ipt in iptables ip6tables; do
    if [[ -s $before/$ipt && $(_ipt_save "$ipt") != "$(<"$before/$ipt")" ]]; then
      printf 'real-node: %s differs from before the first node; restoring the saved rules\n' "$ipt" >&2
      "$ipt-restore" <"$before/$ipt" || true
    fi
  done
  # Directories a node's programs made; every node is down, so what is in them is ours.
  for p in "${HOST_PATHS[@]}"; do
    grep -qx "$p" "$before/paths" && continue
    [[ -e $p ]] || continue
    case $p in
    /run/containerd | /var/lib/kubelet)
      # Sockets nothing listens on (dead shims; the kubelet's device-plugin socket, which it
      # makes under /var/lib/kubelet whatever its root dir); live ones of another runtime stay.
      _remove_dead_sockets "$p"
      find "$p" -depth -type d -empty -delete 2>/dev/null || true
      ;;
    /var/log/containers) find "$p" -xtype l -delete 2>/dev/null || true; rmdir "$p" 2>/dev/null || true ;;
    *) find "$p" -depth -type d -empty -delete 2>/dev/null || true ;;
    esac
    [[ $p == /var/lib/cni ]] && rm -rf --one-file-system "$p"
  done
  # Network namespace files of pods (containerd puts them under its state dir, but a stale one
  # from another configuration would land here).
  while IFS= read -r p; do
    grep -qx "$p" "$before/netns" && continue
    [[ $p == cni-* ]] || continue
    umount "/run/netns/$p" 2>/dev/null || true
    rm -f "/run/netns/$p"
  done < <(ls -1 /run/netns 2>/dev/null || true)
}

# _remove_dead_sockets DIR: removes the unix sockets under DIR that nothing listens on.
_remove_dead_sockets() {
  local s listening
  listening=$(ss -xlH 2>/dev/null | awk '{ print $5 }')
  while IFS= read -r s; do
    grep -qxF "$s" <<<"$listening" || rm -f "$s"
  done < <(find "$1" -type s 2>/dev/null)
}
