/* check_objpool.c - gomem_objpool_*: each call and each refusal, a long
 * seeded random sequence against a model (the pool's check after every
 * step), and threads getting and putting with objects put by another
 * thread than the one that got them. Run natively, under memcheck (make
 * check-valgrind) and, its "threads" case, under helgrind (make
 * check-helgrind). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pool/objpool.h"
#include "testutil.h"

#define FRESH 0xC0 /* what init writes */
#define RESET 0xEE /* what reset writes */

/* Callback counters; the thread test guards them with this mutex. */
static pthread_mutex_t counters_mu = PTHREAD_MUTEX_INITIALIZER;
static size_t inits, resets;
static volatile int bad_reset; /* reset saw an object whose canary broke */

static void fill_fresh(void *obj, void *arg)
{
    size_t n = *(const size_t *)arg;
    memset(obj, FRESH, n);
    pthread_mutex_lock(&counters_mu);
    inits++;
    pthread_mutex_unlock(&counters_mu);
}

/* The tests fill an object with its canary while they hold it. */
static void fill_reset(void *obj, void *arg)
{
    size_t n = *(const size_t *)arg;
    if (!canary_intact(obj, n))
        bad_reset = 1;
    memset(obj, RESET, n);
    pthread_mutex_lock(&counters_mu);
    resets++;
    pthread_mutex_unlock(&counters_mu);
}

/* Every byte is b. */
static int all_bytes(const unsigned char *p, size_t n, unsigned char b)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != b)
            return 0;
    return 1;
}

static size_t check_pool(gomem_objpool *p)
{
    size_t out = SIZE_MAX;
    ck_assert_int_eq(gomem__objpool_check(p, &out), 0);
    return out;
}

START_TEST(test_new)
{
    EXPECT_NULL_ERRNO(gomem_objpool_new(0, 0, NULL, NULL, NULL), EINVAL);
    EXPECT_NULL_ERRNO(gomem_objpool_new(8, 3, NULL, NULL, NULL), EINVAL);
    EXPECT_NULL_ERRNO(gomem_objpool_new(8, 8192, NULL, NULL, NULL), EINVAL);
    EXPECT_NULL_ERRNO(gomem_objpool_new(SIZE_MAX - 2, 16, NULL, NULL, NULL), EINVAL);
    EXPECT_NULL_ERRNO(gomem_objpool_get(NULL), EINVAL);
    ck_assert_int_eq(gomem_objpool_put(NULL, &inits), -EINVAL);
    ck_assert_uint_eq(gomem_objpool_size(NULL), 0);
    gomem_objpool_destroy(NULL);

    /* Alignment: explicit, and the default from the size. */
    static const size_t cases[][3] = {{1, 0, 1}, {24, 0, 8}, {48, 0, 16}, {100, 0, 4},
                                      {40, 64, 64}, {3, 4096, 4096}, {4096, 0, 16}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gomem_objpool *p = gomem_objpool_new(cases[c][0], cases[c][1], NULL, NULL, NULL);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(gomem_objpool_size(p), cases[c][0]);
        void *o[200];
        for (int i = 0; i < 200; i++) {
            o[i] = gomem_objpool_get(p);
            ck_assert_ptr_nonnull(o[i]);
            ck_assert_uint_eq((uintptr_t)o[i] % cases[c][2], 0);
            memset(o[i], i, cases[c][0]);
        }
        for (int i = 0; i < 200; i++) {
            ck_assert(all_bytes(o[i], cases[c][0], (unsigned char)i));
            ck_assert_int_eq(gomem_objpool_put(p, o[i]), 0);
        }
        ck_assert_uint_eq(check_pool(p), 0);
        gomem_objpool_destroy(p);
    }
}
END_TEST

