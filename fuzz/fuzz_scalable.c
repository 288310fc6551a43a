/* fuzz_scalable.c - the scalable allocator against a list of what it
 * handed out. Every allocation gets canaries (a pattern of its address
 * and its own tag) that must be intact when any part of it is freed and
 * at the end; no allocation, read or borrowed range may overlap a live
 * one; frees of any sub-range (whole, head, tail, middle), free_rest and
 * read must succeed, and frees of ranges that are not wholly allocated
 * (past an allocation's end into free bytes, outside every arena, NULL,
 * empty) must be refused and change nothing; after every operation the
 * checker passes and the counters equal the model's. */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pool/scalable.h"

#define MAXLIVE 256

struct live {
    unsigned char *p;
    size_t n;
    uint8_t tag;
};

static struct live v[MAXLIVE];
static size_t k;
static uint64_t malloced, freed;

static uint8_t canary(const unsigned char *q, uint8_t tag)
{
    uintptr_t x = (uintptr_t)q;
    return (uint8_t)((x ^ (x >> 9)) * 31u + tag);
}

static void fill(const struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        l->p[i] = canary(l->p + i, l->tag);
}

static void intact(const struct live *l)
{
    for (size_t i = 0; i < l->n; i++)
        FUZZ_REQUIRE(l->p[i] == canary(l->p + i, l->tag), "canary of [%p, +%zu) broken at %zu",
                     (void *)l->p, l->n, i);
}

/* 1 if [p, p + n) meets a live allocation. */
static int meets(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < k; i++)
        if ((uintptr_t)p < (uintptr_t)v[i].p + v[i].n && (uintptr_t)v[i].p < (uintptr_t)p + n)
            return 1;
    return 0;
}

static void add(unsigned char *p, size_t n, uint8_t tag)
{
    FUZZ_REQUIRE(!meets(p, n), "[%p, +%zu) overlaps a live allocation", (void *)p, n);
    FUZZ_REQUIRE(k < MAXLIVE, "model full");
    v[k] = (struct live){p, n, tag};
    fill(&v[k++]);
    malloced += n;
}

/* The model's side of freeing [lo, lo + len) inside v[i]. */
static void cut(size_t i, size_t lo, size_t len)
{
    struct live l = v[i];
    v[i] = v[--k];
    if (lo > 0)
        v[k++] = (struct live){l.p, lo, l.tag};
    if (lo + len < l.n)
        v[k++] = (struct live){l.p + lo + len, l.n - lo - len, l.tag};
    freed += len;
}

