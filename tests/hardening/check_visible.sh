#!/bin/sh
# check_visible.sh - pools are visible to the tools: each mistake of
# tests/hardening/misuse (use after free, a one-byte overflow into the next
# allocation, a branch on uninitialised pool bytes), made inside an arena,
# the scalable allocator and a recyclable memory, must be reported, and the
# correct program must run clean.
#   - ASan build (--enable-sanitizers): the report is asserted in the
#     program's stderr (uninitialised reads are not ASan's business);
#   - annotated build (--enable-valgrind-annotations or --enable-debug),
#     valgrind installed: memcheck's error count is asserted (at least one
#     for each mistake, none for the correct program; an uninitialised
#     value is reported again wherever it flows);
#   - overflows only with redzones between allocations (--enable-debug):
#     every pool then leaves one after each allocation, so an overflow into
#     the next allocation is reported for each;
#   - otherwise the build tells the tools nothing: skip (77).
prog=${top_builddir:-.}/tests/hardening/misuse
set -- $("$prog" features) || exit 99
annotate=$1 asan=$2 redzone=$3
if [ "$asan" = 1 ]; then
    tool=asan
elif [ "$annotate" = 1 ] && command -v valgrind > /dev/null 2>&1; then
    tool=memcheck
else
    echo "misuse: this build has no pool annotations and no ASan: nothing to check"
    exit 77
fi
base="use-after-free"
[ "$tool" = memcheck ] && base="$base uninit"
log=misuse.$$.log
fail=0
run() { # pool mistake: exit status, tool output in $log
    if [ "$tool" = asan ]; then
        "$prog" "$1" "$2" > "$log" 2>&1
    else
        valgrind --error-exitcode=99 --leak-check=no "$prog" "$1" "$2" > "$log" 2>&1
    fi
}
errors() { # memcheck's error count in $log
    sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1
}
for pool in arena scalable recyclable; do
    mistakes=$base
    [ "$redzone" = 1 ] && mistakes="$mistakes overflow"
    if run "$pool" none && ! grep -q "ERROR: AddressSanitizer\|== Invalid\|uninitialised" "$log" &&
        { [ "$tool" = asan ] || [ "$(errors)" = 0 ]; }; then
        echo "ok: $pool, correct program clean under $tool"
    else
        echo "FAIL: $pool, correct program reported by $tool:"; cat "$log"; fail=1
    fi
    for m in $mistakes; do
        run "$pool" "$m"
        st=$?
        if [ "$tool" = asan ]; then
            seen=0; [ $st != 0 ] && grep -q "ERROR: AddressSanitizer" "$log" && seen=1
        else
            seen=0; [ $st = 99 ] && [ "$(errors)" -ge 1 ] && seen=1
        fi
        if [ $seen = 1 ]; then
            echo "ok: $pool, $m reported by $tool"
        else
            echo "FAIL: $pool, $m not reported by $tool (exit $st):"; cat "$log"; fail=1
        fi
    done
done
rm -f "$log"
exit $fail
