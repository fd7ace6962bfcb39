#!/bin/sh
# soulpipe-entrypoint: the ENTRYPOINT of the soulpipe image.
#
# Runs the given command (a compose service's `command:`, e.g.
# `soulpipe-analyzer`, or `soulpipe submit URL` from `docker compose run`).
#
# One variable needs two spellings in a container: the analyzer *binds*
# SOULPIPE_CLIENT_ENDPOINT / SOULPIPE_EVENTS_ENDPOINT (tcp://*:5555), while the
# `soulpipe` client must *connect* (tcp://analyzer:5555). When the command is
# the client and SOULPIPE_CLIENT_CONNECT / SOULPIPE_EVENTS_CONNECT are set,
# they replace the bind addresses, so `docker compose run --rm analyzer
# soulpipe list` and the analyzer's own healthcheck reach the running analyzer.
set -e

if [ $# -eq 0 ]; then
    set -- soulpipe --help
fi

case "$1" in
soulpipe)
    if [ -n "${SOULPIPE_CLIENT_CONNECT:-}" ]; then
        SOULPIPE_CLIENT_ENDPOINT=$SOULPIPE_CLIENT_CONNECT
        export SOULPIPE_CLIENT_ENDPOINT
    fi
    if [ -n "${SOULPIPE_EVENTS_CONNECT:-}" ]; then
        SOULPIPE_EVENTS_ENDPOINT=$SOULPIPE_EVENTS_CONNECT
        export SOULPIPE_EVENTS_ENDPOINT
    fi
    ;;
esac

exec "$@"
