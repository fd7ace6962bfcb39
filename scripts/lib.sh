# scripts/lib.sh: helpers shared by the test, demo and bench scripts.

# free_port: print a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local port tries=0
    while [ $tries -lt 200 ]; do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
        tries=$((tries + 1))
    done
    echo "free_port: no free port found" >&2
    return 1
}

# start_redis DIR: start redis-server on a free loopback port with its data
# in DIR (AOF on); sets REDIS_PORT and REDIS_PID.
start_redis() {
    local dir=$1
    mkdir -p "$dir"
    command -v redis-server >/dev/null || { echo "redis-server is not installed (make deps)" >&2; return 1; }
    REDIS_PORT=$(free_port) || return 1
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync everysec --save "" --daemonize no --logfile "$dir/redis.log" &
    REDIS_PID=$!
    local i
    for i in $(seq 1 100); do
        if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
            return 0
        fi
        sleep 0.05
    done
    echo "redis-server did not start on port $REDIS_PORT (see $dir/redis.log)" >&2
    return 1
}

stop_pid() {
    local pid=$1
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || return 0
    # SOULPIPE_STOP_WAIT_S: how long a process may take to stop (default 5 s;
    # more under valgrind) before it is killed
    local i
    for i in $(seq 1 $(( ${SOULPIPE_STOP_WAIT_S:-5} * 10 ))); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}
