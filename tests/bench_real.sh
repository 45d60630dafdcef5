#!/bin/bash
# bench_real: `make bench-real` — zabd against Apache ZooKeeper 3.8 (Debian's
# `zookeeper` package, installed here if missing) on this machine's loopback,
# one after the other: load matrix, RSS per server, fail-over time; medians of
# 3 runs as a side-by-side markdown table (tests/real/bench_real.py does the
# work; this script installs, finds the tools and bounds the time).
#   tests/bench_real.sh [--runs N] [--seconds S] [--kinds apache,zabd] [--out FILE.md]
# Env: BENCH_REAL_DIR (default build/bench-real; on disk, so fsync is real);
# BENCH_REAL_PENDING=zabd shows a column as pending instead of running it.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 2
RUNS=3; SECONDS_PER=5; KINDS=apache,zabd; OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift ;;
        --seconds) SECONDS_PER=$2; shift ;;
        --kinds) KINDS=$2; shift ;;
        --out) OUT=$2; shift ;;
        *) echo "usage: $0 [--runs N] [--seconds S] [--kinds apache,zabd] [--out FILE.md]" >&2
           exit 2 ;;
    esac
    shift
done
DIR=${BENCH_REAL_DIR:-$REPO/build/bench-real}
OUT=${OUT:-$DIR/table.md}
if [ ! -f /usr/share/java/zookeeper.jar ] && [[ $KINDS == *apache* ]]; then
    echo "bench-real: installing Debian's zookeeper package"
    apt-get install -y zookeeper >/dev/null || { echo "bench-real: apt-get install zookeeper failed" >&2; exit 2; }
fi
command -v java >/dev/null || { echo "bench-real: no java" >&2; exit 2; }
# The load tool: `zablab load` once the cli dispatches it, else its own binary.
if [ -x bin/zablab ] && bin/zablab load --help >/dev/null 2>&1; then
    LOAD="$REPO/bin/zablab load"
elif [ -x build/tests/bench_load ]; then
    LOAD="$REPO/build/tests/bench_load"
else
    echo "bench-real: build first (make all build/tests/bench_load)" >&2; exit 2
fi
PENDING=${BENCH_REAL_PENDING:-}
rm -rf "$DIR"; mkdir -p "$DIR"
echo "bench-real: load tool: $LOAD; headroom against an instant server:"
if [ -x build/tests/bench_load ]; then
    timeout 60 build/tests/bench_load --headroom 2 | tee "$DIR/headroom.jsonl"
fi
timeout 3000 /usr/bin/python3 tests/real/bench_real.py --load "$LOAD" --kinds "$KINDS" \
    --pending "$PENDING" --runs "$RUNS" --seconds "$SECONDS_PER" --dir "$DIR" --out "$OUT"
rc=$?
echo "bench-real: table in $OUT"
exit $rc
