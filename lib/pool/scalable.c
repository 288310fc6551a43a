/* scalable.c - the scalable allocator (GoMem's ScalableMemoryAllocator): a
 * growing set of arenas, each new one twice the last up to 4 MiB, behind
 * one lock, with size-class spans and a private bump chunk per thread in
 * front of it.
 *
 * Requests up to CMAX (4 KiB) come from the thread's chunk until its
 * frees stray: when STRAY of them over one chunk went to the tree (out of
 * order beyond what it holds back, or of older chunks), its small
 * requests come from its spans from the next refill on ("spans" below):
 * runs carved from an arena's offset allocator, cut into blocks of one
 * class size, whose len[] says exactly which bytes are handed out. Once
 * SPANS_IDLE of its frees have left a span wholly free or given back the
 * block its last span malloc took, with none filling up meanwhile but by
 * such a pair (pairs, batches freed whole: the chunk's own work), they
 * come from the chunk again. The owner's malloc pops a free block, the
 * owner's free of a whole block pushes it back, with no lock; anything
 * else that meets a span takes the lock, refuses what meets free bytes
 * and breaks the live blocks it meets (their slack goes to the tree),
 * then goes on as below. Larger requests (and recyclable memory, read and
 * borrow) use the bump chunk.
 *
 * Each thread that calls an allocator gets a thread cache (struct
 * scalable_tc): a bump chunk, a run carved from one arena's offset
 * allocator (so, to it, allocated) whose head [hstart, cur) has been handed
 * out and whose tail [cur, end) is free. malloc takes from the tail; a free
 * that ends at cur gives the bytes back to the tail. Both run in the
 * calling thread with no lock and no atomic read-modify-write: only the
 * owner moves cur, and it publishes cur and its counters with plain stores
 * under a per-thread sequence number.
 *
 * A free inside [low, cur) of the caller's own chunk that does not end at
 * cur is held back by the owner, lock-free too, as one of up to PEND
 * coalesced pending blocks; a free that reaches cur takes the pending
 * block below it along, so a batch freed in FIFO order ends as one reset
 * of cur. A full set gives its lowest block to the tree under the lock.
 *
 * Every other free takes the lock and goes to the owning arena's offset
 * allocator, found by binary search over the arenas sorted by address. It
 * is refused if it meets the free tail or a pending block of any thread's
 * chunk (read under that thread's sequence number). "low" keeps the tree
 * and the chunk in step: no byte of [low, cur) was given to the offset
 * allocator, so a free inside [low, cur) is checked against the pending
 * blocks alone; a locked free inside a chunk raises that chunk's low past
 * it, which is how a double free of bytes freed by another thread is
 * still caught on the owner's path.
 *
 * An arena's used counts its bytes handed out by the tree plus whole
 * chunks carved from it (a chunk's tail and pending blocks go back when
 * the chunk is retired: refill, trim, recycle, thread exit, destroy), so
 * it can reach 0 while a thread still holds a full chunk there; such an
 * arena is kept until the chunk is retired. A new chunk is at least
 * MIN_CHUNK while an arena can be made, so a fragmented allocator does
 * not refill on every malloc.
 *
 * Thread caches live as long as their allocator (a list that only grows,
 * so gomem_scalable_stats walks it without the lock); a thread that exits
 * retires its chunk and leaves its cache to the next thread. Each thread
 * keeps a list of the caches it holds (scalable_node) for its exit; both
 * lists change under one global mutex, taken only when a thread first
 * meets an allocator, at thread exit and in destroy.
 *
 * Requests above MAX_ARENA skip the chunks: they are carved from the
 * trees (a dedicated arena of their size if none fits) under the lock. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "annotate.h"
#include "lock.h"
#include "scalable.h"
#include "buffer/buffer.h"

#define MAX_ARENA ((size_t)4 << 20) /* GoMem's MaxBlockSize */
#define CHUNK ((size_t)256 << 10)   /* bump chunk carved from a large arena */
#define MIN_CHUNK ((size_t)32 << 10) /* smallest chunk worth carving while an arena can be made */
#define PEND 16                     /* out-of-order frees a thread keeps before the tree */

#if defined(__GNUC__)
#define SCALABLE_TLS __thread __attribute__((tls_model("initial-exec")))
#define SCALABLE_INLINE inline __attribute__((always_inline))
#else
#define SCALABLE_TLS _Thread_local
#define SCALABLE_INLINE inline
#endif

struct scalable_node;
struct scalable_tc;

/* ---------------------------------------------------------------- classes */

/* Requests up to CMAX bytes come from size-class spans: SPAN_BLOCKS blocks
 * of one class size (but 4 to 256 KiB) carved from an arena. Fewer, larger
 * spans than 32-block ones keep a random workload's spans and their index
 * warmer, and a malloc empties (a free refills) a span less often: 10,000
 * live blocks, 33 -> 26 ns per free+malloc. A block is free
 * (LEN_FREE | the next free block's index: the span's free list runs
 * through len[]), live (its first len bytes handed out, the rest
 * "slack", handed out to nobody) or broken (given to the arena's tree:
 * every later free of its bytes is the tree's business). len[] says
 * which, exactly: that is what validates a free against the span. The
 * owner's malloc and free touch two cache lines of it: the span's first
 * and the one that holds the block's len. */
#define CMAX 4096
#define NCLS 28
#define SPAN_BLOCKS 128
#define SPAN_MIN ((size_t)4 << 10) /* a span: SPAN_BLOCKS blocks, but 4 to 256 KiB */
#define SPAN_MAX ((size_t)256 << 10)
#define WIN_SHIFT 12 /* the index's windows: SPAN_MIN, so one meets at most two spans */
#define STRAY 64 /* frees to the tree over one chunk that turn the thread to spans */
#define KEEP_SPANS 4 /* a wholly free span goes back beside this many others of its class */
#define SPANS_IDLE 1024 /* frees that empty a span or give back the last malloc's block, none full between: back to the chunk */
#define LEN_FREE 0x8000u /* | the next free block's index (nblocks: none) */
#define LEN_BROKEN 0xFFFFu

/* A block's len says it is free (not live, not broken). */
static inline int len_free(unsigned l)
{
    return l - LEN_FREE < LEN_BROKEN - LEN_FREE;
}

/* The bytes a block's len says are handed out: 0 unless live. */
static inline unsigned len_live(unsigned l)
{
    return l < LEN_FREE ? l : 0;
}

/* A block's len l says it is live with exactly n bytes handed out (a
 * free or broken block's len is more than CMAX, so no n matches it). */
static inline int len_is(unsigned l, size_t n)
{
    return l == n && l - 1u < CMAX;
}

/* 16..128 by 16, then four steps per power of two up to 4096. */
static const unsigned short class_size[NCLS] = {16,   32,   48,   64,   80,   96,   112,  128,  160,  192,
                                                224,  256,  320,  384,  448,  512,  640,  768,  896,  1024,
                                                1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096};

/* The class of each 16 bytes of request: every class size is a multiple
 * of 16, so the requests of ceil(n / 16) == k all have the class
 * class_of16[k], the first that holds 16 * k bytes (gomem__scalable_check
 * verifies it). A load, where computing it took a branch and a bit scan. */
static const unsigned char class_of16[CMAX / 16 + 1] = {
    0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  8,  9,  9,  10, 10, 11, 11, 12, 12, 12, 12, 13, 13, 13, 13, 14,
    14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 16, 16, 16, 16, 16, 17, 17, 17, 17, 17, 17, 17, 17, 18, 18, 18,
    18, 18, 18, 18, 18, 19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24, 24, 24, 24, 24, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
    25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26,
    26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 26, 27, 27, 27, 27, 27, 27, 27, 27, 27,
    27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27};

/* The class of a request of 1 <= n <= CMAX bytes. */
static inline unsigned size_class(size_t n)
{
    return class_of16[(n + 15) >> 4];
}

struct scalable_span {
    /* What the owner's malloc and free read: the first cache line. */
    unsigned char *base;
    uintptr_t bytes;                   /* nblocks * size */
    uint32_t size, inv;                /* class size; ceil(2^32 / size): exact division of offsets below 1 MiB */
    uint32_t nblocks, nfree;           /* nfree and head: the owner's */
    uint32_t head;                     /* the first free block; nblocks if none */
    uint32_t cls;
    volatile AO_t nbroken;             /* written under the lock */
    struct scalable_span *prev, *next; /* the class list, while nfree > 0 (owner) */
    gomem_arena *a;
    struct scalable_tc *owner;
    struct scalable_span *all;         /* the thread's list of spans (under the lock) */
    struct scalable_span **allp;       /* the pointer to this span in that list */
    volatile unsigned short len[];     /* per block: LEN_FREE | next, bytes handed out, or LEN_BROKEN */
};

/* An index slot: a span that meets a window. */
struct span_slot {
    uintptr_t key; /* window + 1; 0: empty */
    struct scalable_span *sp;
};

/* One thread's state in one allocator. */
struct scalable_tc {
    /* Owner-written without the lock, read by others: atomics. */
    volatile AO_t seq;            /* odd while the owner updates the fields below */
    volatile AO_t cur;            /* next byte to hand out */
    volatile AO_t mbytes, fbytes; /* malloc and free bytes counted on the owner's path */
    /* Written under the lock by any thread, read by the owner without it. */
    volatile AO_t low;
    /* Bytes of [hstart, cur) the owner got back out of order, not yet
     * given to the tree: npend disjoint, non-touching [start, end) pairs,
     * in no order. Owner-written under seq; others read them under the
     * lock to refuse a free that meets them. */
    volatile AO_t npend;
    volatile AO_t pend[PEND][2];
    /* Written by the owner under the lock; read by others under the lock. */
    unsigned char *hstart, *end;
    gomem_arena *hot; /* the chunk's arena, or NULL */
    /* Under the global mutex. */
    struct scalable_node *node; /* the owner's node, or NULL: free for a new thread */
    struct scalable_tc *next;   /* the allocator's list; set before publication */
    /* Size-class spans (see "spans" below). The class lists are the
     * owner's alone; the span list and the index change only under the
     * lock, by the owner, so others read them under the lock. */
    struct scalable_span *cls[NCLS];   /* spans with free blocks, per class */
    struct scalable_span *clast[NCLS]; /* the last of each list (when cls[c] is not NULL) */
    uint32_t ncls[NCLS];               /* the spans on each list */
    struct scalable_span *hint;        /* the span the owner last freed into, or NULL */
    size_t cmax;                       /* CMAX once the thread uses spans, else 0 (the owner's) */
    unsigned char *last;               /* the block its last span malloc handed out (compared, never dereferenced) */
    size_t stray;                      /* the owner's frees the tree took since the chunk's refill */
    size_t idle;                       /* on spans (else 0): its frees that emptied a span or gave back last, none full since */
    struct scalable_span *spans;       /* every span of the thread */
    size_t ndead;                      /* spans whose last block broke since span_new looked (under the lock) */
    struct span_slot *slots;           /* index: 4 KiB window -> spans */
    size_t nslots, nused, nspans;
} __attribute__((aligned(64))); /* whole cache lines (allocated so, too) */

/* A thread's link to one cache (the thread's own list). */
struct scalable_node {
    volatile AO_t s; /* the allocator; 0 once it is destroyed (by any thread) */
    struct scalable_tc *tc;
    struct scalable_node *next;
};

struct gomem_scalable {
    struct gomem__lock lock;
    uint64_t id;             /* unique for the process: tells a reused address apart */
    gomem_arena **arenas;    /* sorted by base address */
    size_t narenas, cap;
    size_t first_size;       /* size of the first arena */
    size_t last_size;        /* size of the last arena made by growth */
    struct scalable_tc *tcs; /* every thread cache (published with a release store) */
    /* Counters of the locked paths (sequence lock: odd while being written). */
    volatile AO_t seq, malloc_bytes, free_bytes, capacity, count;
};

/* ---------------------------------------------------------------- counters */

/* Every change of the shared state happens between scalable_enter and
 * scalable_leave: under the lock, with the sequence odd. */
static inline void scalable_enter(gomem_scalable *s)
{
    gomem__lock(&s->lock);
    AO_store(&s->seq, AO_load(&s->seq) + 1);
    AO_nop_write();
}

static inline void scalable_leave(gomem_scalable *s)
{
    AO_store_release(&s->seq, AO_load(&s->seq) + 1);
    gomem__unlock(&s->lock);
}

static inline void scalable_count(gomem_scalable *s, size_t dmalloc, size_t dfree)
{
    AO_store(&s->malloc_bytes, AO_load(&s->malloc_bytes) + dmalloc);
    AO_store(&s->free_bytes, AO_load(&s->free_bytes) + dfree);
}

static void scalable_resize(gomem_scalable *s, size_t capacity, size_t count)
{
    AO_store(&s->capacity, capacity);
    AO_store(&s->count, count);
}

/* The owner's side of its cache's sequence lock: plain stores (the only
 * writer), ordered for the readers by the write barriers. tc_begin makes
 * the sequence odd and returns it as it was. */
static inline AO_t tc_begin(struct scalable_tc *tc)
{
    AO_t q = AO_load(&tc->seq);
    AO_store(&tc->seq, q + 1);
    AO_nop_write();
    return q;
}

static inline void tc_end(struct scalable_tc *tc)
{
    AO_store_release(&tc->seq, AO_load(&tc->seq) + 1);
}

