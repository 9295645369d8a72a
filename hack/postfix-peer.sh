#!/usr/bin/env bash
# postfix-peer.sh - run a real Postfix as a test peer for the SMTP reachability
# prober, in its own config/queue directory (never /etc/postfix, never the
# default instance).
#
# Usage:
#   hack/postfix-peer.sh start  DIR   # idempotent; returns once all ports greet
#   hack/postfix-peer.sh stop   DIR   # stops the instance in DIR only; idempotent
#   hack/postfix-peer.sh status DIR   # exit 0 if the instance in DIR is running
#
# Listens on all IPv4 addresses (inet_interfaces=all, inet_protocols=ipv4):
#   25    smtpd, STARTTLS offered (smtpd_tls_security_level=may), no AUTH
#   587   submission, STARTTLS required (encrypt), AUTH PLAIN/LOGIN after TLS only
#   465   submissions, implicit TLS (smtpd_tls_wrappermode=yes), AUTH PLAIN/LOGIN
#   2525  same as 587
# Banner "220 smtp.test ESMTP Postfix" is sent immediately (no postscreen, no
# reverse-DNS lookup of the client). Nothing is ever relayed or delivered: every
# RCPT TO is rejected and all transports are error:.
#
# Files in DIR (DIR is created if needed and made mode 0755):
#   ca.pem / ca.key          test CA (trust ca.pem in the prober)
#   server.pem / server.key  server cert, SANs DNS:localhost, DNS:smtp.test,
#                            IP:127.0.0.1, IP:198.18.0.1; 30 days. Reused while
#                            valid for >1 more day, otherwise all regenerated.
#   etc/                     config_directory (root-owned tree): main.cf,
#                            master.cf (regenerated on every start that is
#                            not a no-op; file left alone if unchanged),
#                            sasl/smtpd.conf (Cyrus: auxprop/sasldb, PLAIN LOGIN),
#                            sasldb2 (the SASL user db, root:postfix 0640)
#   queue/                   queue_directory (queue/pid/master.pid)
#   data/                    data_directory (owned by postfix)
#   maillog                  the log (maillog_file via postlogd; no syslog needed)
#
# Environment:
#   SMTP_PEER_USER      SASL user      (default probe@smtp.test)
#   SMTP_PEER_PASSWORD  SASL password  (default probe-secret)
#   SMTP_PEER_TIMEOUT   seconds to wait for the ports to greet (default 30)
#
# Exit codes: 0 ok; 1 failure (e.g. a port is taken by something else, start
# failed; see DIR/maillog); 2 usage; 3 prerequisites missing (not root, no
# postfix/openssl/saslpasswd2/Cyrus SASL modules) - callers may skip on 3.
#   Debian: apt-get install postfix openssl sasl2-bin libsasl2-modules
#
# How the separate instance works (least invasive option):
#   Everything is driven by "postfix -c DIR/etc ..." (same as MAIL_CONFIG=DIR/etc).
#   Postfix only requires a non-default config directory to be listed in
#   alternate_config_directories/multi_instance_directories of the DEFAULT
#   /etc/postfix/main.cf when the caller is NOT root (mail_conf_suck() skips the
#   check for euid 0). This script runs as root, so /etc/postfix is neither read
#   for that purpose nor modified. The instance has its own queue_directory
#   (DIR/queue, holds pid/master.pid used by stop/status) and data_directory
#   (DIR/data), so it never touches the default instance. The config lives in
#   DIR/etc rather than DIR itself because "postfix check" wants the whole
#   config_directory tree root-owned and queue/data must not be inside it.
#   Stop/status only look at DIR/queue/pid/master.pid (lock-checked by
#   "postfix -c DIR/etc status"), so other Postfix instances are never touched.
#   Caveat: the set-gid tools postqueue/postdrop (sendmail) would need the
#   alternate_config_directories entry; nothing here uses them.
#
# "start" on a running instance only re-checks the greetings; changes to
# SMTP_PEER_USER/PASSWORD take effect on the next start after a stop.
#
# SASL: Cyrus sasldb (saslpasswd2 from sasl2-bin); simpler than Dovecot here.
# The SASL realm is the part after the last '@' of the user (users without '@'
# get realm = myhostname = smtp.test, which is what smtpd asks Cyrus for).
#
# GOTCHA: DIR must be reachable (search permission on every ancestor) by the
# unprivileged "postfix" user: master opens data/master.lock and smtpd opens
# etc/sasldb2 with postfix privileges. A DIR below a mode-0700 directory (e.g.
# a JUnit @TempDir or mktemp -d) fails with a clear error; use e.g.
# /tmp/smtp-reach-peer.XXXXXX made by this script (it chmods DIR itself 0755).

