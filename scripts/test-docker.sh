#!/usr/bin/env bash
# scripts/test-docker.sh: the docker compose test (`make test-docker`).
#
# 1. Finds a Docker engine, or starts one (`dockerd --iptables=false`, as
#    root); if none can be had it prints "SKIPPED: no Docker engine could be
#    started (why)" and exits 0. That is the only skip: once an engine runs,
#    anything missing or broken (docker-compose, debootstrap, the build, the
#    stack, the Transfer tree) FAILS, and .ci/run fails with it.
# 2. Makes sure the base image debian:bookworm exists; Docker Hub may be out of
#    reach, so it is built locally when missing (debootstrap --variant=minbase
#    bookworm, imported under that name; later runs reuse it).
# 3. Builds the images with docker-compose, starts the `demo` profile with 3
#    searchers and 2 downloaders under a project name of its own, on free
#    loopback ports, logs in to the fake Spotify and submits the demo playlist
#    from the host (bin/soulpipe against the published analyzer port), checks
#    the in-container client too, and asserts the Transfer tree in the volume.
# 4. Always takes down what it started (`down -v`, and dockerd if it started
#    it). Prints the time of each step.
#
# Exit: 0 passed or skipped, 1 failed.
# Environment: SOULPIPE_DOCKER_TIMEOUT_S bounds the submit (default 420 s);
# SOULPIPE_DOCKER_KEEP=1 leaves the stack running for a look (still prints how
# to take it down).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1
. "$here/scripts/lib.sh"

BASE_IMAGE=debian:bookworm
PLAYLIST=https://open.spotify.com/playlist/3cEYpjA9oz9GiPac4AsH4n
PLAYLIST_NAME="Road Trip Classics"
DEMO=$here/tests/fixtures/demo
SUBMIT_TIMEOUT=${SOULPIPE_DOCKER_TIMEOUT_S:-420}

t_start=$(date +%s)
t_step=$t_start
step() {
    local now
    now=$(date +%s)
    printf '    (%ds)\n' $((now - t_step))
    t_step=$now
    echo "==> $*"
}
fail() {
    echo "FAILED: $*"
    exit 1
}

