#!/usr/bin/python3
"""fault_loop: faults on real processes. Starts a 3-server ensemble (zabd or
Apache ZooKeeper), runs a few kazoo clients doing create / setData / getData
/ sync on a small key space while SIGKILLing the leader and followers and
restarting them in a bounded loop, records every operation in zablab's JSON
Lines history format (docs/history-format.md), then
  - judges the history with `zablab check --model zk`, and
  - reads every key at the end (after sync) and requires every acknowledged
    write to be there: no lost writes.

Owns: the folder --dir (ensemble files, history.jsonl) and the processes
it starts. Never signals anything else (see ensemble.py).

  fault_loop.py [--kind zabd|apache] [--dir DIR] [--rounds 6] [--clients 4]
                [--seed N] [--zablab bin/zablab] [--plant lost-write|stale-read]
Exit 0 when the history passes and no write was lost; 1 on a violation or a
lost write; 2 when the ensemble or the workload could not run.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ensemble  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import (BadVersionError, NodeExistsError,  # noqa: E402
                              NoNodeError)
from kazoo.handlers.threading import KazooTimeoutError  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
ROOT = "/fl"
KEYS = 6
OP_TIMEOUT_S = 4.0          # an op unanswered by then is recorded as info
SESSION_TIMEOUT_S = 15.0
ROUND_MAX_S = 9.0           # one kill/restart round, bounded
SERVE_WAIT_S = 20.0


class History:
    """Appends events, one JSON object per line, in real-time order: the
    lock makes the write order the order of the events."""

    def __init__(self, path):
        self.f = open(path, "w")
        self.lock = threading.Lock()
        self.t0 = time.monotonic_ns()
        self.events = []

    def add(self, ev):
        with self.lock:
            ev["time"] = time.monotonic_ns() - self.t0
            self.f.write(json.dumps(ev, separators=(",", ":")) + "\n")
            self.f.flush()
            self.events.append(dict(ev))

    def close(self):
        self.f.close()


def err_name(e):
    return {NodeExistsError: "NODEEXISTS", NoNodeError: "NONODE",
            BadVersionError: "BADVERSION"}.get(type(e))


class Worker(threading.Thread):
    """One kazoo session issuing one operation at a time. After an op of
    unknown outcome the worker continues as a new process id (Jepsen's rule:
    a process has at most one pending operation, and an info op never ends)."""

    def __init__(self, n, nworkers, hosts, hist, stop, seed):
        super().__init__(daemon=True)
        self.n = n
        self.process = n
        self.nworkers = nworkers
        self.hosts = hosts
        self.hist = hist
        self.stop_ev = stop
        self.rng = random.Random(seed * 1000 + n)
        self.seq = 0
        self.counts = {"ok": 0, "fail": 0, "info": 0}
        self.acked = []            # (path, data, version, zxid) of ok writes
        self.error = None

    def run(self):
        try:
            self.zk = KazooClient(hosts=self.hosts, timeout=SESSION_TIMEOUT_S,
                                  connection_retry={"max_tries": -1, "delay": 0.05,
                                                    "max_delay": 0.3})
            self.zk.start(timeout=30)
            while not self.stop_ev.is_set():
                self.one_op()
            self.zk.stop()
            self.zk.close()
        except Exception as e:   # reported by the main thread
            self.error = repr(e)

    def one_op(self):
        key = "%s/k%d" % (ROOT, self.rng.randrange(KEYS))
        r = self.rng.random()
        sid = self.zk.client_id[0] if self.zk.client_id else 0
        if not sid:
            # No session right now (kazoo is between sessions): an op
            # invoked now would run in a session not known yet, so wait.
            time.sleep(0.02)
            return
        base = {"process": self.process, "session": "0x%x" % sid}
        self.seq += 1
        if r < 0.1:
            path = "%s/c-%d-%d" % (ROOT, self.n, self.seq)
            data = "c%d.%d" % (self.n, self.seq)
            inv = dict(base, type="invoke", f="create", path=path, data=data, mode="persistent")
            call = lambda: self.zk.create_async(path, data.encode(), include_data=True)
        elif r < 0.5:
            data = "v%d.%d" % (self.n, self.seq)
            inv = dict(base, type="invoke", f="setData", path=key, data=data, version=-1)
            call = lambda: self.zk.set_async(key, data.encode())
        elif r < 0.9:
            inv = dict(base, type="invoke", f="getData", path=key)
            call = lambda: self.zk.get_async(key)
        else:
            inv = dict(base, type="invoke", f="sync", path=key)
            call = lambda: self.zk.sync_async(key)
        self.hist.add(inv)
        comp = dict(base, f=inv["f"], path=inv["path"])
        try:
            res = call().get(timeout=OP_TIMEOUT_S)
            sid_after = self.zk.client_id[0] if self.zk.client_id else 0
            if sid_after != sid:
                raise SessionChanged()
            self.complete_ok(inv, comp, res)
        except (NodeExistsError, NoNodeError, BadVersionError) as e:
            comp.update(type="fail", err=err_name(e))
            self.counts["fail"] += 1
            self.hist.add(comp)
        except Exception:
            # Connection loss, timeout, session change: a write may or may
            # not have happened (info); a read did nothing (fail).
            if inv["f"] in ("create", "setData"):
                comp["type"] = "info"
                self.counts["info"] += 1
                self.hist.add(comp)
                self.process += self.nworkers
            else:
                comp["type"] = "fail"
                self.counts["fail"] += 1
                self.hist.add(comp)
                time.sleep(0.02)

    def complete_ok(self, inv, comp, res):
        f = inv["f"]
        comp["type"] = "ok"
        if f == "create":
            path, st = res
            comp.update(created=path, zxid=st.czxid)
            self.acked.append((path, inv["data"], st.version, st.czxid))
        elif f == "setData":
            comp.update(version=res.version, zxid=res.mzxid)
            self.acked.append((inv["path"], inv["data"], res.version, res.mzxid))
        elif f == "getData":
            data, st = res
            comp.update(data=data.decode(), version=st.version)
        self.counts["ok"] += 1
        self.hist.add(comp)


class SessionChanged(Exception):
    pass


def setup(hosts, hist):
    """Creates /fl and its keys through a recorded session, so the checker's
    tree starts where the servers' does."""
    zk = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S)
    zk.start(timeout=30)
    sid = "0x%x" % zk.client_id[0]
    proc = 1000
    for path in [ROOT] + ["%s/k%d" % (ROOT, k) for k in range(KEYS)]:
        hist.add({"type": "invoke", "process": proc, "session": sid, "f": "create",
                  "path": path, "data": "init", "mode": "persistent"})
        p, st = zk.create(path, b"init", include_data=True)
        hist.add({"type": "ok", "process": proc, "session": sid, "f": "create", "path": path,
                  "created": p, "zxid": st.czxid})
    zk.stop()
    zk.close()


