#!/bin/sh
# Every man page that is not a one-line link (.so) must pass mandoc's lint
# with no warning, and every link must point at a page that exists.
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
