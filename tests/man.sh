#!/bin/sh
# Every man page that is not a one-line link (.so) must pass mandoc's lint
# with no warning, and every link must point at a page that exists and
# open from the checkout: "man -l doc/LINK.3" at the top of the tree, or
# "man -l LINK.3" in doc/ (the symbolic links man3 -> doc and
# doc/man3 -> . resolve ".so man3/PAGE.3" there, as /usr/share/man does
# once installed).
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
        target="$srcdir/${first#.so man?/}"
        if [ ! -f "$target" ]; then
            echo "$f: link to missing page ${first#.so }" >&2
            status=1
        fi
        base=$(basename "$f")
        if [ "$(cd "${top_srcdir:-.}" && mandoc -Tascii "doc/$base" 2>/dev/null | wc -l)" -lt 5 ] ||
            [ "$(cd "$srcdir" && mandoc -Tascii "$base" 2>/dev/null | wc -l)" -lt 5 ]; then
            echo "$f: does not open from the checkout (${first})" >&2
            status=1
        elif command -v man >/dev/null 2>&1 &&
            (cd "${top_srcdir:-.}" && MANPAGER=cat man -l "doc/$base" 2>&1 >/dev/null | grep -q "can't open"); then
            echo "$f: \"man -l doc/$base\" fails at the top of the checkout" >&2
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
