/* fuzz.h - what the fuzz targets share: the libFuzzer entry point, a
 * reader of the fuzzer's bytes, and the way a target reports a broken
 * promise (a message, then abort(), which libFuzzer records as a crash
 * and the replay driver as a failed test).
 *
 * Each target fuzz/fuzz_X.c is built twice: as a libFuzzer program with
 * configure --enable-fuzzers (clang), and as fuzz/replay_X with the plain
 * driver fuzz/replay.c, which make check runs over the committed seed
 * corpus fuzz/corpus/X (any compiler). fuzz/replay_X FILE... replays
 * given inputs instead; with FUZZ_TRACE set in the environment the
 * scalable and buffer targets print each operation on stderr. */
#ifndef GOMEM_FUZZ_H
#define GOMEM_FUZZ_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzer's bytes, consumed from the front; past the end every read
 * gives 0 and fuzz_more() says 0. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline int fuzz_more(const struct fuzz_in *in)
{
    return in->n > 0;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t hi = fuzz_u8(in);
    return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t hi = fuzz_u16(in);
    return hi << 16 | fuzz_u16(in);
}

/* A value in [0, bound), bound > 0. */
static inline size_t fuzz_below(struct fuzz_in *in, size_t bound)
{
    return (size_t)fuzz_u32(in) % bound;
}

#define FUZZ_REQUIRE(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* GOMEM_FUZZ_H */
