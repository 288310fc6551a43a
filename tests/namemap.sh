#!/bin/sh
# Every libgomem name in the README's GoMem name map must exist: each
# gomem_* name must be declared in include/gomem.h (a function, a type or a
# struct), each GOMEM_* name defined there or in the features header.
srcdir="${top_srcdir:-.}"
readme="$srcdir/README"
header="$srcdir/include/gomem.h"
features="$srcdir/include/gomem-features.h.in"
# The map: from its heading to the next heading (a line of dashes under
# a title).
map=$(awk '
    /^GoMem name map$/ { inmap = 1; next }
    inmap && /^-+$/ && seen { exit }
    inmap && /^-+$/ { seen = 1; next }
    inmap { print }
' "$readme" | sed '$d')
if [ -z "$map" ]; then
    echo "namemap: no 'GoMem name map' section in $readme" >&2
    exit 1
fi
names=$(printf '%s\n' "$map" | grep -o 'gomem_[a-z0-9_]*' | LC_ALL=C sort -u)
macros=$(printf '%s\n' "$map" | grep -o 'GOMEM_[A-Z0-9_]*' | LC_ALL=C sort -u)
status=0 n=0
for name in $names; do
    n=$((n + 1))
    case "$name" in
    *_)
        echo "namemap: '$name' is cut short (no wildcards: name each call)" >&2
        status=1
        continue
        ;;
    esac
    if grep -Eq "(^|[^A-Za-z0-9_])$name[[:space:]]*\(" "$header" ||
        grep -Eq "typedef[^;]*[^A-Za-z0-9_]$name;|\(\*$name\)|^\} $name;|struct $name \{" "$header"; then
        :
    else
        echo "namemap: $name is not declared in include/gomem.h" >&2
        status=1
    fi
done
for name in $macros; do
    n=$((n + 1))
    if ! grep -Eq "#define $name([^A-Za-z0-9_]|$)" "$header" "$features"; then
        echo "namemap: $name is not defined in include/" >&2
        status=1
    fi
done
echo "namemap: $n names in the README's name map checked"
exit $status