/* tc_end for a change that tc_begin began at q and that gave back n
 * bytes: counted in fbytes before the sequence is even again. */
static inline void tc_end_freed(struct scalable_tc *tc, AO_t q, size_t n)
{
    AO_store(&tc->fbytes, AO_load(&tc->fbytes) + n);
    AO_store_release(&tc->seq, q + 2);
}

static inline unsigned char *tc_cur(struct scalable_tc *tc)
{
    return (unsigned char *)AO_load(&tc->cur);
}

/* The owner's bump: n bytes at p = tc_cur(tc) handed out, counted. No
 * sequence bump: a malloc changes one word that readers pair with others
 * (mbytes with fbytes, cur with the pending blocks), and whatever order
 * they read in, mallocs alone between two reads leave a state that
 * existed. Frees, which change fbytes or the pending blocks, bump it. */
static inline void tc_took(struct scalable_tc *tc, unsigned char *p, size_t n)
{
    AO_store(&tc->cur, (AO_t)(p + n));
    AO_store(&tc->mbytes, AO_load(&tc->mbytes) + n);
}

/* Point the cache at a chunk (NULL for none). Owner, or a caller that
 * no thread races with; under the lock. */
static void tc_set(struct scalable_tc *tc, gomem_arena *a, unsigned char *start, unsigned char *end)
{
    tc_begin(tc);
    tc->hot = a;
    tc->hstart = start;
    tc->end = end;
    AO_store(&tc->low, (AO_t)start);
    AO_store(&tc->cur, (AO_t)start);
    AO_store(&tc->npend, 0);
    tc_end(tc);
}

/* Drop pending block i (owner, inside tc_begin/tc_end). */
static inline void tc_unpend(struct scalable_tc *tc, size_t i)
{
    size_t last = (size_t)AO_load(&tc->npend) - 1;
    AO_store(&tc->pend[i][0], AO_load(&tc->pend[last][0]));
    AO_store(&tc->pend[i][1], AO_load(&tc->pend[last][1]));
    AO_store(&tc->npend, last);
}

/* A consistent copy of another thread's cur and pending blocks (the lock
 * held, so only the owner's lock-free calls can move them): the count. */
static size_t tc_snapshot(struct scalable_tc *tc, AO_t *cur, AO_t pend[PEND][2])
{
    for (;;) {
        AO_t q = AO_load_acquire(&tc->seq);
        size_t np = (size_t)AO_load_acquire(&tc->npend);
        *cur = AO_load_acquire(&tc->cur);
        for (size_t i = 0; i < np && i < PEND; i++) {
            pend[i][0] = AO_load_acquire(&tc->pend[i][0]);
            pend[i][1] = AO_load_acquire(&tc->pend[i][1]);
        }
        AO_nop_read();
        if (!(q & 1) && AO_load(&tc->seq) == q && np <= PEND)
            return np;
        sched_yield();
    }
}

/* ---------------------------------------------------------------- arenas */

/* The arena that owns p, or NULL. O(log arenas). */
static gomem_arena *scalable_owner(const gomem_scalable *s, const void *p)
{
    size_t lo = 0, hi = s->narenas;
    uintptr_t x = (uintptr_t)p;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        gomem_arena *a = s->arenas[mid];
        if (x < (uintptr_t)a->base)
            hi = mid;
        else if (x - (uintptr_t)a->base >= a->size)
            lo = mid + 1;
        else
            return a;
    }
    return NULL;
}

/* Where an arena at base goes in the sorted array. */
static size_t scalable_slot(const gomem_scalable *s, const unsigned char *base)
{
    size_t lo = 0, hi = s->narenas;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)s->arenas[mid]->base < (uintptr_t)base)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Make a new arena of size bytes and index it: the arena, or NULL with
 * nothing changed. */
static gomem_arena *scalable_add(gomem_scalable *s, size_t size)
{
    if (s->narenas == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        gomem_arena **v = realloc(s->arenas, cap * sizeof *v);
        if (!v)
            return NULL;
        s->arenas = v;
        s->cap = cap;
    }
    gomem_arena *a = gomem_arena_new(size);
    if (!a)
        return NULL;
    size_t i = scalable_slot(s, a->base);
    memmove(s->arenas + i + 1, s->arenas + i, (s->narenas - i) * sizeof *s->arenas);
    s->arenas[i] = a;
    s->narenas++;
    scalable_resize(s, (size_t)AO_load(&s->capacity) + size, s->narenas);
    return a;
}

/* Give a wholly free arena (no chunk in it) back to its pool or the system. */
static void scalable_remove(gomem_scalable *s, gomem_arena *a)
{
    size_t i = scalable_slot(s, a->base);
    memmove(s->arenas + i, s->arenas + i + 1, (s->narenas - i - 1) * sizeof *s->arenas);
    s->narenas--;
    scalable_resize(s, (size_t)AO_load(&s->capacity) - a->size, s->narenas);
    gomem_arena_destroy(a);
}

/* 1 if a thread's chunk or span lies in a. Its used can reach 0 while
 * one does: a full chunk whose bytes all went back through the tree, a
 * span whose blocks all broke. */
static int scalable_held(const gomem_scalable *s, const gomem_arena *a)
{
    for (const struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        if (tc->hot == a)
            return 1;
        for (const struct scalable_span *sp = tc->spans; sp; sp = sp->all)
            if (sp->a == a)
                return 1; /* its blocks all broken, not yet forgotten */
    }
    return 0;
}

/* 1 if a may be released now: wholly free and no chunk in it. */
static int scalable_unused(const gomem_scalable *s, const gomem_arena *a)
{
    return a->used == 0 && !scalable_held(s, a);
}

/* The arena a has just become wholly free: it goes, unless it is the only
 * one (an allocator keeps at least one arena; trim releases that too) or
 * a thread's chunk is in it (it goes when the chunk is retired). */
static void scalable_idle(gomem_scalable *s, gomem_arena *a)
{
    if (s->narenas > 1 && !scalable_held(s, a))
        scalable_remove(s, a);
}

/* Release every wholly free arena but one (the allocator keeps one). */
static void scalable_sweep(gomem_scalable *s)
{
    for (size_t i = s->narenas; i-- > 0 && s->narenas > 1;)
        if (scalable_unused(s, s->arenas[i]))
            scalable_remove(s, s->arenas[i]);
}

/* ---------------------------------------------------------------- chunks */

/* Give tc's pending blocks and the unused tail of its chunk back to the
 * arena's tree, one by one, so that a failure (-ENOMEM: no tree node)
 * leaves a consistent chunk. Under the lock, by the owner or a caller no
 * thread races with. */
static int scalable_drain(struct scalable_tc *tc)
{
    gomem_arena *a = tc->hot;
    while (AO_load(&tc->npend)) {
        size_t i = (size_t)AO_load(&tc->npend) - 1;
        AO_t b = AO_load(&tc->pend[i][0]), e = AO_load(&tc->pend[i][1]);
        int r = gomem_allocator_free(a->alloc, (size_t)(b - (AO_t)a->base), (size_t)(e - b));
        if (r)
            return r;
        a->used -= (size_t)(e - b);
        tc_begin(tc);
        AO_store(&tc->npend, i);
        tc_end(tc);
    }
    unsigned char *cur = tc_cur(tc);
    if (cur != tc->end) {
        int r = gomem_allocator_free(a->alloc, (size_t)(cur - a->base), (size_t)(tc->end - cur));
        if (r)
            return r;
        a->used -= (size_t)(tc->end - cur);
        tc_begin(tc);
        AO_store(&tc->cur, (AO_t)tc->end); /* the tail is the tree's now */
        tc_end(tc);
    }
    return 0;
}

/* Give the unused tail of tc's chunk back to its arena and drop the chunk.
 * 0, or -ENOMEM (a tree node could not be allocated; nothing changed).
 * Under the lock, by the owner or a caller no thread races with. */
static int scalable_retire(gomem_scalable *s, struct scalable_tc *tc)
{
    gomem_arena *a = tc->hot;
    if (!a)
        return 0;
    int r = scalable_drain(tc);
    if (r)
        return r;
    tc_set(tc, NULL, NULL, NULL);
    if (a->used == 0)
        scalable_idle(s, a);
    return 0;
}
/* Carve a chunk of at least n bytes from a into tc (whose chunk is
 * retired): 1 on success, 0 with nothing changed. */
static int scalable_carve(struct scalable_tc *tc, gomem_arena *a, size_t n, size_t least)
{
    size_t want = a->size < CHUNK ? a->size : CHUNK, off;
    if (gomem_allocator_free_size(a->alloc) < least)
        return 0;
    /* The largest run up to CHUNK, halving down to least. */
    for (;;) {
        if (want < least)
            want = least;
        if (gomem_allocator_alloc(a->alloc, want, &off) == 0)
            break;
        if (want == least)
            return 0;
        want /= 2;
    }
    (void)n;
    a->used += want;
    tc_set(tc, a, a->base + off, a->base + off + want);
    return 1;
}

/* The smallest chunk worth carving from a for a request of n: a run much
 * smaller than a chunk would send the next mallocs back to refill, so
 * only when no arena has a better one and none can be made (any). */
static size_t scalable_least(const gomem_arena *a, size_t n, int any)
{
    size_t m = a->size < MIN_CHUNK ? a->size : MIN_CHUNK;
    return any || m < n ? n : m;
}

/* The size of the next arena for a request of n bytes (GoMem: double the
 * last, up to 4 MiB, whatever the first was; above that, an arena of
 * exactly n). */
static size_t scalable_grow_size(const gomem_scalable *s, size_t n, int *dedicated)
{
    size_t size = s->last_size < MAX_ARENA ? s->last_size : MAX_ARENA;
    *dedicated = 0;
    do {
        if (size < MAX_ARENA)
            size = size * 2 > MAX_ARENA ? MAX_ARENA : size * 2;
    } while (size < n && size < MAX_ARENA);
    if (size < n) {
        *dedicated = 1;
        return n;
    }
    return size;
}

/* A new arena for a request of n bytes, indexed; NULL with nothing
 * changed. */
static gomem_arena *scalable_grow(gomem_scalable *s, size_t n)
{
    int dedicated;
    size_t size = scalable_grow_size(s, n, &dedicated);
    gomem_arena *a = scalable_add(s, size);
    if (a && !dedicated)
        s->last_size = size;
    return a;
}

/* Give tc a chunk with at least n free bytes: 0, or -ENOMEM with the
 * allocator as usable as before. Under the lock, by the owner. */
static int scalable_refill(gomem_scalable *s, struct scalable_tc *tc, size_t n)
{
    for (int any = 0; any < 2; any++) {
        gomem_arena *prev = tc->hot;
        /* The chunk's own arena first: its tail may join a free neighbour. */
        if (prev && gomem_allocator_free_size(prev->alloc) + (size_t)(tc->end - tc_cur(tc)) >=
                        scalable_least(prev, n, any)) {
            if (scalable_drain(tc) != 0)
                return -ENOMEM;
            tc_set(tc, NULL, NULL, NULL);
            if (scalable_carve(tc, prev, n, scalable_least(prev, n, any)))
                return 0;
            if (prev->used == 0)
                scalable_idle(s, prev);
            prev = NULL;
        }
        /* Find room elsewhere, or a new arena, before letting go of the
         * old chunk, so a failure leaves everything as it was. */
        gomem_arena *a = NULL;
        for (size_t i = s->narenas; i-- > 0;) {
            gomem_arena *c = s->arenas[i];
            size_t least = scalable_least(c, n, any);
            if (c != prev && gomem_allocator_free_size(c->alloc) >= least && gomem_arena_find(c, least)) {
                a = c;
                break;
            }
        }
        int fresh = 0;
        if (!a && !any) {
            a = scalable_grow(s, n);
            fresh = a != NULL;
        }
        if (!a)
            continue; /* no memory for an arena: take a smaller run */
        int r = scalable_retire(s, tc);
        if (r == 0 && scalable_carve(tc, a, n, scalable_least(a, n, any))) {
            if (fresh)
                scalable_sweep(s); /* an arena never used, or left by trim */
            return 0;
        }
        /* Only when an offset allocator could not get memory for a node. */
        if (fresh && a->used == 0)
            scalable_remove(s, a);
        return r ? r : -ENOMEM;
    }
    return -ENOMEM;
}

/* ---------------------------------------------------------------- spans */

/* A thread's spans are found from an address through its index, an open
 * hash of (4 KiB window, span) pairs, one for every window a span meets:
 * a multimap, as a window may meet several spans (a span's broken blocks
 * can go into a new one). The owner reads it without the lock; it
 * changes only under the lock, by the owner, so other threads read it
 * under the lock. */
static inline size_t slot_home(uintptr_t key, size_t mask)
{
    return (size_t)(((uint64_t)key * 0x9E3779B97F4A7C15ull) >> 40) & mask;
}

static inline uintptr_t span_bytes(const struct scalable_span *sp)
{
    return sp->bytes;
}

/* The block of sp that holds x (x inside sp). */
static inline uint32_t span_block(const struct scalable_span *sp, uintptr_t x)
{
    return (uint32_t)(((uint64_t)(x - (uintptr_t)sp->base) * sp->inv) >> 32);
}

/* The span of slot, when it is for window key and holds byte x in a block
 * that is not broken; else NULL. The block's index in *blk, its len in
 * *len. */
