/* check_races.c - every thread-safe call of the pool family from several
 * threads at once: malloc, free, borrow, read, stats and trim on one
 * scalable allocator, recyclable memories over it, the arena pool and the
 * buddy pool. Natively it checks canaries and counters; its purpose is
 * ThreadSanitizer (configure --enable-tsan), which must report nothing:
 * the lock-free paths (borrow's and stats' sequence-lock reads) have to be
 * atomic loads, not plain ones. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/arena.h"
#include "pool/buddy.h"
#include "pool/scalable.h"

#define MAXTHREADS 16

static gomem_scalable *shared;
static long steps;
static uint64_t seed;
static int check_each;
static int failed;
static pthread_mutex_t failed_mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what)
{
    pthread_mutex_lock(&failed_mu);
    if (!failed)
        fprintf(stderr, "check_races: %s\n", what);
    failed = 1;
    pthread_mutex_unlock(&failed_mu);
}

static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void *worker(void *arg)
{
    uint64_t rng = 0x9E3779B97F4A7C15ull * ((uint64_t)(uintptr_t)arg + seed) + 1;
    unsigned char fill = (unsigned char)(uintptr_t)arg;
    unsigned char *mine[16] = {0};
    size_t len[16] = {0};
    gomem_recyclable rm;
    if (gomem_recyclable_init(&rm, shared) != 0) {
        fail("gomem_recyclable_init");
        return NULL;
    }
    for (long i = 0; i < steps; i++) {
        uint64_t r = next_rand(&rng);
        size_t slot = r % 16, n = 1 + (size_t)(r >> 8) % 3000;
        switch ((r >> 4) % 8) {
        case 0:
        case 1:
            if (mine[slot]) {
                for (size_t k = 0; k < len[slot]; k++)
                    if (mine[slot][k] != fill) {
                        fail("an allocation changed under its owner");
                        break;
                    }
                if (gomem_scalable_free(shared, mine[slot], len[slot]) != 0)
                    fail("gomem_scalable_free refused an allocation");
                mine[slot] = NULL;
            } else if ((mine[slot] = gomem_scalable_malloc(shared, n)) != NULL) {
                memset(mine[slot], fill, n);
                len[slot] = n;
            } else {
                fail("gomem_scalable_malloc");
            }
            break;
        case 2:
            /* Borrowed bytes are another thread's next allocation: only
             * the call itself is exercised here, not the bytes. */
            if (!gomem_scalable_borrow(shared, n))
                fail("gomem_scalable_borrow");
            break;
        case 3: {
            struct gomem_scalable_stats st;
            if (gomem_scalable_stats(shared, &st) != 0 || st.in_use > st.capacity)
                fail("gomem_scalable_stats");
            break;
        }
        case 4: {
            unsigned char *p = gomem_recyclable_next(&rm, n);
            if (!p)
                fail("gomem_recyclable_next");
            else
                memset(p, fill, n);
            if (rm.mem.count > 8)
                gomem_recyclable_recycle(&rm);
            break;
        }
        case 5: {
            gomem_arena *a = gomem_arena_new((r >> 20) & 1 ? 4096 : 1024);
            unsigned char *p = a ? gomem_arena_malloc(a, 100) : NULL;
            if (!p)
                fail("gomem_arena_new or gomem_arena_malloc");
            else
                memset(p, fill, 100);
            gomem_arena_destroy(a);
            break;
        }
        case 6: {
            gomem_buddy *b = gomem_buddy_get();
            size_t off;
            if (!b || gomem_buddy_alloc(b, 4096, &off) != 0) {
                fail("gomem_buddy_get or gomem_buddy_alloc");
            } else {
                memset((unsigned char *)gomem_buddy_base(b) + off, fill, 4096);
                (void)gomem_buddy_free(b, off);
            }
            if (b && gomem_buddy_put(b) != 0)
                fail("gomem_buddy_put");
            break;
        }
        default:
            if ((r >> 12) % 64 == 0)
                (void)gomem_scalable_trim(shared);
            break;
        }
        /* One thread: check after every step, to name the first bad one. */
        if (check_each && gomem__scalable_check(shared) != 0) {
            fprintf(stderr, "check_races: broken after step %ld (operation %u)\n", i,
                    (unsigned)((r >> 4) % 8));
            fail("gomem__scalable_check after a step");
            break;
        }
    }
    for (size_t k = 0; k < 16; k++)
        if (mine[k] && gomem_scalable_free(shared, mine[k], len[k]) != 0)
            fail("gomem_scalable_free at the end");
    gomem_recyclable_destroy(&rm);
    return NULL;
}

int main(void)
{
    const char *s = getenv("GOMEM_TEST_STEPS");
    steps = s && *s ? atol(s) : getenv("VALGRIND") ? 2000 : 20000;
    const char *ts = getenv("GOMEM_TEST_THREADS"), *ss = getenv("GOMEM_TEST_SEED");
    int threads = ts && *ts ? atoi(ts) : 4;
    if (threads < 1 || threads > MAXTHREADS)
        threads = 4;
    seed = ss && *ss ? strtoull(ss, NULL, 0) : 0;
    /* GOMEM_TEST_CHECK: run the allocator's checker after every step (one
     * thread only: the checker takes the lock, but a step is not atomic). */
    check_each = threads == 1 && getenv("GOMEM_TEST_CHECK") != NULL;
    shared = gomem_scalable_new(4096);
    if (!shared) {
        perror("gomem_scalable_new");
        return EXIT_FAILURE;
    }
    pthread_t t[MAXTHREADS];
    for (uintptr_t i = 0; i < (uintptr_t)threads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0) {
            perror("pthread_create");
            return EXIT_FAILURE;
        }
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    struct gomem_scalable_stats st;
    if (gomem_scalable_stats(shared, &st) != 0 || st.in_use != 0)
        fail("bytes still in use after every thread freed its own");
    gomem_scalable_destroy(shared);
    gomem__arena_pool_drain();
    printf("%d threads x %ld steps (seed %llu): %s\n", threads, steps, (unsigned long long)seed,
           failed ? "FAILED" : "ok");
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
