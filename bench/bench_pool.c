/* bench_pool.c - the scalable allocator and arenas beside glibc and the
 * peers that load (tcmalloc, jemalloc, mimalloc, APR): malloc/free pairs,
 * batches, borrow, two threads, pools released at once, and arena
 * create/destroy per backing. */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic_ops.h>

#include "pool/arena.h"
#include "bench.h"
#include "gomem.h"

#ifndef GOMEM_BENCH_WHITEBOX
/* The installed gomem-bench links libgomem.so, which exports only the
 * public calls: arenas come from gomem_arena_new on the built-in backing. */
#define gomem__arena_new_with(b, size) ((void)(b), gomem_arena_new(size))
#define gomem__arena_pool_drain() ((void)0)
#endif

#define PAIRS 400000
#define MAXPEERS 8

/* libgomem's calls in the timed loops, reached as the peers' are: through
 * pointers that dlsym returned (the white-box build, whose executable
 * exports nothing, takes the functions' addresses). A call into a shared
 * library costs more than a call inside the program, and more again
 * through a PLT stub (on the project's machine about 0.9 and 1.2 ns
 * against 0.05), so the loops call every contender the same way. */
static struct {
    void *(*scalable_malloc)(gomem_scalable *, size_t);
    int (*scalable_free)(gomem_scalable *, void *, size_t);
    void *(*scalable_borrow)(gomem_scalable *, size_t);
    void *(*recyclable_next)(gomem_recyclable *, size_t);
    void (*recyclable_recycle)(gomem_recyclable *);
    void *(*objpool_get)(gomem_objpool *);
    int (*objpool_put)(gomem_objpool *, void *);
    gomem_arena *(*arena_new)(size_t);
    void (*arena_destroy)(gomem_arena *);
} gm;

