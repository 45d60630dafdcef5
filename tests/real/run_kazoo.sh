#!/bin/bash
# run_kazoo: starts a 3-server ensemble on loopback (zabd by default, Apache
# ZooKeeper with --apache), runs tests/real/kazoo_suite.py against it with the
# servers' PIDs (for the kill check), and stops exactly the processes it
# started, by PID. Everything is bounded by `timeout`.
#   tests/real/run_kazoo.sh [--apache] [--keep] [-- SUITE_ARGS...]
# Exit: the suite's (0 all passed, 1 a check failed), 2 setup failed,
# 77 skipped (kazoo or the server is not installed).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
KIND=${ZABLAB_REAL_KIND:-zabd}   # apache: the same checks against Apache ZooKeeper
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --apache) KIND=apache ;;
        --keep) KEEP=1 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--apache] [--keep] [-- SUITE_ARGS...]" >&2; exit 2 ;;
    esac
    shift
done
if ! $PY -c 'import kazoo' 2>/dev/null; then
    echo "run_kazoo: SKIP: python3-kazoo is not installed (apt-get install python3-kazoo)"
    exit 77
fi
if [ "$KIND" = apache ] && [ ! -f /usr/share/java/zookeeper.jar ]; then
    echo "run_kazoo: SKIP: Apache ZooKeeper is not installed (apt-get install zookeeper)"
    exit 77
fi
if [ "$KIND" = zabd ] && [ ! -x "${ZABD_BIN:-$REPO/bin/zabd}" ]; then
    echo "run_kazoo: bin/zabd not built (make all)" >&2
    exit 2
fi
# zabd builds from before its client port served sessions log this marker;
# against them the real-client checks cannot run: skip (77), loudly.
not_served_yet() {
    [ "$KIND" = zabd ] && grep -qs 'sessions are not served yet' "$@"
}
DIR=$(mktemp -d /tmp/zablab-kazoo.XXXXXX)
cleanup() {
    timeout 30 $PY "$HERE/ensemble.py" stop --dir "$DIR" >/dev/null 2>&1
    if [ "$KEEP" = 1 ]; then echo "run_kazoo: kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! HOSTS=$(timeout 90 $PY "$HERE/ensemble.py" start --kind "$KIND" --dir "$DIR" --timeout 60); then
    echo "run_kazoo: the $KIND ensemble did not start; logs in $DIR" >&2
    KEEP=1
    exit 2
fi
PIDS=$($PY "$HERE/ensemble.py" pids --dir "$DIR")
echo "run_kazoo: $KIND ensemble $HOSTS (pids $PIDS)"
timeout 240 $PY "$HERE/kazoo_suite.py" --hosts "$HOSTS" --pids "$PIDS" "$@"
rc=$?
[ $rc -eq 124 ] && echo "run_kazoo: the suite timed out" >&2
if [ $rc -ne 0 ] && not_served_yet "$DIR"/s*/server.out; then
    echo "run_kazoo: SKIP: this zabd does not serve client sessions yet (its log says so)"
    exit 77
fi
[ $rc -ne 0 ] && KEEP=1
exit $rc
