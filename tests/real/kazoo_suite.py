#!/usr/bin/python3
"""kazoo_suite: checks a ZooKeeper ensemble (zabd or Apache ZooKeeper) with
kazoo, a real client nobody here wrote: CRUD, ephemeral and sequential
nodes, data and child watches, multi, the Lock, Election, Counter and Queue
recipes, and a session that survives the SIGKILL of the server it was
connected to.

Owns: one scratch subtree /kazoo-suite-<pid> on the ensemble (removed at
the end) and the sessions it opens.
Never: signals a process whose PID was not passed with --pids.

Run with Debian's /usr/bin/python3 (python3-kazoo):
  kazoo_suite.py --hosts 127.0.0.1:21000,... [--pids PORT=PID,...] [--only NAME]
Exit 0 when every check passed, 1 otherwise (each failure is printed).
"""
import argparse
import os
import signal
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (BadVersionError, NoChildrenForEphemeralsError,
                              NodeExistsError, NoNodeError, NotEmptyError)
from kazoo.protocol.states import EventType

WAIT_S = 10.0          # longest wait for any one event
SESSION_TIMEOUT_S = 10.0


class Ctx:
    def __init__(self, hosts, pids):
        self.hosts = hosts
        self.pids = pids          # client port -> server PID
        self.root = "/kazoo-suite-%d" % os.getpid()
        self.clients = []

    def client(self, hosts=None, **kw):
        c = KazooClient(hosts=hosts or self.hosts, timeout=SESSION_TIMEOUT_S,
                        connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5},
                        **kw)
        c.start(timeout=WAIT_S)
        self.clients.append(c)
        return c

    def path(self, *parts):
        return "/".join((self.root,) + parts)

    def close_all(self):
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:
                pass
        self.clients = []


