/* bench_offset.c - the offset allocator, both variants: alloc+free pairs,
 * GoMem's random workload (about 1,000 live blocks of 16..16384 bytes in a
 * 64 MiB range) and the same at high load (about 950 live in 8 MiB, where
 * refusals measure fragmentation), beside a bump pointer (the floor). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "gomem.h"
#include "offset/offset.h"

/* A contender as the loops call it. The white-box build drives the
 * variants' own calls (void handles); the installed gomem-bench calls the
 * public ones of libgomem.so, reached as bench_pool.c reaches the
 * allocators it measures: through pointers that dlsym returned, one
 * indirect call per operation, like every peer in this program. */
#ifdef GOMEM_BENCH_WHITEBOX
typedef void handle_t;
#else
typedef gomem_allocator handle_t;
#endif

struct variant {
    const char *name;
    handle_t *(*create)(size_t size);
    void (*destroy)(handle_t *t);
    int (*alloc)(handle_t *t, size_t n, size_t *off);
    int (*release)(handle_t *t, size_t off, size_t n);
    size_t (*depth)(const handle_t *t); /* NULL: not known */
};

#ifdef GOMEM_BENCH_WHITEBOX
/* bench/gomem-bench-whitebox: both variants, whatever configure chose. */
static struct variant variants[2];

static void variants_load(void)
{
    const struct gomem__offset_ops *const ops[] = {&gomem__segfit_ops, &gomem__avl_ops};
    for (size_t v = 0; v < 2; v++)
        variants[v] = (struct variant){ops[v]->name, ops[v]->create, ops[v]->destroy,
                                       ops[v]->alloc, ops[v]->release, ops[v]->depth};
}
#else
/* The variant libgomem.so was built as, under that variant's name. */
static struct variant variants[] = {
    {"", gomem_allocator_new, gomem_allocator_destroy, gomem_allocator_alloc, gomem_allocator_free, NULL}};

#define VARIANT_LOAD(field, fn) \
    do {                                                               \
        void *f_ = dlsym(RTLD_DEFAULT, #fn);                           \
        if (f_)                                                        \
            *(void **)&variants[0].field = f_;                         \
    } while (0)

static void variants_load(void)
{
    variants[0].name = bench_offset_variant();
    VARIANT_LOAD(alloc, gomem_allocator_alloc);
    VARIANT_LOAD(release, gomem_allocator_free);
}
#endif

/* The random workload's own cost: a bump pointer that wraps and never frees. */
static size_t harness_top;
static handle_t *harness_create(size_t s)
{
    (void)s;
    harness_top = 0;
    return (handle_t *)&harness_top;
}
static void harness_destroy(handle_t *t) { (void)t; }
static int harness_alloc(handle_t *t, size_t n, size_t *o)
{
    size_t *top = (size_t *)t;
    *o = *top;
    *top = (*top + n) & ((64u << 20) - 1);
    return 0;
}
static int harness_release(handle_t *t, size_t o, size_t n) { (void)t; (void)o; (void)n; return 0; }
static const struct variant harness = {"bump pointer", harness_create, harness_destroy, harness_alloc,
                                       harness_release, NULL};

#define PAIRS 2000000

struct pair_job {
    const struct variant *v;
    const size_t *sizes; /* PAIRS sizes, cycled */
    size_t nsizes;
};

static double pair_run(void *arg)
{
    const struct pair_job *j = arg;
    handle_t *t = j->v->create(1 << 20);
    /* In locals, as the malloc pairs hold theirs (bench_pool.c). */
    int (*alloc)(handle_t *, size_t, size_t *) = j->v->alloc;
    int (*release)(handle_t *, size_t, size_t) = j->v->release;
    const size_t *sizes = j->sizes, nsizes = j->nsizes;
    size_t off, sum = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0, k = 0; i < PAIRS; i++) {
        size_t n = sizes[k];
        k = k + 1 == nsizes ? 0 : k + 1;
        alloc(t, n, &off);
        sum += off;
        release(t, off, n);
    }
    uint64_t t1 = bench_now_ns();
    bench_sink_u64 += sum;
    j->v->destroy(t);
    return (double)(t1 - t0) / PAIRS;
}

static double bump_run(void *arg)
{
    const struct pair_job *j = arg;
    volatile size_t top = 0;
    size_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0, k = 0; i < PAIRS; i++) {
        size_t n = j->sizes[k];
        k = k + 1 == j->nsizes ? 0 : k + 1;
        size_t off = top; /* alloc */
        top = off + n;
        sum += off;
        top = off; /* free */
    }
    uint64_t t1 = bench_now_ns();
    bench_sink_u64 += sum;
    return (double)(t1 - t0) / PAIRS;
}

/* ---------------------------------------------------------------- random */

#define RANDOM_OPS 1000000
#define RANDOM_LIVE_MAX 1000

