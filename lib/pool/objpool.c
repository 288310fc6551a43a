/* objpool.c - gomem_objpool_*: a pool of fixed-size objects (GoMem's
 * Pool[T]).
 *
 * Objects are slots of slabs; each slab is one arena (gomem_arena_new),
 * each new slab twice the slots of the last, so a pool has a few dozen
 * slabs at most and they never move. A slab keeps one state byte per
 * slot: OUT while the caller holds the object, FREE otherwise. put finds
 * the slab by address (a scan from the newest, largest slab) and the slot
 * by an exact division (a multiply by the inverse of the stride's odd
 * part), then checks the state byte: that is how a foreign pointer, an
 * interior pointer and a second put are refused without changing
 * anything. The slab table only grows, and its entries never change once
 * added; each thread's magazine remembers how many slabs the thread saw
 * under the pool's lock, and the lock-free scan reads only those, so it
 * needs neither an atomic load nor a tool annotation. A pointer that scan
 * does not place (a slab made since, or a foreign pointer) goes to the
 * slow path, which looks again under the lock.
 *
 * Free objects live in a per-thread magazine (a small array, touched only
 * by its thread: no lock, no atomic read-modify-write) in front of a
 * shared stack guarded by the pool's lock; the two exchange
 * OBJPOOL_BATCH objects at a time. The shared stack has room for every
 * slot of every slab, so giving objects back never allocates and never
 * fails.
 *
 * A thread finds its magazine through a thread-local pointer to the one it
 * used last, checked against the pool's id (ids are never reused, so a
 * new pool at a dead pool's address is never mistaken for it), else
 * through a thread-local list. A registry mutex guards which magazines
 * belong to which live pool: a thread's exit gives its magazines' objects
 * back to their pools, and destroy marks the magazines of its pool dead so
 * the threads that own them free them later. */
#include "pool/lock.h"
#include "pool/objpool.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBJPOOL_MAG 64          /* objects a thread's magazine holds */
#define OBJPOOL_BATCH 32        /* objects moved to or from the shared stack at once */
#define OBJPOOL_MAXSLABS 48     /* slabs double: 2^47 times the first */
#define OBJPOOL_FIRST_BYTES 16384 /* the first slab's object bytes, at least */
#define OBJPOOL_MAX_ALIGN 4096

enum { SLOT_FREE = 0, SLOT_OUT = 1 };

struct objpool_entry {
    void *obj;
    uint8_t *st; /* its state byte */
};

struct objpool_slab {
    uintptr_t base; /* the first slot, aligned */
    size_t bytes;   /* nslots * stride */
    size_t nslots;
    uint8_t *state; /* one byte per slot */
    gomem_arena *arena;
};

/* One thread's magazine for one pool. id, n and e are the thread's alone;
 * dead and the pool links are under the registry mutex. */
struct objpool_cache {
    uint64_t id; /* the pool's; never changes */
    size_t n;
    size_t nseen; /* slabs this thread saw under the pool's lock */
    struct objpool_entry e[OBJPOOL_MAG];
    gomem_objpool *pool;                 /* dangling once dead */
    struct objpool_cache *tnext;         /* the thread's list */
    struct objpool_cache *pnext, *pprev; /* the pool's list */
    int dead;
};

struct gomem_objpool {
    /* Read by get and put without the lock; fixed after new. */
    uint64_t id;
    uint64_t put_id; /* id, or UINT64_MAX (no magazine's) when reset sends every put the slow way */
    size_t size, stride, align;
    unsigned shift; /* stride = odd << shift */
    uint64_t inv;   /* odd^-1 mod 2^64 */
    gomem_objpool_fn init, reset;
    void *arg;
    /* The slab table: entries below nslabs never change. */
    struct objpool_slab slab[OBJPOOL_MAXSLABS];
    /* Under lock. */
    struct gomem__lock lock;
    size_t nslabs;
    size_t carved;               /* slots handed out of the newest slab */
    size_t total;                /* slots in all slabs */
    struct objpool_entry *stack; /* free objects, room for total */
    size_t nstack;
    /* Under the registry mutex. */
    struct objpool_cache *caches;
};

static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t objpool_key; /* made by the first new, under registry */
static int objpool_key_ok;
static uint64_t objpool_ids; /* under registry */

#if defined(__GNUC__) && defined(__ELF__)
#define OBJPOOL_TLS __thread __attribute__((tls_model("initial-exec")))
#else
#define OBJPOOL_TLS __thread
#endif
/* No pool's magazine (id 0: ids start at 1): what tl_last points to until
 * the thread uses one, so the fast paths need no NULL test. Never
 * written. */
