/* scalable.c - the scalable allocator (GoMem's ScalableMemoryAllocator): a
 * growing set of arenas, each new one twice the last up to 4 MiB, behind
 * one lock.
 *
 * Every byte handed out comes from a bump chunk: a run carved from one
 * arena's offset allocator (so, to it, allocated) whose head [hstart, cur)
 * has been handed out and whose tail [cur, end) is free. malloc takes from
 * the tail; a free that ends at cur gives the bytes back to the tail. Both
 * are a few instructions, so a malloc/free pair never touches a tree. Any
 * other free goes to the owning arena's offset allocator, found by binary
 * search over the arenas sorted by address. "low" keeps the two in step:
 * no byte of [low, cur) was given to the offset allocator, so a free that
 * ends at cur and starts at or above low returns only handed-out bytes.
 *
 * Counters are published with a sequence lock so gomem_scalable_stats reads
 * a consistent snapshot without taking the allocator's lock. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "lock.h"
#include "scalable.h"

#define MAX_ARENA ((size_t)4 << 20) /* GoMem's MaxBlockSize */
#define CHUNK ((size_t)64 << 10)    /* bump chunk carved from a large arena */

struct gomem_scalable {
    struct gomem__lock lock;
    unsigned char *hstart, *low, *cur, *end; /* the bump chunk */
    gomem_arena *hot;                        /* its arena, or NULL */
    gomem_arena **arenas;                    /* sorted by base address */
    size_t narenas, cap;
    size_t last_size; /* size of the last arena made by growth */
    /* Published counters (sequence lock: odd while being written). */
    volatile AO_t seq, malloc_bytes, free_bytes, capacity, count;
};

/* ---------------------------------------------------------------- counters */

/* Every change happens between scalable_enter and scalable_leave: under
 * the lock, with the sequence odd. Lock-free readers (stats, borrow) take a
 * snapshot and keep it only if the sequence was even and did not move. */
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

static size_t scalable_capacity(const gomem_scalable *s)
{
    return (size_t)AO_load(&s->capacity);
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
    scalable_resize(s, scalable_capacity(s) + size, s->narenas);
    return a;
}

/* Give a wholly free arena back to its pool or the system. */
static void scalable_remove(gomem_scalable *s, gomem_arena *a)
{
    size_t i = scalable_slot(s, a->base);
    memmove(s->arenas + i, s->arenas + i + 1, (s->narenas - i - 1) * sizeof *s->arenas);
    s->narenas--;
    if (a == s->hot) {
        s->hot = NULL;
        s->hstart = s->low = s->cur = s->end = NULL;
    }
    scalable_resize(s, scalable_capacity(s) - a->size, s->narenas);
    gomem_arena_destroy(a);
}

/* The arena a has just become wholly free. The bump chunk's arena stays,
 * as the one arena kept, unless it is a dedicated arena for one large
 * request; the allocator always keeps at least one arena. */
static void scalable_idle(gomem_scalable *s, gomem_arena *a)
{
    if (s->narenas > 1 && (a != s->hot || a->size > MAX_ARENA))
        scalable_remove(s, a);
}

/* Release every wholly free arena but the bump chunk's (keeping one). */
static void scalable_sweep(gomem_scalable *s)
{
    for (size_t i = s->narenas; i-- > 0 && s->narenas > 1;)
        if (s->arenas[i]->used == 0 && s->arenas[i] != s->hot)
            scalable_remove(s, s->arenas[i]);
}

/* ---------------------------------------------------------------- chunks */

/* Give the unused tail of the bump chunk back to its arena. 0 or -ENOMEM
 * (a tree node could not be allocated; nothing changed). */
static int scalable_retire(gomem_scalable *s)
{
    if (!s->hot)
        return 0;
    if (s->cur != s->end) {
        int r = gomem_allocator_free(s->hot->alloc, (size_t)(s->cur - s->hot->base),
                                     (size_t)(s->end - s->cur));
        if (r)
            return r;
    }
    s->hot = NULL;
    s->hstart = s->low = s->cur = s->end = NULL;
    return 0;
}

/* Carve a bump chunk of at least n bytes from a: 1 on success. */
static int scalable_carve(gomem_scalable *s, gomem_arena *a, size_t n)
{
    size_t want = a->size < CHUNK ? a->size : CHUNK, off;
    if (want < n)
        want = n;
    if (gomem_allocator_free_size(a->alloc) < n)
        return 0;
    if (gomem_allocator_alloc(a->alloc, want, &off) != 0) {
        if (want == n || gomem_allocator_alloc(a->alloc, n, &off) != 0)
            return 0;
        want = n;
    }
    s->hot = a;
    s->hstart = s->low = s->cur = a->base + off;
    s->end = s->cur + want;
    return 1;
}