def final_reads(hosts, hist, workers, plant=None):
    """Syncs and reads every key and every acknowledged create through a new
    session (recorded); returns the list of lost writes."""
    zk = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S,
                     connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.3})
    zk.start(timeout=30)
    sid = "0x%x" % zk.client_id[0]
    proc = 2000
    acked = [a for w in workers for a in w.acked]
    if plant == "lost-write":
        # Planted: claim an acknowledgement the servers never gave.
        acked.append((ROOT + "/k0", "planted", 1 << 30, 1 << 62))
    paths = sorted(set(["%s/k%d" % (ROOT, k) for k in range(KEYS)] +
                       [a[0] for a in acked]))
    final = {}
    for path in paths:
        hist.add({"type": "invoke", "process": proc, "session": sid, "f": "sync", "path": path})
        zk.sync(path)
        hist.add({"type": "ok", "process": proc, "session": sid, "f": "sync", "path": path})
        hist.add({"type": "invoke", "process": proc, "session": sid, "f": "getData",
                  "path": path})
        try:
            data, st = zk.get(path)
            final[path] = (data.decode(), st.version, st.mzxid)
            shown, shown_version = data.decode(), st.version
            if plant == "stale-read" and path == ROOT + "/k0":
                # Planted: record the sync'd read as if it returned the
                # initial value; the checker must call it a violation.
                shown, shown_version = "init", 0
            hist.add({"type": "ok", "process": proc, "session": sid, "f": "getData",
                      "path": path, "data": shown, "version": shown_version})
        except NoNodeError:
            final[path] = None
            hist.add({"type": "fail", "process": proc, "session": sid, "f": "getData",
                      "path": path, "err": "NONODE"})
    zk.stop()
    zk.close()
    lost = []
    for path, data, version, zxid in acked:
        got = final.get(path)
        if got is None:
            lost.append("%s (written %r, zxid 0x%x) is missing at the end" % (path, data, zxid))
        elif got[1] < version or got[2] < zxid:
            lost.append("%s: acknowledged write %r (version %d, zxid 0x%x) but the end "
                        "holds %r (version %d, mzxid 0x%x)" % (path, data, version, zxid,
                                                              got[0], got[1], got[2]))
    return lost, len(acked)