set -euo pipefail

readonly PORTS=(25 587 465 2525)
readonly HOSTNAME_FQDN=smtp.test
PEER_USER=${SMTP_PEER_USER:-probe@smtp.test}
PEER_PASSWORD=${SMTP_PEER_PASSWORD:-probe-secret}
TIMEOUT=${SMTP_PEER_TIMEOUT:-30}
PROG=${0##*/}

die() { echo "$PROG: error: $*" >&2; exit 1; }
die_prereq() { echo "$PROG: missing prerequisite: $*" >&2; exit 3; }
info() { echo "$PROG: $*" >&2; }
usage() {
  echo "usage: $PROG {start|stop|status} DIR" >&2
  exit 2
}

find_tool() { # name -> path on PATH or in sbin dirs
  local t d
  t=$(command -v "$1" 2>/dev/null) || t=""
  if [[ -z $t ]]; then
    for d in /usr/sbin /sbin /usr/bin; do
      [[ -x $d/$1 ]] && { t=$d/$1; break; }
    done
  fi
  printf '%s' "$t"
}

check_prereqs() {
  [[ $(id -u) -eq 0 ]] || die_prereq "must run as root (Postfix master needs root)"
  POSTFIX=$(find_tool postfix)
  POSTCONF=$(find_tool postconf)
  [[ -n $POSTFIX && -n $POSTCONF ]] || die_prereq "postfix not installed (apt-get install postfix)"
  [[ $1 == start ]] || return 0
  OPENSSL=$(find_tool openssl)
  SASLPASSWD2=$(find_tool saslpasswd2)
  [[ -n $OPENSSL ]] || die_prereq "openssl not installed"
  [[ -n $SASLPASSWD2 ]] || die_prereq "saslpasswd2 not installed (apt-get install sasl2-bin)"
  "$POSTCONF" -a 2>/dev/null | grep -qx cyrus || die_prereq "this postfix lacks Cyrus SASL support"
  local m
  for m in plain login sasldb; do
    compgen -G "/usr/lib/*/sasl2/lib$m.so*" >/dev/null \
      || compgen -G "/usr/lib*/sasl2/lib$m.so*" >/dev/null \
      || die_prereq "Cyrus SASL module lib$m.so not found (apt-get install libsasl2-modules libsasl2-modules-db)"
  done
  id postfix >/dev/null 2>&1 || die_prereq "user 'postfix' does not exist"
  getent group postdrop >/dev/null || die_prereq "group 'postdrop' does not exist"
}

# Absolute, symlink-free DIR (postfix -c requires an absolute path).
resolve_dir() { # dir create?
  if [[ $2 == yes ]]; then
    mkdir -p -- "$1"
  fi
  [[ -d $1 ]] || return 1
  (cd -- "$1" && pwd -P)
}

is_running() { # dir
  [[ -f $1/etc/main.cf && -f $1/queue/pid/master.pid ]] || return 1
  "$POSTFIX" -c "$1/etc" status >/dev/null 2>&1
}

master_pid() { # dir
  local pid=""
  read -r pid <"$1/queue/pid/master.pid" 2>/dev/null || true
  printf '%s' "${pid//[^0-9]/}"
}

# ---------------------------------------------------------------- TLS material
make_certs() { # dir
  local d=$1
  if [[ -s $d/ca.pem && -s $d/ca.key && -s $d/server.pem && -s $d/server.key ]] \
    && "$OPENSSL" x509 -noout -checkend 86400 -in "$d/server.pem" >/dev/null 2>&1 \
    && "$OPENSSL" verify -CAfile "$d/ca.pem" "$d/server.pem" >/dev/null 2>&1; then
    return 0
  fi
  info "generating test CA and server certificate in $d"
  local tmp
  tmp=$(mktemp -d "$d/.certs.XXXXXX")
  (
    umask 077
    "$OPENSSL" req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
      -keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
      -subj "/O=smtp-reach test/CN=smtp-reach test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash"
    "$OPENSSL" req -new -newkey rsa:2048 -nodes -sha256 \
      -keyout "$tmp/server.key" -out "$tmp/server.csr" \
      -subj "/O=smtp-reach test/CN=$HOSTNAME_FQDN"
    cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,DNS:smtp.test,IP:127.0.0.1,IP:198.18.0.1
EOF
    "$OPENSSL" x509 -req -sha256 -days 30 -in "$tmp/server.csr" \
      -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -set_serial "0x$("$OPENSSL" rand -hex 8)" \
      -extfile "$tmp/ext.cnf" -out "$tmp/server.pem"
  ) >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; rm -rf -- "$tmp"; die "openssl failed"; }
  chmod 0644 "$tmp/ca.pem" "$tmp/server.pem"
  chmod 0600 "$tmp/ca.key" "$tmp/server.key"
  mv -f -- "$tmp/ca.key" "$tmp/ca.pem" "$tmp/server.key" "$tmp/server.pem" "$d/"
  rm -rf -- "$tmp"
}

