#!/usr/bin/env python3
"""Benchmark harness for `oomkit watch`, run by bench/watch/run.sh.

Scenarios, all on the real kernel:
  capture   leak children (heap, anonymous mmap) into a memory cgroup with a
            limit, at several rates; per trial: was a complete bundle on disk
            when the kernel's oom_kill counter moved, the verdict, and the
            time-to-OOM prediction error at the 50% crossing (read from the
            daemon's /metrics, compared with the observed kill time)
  alert     the same with a real Alertmanager: rule firing (daemon log) to
            alert visible in GET /api/v2/alerts
  overhead  the daemon watching N cgroups with one idle process each at 1 s
            sampling: CPU, RSS, and sampling gaps (from its exit line)
  earlyoom  earlyoom --dryrun beside a cgroup leak: did it react before the
            kernel killed the leak?
Prints one JSON object on stdout; run.sh turns it into the Markdown report.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

OOMKIT = os.environ.get("OOMKIT_BIN", "build/oomkit")
BUILD = os.environ.get("OOMKIT_BUILD_DIR", "build")
LEAK = os.path.join(BUILD, "tests/watch/watch_leak")
V1 = "/sys/fs/cgroup/memory"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cg_create(name, limit_bytes):
    d = os.path.join(V1, name)
    if os.path.isdir(d):
        cg_destroy(d)
    os.mkdir(d)
    with open(os.path.join(d, "memory.swappiness"), "w") as f:
        f.write("0")
    with open(os.path.join(d, "memory.limit_in_bytes"), "w") as f:
        f.write(str(limit_bytes))
    return d


def cg_destroy(d):
    for _ in range(100):
        try:
            pids = [int(x) for x in open(os.path.join(d, "cgroup.procs")).read().split()]
        except OSError:
            break
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
    for _ in range(100):
        try:
            os.rmdir(d)
            return
        except OSError:
            time.sleep(0.02)


def oom_kills(d):
    for line in open(os.path.join(d, "memory.oom_control")):
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return -1


def spawn_in(d, argv):
    def enter():
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    return subprocess.Popen(argv, preexec_fn=enter, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def bundles(capdir):
    try:
        return [e for e in os.listdir(capdir) if not e.startswith(".")]
    except OSError:
        return []


def scrape(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=0.5) as r:
            text = r.read().decode()
    except Exception:
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^(oomkit_[a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(3))
    return out


def capture_trial(tmp, n, kind, rate, limit_mb, am_url=None):
    d = cg_create("oomkit-bench-watch-%d-%d" % (os.getpid(), n), limit_mb << 20)
    try:
        return capture_trial_in(d, tmp, n, kind, rate, limit_mb, am_url)
    finally:
        cg_destroy(d)


def capture_trial_in(d, tmp, n, kind, rate, limit_mb, am_url):
    capdir = os.path.join(tmp, "cap%d" % n)
    port = free_port()
    log = os.path.join(tmp, "daemon%d.log" % n)
    budget = limit_mb / rate * 2 + 10
    args = [OOMKIT, "watch", "--cgroup", d, "--interval", "1s", "--listen",
            "127.0.0.1:%d" % port, "--capture-dir", capdir, "--no-user-stacks",
            "--duration", "%.0f" % budget]
    if am_url:
        args.append("--alertmanager=" + am_url)
    daemon = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    t_ready = time.time()
    while scrape(port) is None and time.time() - t_ready < 5:
        time.sleep(0.05)
    k0 = oom_kills(d)
    leak = spawn_in(d, [LEAK, kind, str(rate), "--dir", tmp])
    t0 = time.time()
    limit = float(limit_mb << 20)
    at50 = None
    kill_t = None
    bundle_at_kill = False
    alert_seen = None
    next_scrape = 0
    while time.time() - t0 < budget:
        now = time.time()
        if kill_t is None and oom_kills(d) > k0:
            kill_t = now
            bundle_at_kill = any(os.path.exists(os.path.join(capdir, b, "manifest.json"))
                                 for b in bundles(capdir))
        if at50 is None and now >= next_scrape:
            m = scrape(port)
            next_scrape = now + 0.05
            if m and m.get("oomkit_memory_working_set_bytes", 0) >= 0.5 * limit and \
                    "oomkit_predicted_oom_seconds" in m:
                at50 = (now, m["oomkit_predicted_oom_seconds"])
        if am_url and alert_seen is None:
            try:
                with urllib.request.urlopen(am_url + "/api/v2/alerts", timeout=0.5) as r:
                    body = r.read()
                    if b"OomkitOomPredicted" in body and os.path.basename(d).encode() in body:
                        alert_seen = time.time()
            except Exception:
                pass
        if kill_t is not None and (not am_url or alert_seen or now - kill_t > 3):
            break
        time.sleep(0.005)
    leak.kill()
    leak.wait()
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=10)
    verdict = None
    for b in bundles(capdir):
        try:
            verdict = json.load(open(os.path.join(capdir, b, "manifest.json")))["verdict"]["kind"]
        except Exception:
            pass
    err = None
    if at50 and kill_t and kill_t > at50[0]:
        actual = kill_t - at50[0]
        err = abs(at50[1] - actual) / actual
    fired = None
    for line in open(log):
        m = re.match(r"oomkit watch: (\S+)Z .*ok -> ", line)
        if m and fired is None:
            fired = calendar.timegm(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) \
                + float("0" + m.group(1)[19:])
    cg_destroy(d)
    shutil.rmtree(capdir, ignore_errors=True)
    return {
        "kind": kind, "rate": rate, "killed": kill_t is not None,
        "bundle_before_kill": bundle_at_kill, "verdict": verdict, "pred_err_at_50": err,
        "time_to_kill_s": (kill_t - t0) if kill_t else None,
        "alert_latency_s": (alert_seen - fired) if (alert_seen and fired) else None,
    }


def overhead(tmp, n_cgroups, seconds):
    root = cg_create("oomkit-bench-watch-ovh-%d" % os.getpid(), 1 << 40)
    kids = []
    for i in range(n_cgroups):
        d = os.path.join(root, "c%02d" % i)
        os.mkdir(d)
        with open(os.path.join(d, "memory.limit_in_bytes"), "w") as f:
            f.write(str(64 << 20))
        kids.append(spawn_in(d, ["sleep", str(seconds + 30)]))
    log = os.path.join(tmp, "ovh.log")
    daemon = subprocess.Popen([OOMKIT, "watch", "--cgroups-under", root, "--interval", "1s",
                               "--listen", "127.0.0.1:%d" % free_port(), "--capture-dir",
                               os.path.join(tmp, "ovhcap"), "--duration", str(seconds)],
                              stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    time.sleep(seconds / 2)
    status = open("/proc/%d/status" % daemon.pid).read()
    rollup = open("/proc/%d/smaps_rollup" % daemon.pid).read()
    daemon.wait(timeout=seconds + 30)
    for k in kids:
        k.kill()
        k.wait()
    for i in range(n_cgroups):
        cg_destroy(os.path.join(root, "c%02d" % i))
    cg_destroy(root)
    text = open(log).read()
    m = re.search(r"(\d+) samples, (\d+) wakeups, gap p50 ([\d.]+) ms p99 ([\d.]+) ms max ([\d.]+) ms, "
                  r"cpu ([\d.]+) s over ([\d.]+) s, rss ([\d.]+) MiB", text)
    kb = lambda key, src: int(re.search(r"^%s:\s+(\d+) kB" % key, src, re.M).group(1))
    res = {"cgroups": n_cgroups, "seconds": seconds,
           "rss_kib": kb("VmRSS", status), "rss_anon_kib": kb("RssAnon", status),
           "pss_kib": kb("Pss", rollup)}
    if m:
        res.update({"samples": int(m.group(1)), "gap_p50_ms": float(m.group(3)),
                    "gap_p99_ms": float(m.group(4)), "gap_max_ms": float(m.group(5)),
                    "cpu_s": float(m.group(6)), "wall_s": float(m.group(7))})
        res["cpu_pct_of_core"] = 100 * res["cpu_s"] / res["wall_s"]
    return res


def earlyoom_trial(tmp, n, rate, limit_mb):
    if shutil.which("earlyoom") is None:
        return None
    d = cg_create("oomkit-bench-watch-eo-%d-%d" % (os.getpid(), n), limit_mb << 20)
    log = os.path.join(tmp, "earlyoom%d.log" % n)
    eo = subprocess.Popen(["earlyoom", "--dryrun", "-r", "1"], stdout=open(log, "w"),
                          stderr=subprocess.STDOUT)
    time.sleep(0.5)
    k0 = oom_kills(d)
    leak = spawn_in(d, [LEAK, "heap", str(rate)])
    t0 = time.time()
    acted_before = False
    while time.time() - t0 < limit_mb / rate * 2 + 10:
        text = open(log).read()
        if oom_kills(d) > k0:
            break
        # The banner states its thresholds ("sending SIGTERM when ..."); an
        # action is a later line: "low memory!" then "sending SIGTERM to".
        if re.search(r"low memory|sending SIG\w+ to", text):
            acted_before = True
        time.sleep(0.01)
    killed = oom_kills(d) > k0
    leak.kill()
    leak.wait()
    eo.send_signal(signal.SIGTERM)
    eo.wait()
    text = open(log).read()
    avail = re.findall(r"mem avail: *(\d+) of *(\d+) MiB", text)
    cg_destroy(d)
    return {"rate": rate, "killed": killed, "acted_before_kill": acted_before,
            "last_mem_avail_mib": avail[-1] if avail else None}


def main():
    trials = {int(k): int(v) for k, v in
              (x.split(":") for x in os.environ.get("WATCH_TRIALS", "10:2,50:5,200:10").split(","))}
    limit_mb = int(os.environ.get("WATCH_LIMIT_MB", "512"))
    ovh_s = int(os.environ.get("WATCH_OVERHEAD_S", "60"))
    ovh_n = int(os.environ.get("WATCH_OVERHEAD_CGROUPS", "50"))
    tmp = tempfile.mkdtemp(prefix="oomkit-bench-watch-", dir=BUILD)
    out = {"limit_mb": limit_mb, "trials": trials, "capture": [], "alert": [], "earlyoom": []}
    n = 0
    for rate, count in sorted(trials.items()):
        for kind in ("heap", "mmap"):
            for _ in range(count):
                n += 1
                r = capture_trial(tmp, n, kind, rate, limit_mb)
                print(json.dumps(r), file=sys.stderr)
                out["capture"].append(r)
    for kind in ("shmem", "pagecache"):
        n += 1
        r = capture_trial(tmp, n, kind, 50, limit_mb)
        print(json.dumps(r), file=sys.stderr)
        out["capture"].append(r)
    if shutil.which("prometheus-alertmanager"):
        port = free_port()
        amdir = os.path.join(tmp, "am")
        os.mkdir(amdir)
        with open(os.path.join(amdir, "am.yml"), "w") as f:
            f.write("route: { receiver: r, group_wait: 1s }\nreceivers: [ { name: r } ]\n")
        am = subprocess.Popen(["prometheus-alertmanager", "--config.file=" + amdir + "/am.yml",
                               "--storage.path=" + amdir + "/data",
                               "--web.listen-address=127.0.0.1:%d" % port,
                               "--cluster.listen-address=", "--log.level=warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        for _ in range(3):
            n += 1
            r = capture_trial(tmp, n, "heap", 50, limit_mb, am_url="http://127.0.0.1:%d" % port)
            print(json.dumps(r), file=sys.stderr)
            out["alert"].append(r)
        am.terminate()
        am.wait()
    for rate in (50, 200):
        n += 1
        r = earlyoom_trial(tmp, n, rate, limit_mb)
        if r:
            print(json.dumps(r), file=sys.stderr)
            out["earlyoom"].append(r)
    out["overhead"] = overhead(tmp, ovh_n, ovh_s)
    print(json.dumps(out["overhead"]), file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))


def pct(xs):
    return "%d/%d (%.0f%%)" % (sum(xs), len(xs), 100.0 * sum(xs) / len(xs)) if xs else "n/a"


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


def report(path, command):
    r = json.load(open(path))
    L = []
    L.append("# oomkit watch benchmark\n")
    L.append("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    L.append("- machine: %s, %d CPUs, kernel %s" % (
        open("/proc/cpuinfo").read().split("model name")[1].split(":")[1].split("\n")[0].strip()
        if "model name" in open("/proc/cpuinfo").read() else "?", os.cpu_count(), os.uname().release))
    L.append("- command: `%s`" % command)
    L.append("- cgroup: v1 memory controller, limit %d MiB, no swap; daemon at `--interval 1s` "
             "(plus kernel threshold notifications), default rules (warn 80%%, critical 90%%, "
             "predict 60 s)" % r["limit_mb"])
    L.append("- trials per rate and kind: %s (the target run uses 20; fewer here to share the "
             "machine, set WATCH_TRIALS=10:20,50:20,200:20 for the full run)\n" %
             ", ".join("%s MB/s: %s" % kv for kv in sorted(r["trials"].items(), key=lambda x: int(x[0]))))
    L.append("## Capture before the kernel OOM kill\n")
    L.append("A trial counts when a complete bundle (its manifest renamed into place) was on disk "
             "when the cgroup's `oom_kill` counter moved. Prediction error: |predicted - actual| / "
             "actual time to the kill, taken from `/metrics` at the first scrape (every 50 ms) "
             "where the working set was at or above 50% of the limit.\n")
    L.append("| leak | rate MB/s | trials | killed | bundle before kill | verdict right | "
             "median prediction error at 50% | median time to kill s |")
    L.append("|---|---|---|---|---|---|---|---|")
    want = {"heap": "heap", "mmap": "anon_mmap", "shmem": "shmem", "pagecache": "page_cache"}
    groups = {}
    for t in r["capture"]:
        groups.setdefault((t["kind"], t["rate"]), []).append(t)
    for (kind, rate), ts in sorted(groups.items(), key=lambda x: (x[0][1], x[0][0])):
        killed = [t for t in ts if t["killed"]]
        e = median([t["pred_err_at_50"] for t in ts])
        k = median([t["time_to_kill_s"] for t in ts])
        L.append("| %s | %d | %d | %d | %s | %s | %s | %s |" % (
            kind, rate, len(ts), len(killed), pct([t["bundle_before_kill"] for t in killed]),
            pct([t["verdict"] == want[kind] for t in ts]),
            "%.1f%%" % (100 * e) if e is not None else "n/a", "%.1f" % k if k else "n/a"))
    L.append("")
    L.append("Page cache is reclaimable: the kernel reclaims it at the limit instead of killing, so "
             "that row shows whether the daemon fired at all (it only fires when the working set, "
             "which excludes inactive file pages, approaches the limit).\n")
    if r["alert"]:
        lat = [t["alert_latency_s"] for t in r["alert"] if t["alert_latency_s"] is not None]
        L.append("## Alert latency\n")
        L.append("Real Alertmanager on loopback; latency from the daemon's log line of the rule "
                 "firing to the alert appearing in `GET /api/v2/alerts` (polled every 5-50 ms): "
                 "%s over %d trials (max %s s).\n" % (
                     ("median %.3f s" % median(lat)) if lat else "n/a", len(r["alert"]),
                     ("%.3f" % max(lat)) if lat else "n/a"))
    if r["earlyoom"]:
        L.append("## Baseline: earlyoom\n")
        L.append("`earlyoom --dryrun -r 1` (Debian's earlyoom 1.7) beside a heap leak into the same "
                 "cgroup: it watches node-wide available memory, so it never reacts to a cgroup "
                 "limit.\n")
        L.append("| rate MB/s | cgroup OOM kill | earlyoom reacted before it | its last report (MiB avail of total) |")
        L.append("|---|---|---|---|")
        for t in r["earlyoom"]:
            L.append("| %d | %s | %s | %s |" % (t["rate"], t["killed"], t["acted_before_kill"],
                                              " of ".join(t["last_mem_avail_mib"] or [])))
        L.append("")
    o = r["overhead"]
    L.append("## Daemon overhead\n")
    L.append("`--cgroups-under` a root with %d cgroups, one idle process each, `--interval 1s`, "
             "for %d s (the target run lasts 10 minutes; WATCH_OVERHEAD_S=600 for that).\n" % (
                 o["cgroups"], o["seconds"]))
    L.append("| CPU (% of one core) | RSS | of which anonymous | PSS | samples | gap p50 | gap p99 | gap max |")
    L.append("|---|---|---|---|---|---|---|---|")
    L.append("| %.2f%% | %.1f MiB | %.1f MiB | %.1f MiB | %d | %.1f ms | %.1f ms | %.1f ms |" % (
        o.get("cpu_pct_of_core", float("nan")), o["rss_kib"] / 1024, o["rss_anon_kib"] / 1024,
        o["pss_kib"] / 1024, o.get("samples", 0), o.get("gap_p50_ms", 0), o.get("gap_p99_ms", 0),
        o.get("gap_max_ms", 0)))
    L.append("")
    L.append("Most of the RSS is shared library pages (libcurl, libmicrohttpd, json-c and their "
             "dependencies) that other processes map too; the daemon's own memory is the "
             "anonymous part.")
    print("\n".join(L))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "make bench")
    else:
        main()
