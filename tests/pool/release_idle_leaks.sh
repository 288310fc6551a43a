#!/bin/sh
# A program that destroyed its arenas and allocators, then called
# gomem_arena_release_idle() (or only exited: the library releases at exit
# too), must leave no block of any leak kind behind under memcheck:
# valgrind --leak-check=full --errors-for-leak-kinds=all. Skipped (77)
# where valgrind is not installed.
if ! command -v valgrind >/dev/null 2>&1; then
    echo "release_idle: valgrind is not installed" >&2
    exit 77
fi
prog="${top_builddir:-.}/tests/pool/release_idle"
libtool="${top_builddir:-.}/libtool"
# A sanitizer build cannot run under valgrind: the sanitizers check it.
for bin in "$prog" "${top_builddir:-.}/tests/pool/.libs/release_idle"; do
    if [ -f "$bin" ] && grep -q -e __asan_init -e __tsan_init -e __msan_init "$bin"; then
        echo "release_idle: built with a sanitizer, which valgrind cannot run" >&2
        exit 77
    fi
done
status=0
for mode in call exit; do
    if "$libtool" --mode=execute valgrind -q --leak-check=full --show-leak-kinds=all \
        --errors-for-leak-kinds=all --error-exitcode=1 \
        --suppressions="${top_srcdir:-.}/tests/gomem.supp" "$prog" "$mode"; then
        echo "release_idle ($mode): no leak of any kind"
    else
        echo "release_idle ($mode): memcheck found errors or leaks" >&2
        status=1
    fi
done
exit $status