static struct objpool_cache objpool_none;
static OBJPOOL_TLS struct objpool_cache *tl_last = &objpool_none; /* the magazine used last */
static OBJPOOL_TLS struct objpool_cache *tl_list; /* every magazine of this thread */

/* ---------------------------------------------------------------- slabs */

/* off / stride when stride divides off, else a value no slot count
 * reaches: exact division by a multiply and a rotate. With stride = odd <<
 * shift, off = a << shift | b (b < 2^shift) and x = off * inv mod 2^64:
 * if b != 0, x has a low bit set (inv is odd), which the rotate moves to
 * the top, so the result is at least 2^(64 - shift) > nslots; if b == 0,
 * the result is a * inv mod 2^(64 - shift), which is a / odd when odd
 * divides a, and otherwise not below nslots (a < nslots * odd <=
 * 2^(64 - shift), so a result q < nslots would mean a == q * odd). */
static inline uint64_t objpool_slot(const gomem_objpool *p, uintptr_t off)
{
    uint64_t x = (uint64_t)off * p->inv;
    unsigned r = p->shift;
    return r ? (x >> r) | (x << (64 - r)) : x;
}

/* The state byte of obj if it is the start of a slot of one of p's first
 * n slabs, else NULL. No lock: the caller saw nslabs >= n under the lock,
 * and those slabs never change. */
static inline uint8_t *objpool_state(const gomem_objpool *p, const void *obj, size_t n)
{
    uintptr_t a = (uintptr_t)obj;
    for (size_t i = n; i-- > 0;) {
        const struct objpool_slab *s = &p->slab[i];
        uintptr_t off = a - s->base;
        if (off < s->bytes) {
            uint64_t q = objpool_slot(p, off);
            return q < s->nslots ? s->state + q : NULL;
        }
    }
    return NULL;
}

/* Add a slab of twice the last one's slots. Under the lock. 0 or -ENOMEM. */
static int objpool_grow(gomem_objpool *p)
{
    size_t n = p->nslabs;
    if (n == OBJPOOL_MAXSLABS)
        return -ENOMEM;
    size_t nslots = n ? p->slab[n - 1].nslots * 2 : OBJPOOL_FIRST_BYTES / p->stride;
    if (nslots < OBJPOOL_MAG * 2)
        nslots = OBJPOOL_MAG * 2;
    size_t total, bytes, region;
    if (nslots > SIZE_MAX / p->stride || gomem__add_overflows(p->total, nslots, &total) ||
        total > SIZE_MAX / sizeof *p->stack)
        return -ENOMEM;
    bytes = nslots * p->stride;
    if (gomem__add_overflows(bytes, p->align - 1, &region))
        return -ENOMEM;
    struct objpool_entry *stack = realloc(p->stack, total * sizeof *stack);
    if (!stack)
        return -ENOMEM;
    p->stack = stack; /* larger is harmless if the rest fails */
    uint8_t *state = calloc(nslots, 1);
    gomem_arena *a = state ? gomem_arena_new(region) : NULL;
    void *mem = a ? gomem_arena_malloc(a, region) : NULL;
    if (!mem) {
        gomem_arena_destroy(a);
        free(state);
        return -ENOMEM;
    }
    uintptr_t base = ((uintptr_t)mem + p->align - 1) & ~(uintptr_t)(p->align - 1);
    p->slab[n] = (struct objpool_slab){base, bytes, nslots, state, a};
    p->total = total;
    p->carved = 0;
    p->nslabs = n + 1;
    return 0;
}

/* Take up to want free objects for out[]: from the shared stack, else
 * fresh slots (counted in *fresh, at the end of out). Under the lock.
 * Returns how many; 0 only when no memory was left. */
static size_t objpool_take(gomem_objpool *p, struct objpool_entry *out, size_t want, size_t *fresh)
{
    *fresh = 0;
    size_t k = p->nstack < want ? p->nstack : want;
    if (k) { /* (the stack is NULL until the first put) */
        p->nstack -= k;
        memcpy(out, p->stack + p->nstack, k * sizeof *out);
        return k;
    }
    size_t n = p->nslabs;
    if ((n == 0 || p->carved == p->slab[n - 1].nslots) && objpool_grow(p) != 0)
        return 0;
    struct objpool_slab *s = &p->slab[p->nslabs - 1];
    for (; k < want && p->carved < s->nslots; k++, p->carved++)
        out[k] = (struct objpool_entry){(void *)(s->base + p->carved * p->stride), s->state + p->carved};
    *fresh = k;
    return k;
}

/* ---------------------------------------------------------------- magazines */