struct random_job {
    const struct variant *v;
    size_t range;  /* the managed range */
    size_t target; /* live blocks the run hovers around (<= RANDOM_LIVE_MAX) */
    long failed;   /* allocations refused */
    size_t depth;  /* largest depth seen (only when sampling) */
    int sample;    /* sample the depth every 1000 operations (untimed run) */
};

/* A value in [0, range), by multiplication: a division would cost more than
 * some of the operations measured. */
static inline size_t random_below(uint64_t r, size_t range)
{
    return (size_t)(((r >> 32) * (uint64_t)range) >> 32);
}

static uint64_t random_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static double random_run(void *arg)
{
    struct random_job *j = arg;
    handle_t *t = j->v->create(j->range);
    static size_t off[4 * RANDOM_LIVE_MAX], len[4 * RANDOM_LIVE_MAX];
    size_t live = 0;
    uint64_t rng = 42;
    j->failed = 0;
    j->depth = 0;
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < RANDOM_OPS; i++) {
        uint64_t r = random_next(&rng);
        int do_alloc = live < j->target ? (r & 3) != 0 : (r & 3) == 0;
        if (live == 4 * RANDOM_LIVE_MAX)
            do_alloc = 0;
        if (do_alloc || live == 0) {
            size_t n = 16 + random_below(r, 16384 - 16 + 1);
            if (j->v->alloc(t, n, &off[live]) == 0)
                len[live++] = n;
            else
                j->failed++;
        } else {
            size_t k = random_below(r, live);
            j->v->release(t, off[k], len[k]);
            live--;
            off[k] = off[live];
            len[k] = len[live];
        }
        if (j->sample && j->v->depth && i % 1000 == 0) {
            size_t d = j->v->depth(t);
            if (d > j->depth)
                j->depth = d;
        }
    }
    uint64_t t1 = bench_now_ns();
    j->v->destroy(t);
    return (double)(t1 - t0) / RANDOM_OPS;
}

void bench_offset(void)
{
    static size_t cycle[128];
    size_t ncycle = 0;
    for (size_t n = 64; n <= 8192; n *= 2)
        cycle[ncycle++] = n;
    for (size_t n = 4096; n > 64; n /= 2)
        cycle[ncycle++] = n;
    static const size_t s1k[] = {1024}, s64[] = {64}, s8k[] = {8192};
    const struct {
        const char *name;
        const size_t *sizes;
        size_t n;
    } pairs[] = {
        {"pair 1 KiB (1 MiB range)", s1k, 1},
        {"pair 64 B", s64, 1},
        {"pair 8 KiB", s8k, 1},
        {"pair sizes cycling 64..8192", cycle, ncycle},
    };

    variants_load();
    bench_section("offset allocator: ns per alloc+free pair (ratio vs bump pointer)");
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        if (!bench_wanted(pairs[p].name))
            continue;
        struct pair_job bump = {NULL, pairs[p].sizes, pairs[p].n};
        double base = bench_measure(bump_run, &bump);
        bench_row(pairs[p].name, "bump pointer", base, "ns", base);
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            struct pair_job j = {&variants[v], pairs[p].sizes, pairs[p].n};
            bench_row(pairs[p].name, variants[v].name, bench_measure(pair_run, &j), "ns", base);
        }
    }

    if (!bench_full)
        return;
    static const struct {
        const char *title, *row;
        size_t range, target;
    } randoms[] = {
        {"offset allocator: random workload, ~1000 live blocks of 16..16384 B in 64 MiB, 10^6 ops",
         "random ns/op", (size_t)64 << 20, 1000},
        {"offset allocator: high load, ~950 live blocks of 16..16384 B in 8 MiB (~92% full), 10^6 ops",
         "high load ns/op", (size_t)8 << 20, 950},
    };
    for (size_t w = 0; w < sizeof randoms / sizeof randoms[0]; w++) {
        bench_section(randoms[w].title);
        struct random_job h = {&harness, randoms[w].range, randoms[w].target, 0, 0, 0};
        bench_row("ns/op (bump pointer, never frees)", harness.name, bench_measure(random_run, &h), "ns", 0);
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            struct random_job j = {&variants[v], randoms[w].range, randoms[w].target, 0, 0, 0};
            double ns = bench_measure(random_run, &j);
            long failed = j.failed;
            struct random_job d = {&variants[v], randoms[w].range, randoms[w].target, 0, 0, 1};
            random_run(&d);
            bench_row(randoms[w].row, variants[v].name, ns, "ns", 0);
            printf("  %-34s %-16s %10ld\n", "  refused allocations", variants[v].name, failed);
#ifdef GOMEM_BENCH_WHITEBOX
            printf("  %-34s %-16s %10zu\n", "  largest depth seen", variants[v].name, d.depth);
#endif
        }
    }
}
