/* check_threads.c - one scalable allocator, the arena pool and the buddy
 * pool used by 2, 4 and 8 threads at once, with memory freed by threads
 * other than the one that allocated it, and threads that exit with memory
 * cached, whose caches the next threads take over. Run natively, and under
 * helgrind by make check-helgrind (0 errors expected). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pool/arena.h"
#include "pool/buddy.h"
#include "pool/scalable.h"
#include "testutil.h"

struct item {
    unsigned char *p;
    size_t n;
};

/* Allocations handed from one thread to another (a mutex-guarded ring). */
#define RING 64
static struct {
    pthread_mutex_t mu;
    struct item v[RING];
    size_t head, n;
} ring = {PTHREAD_MUTEX_INITIALIZER, {{0, 0}}, 0, 0};

static int ring_put(struct item it)
{
    pthread_mutex_lock(&ring.mu);
    int ok = ring.n < RING;
    if (ok)
        ring.v[(ring.head + ring.n++) % RING] = it;
    pthread_mutex_unlock(&ring.mu);
    return ok;
}

static int ring_get(struct item *it)
{
    pthread_mutex_lock(&ring.mu);
    int ok = ring.n > 0;
    if (ok) {
        *it = ring.v[ring.head];
        ring.head = (ring.head + 1) % RING;
        ring.n--;
    }
    pthread_mutex_unlock(&ring.mu);
    return ok;
}

static gomem_scalable *shared;
static long thread_steps;
static volatile int failed; /* the test line where a thread saw a failed call or a broken canary */

#define MAXMINE 32

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    struct item mine[MAXMINE];
    size_t nmine = 0;
    /* Half the threads start on spans, half on their chunks (and turn to
     * spans once their frees stray). */
    if ((uintptr_t)arg & 1)
        gomem__scalable_spans(shared, 1);
    for (long step = 0; step < thread_steps && !failed; step++) {
        size_t op = test_range(&rng, 0, 99);
        if (op < 40 && nmine < MAXMINE) {
            size_t n = test_range(&rng, 0, 9) ? test_range(&rng, 1, 1024) : test_range(&rng, 1025, 70000);
            unsigned char *p = gomem_scalable_malloc(shared, n);
            if (!p) {
                failed = __LINE__;
                break;
            }
            canary_fill(p, n);
            mine[nmine].p = p;
            mine[nmine++].n = n;
        } else if (op < 70 && nmine) {
            size_t k = test_range(&rng, 0, nmine - 1);
            struct item it = mine[k];
            mine[k] = mine[--nmine];
            if (!canary_intact(it.p, it.n) || gomem_scalable_free(shared, it.p, it.n) != 0)
                failed = __LINE__;
        } else if (op < 80 && nmine) {
            /* Hand one to whoever comes next (a cross-thread free). */
            if (ring_put(mine[nmine - 1]))
                nmine--;
        } else if (op < 90) {
            struct item it;
            if (ring_get(&it)) {
                /* Free a part first, then the rest: partial frees across threads. */
                size_t half = it.n / 2;
                if (!canary_intact(it.p, it.n) || (half && gomem_scalable_free(shared, it.p + half, it.n - half) != 0) ||
                    gomem_scalable_free(shared, it.p, half ? half : it.n) != 0)
                    failed = __LINE__;
            }
        } else if (op < 94) {
            /* The arena pool: standard sizes go round between threads. */
            static const size_t sizes[] = {1024, 4096, 16384};
            gomem_arena *a = gomem_arena_new(sizes[test_range(&rng, 0, 2)]);
            unsigned char *p = a ? gomem_arena_malloc(a, 1000) : NULL;
            if (!p) {
                failed = __LINE__;
                break;
            }
            canary_fill(p, 1000);
            if (!canary_intact(p, 1000) || gomem_arena_free(a, p, 500) != 0)
                failed = __LINE__;
            gomem_arena_destroy(a);
        } else if (op < 97) {
            /* The buddy pool, through the public calls. */
            gomem_buddy *b = gomem_buddy_get();
            size_t off;
            if (!b || gomem_buddy_alloc(b, test_range(&rng, 1, 8192), &off) != 0) {
                failed = __LINE__;
                break;
            }
            unsigned char *p = (unsigned char *)gomem_buddy_base(b) + off;
            canary_fill(p, 1024);
            if (!canary_intact(p, 1024) || gomem_buddy_free(b, off) != 0 || gomem_buddy_put(b) != 0)
                failed = __LINE__;
        } else {
            struct gomem_scalable_stats st;
            if (gomem_scalable_stats(shared, &st) != 0 || st.in_use > st.capacity || (st.arenas == 0 && st.in_use))
                failed = __LINE__;
        }
    }
    for (size_t k = 0; k < nmine; k++)
        if (!canary_intact(mine[k].p, mine[k].n) || gomem_scalable_free(shared, mine[k].p, mine[k].n) != 0)
            failed = __LINE__;
    return NULL;
}

START_TEST(test_threads)
{
    static const int counts[] = {2, 4, 8};
    int nthreads = counts[_i];
    thread_steps = test_steps(400000) / nthreads / 2;
    failed = 0;
    shared = gomem_scalable_new(1024);
    ck_assert_ptr_nonnull(shared);
    pthread_t t[8];
    /* Two generations: the first exits with memory in its chunks, held
     * back, and in the ring for the second, which takes over its caches. */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < nthreads; i++)
            ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(round * 8 + i + 1)), 0);
        for (int i = 0; i < nthreads; i++)
            pthread_join(t[i], NULL);
        ck_assert_int_eq(gomem__scalable_check(shared), 0);
    }
    ck_assert_msg(!failed, "a thread saw a failed call or a broken canary (%d threads, line %d)", nthreads, failed);
    struct item it;
    while (ring_get(&it)) {
        ck_assert(canary_intact(it.p, it.n));
        ck_assert_int_eq(gomem_scalable_free(shared, it.p, it.n), 0);
    }
    struct gomem_scalable_stats st;
    ck_assert_int_eq(gomem_scalable_stats(shared, &st), 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.malloc_bytes, st.free_bytes);
    ck_assert_uint_le(st.arenas, 1);
    ck_assert_int_eq(gomem__scalable_check(shared), 0);
    gomem_scalable_destroy(shared);
    gomem__arena_pool_drain();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_threads, 0, 3);
    suite_add_tcase(s, tc);
    return test_run(s);
}
