#!/usr/bin/python3
"""ensemble: starts, kills, restarts and stops a local 3-server ensemble of
either zabd (bin/zabd) or Apache ZooKeeper (Debian's `zookeeper` package) on
127.0.0.1, for the real-client tests and the benchmark.

Owns: the folder DIR (DIR/s<i>/zoo.cfg, DIR/s<i>/data/myid, DIR/s<i>/server.log)
and DIR/pids.json, the record of the processes it started.
Never: signals a process it did not start. Every signal goes to a PID from
its own record, and only while /proc/PID/cmdline still names that server's
zoo.cfg (a reused PID is left alone). Never binds anything but loopback.

Ports of server i (1-based) with base port P: client P+i-1, quorum P+100+i-1,
election P+200+i-1 (the same layout as `zablab cluster start`).

Usable as a module (class Ensemble) or from the shell:
  ensemble.py start  --kind zabd|apache --dir DIR [--base-port P] [--servers N]
  ensemble.py stop|hosts|leader|status --dir DIR
  ensemble.py kill|start-one --dir DIR --id I
  ensemble.py rss --dir DIR        (VmRSS in kB of each running server)
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
APACHE_CP = ":".join("/usr/share/java/" + j for j in (
    "zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar", "slf4j-log4j12.jar",
    "log4j-1.2.jar"))
APACHE_MAIN = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
STOP_WAIT_S = 10.0
FOURLW_TIMEOUT_S = 1.0


def four_letter(port, word, timeout=FOURLW_TIMEOUT_S):
    """Sends a four-letter word to 127.0.0.1:port; returns the reply text or
    None when the server is not reachable."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            total = 0
            while total < 1 << 20:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
                total += len(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return None


def parse_mode(reply):
    """'leader', 'follower', 'standalone', 'observer' or None from a srvr reply."""
    if not reply:
        return None
    for line in reply.splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return None


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers do: a port whose old connections linger in
        # TIME_WAIT is free for them.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def pick_base_port(start=21000, stop=40000, step=7, servers=3):
    """The first base port P >= start whose 3*servers ports are all free."""
    p = start
    while p < stop:
        ports = [p + off + i for off in (0, 100, 200) for i in range(servers)]
        if all(port_free(x) for x in ports):
            return p
        p += step * 10
    raise RuntimeError("no free loopback port range found")


class Ensemble:
    def __init__(self, directory, kind=None, servers=3, base_port=None, tick_ms=None,
                 zabd_bin=None):
        self.dir = os.path.abspath(directory)
        self.kind = kind
        self.servers = servers
        self.base_port = base_port
        self.tick_ms = tick_ms
        self.zabd_bin = zabd_bin
        self.pids = {}
        self.procs = {}
        rec = os.path.join(self.dir, "pids.json")
        if kind is None and os.path.exists(rec):
            self._load()

    # ---- record ------------------------------------------------------------
    def _record_path(self):
        return os.path.join(self.dir, "pids.json")

    def _save(self):
        rec = {"kind": self.kind, "servers": self.servers, "base_port": self.base_port,
               "tick_ms": self.tick_ms, "zabd_bin": self.zabd_bin,
               "pids": {str(k): v for k, v in self.pids.items()}}
        tmp = self._record_path() + ".tmp"
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.replace(tmp, self._record_path())

    def _load(self):
        with open(self._record_path()) as f:
            rec = json.load(f)
        self.kind = rec["kind"]
        self.servers = rec["servers"]
        self.base_port = rec["base_port"]
        self.tick_ms = rec["tick_ms"]
        self.zabd_bin = rec["zabd_bin"]
        self.pids = {int(k): v for k, v in rec["pids"].items()}

    # ---- layout -------------------------------------------------------------
    def client_port(self, i):
        return self.base_port + i - 1

    def hosts(self):
        return ",".join("127.0.0.1:%d" % self.client_port(i)
                        for i in range(1, self.servers + 1))

    def sdir(self, i):
        return os.path.join(self.dir, "s%d" % i)

    def cfg_path(self, i):
        return os.path.join(self.sdir(i), "zoo.cfg")

    def _write_config(self, i):
        d = self.sdir(i)
        data = os.path.join(d, "data")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "myid"), "w") as f:
            f.write("%d\n" % i)
        lines = ["tickTime=%d" % self.tick_ms, "initLimit=10", "syncLimit=5",
                 "dataDir=%s" % data, "clientPort=%d" % self.client_port(i),
                 "clientPortAddress=127.0.0.1", "4lw.commands.whitelist=*",
                 "maxClientCnxns=0"]
        if self.kind == "apache":
            lines += ["admin.enableServer=false", "forceSync=yes"]
        else:
            # zabd keys session passwords with it; one per ensemble, shared
            # by its servers and kept across restarts (the file is reused).
            lines.append("secret=" + self._secret())
            # ZABLAB_SNAPCOUNT: snapshots (forked) and log rolls every N txns,
            # so that a fault loop kills servers in the middle of them.
            if os.environ.get("ZABLAB_SNAPCOUNT"):
                lines.append("snapCount=%d" % int(os.environ["ZABLAB_SNAPCOUNT"]))
        for j in range(1, self.servers + 1):
            lines.append("server.%d=127.0.0.1:%d:%d" % (
                j, self.base_port + 100 + j - 1, self.base_port + 200 + j - 1))
        with open(self.cfg_path(i), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _secret(self):
        path = os.path.join(self.dir, "secret")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(os.urandom(16).hex())
        with open(path) as f:
            return f.read().strip()

    def _command(self, i):
        if self.kind == "apache":
            log4j = os.path.join(self.sdir(i), "log4j.properties")
            with open(log4j, "w") as f:
                f.write("log4j.rootLogger=INFO, F\n"
                        "log4j.appender.F=org.apache.log4j.FileAppender\n"
                        "log4j.appender.F.File=%s\n"
                        "log4j.appender.F.layout=org.apache.log4j.PatternLayout\n"
                        "log4j.appender.F.layout.ConversionPattern=%%d %%p [%%t] %%c{1}: %%m%%n\n"
                        % os.path.join(self.sdir(i), "server.log"))
            return ["java", "-Xms512m", "-Xmx512m", "-Dlog4j.configuration=file:" + log4j,
                    "-Dzookeeper.admin.enableServer=false", "-cp", APACHE_CP, APACHE_MAIN,
                    self.cfg_path(i)]
        return [self.zabd_bin, self.cfg_path(i)]

    # ---- processes ----------------------------------------------------------
    def start_all(self):
        if self.kind not in ("zabd", "apache"):
            raise ValueError("kind must be zabd or apache")
        if self.base_port is None:
            self.base_port = pick_base_port(servers=self.servers)
        if self.tick_ms is None:
            self.tick_ms = 100   # the same for both kinds: fail-over times compare
        if self.kind == "zabd" and self.zabd_bin is None:
            self.zabd_bin = os.environ.get("ZABD_BIN") or os.path.join(REPO, "bin", "zabd")
        os.makedirs(self.dir, exist_ok=True)
        for i in range(1, self.servers + 1):
            self._write_config(i)
        for i in range(1, self.servers + 1):
            self.start_one(i)

    def start_one(self, i):
        if self.alive(i):
            return self.pids[i]
        log = open(os.path.join(self.sdir(i), "server.out"), "ab")
        p = subprocess.Popen(self._command(i), stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, start_new_session=True, cwd=self.sdir(i))
        log.close()
        self.procs[i] = p
        self.pids[i] = p.pid
        self._save()
        return p.pid

    def _owned(self, i):
        """True while the recorded PID of server i is still that server."""
        pid = self.pids.get(i)
        if not pid:
            return False
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            return False
        return self.cfg_path(i).encode() in cmd

    def alive(self, i):
        p = self.procs.get(i)
        if p is not None and p.poll() is not None:
            return False
        if not self._owned(i):
            return False
        try:
            with open("/proc/%d/stat" % self.pids[i]) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            return state != "Z"
        except OSError:
            return False

    def kill(self, i, sig=signal.SIGKILL):
        if not self._owned(i):
            return False
        os.kill(self.pids[i], sig)
        self._reap(i, STOP_WAIT_S)
        return True

    def _reap(self, i, wait_s):
        p = self.procs.get(i)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if p is not None:
                if p.poll() is not None:
                    return True
            elif not self.alive(i):
                return True
            time.sleep(0.01)
        return False

    def stop_all(self):
        for i in sorted(self.pids):
            if self._owned(i):
                try:
                    os.kill(self.pids[i], signal.SIGTERM)
                except OSError:
                    pass
        for i in sorted(self.pids):
            if self._owned(i) and not self._reap(i, STOP_WAIT_S):
                try:
                    os.kill(self.pids[i], signal.SIGKILL)
                except OSError:
                    pass
                self._reap(i, 2.0)

    # ---- queries ------------------------------------------------------------
    def mode(self, i):
        return parse_mode(four_letter(self.client_port(i), "srvr"))

    def leader(self):
        for i in range(1, self.servers + 1):
            if self.alive(i) and self.mode(i) == "leader":
                return i
        return None

    def wait_serving(self, timeout_s=30.0, ids=None):
        """Waits until every listed (default: every live) server answers srvr
        with a mode and one is leader. Returns True when it happened in time."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            want = ids or [i for i in range(1, self.servers + 1) if self.alive(i)]
            modes = [self.mode(i) for i in want]
            if all(modes) and "leader" in [self.mode(i) for i in range(1, self.servers + 1)
                                           if self.alive(i)]:
                return True
            time.sleep(0.05)
        return False

    def rss_kb(self, i):
        try:
            with open("/proc/%d/status" % self.pids[i]) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (OSError, KeyError):
            pass
        return None

    def status_lines(self):
        out = []
        for i in range(1, self.servers + 1):
            out.append("%d pid=%s port=%d alive=%s mode=%s" % (
                i, self.pids.get(i), self.client_port(i), self.alive(i),
                self.mode(i) if self.alive(i) else None))
        return out


def main(argv):
    ap = argparse.ArgumentParser(description="local zabd / Apache ZooKeeper ensemble")
    ap.add_argument("action", choices=["start", "stop", "hosts", "leader", "status", "kill",
                                       "start-one", "rss", "pids", "wait"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--kind", choices=["zabd", "apache"])
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--base-port", type=int)
    ap.add_argument("--tick-ms", type=int)
    ap.add_argument("--id", type=int)
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args(argv)
    if a.action == "start":
        if not a.kind:
            ap.error("start needs --kind")
        e = Ensemble(a.dir, a.kind, a.servers, a.base_port, a.tick_ms)
        e.start_all()
        ok = e.wait_serving(a.timeout)
        print(e.hosts())
        if not ok:
            print("ensemble did not start serving within %.0f s" % a.timeout, file=sys.stderr)
            for line in e.status_lines():
                print(line, file=sys.stderr)
            return 1
        return 0
    e = Ensemble(a.dir)
    if e.kind is None:
        print("%s: no pids.json (not started here)" % a.dir, file=sys.stderr)
        return 2
    if a.action == "stop":
        e.stop_all()
    elif a.action == "hosts":
        print(e.hosts())
    elif a.action == "leader":
        ld = e.leader()
        print(ld if ld else "none")
        return 0 if ld else 1
    elif a.action == "status":
        print("\n".join(e.status_lines()))
    elif a.action == "kill":
        return 0 if e.kill(a.id) else 1
    elif a.action == "start-one":
        e.start_one(a.id)
    elif a.action == "rss":
        print(" ".join(str(e.rss_kb(i)) for i in range(1, e.servers + 1)))
    elif a.action == "pids":
        print(",".join("%d=%d" % (e.client_port(i), e.pids[i]) for i in sorted(e.pids)))
    elif a.action == "wait":
        return 0 if e.wait_serving(a.timeout) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
