#!/usr/bin/python3
"""bench_real: zabd against Apache ZooKeeper 3.8 on the same loopback, one
after the other: for each kind and each of R runs, a fresh 3-server ensemble
(fsync on: Apache's forceSync=yes, zabd always), a warm-up, the load matrix
(create / setData / getData at 1 and 64 outstanding over 4 sessions,
100-byte values) with `zablab load`, the resident memory of every server
after the load (/proc/PID/status VmRSS), and the time from SIGKILL of the
leader to the next successful write; then the medians over the runs as a
side-by-side markdown table.

Owns: the folder --dir (ensembles, raw JSON results, the table) and the
processes it starts (see ensemble.py). Never signals anything else.

  bench_real.py --load "bin/zablab load" [--kinds apache,zabd] [--runs 3]
                [--seconds 5] [--dir DIR] [--out TABLE.md]
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ensemble  # noqa: E402

OPS = ["create", "setData", "getData"]
OUTSTANDING = [1, 64]
SESSIONS = 4
VALUE_BYTES = 100
FAILOVER_MAX_S = 30.0
KIND_NAMES = {"apache": "Apache ZooKeeper 3.8", "zabd": "zabd"}


# ---- a minimal client for the fail-over probe (one create per attempt) -------

def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def _read_frame(s):
    hdr = _recv_n(s, 4)
    (n,) = struct.unpack(">i", hdr)
    if n < 0 or n > 1 << 20:
        raise OSError("bad frame length %d" % n)
    return _recv_n(s, n)


def _recv_n(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise OSError("closed")
        buf += b
    return buf


def try_write(port, path, timeout_s=0.25):
    """One session + one create on 127.0.0.1:port. True when the create
    succeeded (the ensemble can commit a write through this server)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
            s.settimeout(timeout_s)
            conn = struct.pack(">iqiqi", 0, 0, 10000, 0, 16) + b"\0" * 16 + b"\0"
            s.sendall(_frame(conn))
            resp = _read_frame(s)
            _, to, sid = struct.unpack(">iiq", resp[:16])
            if to <= 0 or sid == 0:
                return False
            p = path.encode()
            acl = struct.pack(">ii", 1, 31) + struct.pack(">i", 5) + b"world" + \
                struct.pack(">i", 6) + b"anyone"
            req = struct.pack(">ii", 1, 1) + struct.pack(">i", len(p)) + p + \
                struct.pack(">i", 1) + b"x" + acl + struct.pack(">i", 0)
            s.sendall(_frame(req))
            while True:
                rep = _read_frame(s)
                xid, _, err = struct.unpack(">iqi", rep[:16])
                if xid == 1:
                    ok = err == 0
                    break
            s.sendall(_frame(struct.pack(">ii", 2, -11)))
            return ok
    except (OSError, struct.error):
        return False


def measure_failover(ens, log):
    """SIGKILLs the leader; returns (seconds until a survivor reports itself
    leader over srvr, seconds until a write succeeds through a survivor),
    None for what did not happen within FAILOVER_MAX_S."""
    leader = ens.leader()
    if leader is None:
        return None, None
    survivors = [i for i in range(1, ens.servers + 1) if i != leader]
    attempt = 0
    t_leader = None
    t0 = time.monotonic()
    if not ens._owned(leader):
        return None, None
    os.kill(ens.pids[leader], signal.SIGKILL)
    while time.monotonic() - t0 < FAILOVER_MAX_S:
        for i in survivors:
            if t_leader is None and ens.mode(i) == "leader":
                t_leader = time.monotonic() - t0
            attempt += 1
            if try_write(ens.client_port(i), "/failover-%d-%d" % (os.getpid(), attempt)):
                dt = time.monotonic() - t0
                if t_leader is None:
                    t_leader = dt
                log("fail-over: killed leader %d; a new leader after %.3f s; a write ok via "
                    "%d after %.3f s (%d attempts)" % (leader, t_leader, i, dt, attempt))
                ens.kill(leader)   # reap it
                return t_leader, dt
        time.sleep(0.005)
    ens.kill(leader)
    return t_leader, None


# ---- one run ------------------------------------------------------------------

LEADER_KEY = "create/1/leader"