static SCALABLE_INLINE struct scalable_span *slot_match(const struct span_slot *slot, uintptr_t key, uintptr_t x,
                                                        uint32_t *blk, unsigned *len)
{
    struct scalable_span *sp = slot->sp;
    if (slot->key == key && x - (uintptr_t)sp->base < span_bytes(sp) &&
        (*len = AO_short_load(&sp->len[*blk = span_block(sp, x)])) != LEN_BROKEN)
        return sp;
    return NULL;
}

/* tc's span holding byte x in a block that is not broken, or NULL; the
 * block's index in *blk, its len in *len. */
static SCALABLE_INLINE struct scalable_span *span_find_len(const struct scalable_tc *tc, uintptr_t x, uint32_t *blk,
                                                           unsigned *len)
{
    if (!tc->nslots)
        return NULL;
    uintptr_t key = (x >> WIN_SHIFT) + 1;
    size_t mask = tc->nslots - 1;
    for (size_t i = slot_home(key, mask); tc->slots[i].key; i = (i + 1) & mask) {
        struct scalable_span *sp = slot_match(&tc->slots[i], key, x, blk, len);
        if (sp)
            return sp;
    }
    return NULL;
}

/* The same from the slot x's window hashes to alone (the index is at most
 * a quarter full: nearly always where a span of x is), else NULL. */
static SCALABLE_INLINE struct scalable_span *span_find_home(const struct scalable_tc *tc, uintptr_t x, uint32_t *blk,
                                                            unsigned *len)
{
    size_t ns = tc->nslots;
    if (GOMEM__UNLIKELY(ns == 0))
        return NULL;
    uintptr_t key = (x >> WIN_SHIFT) + 1;
    return slot_match(&tc->slots[slot_home(key, ns - 1)], key, x, blk, len);
}

static SCALABLE_INLINE struct scalable_span *span_find(const struct scalable_tc *tc, uintptr_t x, uint32_t *blk)
{
    unsigned len;
    return span_find_len(tc, x, blk, &len);
}

/* Room in the index for a span of bytes bytes: 0 or -ENOMEM. */
static int span_index_reserve(struct scalable_tc *tc, size_t bytes)
{
    size_t need = tc->nused + (bytes >> WIN_SHIFT) + 2;
    if (need * 4 <= tc->nslots) /* at most a quarter full: short probe runs */
        return 0;
    size_t n = tc->nslots ? 2 * tc->nslots : 64;
    while (need * 4 > n)
        n *= 2;
    struct span_slot *t = calloc(n, sizeof *t);
    if (!t)
        return -ENOMEM;
    for (size_t i = 0; i < tc->nslots; i++) {
        if (!tc->slots[i].key)
            continue;
        size_t j = slot_home(tc->slots[i].key, n - 1);
        while (t[j].key)
            j = (j + 1) & (n - 1);
        t[j] = tc->slots[i];
    }
    free(tc->slots);
    tc->slots = t;
    tc->nslots = n;
    return 0;
}

static void span_index_add(struct scalable_tc *tc, struct scalable_span *sp)
{
    uintptr_t w0 = (uintptr_t)sp->base >> WIN_SHIFT, w1 = ((uintptr_t)sp->base + span_bytes(sp) - 1) >> WIN_SHIFT;
    size_t mask = tc->nslots - 1;
    for (uintptr_t w = w0; w <= w1; w++) {
        size_t i = slot_home(w + 1, mask);
        while (tc->slots[i].key)
            i = (i + 1) & mask;
        tc->slots[i] = (struct span_slot){w + 1, sp};
        tc->nused++;
    }
}

/* Empty slot i, moving later slots of its probe run back (no tombstones). */
static void span_slot_clear(struct scalable_tc *tc, size_t i)
{
    size_t mask = tc->nslots - 1;
    tc->nused--;
    for (;;) {
        tc->slots[i] = (struct span_slot){0, NULL};
        size_t j = i;
        for (;;) {
            j = (j + 1) & mask;
            if (!tc->slots[j].key)
                return;
            size_t h = slot_home(tc->slots[j].key, mask);
            /* Slot j may move to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (h <= i || h > j) : (h <= i && h > j)) {
                tc->slots[i] = tc->slots[j];
                i = j;
                break;
            }
        }
    }
}

static void span_index_del(struct scalable_tc *tc, struct scalable_span *sp)
{
    uintptr_t w0 = (uintptr_t)sp->base >> WIN_SHIFT, w1 = ((uintptr_t)sp->base + span_bytes(sp) - 1) >> WIN_SHIFT;
    size_t mask = tc->nslots - 1;
    for (uintptr_t w = w0; w <= w1; w++)
        for (size_t i = slot_home(w + 1, mask); tc->slots[i].key; i = (i + 1) & mask)
            if (tc->slots[i].key == w + 1 && tc->slots[i].sp == sp) {
                span_slot_clear(tc, i);
                break;
            }
}

#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
/* 1 if every window of sp is in tc's index (the checker's). */
static int span_indexed(const struct scalable_tc *tc, const struct scalable_span *sp)
{
    uintptr_t w0 = (uintptr_t)sp->base >> WIN_SHIFT, w1 = ((uintptr_t)sp->base + span_bytes(sp) - 1) >> WIN_SHIFT;
    size_t mask = tc->nslots - 1;
    for (uintptr_t w = w0; w <= w1; w++) {
        int found = 0;
        for (size_t i = tc->nslots ? slot_home(w + 1, mask) : 0; tc->nslots && tc->slots[i].key && !found;
             i = (i + 1) & mask)
            found = tc->slots[i].key == w + 1 && tc->slots[i].sp == sp;
        if (!found)
            return 0;
    }
    return 1;
}
#endif

/* The class list: spans with free blocks, the one malloc takes from
 * first. A new span goes first; one that had no free block left goes
 * last, to gather more frees while malloc takes from the spans before
 * it, so a take seldom empties a span (whose unlisting, at random, is a
 * mispredicted branch). The owner's. */
static inline int span_listed(const struct scalable_tc *tc, const struct scalable_span *sp)
{
    return sp->prev || tc->cls[sp->cls] == sp;
}

static inline void span_list(struct scalable_tc *tc, struct scalable_span *sp)
{
    sp->prev = NULL;
    sp->next = tc->cls[sp->cls];
    if (sp->next)
        sp->next->prev = sp;
    else
        tc->clast[sp->cls] = sp;
    tc->cls[sp->cls] = sp;
    tc->ncls[sp->cls]++;
}

/* At the end of the list: a span that had no free block left waits
 * there for more, so malloc keeps taking from spans with several. */
static inline void span_list_last(struct scalable_tc *tc, struct scalable_span *sp)
{
    struct scalable_span *t = tc->cls[sp->cls] ? tc->clast[sp->cls] : NULL;
    sp->next = NULL;
    sp->prev = t;
    if (t)
        t->next = sp;
    else
        tc->cls[sp->cls] = sp;
    tc->clast[sp->cls] = sp;
    tc->ncls[sp->cls]++;
}

static inline void span_unlist(struct scalable_tc *tc, struct scalable_span *sp)
{
    if (sp->prev)
        sp->prev->next = sp->next;
    else
        tc->cls[sp->cls] = sp->next;
    if (sp->next)
        sp->next->prev = sp->prev;
    else
        tc->clast[sp->cls] = sp->prev;
    sp->prev = sp->next = NULL;
    tc->ncls[sp->cls]--;
}

/* Drop a span whose blocks are all broken (nothing of it is the span's
 * any more). Under the lock, by the owner or a caller no thread races
 * with. */
static void span_forget(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp)
{
    if (tc->hint == sp)
        tc->hint = NULL;
    if (span_listed(tc, sp))
        span_unlist(tc, sp);
    *sp->allp = sp->all;
    if (sp->all)
        sp->all->allp = sp->allp;
    tc->nspans--;
    span_index_del(tc, sp);
    gomem_arena *a = sp->a;
    GOMEM__HG_UNIGNORE((void *)sp->len, sp->nblocks * sizeof *sp->len);
    GOMEM__HG_UNIGNORE((void *)&sp->nbroken, sizeof sp->nbroken);
    free(sp);
    if (a->used == 0)
        scalable_idle(s, a);
}

/* Block i of sp goes to the tree: its slack (a live block of l bytes) or
 * all of it (a free one). 0 or -ENOMEM (nothing changed). Under the lock;
 * a free block only by the owner (it is on the owner's free list). */
static int span_break(struct scalable_span *sp, uint32_t i, unsigned short l)
{
    gomem_arena *a = sp->a;
    size_t start = (size_t)(sp->base - a->base) + (size_t)i * sp->size, keep = len_live(l);
    if (keep < sp->size) {
        int r = gomem_allocator_free(a->alloc, start + keep, sp->size - keep);
        if (r)
            return r;
        a->used -= sp->size - keep;
    }
    AO_short_store(&sp->len[i], LEN_BROKEN);
    AO_store(&sp->nbroken, AO_load(&sp->nbroken) + 1);
    if (AO_load(&sp->nbroken) == sp->nblocks)
        sp->owner->ndead++;
    return 0;
}

/* Give every block of sp to the tree, runs of neighbours in one call (a
 * free block whole, a live one its slack, its handed-out bytes becoming
 * the tree's to free), then forget it. 0 or -ENOMEM: then the blocks
 * already given are broken, the others as they were, and the span
 * stays. Under the lock, by the owner or a caller no thread races with. */
static int span_dissolve(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp)
{
    gomem_arena *a = sp->a;
    size_t base = (size_t)(sp->base - a->base), rb = 0, re = 0;
    uint32_t first = 0, nb = sp->nblocks;
    int r = 0;
    for (uint32_t i = 0; i <= nb; i++) {
        unsigned short l = i < nb ? AO_short_load(&sp->len[i]) : LEN_BROKEN;
        size_t b = 0, e = 0;
        if (l != LEN_BROKEN) {
            e = base + (size_t)(i + 1) * sp->size;
            b = e - sp->size + len_live(l);
        }
        if (rb < re && (b == e || b != re)) { /* the run ends: give it */
            r = gomem_allocator_free(a->alloc, rb, re - rb);
            if (r)
                break;
            a->used -= re - rb;
            for (uint32_t k = first; k < i; k++)
                if (AO_short_load(&sp->len[k]) != LEN_BROKEN) {
                    AO_short_store(&sp->len[k], LEN_BROKEN);
                    AO_store(&sp->nbroken, AO_load(&sp->nbroken) + 1);
                }
            rb = re = 0;
        }
        if (l != LEN_BROKEN && b == e) { /* live and full: nothing to give */
            AO_short_store(&sp->len[i], LEN_BROKEN);
            AO_store(&sp->nbroken, AO_load(&sp->nbroken) + 1);
        } else if (b < e) {
            if (rb == re) {
                rb = b;
                first = i;
            }
            re = e;
        }
    }
    /* The free list again: the free blocks left, lowest first. */
    sp->nfree = 0;
    sp->head = nb;
    for (uint32_t i = nb; i-- > 0;)
        if (len_free(AO_short_load(&sp->len[i]))) {
            AO_short_store(&sp->len[i], (unsigned short)(LEN_FREE | sp->head));
            sp->head = i;
            sp->nfree++;
        }
    if (!sp->nfree && span_listed(tc, sp))
        span_unlist(tc, sp);
    if (r)
        return r;
    span_forget(s, tc, sp);
    return 0;
}

/* Every span of tc dissolved (thread exit, trim): 0 or -ENOMEM (the
 * spans not yet dissolved stay). Under the lock, as span_dissolve. */
static int spans_dissolve_all(gomem_scalable *s, struct scalable_tc *tc)
{
    while (tc->spans) {
        int r = span_dissolve(s, tc, tc->spans);
        if (r)
            return r;
    }
    return 0;
}

/* Drop every span of tc without a word to the tree (recycle, destroy:
 * the arenas go too). */
static void spans_drop(struct scalable_tc *tc)
{
    for (struct scalable_span *sp = tc->spans, *next; sp; sp = next) {
        next = sp->all;
        GOMEM__HG_UNIGNORE((void *)sp->len, sp->nblocks * sizeof *sp->len);
        GOMEM__HG_UNIGNORE((void *)&sp->nbroken, sizeof sp->nbroken);
        free(sp);
    }
    tc->spans = NULL;
    tc->hint = NULL;
    tc->nspans = tc->ndead = 0;
    memset(tc->cls, 0, sizeof tc->cls);
    memset(tc->ncls, 0, sizeof tc->ncls);
    free(tc->slots);
    tc->slots = NULL;
    tc->nslots = tc->nused = 0;
}

/* A new span of class c for tc, listed: the span, or NULL with nothing
 * changed. Under the lock, by the owner. */
static struct scalable_span *span_new(gomem_scalable *s, struct scalable_tc *tc, unsigned c)
{
    uint32_t size = class_size[c];
    size_t want = (size_t)size * SPAN_BLOCKS;
    want = want < SPAN_MIN ? SPAN_MIN : want > SPAN_MAX ? SPAN_MAX : want;
    uint32_t nb = (uint32_t)(want / size);
    size_t bytes = (size_t)nb * size, off = 0;
    /* Spans whose blocks all broke elsewhere are nothing but a name now
     * (looked for only when some broke since the last look). */
    for (struct scalable_span *sp = tc->ndead ? tc->spans : NULL, *next; sp; sp = next) {
        next = sp->all;
        if (AO_load(&sp->nbroken) == sp->nblocks)
            span_forget(s, tc, sp);
    }
    tc->ndead = 0;
    if (span_index_reserve(tc, bytes))
        return NULL;
    /* Aligned, so the fields the owner reads share one cache line. */
    size_t meta = (sizeof(struct scalable_span) + nb * sizeof(unsigned short) + 63) & ~(size_t)63;
    struct scalable_span *sp = aligned_alloc(64, meta);
    if (!sp)
        return NULL;
    gomem_arena *a = NULL;
    for (size_t i = s->narenas; i-- > 0 && !a;)
        if (gomem_allocator_free_size(s->arenas[i]->alloc) >= bytes &&
            gomem_allocator_alloc(s->arenas[i]->alloc, bytes, &off) == 0)
            a = s->arenas[i];
    int fresh = 0;
    if (!a) {
        a = scalable_grow(s, bytes);
        if (!a || gomem_allocator_alloc(a->alloc, bytes, &off) != 0) {
            if (a)
                scalable_remove(s, a);
            free(sp);
            return NULL;
        }
        fresh = 1;
    }
    a->used += bytes;
    *sp = (struct scalable_span){.base = a->base + off, .a = a, .owner = tc, .bytes = bytes, .size = size,
                                 .inv = (uint32_t)((((uint64_t)1 << 32) + size - 1) / size),
                                 .nblocks = nb, .nfree = nb, .head = 0, .cls = c};
    for (uint32_t i = 0; i < nb; i++)
        AO_short_store(&sp->len[i], (unsigned short)(LEN_FREE | (i + 1)));
    GOMEM__HG_IGNORE((void *)sp->len, nb * sizeof *sp->len);
    GOMEM__HG_IGNORE((void *)&sp->nbroken, sizeof sp->nbroken);
    sp->all = tc->spans;
    if (sp->all)
        sp->all->allp = &sp->all;
    sp->allp = &tc->spans;
    tc->spans = sp;
    tc->nspans++;
    span_index_add(tc, sp);
    span_list(tc, sp);
    if (fresh)
        scalable_sweep(s); /* an arena never used, or left by trim */
    return sp;
}

/* Under the lock, any thread: what [x, x + n) (inside one arena, no
 * wrap-around) meets of sp. check 1: -EINVAL if it meets a free block or
 * the slack of a live one, else 1 if it meets a live block, 0 if none
 * (2, for the checker: -EINVAL if it meets any block not broken). check
 * 0: break every live block it meets: 0, or -ENOMEM. */
static int span_meet(struct scalable_span *sp, uintptr_t x, size_t n, int check)
{
    int met = 0;
    uintptr_t base = (uintptr_t)sp->base, end = base + span_bytes(sp);
    if (x >= end || x + n <= base)
        return 0;
    uintptr_t lo = x > base ? x : base, hi = x + n < end ? x + n : end;
    uint32_t i = (uint32_t)(((uint64_t)(lo - base) * sp->inv) >> 32);
    uint32_t last = (uint32_t)(((uint64_t)(hi - 1 - base) * sp->inv) >> 32);
    for (; i <= last; i++) {
        unsigned short l = AO_short_load(&sp->len[i]);
        if (l == LEN_BROKEN)
            continue;
        uintptr_t start = base + (uintptr_t)i * sp->size, bend = start + sp->size;
        if (check == 2) /* the checker's: no block but broken ones */
            return -EINVAL;
        if (check) {
            if (len_free(l) || (hi < bend ? hi : bend) > start + l)
                return -EINVAL;
            met = 1;
        } else {
            int r = span_break(sp, i, l);
            if (r)
                return r;
        }
    }
    return met;
}

/* Bytes of the spans in a not handed out: free blocks and slack (a
 * snapshot: owners go on lock-free). Under the lock. */
static size_t spans_idle(const gomem_scalable *s, const gomem_arena *a)
{
    size_t idle = 0;
    for (const struct scalable_tc *tc = s->tcs; tc; tc = tc->next)
        for (const struct scalable_span *sp = tc->spans; sp; sp = sp->all) {
            if (sp->a != a)
                continue;
            for (uint32_t i = 0; i < sp->nblocks; i++) {
                unsigned short l = AO_short_load(&sp->len[i]);
                idle += l == LEN_BROKEN ? 0 : sp->size - len_live(l);
            }
        }
    return idle;
}

/* Call span_meet on every span of every thread that [x, x + n) meets:
 * the first error, else 1 if any call returned 1, else 0. */
static int spans_meet(gomem_scalable *s, uintptr_t x, size_t n, int check)
{
    uintptr_t w0 = x >> WIN_SHIFT, w1 = (x + n - 1) >> WIN_SHIFT;
    int met = 0;
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        if (!tc->nspans)
            continue;
        if (w1 - w0 >= tc->nspans || !tc->nslots) { /* a long range: every span */
            for (struct scalable_span *sp = tc->spans; sp; sp = sp->all) {
                int r = span_meet(sp, x, n, check);
                if (r < 0)
                    return r;
                met |= r;
            }
            continue;
        }
        size_t mask = tc->nslots - 1;
        for (uintptr_t w = w0; w <= w1; w++)
            for (size_t i = slot_home(w + 1, mask); tc->slots[i].key; i = (i + 1) & mask) {
                int r = tc->slots[i].key == w + 1 ? span_meet(tc->slots[i].sp, x, n, check) : 0;
                if (r < 0)
                    return r;
                met |= r;
            }
    }
    return met;
}

/* A free of [x, x + n) under the lock meets the spans: refused if it
 * meets a free block or slack; else every live block it meets breaks, so
 * that the tree holds exactly what is allocated there, and the free goes
 * on to the tree. One whole live block goes to the tree in one piece,
 * slack and all: 1 (done, not counted). 0 to go on, -EINVAL, -ENOMEM. */
static int spans_settle(gomem_scalable *s, uintptr_t x, size_t n)
{
    int r = spans_meet(s, x, n, 1);
    if (r <= 0)
        return r; /* refused, or no live block of a span: the tree's */
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        uint32_t i;
        struct scalable_span *sp = tc->nspans ? span_find(tc, x, &i) : NULL;
        if (!sp)
            continue;
        unsigned short l = AO_short_load(&sp->len[i]);
        if (len_is(l, n) && x == (uintptr_t)sp->base + (uintptr_t)i * sp->size) {
            r = span_break(sp, i, 0); /* slack and bytes, in one */
            return r ? r : 1;
        }
        break;
    }
    return spans_meet(s, x, n, 0);
}

/* ---------------------------------------------------------------- threads */

static pthread_mutex_t scalable_global = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t scalable_key;
static int scalable_key_ok;
static volatile AO_t scalable_ids;

/* This thread's caches, and the last one used (the owner's fast path). */
static SCALABLE_TLS struct scalable_node *tl_nodes;
/* id: the allocator's (unique in the process, even, never 0; 0: none),
 * so a new allocator at a destroyed one's address is told apart, plus 1
 * while the thread is on spans there: the chunk's fast paths learn the
 * mode from the test of the allocator they make anyway. */
static SCALABLE_TLS struct {
    uint64_t id;
    struct scalable_tc *tc;
} tl_last;

/* Make tc, the calling thread's cache in s, its last one, in its mode. */
static inline void tl_mine(const gomem_scalable *s, struct scalable_tc *tc)
{
    tl_last.id = s->id + (tc->cmax != 0);
    tl_last.tc = tc;
}

/* 1 if the calling thread's last allocator is s, on its chunk or spans. */
static inline int tl_is(const gomem_scalable *s)
{
    return (tl_last.id ^ s->id) <= 1;
}

/* A thread that used an allocator exits: retire its chunks, and leave its
 * caches (and their counters) to the next threads. */
static void scalable_thread_exit(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&scalable_global);
    struct scalable_node *n = tl_nodes;
    while (n) {
        struct scalable_node *next = n->next;
        gomem_scalable *s = (gomem_scalable *)AO_load(&n->s);
        if (s) {
            scalable_enter(s);
            /* Without memory for a tree node the chunk stays in the
             * cache, for the thread that takes it over. */
            (void)scalable_retire(s, n->tc);
            (void)spans_dissolve_all(s, n->tc);
            n->tc->node = NULL;
            scalable_leave(s);
        }
        GOMEM__HG_UNIGNORE((void *)&n->s, sizeof n->s);
        free(n);
        n = next;
    }
    tl_nodes = NULL;
    tl_last.id = 0;
    pthread_mutex_unlock(&scalable_global);
}