static void agree(gomem_scalable *s)
{
    FUZZ_REQUIRE(gomem__scalable_check(s) == 0, "checker");
    struct gomem_scalable_stats st;
    FUZZ_REQUIRE(gomem_scalable_stats(s, &st) == 0, "stats");
    FUZZ_REQUIRE(st.malloc_bytes == malloced && st.free_bytes == freed && st.in_use == malloced - freed,
                 "counters %llu/%llu/%zu, model %llu/%llu", (unsigned long long)st.malloc_bytes,
                 (unsigned long long)st.free_bytes, st.in_use, (unsigned long long)malloced,
                 (unsigned long long)freed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int zero = -2, trace;
    if (zero == -2) {
        zero = open("/dev/zero", O_RDONLY);
        trace = getenv("FUZZ_TRACE") != NULL;
    }
    struct fuzz_in in = {data, size};
    k = 0;
    malloced = freed = 0;
    gomem_scalable *s = gomem_scalable_new(1 + fuzz_below(&in, 65536));
    FUZZ_REQUIRE(s != NULL, "gomem_scalable_new");
    /* Small requests from the thread's chunk or from size-class spans
     * (without reading the input: the corpus keeps its meaning); each
     * trim below picks again. */
    FUZZ_REQUIRE(gomem__scalable_spans(s, (int)(size & 1)) >= 0, "spans");
    uint8_t tag = 0;
    while (fuzz_more(&in)) {
        uint8_t op = fuzz_u8(&in);
        size_t n = op & 0x80 ? 1 + fuzz_below(&in, 300000) : 1 + (size_t)fuzz_u8(&in);
        if ((op & 0xf0) == 0xf0 && fuzz_u8(&in) == 0xff)
            n = ((size_t)4 << 20) + fuzz_below(&in, 4096); /* past the arena cap */
        if (trace)
            fprintf(stderr, "op %u n %zu live %zu\n", op % 8, n, k);
        switch (op % 8) {
        case 0:
        case 1: {
            unsigned char *p = gomem_scalable_malloc(s, n);
            FUZZ_REQUIRE(p != NULL, "malloc %zu", n);
            add(p, n, ++tag);
            break;
        }
        case 2: /* free a sub-range of a live allocation */
        case 3: {
            if (!k)
                break;
            if ((op & 0x60) == 0x60) {
                /* Two allocations that lie end to end, in one call (as
                 * recyclable memory gives back its segments): accepted,
                 * or refused without a change when they lie in two
                 * arenas that happen to touch. */
                size_t i = fuzz_below(&in, k), j = 0;
                while (j < k && v[j].p != v[i].p + v[i].n)
                    j++;
                if (j == k)
                    break;
                intact(&v[i]);
                intact(&v[j]);
                unsigned char *second = v[j].p;
                int r = gomem_scalable_free(s, v[i].p, v[i].n + v[j].n);
                FUZZ_REQUIRE(r == 0 || r == -EINVAL, "free of two adjacent allocations: %d", r);
                if (r == 0) {
                    cut(i, 0, v[i].n); /* reorders v */
                    for (j = 0; v[j].p != second; j++)
                        ;
                    cut(j, 0, v[j].n);
                }
                break;
            }
            size_t i = fuzz_below(&in, k), lo = fuzz_below(&in, v[i].n);
            size_t len = 1 + fuzz_below(&in, v[i].n - lo);
            if (k == MAXLIVE && lo > 0)
                len = v[i].n - lo; /* a middle would leave one piece more than v holds */
            intact(&v[i]);
            FUZZ_REQUIRE(gomem_scalable_free(s, v[i].p + lo, len) == 0, "free [%zu, +%zu) of %zu", lo,
                         len, v[i].n);
            cut(i, lo, len);
            break;
        }
        case 4: { /* free_rest */
            if (!k)
                break;
            size_t i = fuzz_below(&in, k), keep = fuzz_below(&in, v[i].n + 1);
            intact(&v[i]);
            FUZZ_REQUIRE(gomem_scalable_free_rest(s, v[i].p, v[i].n, keep) == 0, "free_rest %zu of %zu",
                         keep, v[i].n);
            if (keep < v[i].n)
                cut(i, keep, v[i].n - keep);
            break;
        }
        case 5: { /* frees that must be refused */
            unsigned char local[16];
            int r;
            if (k && (op & 0x40)) {
                /* From inside an allocation past its end, where the model
                 * has no live byte (free, or beyond the arena). */
                size_t i = fuzz_below(&in, k), lo = fuzz_below(&in, v[i].n), extra = 1 + fuzz_below(&in, 64);
                if (meets(v[i].p + v[i].n, extra))
                    break;
                r = gomem_scalable_free(s, v[i].p + lo, v[i].n - lo + extra);
            } else {
                switch (fuzz_below(&in, 4)) {
                case 0:
                    r = gomem_scalable_free(s, local, sizeof local);
                    break;
                case 1:
                    r = gomem_scalable_free(s, NULL, n);
                    break;
                case 2:
                    r = k ? gomem_scalable_free(s, v[0].p, 0) : -EINVAL;
                    break;
                default:
                    r = k ? gomem_scalable_free(s, v[0].p, SIZE_MAX) : -EINVAL;
                    break;
                }
            }
            FUZZ_REQUIRE(r == -EINVAL, "a bad free gave %d", r);
            break;
        }
        case 6: { /* borrow: scratch bytes clear of every live allocation */
            unsigned char *p = gomem_scalable_borrow(s, n);
            FUZZ_REQUIRE(p != NULL, "borrow %zu", n);
            FUZZ_REQUIRE(!meets(p, n), "borrowed bytes overlap a live allocation");
            memset(p, 0xee, n);
            break;
        }
        default: {
            if (op & 0x40) {
                (void)gomem_scalable_trim(s);
                (void)gomem__scalable_spans(s, op & 1);
                break;
            }
            void *p;
            ssize_t r = zero >= 0 ? gomem_scalable_read(s, zero, n, &p) : -1;
            if (r < 0)
                break;
            FUZZ_REQUIRE((size_t)r <= n && r > 0, "read %zu gave %zd", n, r);
            for (ssize_t j = 0; j < r; j++)
                FUZZ_REQUIRE(((unsigned char *)p)[j] == 0, "read bytes are not what was read");
            add(p, (size_t)r, ++tag);
            break;
        }
        }
        agree(s);
    }
    for (size_t i = 0; i < k; i++)
        intact(&v[i]);
    gomem_scalable_destroy(s);
    return 0;
}
