#!/bin/sh
# The README's promise: <gomem.h> is C99 and later, and C++ through its
# extern "C" block. Compile one program that uses the inline reads under
# each standard with warnings as errors, link it against this build's
# library and run it.
srcdir="${top_srcdir:-.}"
builddir="${top_builddir:-.}"
CC="${CC:-cc}"
CXX="${CXX:-c++}"
work="$builddir/tests/standards.d"
rm -rf "$work" && mkdir -p "$work" || exit 99
cat > "$work/use.c" <<'END'
#include <gomem.h>
#include <gomem-features.h>

#include <stdint.h>
#include <string.h>

int main(void)
{
    static const uint8_t bytes[] = {1, 0, 2, 0, 0, 0, 3, 0x81, 0x01};
    gomem_memory m;
    gomem_reader r;
    uint8_t u8 = 0;
    uint16_t be16 = 0;
    uint32_t be32 = 0;
    uint64_t leb = 0;
    int ok;

    gomem_memory_init(&m);
    gomem_memory_push(&m, bytes, 3);
    gomem_memory_push(&m, bytes + 3, sizeof bytes - 3);
    gomem_reader_init(&r, &m);
    ok = gomem_reader_read_u8(&r, &u8) == 0 && gomem_reader_read_be16(&r, &be16) == 0 &&
         gomem_reader_read_be32(&r, &be32) == 0 && gomem_reader_read_uleb128(&r, &leb) == 0 &&
         u8 == 1 && be16 == 2 && be32 == 3 && leb == 129 &&
         strcmp(gomem_version(), GOMEM_VERSION_STRING) == 0;
    gomem_memory_destroy(&m);
    return ok ? 0 : 1;
}
END
cp "$work/use.c" "$work/use.cc"
status=0 n=0
try() { # compiler, standard, source
    out="$work/use-$2"
    if ! "$builddir/libtool" --quiet --mode=link --tag="$4" "$1" -std="$2" -Wall -Wextra -pedantic -Werror \
        -I"$srcdir/include" -I"$builddir/include" -o "$out" "$3" "$builddir/libgomem.la" \
        >"$out.log" 2>&1; then
        echo "FAIL: -std=$2: gomem.h does not compile:" >&2
        cat "$out.log" >&2
        status=1
    elif ! "$out"; then
        echo "FAIL: -std=$2: the program fails" >&2
        status=1
    else
        echo "ok: -std=$2"
        n=$((n + 1))
    fi
}
for std in c99 c11 c17 gnu99; do
    try "$CC" "$std" "$work/use.c" CC
done
if command -v "${CXX%% *}" >/dev/null 2>&1; then
    for std in c++11 c++17; do
        try "$CXX" "$std" "$work/use.cc" CXX
    done
else
    echo "FAIL: no C++ compiler ($CXX): the C++ standards are not tested" >&2
    status=1
fi
[ $status = 0 ] && rm -rf "$work"
echo "standards: $n standards compiled, linked and run"
exit $status