/* At load time, before any thread can call in (helgrind does not see
 * pthread_once's ordering). */
__attribute__((constructor)) static void scalable_key_init(void)
{
    scalable_key_ok = pthread_key_create(&scalable_key, scalable_thread_exit) == 0;
}

/* An unloaded library must not leave a destructor behind. */
__attribute__((destructor)) static void scalable_key_fini(void)
{
    if (scalable_key_ok)
        (void)pthread_key_delete(scalable_key);
}

/* This thread's cache in s, made (or taken over from an exited thread) on
 * first use; NULL with errno ENOMEM. */
static GOMEM__NOINLINE struct scalable_tc *scalable_mine_slow(gomem_scalable *s)
{
    if (!scalable_key_ok) {
        errno = ENOMEM;
        return NULL;
    }
    /* Only this thread changes its list, so it is walked without the
     * global mutex (destroy in another thread only clears n->s). */
    struct scalable_tc *tc = NULL;
    for (struct scalable_node *n = tl_nodes; n && !tc; n = n->next)
        if ((gomem_scalable *)AO_load(&n->s) == s)
            tc = n->tc;
    if (tc)
        goto found;
    pthread_mutex_lock(&scalable_global);
    for (struct scalable_node **pn = &tl_nodes, *n; (n = *pn);) {
        if (!AO_load(&n->s)) { /* its allocator is gone */
            *pn = n->next;
            GOMEM__HG_UNIGNORE((void *)&n->s, sizeof n->s);
            free(n);
            continue;
        }
        pn = &n->next;
    }
    if (!tc) {
        struct scalable_node *n = malloc(sizeof *n);
        if (!n)
            goto nomem;
        if (pthread_setspecific(scalable_key, n) != 0)
            goto nomem_node;
        gomem__lock(&s->lock);
        for (tc = s->tcs; tc && tc->node; tc = tc->next)
            ;
        if (!tc) {
            /* A cache line of its own: one thread's counters and another's
             * fields must not share one. */
            void *mem = NULL;
            if (posix_memalign(&mem, 64, sizeof *tc) != 0 || !mem) {
                gomem__unlock(&s->lock);
                goto nomem_node;
            }
            tc = memset(mem, 0, sizeof *tc);
            GOMEM__HG_IGNORE((void *)&tc->seq, (6 + 2 * PEND) * sizeof(AO_t));
            tc->next = s->tcs;
            GOMEM__HG_SEND(&s->tcs);
            AO_store_release((volatile AO_t *)&s->tcs, (AO_t)tc);
        }
        tc->node = n;
        gomem__unlock(&s->lock);
        GOMEM__HG_IGNORE((void *)&n->s, sizeof n->s);
        AO_store(&n->s, (AO_t)s);
        n->tc = tc;
        n->next = tl_nodes;
        tl_nodes = n;
        goto done;
    nomem_node:
        free(n);
    nomem:
        pthread_mutex_unlock(&scalable_global);
        errno = ENOMEM;
        return NULL;
    }
done:
    pthread_mutex_unlock(&scalable_global);
found:
    tl_mine(s, tc);
    return tc;
}

static inline struct scalable_tc *scalable_mine(gomem_scalable *s)
{
    if (GOMEM__LIKELY(tl_is(s)))
        return tl_last.tc;
    return scalable_mine_slow(s);
}

/* This thread's cache in s if it has one (never makes one). */
static struct scalable_tc *scalable_mine_if_any(gomem_scalable *s)
{
    if (tl_is(s))
        return tl_last.tc;
    for (struct scalable_node *n = tl_nodes; n; n = n->next)
        if ((gomem_scalable *)AO_load(&n->s) == s)
            return n->tc;
    return NULL;
}

/* ---------------------------------------------------------------- paths */

/* n bytes from the calling thread's chunk (refilled under the lock when
 * short); counted when count is set. NULL with errno set. */
static inline unsigned char *scalable_take(gomem_scalable *s, struct scalable_tc *tc, size_t n, int count)
{
    unsigned char *p = tc_cur(tc);
    if (GOMEM__UNLIKELY((size_t)(tc->end - p) < n)) {
        /* A chunk whose frees kept straying to the tree: the thread's
         * small requests go to spans from now on (the count that turns
         * it back is 0: it counts only while the thread is on spans). */
        if (tc->stray >= STRAY) {
            tc->cmax = CMAX;
            tl_mine(s, tc);
        }
        tc->stray = 0;
        scalable_enter(s);
        int r = scalable_refill(s, tc, n);
        scalable_leave(s);
        if (r) {
            errno = ENOMEM;
            return NULL;
        }
        p = tc_cur(tc);
    }
    tc_begin(tc);
    AO_store(&tc->cur, (AO_t)(p + n));
    if (count)
        AO_store(&tc->mbytes, AO_load(&tc->mbytes) + n);
    tc_end(tc);
    return p;
}

/* A request above MAX_ARENA: carved from a tree under the lock, in a
 * dedicated arena of its size if none has room. */
