#!/usr/bin/env bash
# bench/verify_accuracy.sh [N] [DOWNLOADER]: the audio verifier's accuracy on
# generated files, N (default 30) per class, printed as a table.
#   genuine-flac    FLAC of broadband sound (sox)                  -> kept
#   lossy-flac      FLAC decoded from an MP3 of 128/192/320 kbps    -> lossy-source
#   genuine-mp3     MP3 of 128/192/256/320 kbps (lame)             -> kept
#   upsampled-mp3   MP3 320 kbps made from a 128 kbps MP3           -> upsampled
# Each file differs: its sound (white/pink/brown noise under a tremolo, or
# plucked chords over quieter noise, so that every file has content to
# 20+ kHz as music from a lossless master does), its length (20-40 s) and
# its level.
# Needs sox, lame and flac. Prints one line per class and a total.
set -u
n=${1:-30}
dl=${2:-$(cd "$(dirname "$0")/.." && pwd)/bin/soulpipe-downloader}
tmp=$(mktemp -d /tmp/sp-verify-acc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
colours=(whitenoise pinknoise brownnoise)
notes=("pluck C3 pluck E3" "pluck A2 pluck C#3" "pluck G2 pluck B2" "pluck D3 pluck F#3")

source_wav() {  # i out.wav
    local i=$1 out=$2 len=$((20 + i % 21)) col=${colours[$((i % 3))]}
    local vol=$(awk -v i="$i" 'BEGIN { printf "%.2f", 0.25 + (i % 7) * 0.08 }')
    case $((i % 3)) in
    0) sox -R -n -r 44100 -c 2 -b 16 "$out" synth "$len" "$col" vol "$vol" tremolo $((2 + i % 5)) 70 ;;
    1) sox -R -n -r 44100 -c 2 -b 16 "$tmp/a.wav" synth "$len" whitenoise vol 0.06 tremolo 5 90
       sox -R -n -r 44100 -c 2 -b 16 "$tmp/b.wav" synth "$len" ${notes[$((i % 4))]} vol "$vol"
       sox -m "$tmp/a.wav" "$tmp/b.wav" "$out" ;;
    2) sox -R -n -r 44100 -c 2 -b 16 "$tmp/a.wav" synth "$len" "$col" vol 0.15 tremolo 3 80
       sox -R -n -r 44100 -c 2 -b 16 "$tmp/b.wav" synth "$len" ${notes[$((i % 4))]} vol "$vol"
       sox -m "$tmp/a.wav" "$tmp/b.wav" "$out" ;;
    esac
}

declare -A ok total
check() {  # class want file expect_ms
    local class=$1 want=$2 file=$3
    local out verdict
    out=$("$dl" --verify "$file" --json 2>/dev/null)
    verdict=$(printf '%s' "$out" | sed -n 's/.*"verdict":"\([^"]*\)".*/\1/p')
    total[$class]=$(( ${total[$class]:-0} + 1 ))
    if [ "$verdict" = "$want" ]; then
        ok[$class]=$(( ${ok[$class]:-0} + 1 ))
    else
        echo "  miss: $class #$4: $verdict ($(printf '%s' "$out" | sed -n 's/.*"reasons":\["\([^"]*\)".*/\1/p'))" >&2
    fi
}

rates=(128 192 320)
mrates=(128 192 256 320)
for i in $(seq 1 "$n"); do
    w="$tmp/s$i.wav"
    source_wav "$i" "$w"
    flac -s -f -o "$tmp/g.flac" "$w" && check genuine-flac genuine "$tmp/g.flac" "$i"
    r=${rates[$((i % 3))]}
    lame --quiet -b "$r" "$w" "$tmp/l.mp3" && lame --quiet --decode "$tmp/l.mp3" "$tmp/l.wav" &&
        flac -s -f -o "$tmp/l.flac" "$tmp/l.wav" && check lossy-flac lossy-source "$tmp/l.flac" "$i"
    m=${mrates[$((i % 4))]}
    lame --quiet -b "$m" "$w" "$tmp/m.mp3" && check genuine-mp3 genuine "$tmp/m.mp3" "$i"
    lame --quiet -b 128 "$w" "$tmp/u1.mp3" && lame --quiet --decode "$tmp/u1.mp3" "$tmp/u.wav" &&
        lame --quiet -b 320 "$tmp/u.wav" "$tmp/u.mp3" && check upsampled-mp3 upsampled "$tmp/u.mp3" "$i"
done
printf '%-15s %-13s %s\n' class expected "right/total"
all=0; right=0
for c in genuine-flac lossy-flac genuine-mp3 upsampled-mp3; do
    case $c in genuine-*) e=kept ;; lossy-flac) e=lossy-source ;; *) e=upsampled ;; esac
    printf '%-15s %-13s %d/%d\n' "$c" "$e" "${ok[$c]:-0}" "${total[$c]:-0}"
    all=$((all + ${total[$c]:-0})); right=$((right + ${ok[$c]:-0}))
done
printf 'verify_accuracy_right %d of %d\n' "$right" "$all"
