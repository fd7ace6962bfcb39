#!/usr/bin/env bash
# scripts/run.sh [ENV_FILE] (make run): soulpipe against your real Spotify,
# Plex and slskd, on this machine, without docker.
#
# Reads the configuration from ENV_FILE (default .env; see .env.example for
# every variable), checks that Redis answers, starts the analyzer, the
# searchers and downloaders (SOULPIPE_SEARCHERS / SOULPIPE_DOWNLOADERS, 1
# each by default) and the tagger, and runs until Ctrl-C, when it stops them
# (in-flight jobs are handed back and resume on the next start). Logs go to
# ./run-logs/. Submit playlists from another terminal with bin/soulpipe.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
env_file=${1:-.env}
if [ ! -f "$env_file" ]; then
    echo "run: $env_file not found: copy .env.example to .env and fill it in" >&2
    exit 2
fi
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
make -s all || exit 2
: "${SOULPIPE_REDIS_URL:=redis://127.0.0.1:6379/0}"
redis_host=$(echo "$SOULPIPE_REDIS_URL" | sed -E 's#^redis://([^@]*@)?([^:/]+).*#\2#')
redis_port=$(echo "$SOULPIPE_REDIS_URL" | sed -nE 's#^redis://([^@]*@)?[^:/]+:([0-9]+).*#\2#p')
if ! (exec 3<>"/dev/tcp/$redis_host/${redis_port:-6379}") 2>/dev/null; then
    echo "run: Redis does not answer at $redis_host:${redis_port:-6379} (SOULPIPE_REDIS_URL);" \
         "install and start it: apt-get install redis-server" >&2
    exit 2
fi
for dir in "${SOULPIPE_STAGING_DIR:-}" "${SOULPIPE_TRANSFER_DIR:-}"; do
    [ -z "$dir" ] || mkdir -p "$dir"
done
mkdir -p run-logs
pids=()
stop_all() {
    echo "stopping..."
    kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
    exit 0
}
trap stop_all INT TERM
start() {
    local name=$1; shift
    "$@" >> "run-logs/$name.log" 2>&1 &
    pids+=($!)
    echo "started $name (pid $!, log run-logs/$name.log)"
}
start analyzer bin/soulpipe-analyzer
sleep 1
for i in $(seq 1 "${SOULPIPE_SEARCHERS:-1}"); do start "searcher-$i" bin/soulpipe-searcher; done
for i in $(seq 1 "${SOULPIPE_DOWNLOADERS:-1}"); do start "downloader-$i" bin/soulpipe-downloader; done
start tagger bin/soulpipe-tagger
echo "soulpipe is running; submit with: bin/soulpipe submit <playlist URL> --wait   (Ctrl-C here stops it)"
wait
