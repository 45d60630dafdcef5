#!/usr/bin/python3
"""kazoo_readonly: zabd's read-only mode (readonlymode.enabled=true) against
kazoo's read_only=True, a client nobody here wrote. A 3-server zabd
ensemble on loopback (ports in 25181-25600); a write; SIGKILL of two
servers; the survivor turns read-only (isro "ro"); kazoo connects to it in
CONNECTED_RO, reads the write, and a write fails with NotReadOnlyCallError;
the two restart, the survivor closes its read-only connection, and kazoo
ends up in a read-write session (CONNECTED) where a write succeeds.

Owns: a mkdtemp folder (removed unless --keep or a failure) and the three
zabd processes it starts (tests/real/ensemble.py: signalled only by their
recorded PIDs). Never binds anything but 127.0.0.1.
Exit 0 passed, 1 a check failed, 2 setup failed, 77 kazoo not installed.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import NotReadOnlyCallError
    from kazoo.protocol.states import KeeperState
except ImportError:
    print("kazoo_readonly: SKIP: python3-kazoo is not installed")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ensemble  # noqa: E402

WAIT_S = 30.0


class ReadOnlyEnsemble(ensemble.Ensemble):
    """The shared ensemble with readonlymode.enabled in every zoo.cfg."""

    def _write_config(self, i):
        super()._write_config(i)
        with open(self.cfg_path(i), "a") as f:
            f.write("readonlymode.enabled=true\n")


def wait_for(pred, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


def isro(ens, i):
    return ensemble.four_letter(ens.client_port(i), "isro")


def client(hosts, read_only):
    c = KazooClient(hosts=hosts, timeout=10.0, read_only=read_only,
                    connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5})
    c.start(timeout=WAIT_S)
    return c


def scenario(ens):
    hosts = ens.hosts()
    path = "/kazoo-ro-%d" % os.getpid()
    rw = client(hosts, False)
    rw.create(path, b"v1")
    rw.stop()
    rw.close()
    leader = ens.leader()
    assert leader, "no leader"
    survivor = [i for i in range(1, 4) if i != leader][0]
    dead = [i for i in range(1, 4) if i != survivor]
    assert isro(ens, survivor) == "rw", "a serving server answers isro %r" % isro(ens, survivor)
    for i in dead:
        assert ens.kill(i), "could not SIGKILL server %d" % i
    wait_for(lambda: isro(ens, survivor) == "ro", "server %d to answer isro 'ro'" % survivor)
    srvr = ensemble.four_letter(ens.client_port(survivor), "srvr") or ""
    assert "Mode: read-only" in srvr, "srvr in read-only mode: %r" % srvr

    zk = client(hosts, True)
    try:
        assert zk.client_state == KeeperState.CONNECTED_RO, \
            "state %s, want CONNECTED_RO" % zk.client_state
        data, _ = zk.get(path)
        assert data == b"v1", "read %r from the read-only server, want b'v1'" % data
        for what, call in (("set", lambda: zk.set(path, b"v2")),
                           ("create", lambda: zk.create(path + "/x", b""))):
            try:
                call()
            except NotReadOnlyCallError:
                pass
            else:
                raise AssertionError("%s on a read-only session did not fail" % what)
        ro_session = zk.client_id[0]
        for i in dead:
            ens.start_one(i)
        assert ens.wait_serving(WAIT_S), "the ensemble did not serve again"
        wait_for(lambda: zk.client_state == KeeperState.CONNECTED,
                 "kazoo to reach a read-write session (state %s)" % zk.client_state)
        assert zk.client_id[0] != ro_session, "the read-only session id was kept"
        zk.set(path, b"v2")
        data, _ = zk.get(path)
        assert data == b"v2", "read %r after the write, want b'v2'" % data
        zk.delete(path)
    finally:
        zk.stop()
        zk.close()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    zabd = os.environ.get("ZABD_BIN") or os.path.join(ensemble.REPO, "bin", "zabd")
    if not os.access(zabd, os.X_OK):
        print("kazoo_readonly: %s not built (make all)" % zabd, file=sys.stderr)
        return 2
    d = tempfile.mkdtemp(prefix="zablab-kazoo-ro.")
    ens = ReadOnlyEnsemble(d, kind="zabd", zabd_bin=zabd)
    ens.base_port = ensemble.pick_base_port(start=25181, stop=25398)
    rc = 1
    try:
        ens.start_all()
        if not ens.wait_serving(WAIT_S):
            print("kazoo_readonly: the ensemble did not start; logs in %s" % d, file=sys.stderr)
            args.keep = True
            return 2
        scenario(ens)
        print("kazoo_readonly: ok")
        rc = 0
    except AssertionError as e:
        print("kazoo_readonly: FAIL: %s" % e, file=sys.stderr)
    except Exception:
        traceback.print_exc()
    finally:
        ens.stop_all()
        # Under `make test`'s ASan run zabd is built with sanitizers too.
        for i in range(1, 4):
            try:
                with open(os.path.join(ens.sdir(i), "server.out"), errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            if "Sanitizer" in text or "runtime error:" in text:
                print("kazoo_readonly: FAIL: sanitizer report in %s/s%d/server.out" % (d, i),
                      file=sys.stderr)
                rc = 1
        if rc != 0:
            args.keep = True
        if args.keep:
            print("kazoo_readonly: kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