/* The size of the next arena for a request of n bytes (GoMem: double the
 * last, up to 4 MiB; above that, an arena of exactly n). */
static size_t scalable_grow_size(const gomem_scalable *s, size_t n, int *dedicated)
{
    size_t size = s->last_size;
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

/* Make the bump chunk hold at least n free bytes: 0, or -ENOMEM with the
 * allocator as usable as before. */
static int scalable_refill(gomem_scalable *s, size_t n)
{
    gomem_arena *prev = s->hot;
    int r = scalable_retire(s);
    if (r)
        return r;
    if (prev && scalable_carve(s, prev, n))
        return 0;
    for (size_t i = s->narenas; i-- > 0;)
        if (s->arenas[i] != prev && scalable_carve(s, s->arenas[i], n))
            return 0;
    int dedicated;
    size_t size = scalable_grow_size(s, n, &dedicated);
    gomem_arena *a = scalable_add(s, size);
    if (!a)
        return -ENOMEM;
    if (!scalable_carve(s, a, n)) { /* only when its offset allocator ran out of memory */
        scalable_remove(s, a);
        return -ENOMEM;
    }
    if (!dedicated)
        s->last_size = size;
    scalable_sweep(s); /* the old chunk's arena, or one never used */
    return 0;
}

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
    GOMEM__HG_IGNORE((void *)&s->seq, 5 * sizeof(AO_t));
    GOMEM__HG_IGNORE(&s->cur, 2 * sizeof s->cur); /* borrow reads cur and end */
    scalable_enter(s);
    gomem_arena *first = scalable_add(s, size);
    scalable_leave(s);
    if (!first) {
        gomem_scalable_destroy(s);
        errno = ENOMEM;
        return NULL;
    }
    s->last_size = size;
    return s;
}

GOMEM_API void gomem_scalable_destroy(gomem_scalable *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->narenas; i++)
        gomem_arena_destroy(s->arenas[i]);
    free(s->arenas);
    GOMEM__HG_UNIGNORE((void *)&s->seq, 5 * sizeof(AO_t));
    GOMEM__HG_UNIGNORE(&s->cur, 2 * sizeof s->cur);
    gomem__lock_fini(&s->lock);
    free(s);
}

GOMEM_API void *gomem_scalable_malloc(gomem_scalable *s, size_t n)
{
    if (GOMEM__UNLIKELY(!s || n == 0)) {
        errno = EINVAL;
        return NULL;
    }
    scalable_enter(s);
    if (GOMEM__UNLIKELY((size_t)(s->end - s->cur) < n) && scalable_refill(s, n) != 0) {
        scalable_leave(s);
        errno = ENOMEM;
        return NULL;
    }
    unsigned char *p = s->cur;
    s->cur += n;
    s->hot->used += n;
    scalable_count(s, n, 0);
    scalable_leave(s);
    return p;
}

/* Free [p, p + n) with the lock held. */
static int scalable_free_locked(gomem_scalable *s, unsigned char *p, size_t n)
{
    uintptr_t x = (uintptr_t)p;
    if (n > UINTPTR_MAX - x)
        return -EINVAL;
    if (x + n == (uintptr_t)s->cur && x >= (uintptr_t)s->low && s->hot) {
        s->cur = p;
        s->hot->used -= n;
        scalable_count(s, 0, n);
        if (GOMEM__UNLIKELY(s->hot->used == 0))
            scalable_idle(s, s->hot);
        return 0;
    }
    if (s->hot && x < (uintptr_t)s->end && x + n > (uintptr_t)s->cur)
        return -EINVAL; /* overlaps the free tail of the bump chunk */
    gomem_arena *a = scalable_owner(s, p);
    if (!a)
        return -EINVAL;
    size_t off = (size_t)(p - a->base);
    if (n > a->size - off)
        return -EINVAL; /* runs past its arena */
    int r = gomem_allocator_free(a->alloc, off, n);
    if (r)
        return r;
    a->used -= n;
    if (a == s->hot && x < (uintptr_t)s->cur && x + n > (uintptr_t)s->hstart) {
        unsigned char *e = x + n < (uintptr_t)s->cur ? p + n : s->cur;
        if (e > s->low)
            s->low = e;
    }
    scalable_count(s, 0, n);
    if (a->used == 0)
        scalable_idle(s, a);
    return 0;
}