static unsigned char *scalable_big(gomem_scalable *s, size_t n, int count)
{
    unsigned char *p = NULL;
    scalable_enter(s);
    for (size_t i = s->narenas; i-- > 0 && !p;) {
        gomem_arena *a = s->arenas[i];
        size_t off;
        if (gomem_allocator_free_size(a->alloc) >= n && gomem_allocator_alloc(a->alloc, n, &off) == 0) {
            a->used += n;
            p = a->base + off;
        }
    }
    if (!p) {
        gomem_arena *a = scalable_grow(s, n);
        size_t off;
        if (a && gomem_allocator_alloc(a->alloc, n, &off) == 0) {
            a->used += n;
            p = a->base + off;
            scalable_sweep(s); /* an arena never used is one too many now */
        } else if (a) {
            scalable_remove(s, a);
        }
    }
    if (p && count)
        scalable_count(s, n, 0);
    scalable_leave(s);
    if (!p)
        errno = ENOMEM;
    return p;
}

/* Free [p, p + n) under the lock (any thread). */
static int scalable_free_locked(gomem_scalable *s, unsigned char *p, size_t n, int count)
{
    uintptr_t x = (uintptr_t)p;
    if (n > UINTPTR_MAX - x)
        return -EINVAL;
    gomem_arena *a = scalable_owner(s, p);
    if (!a)
        return -EINVAL;
    size_t off = (size_t)(p - a->base);
    if (n > a->size - off)
        return -EINVAL; /* runs past its arena */
    /* Bytes in a span: checked against it, and its live blocks broken. */
    int settled = spans_settle(s, x, n);
    if (settled < 0)
        return settled;
    if (settled) {
        GOMEM__POOL_FREED(p, n);
        if (count)
            scalable_count(s, 0, n);
        if (a->used == 0)
            scalable_idle(s, a);
        return 0;
    }
    /* The free tail of any thread's chunk in a is not allocated, nor are
     * the bytes a thread holds back out of order. */
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        if (tc->hot != a || x >= (uintptr_t)tc->end || x + n <= (uintptr_t)tc->hstart)
            continue;
        AO_t cur, pend[PEND][2];
        size_t np = tc_snapshot(tc, &cur, pend);
        if (x + n > cur && cur < (AO_t)tc->end)
            return -EINVAL;
        for (size_t i = 0; i < np; i++)
            if (x < pend[i][1] && x + n > pend[i][0])
                return -EINVAL;
    }
    int r = gomem_allocator_free(a->alloc, off, n);
    if (r)
        return r;
    GOMEM__POOL_SCRUB(p, n);
    GOMEM__POOL_FREED(p, n); /* under the lock: no other thread has them yet */
    a->used -= n;
    /* Freed inside a chunk's head: its owner may no longer give these bytes
     * back to its tail (they are the tree's now). A free that runs on past
     * the chunk's end (a full chunk, and what lies after it) raises low to
     * the end, not past it. */
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next)
        if (tc->hot == a && x < (uintptr_t)tc->end && x + n > (uintptr_t)tc->hstart &&
            x + n > (uintptr_t)AO_load(&tc->low))
            AO_store(&tc->low, (AO_t)(x + n < (uintptr_t)tc->end ? x + n : (uintptr_t)tc->end));
    if (count)
        scalable_count(s, 0, n);
    if (a->used == 0)
        scalable_idle(s, a);
    return 0;
}

/* Give tc's lowest pending block to the tree, making room for another:
 * 0 or -ENOMEM (nothing changed). By the owner. */
static GOMEM__NOINLINE int scalable_flush(gomem_scalable *s, struct scalable_tc *tc)
{
    tc->stray++;
    scalable_enter(s);
    gomem_arena *a = tc->hot;
    size_t np = (size_t)AO_load(&tc->npend), lo = 0;
    for (size_t i = 1; i < np; i++)
        if (AO_load(&tc->pend[i][0]) < AO_load(&tc->pend[lo][0]))
            lo = i;
    AO_t b = AO_load(&tc->pend[lo][0]), e = AO_load(&tc->pend[lo][1]);
    int r = gomem_allocator_free(a->alloc, (size_t)(b - (AO_t)a->base), (size_t)(e - b));
    if (r == 0) {
        a->used -= (size_t)(e - b);
        tc_begin(tc);
        tc_unpend(tc, lo);
        /* The tree has them now; no other pending block lies below e. */
        if (e > AO_load(&tc->low))
            AO_store(&tc->low, e);
        tc_end(tc);
    }
    scalable_leave(s);
    return r;
}

/* The owner's lock-free free of [x, x + n) inside [low, cur) of its chunk:
 * back to the tail if it ends at cur (with the pending block below it, if
 * any), else into the pending blocks. 0 done, -EINVAL (already free), 1
 * not inside [low, cur) (the lock's business), 2 the pending set is full. */
static SCALABLE_INLINE int tc_give(struct scalable_tc *tc, AO_t x, size_t n, int count)
{
    AO_t cur = AO_load(&tc->cur), low = AO_load(&tc->low);
    if (x < low || x >= cur || n > cur - x)
        return 1;
    size_t np = (size_t)AO_load(&tc->npend), left = PEND, right = PEND;
    for (size_t i = 0; i < np; i++) {
        AO_t b = AO_load(&tc->pend[i][0]), e = AO_load(&tc->pend[i][1]);
        if (x < e && x + n > b)
            return -EINVAL;
        if (e == x)
            left = i;
        if (b == x + n)
            right = i;
    }
    AO_t q = AO_load(&tc->seq);
    if (x + n == cur) {
        AO_t to = x;
        AO_store(&tc->seq, q + 1);
        AO_nop_write();
        if (left < PEND) {
            to = AO_load(&tc->pend[left][0]);
            tc_unpend(tc, left);
        }
        AO_store(&tc->cur, to);
    } else if (left < PEND) {
        AO_store(&tc->seq, q + 1);
        AO_nop_write();
        if (right < PEND) {
            AO_store(&tc->pend[left][1], AO_load(&tc->pend[right][1]));
            tc_unpend(tc, right);
        } else {
            AO_store(&tc->pend[left][1], x + n);
        }
    } else if (right < PEND) {
        AO_store(&tc->seq, q + 1);
        AO_nop_write();
        AO_store(&tc->pend[right][0], x);
    } else if (np < PEND) {
        AO_store(&tc->seq, q + 1);
        AO_nop_write();
        AO_store(&tc->pend[np][0], x);
        AO_store(&tc->pend[np][1], x + n);
        AO_store(&tc->npend, np + 1);
    } else {
        return 2;
    }
    if (count)
        AO_store(&tc->fbytes, AO_load(&tc->fbytes) + n);
    AO_store_release(&tc->seq, q + 2);
    return 0;
}

/* Free [p, p + n): the owner's way if it can, else under the lock. */
static int scalable_give(gomem_scalable *s, struct scalable_tc *tc, unsigned char *p, size_t n, int count)
{
    while (tc) {
        int r = tc_give(tc, (AO_t)p, n, count);
        if (r == 0) {
            GOMEM__POOL_SCRUB(p, n);
            GOMEM__POOL_FREED(p, n); /* the chunk is this thread's alone */
        }
        if (r <= 0)
            return r;
        if (r == 1)
            break;
        r = scalable_flush(s, tc);
        if (r)
            return r;
        /* Then again: low may have passed p, and the tree takes it. */
    }
    scalable_enter(s);
    int r = scalable_free_locked(s, p, n, count);
    scalable_leave(s);
    return r;
}

static GOMEM__NOINLINE int scalable_give_slow(gomem_scalable *s, struct scalable_tc *tc, void *p, size_t n)
{
    return scalable_give(s, tc, p, n, 1);
}

/* A counted free under the lock: the tree's business. */
static GOMEM__NOINLINE int scalable_give_locked(gomem_scalable *s, void *p, size_t n)
{
    scalable_enter(s);
    int r = scalable_free_locked(s, p, n, 1);
    scalable_leave(s);
    return r;
}

/* A free by the owner inside [low, cur) of its chunk that is not the last
 * bytes it took: into the pending blocks, lock-free unless they are full. */
static GOMEM__NOINLINE int scalable_give_owner(gomem_scalable *s, struct scalable_tc *tc, void *p, size_t n)
{
    int r = tc_give(tc, (AO_t)p, n, 1);
    if (r == 0) {
        GOMEM__POOL_SCRUB(p, n);
        GOMEM__POOL_FREED(p, n);
    }
    if (GOMEM__LIKELY(r <= 0))
        return r;
    if (r == 1) {
        tc->stray++;
        return scalable_give_locked(s, p, n);
    }
    return scalable_give_slow(s, tc, p, n);
}

/* ---------------------------------------------------------------- class paths */

/* span_put's rare ends: a span that had no free block is listed again;
 * one with no live block left goes back when its class list holds more
 * than KEEP_SPANS spans (a batch that takes a few spans and gives them
 * all back does not make and unmake them each time; the count, not a
 * walk of the list, as a pair on such a span comes here every time). 0. */
static GOMEM__NOINLINE int span_put_after(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp,
                                          const unsigned char *p)
{
    if (sp->nfree == 1 && !span_listed(tc, sp)) {
        span_list_last(tc, sp);
        if (p != tc->last) /* not a pair's span, full but for the pair's block */
            tc->idle = 0;
    }
    int empty = sp->nfree + AO_load(&sp->nbroken) == sp->nblocks;
    if (empty && tc->ncls[sp->cls] > KEEP_SPANS) {
        scalable_enter(s);
        (void)span_dissolve(s, tc, sp); /* on -ENOMEM it stays, as it was */
        scalable_leave(s);
    } else if ((empty || p == tc->last) && tc->cmax && ++tc->idle == SPANS_IDLE) {
        /* The thread's frees keep emptying its spans or giving back the
         * block its last malloc took (pairs, batches freed whole, even
         * beside long-lived blocks) and none of its spans filled up
         * meanwhile: its chunk serves that better, and its strays bring
         * it back here if they come back. Blocks still in spans go back
         * to them as before. */
        tc->cmax = 0;
        tc->stray = 0;
        tc->idle = 0;
        tl_mine(s, tc);
    }
    return 0;
}

/* The owner frees block i of sp, which holds exactly n bytes: back to
 * the span's free list, lock-free (the sequence bump pairs fbytes with
 * mbytes for the readers of the counters). 0. */
static SCALABLE_INLINE int span_put(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp, uint32_t i,
                                    const unsigned char *p, size_t n)
{
    AO_t q = tc_begin(tc);
    AO_short_store(&sp->len[i], (unsigned short)(LEN_FREE | sp->head));
    sp->head = i;
    sp->nfree++;
    tc_end_freed(tc, q, n);
    if (GOMEM__UNLIKELY(sp->nfree == 1 || sp->nfree + AO_load(&sp->nbroken) == sp->nblocks || p == tc->last))
        return span_put_after(s, tc, sp, p); /* a tail call: the callers save no register */
    return 0;
}

/* An owner's free of [p, p + n) that starts in block i of its span sp and
 * is not that block's whole allocation (or the block is broken: then
 * another span of the thread may hold p in a block that is not). */
static GOMEM__NOINLINE int span_free_slow(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp,
                                          uint32_t i, unsigned char *p, size_t n)
{
    if (n == 0)
        return -EINVAL;
    unsigned short l = AO_short_load(&sp->len[i]);
    if (l == LEN_BROKEN && (sp = span_find(tc, (uintptr_t)p, &i)) != NULL) {
        tc->hint = sp;
        l = AO_short_load(&sp->len[i]);
        if (len_is(l, n) && (size_t)(p - sp->base) == (size_t)i * sp->size) {
            GOMEM__POOL_FREED(p, n);
            return span_put(s, tc, sp, i, p, n);
        }
    } else if (l == LEN_BROKEN) {
        return scalable_give(s, tc, p, n, 1); /* the tree's or a chunk's */
    }
    size_t in = (size_t)(p - sp->base) - (size_t)i * sp->size;
    if (len_free(l) || (l != LEN_BROKEN && in >= l))
        return -EINVAL; /* p is a free byte, or slack */
    if (l != LEN_BROKEN && in && n == l - in) {
        /* The tail of a live block (free_rest): its slack grows. Under
         * the lock, as another thread may be breaking the block. */
        int done = 0;
        scalable_enter(s);
        if (AO_short_load(&sp->len[i]) == l) {
            tc_begin(tc);
            AO_short_store(&sp->len[i], (unsigned short)in);
            AO_store(&tc->fbytes, AO_load(&tc->fbytes) + n);
            tc_end(tc);
            done = 1;
        }
        scalable_leave(s);
        if (done) {
            GOMEM__POOL_FREED(p, n);
            return 0;
        }
    }
    /* A head or a middle, more than one block, or a broken block (whose
     * bytes may be in a chunk now): the chunk's way or the lock's. */
    return scalable_give(s, tc, p, n, 1);
}

/* The owner hands out sp's first free block (sp has one, listed) for n
 * bytes, counted: no sequence bump, as one counter moves (see tc_took). The
 * fields go into locals first: the store to len[] may alias them, and
 * would make the compiler read them again. */