static void objpool_flush_locked(gomem_objpool *p, struct objpool_cache *c, size_t k)
{
    c->n -= k;
    memcpy(p->stack + p->nstack, c->e + c->n, k * sizeof *c->e); /* room: total */
    p->nstack += k;
}

/* At thread exit: every live magazine's objects go back to their pools,
 * then every magazine of the thread is freed. */
static void objpool_thread_exit(void *head)
{
    struct objpool_cache *c = head;
    pthread_mutex_lock(&registry);
    for (struct objpool_cache *x = c; x; x = x->tnext) {
        if (x->dead)
            continue;
        gomem_objpool *p = x->pool;
        gomem__lock(&p->lock);
        objpool_flush_locked(p, x, x->n);
        gomem__unlock(&p->lock);
        if (x->pprev)
            x->pprev->pnext = x->pnext;
        else
            p->caches = x->pnext;
        if (x->pnext)
            x->pnext->pprev = x->pprev;
    }
    pthread_mutex_unlock(&registry);
    while (c) {
        struct objpool_cache *next = c->tnext;
        free(c);
        c = next;
    }
    tl_list = NULL;
    tl_last = &objpool_none;
}

/* This thread's magazine for p, made on first use; NULL when none could be
 * made (the caller then uses the shared stack directly). */
static struct objpool_cache *objpool_cache(gomem_objpool *p)
{
    for (struct objpool_cache *c = tl_list; c; c = c->tnext)
        if (c->id == p->id)
            return tl_last = c;
    struct objpool_cache *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = (struct objpool_cache){.id = p->id, .pool = p};
    pthread_mutex_lock(&registry);
    c->pnext = p->caches;
    if (p->caches)
        p->caches->pprev = c;
    p->caches = c;
    /* Free this thread's magazines of destroyed pools while here. */
    struct objpool_cache **link = &tl_list;
    while (*link) {
        struct objpool_cache *x = *link;
        if (x->dead) {
            *link = x->tnext;
            if (tl_last == x)
                tl_last = &objpool_none;
            free(x);
        } else {
            link = &x->tnext;
        }
    }
    pthread_mutex_unlock(&registry);
    c->tnext = tl_list;
    tl_list = c;
    if (pthread_setspecific(objpool_key, tl_list) != 0) {
        /* Without the key the thread's exit would not flush it: unmake it. */
        tl_list = c->tnext;
        pthread_mutex_lock(&registry);
        if (c->pprev)
            c->pprev->pnext = c->pnext;
        else
            p->caches = c->pnext;
        if (c->pnext)
            c->pnext->pprev = c->pprev;
        pthread_mutex_unlock(&registry);
        free(c);
        return NULL;
    }
    return tl_last = c;
}

/* ---------------------------------------------------------------- API */

GOMEM_API gomem_objpool *gomem_objpool_new(size_t size, size_t align, gomem_objpool_fn init,
                                           gomem_objpool_fn reset, void *arg)
{
    if (align == 0) { /* the largest power of two dividing size, up to 16 */
        align = 16;
        while (align > 1 && size % align)
            align /= 2;
    }
    size_t stride;
    if (size == 0 || (align & (align - 1)) || align > OBJPOOL_MAX_ALIGN ||
        gomem__add_overflows(size, align - 1, &stride)) {
        errno = EINVAL;
        return NULL;
    }
    stride &= ~(align - 1);
    /* The key whose destructor flushes a thread's caches at its exit. Made
     * here, under the mutex (helgrind does not model pthread_once). */
    pthread_mutex_lock(&registry);
    if (!objpool_key_ok)
        objpool_key_ok = pthread_key_create(&objpool_key, objpool_thread_exit) == 0;
    int key_ok = objpool_key_ok;
    uint64_t id = ++objpool_ids;
    pthread_mutex_unlock(&registry);
    gomem_objpool *p = key_ok ? calloc(1, sizeof *p) : NULL;
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    p->id = id;
    p->size = size;
    p->stride = stride;
    p->align = align;
    unsigned shift = 0;
    while (!((stride >> shift) & 1))
        shift++;
    uint64_t odd = (uint64_t)(stride >> shift), inv = odd; /* 3 bits right */
    for (int i = 0; i < 5; i++)
        inv *= 2 - odd * inv; /* Newton: each step doubles the bits */
    p->shift = shift;
    p->inv = inv;
    p->init = init;
    p->reset = reset;
    p->put_id = reset ? UINT64_MAX : id;
    p->arg = arg;
    gomem__lock_init(&p->lock);
    return p;
}