#define GM_LOAD(f) \
    ((*(void **)&gm.f = dlsym(RTLD_DEFAULT, "gomem_" #f)) != NULL ? (void)0 : (void)(gm.f = gomem_##f))

static void gm_load(void)
{
    GM_LOAD(scalable_malloc);
    GM_LOAD(scalable_free);
    GM_LOAD(scalable_borrow);
    GM_LOAD(recyclable_next);
    GM_LOAD(recyclable_recycle);
    GM_LOAD(objpool_get);
    GM_LOAD(objpool_put);
    GM_LOAD(arena_new);
    GM_LOAD(arena_destroy);
}

/* The peers, then (at peers[npeers], when it loaded) APR as a
 * malloc-style peer for the rows where that means something. */
static struct bench_peer peers[MAXPEERS + 1];
static int npeers;

/* ---------------------------------------------------------------- APR */

/* APR frees whole pools, not allocations: as a malloc-style peer it is
 * apr_palloc from a pool of the calling thread, cleared once 1 MiB has been
 * handed out since the last clear (a pool per request, as APR's users
 * work), and free does nothing. Only rows where nothing outlives the clear
 * use it (pairs, batches, one pool per thread): not cross-thread frees. */
#define APR_CLEAR_BYTES ((size_t)1 << 20)

static struct bench_apr apr;
static int have_apr;
static pthread_key_t apr_key;

struct apr_thread {
    void *pool;
    size_t since_clear;
};

static void apr_thread_done(void *arg)
{
    struct apr_thread *t = arg;
    apr.pool_destroy(t->pool);
    free(t);
}

static void *apr_peer_malloc(size_t n)
{
    struct apr_thread *t = pthread_getspecific(apr_key);
    if (!t) {
        if (!(t = calloc(1, sizeof *t)))
            return NULL;
        if (apr.pool_create(&t->pool, NULL, NULL, NULL) != 0) {
            free(t);
            return NULL;
        }
        pthread_setspecific(apr_key, t);
    }
    if ((t->since_clear += n) > APR_CLEAR_BYTES) {
        apr.pool_clear(t->pool);
        t->since_clear = n;
    }
    return apr.palloc(t->pool, n);
}

static void apr_peer_free(void *p)
{
    (void)p;
}

/* The main thread's pool (threads give theirs back when they end). */
static void apr_peer_done(void)
{
    struct apr_thread *t = have_apr ? pthread_getspecific(apr_key) : NULL;
    if (t) {
        pthread_setspecific(apr_key, NULL);
        apr_thread_done(t);
    }
}

/* ---------------------------------------------------------------- cores */

/* The CPUs this process may run on. */
static int bench_cores(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* A spinning wait that gives the CPU away now and then, so a waiter that
 * shares a core with the thread it waits for does not starve it. */
static void spin_pause(unsigned *spins)
{
    if (++*spins >= 64) {
        *spins = 0;
        sched_yield();
    }
}

/* One contender: a peer, or libgomem when peer is NULL. */
struct who {
    const struct bench_peer *peer;
    gomem_scalable *s;
    size_t n;
};

static void *who_malloc(const struct who *w, size_t n)
{
    return w->peer ? w->peer->malloc(n) : gm.scalable_malloc(w->s, n);
}

static void who_free(const struct who *w, void *p, size_t n)
{
    if (w->peer)
        w->peer->free(p);
    else
        (void)gm.scalable_free(w->s, p, n);
}

static double run_pair(void *arg)
{
    const struct who *w = arg;
    size_t n = w->n;
    uint64_t t = bench_now_ns();
    if (w->peer) {
        void *(*m)(size_t) = w->peer->malloc;
        void (*f)(void *) = w->peer->free;
        for (int i = 0; i < PAIRS; i++) {
            void *p = m(n);
            *(volatile char *)p = 1;
            f(p);
        }
    } else {
        void *(*m)(gomem_scalable *, size_t) = gm.scalable_malloc;
        int (*f)(gomem_scalable *, void *, size_t) = gm.scalable_free;
        for (int i = 0; i < PAIRS; i++) {
            void *p = m(w->s, n);
            *(volatile char *)p = 1;
            (void)f(w->s, p, n);
        }
    }
    return (double)(bench_now_ns() - t) / PAIRS;
}

static double run_batch(void *arg)
{
    const struct who *w = arg;
    void *p[100];
    int rounds = PAIRS / 100;
    uint64_t t = bench_now_ns();
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 100; i++) {
            p[i] = who_malloc(w, 1024);
            *(volatile char *)p[i] = 1;
        }
        for (int i = 0; i < 100; i++)
            who_free(w, p[i], 1024);
    }
    return (double)(bench_now_ns() - t) / (rounds * 100.0);
}

/* 10,000 live blocks of 16..4096 B; each op frees a random one and
 * allocates a new one in its place (timed after the fill; all freed at
 * the end). */
#define RANDOM_LIVE 10000
#define RANDOM_OPS 200000
static double random_workload(const struct who *w)
{
    static void *p[RANDOM_LIVE];
    static size_t n[RANDOM_LIVE];
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < RANDOM_LIVE; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        n[i] = 16 + (size_t)(rng >> 33) % 4081;
        p[i] = who_malloc(w, n[i]);
    }
    uint64_t t = bench_now_ns();
    for (int i = 0; i < RANDOM_OPS; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = (size_t)(rng >> 33) % RANDOM_LIVE;
        who_free(w, p[k], n[k]);
        n[k] = 16 + (size_t)(rng >> 17) % 4081;
        p[k] = who_malloc(w, n[k]);
        *(volatile char *)p[k] = 1;
    }
    double ns = (double)(bench_now_ns() - t) / RANDOM_OPS;
    for (int i = 0; i < RANDOM_LIVE; i++)
        who_free(w, p[i], n[i]);
    return ns;
}

static double run_random(void *arg)
{
    return random_workload(arg);
}

/* This process's resident set, in KiB (0 if /proc is not there). */
static double rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1024.0;
}

/* The random workload in a child of its own, forked before any other row
 * of this section ran, so no contender finds memory another left
 * resident: how much its resident set grew by the time everything was
 * freed, in MiB. libgomem then calls gomem_scalable_trim, as a user
 * would after a burst; the mallocs get free() alone. -1 if the child
 * failed. */
