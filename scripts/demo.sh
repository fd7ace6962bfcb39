#!/usr/bin/env bash
# scripts/demo.sh (make demo): soulpipe on the built-in demo, no account needed.
#
# Installs what is missing (Debian packages), builds, starts redis-server, the
# fake Spotify/Plex/slskd on the demo fixture and the four services (two
# searchers, two downloaders), logs in to the fake Spotify, submits the demo
# playlist with `soulpipe submit --wait`, then prints the Transfer tree and a
# summary, and stops everything it started. The output stays in a folder it
# names at the end.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

# ---------------------------------------------------------------- packages
missing=()
while read -r pkg; do
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < scripts/deb-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -q && \
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}" || {
            echo "demo: could not install ${missing[*]} (run as root or with sudo)" >&2; exit 2; }
fi

echo "==> building"
make -s -j"$(nproc)" all || exit 2

. scripts/lib.sh
out="$here/demo-output-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"/{slskd-downloads,staging,Transfer,logs}
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do stop_pid "$pid"; done
    stop_pid "${REDIS_PID:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "==> starting redis-server, the fake upstreams and the services (logs in $out/logs)"
start_redis "$out/redis" || exit 2
fake_port=$(free_port)
bin/soulpipe-fake --listen "127.0.0.1:$fake_port" --fixtures tests/fixtures/demo \
    --downloads "$out/slskd-downloads" > "$out/logs/fake.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" "$out/logs/fake.log" && break; sleep 0.05; done

fake="http://127.0.0.1:$fake_port"
export SOULPIPE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export SOULPIPE_CLIENT_ENDPOINT="tcp://127.0.0.1:$(free_port)"
export SOULPIPE_BROKER_ENDPOINT="tcp://127.0.0.1:$(free_port)"
export SOULPIPE_EVENTS_ENDPOINT="tcp://127.0.0.1:$(free_port)"
export SPOTIFY_ACCOUNTS_URL="$fake" SPOTIFY_API_URL="$fake" SLSKD_URL="$fake"
creds=tests/fixtures/demo/spotify/credentials.json
export SPOTIFY_CLIENT_ID=$(sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p' "$creds")
export SPOTIFY_CLIENT_SECRET=$(sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p' "$creds")
# SOULPIPE_LIBRARY picks the demo's media library (the same 67 tracks in each):
# plex (default), jellyfin, navidrome, folder or none.
json_field() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -1; }
unset PLEX_URL JELLYFIN_URL SUBSONIC_URL NAVIDROME_URL SOULPIPE_LIBRARY_DIR
case "${SOULPIPE_LIBRARY:=plex}" in
    plex)
        export PLEX_URL="$fake" PLEX_TOKEN=$(cat tests/fixtures/demo/plex/token) ;;
    jellyfin)
        export JELLYFIN_URL="$fake"
        JELLYFIN_API_KEY=$(json_field tests/fixtures/demo/jellyfin/server.json api_key)
        export JELLYFIN_API_KEY ;;
    navidrome | subsonic)
        export SUBSONIC_URL="$fake"
        SUBSONIC_USER=$(json_field tests/fixtures/demo/subsonic/server.json user)
        SUBSONIC_PASSWORD=$(json_field tests/fixtures/demo/subsonic/server.json password)
        export SUBSONIC_USER SUBSONIC_PASSWORD ;;
    folder)
        bin/soulpipe-fake --fixtures tests/fixtures/demo --write-library "$out/music" \
            > "$out/logs/library.log" 2>&1 || { cat "$out/logs/library.log"; exit 2; }
        export SOULPIPE_LIBRARY_DIR="$out/music" ;;
    none) ;;
    *) echo "demo: SOULPIPE_LIBRARY=$SOULPIPE_LIBRARY: use plex, jellyfin, navidrome, folder or none" >&2
       exit 2 ;;
esac
export SOULPIPE_LIBRARY
echo "==> the media library: $SOULPIPE_LIBRARY"
export SLSKD_API_KEY=$(cat tests/fixtures/demo/slskd/api-key)
export SLSKD_DOWNLOADS_DIR="$out/slskd-downloads"
export SOULPIPE_STAGING_DIR="$out/staging"
export SOULPIPE_TRANSFER_DIR="$out/Transfer"
# The fake network answers in ~2 s and cannot ban anyone: a faster budget and
# shorter limits keep the demo to about a minute.
export SOULPIPE_SEARCH_BUDGET=120/60
export SOULPIPE_SEARCH_TIMEOUT_MS=1500
export SOULPIPE_STALL_TIMEOUT_S=4
export SOULPIPE_QUEUE_TIMEOUT_S=4
export SOULPIPE_LOG_LEVEL=info

# SOULPIPE_DEMO_WRAP runs each service under a tool, e.g.
#   SOULPIPE_DEMO_WRAP="valgrind --leak-check=full --log-file=/tmp/vg-%p.log" make demo
wrap=(${SOULPIPE_DEMO_WRAP:-})
"${wrap[@]}" bin/soulpipe-analyzer > "$out/logs/analyzer.log" 2>&1 &
pids+=($!)
for i in 1 2; do
    "${wrap[@]}" bin/soulpipe-searcher > "$out/logs/searcher-$i.log" 2>&1 &
    pids+=($!)
    "${wrap[@]}" bin/soulpipe-downloader > "$out/logs/downloader-$i.log" 2>&1 &
    pids+=($!)
done
"${wrap[@]}" bin/soulpipe-tagger > "$out/logs/tagger.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do bin/soulpipe list >/dev/null 2>&1 && break; sleep 0.1; done

echo "==> logging in to the (fake) Spotify with PKCE"
bin/soulpipe login spotify --no-browser --port 0 > "$out/logs/login.log" 2>&1 &
login_pid=$!
url=
for _ in $(seq 1 100); do url=$(grep -m1 '^http' "$out/logs/login.log"); [ -n "$url" ] && break; sleep 0.05; done
# the fake approves at once and redirects to the login's callback
curl -s -L -o /dev/null "$url"
wait "$login_pid" || { cat "$out/logs/login.log"; echo "demo: login failed" >&2; exit 1; }

echo "==> soulpipe submit https://open.spotify.com/playlist/3cEYpjA9oz9GiPac4AsH4n --wait"
bin/soulpipe submit "https://open.spotify.com/playlist/3cEYpjA9oz9GiPac4AsH4n" --wait | tee "$out/submit.log"
job=$(head -1 "$out/submit.log")
# the tagger asks the library to rescan once the job has ended and waits for
# it: let that finish before the fake servers stop
case "$SOULPIPE_LIBRARY" in
    none | folder) ;;
    *) for _ in $(seq 1 150); do
           grep -q 'event=library_rescan' "$out/logs/tagger.log" && break
           sleep 0.2
       done ;;
esac

echo
echo "==> the Transfer tree"
(cd "$out/Transfer" && find . -mindepth 1 | sort | sed 's|^\./||')
echo
echo "==> summary"
bin/soulpipe status "$job" > "$out/status.txt"
bin/soulpipe status "$job" --json > "$out/status.json"
sed -n '1,2p' "$out/status.txt"
echo "  skipped because the library has them:"
grep -A1 ' skipped ' "$out/status.txt" | grep 'in library' | sed 's/^ */    /'
echo "  failed:"
grep -A1 ' failed ' "$out/status.txt" | grep -v ' failed ' | grep -v '^--' | sed 's/^ */    /'
echo
echo "The demo's output (Transfer tree, logs, status) is in $out"
