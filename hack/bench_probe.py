#!/usr/bin/env python3
"""make bench-probe: our probe command against Debian's check_smtp and swaks, same local Postfix,
runs alternating tool by tool, medians of wall and CPU time (the process and its children), and
ratios to ours. Prints a Markdown table for docs/benchmarks.md."""
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = "/tmp/smtp-reach-postfix"
CA = PEER + "/ca.pem"
NS = "smtp-reach-bench"
NODE_HOST = "198.18.98.1"
OURS = [ROOT + "/bin/smtp-reach", "probe"]
CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp"
SWAKS = ["swaks", "--to", "probe@smtp.test", "--from", "probe@smtp.test", "--silent", "2"]
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
SLOW_RUNS = int(os.environ.get("BENCH_SLOW_RUNS", "3"))


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def netns(*cmd):
    return ["ip", "netns", "exec", NS, *cmd]


def measure(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode, proc.stdout.decode(errors="replace")


def scenario(title, tools, runs):
    """tools: list of (name, [commands run one after another])."""
    samples = {name: ([], []) for name, _ in tools}
    verdicts = {}
    for _ in range(runs):
        for name, commands in tools:  # alternate: one run of each tool in turn
            wall = cpu = 0.0
            for cmd in commands:
                w, c, rc, out = measure(cmd)
                wall += w
                cpu += c
                verdicts[name] = summarize(out)
            samples[name][0].append(wall)
            samples[name][1].append(cpu)
    ours_wall = statistics.median(samples[tools[0][0]][0])
    ours_cpu = statistics.median(samples[tools[0][0]][1])
    rows = []
    for name, _ in tools:
        w = statistics.median(samples[name][0])
        c = statistics.median(samples[name][1])
        rows.append((title, name, w, c, w / ours_wall if ours_wall else 0, c / ours_cpu if ours_cpu else 0, verdicts[name]))
    return rows


def summarize(out):
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    for l in lines:
        if l.startswith(("587", "465", "2525", "2600")) or "SMTP" in l or "timed out" in l.lower() or "***" in l:
            return " ".join(l.split())[:90]
    return " ".join(lines[-1].split())[:90] if lines else ""


def silent_server(port, stop):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    srv.settimeout(0.2)
    held = []
    while not stop.is_set():
        try:
            held.append(srv.accept()[0])  # accept and never greet
        except socket.timeout:
            pass
    for c in held:
        c.close()
    srv.close()


def main():
    sh(ROOT + "/hack/postfix-peer.sh", "start", PEER)
    sh("ip", "netns", "del", NS, check=False)
    sh("ip", "link", "del", "srbench0", check=False)
    sh("ip", "netns", "add", NS)
    sh("ip", "link", "add", "srbench0", "type", "veth", "peer", "name", "srbench1")
    sh("ip", "link", "set", "srbench1", "netns", NS)
    sh("ip", "addr", "add", NODE_HOST + "/30", "dev", "srbench0")
    sh("ip", "link", "set", "srbench0", "up")
    sh(*netns("ip", "addr", "add", "198.18.98.2/30", "dev", "srbench1"))
    sh(*netns("ip", "link", "set", "srbench1", "up"))
    sh(*netns("iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", "587", "-j", "DROP"))
    stop = threading.Event()
    threading.Thread(target=silent_server, args=(2600, stop), daemon=True).start()
    ours = OURS + ["--ca-file", CA]
    rows = []
    try:
        rows += scenario("587 STARTTLS", [
            ("smtp-reach", [ours + ["127.0.0.1", "-p", "587"]]),
            ("check_smtp", [[CHECK_SMTP, "-H", "127.0.0.1", "-p", "587", "-S"]]),
            ("swaks", [SWAKS + ["--server", "127.0.0.1:587", "--tls", "--quit-after", "HELO"]]),
        ], RUNS)
        rows += scenario("four ports", [
            ("smtp-reach", [ours + ["127.0.0.1"]]),
            ("check_smtp", [[CHECK_SMTP, "-H", "127.0.0.1", "-p", p, "-S"] for p in ("587", "2525", "25")]),
            ("swaks", [SWAKS + ["--server", "127.0.0.1:" + p, "--tls", "--quit-after", "HELO"] for p in ("587", "2525", "25")]
             + [SWAKS + ["--server", "127.0.0.1:465", "--tls-on-connect", "--quit-after", "HELO"]]),
        ], RUNS)
        rows += scenario("587 dropped (5s timeout)", [
            ("smtp-reach", [netns(*ours, NODE_HOST, "-p", "587", "--connect-timeout", "5s")]),
            ("check_smtp", [netns(CHECK_SMTP, "-H", NODE_HOST, "-p", "587", "-S", "-t", "5")]),
            ("swaks", [netns(*SWAKS, "--server", NODE_HOST + ":587", "--tls", "--quit-after", "HELO", "--timeout", "5")]),
        ], SLOW_RUNS)
        rows += scenario("STARTTLS on 465 (10s timeout)", [
            ("smtp-reach", [ours + ["127.0.0.1", "-p", "465:starttls", "--read-timeout", "10s"]]),
            ("check_smtp", [[CHECK_SMTP, "-H", "127.0.0.1", "-p", "465", "-S", "-t", "10"]]),
            ("swaks", [SWAKS + ["--server", "127.0.0.1:465", "--tls", "--quit-after", "HELO", "--timeout", "10"]]),
        ], SLOW_RUNS)
        rows += scenario("never greets (10s timeout)", [
            ("smtp-reach", [ours + ["127.0.0.1", "-p", "2600", "--read-timeout", "10s"]]),
            ("check_smtp", [[CHECK_SMTP, "-H", "127.0.0.1", "-p", "2600", "-S", "-t", "10"]]),
            ("swaks", [SWAKS + ["--server", "127.0.0.1:2600", "--tls", "--quit-after", "HELO", "--timeout", "10"]]),
        ], SLOW_RUNS)
    finally:
        stop.set()
        sh("ip", "netns", "del", NS, check=False)
        sh("ip", "link", "del", "srbench0", check=False)
    print("| scenario | tool | wall (median) | CPU (median) | wall / ours | CPU / ours | what it said |")
    print("|---|---|---|---|---|---|---|")
    for title, name, w, c, rw, rc, verdict in rows:
        print(f"| {title} | {name} | {w*1000:.0f} ms | {c*1000:.0f} ms | {rw:.2f} | {rc:.2f} | {verdict.replace('|', '/')} |")
    print(f"\nruns: {RUNS} (fast scenarios), {SLOW_RUNS} (timeouts); machine: {os.cpu_count()} cores; "
          f"{subprocess.run(['java', '-version'], capture_output=True, text=True).stderr.splitlines()[0]}")


if __name__ == "__main__":
    sys.exit(main())
