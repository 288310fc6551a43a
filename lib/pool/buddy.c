/* buddy.c - the power-of-two buddy allocator (GoMem's Buddy), one byte of
 * metadata per tree node (see lib/buddy.h for the encoding). */
#include "buddy.h"

#include <stdio.h>
#include <stdlib.h>

#define MIN_SHIFT 10 /* log2(GOMEM_BUDDY_MIN_BLOCK) */

_Static_assert(GOMEM_BUDDY_MIN_BLOCK == (size_t)1 << MIN_SHIFT, "MIN_SHIFT matches the public block");

static int buddy_is_pow2(size_t x)
{
    return x && !(x & (x - 1));
}

static unsigned buddy_log2(size_t x)
{
    unsigned k = 0;
    while (((size_t)1 << k) < x)
        k++;
    return k; /* ceil(log2(x)) */
}

static unsigned char buddy_max(unsigned char a, unsigned char b)
{
    return a > b ? a : b;
}

/* First index of the nodes of order o (depth b->order - o). */
static size_t buddy_first(const gomem_buddy *b, unsigned o)
{
    return ((size_t)1 << (b->order - o)) - 1;
}

/* Recompute the ancestors of node i (of order o) after it changed. */
static void buddy_update_up(gomem_buddy *b, size_t i, unsigned o)
{
    while (i) {
        i = (i - 1) / 2;
        o++;
        unsigned char l = b->tree[2 * i + 1], r = b->tree[2 * i + 2];
        b->tree[i] = (l == o && r == o) ? (unsigned char)(o + 1) : buddy_max(l, r);
    }
}

#ifdef GOMEM__DEBUG
static int buddy_check_locked(const gomem_buddy *b);

/* Debug builds, after each change of node i (of order o), under the lock:
 * the whole tree when it is small (up to 16 MiB: 16 Ki leaves), else the
 * path from i to the root, which is all a change rewrites (a pooled buddy
 * has half a million nodes). 0, or -EFAULT with a message. */
static int buddy_debug_check(const gomem_buddy *b, size_t i, unsigned o)
{
    if (b->size <= ((size_t)16 << 20))
        return buddy_check_locked(b);
    if (b->used > b->size) {
        fprintf(stderr, "gomem__buddy_check: %zu bytes used of %zu\n", b->used, b->size);
        return -EFAULT;
    }
    while (i) {
        i = (i - 1) / 2;
        o++;
        unsigned char l = b->tree[2 * i + 1], r = b->tree[2 * i + 2];
        if (b->tree[i] != ((l == o && r == o) ? (unsigned char)(o + 1) : buddy_max(l, r))) {
            fprintf(stderr, "gomem__buddy_check: node %zu order %u: value %u disagrees with its halves\n",
                    i, o, b->tree[i]);
            return -EFAULT;
        }
    }
    return 0;
}
#endif

GOMEM_API gomem_buddy *gomem_buddy_new(size_t size)
{
    if (size < GOMEM_BUDDY_MIN_BLOCK || !buddy_is_pow2(size)) {
        errno = EINVAL;
        return NULL;
    }
    size_t leaves = size >> MIN_SHIFT;
    gomem_buddy *b = malloc(sizeof *b + 2 * leaves - 1);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    gomem__lock_init(&b->lock);
    b->size = size;
    b->used = 0;
    b->order = buddy_log2(leaves);
    b->pooled = 0;
    b->held = 0;
    b->base = NULL;
    b->next = NULL;
    for (unsigned o = 0; o <= b->order; o++)
        for (size_t i = buddy_first(b, o), n = (size_t)1 << (b->order - o); n; n--, i++)
            b->tree[i] = (unsigned char)(o + 1);
    return b;
}

GOMEM_API int gomem_buddy_alloc(gomem_buddy *b, size_t n, size_t *off)
{
    if (!b || !off || n == 0 || n > b->size)
        return -EINVAL;
    unsigned k = buddy_log2((n + GOMEM_BUDDY_MIN_BLOCK - 1) >> MIN_SHIFT);
    unsigned char need = (unsigned char)(k + 1);
    gomem__lock(&b->lock);
    if (b->tree[0] < need) {
        gomem__unlock(&b->lock);
        return -ENOMEM;
    }
    size_t i = 0;
    for (unsigned o = b->order; o > k; o--)
        i = b->tree[2 * i + 1] >= need ? 2 * i + 1 : 2 * i + 2;
    b->tree[i] = 0;
    buddy_update_up(b, i, k);
    b->used += GOMEM_BUDDY_MIN_BLOCK << k;
    *off = (i - buddy_first(b, k)) << (k + MIN_SHIFT);
    GOMEM__DEBUG_CHECK(buddy_debug_check(b, i, k));
    gomem__unlock(&b->lock);
    return 0;
}

