# shellcheck shell=bash
# Functions shared by smoke.sh and hack/local-cluster.sh: free ports,
# certificates, kubeconfigs, and starting etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler on 127.0.0.1. Sourced, not run.
# The flags are explained in hack/controlplane/NOTES.md.
#
# The caller sets BIN_DIR (the control-plane bin dir), WORK (certificates,
# kubeconfigs, data, logs and pid files go here) and LOG_NAME (log prefix),
# and may read PIDS/NAMES (what cp_start started, in order).

: "${BIN_DIR:?BIN_DIR must point at the control-plane bin directory}"
: "${WORK:?WORK must name the directory for the control-plane files}"
PKI=$WORK/pki
PIDS=()
NAMES=()
T0=${T0:-$SECONDS}
SERVICE_CIDR=10.0.0.0/24
KUBERNETES_SVC_IP=10.0.0.1 # first address of SERVICE_CIDR: the `kubernetes` Service

log() { printf '%s [%3ds]: %s\n' "${LOG_NAME:-control-plane}" "$((SECONDS - T0))" "$*" >&2; }

# cp_start NAME BINARY ARGS...: run in the background (its own session, so a
# Ctrl-C in the caller's terminal does not reach it), output to $WORK/NAME.log,
# pid to $WORK/NAME.pid.
cp_start() {
  local name=$1
  shift
  setsid "$@" >"$WORK/$name.log" 2>&1 </dev/null &
  PIDS+=("$!")
  NAMES+=("$name")
  echo "$!" >"$WORK/$name.pid"
}

