#!/usr/bin/env python3
"""make bench-probe: our probe command against Debian's check_smtp, swaks and Prometheus's
blackbox_exporter, same local Postfix, runs alternating tool by tool, medians of wall and CPU time,
and ratios to ours. Prints a Markdown table for docs/benchmarks.md.

The command-line tools are timed as processes (CPU: the process and its children). The exporter
runs once, as the long-lived server users run, and each probe is a GET /probe: wall is the HTTP
request, CPU is what the exporter's threads spent across it."""
import glob
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = "/tmp/smtp-reach-postfix"
CA = PEER + "/ca.pem"
NS = "smtp-reach-bench"
NODE_HOST = "198.18.98.1"
OURS = [ROOT + "/bin/smtp-reach", "probe"]
CHECK_SMTP = "/usr/lib/nagios/plugins/check_smtp"
SWAKS = ["swaks", "--to", "probe@smtp.test", "--from", "probe@smtp.test", "--silent", "2"]
# The SMTP modules of blackbox_exporter's example.yml; 465 gets the same dialogue inside TLS.
# The module timeout is the longest scenario's; shorter ones come from the scrape timeout.
BLACKBOX_CONFIG = f"""modules:
  smtp_starttls:
    prober: tcp
    timeout: 10s
    tcp:
      query_response:
        - expect: "^220 ([^ ]+) ESMTP (.+)$"
        - send: "EHLO prober\\r"
        - expect: "^250-STARTTLS"
        - send: "STARTTLS\\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO prober\\r"
        - expect: "^250 "
        - send: "QUIT\\r"
      tls_config:
        ca_file: "{CA}"
  smtp_tls:
    prober: tcp
    timeout: 10s
    tcp:
      tls: true
      tls_config:
        ca_file: "{CA}"
      query_response:
        - expect: "^220 ([^ ]+) ESMTP (.+)$"
        - send: "EHLO prober\\r"
        - expect: "^250 "
        - send: "QUIT\\r"
"""
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
SLOW_RUNS = int(os.environ.get("BENCH_SLOW_RUNS", "3"))
WIDE = 48


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


def processes(*cmds):
    """One run of a command-line tool: its commands one after another."""
    def run():
        wall = cpu = 0.0
        for cmd in cmds:
            w, c, rc, out = measure(cmd)
            wall += w
            cpu += c
        return wall, cpu, summarize(out)
    return run


