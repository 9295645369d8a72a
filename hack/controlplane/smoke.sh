#!/usr/bin/env bash
# Smoke test of the binaries hack/control-plane.sh builds: starts etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler on free loopback
# ports with throw-away certificates (openssl), checks each one's health and
# that the controllers and the scheduler act on a Deployment, then stops them.
# Run it as `hack/control-plane.sh smoke`, which builds first and sets BIN_DIR.
# SMTP_REACH_KEEP=1 keeps the temp dir (certs, kubeconfigs, logs).
# The flags used here are explained in hack/controlplane/NOTES.md.
set -euo pipefail

: "${BIN_DIR:?BIN_DIR must point at the control-plane bin directory}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smtp-reach-cp.XXXXXX")
PKI=$WORK/pki
PIDS=()
NAMES=()
T0=$SECONDS

log() { printf 'smoke [%3ds]: %s\n' "$((SECONDS - T0))" "$*" >&2; }

stop_all() {
  local i pid n
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do # reverse start order: etcd last
    pid=${PIDS[i]}
    kill "$pid" 2>/dev/null || continue
    for ((n = 0; n < 100; n++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
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

# start NAME BINARY ARGS...: run in the background, output to $WORK/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  NAMES+=("$name")
}

# wait_for DESC SECONDS CMD...: retry CMD every half second until it succeeds.
wait_for() {
  local desc=$1 limit=$2 deadline=$((SECONDS + $2)) pid
  shift 2
  until "$@" >/dev/null 2>&1; do
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || {
        log "a component exited while waiting for $desc"
        return 1
      }
    done
    ((SECONDS < deadline)) || {
      log "timed out after ${limit}s waiting for $desc"
      return 1
    }
    sleep 0.5
  done
  log "$desc"
}

# Free ports below Linux's ephemeral range (32768+), so no outgoing
# connection grabs one between the check and the bind.
PORTS=()
pick_ports() {
  local p tries=0
  while ((${#PORTS[@]} < $1)); do
    ((tries++ < 1000)) || {
      log "no free ports"
      return 1
    }
    p=$((20000 + RANDOM % 12000))
    [[ " ${PORTS[*]} " == *" $p "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue # something listens
    PORTS+=("$p")
  done
}

# --- certificates -------------------------------------------------------------
mkdir -p "$PKI"
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
# ca NAME COMMON_NAME
ca() {
  openssl req -x509 "${newkey[@]}" -days 1 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt" 2>/dev/null
}
# cert CA NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
cert() {
  openssl req -new "${newkey[@]}" -subj "$3" \
    -keyout "$PKI/$2.key" -out "$PKI/$2.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4"
    [[ -z ${5:-} ]] || echo "subjectAltName=$5"
  } >"$PKI/$2.ext"
  openssl x509 -req -in "$PKI/$2.csr" -CA "$PKI/$1.crt" -CAkey "$PKI/$1.key" \
    -CAcreateserial -days 1 -extfile "$PKI/$2.ext" -out "$PKI/$2.crt" 2>/dev/null
}
ca ca smtp-reach-local-ca
# Front-proxy (request-header) CA and the client cert the apiserver uses
# towards aggregated API servers. Without --requestheader-client-ca-file the
# controller-manager and scheduler log "missing content for CA bundle
# client-ca::kube-system::extension-apiserver-authentication::requestheader-client-ca-file"
# over and over.
ca front-proxy-ca smtp-reach-local-front-proxy-ca
cert front-proxy-ca front-proxy-client "/CN=front-proxy-client" clientAuth
SERVICE_CIDR=10.0.0.0/24
KUBERNETES_SVC_IP=10.0.0.1 # first address of SERVICE_CIDR: the `kubernetes` Service
cert ca apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert ca admin "/O=system:masters/CN=smtp-reach-admin" clientAuth
cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth
cert ca scheduler "/CN=system:kube-scheduler" clientAuth
# Service-account token signing key pair (private: apiserver signs, KCM signs
# the tokens of its per-controller service accounts; public: verification).
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
  openssl pkcs8 -topk8 -nocrypt -out "$PKI/sa.key"
openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
log "certificates in $PKI"

pick_ports 5
ETCD_PORT=${PORTS[0]} ETCD_PEER_PORT=${PORTS[1]} API_PORT=${PORTS[2]} KCM_PORT=${PORTS[3]} SCHED_PORT=${PORTS[4]}
API=https://127.0.0.1:$API_PORT

# kubeconfig NAME: client cert $PKI/NAME.{crt,key} against the apiserver.
kubeconfig() {
  cat >"$WORK/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $API
    certificate-authority: $PKI/ca.crt
users:
- name: $1
  user:
    client-certificate: $PKI/$1.crt
    client-key: $PKI/$1.key
contexts:
- name: local
  context:
    cluster: local
    user: $1
current-context: local
EOF
}
kubeconfig admin
kubeconfig controller-manager
kubeconfig scheduler
k() { "$BIN_DIR/kubectl" --kubeconfig "$WORK/admin.kubeconfig" "$@"; }

# --- etcd -------------------------------------------------------------------------
# etcd takes any ETCD_<FLAG> environment variable as a flag: run it without them.
etcd_env=()
while IFS= read -r v; do etcd_env+=(-u "$v"); done < <(compgen -e | grep '^ETCD_' || true)
start etcd env ${etcd_env[@]+"${etcd_env[@]}"} "$BIN_DIR/etcd" \
  --name=smoke --data-dir="$WORK/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="smoke=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --log-level=warn
etcd_healthy() { curl -fsS "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }
wait_for "etcd healthy on 127.0.0.1:$ETCD_PORT" 30 etcd_healthy

# --- kube-apiserver ---------------------------------------------------------------
start kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --endpoint-reconciler-type=none \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" \
  --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User \
  --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" \
  --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" \
  --service-account-signing-key-file="$PKI/sa.key" \
  --authorization-mode=Node,RBAC \
  --allow-privileged=true \
  --cert-dir="$WORK/apiserver"
readyz() { [[ $(curl -fsS --cacert "$PKI/ca.crt" "$API/readyz") == ok ]]; }
wait_for "kube-apiserver /readyz ok on $API" 120 readyz

# --- kube-controller-manager, kube-scheduler --------------------------------------
cm=$WORK/controller-manager.kubeconfig
start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig="$cm" --authentication-kubeconfig="$cm" --authorization-kubeconfig="$cm" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$WORK/controller-manager" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" \
  --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
sc=$WORK/scheduler.kubeconfig
start kube-scheduler "$BIN_DIR/kube-scheduler" \
  --kubeconfig="$sc" --authentication-kubeconfig="$sc" --authorization-kubeconfig="$sc" \
  --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" --cert-dir="$WORK/scheduler" \
  --leader-elect=false
healthz() { [[ $(curl -fsSk "https://127.0.0.1:$1/healthz") == ok ]]; }
wait_for "kube-controller-manager /healthz ok on :$KCM_PORT" 60 healthz "$KCM_PORT"
wait_for "kube-scheduler /healthz ok on :$SCHED_PORT" 60 healthz "$SCHED_PORT"

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
