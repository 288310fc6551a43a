/* run.h - what both offset-allocator variants keep of the runs of calls
 * they serve without a search (alloc+free pairs, allocs that take from
 * one block again, frees in address order that grow one block), and the
 * free both put in front of their general one. */
#ifndef GOMEM_OFFSET_RUN_H
#define GOMEM_OFFSET_RUN_H

#include "addrtree.h"
#include "internal.h"

struct gomem__run {
    /* The block the last allocs took from (NULL: none), filed where its
     * length was when first_off was its offset. While taken, the last
     * alloc took [last_off, last_off + last_n) from its start and has not
     * carved it yet (hot starts at last_off; the free bytes count those),
     * and earlier allocs may have carved it: the next call carves and
     * files it, unless it frees exactly that range again (a pair: GoMem's
     * borrow), which only forgets the take, or takes from hot again (see
     * each variant). Not taken, hot is as filed: a pair gave it back. So a
     * pair stores nothing the next one must load back but taken. */
    struct gomem__block *hot;
    /* last_off and last_n apart: stored side by side, gcc may write them
     * in one 16-byte store, which the next call's 8-byte load of last_n
     * waits on (best fit's 100 allocs then 100 frees: 5.6 -> 8.2 ns per
     * pair). */
    size_t last_off;
    unsigned taken; /* 1 only with hot set */
    size_t last_n;
    size_t first_off;
    /* The last free joined the block grown at its end and left it filed
     * as before (its key in leaf grown_leaf, at grown_idx, its old end):
     * the next call files it, unless it frees the range that starts at
     * its end and stops short of the next free block, at grown_next (the
     * allocator's size if none): a run of frees in address order, which
     * only grows it. */
    struct gomem__block *grown;
    struct gomem__at_leaf *grown_leaf;
    unsigned grown_idx;
    size_t grown_next;
};

/* Take 0 < n < b->len bytes from the start of b, as filed (first_off is
 * its offset), into *off, and leave the carve pending. */
static inline void gomem__run_take(struct gomem__run *r, struct gomem__block *b, size_t n, size_t *off)
{
    *off = b->off;
    r->last_off = r->first_off = b->off;
    r->last_n = n;
    r->hot = b;
    r->taken = 1;
}

/* A free that a run decides: a pair's, or one in address order that only
 * grows r->grown (then *free_bytes grows). 1 when done, 0 when it is the
 * general free's. */
static inline int gomem__run_free(struct gomem__run *r, size_t *free_bytes, size_t off, size_t n)
{
    if (GOMEM__LIKELY(r->taken && off == r->last_off && n == r->last_n && off == r->first_off)) {
        r->taken = 0; /* a pair: hot is as it was filed */
        return 1;
    }
    struct gomem__block *c = r->grown;
    if (!r->taken && c && off == c->off + c->len && n - 1 < r->grown_next - off - 1) {
        /* [off, off + n) starts where c ends and ends before the next
         * free block (n >= 1; no overflow: grown_next <= size): it is
         * allocated, and joins c only. */
        r->hot = NULL;
        c->len += n;
        *free_bytes += n;
        return 1;
    }
    return 0;
}

/* Make the pending take, if any: returns hot, carved and out of the run,
 * for the caller to file; NULL when nothing was taken. */
static inline struct gomem__block *gomem__run_carve(struct gomem__run *r, size_t *free_bytes)
{
    struct gomem__block *b = r->hot;
    if (!r->taken)
        return NULL;
    r->taken = 0;
    r->hot = NULL;
    b->off += r->last_n;
    b->len -= r->last_n;
    *free_bytes -= r->last_n;
    return b;
}

/* The free bytes, counted as *free_bytes does, less a pending take. */
static inline size_t gomem__run_free_bytes(const struct gomem__run *r, size_t free_bytes)
{
    return r->taken ? free_bytes - r->last_n : free_bytes;
}

#endif /* GOMEM_OFFSET_RUN_H */
