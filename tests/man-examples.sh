#!/bin/sh
# Every man page of section 3 that is not a link has an EXAMPLES section
# whose .EX/.EE blocks, put together, are one complete program: extract
# it, compile it against the library of this build tree and run it, so the
# pages cannot drift from the code. A page without one fails.
srcdir="${top_srcdir:-.}"
builddir="${top_builddir:-.}"
CC="${CC:-cc}"
work="$builddir/tests/man-examples.d"
rm -rf "$work" && mkdir -p "$work" || exit 99
status=0 n=0
for page in "$srcdir"/doc/*.3; do
    [ -L "$page" ] && continue
    case "$(head -n 1 "$page")" in .so\ *) continue ;; esac
    name=$(basename "$page" .3)
    # The blocks between .EX and .EE inside EXAMPLES, unescaped: \- is -,
    # \(aq is ', \& is nothing and \e is a backslash (last).
    awk '/^\.SH / { inex = ($0 == ".SH EXAMPLES") }
         inex && /^\.EE/ { code = 0 }
         inex && code { print }
         inex && /^\.EX/ { code = 1 }' "$page" |
        sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\&//g' -e 's/\\e/\\/g' > "$work/$name.c"
    if ! grep -q 'main(' "$work/$name.c"; then
        echo "FAIL: $page: no complete program in an EXAMPLES section" >&2
        status=1
        continue
    fi
    # shellcheck disable=SC2086 # CFLAGS is a list of flags
    if ! "$builddir/libtool" --quiet --mode=link --tag=CC $CC -std=c99 -Wall -Wextra -Werror \
        -I"$srcdir/include" -I"$builddir/include" -o "$work/$name" "$work/$name.c" \
        "$builddir/libgomem.la" >"$work/$name.log" 2>&1; then
        echo "FAIL: $page: its example does not compile:" >&2
        cat "$work/$name.log" >&2
        status=1
        continue
    fi
    if ! "$work/$name" >"$work/$name.out" 2>&1; then
        echo "FAIL: $page: its example exits with an error:" >&2
        cat "$work/$name.out" >&2
        status=1
        continue
    fi
    echo "ok: $name: $(head -n 1 "$work/$name.out")"
    n=$((n + 1))
done
[ $status = 0 ] && [ -z "${KEEP:-}" ] && rm -rf "$work"
echo "man-examples: $n programs compiled and run"
exit $status