tmp=$(mktemp -d /tmp/soulpipe-docker.XXXXXX)
DOCKERD_PID=
PROJECT=
COMPOSE=()
cleanup() {
    local rc=$?
    if [ -n "$PROJECT" ] && [ ${#COMPOSE[@]} -gt 0 ]; then
        if [ "$rc" -ne 0 ]; then
            echo "--- last service logs"
            "${COMPOSE[@]}" logs --no-color --tail 25 2>&1 | tail -150
        fi
        if [ "${SOULPIPE_DOCKER_KEEP:-}" = "1" ]; then
            echo "left running; take it down with: ${COMPOSE[*]} down -v"
        else
            echo "==> tearing down (down -v)"
            "${COMPOSE[@]}" down -v --remove-orphans >/dev/null 2>&1 ||
                echo "warning: docker-compose down failed"
        fi
    fi
    if [ -n "$DOCKERD_PID" ] && [ "${SOULPIPE_DOCKER_KEEP:-}" != "1" ]; then
        echo "==> stopping the dockerd this test started (pid $DOCKERD_PID)"
        stop_pid "$DOCKERD_PID"
    fi
    if [ "${SOULPIPE_DOCKER_KEEP:-}" = "1" ]; then
        echo "kept $tmp (its test.env is needed by the command above)"
    else
        rm -rf "$tmp"
    fi
    echo "test-docker: total $(($(date +%s) - t_start)) s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

skip() {
    echo "SKIPPED: no Docker engine could be started ($*)"
    exit 0
}

# ------------------------------------------------------------ 1. engine
echo "==> Docker engine"
command -v docker >/dev/null 2>&1 || skip "the docker command is not installed (apt-get install docker.io)"
if ! timeout 20 docker info >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] || skip "none is running and only root can start dockerd here"
    command -v dockerd >/dev/null 2>&1 || skip "none is running and dockerd is not installed (apt-get install docker.io)"
    log=/tmp/soulpipe-test-dockerd.log
    echo "    none running: starting dockerd --iptables=false (log $log)"
    dockerd --iptables=false >"$log" 2>&1 &
    DOCKERD_PID=$!
    ok=0
    for _ in $(seq 1 60); do
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            DOCKERD_PID=
            skip "dockerd exited at start: $(tail -1 "$log" | cut -c1-200)"
        fi
        if timeout 5 docker info >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.5
    done
    [ $ok -eq 1 ] || skip "dockerd did not answer within 30 s: $(tail -1 "$log" | cut -c1-200)"
fi
echo "    engine $(docker version --format '{{.Server.Version}}' 2>/dev/null)"

if command -v docker-compose >/dev/null 2>&1; then
    COMPOSE_BIN=(docker-compose)
elif docker compose version >/dev/null 2>&1; then
    COMPOSE_BIN=(docker compose)
else
    # the engine runs: a missing compose is a broken setup, not a skip
    fail "docker-compose is not installed (apt-get install docker-compose)"
fi

# ------------------------------------------------------------ 2. base image
step "base image $BASE_IMAGE"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "    present"
else
    [ "$(id -u)" -eq 0 ] || fail "$BASE_IMAGE is missing and only root can debootstrap it"
    command -v debootstrap >/dev/null 2>&1 ||
        fail "$BASE_IMAGE is missing and debootstrap is not installed (apt-get install debootstrap)"
    mirror=${SOULPIPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
    rootfs=$tmp/rootfs
    echo "    missing: debootstrap --variant=minbase bookworm from $mirror"
    timeout 900 debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
        { tail -20 "$tmp/debootstrap.log"; fail "debootstrap failed"; }
    # the same apt sources as the official image
    printf '%s\n' "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
        "deb http://deb.debian.org/debian-security bookworm-security main" >"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -c . | docker import -c 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null ||
        fail "docker import of the base image failed"
    rm -rf "$rootfs"
    echo "    imported as $BASE_IMAGE"
fi

# ------------------------------------------------------------ 3. compose
# Free loopback ports; the project name keeps this run apart from a user's
# own stack. The env file replaces any .env of the user's.
if ! { CLIENT_PORT=$(free_port) && BROKER_PORT=$(free_port) &&
    EVENTS_PORT=$(free_port) && FAKE_PORT=$(free_port); }; then
    fail "no free ports"
fi
PROJECT=soulpipe-test-$$
cat >"$tmp/test.env" <<EOF
COMPOSE_PROFILES=demo
SOULPIPE_CLIENT_PORT=$CLIENT_PORT
SOULPIPE_BROKER_PORT=$BROKER_PORT
SOULPIPE_EVENTS_PORT=$EVENTS_PORT
SOULPIPE_FAKE_PORT=$FAKE_PORT
SOULPIPE_STALL_TIMEOUT_S=10
SOULPIPE_QUEUE_TIMEOUT_S=20
SOULPIPE_LOG_LEVEL=info
EOF
COMPOSE=("${COMPOSE_BIN[@]}" -p "$PROJECT" --env-file "$tmp/test.env" -f "$here/docker-compose.yml")

step "docker-compose config"
"${COMPOSE[@]}" config -q || fail "docker-compose does not accept docker-compose.yml"

step "docker-compose build"
timeout 1200 "${COMPOSE[@]}" --profile demo build --force-rm >"$tmp/build.log" 2>&1 ||
    { tail -40 "$tmp/build.log"; fail "docker-compose build failed"; }
docker image ls --format '    {{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'soulpipe' || true

step "docker-compose --profile demo up -d --scale searcher=3 --scale downloader=2"
timeout 300 "${COMPOSE[@]}" --profile demo up -d --scale searcher=3 --scale downloader=2 ||
    fail "docker-compose up failed"

count_running() {
    "${COMPOSE[@]}" ps -q "$1" 2>/dev/null | xargs -r docker inspect -f '{{.State.Running}}' | grep -c true
}
n=$(count_running searcher)
[ "$n" = 3 ] || fail "expected 3 running searchers, found $n"
n=$(count_running downloader)
[ "$n" = 2 ] || fail "expected 2 running downloaders, found $n"
echo "    3 searchers and 2 downloaders running"

# The client on the host, against the published port.
export SOULPIPE_CLIENT_ENDPOINT=tcp://127.0.0.1:$CLIENT_PORT
export SOULPIPE_EVENTS_ENDPOINT=tcp://127.0.0.1:$EVENTS_PORT
export SOULPIPE_LOG_LEVEL=warn
CLIENT=$here/bin/soulpipe
[ -x "$CLIENT" ] || make -s bin/soulpipe >/dev/null || fail "cannot build bin/soulpipe"

step "analyzer answers on 127.0.0.1:$CLIENT_PORT; services healthy"
ok=0
for _ in $(seq 1 120); do
    if "$CLIENT" list >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.5
done
[ $ok -eq 1 ] || fail "the analyzer did not answer \`soulpipe list\` within 60 s"
for _ in $(seq 1 60); do
    health=$("${COMPOSE[@]}" ps -q analyzer fake redis | xargs -r docker inspect -f '{{.State.Health.Status}}' | sort -u | tr '\n' ' ')
    [ "$health" = "healthy " ] && break
    sleep 1
done
echo "    analyzer, fake, redis health: $health"
[ "$health" = "healthy " ] || fail "not every healthcheck passed: $health"

step "client inside the image: docker-compose run --rm analyzer soulpipe list"
timeout 60 "${COMPOSE[@]}" run --rm --no-deps analyzer soulpipe list >"$tmp/run-list.out" 2>&1 ||
    { cat "$tmp/run-list.out"; fail "\`docker-compose run --rm analyzer soulpipe list\` failed"; }

step "soulpipe login spotify (the fake approves /authorize at once)"
# The demo app is in development mode: reading the playlist needs a user
# token. `--no-browser` prints the authorize URL; fetching it follows the
# fake's redirect to the client's loopback callback.
: >"$tmp/login.out"
SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:$FAKE_PORT \
SPOTIFY_CLIENT_ID=$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' "$DEMO/spotify/credentials.json") \
    timeout 60 "$CLIENT" login spotify --no-browser --port "$(free_port)" >"$tmp/login.out" 2>&1 &
login_pid=$!
url=
for _ in $(seq 1 100); do
    url=$(grep -o "http://127.0.0.1:$FAKE_PORT/authorize[^[:space:]\"'>]*" "$tmp/login.out" | head -1)
    [ -n "$url" ] && break
    kill -0 "$login_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -n "$url" ]; then
    curl -sS -L --max-time 30 -o /dev/null "$url" || echo "    warning: fetching the authorize URL failed"
fi
wait "$login_pid"
login_rc=$?
sed 's/^/    /' "$tmp/login.out" | grep -v -i 'token=' | head -5
[ $login_rc -eq 0 ] || fail "soulpipe login spotify failed (exit $login_rc)"

step "soulpipe submit $PLAYLIST --wait (from the host, at most $SUBMIT_TIMEOUT s)"
timeout "$SUBMIT_TIMEOUT" "$CLIENT" submit "$PLAYLIST" --wait >"$tmp/submit.out" 2>&1
submit_rc=$?
tail -15 "$tmp/submit.out" | sed 's/^/    /'
# 0 = every track done, 1 = some failed (the fixture has failing tracks)
[ $submit_rc -le 1 ] || fail "soulpipe submit --wait exited $submit_rc"
job=$(head -1 "$tmp/submit.out")
"$CLIENT" status "$job" >"$tmp/status.out" 2>&1 || true

step "Transfer tree in the volume"
"${COMPOSE[@]}" run --rm --no-deps --entrypoint find tagger /data/Transfer -mindepth 1 \
    >"$tmp/tree.out" 2>"$tmp/tree.err" || { cat "$tmp/tree.err"; fail "cannot list /data/Transfer"; }
sed "s|^/data/||" "$tmp/tree.out" | sort | sed 's/^/    /'
audio=$(grep -c -E '\.(flac|mp3|ogg|m4a)$' "$tmp/tree.out")
want=$(sed -n 's/^Totals:.* \([0-9][0-9]*\) downloaded.*/\1/p' "$DEMO/EXPECTED.md")
echo "    audio files: $audio (the fixture expects ${want:-?} downloaded)"
[ -n "$want" ] || fail "cannot read the expected total from $DEMO/EXPECTED.md"
[ "$audio" -eq "$want" ] || fail "expected $want audio files in the Transfer volume, found $audio"
grep -q "^/data/Transfer/$PLAYLIST_NAME/" "$tmp/tree.out" ||
    fail "nothing under Transfer/$PLAYLIST_NAME/"
grep -q '\.m3u8$' "$tmp/tree.out" || fail "no .m3u8 playlist in the Transfer volume"
outside=$(grep -E '\.(flac|mp3|ogg|m4a)$' "$tmp/tree.out" | grep -v -c "^/data/Transfer/$PLAYLIST_NAME/")
[ "$outside" -eq 0 ] || fail "$outside audio files outside Transfer/$PLAYLIST_NAME/"
# every album folder has its cover (the fake serves one per album)
no_cover=$(grep -E '\.(flac|mp3|ogg|m4a)$' "$tmp/tree.out" | sed 's|/[^/]*$||' | sort -u |
    while IFS= read -r d; do grep -qxF "$d/cover.jpg" "$tmp/tree.out" || echo "$d"; done)
[ -z "$no_cover" ] || fail "album folders without cover.jpg: $no_cover"
echo "    every album folder has a cover.jpg"

printf '    (%ds)\n' $(($(date +%s) - t_step))
echo "PASSED: docker compose demo with 3 searchers and 2 downloaders filed $audio tracks"
