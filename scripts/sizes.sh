#!/usr/bin/env bash
# scripts/sizes.sh: file and function sizes of common/, services/ and cli/
# (the figures the house-in-order rules are measured with).
#   scripts/sizes.sh [MAX_FILE_LINES [MAX_FUNCTION_LINES]]
# Prints every source file over MAX_FILE_LINES (default 900) and every
# function over MAX_FUNCTION_LINES (default 120) lines, then a summary line.
# A function is counted from the line with its name at column 0 to its
# closing brace at column 0 (the house format puts both there).
set -u
cd "$(dirname "$0")/.."
max_file=${1:-900}
max_fn=${2:-120}
files=$(git ls-files 'common/*.c' 'common/*.cpp' 'services/*.c' 'cli/*.c')
big_files=0
for f in $files; do
    n=$(wc -l < "$f")
    if [ "$n" -gt "$max_file" ]; then
        echo "file $f $n lines"
        big_files=$((big_files + 1))
    fi
done
largest_file=$(wc -l $files | grep -v ' total$' | sort -n | tail -1)
big_fns=$(awk -v max="$max_fn" '
    FNR == 1 { name = ""; start = 0 }
    /^[A-Za-z_][A-Za-z0-9_]* ?\(/ && !/;[ \t]*$/ { name = $1; sub(/\(.*/, "", name); start = FNR }
    /^}/ && start > 0 { len = FNR - start + 1; if (len > max) printf "function %s:%d %s %d lines\n", FILENAME, start, name, len; start = 0 }
' $files)
[ -n "$big_fns" ] && echo "$big_fns"
n_fns=$(printf '%s' "$big_fns" | grep -c '^function' || true)
echo "sizes: $big_files files over $max_file lines, $n_fns functions over $max_fn lines (largest file: ${largest_file## })"