GOMEM_API int gomem_scalable_free(gomem_scalable *s, void *p, size_t n)
{
    if (GOMEM__UNLIKELY(!s || !p || n == 0))
        return -EINVAL;
    scalable_enter(s);
    int r = scalable_free_locked(s, p, n);
    scalable_leave(s);
    return r;
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
    /* Lock-free when the chunk has room: the bytes at cur are free, and
     * stay so until the next call on s, which is all borrow promises. */
    AO_t q = AO_load_acquire(&s->seq);
    unsigned char *cur = *(unsigned char *volatile *)&s->cur, *end = *(unsigned char *volatile *)&s->end;
    AO_nop_read();
    if (GOMEM__LIKELY(!(q & 1) && (size_t)(end - cur) >= n && AO_load(&s->seq) == q))
        return cur;
    scalable_enter(s);
    if ((size_t)(s->end - s->cur) < n && scalable_refill(s, n) != 0) {
        scalable_leave(s);
        errno = ENOMEM;
        return NULL;
    }
    unsigned char *p = s->cur;
    scalable_leave(s);
    return p;
}

GOMEM_API ssize_t gomem_scalable_read(gomem_scalable *s, int fd, size_t n, void **out)
{
    if (!s || !out || n == 0 || n > SSIZE_MAX)
        return -EINVAL;
    *out = NULL;
    unsigned char *p = gomem_scalable_malloc(s, n);
    if (!p)
        return -ENOMEM;
    ssize_t r;
    do
        r = read(fd, p, n);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        int e = r < 0 ? (errno == EWOULDBLOCK ? EAGAIN : errno) : 0;
        (void)gomem_scalable_free(s, p, n);
        return -e;
    }
    if ((size_t)r < n)
        (void)gomem_scalable_free(s, p + r, n - (size_t)r);
    *out = p;
    return r;
}

GOMEM_API size_t gomem_scalable_trim(gomem_scalable *s)
{
    if (!s)
        return 0;
    size_t released = 0;
    scalable_enter(s);
    for (size_t i = s->narenas; i-- > 0;) {
        gomem_arena *a = s->arenas[i];
        if (a->used == 0) {
            released += a->size;
            scalable_remove(s, a);
        }
    }
    scalable_leave(s);
    return released;
}

GOMEM_API int gomem_scalable_stats(const gomem_scalable *s, struct gomem_scalable_stats *st)
{
    if (!s || !st)
        return -EINVAL;
    gomem_scalable *w = (gomem_scalable *)s; /* the AO loads take non-const */
    AO_t q, m, f, c, k;
    for (;;) {
        q = AO_load_acquire(&w->seq);
        m = AO_load_acquire(&w->malloc_bytes);
        f = AO_load_acquire(&w->free_bytes);
        c = AO_load_acquire(&w->capacity);
        k = AO_load_acquire(&w->count);
        if (!(q & 1) && AO_load(&w->seq) == q)
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
    size_t lo, hi; /* [low, end) of the bump chunk: no free block may meet it */
    int bad;
};

static int scalable_check_block(size_t off, size_t n, void *arg)
{
    struct scalable_walk *w = arg;
    if (off < w->hi && off + n > w->lo)
        return w->bad = 1;
    return 0;
}

int gomem__scalable_check(gomem_scalable *s)
{
    if (!s)
        return -EINVAL;
    int r = 0;
    gomem__lock(&s->lock);
    size_t cap = 0, used = 0;
    for (size_t i = 0; i < s->narenas; i++) {
        gomem_arena *a = s->arenas[i];
        if (i && (uintptr_t)s->arenas[i - 1]->base + s->arenas[i - 1]->size > (uintptr_t)a->base)
            FAIL("arenas %zu and %zu overlap or are out of order", i - 1, i);
        size_t reserved = a == s->hot ? (size_t)(s->end - s->cur) : 0;
        if (gomem__arena_check(a, reserved) != 0)
            FAIL("arena %zu is broken", i);
        if (a->used == 0 && s->narenas > 1 && (a != s->hot || a->size > MAX_ARENA))
            FAIL("arena %zu is wholly free but was kept", i);
        cap += a->size;
        used += a->used;
    }
    if (s->hot) {
        if (scalable_owner(s, s->hstart) != s->hot)
            FAIL("the bump chunk's arena is not indexed");
        if (!(s->hstart <= s->low && s->low <= s->cur && s->cur <= s->end &&
              (size_t)(s->end - s->hot->base) <= s->hot->size))
            FAIL("bump chunk pointers out of order");
        struct scalable_walk w = {(size_t)(s->low - s->hot->base), (size_t)(s->end - s->hot->base), 0};
        (void)gomem_allocator_foreach_free(s->hot->alloc, scalable_check_block, &w);
        if (w.bad)
            FAIL("a free block of the offset allocator meets [low, end) of the bump chunk");
    } else if (s->cur || s->end || s->low || s->hstart) {
        FAIL("bump pointers set without an arena");
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
