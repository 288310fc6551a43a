/* bench_pool.c - the scalable allocator and arenas beside glibc and the
 * peers that load (tcmalloc, jemalloc, mimalloc): malloc/free pairs,
 * batches, borrow, two threads, and arena create/destroy per backing. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <atomic_ops.h>

#include "pool/arena.h"
#include "bench.h"
#include "gomem.h"

#define PAIRS 400000
#define MAXPEERS 8

static struct bench_peer peers[MAXPEERS];
static int npeers;

/* One contender: a peer, or libgomem when peer is NULL. */
struct who {
    const struct bench_peer *peer;
    gomem_scalable *s;
    size_t n;
};

static void *who_malloc(const struct who *w, size_t n)
{
    return w->peer ? w->peer->malloc(n) : gomem_scalable_malloc(w->s, n);
}

static void who_free(const struct who *w, void *p, size_t n)
{
    if (w->peer)
        w->peer->free(p);
    else
        (void)gomem_scalable_free(w->s, p, n);
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
        for (int i = 0; i < PAIRS; i++) {
            void *p = gomem_scalable_malloc(w->s, n);
            *(volatile char *)p = 1;
            gomem_scalable_free(w->s, p, n);
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
static double run_random(void *arg)
{
    const struct who *w = arg;
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

static double run_borrow(void *arg)
{
    const struct who *w = arg;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++)
        bench_sink(gomem_scalable_borrow(w->s, 1024));
    return (double)(bench_now_ns() - t) / PAIRS;
}

/* Print one group: libgomem first, then each peer; ratios against glibc,
 * and libgomem against the best peer. */
static void group(const char *test, double (*fn)(void *), size_t n)
{
    gomem_scalable *s = gomem_scalable_new(4096);
    struct who g = {NULL, s, n};
    double mine = bench_measure(fn, &g), v[MAXPEERS], best = 0;
    int bi = 0;
    for (int i = 0; i < npeers; i++) {
        struct who w = {&peers[i], NULL, n};
        v[i] = bench_measure(fn, &w);
        if (i == 0 || v[i] < best)
            best = v[i], bi = i;
    }
    bench_row(test, "libgomem", mine, "ns", v[0]);
    for (int i = 0; i < npeers; i++)
        bench_row(test, peers[i].name, v[i], "ns", v[0]);
    char label[64];
    snprintf(label, sizeof label, "libgomem/%s", peers[bi].name);
    bench_row(test, label, mine, "ns", best);
    gomem_scalable_destroy(s);
}

/* ---------------------------------------------------------------- threads */

struct duo {
    const struct who *w;
    volatile AO_t go;
    double ns[2];
    /* producer/consumer ring */
    void *volatile ring[1024];
    volatile AO_t head, tail;
};

static void *duo_pairs(void *arg)
{
    struct duo *d = *(struct duo **)arg;
    int me = (int)((struct duo **)arg - (struct duo **)0) & 1; /* unused */
    (void)me;
    while (!AO_load_acquire(&d->go))
        ;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++) {
        void *p = who_malloc(d->w, 1024);
        *(volatile char *)p = 1;
        who_free(d->w, p, 1024);
    }
    return (void *)(uintptr_t)(bench_now_ns() - t);
}

static double run_two_threads(void *arg)
{
    struct duo d;
    memset(&d, 0, sizeof d);
    d.w = arg;
    struct duo *pd = &d;
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, duo_pairs, &pd);
    AO_store_release(&d.go, 1);
    uint64_t total = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        total += (uint64_t)(uintptr_t)r;
    }
    return (double)total / (2.0 * PAIRS); /* per pair, per thread */
}

static void *duo_consumer(void *arg)
{
    struct duo *d = arg;
    for (int i = 0; i < PAIRS; i++) {
        AO_t h = AO_load(&d->head);
        while (AO_load_acquire(&d->tail) == h)
            ;
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
    uint64_t t = bench_now_ns();
    for (int i = 0; i < PAIRS; i++) {
        AO_t tl = AO_load(&d.tail);
        while (tl - AO_load_acquire(&d.head) >= 1024)
            ;
        void *p = who_malloc(d.w, 1024);
        *(volatile char *)p = 1;
        d.ring[tl % 1024] = p;
        AO_store_release(&d.tail, tl + 1);
    }
    pthread_join(c, NULL);
    return (double)(bench_now_ns() - t) / PAIRS;
}

/* ---------------------------------------------------------------- arenas */

struct arena_case {
    const struct gomem__backing *backing; /* NULL: gomem_arena_new (pooled) */
    const struct bench_peer *peer;        /* or a peer's malloc/free */
    size_t size;
    int touch;
    int iters;
};

static void touch_pages(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 4096)
        p[i] = 1;
}