class BlackboxExporter:
    """blackbox_exporter as users run it: one long-lived server, a GET /probe per target."""

    def __init__(self, binary, config, listen, ns=False):
        self.base = f"http://{listen}"
        cmd = [binary, "--config.file", config, "--web.listen-address", listen]
        # ip netns exec execs the command, so the pid is the exporter's own.
        self.proc = subprocess.Popen(netns(*cmd) if ns else cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(self.base + "/-/healthy", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("blackbox_exporter did not start on " + listen)

    def cpu(self):
        """CPU seconds of all its threads (schedstat counts ns; /proc/<pid>/stat counts 10 ms ticks)."""
        total = 0
        for f in glob.glob(f"/proc/{self.proc.pid}/task/*/schedstat"):
            try:
                total += int(open(f).read().split()[0])
            except OSError:
                pass  # a thread that just ended
        return total / 1e9

    def probe(self, module, target, timeout):
        """The metrics one GET /probe returns."""
        # Prometheus sends its scrape timeout; the exporter probes for that less 0.5 s.
        query = urllib.parse.urlencode({"module": module, "target": target})
        req = urllib.request.Request(f"{self.base}/probe?{query}",
                                     headers={"X-Prometheus-Scrape-Timeout-Seconds": str(timeout + 0.5)})
        with urllib.request.urlopen(req, timeout=timeout + 30) as r:
            return r.read().decode()

    def said(self, module, target, metrics):
        success = re.search(r"^probe_success (\S+)", metrics, re.M)
        said = "probe_success " + (success.group(1) if success else "?")
        if said.endswith(" 1"):
            tls = re.search(r'^probe_tls_version_info\{version="([^"]+)"', metrics, re.M)
            return said + (", " + tls.group(1) if tls else "")
        # Why it failed is only in the probe's log, which the exporter keeps (/logs): its first error.
        query = urllib.parse.urlencode({"module": module, "target": target})
        with urllib.request.urlopen(f"{self.base}/logs?{query}", timeout=10) as r:
            log = r.read().decode()
        err = re.search(r'level=ERROR .*?msg="([^"]*)"(?:.*?err="([^"]*)")?', log)
        # Go names both ends of a socket ("read tcp4 LOCAL->REMOTE: ..."); the remote one is enough.
        return said + (": " + re.sub(r"\S+->", "", ": ".join(g for g in err.groups() if g)) if err else "")

    def probes(self, *module_targets, timeout=10):
        """One run: the targets probed concurrently, as Prometheus scrapes them."""
        def run():
            cpu = self.cpu()
            start = time.perf_counter()
            with ThreadPoolExecutor(len(module_targets)) as pool:
                metrics = list(pool.map(lambda mt: self.probe(*mt, timeout), module_targets))
            wall = time.perf_counter() - start
            cpu = self.cpu() - cpu
            said = [self.said(*mt, m) for mt, m in zip(module_targets, metrics)]  # after the clock
            if len(said) > 1 and len(set(said)) == 1:
                said = [f"{len(said)} × {said[0]}"]
            return wall, cpu, "; ".join(said)[:90]
        return run

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def scenario(title, tools, runs):
    """tools: list of (name, run), run() returning wall, CPU and what the tool said."""
    samples = {name: ([], []) for name, _ in tools}
    verdicts = {}
    for _ in range(runs):
        for name, run in tools:  # alternate: one run of each tool in turn
            wall, cpu, verdicts[name] = run()
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


def endpoints_in_one_process(n, what, blackbox):
    """n endpoints probed by one process of ours, as a probe pod runs them; peers probe the same
    n targets as they would (n processes, n GETs)."""
    batch = [ROOT + "/bin/smtp-reach", "batch", "--result-file", os.devnull, "--"]
    for i in range(n):
        batch += ([] if i == 0 else ["+"]) + ["127.0.0.1", "-p", "587", "--ca-file", CA]
    return scenario(f"{n} endpoints, 587 STARTTLS ({what})", [
        ("smtp-reach", processes(batch)),
        ("check_smtp", processes(*[[CHECK_SMTP, "-H", "127.0.0.1", "-p", "587", "-S"]] * n)),
        ("swaks", processes(*[SWAKS + ["--server", "127.0.0.1:587", "--tls", "--quit-after", "HELO"]] * n)),
        ("blackbox_exporter", blackbox.probes(*[("smtp_starttls", "127.0.0.1:587")] * n)),
    ], RUNS)


def marginal_cpu(rows):
    """Each further endpoint's CPU in one process, from 8 to WIDE endpoints, per tool."""
    cpu = {(title.split()[0], name): c for title, name, _, c, _, _, _ in rows if "endpoints" in title}
    return {name: (cpu[(str(WIDE), name)] - cpu[("8", name)]) / (WIDE - 8)
            for (n, name) in cpu if n == "8" and (str(WIDE), name) in cpu}


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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    exporter = subprocess.run([ROOT + "/hack/blackbox-exporter.sh", "path"], capture_output=True, text=True).stdout.strip()
    if not os.access(exporter, os.X_OK):
        sys.exit("bench-probe: no blackbox_exporter; build it with hack/blackbox-exporter.sh build")
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
    config = tempfile.NamedTemporaryFile("w", prefix="blackbox-", suffix=".yml")
    config.write(BLACKBOX_CONFIG)
    config.flush()
    exporters = []
    ours = OURS + ["--ca-file", CA]
    rows = []
    try:
        # One exporter on loopback, and one inside the namespace (reached over its veth) for 587 dropped.
        exporters.append(BlackboxExporter(exporter, config.name, f"127.0.0.1:{free_port()}"))
        exporters.append(BlackboxExporter(exporter, config.name, "198.18.98.2:9115", ns=True))
        blackbox, blackbox_ns = exporters
        rows += scenario("587 STARTTLS", [
            ("smtp-reach", processes(ours + ["127.0.0.1", "-p", "587"])),
            ("check_smtp", processes([CHECK_SMTP, "-H", "127.0.0.1", "-p", "587", "-S"])),
            ("swaks", processes(SWAKS + ["--server", "127.0.0.1:587", "--tls", "--quit-after", "HELO"])),
            ("blackbox_exporter", blackbox.probes(("smtp_starttls", "127.0.0.1:587"))),
        ], RUNS)
        rows += scenario("four ports", [
            ("smtp-reach", processes(ours + ["127.0.0.1"])),
            ("check_smtp", processes(*[[CHECK_SMTP, "-H", "127.0.0.1", "-p", p, "-S"] for p in ("587", "2525", "25")])),
            ("swaks", processes(*[SWAKS + ["--server", "127.0.0.1:" + p, "--tls", "--quit-after", "HELO"] for p in ("587", "2525", "25")],
                                SWAKS + ["--server", "127.0.0.1:465", "--tls-on-connect", "--quit-after", "HELO"])),
            ("blackbox_exporter", blackbox.probes(*[("smtp_starttls", "127.0.0.1:" + p) for p in ("587", "2525", "25")],
                                                  ("smtp_tls", "127.0.0.1:465"))),
        ], RUNS)
        # What a probe pod does when 8 endpoints share it: one process for all, so its start-up
        # is paid once. Peers probe the same 8 targets as they would (8 processes, 8 GETs).
        rows += endpoints_in_one_process(8, "one probe pod", blackbox)
        # Beyond a pod's 8 (its termination message bounds it), only to split our CPU into the
        # JVM's start and the engine's own cost per probe. 48 stays under Postfix's 50
        # connections per client (smtpd_client_connection_count_limit).
        rows += endpoints_in_one_process(WIDE, "one process", blackbox)
        rows += scenario("587 dropped (5s timeout)", [
            ("smtp-reach", processes(netns(*ours, NODE_HOST, "-p", "587", "--connect-timeout", "5s"))),
            ("check_smtp", processes(netns(CHECK_SMTP, "-H", NODE_HOST, "-p", "587", "-S", "-t", "5"))),
            ("swaks", processes(netns(*SWAKS, "--server", NODE_HOST + ":587", "--tls", "--quit-after", "HELO", "--timeout", "5"))),
            ("blackbox_exporter", blackbox_ns.probes(("smtp_starttls", NODE_HOST + ":587"), timeout=5)),
        ], SLOW_RUNS)
        rows += scenario("STARTTLS on 465 (10s timeout)", [
            ("smtp-reach", processes(ours + ["127.0.0.1", "-p", "465:starttls", "--read-timeout", "10s"])),
            ("check_smtp", processes([CHECK_SMTP, "-H", "127.0.0.1", "-p", "465", "-S", "-t", "10"])),
            ("swaks", processes(SWAKS + ["--server", "127.0.0.1:465", "--tls", "--quit-after", "HELO", "--timeout", "10"])),
            ("blackbox_exporter", blackbox.probes(("smtp_starttls", "127.0.0.1:465"), timeout=10)),
        ], SLOW_RUNS)
        rows += scenario("never greets (10s timeout)", [
            ("smtp-reach", processes(ours + ["127.0.0.1", "-p", "2600", "--read-timeout", "10s"])),
            ("check_smtp", processes([CHECK_SMTP, "-H", "127.0.0.1", "-p", "2600", "-S", "-t", "10"])),
            ("swaks", processes(SWAKS + ["--server", "127.0.0.1:2600", "--tls", "--quit-after", "HELO", "--timeout", "10"])),
            ("blackbox_exporter", blackbox.probes(("smtp_starttls", "127.0.0.1:2600"), timeout=10)),
        ], SLOW_RUNS)
    finally:
        stop.set()
        for e in exporters:
            e.stop()
        config.close()
        sh("ip", "netns", "del", NS, check=False)
        sh("ip", "link", "del", "srbench0", check=False)
    print("| scenario | tool | wall (median) | CPU (median) | wall / ours | CPU / ours | what it said |")
    print("|---|---|---|---|---|---|---|")
    for title, name, w, c, rw, rc, verdict in rows:
        cpu = f"{c*1000:.0f}" if c >= 0.01 else f"{c*1000:.1f}"  # the exporter's few ms per probe
        print(f"| {title} | {name} | {w*1000:.0f} ms | {cpu} ms | {rw:.2f} | {rc:.2f} | {verdict.replace('|', '/')} |")
    marginal = marginal_cpu(rows)
    print(f"\nCPU of each further 587 STARTTLS probe, from 8 to {WIDE} endpoints in one run: " + ", ".join(
        f"{name} {c*1000:.1f} ms ({c / marginal['check_smtp']:.1f}x check_smtp)" for name, c in marginal.items()))
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    exporter_version = subprocess.run([exporter, "--version"], capture_output=True, text=True)
    print(f"\nruns: {RUNS} (fast scenarios), {SLOW_RUNS} (timeouts); machine: {os.cpu_count()} cores; {java}; "
          f"{(exporter_version.stdout + exporter_version.stderr).splitlines()[0]}")


if __name__ == "__main__":
    sys.exit(main())