static double rss_after(const struct who *w)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        double before = rss_kib();
        struct who c = *w;
        if (!c.peer)
            c.s = gomem_scalable_new(4096);
        (void)random_workload(&c);
        if (!c.peer)
            (void)gomem_scalable_trim(c.s);
        double mib = (rss_kib() - before) / 1024.0;
        ssize_t k = write(fd[1], &mib, sizeof mib);
        _exit(k == (ssize_t)sizeof mib ? 0 : 1);
    }
    close(fd[1]);
    double mib = -1;
    if (pid < 0 || read(fd[0], &mib, sizeof mib) != (ssize_t)sizeof mib)
        mib = -1;
    close(fd[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return mib;
}

static void rss_group(void)
{
    const char *test = "RSS after freeing everything";
    if (!bench_wanted(test))
        return;
    bench_section("random, 10,000 live: RSS after freeing everything (each in a child of its own)");
    printf("  (growth of the resident set over the workload; libgomem after gomem_scalable_trim,\n"
           "  the mallocs after free alone; ratios x glibc)\n");
    /* The median of bench_runs children each, as for the times. */
    double mine, v[MAXPEERS], r[64];
    int runs = bench_runs < 1 ? 1 : bench_runs > 64 ? 64 : bench_runs;
    for (int i = -1; i < npeers; i++) {
        struct who w = {i < 0 ? NULL : &peers[i], NULL, 0};
        for (int k = 0; k < runs; k++)
            r[k] = rss_after(&w);
        *(i < 0 ? &mine : &v[i]) = bench_median(r, runs);
    }
    bench_row(test, "libgomem", mine, "MiB", v[0]);
    for (int i = 0; i < npeers; i++)
        bench_row(test, peers[i].name, v[i], "MiB", v[0]);
}

/* The sizes of the "10 buffers" rows: a round allocates them all. */
static const size_t release_sizes[10] = {1460, 188, 4096, 128, 512, 3000, 1024, 256, 2048, 700};
#define EACH_ROUNDS 100000

/* 10 buffers of 128..4096 bytes, touched, then each freed in the order
 * they were allocated: ns per round of 10. */
static double run_each(void *arg)
{
    const struct who *w = arg;
    void *p[10];
    uint64_t t = bench_now_ns();
    for (int r = 0; r < EACH_ROUNDS; r++) {
        for (int i = 0; i < 10; i++)
            *(volatile unsigned char *)(p[i] = who_malloc(w, release_sizes[i])) = 1;
        for (int i = 0; i < 10; i++)
            who_free(w, p[i], release_sizes[i]);
    }
    return (double)(bench_now_ns() - t) / EACH_ROUNDS;
}

static double run_borrow(void *arg)
{
    const struct who *w = arg;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++)
        bench_sink(gm.scalable_borrow(w->s, 1024));
    return (double)(bench_now_ns() - t) / PAIRS;
}

/* Under a group's rows (whose ratio column is x glibc): libgomem over
 * the fastest peer of the same run, the ratio the targets are set in.
 * Printed as a note, not a row, so the JSON holds each figure once. */
static void best_note(double mine, double best, const char *name)
{
    if (name && best > 0)
        printf("  %-34s libgomem / fastest peer (%s): %.2fx\n", "", name, mine / best);
}

/* Print one group: libgomem first, then each peer (APR too when with_apr);
 * ratios against glibc, and libgomem against the best peer. */
