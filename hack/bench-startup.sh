#!/usr/bin/env bash
# make bench-startup: what a probe pod pays every round, from process start to the result file
# written, for a four-port probe of the local Postfix as a probe pod runs it (smtp-reach batch,
# one endpoint), in JVM variants run alternately:
#   operator-cp  the operator's class path (150 jars), no archive: the launcher before issue 6
#   probe-cp     the probe's own class path (four jars), no archive
#   launcher     bin/smtp-reach as shipped: probe class path + the build's CDS archive + flags
#   launcher-g1  the same with G1 (JDK 17 maps the archive's heap objects only with G1)
# Prints median wall time, CPU time (user+sys) and peak RSS per variant, and ratios to operator-cp.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-15}
peer=/tmp/smtp-reach-postfix
hack/postfix-peer.sh start "$peer" >/dev/null
app=$(pwd -P)/target/quarkus-app
probe_cp="$(echo "$app"/app/*.jar):$app/probe/picocli.jar:$app/probe/dnsjava.jar:$app/probe/slf4j-api.jar"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags=(-XX:TieredStopAtLevel=1 -Xss512k -XX:-UsePerfData
  -Dslf4j.provider=org.slf4j.helpers.NOP_FallbackServiceProvider -Dslf4j.internal.verbosity=WARN)
args=(batch --result-file "$work/result.json" -- 127.0.0.1 --ca-file "$peer/ca.pem")
cds=(-XX:SharedArchiveFile="$app/probe/probe.jsa" -Xshare:on -Xmx64m)
run_variant() {
  case $1 in
    operator-cp) java -XX:+UseSerialGC "${flags[@]}" -cp "$app/app/*:$app/lib/main/*" io.smtpreach.cli.Main "${args[@]}" ;;
    probe-cp) java -XX:+UseSerialGC "${flags[@]}" -cp "$probe_cp" io.smtpreach.cli.Main "${args[@]}" ;;
    launcher) JAVA_TOOL_OPTIONS=-Xshare:on bin/smtp-reach "${args[@]}" ;;
    launcher-g1) java -XX:+UseG1GC "${cds[@]}" "${flags[@]}" -cp "$probe_cp" io.smtpreach.cli.Main "${args[@]}" ;;
  esac
}
variants=(operator-cp probe-cp launcher launcher-g1)
for ((i = 0; i < runs; i++)); do
  for v in "${variants[@]}"; do
    rm -f "$work/result.json"
    /usr/bin/time -f "%e %U %S %M" -o "$work/$v.$i" bash -c "$(declare -f run_variant); $(declare -p app probe_cp flags args cds work peer); run_variant $v" >/dev/null 2>&1 || true
    [ -s "$work/result.json" ] || { echo "bench-startup: $v wrote no result" >&2; exit 1; }
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf '%-12s %8s %8s %12s %8s %8s %8s\n' variant wall_s cpu_s peak_rss_MiB wall_x cpu_x rss_x
for v in "${variants[@]}"; do
  w=$(cat "$work/$v".* | awk '{print $1}' | median)
  c=$(cat "$work/$v".* | awk '{print $2 + $3}' | median)
  r=$(cat "$work/$v".* | awk '{print $4 / 1024}' | median)
  [ "$v" = operator-cp ] && { w0=$w; c0=$c; r0=$r; }
  awk -v v="$v" -v w="$w" -v c="$c" -v r="$r" -v w0="$w0" -v c0="$c0" -v r0="$r0" \
    'BEGIN {printf "%-12s %8.2f %8.2f %12.1f %8.2f %8.2f %8.2f\n", v, w, c, r, w / w0, c / c0, r / r0}'
done
echo "($runs alternating runs each; $(nproc) cores; $(java -version 2>&1 | head -1))"
