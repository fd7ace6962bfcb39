#!/usr/bin/env bash
# scripts/run-tests.sh: run the whole test suite (called by `make test`).
#
# Starts a redis-server on a free loopback port for the tests that need it and
# stops it on exit, runs the unit tests (in parallel) and the integration and
# end-to-end tests (one at a time), then prints one summary line:
#     tests: N passed, N failed
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
BUILD=${BUILD:-build/rel}
BINDIR=${BINDIR:-bin}

tmp=$(mktemp -d /tmp/soulpipe-test.XXXXXX)
REDIS_PID=
cleanup() {
    stop_pid "$REDIS_PID"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

start_redis "$tmp/redis" || exit 1
export SOULPIPE_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SOULPIPE_BIN_DIR="$here/$BINDIR"
export SOULPIPE_SRC_DIR="$here"
export SOULPIPE_TEST_TMP="$tmp"
export SOULPIPE_TEST_TOOLS_DIR="$here/$BUILD/tests/tools"
export SOULPIPE_LOG_LEVEL=${SOULPIPE_LOG_LEVEL:-warn}
if [ "${SAN:-}" = "1" ]; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

passed=0
failed=0
status=0
run_suite() {
    local name=$1 bin=$2; shift 2
    [ -x "$bin" ] || return 0
    echo "==> $name tests ($bin)"
    local log="$tmp/$name.log"
    # In its own process group, output to a file: a process a test leaked
    # cannot keep a pipe open (and the run waiting), and is killed below.
    setsid "$bin" "$@" > "$log" 2>&1 &
    local pid=$!
    tail -n +1 --pid="$pid" -f "$log" &
    local tail_pid=$!
    wait "$pid"
    local rc=$?
    wait "$tail_pid" 2>/dev/null
    kill -9 -- "-$pid" 2>/dev/null || true
    local line
    line=$(grep -a 'Synthesis:' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "$name: the test runner printed no summary (exit $rc)"
        failed=$((failed + 1))
        status=1
        return
    fi
    local t p f c
    t=$(echo "$line" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
    p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] || [ "${f:-0}" -ne 0 ] || [ "${c:-0}" -ne 0 ]; then
        status=1
    fi
    : "${t:=0}"
}

# `make test SUITE='store/*'` runs only the matching tests
filter=()
if [ -n "${1:-}" ]; then
    filter=(--filter "$1")
fi
run_suite unit "$BUILD/tests/unit-tests" --jobs 2 --timeout 120 "${filter[@]}"
run_suite integration "$BUILD/tests/integration-tests" --jobs 1 --timeout 300 "${filter[@]}"

echo "tests: $passed passed, $failed failed"
exit $status