# ---------------------------------------------------------------- config files
# Move FILE.new over FILE unless unchanged. Postfix's config reader
# (load_file) sleeps and re-reads while main.cf's mtime is very recent (guard
# against a file being edited): a just-written main.cf made every postfix
# command, and so "start", ~2 s slower. An unchanged file therefore keeps its
# old mtime and a new one is back-dated by 10 s.
install_cf() { # file
  if cmp -s -- "$1.new" "$1"; then
    rm -f -- "$1.new"
    return 0
  fi
  chmod 0644 "$1.new"
  touch -d '10 seconds ago' -- "$1.new"
  mv -f -- "$1.new" "$1"
}

write_config() { # dir
  local d=$1 c=$1/etc
  mkdir -p "$c/sasl"
  chown root:root "$c" "$c/sasl"
  chmod 0755 "$c" "$c/sasl"
  cat >"$c/main.cf.new" <<EOF
# Generated by hack/postfix-peer.sh - test peer only, never delivers mail.
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop

myhostname = $HOSTNAME_FQDN
mydomain = $HOSTNAME_FQDN
myorigin = \$myhostname
smtpd_banner = \$myhostname ESMTP \$mail_name
biff = no
inet_interfaces = all
inet_protocols = ipv4

# Never relay or deliver anything.
mydestination =
relay_domains =
relayhost =
mynetworks =
mynetworks_style = host
alias_maps =
alias_database =
local_recipient_maps =
default_transport = error:test peer does not deliver mail
local_transport = error:test peer does not deliver mail
relay_transport = error:test peer does not deliver mail
virtual_transport = error:test peer does not deliver mail
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject
smtpd_etrn_restrictions = reject
disable_vrfy_command = yes

# Greet immediately: no client reverse-DNS lookup, no error tarpit.
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200

# TLS (port 25: offered; per-service overrides in master.cf).
smtpd_tls_cert_file = $d/server.pem
smtpd_tls_key_file = $d/server.key
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = no
smtp_tls_security_level = none

# SASL (Cyrus sasldb); enabled per service in master.cf.
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $c/sasl
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = yes
broken_sasl_auth_clients = no

# Logging without syslog: postlogd writes this file.
maillog_file = $d/maillog
maillog_file_prefixes = $d
EOF

  local sub_opts='
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes'
  cat >"$c/master.cf.new" <<EOF
# Generated by hack/postfix-peer.sh. All services non-chroot (5th column n).
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       n       -       -       smtpd
587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission$sub_opts
2525      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission2525$sub_opts
465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  install_cf "$c/main.cf"
  install_cf "$c/master.cf"

  cat >"$c/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $c/sasldb2
EOF
  chmod 0644 "$c/sasl/smtpd.conf"
}