static void group(const char *test, double (*fn)(void *), size_t n, int with_apr)
{
    if (!bench_wanted(test))
        return;
    gomem_scalable *s = gomem_scalable_new(4096);
    struct who g = {NULL, s, n};
    int np = npeers + (with_apr && have_apr);
    double mine = bench_measure(fn, &g), v[MAXPEERS + 1] = {0}, best = 0;
    int bi = 0;
    for (int i = 0; i < np; i++) {
        struct who w = {&peers[i], NULL, n};
        v[i] = bench_measure(fn, &w);
        if (i == 0 || v[i] < best)
            best = v[i], bi = i;
    }
    bench_row(test, "libgomem", mine, "ns", v[0]);
    for (int i = 0; i < np; i++)
        bench_row(test, peers[i].name, v[i], "ns", v[0]);
    best_note(mine, best, np ? peers[bi].name : NULL);
    gomem_scalable_destroy(s);
}

/* ---------------------------------------------------------------- threads */

struct duo {
    const struct who *w;
    int own; /* libgomem: each thread makes an allocator of its own */
    volatile AO_t go;
    double ns[2];
    /* producer/consumer ring */
    void *volatile ring[1024];
    volatile AO_t head, tail;
};

static void *duo_pairs(void *arg)
{
    struct duo *d = arg;
    struct who w = *d->w;
    if (d->own && !w.peer && !(w.s = gomem_scalable_new(4096)))
        abort();
    unsigned spins = 0;
    while (!AO_load_acquire(&d->go))
        spin_pause(&spins);
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++) {
        void *p = who_malloc(&w, 1024);
        *(volatile char *)p = 1;
        who_free(&w, p, 1024);
    }
    t = bench_now_ns() - t;
    if (w.s != d->w->s)
        gomem_scalable_destroy(w.s);
    return (void *)(uintptr_t)t;
}

/* Both threads make pairs, libgomem's from the one allocator given (own:
 * from one each). */
static double two_threads(void *arg, int own)
{
    struct duo d;
    memset(&d, 0, sizeof d);
    d.w = arg;
    d.own = own;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, duo_pairs, &d);
    AO_store_release(&d.go, 1);
    uint64_t total = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (uint64_t)(uintptr_t)r;
    }
    return (double)total / (2.0 * PAIRS); /* per pair, per thread */
}

static double run_two_threads(void *arg)
{
    return two_threads(arg, 0);
}

static double run_two_threads_own(void *arg)
{
    return two_threads(arg, 1);
}

static void *duo_consumer(void *arg)
{
    struct duo *d = arg;
    unsigned spins = 0;
    for (int i = 0; i < PAIRS; i++) {
        AO_t h = AO_load(&d->head);
        while (AO_load_acquire(&d->tail) == h)
            spin_pause(&spins);
        void *p = d->ring[h % 1024];
        who_free(d->w, p, 1024);
        AO_store_release(&d->head, h + 1);
    }
    return NULL;
}

static double run_producer_consumer(void *arg)
{
    struct duo d;
    memset(&d, 0, sizeof d);
    d.w = arg;
    pthread_t c;
    pthread_create(&c, NULL, duo_consumer, &d);
    unsigned spins = 0;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++) {
        AO_t tl = AO_load(&d.tail);
        while (tl - AO_load_acquire(&d.head) >= 1024)
            spin_pause(&spins);
        void *p = who_malloc(d.w, 1024);
        *(volatile char *)p = 1;
        d.ring[tl % 1024] = p;
        AO_store_release(&d.tail, tl + 1);
    }
    pthread_join(c, NULL);
    return (double)(bench_now_ns() - t) / PAIRS;
}

/* ---------------------------------------------------------------- release at once */

/* 10 buffers of 128..4096 bytes, then all released in one call: recyclable
 * memory's next x10 + recycle, APR's palloc x10 + pool clear, and glibc's
 * 10 malloc + 10 free for scale. */
#define RELEASE_ROUNDS 100000

struct release_case {
    gomem_scalable *s; /* libgomem */
    int apr;           /* else glibc when s is NULL */
};

