#!/bin/sh
# Regenerates tests/fakes/seeds/*.mp3: two seconds of broadband, music-like
# sound (pink noise under a 3 Hz tremolo: transients, content to 22 kHz)
# encoded by lame without the bit reservoir (--nores) and without a Xing
# tag (-t), so every frame decodes on its own and the fake slskd can repeat
# them to any length (tests/fakes/audio.c); it fades in and out so that
# the seams (where the MDCT overlap does not cancel) stay inaudible. up320 is a 320 kbps file of a
# 128 kbps-class source (16.5 kHz low-pass, as lame's 128 kbps joint stereo
# leaves), i.e. an upsampled MP3. Needs sox and lame (Debian packages).
set -eu
out=$(dirname "$0")/../tests/fakes/seeds
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sox -n -r 44100 -c 1 -b 16 "$tmp/src.wav" synth 2.0 pinknoise vol 0.5 tremolo 3 80 fade q 0.1 2.0 0.1
enc() { lame --quiet --nores -t -m m "$@"; }
enc -b 96 "$tmp/src.wav" "$out/c96.mp3"
enc -b 128 "$tmp/src.wav" "$out/c128.mp3"
enc -b 192 "$tmp/src.wav" "$out/c192.mp3"
enc -b 256 "$tmp/src.wav" "$out/c256.mp3"
enc -b 320 "$tmp/src.wav" "$out/c320.mp3"
enc -V 0 "$tmp/src.wav" "$out/v0.mp3"
lame --quiet -m m -b 128 --lowpass 16.5 "$tmp/src.wav" "$tmp/lo.mp3"
lame --quiet --decode "$tmp/lo.mp3" "$tmp/lo.wav"
enc -b 320 "$tmp/lo.wav" "$out/up320.mp3"
