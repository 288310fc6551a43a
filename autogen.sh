#!/bin/sh
# Regenerate the build system from configure.ac and Makefile.am.
# Works offline: the autoconf-archive macros it needs are vendored in m4/.
set -e
cd "$(dirname "$0")"
autoreconf -fi