make_sasl_user() { # dir
  local user realm db=$1/etc/sasldb2
  if [[ $PEER_USER == *@* ]]; then
    user=${PEER_USER%@*}
    realm=${PEER_USER##*@}
  else
    user=$PEER_USER
    realm=$HOSTNAME_FQDN
  fi
  [[ -n $user && -n $realm ]] || die "invalid SMTP_PEER_USER '$PEER_USER'"
  # Rebuild from scratch so a changed user/password never leaves stale entries.
  rm -f -- "$db" "$db".*
  printf '%s' "$PEER_PASSWORD" | "$SASLPASSWD2" -f "$db" -p -c -u "$realm" "$user" \
    || die "saslpasswd2 failed"
  chown root:postfix "$db"
  chmod 0640 "$db"
}

# The postfix user must be able to reach DIR (see GOTCHA in the header).
check_traversable() { # dir
  command -v runuser >/dev/null 2>&1 || return 0
  runuser -u postfix -- test -x "$1" 2>/dev/null && return 0
  local a=$1 bad=$1
  while [[ $a != / ]]; do
    a=$(dirname -- "$a")
    runuser -u postfix -- test -x "$a" 2>/dev/null || bad=$a
  done
  die "user 'postfix' cannot reach $1: no search permission on $bad ($(stat -c '%A %U:%G' -- "$bad")). Put DIR somewhere world-traversable (e.g. /tmp/smtp-reach-peer.XXXXXX) or chmod o+x $bad"
}

# ---------------------------------------------------------------- port checks
port_listeners() { # port -> ss lines of LISTEN sockets on that port (any address)
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null || true
}

check_ports_free() {
  local p busy="" l
  for p in "${PORTS[@]}"; do
    l=$(port_listeners "$p")
    if [[ -n $l ]] || (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      busy+="  port $p: ${l:-something accepts connections on 127.0.0.1:$p}"$'\n'
    fi
  done
  if [[ -n $busy ]]; then
    printf '%s: error: port(s) already in use by something that is not the peer instance in %s:\n%s' \
      "$PROG" "$DIR" "$busy" >&2
    echo "$PROG: (a default Postfix? try 'postfix stop' / stop the other service)" >&2
    exit 1
  fi
}

# Read the 220 greeting on a plain-text port, then QUIT.
greet_plain() ( # port; subshell so fd 3 never leaks
  line=""
  exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
  IFS= read -r -t 5 line <&3 || true
  printf 'QUIT\r\n' >&3 2>/dev/null || true
  [[ $line == 220\ * ]]
)

# Implicit TLS: handshake first, then the greeting.
greet_tls() { # port
  local out
  out=$(printf 'QUIT\r\n' | timeout 10 "$OPENSSL" s_client -connect "127.0.0.1:$1" \
    -quiet -ign_eof -servername "$HOSTNAME_FQDN" 2>/dev/null | head -n 1) || true
  [[ $out == 220\ * ]]
}

wait_ready() {
  local deadline=$((SECONDS + TIMEOUT)) p pending
  while :; do
    pending=()
    for p in "${PORTS[@]}"; do
      if [[ $p == 465 ]]; then
        greet_tls "$p" || pending+=("$p")
      else
        greet_plain "$p" 2>/dev/null || pending+=("$p")
      fi
    done
    ((${#pending[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      echo "$PROG: error: no 220 greeting within ${TIMEOUT}s on port(s): ${pending[*]}" >&2
      [[ -f $DIR/maillog ]] && tail -n 20 "$DIR/maillog" >&2
      return 1
    fi
    is_running "$DIR" || { tail -n 20 "$DIR/maillog" >&2 2>/dev/null; die "postfix in $DIR died"; }
    sleep 0.2
  done
}

# ---------------------------------------------------------------- commands
cmd_start() {
  DIR=$(resolve_dir "$1" yes) || die "cannot create $1"
  chmod 0755 "$DIR"
  check_traversable "$DIR"
  if is_running "$DIR"; then
    info "already running (master pid $(master_pid "$DIR")), checking ports"
  else
    check_ports_free
    make_certs "$DIR"
    mkdir -p "$DIR/queue" "$DIR/data"
    chown root:root "$DIR/queue"
    chmod 0755 "$DIR/queue"
    chown postfix:postfix "$DIR/data"
    chmod 0700 "$DIR/data"
    write_config "$DIR"
    make_sasl_user "$DIR"
    local out
    if ! out=$("$POSTFIX" -c "$DIR/etc" start 2>&1); then
      printf '%s\n' "$out" >&2
      [[ -f $DIR/maillog ]] && tail -n 20 "$DIR/maillog" >&2
      die "postfix -c $DIR/etc start failed"
    fi
  fi
  wait_ready || die "postfix in $DIR did not become ready"
  info "running (master pid $(master_pid "$DIR")); ports ${PORTS[*]} greet; CA: $DIR/ca.pem; log: $DIR/maillog"
}

# True if process group PGID has a member that is not a zombie. (Once the
# master exits its children are orphans; a container init may reap them late,
# so "kill -0 -PGID" would keep succeeding for dead processes.)
group_alive() { # pgid
  local f st rest
  for f in /proc/[0-9]*/stat; do
    { read -r st <"$f"; } 2>/dev/null || continue
    rest=${st##*) }          # "S ppid pgrp ..." after the "(comm)" field
    read -r -a st <<<"$rest"
    [[ ${st[2]} == "$1" && ${st[0]} != Z ]] && return 0
  done
  return 1
}

cmd_stop() {
  DIR=$(resolve_dir "$1" no) || { info "$1 does not exist; nothing to stop"; return 0; }
  if ! is_running "$DIR"; then
    info "not running"
    return 0
  fi
  local pid pgid i
  pid=$(master_pid "$DIR")
  pgid=""
  if [[ -n $pid ]]; then
    pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') || pgid=""
  fi
  if [[ -n $pid && $pgid == "$pid" ]]; then
    # What "postfix stop" does (SIGTERM to the master, whose pid comes from
    # this instance's own lock-checked pid file), but polled every 0.05 s
    # instead of postfix-script's 1 s sleeps.
    kill -TERM "$pid" 2>/dev/null || true
  else
    "$POSTFIX" -c "$DIR/etc" stop >/dev/null 2>&1 || true
  fi
  # master runs in its own session (setsid): wait for the whole process group
  # (smtpd children hold the listening sockets) so an immediate restart works.
  if [[ -n $pid && $pgid == "$pid" ]]; then
    for ((i = 0; i < 100; i++)); do
      group_alive "$pid" || break
      sleep 0.05
    done
    if group_alive "$pid"; then
      info "forcing process group $pid down"
      kill -KILL -- "-$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  is_running "$DIR" && die "failed to stop postfix in $DIR"
  info "stopped"
}

cmd_status() {
  DIR=$(resolve_dir "$1" no) || { info "not running ($1 does not exist)"; return 1; }
  if is_running "$DIR"; then
    info "running (master pid $(master_pid "$DIR"))"
    return 0
  fi
  info "not running"
  return 1
}

main() {
  [[ $# -eq 2 && -n $2 ]] || usage
  case $1 in
    start | stop | status) ;;
    *) usage ;;
  esac
  check_prereqs "$1"
  "cmd_$1" "$2"
}

main "$@"