static SCALABLE_INLINE unsigned char *span_hand_out(struct scalable_tc *tc, struct scalable_span *sp, size_t n)
{
    uint32_t i = sp->head, next = AO_short_load(&sp->len[i]) & ~LEN_FREE, nfree = sp->nfree - 1;
    unsigned char *base = sp->base;
    size_t size = sp->size;
    sp->head = next;
    sp->nfree = nfree;
    AO_short_store(&sp->len[i], (unsigned short)n);
    /* The class's next block, for its caller to write: a free list
     * threaded through the blocks would have loaded it (past the end when
     * none: a prefetch never faults). */
    __builtin_prefetch(base + (size_t)next * size, 1);
    if (GOMEM__UNLIKELY(!nfree))
        span_unlist(tc, sp);
    AO_store(&tc->mbytes, AO_load(&tc->mbytes) + n);
    unsigned char *p = base + (size_t)i * size;
    tc->last = p;
    return p;
}

/* n <= CMAX bytes from a span of the calling thread (a new span under the
 * lock when its class has none with a free block; the chunk when no span
 * can be made): counted, NULL with errno ENOMEM. */
static unsigned char *span_take(gomem_scalable *s, struct scalable_tc *tc, size_t n)
{
    unsigned c = size_class(n);
    struct scalable_span *sp = tc->cls[c];
    if (!sp) {
        scalable_enter(s);
        sp = span_new(s, tc, c);
        scalable_leave(s);
        if (!sp) /* no memory for a span: the chunk may still have room */
            return scalable_take(s, tc, n, 1);
    }
    return span_hand_out(tc, sp, n);
}

/* ---------------------------------------------------------------- debug */
#ifdef GOMEM__DEBUG
/* Debug builds (internal.h): every malloc gets a redzone after it when its
 * chunk (or, above MAX_ARENA, an arena) has room for one, recorded in the
 * arena (gomem__rz_*); a free that ends where a redzone starts frees it
 * too, and one that holds a redzone byte is refused. The counters count
 * the bytes the caller asked for, never a redzone. Growth is decided as in
 * a release build (the chunk is refilled for n, not n + GOMEM__REDZONE),
 * so capacity and arenas are the same. */

/* Under the lock: the arenas in order, and the byte accounting of the one
 * that holds p (its offset allocator checks its tree itself). */
static int scalable_check_at(gomem_scalable *s, const void *p)
{
    int r = 0;
    gomem__lock(&s->lock);
    for (size_t i = 1; i < s->narenas && !r; i++)
        if ((uintptr_t)s->arenas[i - 1]->base + s->arenas[i - 1]->size > (uintptr_t)s->arenas[i]->base) {
            fprintf(stderr, "gomem__scalable_check: arenas %zu and %zu overlap or are out of order\n", i - 1, i);
            r = -EFAULT;
        }
    gomem_arena *a = r ? NULL : scalable_owner(s, p);
    if (a && gomem__arena_check_quick(a) != 0)
        r = -EFAULT;
    gomem__unlock(&s->lock);
    return r;
}

static unsigned char *scalable_big_debug(gomem_scalable *s, size_t n, gomem_arena **rz)
{
    size_t t, off;
    unsigned char *p = NULL;
    *rz = NULL;
    if (!gomem__add_overflows(n, GOMEM__REDZONE, &t)) {
        scalable_enter(s);
        for (size_t i = s->narenas; i-- > 0 && !p;) {
            gomem_arena *a = s->arenas[i];
            if (gomem_allocator_free_size(a->alloc) >= t && gomem__rz_ready(a) == 0 &&
                gomem_allocator_alloc(a->alloc, t, &off) == 0) {
                a->used += t;
                p = a->base + off;
                *rz = a;
                scalable_count(s, n, 0);
            }
        }
        scalable_leave(s);
    }
    return p ? p : scalable_big(s, n, 1); /* a dedicated arena of n has no room for one */
}

static void *scalable_malloc_debug(gomem_scalable *s, size_t n)
{
    if (!s || n == 0) {
        errno = EINVAL;
        return NULL;
    }
    unsigned char *p;
    gomem_arena *rz = NULL;
    if (n > MAX_ARENA) {
        p = scalable_big_debug(s, n, &rz);
    } else {
        struct scalable_tc *tc = scalable_mine(s);
        p = tc ? scalable_take(s, tc, n, 0) : NULL;
        if (p) {
            tc_begin(tc);
            if ((size_t)(tc->end - tc_cur(tc)) >= GOMEM__REDZONE && gomem__rz_ready(tc->hot) == 0) {
                AO_store(&tc->cur, (AO_t)(p + n + GOMEM__REDZONE));
                rz = tc->hot;
            }
            AO_store(&tc->mbytes, AO_load(&tc->mbytes) + n);
            tc_end(tc);
        }
    }
    if (!p)
        return NULL;
    GOMEM__POOL_ALLOCATED(p, n);
    if (rz)
        gomem__rz_mark(rz, p + n);
    GOMEM__DEBUG_CHECK(scalable_check_at(s, p));
    return p;
}

static int scalable_free_debug(gomem_scalable *s, void *p, size_t n)
{
    if (!s || !p || n == 0)
        return -EINVAL;
    unsigned char *q = p;
    gomem__lock(&s->lock);
    gomem_arena *a = scalable_owner(s, q);
    int bad = a && gomem__rz_meets(a, q, n);
    int rz = a && !bad && n <= a->size - (size_t)(q - a->base) && gomem__rz_take(a, q + n);
    gomem__unlock(&s->lock);
    if (bad)
        return -EINVAL;
    struct scalable_tc *tc = tl_is(s) ? tl_last.tc : NULL;
    int r = scalable_give(s, tc, q, n + (rz ? GOMEM__REDZONE : 0), 0);
    if (r) {
        if (rz) /* nothing changed: a holds the bytes still */
            gomem__rz_untake(a, q + n);
        return r;
    }
    scalable_enter(s);
    scalable_count(s, 0, n);
    scalable_leave(s);
    GOMEM__DEBUG_CHECK(scalable_check_at(s, q));
    return 0;
}
#endif /* GOMEM__DEBUG */

/* ---------------------------------------------------------------- API */

GOMEM_API gomem_scalable *gomem_scalable_new(size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    gomem_scalable *s = calloc(1, sizeof *s);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    gomem__lock_init(&s->lock);
    s->id = 2 * ((uint64_t)AO_fetch_and_add1(&scalable_ids) + 1); /* even: see tl_last */
    GOMEM__HG_IGNORE((void *)&s->seq, 5 * sizeof(AO_t));
    GOMEM__HG_IGNORE(&s->tcs, sizeof s->tcs); /* stats reads it without the lock */
    scalable_enter(s);
    gomem_arena *first = scalable_add(s, size);
    scalable_leave(s);
    if (!first) {
        gomem_scalable_destroy(s);
        errno = ENOMEM;
        return NULL;
    }
    s->first_size = s->last_size = size;
    return s;
}

GOMEM_API void gomem_scalable_destroy(gomem_scalable *s)
{
    if (!s)
        return;
    /* Detach every thread's cache: this thread's nodes go now, other
     * threads drop theirs when they exit or next meet an allocator. */
    pthread_mutex_lock(&scalable_global);
    for (struct scalable_node **pn = &tl_nodes, *n; (n = *pn);) {
        if ((gomem_scalable *)AO_load(&n->s) == s) {
            n->tc->node = NULL;
            *pn = n->next;
            GOMEM__HG_UNIGNORE((void *)&n->s, sizeof n->s);
            free(n);
            continue;
        }
        pn = &n->next;
    }
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next)
        if (tc->node)
            AO_store(&tc->node->s, 0);
    pthread_mutex_unlock(&scalable_global);
    if (tl_is(s))
        tl_last.id = 0;
    for (struct scalable_tc *tc = s->tcs, *next; tc; tc = next) {
        next = tc->next;
        spans_drop(tc);
        GOMEM__HG_UNIGNORE((void *)&tc->seq, (6 + 2 * PEND) * sizeof(AO_t));
        free(tc);
    }
    for (size_t i = 0; i < s->narenas; i++)
        gomem_arena_destroy(s->arenas[i]);
    free(s->arenas);
    GOMEM__HG_UNIGNORE((void *)&s->seq, 5 * sizeof(AO_t));
    GOMEM__HG_UNIGNORE(&s->tcs, sizeof s->tcs);
    gomem__lock_fini(&s->lock);
    free(s);
}

static GOMEM__NOINLINE void *scalable_malloc_slow(gomem_scalable *s, size_t n)
{
    if (!s || n == 0) {
        errno = EINVAL;
        return NULL;
    }
    unsigned char *p;
    if (n > MAX_ARENA) {
        p = scalable_big(s, n, 1);
    } else {
        struct scalable_tc *tc = scalable_mine(s);
        p = !tc ? NULL : n <= tc->cmax ? span_take(s, tc, n) : scalable_take(s, tc, n, 1);
    }
    if (p)
        GOMEM__POOL_ALLOCATED(p, n);
    return p;
}

/* n bytes of tc's chunk when it has room, else the slow path's. */
static SCALABLE_INLINE void *scalable_bump(gomem_scalable *s, struct scalable_tc *tc, size_t n)
{
    unsigned char *p = tc_cur(tc);
    if (GOMEM__LIKELY(n - 1 < (size_t)(tc->end - p))) { /* 0 < n <= room */
        tc_took(tc, p, n);
        GOMEM__POOL_ALLOCATED(p, n);
        return p;
    }
    return scalable_malloc_slow(s, n);
}

/* The owner's fast path: the thread's last allocator, and a free block in
 * a span of the class (once the thread uses spans), or room in its chunk. */
GOMEM_API GOMEM__HOT_ENTRY void *gomem_scalable_malloc(gomem_scalable *s, size_t n)
{
#ifdef GOMEM__DEBUG
    return scalable_malloc_debug(s, n);
#endif
    /* The chunk first, so the pair path's code lies at the front,
     * whatever the span path's length. */
    if (GOMEM__LIKELY(s && tl_last.id == s->id)) /* on its chunk */
        return scalable_bump(s, tl_last.tc, n);
    if (GOMEM__LIKELY(s && tl_last.id == s->id + 1)) { /* on spans */
        struct scalable_tc *tc = tl_last.tc;
        if (GOMEM__UNLIKELY(n - 1 >= CMAX))
            return scalable_bump(s, tc, n);
        struct scalable_span *sp = tc->cls[size_class(n)];
        if (GOMEM__LIKELY(sp != NULL)) {
            unsigned char *p = span_hand_out(tc, sp, n);
            GOMEM__POOL_ALLOCATED(p, n);
            return p;
        }
    }
    return scalable_malloc_slow(s, n);
}

void *gomem__scalable_malloc_bump(gomem_scalable *s, size_t n)
{
    if (GOMEM__LIKELY(s && tl_is(s))) {
        struct scalable_tc *tc = tl_last.tc;
        unsigned char *p = tc_cur(tc);
        if (GOMEM__LIKELY(n - 1 < (size_t)(tc->end - p))) { /* 0 < n <= room: as malloc's */
            tc_took(tc, p, n);
            GOMEM__POOL_ALLOCATED(p, n);
            return p;
        }
    }
    if (!s || n == 0 || n > MAX_ARENA)
        return gomem_scalable_malloc(s, n); /* EINVAL, or a big one */
    struct scalable_tc *tc = scalable_mine(s);
    unsigned char *p = tc ? scalable_take(s, tc, n, 1) : NULL;
    if (p)
        GOMEM__POOL_ALLOCATED(p, n);
    return p;
}

/* The fast path calls nothing, so it saves no register; its tests are
 * gomem_recyclable_next's (for rm's lists) and gomem__scalable_malloc_bump's
 * (for the chunk). n == 0 fails the room test, as n - 1 wraps, unless a
 * redzone follows. */
GOMEM__HOT_ENTRY void *gomem__scalable_rm_next(gomem_recyclable *rm, size_t n)
{
    if (GOMEM__LIKELY(rm != NULL)) {
        gomem_scalable *s = rm->pool;
        size_t alloc_n = n + GOMEM__REDZONE, size;
        if (GOMEM__LIKELY(s && tl_is(s) &&
                          (!GOMEM__REDZONE || n - 1 < SIZE_MAX - GOMEM__REDZONE))) {
            struct scalable_tc *tc = tl_last.tc;
            unsigned char *p = tc_cur(tc);
            if (GOMEM__LIKELY(alloc_n - 1 < (size_t)(tc->end - p) && rm->nowned < rm->capowned &&
                              rm->mem.count < rm->mem.cap && !gomem__add_overflows(rm->mem.size, n, &size))) {
                /* The appends first: rm's fields, read for the tests
                 * above, need no second load after stores to tc. */
                GOMEM__POOL_ALLOCATED(p, alloc_n);
                gomem__rm_keep(rm, p, n, size);
                tc_took(tc, p, alloc_n);
                return p;
            }
        }
    }
    return gomem__recyclable_next_slow(rm, n);
}

static GOMEM__NOINLINE int scalable_free_slow(gomem_scalable *s, void *p, size_t n)
{
    if (!s || !p || n == 0)
        return -EINVAL;
    struct scalable_tc *tc = NULL;
    if (tl_is(s)) {
        tc = tl_last.tc;
    } else if ((tc = scalable_mine_if_any(s)) != NULL) {
        /* A thread that called another allocator since: this one is its
         * last again, and the owner's paths (its spans) serve. */
        tl_mine(s, tc);
        return gomem_scalable_free(s, p, n);
    }
    return scalable_give(s, tc, p, n, 1);
}