GOMEM_API int gomem_buddy_free(gomem_buddy *b, size_t off)
{
    if (!b || off >= b->size || (off & (GOMEM_BUDDY_MIN_BLOCK - 1)))
        return -EINVAL;
    gomem__lock(&b->lock);
    /* Every node between a leaf and the block that holds it reads wholly
     * free, so the first 0 above the leaf is that block; a leaf in free
     * space finds no 0 at all. */
    size_t i = buddy_first(b, 0) + (off >> MIN_SHIFT);
    unsigned o = 0;
    while (b->tree[i] != 0) {
        if (i == 0) {
            gomem__unlock(&b->lock);
            return -EINVAL;
        }
        i = (i - 1) / 2;
        o++;
    }
    if (((i - buddy_first(b, o)) << (o + MIN_SHIFT)) != off) {
        gomem__unlock(&b->lock); /* inside a block, not at its start */
        return -EINVAL;
    }
    b->tree[i] = (unsigned char)(o + 1);
    buddy_update_up(b, i, o);
    b->used -= GOMEM_BUDDY_MIN_BLOCK << o;
    GOMEM__DEBUG_CHECK(buddy_debug_check(b, i, o));
    gomem__unlock(&b->lock);
    return 0;
}

GOMEM_API void gomem_buddy_destroy(gomem_buddy *b)
{
    if (!b || b->pooled)
        return; /* a pooled buddy lives as long as the process */
    gomem__lock_fini(&b->lock);
    free(b);
}

GOMEM_API void *gomem_buddy_base(const gomem_buddy *b)
{
    return b ? b->base : NULL;
}

GOMEM_API size_t gomem_buddy_size(const gomem_buddy *b)
{
    return b ? b->size : 0;
}

GOMEM_API size_t gomem_buddy_free_size(gomem_buddy *b)
{
    if (!b)
        return 0;
    gomem__lock(&b->lock);
    size_t n = b->size - b->used;
    gomem__unlock(&b->lock);
    return n;
}

/* ---------------------------------------------------------------- check */
/* Compiled into the white-box test library only (-DGOMEM__WHITEBOX). */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "gomem__buddy_check: node %zu order %u: ", i, o);                      \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            return -EFAULT;                                                                        \
        }                                                                                          \
    } while (0)

/* covered: the node lies under a wholly free or allocated node. */
static int buddy_check_node(const gomem_buddy *b, size_t i, unsigned o, int covered, size_t *used)
{
    unsigned v = b->tree[i];
    CHECK(v <= o + 1, "value %u above the node's order", v);
    if (covered)
        CHECK(v == o + 1, "value %u under a whole block, not wholly free", v);
    int r = 0;
    if (o == 0) {
        if (v == 0 && !covered)
            *used += GOMEM_BUDDY_MIN_BLOCK;
        return 0;
    }
    unsigned l = b->tree[2 * i + 1], rr = b->tree[2 * i + 2];
    if (!covered) {
        if (v == o + 1) {
            covered = 1; /* wholly free */
        } else if (v == 0 && l == o && rr == o) {
            covered = 1; /* an allocated block */
            *used += GOMEM_BUDDY_MIN_BLOCK << o;
        } else {
            CHECK(!(l == o && rr == o), "both halves free but not merged (value %u)", v);
            CHECK(v == (l > rr ? l : rr), "value %u is not the longest of %u and %u", v, l, rr);
        }
    }
    if ((r = buddy_check_node(b, 2 * i + 1, o - 1, covered, used)) != 0)
        return r;
    return buddy_check_node(b, 2 * i + 2, o - 1, covered, used);
}

static int buddy_check_locked(const gomem_buddy *b)
{
    size_t used = 0, i = 0;
    unsigned o = b->order;
    int r = 0;
    if (b->size != GOMEM_BUDDY_MIN_BLOCK << b->order)
        r = -EFAULT, fprintf(stderr, "gomem__buddy_check: size %zu is not 1 KiB << %u\n", b->size, o);
    if (!r)
        r = buddy_check_node(b, 0, b->order, 0, &used);
    if (!r && used != b->used) {
        fprintf(stderr, "gomem__buddy_check: blocks hold %zu bytes, counter says %zu\n", used, b->used);
        r = -EFAULT;
    }
    (void)i;
    return r;
}

int gomem__buddy_check(gomem_buddy *b)
{
    if (!b)
        return -EINVAL;
    gomem__lock(&b->lock);
    int r = buddy_check_locked(b);
    gomem__unlock(&b->lock);
    return r;
}
#endif /* GOMEM__WHITEBOX */