static double run_release(void *arg)
{
    const struct release_case *c = arg;
    uint64_t t;
    if (c->s) {
        gomem_recyclable rm;
        gomem_recyclable_init(&rm, c->s);
        t = bench_now_ns();
        for (int r = 0; r < RELEASE_ROUNDS; r++) {
            for (int i = 0; i < 10; i++)
                *(volatile unsigned char *)gm.recyclable_next(&rm, release_sizes[i]) = 1;
            gm.recyclable_recycle(&rm);
        }
        t = bench_now_ns() - t;
        gomem_recyclable_destroy(&rm);
    } else if (c->apr) {
        void *pool;
        if (apr.pool_create(&pool, NULL, NULL, NULL) != 0)
            return 0;
        t = bench_now_ns();
        for (int r = 0; r < RELEASE_ROUNDS; r++) {
            for (int i = 0; i < 10; i++)
                *(volatile unsigned char *)apr.palloc(pool, release_sizes[i]) = 1;
            apr.pool_clear(pool);
        }
        t = bench_now_ns() - t;
        apr.pool_destroy(pool);
    } else {
        void *p[10];
        t = bench_now_ns();
        for (int r = 0; r < RELEASE_ROUNDS; r++) {
            for (int i = 0; i < 10; i++)
                *(volatile unsigned char *)(p[i] = malloc(release_sizes[i])) = 1;
            for (int i = 0; i < 10; i++)
                free(p[i]);
        }
        t = bench_now_ns() - t;
    }
    return (double)t / RELEASE_ROUNDS;
}

/* Ratios x APR's pool clear, the peer of this row (the target); x glibc's
 * 10 frees when APR did not load. */
static void release_group(void)
{
    const char *test = "10 buffers, released at once";
    struct release_case g = {NULL, 0}, a = {NULL, 1}, m = {gomem_scalable_new(64 * 1024), 0};
    double glibc = bench_measure(run_release, &g), aprv = have_apr ? bench_measure(run_release, &a) : 0;
    double mine = bench_measure(run_release, &m), base = have_apr ? aprv : glibc;
    gomem_scalable_destroy(m.s);
    printf("  (ratios: x %s)\n", have_apr ? "apr pool clear" : "glibc");
    bench_row(test, "libgomem", mine, "ns", base);
    if (have_apr)
        bench_row(test, "apr (pool clear)", aprv, "ns", base);
    bench_row(test, "glibc (each freed)", glibc, "ns", base);
}

/* ---------------------------------------------------------------- arenas */

/* Create, touch and destroy: a libgomem arena on a backing, or the peer's
 * counterpart of an arena of size bytes: glibc's malloc + free, or an APR
 * pool with size bytes palloc'ed from it, destroyed. touch: the first byte
 * (what any user does), or every page. */
struct arena_case {
    const struct gomem__backing *backing; /* NULL: gomem_arena_new (this build's) */
    const struct bench_peer *peer;        /* or a peer's malloc/free */
    int apr;                              /* or an APR pool */
    size_t size;
    int every_page;
    int iters;
};

static void touch(unsigned char *p, size_t n, int every_page)
{
    p[0] = 1;
    for (size_t i = 4096; every_page && i < n; i += 4096)
        p[i] = 1;
}

static double run_arena(void *arg)
{
    const struct arena_case *c = arg;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < c->iters; i++) {
        if (c->apr) {
            void *pool;
            if (apr.pool_create(&pool, NULL, NULL, NULL) != 0)
                return 0;
            unsigned char *p = apr.palloc(pool, c->size);
            touch(p, c->size, c->every_page);
            bench_sink(p);
            apr.pool_destroy(pool);
        } else if (c->peer) {
            unsigned char *p = c->peer->malloc(c->size);
            touch(p, c->size, c->every_page);
            bench_sink(p);
            c->peer->free(p);
        } else {
            gomem_arena *a = c->backing ? gomem__arena_new_with(c->backing, c->size) : gm.arena_new(c->size);
            touch(a->base, c->size, c->every_page);
            bench_sink(a);
            gm.arena_destroy(a);
        }
    }
    return (double)(bench_now_ns() - t) / c->iters;
}

