/* fuzz_offset.c - the offset allocator, both variants through their ops
 * tables, against a byte map of [0, size): every alloc must return the
 * offset the variant's rule picks (first fit, or best fit with the lowest
 * offset on ties), every free of allocated bytes must succeed and every
 * other free must be refused, and after every operation the structure's
 * checker, its free size and its list of free blocks must agree with the
 * map. */
#include "fuzz.h"

#include <errno.h>
#include <string.h>

#include "offset/offset.h"

#define MAXSIZE 1024

struct model {
    size_t size;
    uint8_t used[MAXSIZE]; /* 1: allocated */
};

/* The offset the variant must return for n bytes, or SIZE_MAX. */
static size_t model_fit(const struct model *m, size_t n, int best_fit)
{
    size_t best = SIZE_MAX, best_len = SIZE_MAX;
    for (size_t i = 0; i < m->size;) {
        if (m->used[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < m->size && !m->used[j])
            j++;
        if (j - i >= n) {
            if (!best_fit)
                return i;
            if (j - i < best_len) {
                best = i;
                best_len = j - i;
            }
        }
        i = j;
    }
    return best;
}

static size_t model_free_bytes(const struct model *m)
{
    size_t f = 0;
    for (size_t i = 0; i < m->size; i++)
        f += !m->used[i];
    return f;
}

struct walk {
    const struct model *m;
    size_t next; /* where the next free block may start */
    int bad;
};

static int walk_block(size_t off, size_t n, void *arg)
{
    struct walk *w = arg;
    const struct model *m = w->m;
    /* Free blocks come in order, never touch, and are maximal free runs. */
    if (n == 0 || off < w->next || off > m->size || n > m->size - off) {
        w->bad = 1;
        return 1;
    }
    for (size_t i = w->next; i < off; i++)
        if (!m->used[i]) {
            w->bad = 1;
            return 1;
        }
    for (size_t i = off; i < off + n; i++)
        if (m->used[i]) {
            w->bad = 1;
            return 1;
        }
    if (off + n < m->size && !m->used[off + n]) {
        w->bad = 1;
        return 1;
    }
    w->next = off + n;
    return 0;
}

static void agree(const struct gomem__offset_ops *ops, void *t, const struct model *m)
{
    FUZZ_REQUIRE(ops->check(t) == 0, "%s: checker", ops->name);
    FUZZ_REQUIRE(ops->size(t) == m->size, "%s: size", ops->name);
    FUZZ_REQUIRE(ops->free_size(t) == model_free_bytes(m), "%s: free size %zu, model %zu", ops->name,
                 ops->free_size(t), model_free_bytes(m));
    struct walk w = {m, 0, 0};
    FUZZ_REQUIRE(ops->foreach_free(t, walk_block, &w) == 0 && !w.bad, "%s: free blocks", ops->name);
    for (size_t i = w.next; i < m->size; i++)
        FUZZ_REQUIRE(m->used[i], "%s: a free byte at %zu is in no block", ops->name, i);
}

static void run(const struct gomem__offset_ops *ops, struct fuzz_in in)
{
    static struct model m;
    m.size = 1 + fuzz_below(&in, MAXSIZE);
    memset(m.used, 0, sizeof m.used);
    void *t = ops->create(m.size);
    FUZZ_REQUIRE(t != NULL, "%s: create", ops->name);
    while (fuzz_more(&in)) {
        uint8_t op = fuzz_u8(&in);
        size_t off, n, want;
        switch (op % 6) {
        case 0: /* alloc */
        case 1: {
            n = op & 0x80 ? 1 + fuzz_below(&in, m.size + 2) : 1 + (size_t)(fuzz_u8(&in) % 32);
            int best = ops->policy == GOMEM__FIT_BEST;
            want = model_fit(&m, n, best);
            int r = (op % 6) == 0 ? ops->alloc(t, n, &off) : ops->find(t, n, &off);
            if (want == SIZE_MAX) {
                FUZZ_REQUIRE(r == -ENOMEM, "%s: %zu bytes: %d, model has no room", ops->name, n, r);
            } else {
                FUZZ_REQUIRE(r == 0, "%s: %zu bytes: %d, model has room at %zu", ops->name, n, r, want);
                /* Good fit's choice among the fits depends on the order of
                 * past frees (check_offset models it); any free run will do. */
                FUZZ_REQUIRE(off <= m.size && n <= m.size - off, "%s: %zu bytes at %zu: out of range",
                             ops->name, n, off);
                for (size_t i = off; i < off + n; i++)
                    FUZZ_REQUIRE(!m.used[i], "%s: %zu bytes at %zu: byte %zu is allocated", ops->name, n,
                                 off, i);
                FUZZ_REQUIRE(!best || off == want, "%s: %zu bytes at %zu, best fit is %zu", ops->name, n,
                             off, want);
                if ((op % 6) == 0)
                    memset(m.used + off, 1, n);
            }
            break;
        }
        case 2: { /* free part of an allocated run: whole, head, tail, middle */
            size_t at = fuzz_below(&in, m.size), a = at, b = at;
            if (!m.used[at])
                break;
            while (a > 0 && m.used[a - 1])
                a--;
            while (b < m.size && m.used[b])
                b++;
            size_t lo = a + fuzz_below(&in, b - a);
            size_t len = 1 + fuzz_below(&in, b - lo);
            FUZZ_REQUIRE(ops->release(t, lo, len) == 0, "%s: free [%zu, +%zu) of allocated bytes",
                         ops->name, lo, len);
            memset(m.used + lo, 0, len);
            break;
        }
        case 3: { /* any range at all: refused unless every byte is allocated */
            off = fuzz_below(&in, m.size + 8);
            n = op & 0x80 ? SIZE_MAX - fuzz_below(&in, 4) : fuzz_below(&in, 64);
            int valid = n > 0 && off < m.size && n <= m.size - off;
            for (size_t i = off; valid && i < off + n; i++)
                valid = m.used[i];
            int r = ops->release(t, off, n);
            FUZZ_REQUIRE(r == (valid ? 0 : -EINVAL), "%s: free [%zu, +%zu): %d, valid %d", ops->name, off,
                         n, r, valid);
            if (valid)
                memset(m.used + off, 0, n);
            break;
        }
        case 4: { /* reset, sometimes to 0 (refused) */
            size_t size = fuzz_below(&in, MAXSIZE + 1);
            int r = ops->reset(t, size);
            FUZZ_REQUIRE(r == (size ? 0 : -EINVAL), "%s: reset %zu: %d", ops->name, size, r);
            if (size) {
                m.size = size;
                memset(m.used, 0, sizeof m.used);
            }
            break;
        }
        default: { /* bad arguments change nothing */
            FUZZ_REQUIRE(ops->alloc(t, 0, &off) == -EINVAL, "%s: alloc 0", ops->name);
            FUZZ_REQUIRE(ops->find(t, 0, &off) == -EINVAL, "%s: find 0", ops->name);
            break;
        }
        }
        agree(ops, t, &m);
    }
    ops->destroy(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    run(&gomem__segfit_ops, in);
    run(&gomem__avl_ops, in);
    return 0;
}
