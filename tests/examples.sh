#!/bin/sh
# The example programs against what ffprobe printed for the same files
# (tests/data/README), reading them in chunks of 1 byte to 1 MB.
data="${top_srcdir:-.}/tests/data"
bin="${top_builddir:-.}/examples"
status=0 runs=0
check() { # name expected command...
    name=$1 want=$2
    shift 2
    if ! "$@" | sort -s -t, -k1,1n | cmp -s - "$want"; then
        echo "examples: $name differs from $(basename "$want")" >&2
        status=1
    fi
    runs=$((runs + 1))
}
for c in 1 2 7 188 1316 4096 1048576; do
    check "tsdemux -c $c" "$data/test.ts.packets" "$bin/tsdemux" -c "$c" "$data/test.ts"
    check "flvtags -c $c" "$data/test.flv.packets" "$bin/flvtags" -c "$c" "$data/test.flv"
    check "flvtags -s -c $c" "$data/test.flv.sps" "$bin/flvtags" -s -c "$c" "$data/test.flv"
done
# Garbage before the first packet: the demuxer resyncs on 0x47.
junk="examples-junk.ts"
printf '\001\002\003\000\000' > "$junk" && cat "$data/test.ts" >> "$junk"
check "tsdemux after garbage" "$data/test.ts.packets" "$bin/tsdemux" -c 5 "$junk"
rm -f "$junk"
echo "examples: $runs runs compared with ffprobe's output"
exit $status