static void arena_group(size_t size, int every_page)
{
#ifdef GOMEM_BENCH_WHITEBOX
    static const struct gomem__backing *const backings[] = {&gomem__backing_heap, &gomem__backing_mmap,
                                                            &gomem__backing_buddy};
    const int nbackings = 3;
#else
    /* libgomem.so: gomem_arena_new, on the backing it was built with. */
    static struct gomem__backing configured;
    static const struct gomem__backing *const backings[] = {&configured};
    const int nbackings = 1;
    unsigned f = gomem_features();
    configured.name = f & GOMEM_FEATURE_BUDDY ? "buddy" : f & GOMEM_FEATURE_MMAP ? "mmap" : "heap";
#endif
    char test[64];
    snprintf(test, sizeof test, "arena %zu MiB %s", size >> 20, every_page ? "touched" : "first byte");
    int pooled = size <= ((size_t)64 << 20); /* the arena cache's largest class */
    int iters = every_page ? (size > ((size_t)1 << 20) ? 20 : 200) : pooled ? 20000 : 2000;
    /* A pooled arena touched at its first byte takes nanoseconds. */
    const char *unit = !every_page && pooled ? "ns" : "us";
    double scale = !every_page && pooled ? 1.0 : 1000.0;
    struct arena_case base = {NULL, &peers[0], 0, size, every_page, iters};
    struct arena_case ac = {NULL, NULL, 1, size, every_page, iters};
    double glibc = bench_measure(run_arena, &base), aprv = have_apr ? bench_measure(run_arena, &ac) : 0;
    double ref = have_apr ? aprv : glibc; /* the ratio column: x apr pool, else x glibc */
    for (int b = 0; b < nbackings; b++) {
        struct arena_case c = {backings[b], NULL, 0, size, every_page, iters};
        char who[32];
        snprintf(who, sizeof who, "libgomem/%s", backings[b]->name);
        bench_row(test, who, bench_measure(run_arena, &c) / scale, unit, ref / scale);
    }
    if (have_apr)
        bench_row(test, "apr pool", aprv / scale, unit, ref / scale);
    bench_row(test, "glibc malloc", glibc / scale, unit, ref / scale);
}

/* ---------------------------------------------------------------- object pool */

struct objpool_case {
    gomem_objpool *pool;            /* libgomem, or */
    const struct bench_peer *peer;  /* a peer's malloc+free of the same size */
    size_t n;
};

static double run_objpool_pair(void *arg)
{
    const struct objpool_case *c = arg;
    uint64_t t = bench_now_ns();
    if (c->peer) {
        void *(*m)(size_t) = c->peer->malloc;
        void (*f)(void *) = c->peer->free;
        for (int i = 0; i < PAIRS; i++) {
            void *p = m(c->n);
            *(volatile char *)p = 1;
            f(p);
        }
    } else {
        for (int i = 0; i < PAIRS; i++) {
            void *p = gm.objpool_get(c->pool);
            *(volatile char *)p = 1;
            (void)gm.objpool_put(c->pool, p);
        }
    }
    return (double)(bench_now_ns() - t) / PAIRS;
}

/* gomem_objpool get+put against each peer's malloc+free of the same size,
 * all in this run (ratios x glibc; the note under them sets libgomem
 * beside the fastest peer). */
static void bench_objpool(void)
{
    bench_section("object pool get+put pair (peers: malloc+free of the same size)");
    static const size_t sizes[] = {64, 1024};
    for (int z = 0; z < 2; z++) {
        size_t n = sizes[z];
        char test[64];
        snprintf(test, sizeof test, "objpool pair %zu B", n);
        struct objpool_case g = {gomem_objpool_new(n, 0, NULL, NULL, NULL), NULL, n};
        if (!g.pool)
            return;
        double mine = bench_measure(run_objpool_pair, &g), v[MAXPEERS], best = 0;
        int bi = 0;
        for (int i = 0; i < npeers; i++) {
            struct objpool_case c = {NULL, &peers[i], n};
            v[i] = bench_measure(run_objpool_pair, &c);
            if (i == 0 || v[i] < best)
                best = v[i], bi = i;
        }
        bench_row(test, "libgomem", mine, "ns", v[0]);
        for (int i = 0; i < npeers; i++)
            bench_row(test, peers[i].name, v[i], "ns", v[0]);
        best_note(mine, best, npeers ? peers[bi].name : NULL);
        gomem_objpool_destroy(g.pool);
    }
}