GOMEM__NOINLINE static void *objpool_get_slow(gomem_objpool *p)
{
    if (!p) {
        errno = EINVAL;
        return NULL;
    }
    struct objpool_cache *c = objpool_cache(p);
    if (c && c->n) {
        struct objpool_entry e = c->e[--c->n];
        *e.st = SLOT_OUT;
        return e.obj;
    }
    struct objpool_entry got[OBJPOOL_BATCH];
    size_t fresh;
    gomem__lock(&p->lock);
    size_t k = objpool_take(p, got, c ? OBJPOOL_BATCH : 1, &fresh);
    if (c)
        c->nseen = p->nslabs;
    gomem__unlock(&p->lock);
    if (!k) {
        errno = ENOMEM;
        return NULL;
    }
    if (p->init)
        for (size_t i = k - fresh; i < k; i++)
            p->init(got[i].obj, p->arg);
    /* Hand out the first, keep the rest (c has room: it was empty). */
    for (size_t i = k; i-- > 1;)
        c->e[c->n++] = got[i];
    *got[0].st = SLOT_OUT;
    return got[0].obj;
}

GOMEM_API GOMEM__HOT_ENTRY void *gomem_objpool_get(gomem_objpool *p)
{
    struct objpool_cache *c = tl_last;
    if (GOMEM__LIKELY(p && c->id == p->id && c->n)) {
        struct objpool_entry e = c->e[--c->n];
        *e.st = SLOT_OUT;
        return e.obj;
    }
    return objpool_get_slow(p);
}

/* A put the fast path did not finish: a pool with a reset callback, no
 * magazine yet, a full one, or a pointer outside the slabs the magazine
 * knows (then the lock shows every slab made so far). */
GOMEM__NOINLINE static int objpool_put_slow(gomem_objpool *p, void *obj)
{
    struct objpool_cache *c = tl_last;
    if (c->id != p->id) /* objpool_none, or another pool's */
        c = objpool_cache(p);
    uint8_t *st = c ? objpool_state(p, obj, c->nseen) : NULL;
    if (!st) {
        gomem__lock(&p->lock);
        size_t n = p->nslabs;
        gomem__unlock(&p->lock);
        if (c)
            c->nseen = n;
        st = objpool_state(p, obj, n);
    }
    if (!st || *st != SLOT_OUT)
        return -EINVAL;
    if (p->reset)
        p->reset(obj, p->arg);
    *st = SLOT_FREE;
    if (c && c->n < OBJPOOL_MAG) {
        c->e[c->n++] = (struct objpool_entry){obj, st};
        return 0;
    }
    gomem__lock(&p->lock);
    if (c)
        objpool_flush_locked(p, c, OBJPOOL_BATCH);
    p->stack[p->nstack++] = (struct objpool_entry){obj, st}; /* room: total */
    gomem__unlock(&p->lock);
    return 0;
}

GOMEM_API GOMEM__HOT_ENTRY int gomem_objpool_put(gomem_objpool *p, void *obj)
{
    if (GOMEM__UNLIKELY(!p))
        return -EINVAL;
    struct objpool_cache *c = tl_last;
    /* No magazine yet, a pool with a reset callback, a foreign pointer
     * (NULL too: no slab holds it) or a full magazine take the slow path;
     * this one is leaf code (no call, no frame). */
    if (GOMEM__LIKELY(c->id == p->put_id && c->n < OBJPOOL_MAG)) {
        uintptr_t a = (uintptr_t)obj;
        for (const struct objpool_slab *s = p->slab + c->nseen; s-- != p->slab;) {
            uintptr_t off = a - s->base;
            if (off < s->bytes) {
                uint64_t q = objpool_slot(p, off);
                if (GOMEM__UNLIKELY(q >= s->nslots))
                    break;
                uint8_t *st = s->state + q;
                if (GOMEM__UNLIKELY(*st != SLOT_OUT))
                    break;
                *st = SLOT_FREE;
                c->e[c->n++] = (struct objpool_entry){obj, st};
                return 0;
            }
        }
    }
    return objpool_put_slow(p, obj);
}

GOMEM_API size_t gomem_objpool_size(const gomem_objpool *p)
{
    return p ? p->size : 0;
}

GOMEM_API void gomem_objpool_destroy(gomem_objpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&registry);
    for (struct objpool_cache *c = p->caches; c; c = c->pnext)
        c->dead = 1; /* its thread frees it */
    p->caches = NULL;
    /* The calling thread's own magazine can go at once. */
    for (struct objpool_cache **link = &tl_list; *link; link = &(*link)->tnext) {
        struct objpool_cache *c = *link;
        if (c->id == p->id) {
            *link = c->tnext;
            if (tl_last == c)
                tl_last = &objpool_none;
            free(c);
            (void)pthread_setspecific(objpool_key, tl_list);
            break;
        }
    }
    pthread_mutex_unlock(&registry);
    for (size_t i = 0; i < p->nslabs; i++) {
        gomem_arena_destroy(p->slab[i].arena);
        free(p->slab[i].state);
    }
    free(p->stack);
    gomem__lock_fini(&p->lock);
    free(p);
}

