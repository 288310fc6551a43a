#!/bin/sh
# Every man page that is not a one-line link (.so) must pass mandoc's lint
# with no warning, and every link must be ".so doc/PAGE.3" for a page that
# exists, and open with "man -l doc/LINK.3" at the top of the source tree
# (make install turns it into ".so man3/PAGE.3").
srcdir="${top_srcdir:-.}/doc"
if ! command -v mandoc >/dev/null 2>&1; then
    echo "man: mandoc is not installed (debian/control lists it)" >&2
    exit 77
fi
status=0 pages=0 links=0
for f in "$srcdir"/*.[0-9]; do
    first=$(head -n 1 "$f")
    case "$first" in
    .so\ *)
        target="$srcdir/${first#.so doc/}"
        if [ "${first#.so doc/}" = "$first" ]; then
            echo "$f: a link page must say \".so doc/PAGE.3\" (not ${first})" >&2
            status=1
        elif [ ! -f "$target" ]; then
            echo "$f: link to missing page ${first#.so }" >&2
            status=1
        elif [ "$(cd "${top_srcdir:-.}" && mandoc -Tascii "doc/${f##*/}" 2>/dev/null | wc -l)" -lt 5 ]; then
            echo "$f: does not open at the top of the source tree" >&2
            status=1
        elif command -v man >/dev/null 2>&1 &&
            (cd "${top_srcdir:-.}" && MANPAGER=cat man -l "doc/${f##*/}" 2>&1 >/dev/null | grep -q "can't open"); then
            echo "$f: \"man -l doc/${f##*/}\" fails at the top of the source tree" >&2
            status=1
        fi
        links=$((links + 1))
        ;;
    *)
        out=$(mandoc -Tlint -W warning "$f" 2>&1)
        if [ -n "$out" ]; then
            printf '%s\n' "$out" >&2
            status=1
        fi
        pages=$((pages + 1))
        ;;
    esac
done
echo "man: $pages pages linted, $links links checked"
exit $status
