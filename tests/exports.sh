#!/bin/sh
# The symbols libgomem.so exports must be exactly tests/exports.txt: only
# gomem_* names, the same in every variant (one symbols file serves all).
set -e
lib="${top_builddir:-.}/.libs/libgomem.so"
list="${top_srcdir:-.}/tests/exports.txt"
if [ ! -f "$lib" ]; then
    echo "exports: $lib not built (static-only build?)" >&2
    exit 1
fi
got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ { print $3 }' | sed 's/@.*//' | LC_ALL=C sort -u)
want=$(LC_ALL=C sort -u "$list")
if [ "$got" != "$want" ]; then
    echo "exported symbols differ from tests/exports.txt (< exported, > listed):" >&2
    printf '%s\n' "$got" > exports.got
    printf '%s\n' "$want" | diff exports.got - >&2 || true
    rm -f exports.got
    exit 1
fi
echo "exports: $(printf '%s\n' "$got" | wc -l) gomem_* symbols, as listed"
