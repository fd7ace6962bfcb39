#!/usr/bin/env bash
# scripts/test-chaos.sh (make test-chaos): the chaos test, tests/chaos.
#
# Runs the chaos test binary (built by make) on its own: it starts its own
# redis-server (AOF), the fake upstreams and the services, kills workers, the
# analyzer and redis-server during a 300-track run, and prints the figures.
# In its own process group, so nothing it started can outlive it. Exit status:
# 0 when every check holds, 1 otherwise. Takes a few minutes.
#   SOULPIPE_CHAOS_SEED=N     repeat a run's kill schedule
#   SOULPIPE_CHAOS_TRACKS=N   another playlist size
#   SOULPIPE_TEST_KEEP=1      keep the run's folder (logs, Transfer, Redis)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
BUILD=${BUILD:-build/rel}
BINDIR=${BINDIR:-bin}
bin="$BUILD/tests/chaos-tests"
[ -x "$bin" ] || { echo "test-chaos: $bin is not built (make test-chaos)" >&2; exit 2; }

export SOULPIPE_BIN_DIR="$here/$BINDIR"
export SOULPIPE_SRC_DIR="$here"
export SOULPIPE_TEST_TOOLS_DIR="$here/$BUILD/tests/tools"
export SOULPIPE_LOG_LEVEL=${SOULPIPE_LOG_LEVEL:-info}
if [ "${SAN:-}" = "1" ]; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

start=$(date +%s)
log=$(mktemp /tmp/soulpipe-chaos.XXXXXX.log)
setsid "$bin" --jobs 1 --timeout 600 --verbose=0 "$@" > "$log" 2>&1 &
pid=$!
trap 'kill -TERM -- "-$pid" 2>/dev/null' INT TERM
tail -n +1 --pid="$pid" -f "$log" &
tail_pid=$!
wait "$pid"
rc=$?
wait "$tail_pid" 2>/dev/null
kill -9 -- "-$pid" 2>/dev/null || true
line=$(grep -a 'Synthesis:' "$log" | tail -1)
echo "test-chaos: $(( $(date +%s) - start )) s, ${line:-no summary}"
if [ "$rc" -ne 0 ] || ! echo "$line" | grep -q 'Failing: 0 | Crashing: 0'; then
    echo "test-chaos: FAILED (full output in $log)"
    exit 1
fi
rm -f "$log"
echo "test-chaos: passed"
