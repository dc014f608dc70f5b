#!/usr/bin/env bash
# Source checks run by ctest (like curl's checksrc): every C file is
# formatted by the checked-in .clang-format, and product code (common/,
# services/, the tools under tests/) never calls the functions the house
# style bans because they overflow or hide errors: strcpy, strcat,
# sprintf, vsprintf, strtok, atoi, atol, gets.  (Test assertions may use
# atoi on values they have just checked.)  The services and common/
# allocate through sl_arena.h (arenas, sl_malloc/sl_calloc/sl_realloc/
# sl_strdup), which the out-of-memory bookkeeping and the test builds'
# allocation-failure switch see; only sl_arena.c and the command-line tools
# under services/*/tools call libc's allocators.
#
# usage: check_sources.sh SOURCE_DIR
set -euo pipefail
cd "$1"

files=$(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || find common services tests -name '*.[ch]')
bad=0

if command -v clang-format >/dev/null; then
    for f in $files; do
        if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
            echo "not formatted: $f (run clang-format -i $f)"
            bad=$((bad + 1))
        fi
    done
else
    echo "clang-format is missing (deploy/local/deps.sh test installs it)"
    bad=$((bad + 1))
fi

product=$(printf '%s\n' $files | grep -E '^(common|services|tests/(bench|interop|fuzz|support|peak))/' || true)
if [ -n "$product" ]; then
    # shellcheck disable=SC2086
    if grep -nE '(^|[^_a-z])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)[[:space:]]*\(' $product; then
        echo "banned function used (see above): use memcpy/snprintf/strtol with checks"
        bad=$((bad + 1))
    fi
fi

allocating=$(printf '%s\n' $files | grep -E '^(common|services)/.*\.c$' | grep -vE '^common/sl_arena\.c$|^services/[a-z_]+/tools/' || true)
if [ -n "$allocating" ]; then
    # shellcheck disable=SC2086
    if grep -nE '(^|[^_a-zA-Z0-9])(malloc|calloc|realloc|strdup|strndup)[[:space:]]*\(' $allocating; then
        echo "libc allocator called directly (see above): use sl_malloc/sl_calloc/sl_realloc/sl_strdup or an arena (sl_arena.h)"
        bad=$((bad + 1))
    fi
fi

if [ "$bad" -ne 0 ]; then
    echo "$bad source check(s) failed"
    exit 1
fi
echo "source checks: $(printf '%s\n' $files | wc -l) files formatted, no banned functions"