START_TEST(test_callbacks_and_refusals)
{
    size_t n = 40;
    inits = resets = 0;
    bad_reset = 0;
    gomem_objpool *p = gomem_objpool_new(n, 0, fill_fresh, fill_reset, &n);
    gomem_objpool *q = gomem_objpool_new(n, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(inits, 0); /* nothing carved before the first get */

    unsigned char *a = gomem_objpool_get(p);
    ck_assert_ptr_nonnull(a);
    ck_assert(all_bytes(a, n, FRESH));
    ck_assert_uint_ge(inits, 1);
    size_t carved = gomem__objpool_carved(p, NULL);
    ck_assert_uint_eq(inits, carved); /* init ran once per carved object */
    canary_fill(a, n);
    unsigned char *b = gomem_objpool_get(q);
    ck_assert_ptr_nonnull(b);

    /* Refusals: nothing changes, no callback runs. */
    unsigned char local[64];
    void *heap = malloc(64);
    ck_assert_int_eq(gomem_objpool_put(p, NULL), -EINVAL);
    ck_assert_int_eq(gomem_objpool_put(p, local), -EINVAL);
    ck_assert_int_eq(gomem_objpool_put(p, heap), -EINVAL);
    ck_assert_int_eq(gomem_objpool_put(p, a + 1), -EINVAL);     /* inside an object */
    ck_assert_int_eq(gomem_objpool_put(p, a + n - 1), -EINVAL); /* its last byte */
    ck_assert_int_eq(gomem_objpool_put(p, b), -EINVAL);         /* another pool's */
    ck_assert_int_eq(gomem_objpool_put(p, a + 8 * n), -EINVAL); /* a slot never handed out */
    ck_assert_int_eq(gomem_objpool_put(q, a), -EINVAL);
    free(heap);
    ck_assert_uint_eq(resets, 0);
    ck_assert_uint_eq(check_pool(p), 1);
    ck_assert(canary_intact(a, n));

    ck_assert_int_eq(gomem_objpool_put(p, a), 0);
    ck_assert_uint_eq(resets, 1);
    ck_assert(!bad_reset);
    ck_assert(all_bytes(a, n, RESET));
    ck_assert_int_eq(gomem_objpool_put(p, a), -EINVAL); /* twice */
    ck_assert_uint_eq(resets, 1);
    ck_assert_uint_eq(check_pool(p), 0);

    /* The object comes back (last in, first out) as reset left it, and
     * init does not run again. */
    size_t before = inits;
    unsigned char *c = gomem_objpool_get(p);
    ck_assert_ptr_eq(c, a);
    ck_assert(all_bytes(c, n, RESET));
    ck_assert_uint_eq(inits, before);
    canary_fill(c, n);
    ck_assert_int_eq(gomem_objpool_put(p, c), 0);
    ck_assert_int_eq(gomem_objpool_put(q, b), 0);
    gomem_objpool_destroy(q);
    gomem_objpool_destroy(p);
}
END_TEST

/* Many objects out at once: slabs grow, objects move between the thread's
 * cache and the shared list in batches, and every one stays distinct. */
START_TEST(test_growth)
{
    enum { N = 5000 };
    gomem_objpool *p = gomem_objpool_new(24, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(p);
    static unsigned char *o[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            o[i] = gomem_objpool_get(p);
            ck_assert_ptr_nonnull(o[i]);
            canary_fill(o[i], 24);
        }
        ck_assert_uint_eq(check_pool(p), N);
        for (int i = 0; i < N; i++) {
            REQUIRE(canary_intact(o[i], 24), "object %d overwritten", i);
            ck_assert_int_eq(gomem_objpool_put(p, o[i]), 0);
        }
        ck_assert_uint_eq(check_pool(p), 0);
    }
    size_t slabs, carved = gomem__objpool_carved(p, &slabs);
    ck_assert_uint_ge(carved, N);
    ck_assert_uint_lt(carved, 2 * N + 64 * 2); /* reused, not carved anew */
    ck_assert_uint_le(slabs, 6);
    gomem_objpool_destroy(p);
}
END_TEST

/* The model: for each of two pools, the set of objects out (in an array,
 * each with its pool). Each step gets, puts a random out object, or tries
 * a put the pool must refuse (and then checks nothing changed); after
 * every step the pool's check must pass and agree on how many are out. */
#define MAXOUT 400
struct held {
    unsigned char *p;
    int pool;
};

START_TEST(test_model)
{
    static const size_t sizes[][2] = {{1, 0}, {24, 0}, {48, 0}, {100, 0}, {40, 64}, {1000, 0}};
    size_t cfg = (size_t)_i % 6;
    int cb = _i < 6; /* with init and reset; without, put's lock-free path */
    size_t n = sizes[cfg][0];
    uint64_t seed = test_seed(0x0b1ec7 + (uint64_t)_i), rng = seed;
    long steps = test_steps(60000);
    inits = resets = 0;
    bad_reset = 0;
    gomem_objpool *pool[2];
    size_t nout[2] = {0, 0}, gets = 0, puts = 0;
    for (int k = 0; k < 2; k++) {
        pool[k] = cb ? gomem_objpool_new(n, sizes[cfg][1], fill_fresh, fill_reset, &n)
                     : gomem_objpool_new(n, sizes[cfg][1], NULL, NULL, NULL);
        ck_assert_ptr_nonnull(pool[k]);
    }
    static struct held out[MAXOUT];
    size_t nheld = 0;
    unsigned char *last_put = NULL; /* a candidate for a second put */
    int last_pool = 0;
    for (long step = 0; step < steps; step++) {
        size_t op = test_range(&rng, 0, 99);
        /* Drift between filling up and draining, so slabs grow and the
         * shared list fills and empties. */
        size_t phase = (size_t)(step / 2000) % 2;
        size_t getp = phase ? 65 : 35;
        if (op < getp && nheld < MAXOUT) {
            int k = (int)test_range(&rng, 0, 1);
            unsigned char *o = gomem_objpool_get(pool[k]);
            REQUIRE(o != NULL, "seed %#llx step %ld: get failed", (unsigned long long)seed, step);
            REQUIRE((uintptr_t)o % (sizes[cfg][1] ? sizes[cfg][1] : 1) == 0,
                    "seed %#llx step %ld: misaligned", (unsigned long long)seed, step);
            REQUIRE(!cb || all_bytes(o, n, FRESH) || all_bytes(o, n, RESET),
                    "seed %#llx step %ld: object not as init or reset left it",
                    (unsigned long long)seed, step);
            for (size_t i = 0; i < nheld; i++)
                REQUIRE(out[i].p != o, "seed %#llx step %ld: object handed out twice",
                        (unsigned long long)seed, step);
            canary_fill(o, n);
            out[nheld++] = (struct held){o, k};
            nout[k]++;
            gets++;
        } else if (op < 90 && nheld) {
            size_t i = test_range(&rng, 0, nheld - 1);
            struct held h = out[i];
            size_t r0 = resets;
            REQUIRE(gomem_objpool_put(pool[h.pool], h.p) == 0, "seed %#llx step %ld: put refused",
                    (unsigned long long)seed, step);
            REQUIRE(resets == r0 + (size_t)cb && !bad_reset, "seed %#llx step %ld: reset",
                    (unsigned long long)seed, step);
            out[i] = out[--nheld];
            nout[h.pool]--;
            last_put = h.p;
            last_pool = h.pool;
            puts++;
        } else {
            /* A put that must be refused, unless the model says the
             * pointer is out in that pool. */
            unsigned char local;
            unsigned char *cand;
            int k = (int)test_range(&rng, 0, 1);
            switch (test_range(&rng, 0, 4)) {
            case 0: cand = NULL; break;
            case 1: cand = &local; break;
            case 2: cand = last_put, k = last_pool; break;         /* a second put */
            case 3: cand = nheld ? out[0].p + test_range(&rng, 1, 2 * n) : NULL; break;
            default: cand = nheld ? out[nheld - 1].p : NULL; k = !k; break; /* other pool */
            }
            int expect = -EINVAL;
            for (size_t i = 0; i < nheld; i++)
                if (cand && out[i].p == cand && out[i].pool == k)
                    expect = (int)i;
            size_t r0 = resets;
            int e = gomem_objpool_put(pool[k], cand);
            if (expect >= 0) {
                REQUIRE(e == 0, "seed %#llx step %ld: valid put refused", (unsigned long long)seed, step);
                out[expect] = out[--nheld];
                nout[k]--;
                last_put = cand;
                last_pool = k;
            } else {
                REQUIRE(e == -EINVAL && resets == r0, "seed %#llx step %ld: bad put got %d",
                        (unsigned long long)seed, step, e);
            }
        }
        for (int k = 0; k < 2; k++) {
            size_t o = SIZE_MAX;
            REQUIRE(gomem__objpool_check(pool[k], &o) == 0 && o == nout[k],
                    "seed %#llx step %ld: pool %d check (out %zu, model %zu)",
                    (unsigned long long)seed, step, k, o, nout[k]);
            REQUIRE(!cb || inits == gomem__objpool_carved(pool[0], NULL) + gomem__objpool_carved(pool[1], NULL),
                    "seed %#llx step %ld: init ran %zu times", (unsigned long long)seed, step, inits);
        }
        if (step % 256 == 0)
            for (size_t i = 0; i < nheld; i++)
                REQUIRE(canary_intact(out[i].p, n), "seed %#llx step %ld: object overwritten",
                        (unsigned long long)seed, step);
    }
    ck_assert_uint_gt(gets, 100);
    ck_assert_uint_gt(puts, 100);
    while (nheld) {
        nheld--;
        ck_assert_int_eq(gomem_objpool_put(pool[out[nheld].pool], out[nheld].p), 0);
    }
    for (int k = 0; k < 2; k++) {
        ck_assert_uint_eq(check_pool(pool[k]), 0);
        gomem_objpool_destroy(pool[k]);
    }
}
END_TEST

/* ---------------------------------------------------------------- threads */

#define TSIZE 64
#define RING 64
static struct {
    pthread_mutex_t mu;
    unsigned char *v[RING];
    size_t head, n;
} ring = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};