/* The owner's free of [p, p + n) starting in block i of its span sp,
 * whose len[i] the caller read as l: the whole block malloc gave goes back
 * to the span's free list, lock-free, when l says it is exactly that block
 * (len_is). Anything else there is span_free_slow's. */
static SCALABLE_INLINE int span_free_in(gomem_scalable *s, struct scalable_tc *tc, struct scalable_span *sp,
                                        uint32_t i, unsigned l, void *p, size_t n)
{
    if (GOMEM__LIKELY(len_is(l, n) && (uintptr_t)p - (uintptr_t)sp->base == (uintptr_t)i * sp->size)) {
        GOMEM__POOL_FREED(p, n);
        return span_put(s, tc, sp, i, p, n);
    }
    return span_free_slow(s, tc, sp, i, p, n);
}

/* The owner's free of [p, p + n) that starts in the span it last freed
 * into. */
static GOMEM__NOINLINE GOMEM__HOT_ENTRY int scalable_free_hint(gomem_scalable *s, struct scalable_tc *tc,
                                                               struct scalable_span *sp, void *p, size_t n)
{
    uint32_t i = span_block(sp, (uintptr_t)p);
    return span_free_in(s, tc, sp, i, AO_short_load(&sp->len[i]), p, n);
}

/* The owner's free of [p, p + n) outside its chunk and the span it last
 * freed into: another of its spans (found in its index), else the lock's
 * business. */
static GOMEM__NOINLINE int scalable_free_probe(gomem_scalable *s, struct scalable_tc *tc, void *p, size_t n)
{
    uint32_t i;
    unsigned l;
    struct scalable_span *sp = span_find_len(tc, (uintptr_t)p, &i, &l);
    if (sp) {
        tc->hint = sp;
        return span_free_in(s, tc, sp, i, l, p, n);
    }
    if (GOMEM__LIKELY(n != 0 && p)) {
        tc->stray++;
        return scalable_give_locked(s, p, n);
    }
    return -EINVAL;
}

/* The same, when the index slot p's window hashes to holds p's span (an
 * index at most a quarter full: nearly always): no probe loop, one saved
 * register where the loop saved four, and the rest out of line. Random
 * workload, 10,000 live blocks: 188.5 -> 176.5 instructions per
 * free+malloc. */
static GOMEM__NOINLINE GOMEM__HOT_ENTRY int scalable_free_far(gomem_scalable *s, struct scalable_tc *tc, void *p,
                                                              size_t n)
{
    uint32_t i;
    unsigned l;
    struct scalable_span *sp = span_find_home(tc, (uintptr_t)p, &i, &l);
    if (GOMEM__LIKELY(sp != NULL)) {
        tc->hint = sp;
        return span_free_in(s, tc, sp, i, l, p, n);
    }
    return scalable_free_probe(s, tc, p, n);
}

/* The owner's free of [p, p + n) starting in its chunk [hstart, end)
 * (whose bytes below low may be the tree's again, even a span's: the lock
 * sorts those out), when it is not the chunk's last bytes taken (its one
 * caller, gomem_scalable_free, has given those back inline). Out of line,
 * so the span path there needs no saved registers. */
static GOMEM__NOINLINE GOMEM__HOT_ENTRY int scalable_free_chunk(gomem_scalable *s, struct scalable_tc *tc, void *p,
                                                                size_t n)
{
    AO_t x = (AO_t)p;
    AO_t cur = AO_load(&tc->cur), low = AO_load(&tc->low), np = AO_load(&tc->npend);
    /* The next of a batch freed in the order it was taken: it starts
     * where the only pending block ends (so meets no free byte: the
     * block ends below cur and nothing else is pending), at or above
     * low, and 0 < n <= cur - x. It extends the block, or reaches cur
     * and takes the block back to the tail. */
    if (GOMEM__LIKELY(np == 1 && AO_load(&tc->pend[0][1]) == x && x >= low && n - 1 < cur - x)) {
        AO_t q = tc_begin(tc);
        if (n == cur - x) {
            AO_store(&tc->cur, AO_load(&tc->pend[0][0]));
            AO_store(&tc->npend, 0);
        } else {
            AO_store(&tc->pend[0][1], x + n);
        }
        tc_end_freed(tc, q, n);
        GOMEM__POOL_FREED(p, n);
        return 0;
    }
    /* The first of such a batch, with nothing pending: inside [low,
     * cur) and short of cur (0 < n < cur - x), so it meets no free byte.
     * It becomes the one pending block. */
    if (GOMEM__LIKELY(np == 0 && x - low < cur - low && n - 1 < cur - x - 1)) {
        AO_t q = tc_begin(tc);
        AO_store(&tc->pend[0][0], x);
        AO_store(&tc->pend[0][1], x + n);
        AO_store(&tc->npend, 1);
        tc_end_freed(tc, q, n);
        GOMEM__POOL_FREED(p, n);
        return 0;
    }
    /* Outside [low, cur) of the chunk (another chunk's bytes, or the
     * tree's): straight to the lock, without the pending blocks. */
    if (GOMEM__LIKELY(n != 0 && p) && (x < low || x >= cur)) {
        tc->stray++;
        return scalable_give_locked(s, p, n);
    }
    if (GOMEM__LIKELY(n != 0))
        return scalable_give_owner(s, tc, p, n);
    return scalable_free_slow(s, p, n);
}

/* The owner's free of [p, p + n), its chunk first: the last bytes taken
 * go back to the tail, the next of a batch freed in order extends the one
 * pending block; outside the chunk, the span it last freed into, then its
 * index; the rest of the chunk is scalable_free_chunk's. */
static SCALABLE_INLINE int scalable_free_mine(gomem_scalable *s, struct scalable_tc *tc, void *p, size_t n)
{
    AO_t x = (AO_t)p;
    /* The last bytes taken from the chunk go back to its tail (low <=
     * x < cur: low never passes cur). */
    AO_t cur = AO_load(&tc->cur), low = AO_load(&tc->low), np = AO_load(&tc->npend);
    if (GOMEM__LIKELY(cur - x == n && x - low < cur - low && !np)) {
        AO_t q = tc_begin(tc);
        AO_store(&tc->cur, x);
        tc_end_freed(tc, q, n);
        GOMEM__POOL_FREED(p, n);
        return 0;
    }
    /* The next of a batch freed in order extends the one pending
     * block (scalable_free_chunk says why that is exact). */
    if (GOMEM__LIKELY(np == 1 && AO_load(&tc->pend[0][1]) == x && x >= low && n - 1 < cur - x - 1)) {
        AO_t q = tc_begin(tc);
        AO_store(&tc->pend[0][1], x + n); /* stops short of cur */
        tc_end_freed(tc, q, n);
        GOMEM__POOL_FREED(p, n);
        return 0;
    }
    if (GOMEM__LIKELY(x - (AO_t)tc->hstart >= (AO_t)(tc->end - tc->hstart))) {
        /* Not in the thread's chunk: in the span it last freed into?
         * (Out of line, so the paths above save no registers.) */
        struct scalable_span *sp = tc->hint;
        if (GOMEM__LIKELY(sp && x - (uintptr_t)sp->base < sp->bytes))
            return scalable_free_hint(s, tc, sp, p, n);
        return scalable_free_far(s, tc, p, n);
    }
    return scalable_free_chunk(s, tc, p, n);
}

static GOMEM__NOINLINE int scalable_free_mine_out(gomem_scalable *s, struct scalable_tc *tc, void *p, size_t n)
{
    return scalable_free_mine(s, tc, p, n);
}

/* Every free but one on the chunk's fast path. The owner's while it is on
 * spans, where nearly every free is a block of a span: the index slot p's
 * window hashes to first, without the chunk's tests or the last span's;
 * anything else of the owner's the chunk-first way. (Out of line, so the
 * chunk's path tests the mode in its test of the allocator alone.) */
static GOMEM__NOINLINE GOMEM__HOT_ENTRY int scalable_free_other(gomem_scalable *s, void *p, size_t n)
{
    if (GOMEM__LIKELY(s && tl_last.id == s->id + 1)) { /* on spans */
        struct scalable_tc *tc = tl_last.tc;
        uint32_t i;
        unsigned l;
        struct scalable_span *sp = span_find_home(tc, (uintptr_t)p, &i, &l);
        if (GOMEM__LIKELY(sp != NULL))
            return span_free_in(s, tc, sp, i, l, p, n);
        return scalable_free_mine_out(s, tc, p, n);
    }
    return scalable_free_slow(s, p, n);
}

/* GOMEM__NO_TAIL_MERGE: the chunk's paths return each on its own, as the
 * pair, FIFO and batch rows want (each freed: 837 -> 829 instructions
 * per round of ten, FIFO 77.7 -> 76.7 per pair). */
GOMEM_API GOMEM__HOT_ENTRY GOMEM__NO_TAIL_MERGE int gomem_scalable_free(gomem_scalable *s, void *p, size_t n)
{
#ifdef GOMEM__DEBUG
    return scalable_free_debug(s, p, n);
#endif
    if (GOMEM__LIKELY(s && tl_last.id == s->id)) /* on its chunk */
        return scalable_free_mine(s, tl_last.tc, p, n);
    return scalable_free_other(s, p, n);
}

GOMEM_API int gomem_scalable_free_rest(gomem_scalable *s, void *p, size_t n, size_t keep)
{
    if (!s || !p || n == 0 || keep > n)
        return -EINVAL;
    if (keep == n)
        return 0;
    return gomem_scalable_free(s, (unsigned char *)p + keep, n - keep);
}

GOMEM_API void *gomem_scalable_borrow(gomem_scalable *s, size_t n)
{
    if (GOMEM__UNLIKELY(!s || n == 0)) {
        errno = EINVAL;
        return NULL;
    }
    /* The free tail of the caller's chunk: no other thread hands it out. */
    struct scalable_tc *tc = scalable_mine(s);
    if (GOMEM__UNLIKELY(!tc))
        return NULL;
    unsigned char *p = tc_cur(tc);
    if (GOMEM__UNLIKELY((size_t)(tc->end - p) < n)) {
        scalable_enter(s);
        int r = scalable_refill(s, tc, n);
        scalable_leave(s);
        if (r) {
            errno = ENOMEM;
            return NULL;
        }
        p = tc_cur(tc);
    }
    GOMEM__POOL_ALLOCATED(p, n);
#ifdef GOMEM__DEBUG
    /* Past the borrowed bytes, free bytes of the chunk: inaccessible. */
    if ((size_t)(tc->end - p) - n >= GOMEM__REDZONE)
        GOMEM__POOL_FREED(p + n, GOMEM__REDZONE);
    GOMEM__DEBUG_CHECK(scalable_check_at(s, p));
#endif
    return p;
}

GOMEM_API ssize_t gomem_scalable_read(gomem_scalable *s, int fd, size_t n, void **out)
{
    if (!s || !out || n == 0 || n > SSIZE_MAX)
        return -EINVAL;
    *out = NULL;
    /* Taken uncounted: only the bytes read count as allocated. */
    struct scalable_tc *tc = NULL;
    unsigned char *p;
    if (n > MAX_ARENA) {
        p = scalable_big(s, n, 0);
    } else {
        tc = scalable_mine(s);
        p = tc ? scalable_take(s, tc, n, 0) : NULL;
    }
    if (!p)
        return -ENOMEM;
    GOMEM__POOL_ALLOCATED(p, n);
    ssize_t r;
    do
        r = read(fd, p, n);
    while (r < 0 && errno == EINTR);
    int e = r < 0 ? (errno == EWOULDBLOCK ? EAGAIN : errno) : 0;
    size_t got = r > 0 ? (size_t)r : 0, keep = got;
    /* The unread tail ends at the chunk's cur: it goes back without the
     * lock and cannot fail. A big request's tail can (no memory for a tree
     * node): then it stays allocated and counted, so the counters and the
     * arenas still agree. */
    if (got < n && scalable_give(s, tc, p + got, n - got, 0) != 0)
        keep = n;
    if (keep && tc) {
        tc_begin(tc);
        AO_store(&tc->mbytes, AO_load(&tc->mbytes) + keep);
        tc_end(tc);
    } else if (keep) {
        scalable_enter(s);
        scalable_count(s, keep, 0);
        scalable_leave(s);
    }
    if (r <= 0)
        return keep ? -ENOMEM : -e;
    *out = p;
    return r;
}

GOMEM_API size_t gomem_scalable_trim(gomem_scalable *s)
{
    if (!s)
        return 0;
    struct scalable_tc *tc = scalable_mine_if_any(s);
    size_t released = 0;
    scalable_enter(s);
    if (tc) {
        (void)scalable_retire(s, tc);      /* on -ENOMEM the chunk stays */
        (void)spans_dissolve_all(s, tc); /* and so do the spans left */
    }
    for (size_t i = s->narenas; i-- > 0;) {
        gomem_arena *a = s->arenas[i];
        if (scalable_unused(s, a)) {
            released += a->size;
            scalable_remove(s, a);
        }
    }
    scalable_leave(s);
    GOMEM__DEBUG_CHECK(scalable_check_at(s, NULL));
    /* The arenas just destroyed sit in the process-wide arena cache: give
     * that back to the system too, as trim promises. */
    (void)gomem_arena_release_idle();
    return released;
}

