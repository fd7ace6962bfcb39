#!/usr/bin/env bash
# scripts/lint.sh (make lint): the three checks every commit must pass, each
# timed; exits 1 when any of them finds something. Why these tools and
# settings: CONTRIBUTING.md.
#
#   format    clang-format --dry-run --Werror on every tracked .c/.h/.cpp
#             (the house format is .clang-format)
#   cppcheck  common/ services/ cli/ tests/fakes/, --enable=warning,
#             portability,performance, every finding an error; false positives
#             are suppressed inline (`// cppcheck-suppress id ; reason`) or,
#             by id and file, in scripts/cppcheck-suppressions.txt
#   tidy      clang-tidy with .clang-tidy's checks over common/ services/
#             cli/, the build's compile flags, two files at a time
#
# `make lint LINT=format` (or cppcheck, tidy; several with commas) runs only
# those. Environment (from the Makefile): LINT_PKGS, the pkg-config packages.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here" || exit 1

only=${LINT:-format,cppcheck,tidy}
jobs=${LINT_JOBS:-2}
failed=()

want() { [[ ",$only," == *",$1,"* ]]; }

timed() {
    local name=$1 t0 rc
    shift
    t0=$(date +%s)
    echo "==> lint: $name"
    "$@"
    rc=$?
    echo "    lint: $name $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - t0)) s"
    [ $rc -eq 0 ] || failed+=("$name")
}

s_format() {
    command -v clang-format >/dev/null || { echo "clang-format is not installed (apt-get install clang-format)"; return 1; }
    git ls-files -z '*.c' '*.h' '*.cpp' | xargs -0 -r clang-format --dry-run --Werror
}

s_cppcheck() {
    command -v cppcheck >/dev/null || { echo "cppcheck is not installed (apt-get install cppcheck)"; return 1; }
    cppcheck --quiet --error-exitcode=1 --std=c11 -j"$jobs" \
        --enable=warning,portability,performance --inline-suppr \
        --library=scripts/cppcheck.cfg --suppressions-list=scripts/cppcheck-suppressions.txt \
        -D_GNU_SOURCE -Icommon/include common services cli tests/fakes
}

s_tidy() {
    command -v clang-tidy >/dev/null || { echo "clang-tidy is not installed (apt-get install clang-tidy)"; return 1; }
    local pkgflags
    # shellcheck disable=SC2086  # LINT_PKGS is a list of package names
    pkgflags=$(pkg-config --cflags ${LINT_PKGS:-} 2>/dev/null) ||
        { echo "pkg-config cannot find the build packages (make deps)"; return 1; }
    # (the quotes in SOULPIPE_VERSION reach clang as they are: no shell
    # parses LINT_CFLAGS again, it is only split on blanks)
    export LINT_CFLAGS="-D_GNU_SOURCE -DSOULPIPE_VERSION=\"lint\" -Icommon/include $pkgflags"
    git ls-files 'common/*.c' 'common/*.cpp' 'services/*.c' 'cli/*.c' |
        xargs -r -P"$jobs" -n1 bash -c '
            case $0 in *.cpp) std=-std=c++17 ;; *) std=-std=c11 ;; esac
            # shellcheck disable=SC2086
            out=$(clang-tidy --quiet "$0" -- $std $LINT_CFLAGS 2>&1) && exit 0
            printf "%s\n" "$out" | grep -v -E "^[0-9]+ (warnings?|errors?)( and [0-9]+ errors?)? generated\.$"
            exit 1'
}

want format && timed format s_format
want cppcheck && timed cppcheck s_cppcheck
want tidy && timed tidy s_tidy

if [ ${#failed[@]} -gt 0 ]; then
    echo "lint: FAILED (${failed[*]})"
    exit 1
fi
echo "lint: passed"