def fault_rounds(ens, rounds, rng, log):
    """Kills the leader on even rounds and a follower on odd ones (SIGKILL),
    restarts it after a pause, waits for the ensemble to serve again."""
    t_start = time.monotonic()
    for r in range(rounds):
        t0 = time.monotonic()
        leader = ens.leader()
        if leader is None:
            ens.wait_serving(SERVE_WAIT_S)
            leader = ens.leader()
        if r % 2 == 0 and leader:
            victim, role = leader, "leader"
        else:
            others = [i for i in range(1, ens.servers + 1) if i != leader]
            victim, role = rng.choice(others), "follower"
        time.sleep(rng.uniform(0.3, 1.0))
        ens.kill(victim)
        log("round %d: SIGKILL %s %d" % (r + 1, role, victim))
        time.sleep(rng.uniform(0.5, 2.0))
        ens.start_one(victim)
        ok = ens.wait_serving(min(SERVE_WAIT_S, max(1.0, ROUND_MAX_S * 2)))
        log("round %d: restarted %d; serving=%s new leader=%s (%.1fs)" % (
            r + 1, victim, ok, ens.leader(), time.monotonic() - t0))
        if not ok:
            return False
    log("%d rounds in %.1fs" % (rounds, time.monotonic() - t_start))
    return True


def run_check(zablab, path, log):
    cmd = [zablab, "check", "--model", "zk", path]
    log("$ " + " ".join(cmd))
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        log("zablab check timed out")
        return 3
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    return p.returncode


def main(argv):
    ap = argparse.ArgumentParser(description="fault loop on a real ensemble")
    ap.add_argument("--kind", choices=["zabd", "apache"], default="zabd")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    ap.add_argument("--plant", choices=["lost-write", "stale-read"],
                    help="plant a violation the loop must report (exit 1)")
    ap.add_argument("--zablab", default=os.environ.get("ZABLAB_BIN",
                                                       os.path.join(REPO, "bin", "zablab")))
    a = ap.parse_args(argv)
    if not 0 <= a.rounds <= 50 or not 1 <= a.clients <= 16:
        ap.error("--rounds 0..50, --clients 1..16")

    def log(msg):
        print("fault_loop: " + msg, flush=True)
    log("kind=%s seed=%d rounds=%d clients=%d dir=%s" % (a.kind, a.seed, a.rounds,
                                                         a.clients, a.dir))
    rng = random.Random(a.seed)
    ens = ensemble.Ensemble(a.dir, a.kind)
    try:
        ens.start_all()
        if not ens.wait_serving(60):
            log("the ensemble did not start serving: " + "; ".join(ens.status_lines()))
            return 2
        hist_path = os.path.join(a.dir, "history.jsonl")
        hist = History(hist_path)
        setup(ens.hosts(), hist)
        stop = threading.Event()
        workers = [Worker(i + 1, a.clients, ens.hosts(), hist, stop, a.seed)
                   for i in range(a.clients)]
        for w in workers:
            w.start()
        time.sleep(1.0)
        served = fault_rounds(ens, a.rounds, rng, log)
        time.sleep(1.0)
        stop.set()
        for w in workers:
            w.join(OP_TIMEOUT_S * 3)
        errs = [w.error for w in workers if w.error]
        stuck = [w.n for w in workers if w.is_alive()]
        if errs or stuck or not served:
            log("workload broke: errors %r, stuck workers %r, served %s" % (errs, stuck,
                                                                           served))
            return 2
        totals = {k: sum(w.counts[k] for w in workers) for k in ("ok", "fail", "info")}
        lost, nacked = final_reads(ens.hosts(), hist, workers, a.plant)
        hist.close()
        log("operations: %d ok, %d fail, %d info; %d acknowledged writes; history %s" % (
            totals["ok"], totals["fail"], totals["info"], nacked, hist_path))
        rc = run_check(a.zablab, hist_path, log)
        for m in lost:
            log("LOST WRITE: " + m)
        if rc == 0 and not lost and totals["ok"] > 0:
            log("PASS: history ok under the zk checker, no acknowledged write lost")
            return 0
        log("FAIL: checker exit %d, %d lost writes" % (rc, len(lost)))
        return 1
    finally:
        ens.stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
