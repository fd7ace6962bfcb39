#!/usr/bin/env bash
# scripts/run-bench.sh: run the benchmarks (called by `make bench` with the
# bench binaries as arguments).
#
# Starts a redis-server on a free loopback port (no AOF fsync in the way:
# appendfsync everysec, as in production) for the benchmarks that need one
# and stops it on exit, then runs each benchmark in turn. Each prints
# `name value unit` lines; they are shown as they come and collected in
# build/bench-results.txt (with the date and the machine's load), so runs
# can be compared. A benchmark that fails is reported and the others still
# run; the exit status is 1 if any failed.
#
#   SOULPIPE_BENCH_TIMEOUT   seconds per benchmark (default 240)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
. "$here/scripts/lib.sh"
BUILD=${BUILD:-build/rel}
BINDIR=${BINDIR:-bin}

tmp=$(mktemp -d /tmp/soulpipe-bench.XXXXXX)
REDIS_PID=
cleanup() {
    stop_pid "$REDIS_PID"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a loaded machine can be slow to start it: a few tries
for try in 1 2 3; do
    start_redis "$tmp/redis" && break
    stop_pid "$REDIS_PID"
    REDIS_PID=
    [ "$try" -lt 3 ] || exit 1
done
export SOULPIPE_BENCH_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SOULPIPE_BENCH_TMP="$tmp"
export SOULPIPE_BIN_DIR="$here/$BINDIR"
export SOULPIPE_SRC_DIR="$here"
export SOULPIPE_LOG_LEVEL=${SOULPIPE_LOG_LEVEL:-warn}

results="$here/build/bench-results.txt"
mkdir -p "$(dirname "$results")"
{
    echo "# soulpipe bench $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null)"
    echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$results"

status=0
for bin in "$@"; do
    [ -x "$bin" ] || { echo "run-bench: $bin is not built" >&2; status=1; continue; }
    name=$(basename "$bin")
    echo "==> $name"
    # In its own process group: whatever it started is stopped with it.
    setsid timeout "${SOULPIPE_BENCH_TIMEOUT:-240}" "$bin" > "$tmp/$name.out" 2> "$tmp/$name.err" &
    pid=$!
    wait "$pid"
    rc=$?
    kill -9 -- "-$pid" 2>/dev/null || true
    cat "$tmp/$name.out"
    cat "$tmp/$name.out" >> "$results"
    if [ "$rc" -ne 0 ]; then
        echo "run-bench: $name failed (exit $rc):" >&2
        tail -n 20 "$tmp/$name.err" >&2
        echo "# $name failed (exit $rc)" >> "$results"
        status=1
    fi
done
echo "(figures also in $results; the machine is shared, so they are noisy)"
exit $status
