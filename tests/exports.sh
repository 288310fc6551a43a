#!/bin/sh
# The symbols libgomem.so exports must be exactly tests/exports.txt: only
# gomem_* names, the same in every variant (one symbols file serves all).
set -e
lib="${top_builddir:-.}/.libs/libgomem.so"
list="${top_srcdir:-.}/tests/exports.txt"
la="${top_builddir:-.}/libgomem.la"
# libtool writes dlname='' into the .la of a --disable-shared build: no
# shared library, so no exports to check (77: automake's skip).
if [ -f "$la" ] && grep -q "^dlname=''" "$la"; then
    echo "exports: no shared library in this build (--disable-shared): skipped"
    exit 77
fi
if [ ! -f "$lib" ]; then
    echo "exports: $lib not built" >&2
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
