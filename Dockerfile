# soulpipe container image (one image for every service; the compose file
# picks the command per service), plus the small Redis image the compose file
# uses.
#
#   docker build --network host -t soulpipe .                 the services
#   docker build --network host --target redis -t soulpipe-redis .
#
# Stages:
#   build    Debian bookworm + the -dev packages of scripts/deb-packages.txt;
#            runs `make` (the binaries only, no tests).
#   redis    Debian's redis-server 7.0 (AOF is switched on by the compose file).
#   runtime  (the last stage, so the default target) Debian bookworm + runtime
#            libraries only; bin/* in /usr/local/bin, the demo fixture in
#            /usr/share/soulpipe/demo, runs as the unprivileged user
#            `soulpipe` (uid 10001).
#
# `--network host` is only needed where the Docker bridge has no route out
# (dockerd --iptables=false); the compose file sets it for its builds.

ARG DEBIAN_IMAGE=debian:bookworm

# ------------------------------------------------------------------ build
FROM ${DEBIAN_IMAGE} AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/deb-packages.txt /tmp/deb-packages.txt
# Everything the build needs; the test framework and redis-server are not.
RUN apt-get update \
 && grep -v -E '^(libcriterion-dev|redis-server|redis-tools|curl|sox|lame|flac)$' /tmp/deb-packages.txt \
    | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts ./scripts
COPY common ./common
COPY services ./services
COPY cli ./cli
COPY tests/fakes ./tests/fakes
RUN make -j"$(nproc)" all && strip bin/*

# ------------------------------------------------------------------ redis
FROM ${DEBIAN_IMAGE} AS redis
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data", \
     "--appendonly", "yes", "--appendfsync", "everysec"]

# ------------------------------------------------------------------ runtime
FROM ${DEBIAN_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libzmq5 libczmq4 libmsgpackc2 libhiredis0.14 libcurl4 libjansson4 \
        libutf8proc2 libtag1v5 libtagc0 libmicrohttpd12 libssl3 libavformat59 \
        libavcodec59 libavutil57 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# The data folders are created here, owned by the service user, so that named
# volumes mounted on them start out writable by it.
RUN groupadd --gid 10001 soulpipe \
 && useradd --uid 10001 --gid soulpipe --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin soulpipe \
 && mkdir -p /data/slskd-downloads /data/staging /data/Transfer \
 && chown -R soulpipe:soulpipe /data
COPY --from=build /src/bin/ /usr/local/bin/
COPY docker/entrypoint.sh /usr/local/bin/soulpipe-entrypoint
COPY tests/fixtures/demo /usr/share/soulpipe/demo
ENV SLSKD_DOWNLOADS_DIR=/data/slskd-downloads \
    SOULPIPE_STAGING_DIR=/data/staging \
    SOULPIPE_TRANSFER_DIR=/data/Transfer
USER soulpipe
WORKDIR /data
ENTRYPOINT ["soulpipe-entrypoint"]
CMD ["soulpipe", "--help"]