GOMEM_API int gomem_scalable_recycle(gomem_scalable *s)
{
    if (!s)
        return -EINVAL;
    scalable_enter(s);
    uint64_t m = AO_load(&s->malloc_bytes), f = AO_load(&s->free_bytes);
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        m += AO_load(&tc->mbytes);
        f += AO_load(&tc->fbytes);
        tc_set(tc, NULL, NULL, NULL);
        spans_drop(tc);
    }
    scalable_count(s, 0, (size_t)(m - f)); /* everything counts as freed */
    for (size_t i = s->narenas; i-- > 0;) {
        gomem_arena *a = s->arenas[i];
        s->narenas--;
        scalable_resize(s, (size_t)AO_load(&s->capacity) - a->size, s->narenas);
        gomem_arena_destroy(a);
    }
    s->last_size = s->first_size;
    scalable_leave(s);
    GOMEM__DEBUG_CHECK(scalable_check_at(s, NULL));
    return 0;
}

GOMEM_API int gomem_scalable_foreach_arena(gomem_scalable *s, gomem_scalable_visit_fn fn, void *arg)
{
    if (!s || !fn)
        return -EINVAL;
    int r = 0;
    gomem__lock(&s->lock);
    for (size_t i = 0; i < s->narenas && r == 0; i++) {
        gomem_arena *a = s->arenas[i];
        size_t free_bytes = gomem_allocator_free_size(a->alloc);
#ifdef GOMEM__DEBUG
        free_bytes += gomem__rz_bytes(a); /* free to the user */
#endif
        for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
            if (tc->hot != a)
                continue;
            AO_t cur, pend[PEND][2];
            size_t np = tc_snapshot(tc, &cur, pend);
            free_bytes += (size_t)((AO_t)tc->end - cur);
            for (size_t k = 0; k < np; k++)
                free_bytes += (size_t)(pend[k][1] - pend[k][0]);
        }
        free_bytes += spans_idle(s, a);
        r = fn(a->base, a->size, free_bytes, arg);
    }
    gomem__unlock(&s->lock);
    return r;
}

GOMEM_API int gomem_scalable_stats(const gomem_scalable *s, struct gomem_scalable_stats *st)
{
    if (!s || !st)
        return -EINVAL;
    gomem_scalable *w = (gomem_scalable *)s; /* the AO loads take non-const */
    AO_t q, m, f, c, k;
    /* The locked counters, then each thread's, again if any locked call ran
     * meanwhile. Between two locked calls threads only move their own
     * chunk's cur, independently of one another, so the sum is the state
     * at one moment: exact, and in_use never above capacity. */
    for (;;) {
        q = AO_load_acquire(&w->seq);
        m = AO_load_acquire(&w->malloc_bytes);
        f = AO_load_acquire(&w->free_bytes);
        c = AO_load_acquire(&w->capacity);
        k = AO_load_acquire(&w->count);
        if (q & 1) {
            sched_yield();
            continue;
        }
        struct scalable_tc *tc = (struct scalable_tc *)AO_load_acquire((volatile AO_t *)&w->tcs);
        GOMEM__HG_RECEIVE(&w->tcs);
        for (; tc; tc = tc->next) {
            AO_t tq, tm, tf;
            for (;;) {
                tq = AO_load_acquire(&tc->seq);
                tm = AO_load_acquire(&tc->mbytes);
                tf = AO_load_acquire(&tc->fbytes);
                AO_nop_read();
                if (!(tq & 1) && AO_load(&tc->seq) == tq)
                    break;
                sched_yield();
            }
            m += tm;
            f += tf;
        }
        AO_nop_read();
        if (AO_load(&w->seq) == q)
            break;
        sched_yield();
    }
    st->malloc_bytes = (uint64_t)m;
    st->free_bytes = (uint64_t)f;
    st->in_use = (size_t)(m - f);
    st->capacity = (size_t)c;
    st->arenas = (size_t)k;
    return 0;
}

/* ---------------------------------------------------------------- check */
/* Compiled into the white-box test library only (-DGOMEM__WHITEBOX). */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "gomem__scalable_check: " __VA_ARGS__);                                    \
        fputc('\n', stderr);                                                                       \
        r = -EFAULT;                                                                               \
        goto out;                                                                                  \
    } while (0)

struct scalable_walk {
    size_t lo, hi; /* [low, end) of a chunk: no free block may meet it */
    int bad;
};

static int scalable_check_block(size_t off, size_t n, void *arg)
{
    struct scalable_walk *w = arg;
    /* (an empty [low, end), low == end, meets nothing) */
    if (w->lo < w->hi && off < w->hi && off + n > w->lo)
        return w->bad = 1;
    return 0;
}

int gomem__scalable_spans(gomem_scalable *s, int on)
{
    struct scalable_tc *tc = scalable_mine(s);
    if (!tc)
        return -ENOMEM;
    int was = tc->cmax != 0;
    if (on >= 0) {
        tc->cmax = on ? CMAX : 0;
        tc->idle = 0;
        tl_mine(s, tc);
    }
    return was;
}

struct span_walk {
    const struct scalable_span *sp;
    int bad;
};

/* A free block of the tree may meet only broken blocks of a span. */
static int span_check_block(size_t off, size_t n, void *arg)
{
    struct span_walk *w = arg;
    uintptr_t x = (uintptr_t)w->sp->a->base + off;
    if (span_meet((struct scalable_span *)w->sp, x, n, 2) != 0)
        return w->bad = 1;
    return 0;
}

int gomem__scalable_check(gomem_scalable *s)
{
    if (!s)
        return -EINVAL;
    int r = 0;
    gomem__lock(&s->lock);
    /* Each 16 bytes of request has the first class that holds them. */
    for (size_t k = 1; k <= CMAX / 16; k++) {
        unsigned c = class_of16[k];
        if (c >= NCLS || class_size[c] < 16 * k || (c && class_size[c - 1] > 16 * (k - 1)))
            FAIL("requests of %zu to %zu bytes get class %u", 16 * k - 15, 16 * k, c);
    }
    /* The calling thread's key says the mode of its cache here. */
    if (tl_is(s) && tl_last.id != s->id + (tl_last.tc->cmax != 0))
        FAIL("the thread's key says %s, its cache is on %s", tl_last.id & 1 ? "spans" : "its chunk",
             tl_last.tc->cmax ? "spans" : "its chunk");
    size_t cap = 0, used = 0;
    for (size_t i = 0; i < s->narenas; i++) {
        gomem_arena *a = s->arenas[i];
        if (i && (uintptr_t)s->arenas[i - 1]->base + s->arenas[i - 1]->size > (uintptr_t)a->base)
            FAIL("arenas %zu and %zu overlap or are out of order", i - 1, i);
        if (gomem__arena_check(a, 0) != 0)
            FAIL("arena %zu is broken", i);
        if (s->narenas > 1 && scalable_unused(s, a))
            FAIL("arena %zu is wholly free but was kept", i);
        cap += a->size;
        used += a->used;
#ifdef GOMEM__DEBUG
        used -= gomem__rz_bytes(a); /* carved, never handed out */
#endif
    }
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        unsigned char *low = (unsigned char *)AO_load(&tc->low), *cur = tc_cur(tc);
        if (!tc->hot) {
            if (cur || tc->end || low || tc->hstart)
                FAIL("chunk pointers set without an arena");
            continue;
        }
        if (scalable_owner(s, tc->hstart) != tc->hot)
            FAIL("a chunk's arena is not indexed");
        if (!(tc->hstart <= low && low <= cur && cur <= tc->end &&
              (size_t)(tc->end - tc->hot->base) <= tc->hot->size))
            FAIL("chunk pointers out of order");
        /* Below low a chunk's bytes may have gone back to the tree and
         * into another chunk; from low up they are its own. */
        for (struct scalable_tc *o = tc->next; o; o = o->next)
            if (o->hot && AO_load(&o->low) < (AO_t)tc->end && (AO_t)o->end > (AO_t)low)
                FAIL("two chunks overlap");
        struct scalable_walk w = {(size_t)(low - tc->hot->base), (size_t)(tc->end - tc->hot->base), 0};
        (void)gomem_allocator_foreach_free(tc->hot->alloc, scalable_check_block, &w);
        if (w.bad)
            FAIL("a free block of the offset allocator meets [low, end) of a chunk");
        used -= (size_t)(tc->end - cur); /* carved, not handed out */
        size_t np = (size_t)AO_load(&tc->npend);
        if (np > PEND)
            FAIL("%zu pending blocks", np);
        for (size_t i = 0; i < np; i++) {
            AO_t b = AO_load(&tc->pend[i][0]), e = AO_load(&tc->pend[i][1]);
            if (!(b < e && b >= (AO_t)tc->hstart && e <= (AO_t)cur))
                FAIL("pending block %zu outside the chunk's head", i);
            if (e == (AO_t)cur)
                FAIL("pending block %zu touches cur", i);
            for (size_t j = i + 1; j < np; j++)
                if (b <= AO_load(&tc->pend[j][1]) && e >= AO_load(&tc->pend[j][0]))
                    FAIL("pending blocks %zu and %zu meet", i, j);
            struct scalable_walk pw = {(size_t)(b - (AO_t)tc->hot->base), (size_t)(e - (AO_t)tc->hot->base), 0};
            (void)gomem_allocator_foreach_free(tc->hot->alloc, scalable_check_block, &pw);
            if (pw.bad)
                FAIL("pending block %zu is free in the tree too", i);
            used -= (size_t)(e - b);
        }
    }
    for (struct scalable_tc *tc = s->tcs; tc; tc = tc->next) {
        size_t nspans = 0;
        for (struct scalable_span *sp = tc->spans; sp; sp = sp->all) {
            nspans++;
            gomem_arena *a = sp->a;
            if (scalable_owner(s, sp->base) != a || (size_t)(sp->base - a->base) + span_bytes(sp) > a->size)
                FAIL("a span lies outside its arena");
            if (sp->owner != tc || !span_indexed(tc, sp))
                FAIL("a span is not in its thread's index");
            size_t nfree = 0, nbroken = 0;
            for (uint32_t i = 0; i < sp->nblocks; i++) {
                unsigned short l = AO_short_load(&sp->len[i]);
                nfree += (size_t)len_free(l);
                nbroken += l == LEN_BROKEN;
                if (len_live(l) > sp->size || (len_free(l) && (l & ~LEN_FREE) > sp->nblocks))
                    FAIL("block %u of a span of %u holds %u", i, sp->size, l);
                if (l != LEN_BROKEN)
                    used -= sp->size - len_live(l); /* carved, not handed out */
            }
            if (nfree != sp->nfree || nbroken != AO_load(&sp->nbroken))
                FAIL("a span counts %u free and %zu broken blocks, not %zu and %zu", sp->nfree,
                     (size_t)AO_load(&sp->nbroken), nfree, nbroken);
            uint32_t k = sp->head, steps = 0;
            for (; k < sp->nblocks && steps <= sp->nfree; steps++) {
                unsigned short l = AO_short_load(&sp->len[k]);
                if (!len_free(l))
                    FAIL("a span's free list holds a block that is not free");
                k = l & ~LEN_FREE;
            }
            if (k != sp->nblocks || steps != sp->nfree)
                FAIL("a span's free list holds %u blocks, not %u", steps, sp->nfree);
            if ((sp->nfree > 0) != span_listed(tc, sp))
                FAIL("a span with %u free blocks is %slisted", sp->nfree, sp->nfree ? "not " : "");
            /* No free block of the tree, and no chunk's [low, end), meets
             * a block that is not broken. */
            struct span_walk w = {sp, 0};
            (void)gomem_allocator_foreach_free(a->alloc, span_check_block, &w);
            if (w.bad)
                FAIL("a free block of the offset allocator meets a span's block");
            for (struct scalable_tc *o = s->tcs; o; o = o->next) {
                AO_t low = AO_load(&o->low);
                if (o->hot == a && low < (AO_t)o->end &&
                    span_meet(sp, (uintptr_t)low, (size_t)((AO_t)o->end - low), 2) != 0)
                    FAIL("a chunk meets a span's block");
            }
        }
        if (nspans != tc->nspans)
            FAIL("%zu spans counted as %zu", nspans, tc->nspans);
        if (!tc->cmax && tc->idle)
            FAIL("a thread on its chunk counts %zu idle spans", tc->idle);
        for (unsigned c = 0; c < NCLS; c++) {
            size_t listed = 0;
            for (struct scalable_span *sp = tc->cls[c]; sp && listed <= tc->nspans; sp = sp->next, listed++)
                if (sp->cls != c || sp->size != class_size[c] || !sp->nfree || (sp->next && sp->next->prev != sp) ||
                    (!sp->next && tc->clast[c] != sp))
                    FAIL("class list %u is broken", c);
            if (listed != tc->ncls[c])
                FAIL("class list %u holds %zu spans, counted as %u", c, listed, (unsigned)tc->ncls[c]);
        }
    }
    struct gomem_scalable_stats st;
    gomem_scalable_stats(s, &st);
    if (st.capacity != cap || st.arenas != s->narenas || st.in_use != used)
        FAIL("stats (capacity %zu, arenas %zu, in use %zu) disagree with the arenas (%zu, %zu, %zu)",
             st.capacity, st.arenas, st.in_use, cap, s->narenas, used);
out:
    gomem__unlock(&s->lock);
    return r;
}
#endif /* GOMEM__WHITEBOX */