/* ---------------------------------------------------------------- checks */

size_t gomem__objpool_carved(gomem_objpool *p, size_t *slabs)
{
    gomem__lock(&p->lock);
    size_t n = p->nslabs, carved = n ? p->total - p->slab[n - 1].nslots + p->carved : 0;
    gomem__unlock(&p->lock);
    if (slabs)
        *slabs = n;
    return carved;
}

static int objpool_fail(const char *why, size_t i)
{
    fprintf(stderr, "objpool check: %s (%zu)\n", why, i);
    return -EFAULT;
}

/* An entry of a free list: a carved slot, free, seen nowhere else. */
static int objpool_check_entry(const gomem_objpool *p, const struct objpool_entry *e, uint8_t *seen,
                               size_t i)
{
    uint8_t *st = objpool_state(p, e->obj, p->nslabs);
    if (!st || st != e->st)
        return objpool_fail("free entry is not a slot start or has the wrong state byte", i);
    if (*st != SLOT_FREE)
        return objpool_fail("free entry's state byte says out", i);
    size_t n = p->nslabs, base = 0;
    for (size_t s = 0; s < n; s++) {
        const struct objpool_slab *sl = &p->slab[s];
        if (st >= sl->state && st < sl->state + sl->nslots) {
            size_t slot = (size_t)(st - sl->state);
            if (s == n - 1 && slot >= p->carved)
                return objpool_fail("free entry not carved yet", i);
            if (seen[base + slot]++)
                return objpool_fail("object listed twice", i);
            return 0;
        }
        base += sl->nslots;
    }
    return objpool_fail("state byte in no slab", i);
}

int gomem__objpool_check(gomem_objpool *p, size_t *out)
{
    int e = 0;
    pthread_mutex_lock(&registry); /* the order of objpool_thread_exit */
    gomem__lock(&p->lock);
    size_t n = p->nslabs, sum = 0, outs = 0, listed = 0;
    uint8_t *seen = calloc(p->total ? p->total : 1, 1);
    if (!seen) {
        gomem__unlock(&p->lock);
        pthread_mutex_unlock(&registry);
        return objpool_fail("no memory for the check", 0);
    }
    for (size_t s = 0; s < n && !e; s++) {
        const struct objpool_slab *sl = &p->slab[s];
        if (s && sl->nslots != 2 * p->slab[s - 1].nslots)
            e = objpool_fail("slab does not double the last", s);
        if (sl->base & (p->align - 1))
            e = objpool_fail("slab base misaligned", s);
        if (sl->bytes != sl->nslots * p->stride)
            e = objpool_fail("slab byte count", s);
        size_t carved = s == n - 1 ? p->carved : sl->nslots;
        for (size_t i = 0; i < sl->nslots && !e; i++) {
            if (sl->state[i] > SLOT_OUT)
                e = objpool_fail("bad state byte", i);
            else if (sl->state[i] == SLOT_OUT && i >= carved)
                e = objpool_fail("uncarved slot is out", i);
            outs += sl->state[i];
        }
        sum += sl->nslots;
    }
    if (!e && sum != p->total)
        e = objpool_fail("total is not the sum of the slabs", sum);
    for (size_t i = 0; i < p->nstack && !e; i++)
        e = objpool_check_entry(p, &p->stack[i], seen, i);
    listed = p->nstack;
    for (struct objpool_cache *c = p->caches; c && !e; c = c->pnext) {
        if (c->n > OBJPOOL_MAG || c->id != p->id || c->dead || c->nseen > n)
            e = objpool_fail("magazine header", c->n);
        for (size_t i = 0; i < c->n && !e; i++)
            e = objpool_check_entry(p, &c->e[i], seen, i);
        listed += c->n;
    }
    size_t carved = n ? p->total - p->slab[n - 1].nslots + p->carved : 0;
    if (!e && outs + listed != carved)
        e = objpool_fail("an object is neither out nor listed (or both)", carved);
    if (!e && p->nstack > p->total)
        e = objpool_fail("shared stack beyond its room", p->nstack);
    free(seen);
    gomem__unlock(&p->lock);
    pthread_mutex_unlock(&registry);
    if (!e && out)
        *out = outs;
    return e;
}