static int ring_put(unsigned char *o)
{
    pthread_mutex_lock(&ring.mu);
    int ok = ring.n < RING;
    if (ok)
        ring.v[(ring.head + ring.n++) % RING] = o;
    pthread_mutex_unlock(&ring.mu);
    return ok;
}

static unsigned char *ring_get(void)
{
    unsigned char *o = NULL;
    pthread_mutex_lock(&ring.mu);
    if (ring.n) {
        o = ring.v[ring.head];
        ring.head = (ring.head + 1) % RING;
        ring.n--;
    }
    pthread_mutex_unlock(&ring.mu);
    return o;
}

static gomem_objpool *shared;
static int with_callbacks; /* else put takes its lock-free path */
static long thread_steps;
static volatile int failed;
static size_t tsize = TSIZE;

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    unsigned char *mine[100];
    size_t nmine = 0;
    for (long step = 0; step < thread_steps && !failed; step++) {
        size_t op = test_range(&rng, 0, 99);
        if (op < 45 && nmine < 100) {
            unsigned char *o = gomem_objpool_get(shared);
            if (!o || (with_callbacks && !(all_bytes(o, TSIZE, FRESH) || all_bytes(o, TSIZE, RESET)))) {
                failed = 1;
                break;
            }
            canary_fill(o, TSIZE);
            mine[nmine++] = o;
        } else if (op < 80 && nmine) {
            size_t k = test_range(&rng, 0, nmine - 1);
            unsigned char *o = mine[k];
            mine[k] = mine[--nmine];
            if (!canary_intact(o, TSIZE) || gomem_objpool_put(shared, o) != 0)
                failed = 1;
        } else if (op < 90 && nmine) {
            if (ring_put(mine[nmine - 1])) /* another thread puts it */
                nmine--;
        } else if (op < 98) {
            unsigned char *o = ring_get();
            if (o && (!canary_intact(o, TSIZE) || gomem_objpool_put(shared, o) != 0))
                failed = 1;
        } else {
            unsigned char local[TSIZE];
            if (gomem_objpool_put(shared, local) != -EINVAL || gomem_objpool_put(shared, NULL) != -EINVAL)
                failed = 1;
        }
    }
    while (nmine)
        if (gomem_objpool_put(shared, mine[--nmine]) != 0)
            failed = 1;
    return NULL; /* the thread's exit gives its cache back */
}

