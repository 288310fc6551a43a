/* testutil.h - what the check programs share: step counts that shrink
 * under valgrind, a seeded PRNG, and a runner that exits with the result. */
#ifndef GOMEM_TESTUTIL_H
#define GOMEM_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ck_assert_msg for hot loops: libcheck reports every passing assert to
 * its parent process, a system call each; this costs nothing until cond
 * fails. */
#define REQUIRE(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ck_abort_msg(__VA_ARGS__);                                                             \
    } while (0)

/* A call that must return NULL and set errno to err. */
#define EXPECT_NULL_ERRNO(expr, err)                                                               \
    do {                                                                                           \
        errno = 0;                                                                                 \
        ck_assert_ptr_null(expr);                                                                  \
        ck_assert_int_eq(errno, err);                                                              \
    } while (0)

/* Under valgrind (the VALGRIND variable set by make check-valgrind) or
 * with GOMEM_TEST_STEPS set, long randomized runs are cut to a size the
 * slower tool finishes in reasonable time. */
static inline long test_steps(long normal)
{
    const char *s = getenv("GOMEM_TEST_STEPS");
    if (s && *s)
        return atol(s);
    if (getenv("VALGRIND"))
        return normal / 50 > 1000 ? normal / 50 : 1000;
    return normal;
}

/* The seed of a randomized test: GOMEM_TEST_SEED or a fixed default. */
static inline uint64_t test_seed(uint64_t dflt)
{
    const char *s = getenv("GOMEM_TEST_SEED");
    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* xorshift64*: small, fast and reproducible from its seed. */
static inline uint64_t test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* A uniform value in [lo, hi]. */
static inline size_t test_range(uint64_t *state, size_t lo, size_t hi)
{
    return lo + (size_t)(test_rand(state) % (uint64_t)(hi - lo + 1));
}

/* Content canaries: every byte of an allocation gets a pattern derived
 * from its address, checked before the allocation is freed. */
static inline unsigned char canary_byte(const unsigned char *q)
{
    uintptr_t x = (uintptr_t)q;
    return (unsigned char)(x ^ (x >> 8) ^ (x >> 16) ^ 0x5a);
}

static inline void canary_fill(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = canary_byte(p + i);
}

static inline int canary_intact(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != canary_byte(p + i))
            return 0;
    return 1;
}

/* Run the suite; no fork under valgrind so leaks are seen in one process. */
static inline int test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    if (getenv("VALGRIND"))
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* GOMEM_TESTUTIL_H */