void bench_pool(void)
{
    gm_load();
    npeers = bench_peers(peers, MAXPEERS);
    have_apr = bench_apr_load(&apr) && pthread_key_create(&apr_key, apr_thread_done) == 0;
    if (have_apr) {
        peers[npeers].name = "apr";
        peers[npeers].malloc = apr_peer_malloc;
        peers[npeers].free = apr_peer_free;
    }
    printf("\npool: peers loaded:");
    for (int i = 0; i < npeers + have_apr; i++)
        printf(" %s", peers[i].name);
    printf(" (ratios: x glibc)\n");
    if (have_apr)
        printf("  apr: apr_palloc from a pool per thread, cleared after each 1 MiB; its free does nothing\n");

    rss_group(); /* first: no row before it has left memory resident */

    bench_section("scalable malloc+free pair");
    static const size_t sizes[] = {64, 1024, 8192, 65536};
    static const char *const names[] = {"pair 64 B", "pair 1 KiB", "pair 8 KiB", "pair 64 KiB"};
    for (int i = 0; i < 4; i++)
        group(names[i], run_pair, sizes[i], 1);
    group("100 x 1 KiB malloc, then 100 frees", run_batch, 1024, 1);
    bench_section("10 buffers of 128..4096 B, each freed in order, per round of 10");
    group("10 buffers, each freed", run_each, 0, 0);
    bench_objpool();
    group("random, 10,000 live of 16..4096 B (per free+malloc)", run_random, 0, 0);

    if (bench_full) {
        bench_section("borrow");
        gomem_scalable *s = gomem_scalable_new(4096);
        struct who g = {NULL, s, 1024};
        bench_row("borrow 1 KiB", "libgomem", bench_measure(run_borrow, &g), "ns", 0);
        gomem_scalable_destroy(s);
    }

    bench_section("two threads, 1 KiB (libgomem: one shared allocator, or one each)");
    int cores = bench_cores();
    if (cores < 2) {
        printf("  skipped: %d core available to this process, fewer than the 2 threads; the\n"
               "  threads would take turns on it, and the figures would measure the scheduler\n",
               cores);
    } else {
        group("2 threads x pairs (per pair)", run_two_threads, 1024, 1);
        group("2 threads x pairs, own allocator", run_two_threads_own, 1024, 1);
        group("alloc in one, free in other", run_producer_consumer, 1024, 0);
    }

    bench_section("release at once");
    release_group();

    if (!bench_full) {
        gomem__arena_pool_drain();
        return;
    }
    bench_section(have_apr ? "arena create+destroy (ratios: x apr pool create+destroy)"
                           : "arena create+destroy (ratios: x glibc malloc+free)");
    {
        int iters = 200000;
        struct arena_case g = {NULL, &peers[0], 0, 4096, 0, iters}, p = {NULL, NULL, 0, 4096, 0, iters};
        struct arena_case ac = {NULL, NULL, 1, 4096, 0, iters};
        double glibc = bench_measure(run_arena, &g), mine = bench_measure(run_arena, &p);
        double aprv = have_apr ? bench_measure(run_arena, &ac) : 0, ref = have_apr ? aprv : glibc;
        bench_row("pooled 4 KiB arena", "libgomem", mine, "ns", ref);
        if (have_apr)
            bench_row("pooled 4 KiB arena", "apr pool", aprv, "ns", ref);
        bench_row("pooled 4 KiB arena", "glibc malloc", glibc, "ns", ref);
    }
    arena_group((size_t)1 << 20, 0);
    arena_group((size_t)1 << 20, 1);
    arena_group((size_t)16 << 20, 0);
    arena_group((size_t)16 << 20, 1);
    gomem__arena_pool_drain();
    apr_peer_done();
}