START_TEST(test_threads)
{
    static const int counts[] = {2, 4, 8};
    int nthreads = counts[_i % 3];
    with_callbacks = _i >= 3;
    thread_steps = test_steps(400000) / nthreads;
    failed = 0;
    bad_reset = 0;
    inits = resets = 0;
    shared = with_callbacks ? gomem_objpool_new(TSIZE, 0, fill_fresh, fill_reset, &tsize)
                            : gomem_objpool_new(TSIZE, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(shared);
    pthread_t t[8];
    for (int i = 0; i < nthreads; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    ck_assert_msg(!failed, "a thread saw a failed call or a broken object (%d threads)", nthreads);
    ck_assert(!bad_reset);
    unsigned char *o;
    while ((o = ring_get()) != NULL)
        ck_assert_int_eq(gomem_objpool_put(shared, o), 0);
    ck_assert_uint_eq(check_pool(shared), 0);
    if (with_callbacks)
        ck_assert_uint_eq(inits, gomem__objpool_carved(shared, NULL));
    gomem_objpool_destroy(shared);
}
END_TEST

/* A thread that still has a cache of a pool when the pool is destroyed:
 * it goes on with a new pool and exits; nothing leaks, nothing breaks. */
static pthread_mutex_t step_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t step_cv = PTHREAD_COND_INITIALIZER;
static int step_no;
static gomem_objpool *pool_now;

static void wait_step(int n)
{
    pthread_mutex_lock(&step_mu);
    while (step_no < n)
        pthread_cond_wait(&step_cv, &step_mu);
    pthread_mutex_unlock(&step_mu);
}

static void set_step(int n)
{
    pthread_mutex_lock(&step_mu);
    step_no = n;
    pthread_cond_broadcast(&step_cv);
    pthread_mutex_unlock(&step_mu);
}

static void *survivor(void *arg)
{
    (void)arg;
    void *o[10];
    for (int i = 0; i < 10; i++)
        o[i] = gomem_objpool_get(pool_now);
    for (int i = 0; i < 10; i++)
        if (!o[i] || gomem_objpool_put(pool_now, o[i]) != 0)
            failed = 1;
    set_step(1);
    wait_step(2); /* main destroys that pool and makes another */
    for (int i = 0; i < 10; i++)
        o[i] = gomem_objpool_get(pool_now);
    for (int i = 0; i < 10; i++)
        if (!o[i] || gomem_objpool_put(pool_now, o[i]) != 0)
            failed = 1;
    return NULL;
}

START_TEST(test_destroy_with_live_thread)
{
    failed = 0;
    step_no = 0;
    pool_now = gomem_objpool_new(32, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(pool_now);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, survivor, NULL), 0);
    wait_step(1);
    ck_assert_uint_eq(check_pool(pool_now), 0);
    gomem_objpool_destroy(pool_now);
    pool_now = gomem_objpool_new(32, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(pool_now);
    set_step(2);
    pthread_join(t, NULL);
    ck_assert(!failed);
    ck_assert_uint_eq(check_pool(pool_now), 0);
    gomem_objpool_destroy(pool_now);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("objpool");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_new);
    tcase_add_test(tc, test_callbacks_and_refusals);
    tcase_add_test(tc, test_growth);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_model, 0, 12);
    suite_add_tcase(s, tc);
    tc = tcase_create("threads");
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_threads, 0, 6);
    tcase_add_test(tc, test_destroy_with_live_thread);
    suite_add_tcase(s, tc);
    return test_run(s);
}
