#!/usr/bin/env bash
# make bench-startup: what a probe pod pays every round, from process start to the result file
# written, for a four-port probe of the local Postfix, in JVM variants run alternately:
#   launcher  bin/smtp-reach's flags (C1 only, serial GC, no perf data)
#   cds       the same plus an AppCDS archive recorded from one training probe
#   cds-heap  the same plus -Xms8m -Xmx32m
# Prints median wall time and median peak RSS per variant, and ratios to the launcher.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-15}
peer=/tmp/smtp-reach-postfix
hack/postfix-peer.sh start "$peer" >/dev/null
app=target/quarkus-app
cp="$app/app/*:$app/lib/main/*"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=(java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -XX:-UsePerfData
  -Dslf4j.provider=org.slf4j.helpers.NOP_FallbackServiceProvider -Dslf4j.internal.verbosity=WARN)
probe=(-cp "$cp" io.smtpreach.cli.Main probe 127.0.0.1 --ca-file "$peer/ca.pem" --result-file "$work/result.json")
"${base[@]}" -XX:ArchiveClassesAtExit="$work/probe.jsa" "${probe[@]}" >/dev/null 2>&1 || true
declare -A flags=([launcher]="" [cds]="-XX:SharedArchiveFile=$work/probe.jsa"
  [cds-heap]="-XX:SharedArchiveFile=$work/probe.jsa -Xms8m -Xmx32m")
variants=(launcher cds cds-heap)
for ((i = 0; i < runs; i++)); do
  for v in "${variants[@]}"; do
    rm -f "$work/result.json"
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M" -o "$work/$v.$i" "${base[@]}" ${flags[$v]} "${probe[@]}" >/dev/null 2>&1 || true
    [ -s "$work/result.json" ] || { echo "bench-startup: $v wrote no result" >&2; exit 1; }
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf '%-10s %10s %12s %8s %8s\n' variant wall_s peak_rss_MiB wall_x rss_x
for v in "${variants[@]}"; do
  w=$(cat "$work/$v".* | awk '{print $1}' | median)
  r=$(cat "$work/$v".* | awk '{print $2 / 1024}' | median)
  [ "$v" = launcher ] && { w0=$w; r0=$r; }
  awk -v v="$v" -v w="$w" -v r="$r" -v w0="$w0" -v r0="$r0" \
    'BEGIN {printf "%-10s %10.2f %12.1f %8.2f %8.2f\n", v, w, r, w / w0, r / r0}'
done
echo "($runs alternating runs each; $(nproc) cores; $(java -version 2>&1 | head -1))"