def run_load(load_cmd, hosts, op, outstanding, seconds, log):
    cmd = shlex.split(load_cmd) + ["--hosts", hosts, "--op", op, "--sessions", str(SESSIONS),
                                   "--outstanding", str(outstanding), "--value-bytes",
                                   str(VALUE_BYTES), "--seconds", str(seconds),
                                   "--format", "json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        log("load %s/%d timed out" % (op, outstanding))
        return None
    if p.returncode != 0:
        log("load %s/%d failed (exit %d): %s" % (op, outstanding, p.returncode,
                                                p.stderr.strip()[:300]))
        return None
    res = json.loads(p.stdout.strip().splitlines()[-1])
    log("%-7s out=%-2d %8.0f ops/s  p50 %7.3f ms  p99 %7.3f ms" % (
        op, outstanding, res["ops_per_s"], res["p50_ms"], res["p99_ms"]))
    return res


def one_run(kind, run, a, log):
    d = os.path.join(a.dir, "%s-run%d" % (kind, run))
    ens = ensemble.Ensemble(d, kind)
    out = {"kind": kind, "run": run, "load": {}, "rss_kb": None, "failover_s": None,
           "new_leader_s": None, "error": None}
    try:
        ens.start_all()
        if not ens.wait_serving(90):
            out["error"] = "ensemble did not serve: " + "; ".join(ens.status_lines())
            return out
        hosts = ens.hosts()
        log("%s run %d: %s" % (kind, run, hosts))
        warm = run_load(a.load, hosts, "create", 64, a.warmup, log)
        if warm is None:
            out["error"] = "the load tool could not drive it (see above)"
            return out
        for op in OPS:
            for o in OUTSTANDING:
                # A cell that broke the ensemble (e.g. an election under
                # load) must not fail every later cell: wait for it first.
                if not ens.wait_serving(30):
                    log("not serving before %s/%d: %s" % (op, o, "; ".join(ens.status_lines())))
                out["load"]["%s/%d" % (op, o)] = run_load(a.load, hosts, op, o, a.seconds, log)
        # The floor a write can reach: one session on the leader itself, so the
        # path is one client round trip plus one leader-follower round trip
        # around the fsyncs.
        ld = ens.leader() if ens.wait_serving(30) else None
        if ld is not None:
            out["load"][LEADER_KEY] = run_load(a.load, "127.0.0.1:%d" % ens.client_port(ld),
                                               "create", 1, a.seconds, log)
        out["rss_kb"] = [ens.rss_kb(i) for i in range(1, ens.servers + 1)]
        log("RSS kB per server: %s" % out["rss_kb"])
        out["new_leader_s"], out["failover_s"] = measure_failover(ens, log)
        return out
    finally:
        ens.stop_all()


def fsync_probe(directory, n=200):
    """Median and p99 (ms) of append-100-bytes + fdatasync on the folder's
    disk: the floor under a write's latency with fsync on."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    lat = []
    try:
        for _ in range(n):
            t0 = time.monotonic()
            os.write(fd, b"x" * 100)
            os.fdatasync(fd)
            lat.append((time.monotonic() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


# ---- table ----------------------------------------------------------------------

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(results):
    """kind -> dict of medians over its runs."""
    s = {}
    for kind, runs in results.items():
        # A run is complete when every cell and the fail-over were measured.
        m = {"runs": len([r for r in runs if not r["error"] and r["failover_s"] is not None
                          and all(r["load"].get("%s/%d" % (op, o)) for op in OPS
                                  for o in OUTSTANDING)])}
        for op in OPS:
            for o in OUTSTANDING:
                key = "%s/%d" % (op, o)
                cells = [r["load"].get(key) for r in runs if not r["error"]]
                cells = [c for c in cells if c]
                m[key] = {f: med([c[f] for c in cells]) for f in ("ops_per_s", "p50_ms",
                                                                 "p99_ms")}
        cells = [r["load"].get(LEADER_KEY) for r in runs if not r["error"]]
        cells = [c for c in cells if c]
        m[LEADER_KEY] = {f: med([c[f] for c in cells]) for f in ("ops_per_s", "p50_ms",
                                                                "p99_ms")}
        rss = [max(x for x in r["rss_kb"] if x) for r in runs if r["rss_kb"]
               and any(r["rss_kb"])]
        m["rss_mb"] = med(rss) / 1024 if rss else None
        m["failover_s"] = med([r["failover_s"] for r in runs])
        m["new_leader_s"] = med([r.get("new_leader_s") for r in runs])
        m["error"] = next((r["error"] for r in runs if r["error"]), None)
        s[kind] = m
    return s


def fmt(v, spec):
    return "—" if v is None else spec % v


def ratio(a, b, spec="%.2f×"):
    return "—" if a is None or b is None or b == 0 else spec % (a / b)


def table(summary, kinds, pending):
    """Markdown: one column per kind, plus zabd ÷ Apache when both ran."""
    both = "zabd" in kinds and "apache" in kinds
    cols = [KIND_NAMES[k] for k in kinds] + [KIND_NAMES[k] + " (pending)" for k in pending]
    if both:
        cols.append("zabd ÷ Apache")
    lines = ["| metric (median of runs) | " + " | ".join(cols) + " |",
             "|---|" + "---|" * len(cols)]

    def row(label, f, r=None):
        cells = [f(summary[k]) for k in kinds] + ["pending" for _ in pending]
        if both:
            cells.append(r(summary["zabd"], summary["apache"]) if r else "")
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    for op in OPS:
        for o in OUTSTANDING:
            key = "%s/%d" % (op, o)
            row("%s, %d outstanding: ops/s" % (op, o),
                lambda m, key=key: fmt(m[key]["ops_per_s"], "%.0f"),
                lambda z, a, key=key: ratio(z[key]["ops_per_s"], a[key]["ops_per_s"]))
            row("%s, %d outstanding: p50 / p99 ms" % (op, o),
                lambda m, key=key: "%s / %s" % (fmt(m[key]["p50_ms"], "%.2f"),
                                                fmt(m[key]["p99_ms"], "%.2f")),
                lambda z, a, key=key: "%s / %s" % (ratio(z[key]["p50_ms"], a[key]["p50_ms"]),
                                                   ratio(z[key]["p99_ms"], a[key]["p99_ms"])))
    row("create, 1 outstanding, client on the leader: p50 / p99 ms",
        lambda m: "%s / %s" % (fmt(m[LEADER_KEY]["p50_ms"], "%.2f"),
                               fmt(m[LEADER_KEY]["p99_ms"], "%.2f")),
        lambda z, a: "%s / %s" % (ratio(z[LEADER_KEY]["p50_ms"], a[LEADER_KEY]["p50_ms"]),
                                  ratio(z[LEADER_KEY]["p99_ms"], a[LEADER_KEY]["p99_ms"])))
    row("largest RSS of a server after load (MB)", lambda m: fmt(m["rss_mb"], "%.0f"),
        lambda z, a: ratio(z["rss_mb"], a["rss_mb"], "%.3f×"))
    row("SIGKILL of the leader to a survivor reporting leader (s)",
        lambda m: fmt(m["new_leader_s"], "%.3f"),
        lambda z, a: ratio(z["new_leader_s"], a["new_leader_s"]))
    row("SIGKILL of the leader to the next successful write (s)",
        lambda m: fmt(m["failover_s"], "%.3f"),
        lambda z, a: ratio(z["failover_s"], a["failover_s"]))
    row("runs completed", lambda m: str(m["runs"]))
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description="zabd vs Apache ZooKeeper")
    ap.add_argument("--load", required=True, help="the load command, e.g. 'bin/zablab load'")
    ap.add_argument("--kinds", default="apache,zabd")
    ap.add_argument("--pending", default="", help="kinds to show as pending (not run)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", help="write the markdown table here")
    a = ap.parse_args(argv)
    kinds = [k for k in a.kinds.split(",") if k]
    pending = [k for k in a.pending.split(",") if k]
    os.makedirs(a.dir, exist_ok=True)

    def log(msg):
        print("bench-real: " + msg, flush=True)
    f50, f99 = fsync_probe(a.dir)
    log("disk: append 100 B + fdatasync: median %.3f ms, p99 %.3f ms" % (f50, f99))
    results = {k: [] for k in kinds}
    for run in range(1, a.runs + 1):
        for k in kinds:
            if run > 1 and all(r["error"] for r in results[k]):
                continue   # it could not be driven at all: do not retry
            results[k].append(one_run(k, run, a, log))
            if results[k][-1]["error"]:
                log("%s run %d: %s" % (k, run, results[k][-1]["error"]))
    with open(os.path.join(a.dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    summary = summarize(results)
    text = table(summary, kinds, pending)
    for k in kinds:
        if summary[k]["error"]:
            text += "\n%s: %s\n" % (KIND_NAMES[k], summary[k]["error"])
    text += ("\nDisk under the data folders: append 100 B + fdatasync median %.2f ms, "
             "p99 %.2f ms (%d runs of %d s per cell, %d sessions, %d-byte values).\n"
             % (f50, f99, a.runs, a.seconds, SESSIONS, VALUE_BYTES))
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0 if all(summary[k]["runs"] == a.runs for k in kinds) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