def wait_for(pred, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


# ---- the checks ---------------------------------------------------------------

def t_crud(ctx):
    zk = ctx.client()
    p = ctx.path("crud")
    got = zk.create(p, b"v1")
    assert got == p, "create returned %r, want %r" % (got, p)
    data, st = zk.get(p)
    assert data == b"v1", "get after create returned %r, want b'v1'" % data
    assert st.version == 0, "a new node has version %d, want 0" % st.version
    assert st.czxid == st.mzxid and st.czxid > 0, "czxid %d / mzxid %d of a new node" % (
        st.czxid, st.mzxid)
    st2 = zk.set(p, b"v2", version=0)
    assert st2.version == 1, "setData returned version %d, want 1" % st2.version
    assert st2.mzxid > st.mzxid, "setData's mzxid %d is not above the create's %d" % (
        st2.mzxid, st.mzxid)
    try:
        zk.set(p, b"v3", version=0)
        raise AssertionError("setData with a stale version succeeded")
    except BadVersionError:
        pass
    assert zk.get(p)[0] == b"v2", "a rejected setData changed the data"
    try:
        zk.create(p, b"again")
        raise AssertionError("create of an existing node succeeded")
    except NodeExistsError:
        pass
    assert zk.exists(ctx.path("missing")) is None, "exists of a missing node is not None"
    try:
        zk.get(ctx.path("missing"))
        raise AssertionError("get of a missing node succeeded")
    except NoNodeError:
        pass
    zk.create(p + "/a", b"")
    zk.create(p + "/b", b"x" * 1000)
    kids = sorted(zk.get_children(p))
    assert kids == ["a", "b"], "children %r, want ['a', 'b']" % kids
    assert zk.get(p + "/b")[0] == b"x" * 1000, "1000-byte value came back different"
    try:
        zk.delete(p)
        raise AssertionError("delete of a node with children succeeded")
    except NotEmptyError:
        pass
    zk.create(ctx.path("deep", "er", "node"), b"d", makepath=True)
    assert zk.exists(ctx.path("deep", "er")) is not None, "makepath did not create parents"
    zk.delete(p, recursive=True)
    assert zk.exists(p) is None, "recursive delete left the node"
    st3 = zk.exists(ctx.root)
    assert st3 is not None and st3.numChildren >= 1, "root stat %r" % (st3,)


def t_multi(ctx):
    zk = ctx.client()
    p = ctx.path("multi")
    zk.create(p, b"")
    tx = zk.transaction()
    tx.create(p + "/x", b"1")
    tx.create(p + "/y", b"2")
    tx.set_data(p, b"parent")
    res = tx.commit()
    assert res[0] == p + "/x" and res[1] == p + "/y", "multi results %r" % (res,)
    assert zk.get(p)[0] == b"parent", "multi's setData not applied"
    tx = zk.transaction()
    tx.create(p + "/z", b"3")
    tx.check(p, 99)
    res = tx.commit()
    assert isinstance(res[1], BadVersionError), "failed check in multi gave %r" % (res,)
    assert zk.exists(p + "/z") is None, "a failed multi applied its create (not atomic)"


def t_ephemeral(ctx):
    a = ctx.client()
    b = ctx.client()
    p = ctx.path("eph")
    a.create(p, b"mine", ephemeral=True)
    # Another session's reads may lag (ZooKeeper is not linearizable for
    # reads): sync first, as the contract requires.
    b.sync(p)
    st = b.exists(p)
    assert st is not None, "another session does not see the ephemeral node"
    assert st.ephemeralOwner == a.client_id[0], "ephemeralOwner 0x%x, want session 0x%x" % (
        st.ephemeralOwner, a.client_id[0])
    try:
        a.create(p + "/child", b"")
        raise AssertionError("created a child under an ephemeral node")
    except NoChildrenForEphemeralsError:
        pass
    gone = threading.Event()

    def watch(ev):
        if ev.type == EventType.DELETED:
            gone.set()
    assert b.exists(p, watch=watch) is not None, "ephemeral vanished before its session closed"
    a.stop()
    a.close()
    assert gone.wait(WAIT_S), "no NodeDeleted watch after the owner session closed"
    assert b.exists(p) is None, "ephemeral node outlived its session"


def t_sequential(ctx):
    zk = ctx.client()
    p = ctx.path("seq")
    zk.create(p, b"")
    made = [zk.create(p + "/n-", b"%d" % i, sequence=True) for i in range(5)]
    suffixes = [m[len(p + "/n-"):] for m in made]
    for s in suffixes:
        assert len(s) == 10 and s.isdigit(), "sequence suffix %r is not 10 digits" % s
    nums = [int(s) for s in suffixes]
    assert nums == sorted(nums) and len(set(nums)) == 5, "sequence numbers %r" % nums
    assert nums[0] == 0, "first sequential child of a new parent got %d, want 0" % nums[0]
    e = zk.create(p + "/e-", b"", sequence=True, ephemeral=True)
    assert int(e[-10:]) == 5, "ephemeral sequential got %r, want suffix 5" % e
    assert sorted(zk.get_children(p)) == sorted(m.rsplit("/", 1)[1] for m in made + [e]), \
        "children do not match the created sequential names"


def t_data_watch(ctx):
    a = ctx.client()
    b = ctx.client()
    p = ctx.path("dw")
    events = []
    lock = threading.Lock()

    def watch(ev):
        with lock:
            events.append((ev.type, ev.path))
    assert a.exists(p, watch=watch) is None, "watched node exists too early"
    b.create(p, b"0")
    wait_for(lambda: len(events) >= 1, "NodeCreated on an exists watch")
    assert events[0] == (EventType.CREATED, p), "first event %r" % (events[0],)
    a.get(p, watch=watch)
    b.set(p, b"1")
    wait_for(lambda: len(events) >= 2, "NodeDataChanged on a getData watch")
    assert events[1] == (EventType.CHANGED, p), "second event %r" % (events[1],)
    b.set(p, b"2")   # the watch fired once: no event for this change
    a.get(p, watch=watch)
    b.delete(p)
    wait_for(lambda: len(events) >= 3, "NodeDeleted on a getData watch")
    assert events[2] == (EventType.DELETED, p), "third event %r" % (events[2],)
    time.sleep(0.2)
    assert len(events) == 3, "one-shot watches fired more than once: %r" % events
    # The high-level DataWatch recipe sees the values in order.
    seen = []
    b.create(p, b"a")
    a.DataWatch(p, lambda data, stat: seen.append(data))
    wait_for(lambda: seen and seen[-1] == b"a", "DataWatch's first call")
    b.set(p, b"b")
    wait_for(lambda: seen and seen[-1] == b"b", "DataWatch seeing b")


def t_child_watch(ctx):
    a = ctx.client()
    b = ctx.client()
    p = ctx.path("cw")
    a.create(p, b"")
    events = []

    def watch(ev):
        events.append((ev.type, ev.path))
    assert a.get_children(p, watch=watch) == [], "new node has children"
    b.create(p + "/k1", b"")
    wait_for(lambda: events, "NodeChildrenChanged after a create")
    assert events[0] == (EventType.CHILD, p), "child event %r" % (events[0],)
    lists = []
    a.ChildrenWatch(p, lambda kids: lists.append(sorted(kids)))
    wait_for(lambda: lists and lists[-1] == ["k1"], "ChildrenWatch's first call")
    b.create(p + "/k2", b"")
    wait_for(lambda: lists and lists[-1] == ["k1", "k2"], "ChildrenWatch seeing k2")
    b.delete(p + "/k1")
    wait_for(lambda: lists and lists[-1] == ["k2"], "ChildrenWatch seeing k1 deleted")


def t_lock(ctx):
    p = ctx.path("lock")
    holders = [0]
    max_holders = [0]
    order = []
    guard = threading.Lock()
    errors = []

    def worker(name):
        try:
            zk = ctx.client()
            lk = zk.Lock(p, name)
            for _ in range(4):
                assert lk.acquire(timeout=WAIT_S), "%s could not take the lock" % name
                with guard:
                    holders[0] += 1
                    max_holders[0] = max(max_holders[0], holders[0])
                    order.append(name)
                time.sleep(0.01)
                with guard:
                    holders[0] -= 1
                lk.release()
        except Exception as e:   # reported by the main thread
            errors.append("%s: %r" % (name, e))
    ts = [threading.Thread(target=worker, args=("w%d" % i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, "lock workers failed: %s" % errors
    assert max_holders[0] == 1, "%d clients held the lock at once" % max_holders[0]
    assert len(order) == 12, "%d lock acquisitions, want 12" % len(order)
    zk = ctx.client()
    zk.sync(p)
    assert zk.Lock(p).contenders() == [], "lock contenders left after release"


def t_election(ctx):
    p = ctx.path("election")
    leaders = []
    guard = threading.Lock()
    running = [0]
    max_running = [0]
    elections = []

    def lead(name):
        with guard:
            running[0] += 1
            max_running[0] = max(max_running[0], running[0])
            leaders.append(name)
        time.sleep(0.1)
        with guard:
            running[0] -= 1
    ts = []
    for i in range(3):
        el = ctx.client().Election(p, "c%d" % i)
        elections.append(el)
        t = threading.Thread(target=el.run, args=(lead, "c%d" % i))
        ts.append(t)
        t.start()
    for t in ts:
        t.join(30)
    assert not any(t.is_alive() for t in ts), "an election contender never became leader"
    assert sorted(leaders) == ["c0", "c1", "c2"], "leaders in turn %r" % leaders
    assert max_running[0] == 1, "%d leaders at once" % max_running[0]
    # A contender that is waiting sees the current leader among contenders.
    holder = ctx.client().Election(p, "holder")
    started = threading.Event()
    stop = threading.Event()
    t = threading.Thread(target=holder.run, args=(lambda: (started.set(), stop.wait(WAIT_S)),))
    t.start()
    assert started.wait(WAIT_S), "the holder never became leader"
    oc = ctx.client()
    oc.sync(p)
    other = oc.Election(p, "other")
    cont = other.contenders()
    assert cont and cont[0] == "holder", "contenders %r, want holder first" % cont
    stop.set()
    t.join(WAIT_S)


def t_counter(ctx):
    p = ctx.path("counter")
    errors = []

    def worker():
        try:
            c = ctx.client().Counter(p)
            for _ in range(10):
                c += 1
        except Exception as e:
            errors.append(repr(e))
    ts = [threading.Thread(target=worker) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, "counter workers failed: %s" % errors
    vc = ctx.client()
    vc.sync(p)
    v = vc.Counter(p).value
    assert v == 30, "counter is %r after 3 x 10 increments, want 30" % v
    c = ctx.client().Counter(p)
    c -= 5
    assert c.value == 25, "counter is %r after -5, want 25" % c.value


def t_queue(ctx):
    zk = ctx.client()
    q = zk.Queue(ctx.path("queue"))
    for i in range(5):
        q.put(b"item%d" % i)
    q.put(b"urgent", priority=1)
    assert len(q) == 6, "queue length %d, want 6" % len(q)
    got = [q.get() for _ in range(6)]
    assert got[0] == b"urgent", "priority item came out %r, want first" % got
    assert got[1:] == [b"item%d" % i for i in range(5)], "FIFO order broken: %r" % got
    assert q.get() is None, "empty queue returned an item"
    # Two consumers on another session never get the same item.
    prod = ctx.client().Queue(ctx.path("queue2"))
    for i in range(20):
        prod.put(b"%d" % i)
    taken = []
    guard = threading.Lock()

    def consume():
        cc = ctx.client()
        cc.sync(ctx.path("queue2"))
        cq = cc.Queue(ctx.path("queue2"))
        while True:
            it = cq.get()
            if it is None:
                return
            with guard:
                taken.append(it)
    ts = [threading.Thread(target=consume) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert sorted(taken, key=int) == [b"%d" % i for i in range(20)], \
        "consumers took %r (duplicates or losses)" % sorted(taken, key=int)
    lq = zk.LockingQueue(ctx.path("lqueue"))
    lq.put(b"job")
    assert lq.get(WAIT_S) == b"job", "LockingQueue.get returned the wrong item"
    assert lq.consume(), "LockingQueue.consume failed"
    assert len(lq) == 0, "LockingQueue not empty after consume"


def t_session_survives_kill(ctx):
    if not ctx.pids:
        raise SkipTest("no --pids given")
    states = []
    zk = ctx.client()
    zk.add_listener(lambda s: states.append(s))
    sid = zk.client_id[0]
    p = ctx.path("survivor")
    zk.create(p, b"alive", ephemeral=True)
    port = zk._connection._socket.getpeername()[1]
    pid = ctx.pids.get(port)
    assert pid, "connected to port %d, which has no PID in --pids %r" % (port, ctx.pids)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: KazooState.SUSPENDED in states, "the client noticing the kill")
    wait_for(lambda: zk.state == KazooState.CONNECTED, "reconnection to another server", 30)
    assert KazooState.LOST not in states, "the session was lost: %r" % states
    assert zk.client_id[0] == sid, "session id changed 0x%x -> 0x%x" % (sid, zk.client_id[0])
    new_port = zk._connection._socket.getpeername()[1]
    assert new_port != port, "reconnected to the killed server's port %d" % port
    # Writes may need a new leader first: retry connection errors a while.
    deadline = time.monotonic() + 30
    while True:
        try:
            zk.set(p, b"still")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    data, st = zk.get(p)
    assert data == b"still", "ephemeral node data %r after failover" % data
    assert st.ephemeralOwner == sid, "ephemeral owner changed after failover"
    other = ctx.client()
    other.sync(p)
    assert other.exists(p) is not None, "ephemeral node gone after its server was killed"


class SkipTest(Exception):
    pass


TESTS = [("crud", t_crud), ("multi", t_multi), ("ephemeral", t_ephemeral),
         ("sequential", t_sequential), ("data_watch", t_data_watch),
         ("child_watch", t_child_watch), ("lock", t_lock), ("election", t_election),
         ("counter", t_counter), ("queue", t_queue),
         ("session_survives_kill", t_session_survives_kill)]


def parse_pids(s):
    out = {}
    for item in filter(None, (s or "").split(",")):
        port, pid = item.split("=")
        out[int(port)] = int(pid)
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--pids", help="PORT=PID,... of the servers (for the kill check)")
    ap.add_argument("--only", action="append", help="run only these checks")
    a = ap.parse_args(argv)
    ctx = Ctx(a.hosts, parse_pids(a.pids))
    setup = ctx.client()
    setup.ensure_path(ctx.root)
    passed = failed = skipped = 0
    for name, fn in TESTS:
        if a.only and name not in a.only:
            continue
        t0 = time.monotonic()
        try:
            fn(ctx)
            passed += 1
            print("PASS %-22s %.2fs" % (name, time.monotonic() - t0), flush=True)
        except SkipTest as e:
            skipped += 1
            print("SKIP %-22s %s" % (name, e), flush=True)
        except Exception as e:
            failed += 1
            print("FAIL %-22s %s: %s" % (name, type(e).__name__, e), flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
        finally:
            ctx.close_all()
    try:
        c = ctx.client()
        c.delete(ctx.root, recursive=True)
    except Exception as e:
        print("cleanup of %s failed: %r" % (ctx.root, e))
    ctx.close_all()
    print("kazoo: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