static double run_arena(void *arg)
{
    const struct arena_case *c = arg;
    uint64_t t = bench_now_ns();
    for (int i = 0; i < c->iters; i++) {
        if (c->peer) {
            unsigned char *p = c->peer->malloc(c->size);
            if (c->touch)
                touch_pages(p, c->size);
            bench_sink(p);
            c->peer->free(p);
        } else {
            gomem_arena *a = c->backing ? gomem__arena_new_with(c->backing, c->size) : gomem_arena_new(c->size);
            if (c->touch)
                touch_pages(a->base, c->size);
            bench_sink(a);
            gomem_arena_destroy(a);
        }
    }
    return (double)(bench_now_ns() - t) / c->iters;
}

static void arena_group(size_t size, int touch)
{
    static const struct gomem__backing *const backings[] = {&gomem__backing_heap, &gomem__backing_mmap,
                                                            &gomem__backing_buddy};
    char test[64];
    snprintf(test, sizeof test, "arena %zu MiB %s", size >> 20, touch ? "touched" : "untouched");
    int iters = touch ? (size > ((size_t)1 << 20) ? 20 : 200) : 2000;
    struct arena_case base = {NULL, &peers[0], size, touch, iters};
    double glibc = bench_measure(run_arena, &base);
    for (int b = 0; b < 3; b++) {
        struct arena_case c = {backings[b], NULL, size, touch, iters};
        char who[32];
        snprintf(who, sizeof who, "libgomem/%s", backings[b]->name);
        bench_row(test, who, bench_measure(run_arena, &c) / 1000.0, "us", glibc / 1000.0);
    }
    bench_row(test, "glibc malloc", glibc / 1000.0, "us", glibc / 1000.0);
}

void bench_pool(void)
{
    npeers = bench_peers(peers, MAXPEERS);
    printf("\npool: peers loaded:");
    for (int i = 0; i < npeers; i++)
        printf(" %s", peers[i].name);
    printf(" (ratios: x glibc; libgomem/<best> is libgomem against the fastest peer)\n");

    bench_section("scalable malloc+free pair");
    static const size_t sizes[] = {64, 1024, 8192, 65536};
    static const char *const names[] = {"pair 64 B", "pair 1 KiB", "pair 8 KiB", "pair 64 KiB"};
    for (int i = 0; i < 4; i++)
        group(names[i], run_pair, sizes[i]);
    group("100 x 1 KiB malloc, then 100 frees", run_batch, 1024);
    group("random, 10,000 live of 16..4096 B (per free+malloc)", run_random, 0);

    bench_section("borrow");
    {
        gomem_scalable *s = gomem_scalable_new(4096);
        struct who g = {NULL, s, 1024};
        bench_row("borrow 1 KiB", "libgomem", bench_measure(run_borrow, &g), "ns", 0);
        gomem_scalable_destroy(s);
    }

    bench_section("two threads, 1 KiB (libgomem: one shared allocator)");
    group("2 threads x pairs (per pair)", run_two_threads, 1024);
    group("alloc in one, free in other", run_producer_consumer, 1024);

    bench_section("arena create+destroy");
    {
        int iters = 200000;
        double glibc, mine;
        struct arena_case g = {NULL, &peers[0], 4096, 0, iters}, p = {NULL, NULL, 4096, 0, iters};
        glibc = bench_measure(run_arena, &g);
        mine = bench_measure(run_arena, &p);
        bench_row("pooled 4 KiB arena", "libgomem", mine, "ns", glibc);
        bench_row("pooled 4 KiB arena", "glibc malloc", glibc, "ns", glibc);
    }
    arena_group((size_t)1 << 20, 0);
    arena_group((size_t)1 << 20, 1);
    arena_group((size_t)16 << 20, 0);
    arena_group((size_t)16 << 20, 1);
    gomem__arena_pool_drain();
}
