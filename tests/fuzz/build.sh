#!/bin/sh
# build.sh - builds the libFuzzer targets of tests/fuzz/ with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer.
#
# Usage: tests/fuzz/build.sh TOP_SRCDIR FUZZ_BUILDDIR   (what `make fuzz` runs)
# The whole library is configured and compiled again in FUZZ_BUILDDIR with
# -fsanitize=fuzzer-no-link so the fuzzer sees coverage inside the code under
# test, not just inside the entry points. Results: FUZZ_BUILDDIR/fuzz_{records,
# json,request,props}. Needs clang and libclang-rt (Debian: clang
# libclang-rt-14-dev).
set -eu
top=$(cd "${1:?TOP_SRCDIR}" && pwd)
out=${2:?FUZZ_BUILDDIR}
CC=${CC_FUZZ:-clang}
# FUZZ_SAN overrides the sanitizers, e.g. "-fsanitize=address,undefined" to
# let UBSAN_OPTIONS=suppressions=... skip a known, reported report.
SAN=${FUZZ_SAN:-"-fsanitize=address,undefined -fno-sanitize-recover=undefined"}
CFLAGS_FUZZ="-g -O1 -fno-omit-frame-pointer $SAN"

mkdir -p "$out"
cd "$out"
if [ ! -f Makefile ]; then
    "$top/configure" -q CC="$CC" CFLAGS="$CFLAGS_FUZZ -fsanitize=fuzzer-no-link"
fi
make -s libsamsa.a
# The link flags the library needs, as configure found them.
libs=$(printf 'print-sm-libs:\n\t@echo $(SM_LIBS)\n' | make -s -f Makefile -f - print-sm-libs)
for t in records json request props; do
    echo "  FUZZ     fuzz_$t"
    $CC $CFLAGS_FUZZ -fsanitize=fuzzer -std=gnu11 -pthread -D_GNU_SOURCE -I"$top/src" -I. \
        "$top/tests/fuzz/fuzz_$t.c" -o "fuzz_$t" $libs
done
echo "fuzzers in $out: run e.g. $out/fuzz_records -max_total_time=60 NEWDIR $top/tests/fuzz/corpus/records"