# cp_stop PID: SIGTERM, up to 10 s, then SIGKILL.
cp_stop() {
  local pid=$1 n
  kill "$pid" 2>/dev/null || return 0
  for ((n = 0; n < 100; n++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# cp_wait_for DESC SECONDS CMD...: retry CMD every half second until it
# succeeds; fail early when a component started by cp_start has exited.
cp_wait_for() {
  local desc=$1 limit=$2 deadline=$((SECONDS + $2)) i
  shift 2
  until "$@" >/dev/null 2>&1; do
    for i in "${!PIDS[@]}"; do
      kill -0 "${PIDS[i]}" 2>/dev/null || {
        log "${NAMES[i]} exited while waiting for $desc"
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

# cp_pick_ports N: N free ports into PORTS, below Linux's ephemeral range
# (32768+), so no outgoing connection grabs one between the check and the bind.
PORTS=()
cp_pick_ports() {
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

# --- certificates (openssl, P-256, valid for DAYS) ----------------------------------
CERT_DAYS=${CERT_DAYS:-1}
_newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
# _ca NAME COMMON_NAME
_ca() {
  openssl req -x509 "${_newkey[@]}" -days "$CERT_DAYS" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -keyout "$PKI/$1.key" -out "$PKI/$1.crt" 2>/dev/null
}
# _cert CA NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
_cert() {
  openssl req -new "${_newkey[@]}" -subj "$3" \
    -keyout "$PKI/$2.key" -out "$PKI/$2.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$4"
    [[ -z ${5:-} ]] || echo "subjectAltName=$5"
  } >"$PKI/$2.ext"
  openssl x509 -req -in "$PKI/$2.csr" -CA "$PKI/$1.crt" -CAkey "$PKI/$1.key" \
    -CAcreateserial -days "$CERT_DAYS" -extfile "$PKI/$2.ext" -out "$PKI/$2.crt" 2>/dev/null
}

# cp_make_pki: the cluster CA, the front-proxy CA, serving and client certs,
# and the service-account signing key pair, in $PKI.
cp_make_pki() {
  mkdir -p "$PKI"
  _ca ca smtp-reach-local-ca
  # Front-proxy (request-header) CA and the client cert the apiserver uses
  # towards aggregated API servers. Without --requestheader-client-ca-file the
  # controller-manager and scheduler log "missing content for CA bundle
  # client-ca::kube-system::extension-apiserver-authentication::requestheader-client-ca-file"
  # over and over.
  _ca front-proxy-ca smtp-reach-local-front-proxy-ca
  _cert front-proxy-ca front-proxy-client "/CN=front-proxy-client" clientAuth
  _cert ca apiserver "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  _cert ca admin "/O=system:masters/CN=smtp-reach-admin" clientAuth
  # The Fabric8 client reads a PKCS#8 "PRIVATE KEY" as RSA unless told the
  # algorithm; the SEC1 "EC PRIVATE KEY" form names it, so the admin
  # kubeconfig works from Java as it is.
  openssl ec -in "$PKI/admin.key" -out "$PKI/admin.key" 2>/dev/null
  _cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth
  # What the apiserver shows a kubelet (logs, exec) of a real node (hack/real-node.sh); the
  # kubelet authorizes it by webhook, and system:masters may do all.
  _cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  _cert ca scheduler "/CN=system:kube-scheduler" clientAuth
  # Service-account token signing key pair (private: apiserver signs, KCM signs
  # the tokens of its per-controller service accounts; public: verification).
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
    openssl pkcs8 -topk8 -nocrypt -out "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  log "certificates in $PKI"
}

# cp_kubeconfig NAME API_URL: $WORK/NAME.kubeconfig, client cert $PKI/NAME.{crt,key}.
cp_kubeconfig() {
  cat >"$WORK/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $2
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

# --- components ----------------------------------------------------------------------
# cp_start_etcd CLIENT_PORT PEER_PORT
cp_start_etcd() {
  # etcd takes any ETCD_<FLAG> environment variable as a flag: run it without them.
  local etcd_env=() v
  while IFS= read -r v; do etcd_env+=(-u "$v"); done < <(compgen -e | grep '^ETCD_' || true)
  cp_start etcd env ${etcd_env[@]+"${etcd_env[@]}"} "$BIN_DIR/etcd" \
    --name=local --data-dir="$WORK/etcd" \
    --listen-client-urls="http://127.0.0.1:$1" \
    --advertise-client-urls="http://127.0.0.1:$1" \
    --listen-peer-urls="http://127.0.0.1:$2" \
    --initial-advertise-peer-urls="http://127.0.0.1:$2" \
    --initial-cluster="local=http://127.0.0.1:$2" \
    --unsafe-no-fsync --log-level=warn
  cp_wait_for "etcd healthy on 127.0.0.1:$1" 30 _etcd_healthy "$1"
}

# cp_start_apiserver ETCD_PORT API_PORT
# With SMTP_REACH_AUDIT_USER set, the requests of that user are audited (metadata only) to
# $WORK/audit.log: the scale benchmark counts the operator's API calls there.
cp_start_apiserver() {
  local audit=()
  if [[ -n ${SMTP_REACH_AUDIT_USER:-} ]]; then
    cat >"$WORK/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: Metadata
  users: ["$SMTP_REACH_AUDIT_USER"]
- level: None
EOF
    audit=(--audit-policy-file="$WORK/audit-policy.yaml" --audit-log-path="$WORK/audit.log"
      --audit-log-format=json --audit-log-maxsize=0)
  fi
  cp_start kube-apiserver "$BIN_DIR/kube-apiserver" ${audit[@]+"${audit[@]}"} \
    --etcd-servers="http://127.0.0.1:$1" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$2" \
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
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --authorization-mode=Node,RBAC \
    --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --cert-dir="$WORK/apiserver"
  cp_wait_for "kube-apiserver /readyz ok on https://127.0.0.1:$2" 120 _readyz "$2"
}

_etcd_healthy() { curl -fsS "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
_readyz() { [[ $(curl -fsS --cacert "$PKI/ca.crt" "https://127.0.0.1:$1/readyz") == ok ]]; }
_healthz() { [[ $(curl -fsSk "https://127.0.0.1:$1/healthz") == ok ]]; }

# cp_start_controller_manager PORT (needs $WORK/controller-manager.kubeconfig)
cp_start_controller_manager() {
  local cm=$WORK/controller-manager.kubeconfig
  # --controllers=*: every controller that is on by default, among them
  # garbagecollector, namespace, serviceaccount, serviceaccount-token,
  # node-lifecycle, job, deployment and replicaset.
  cp_start kube-controller-manager "$BIN_DIR/kube-controller-manager" \
    --kubeconfig="$cm" --authentication-kubeconfig="$cm" --authorization-kubeconfig="$cm" \
    --bind-address=127.0.0.1 --secure-port="$1" --cert-dir="$WORK/controller-manager" \
    --leader-elect=false \
    --controllers='*' \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" \
    --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
  cp_wait_for "kube-controller-manager /healthz ok on :$1" 60 _healthz "$1"
}

# cp_start_scheduler PORT (needs $WORK/scheduler.kubeconfig)
cp_start_scheduler() {
  local sc=$WORK/scheduler.kubeconfig
  cp_start kube-scheduler "$BIN_DIR/kube-scheduler" \
    --kubeconfig="$sc" --authentication-kubeconfig="$sc" --authorization-kubeconfig="$sc" \
    --bind-address=127.0.0.1 --secure-port="$1" --cert-dir="$WORK/scheduler" \
    --leader-elect=false
  cp_wait_for "kube-scheduler /healthz ok on :$1" 60 _healthz "$1"
}

# cp_start_all: certificates, kubeconfigs and the four components on free
# ports; sets API (the apiserver URL).
cp_start_all() {
  cp_make_pki
  cp_pick_ports 5
  local etcd_port=${PORTS[0]} etcd_peer_port=${PORTS[1]} api_port=${PORTS[2]}
  local kcm_port=${PORTS[3]} sched_port=${PORTS[4]}
  API=https://127.0.0.1:$api_port
  cp_kubeconfig admin "$API"
  cp_kubeconfig controller-manager "$API"
  cp_kubeconfig scheduler "$API"
  cp_start_etcd "$etcd_port" "$etcd_peer_port"
  cp_start_apiserver "$etcd_port" "$api_port"
  cp_start_controller_manager "$kcm_port"
  cp_start_scheduler "$sched_port"
}
