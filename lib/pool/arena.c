/* arena.c - arenas (GoMem's MemoryAllocator): one contiguous region from a
 * backing plus an offset allocator over it, and the cache that keeps idle
 * arenas whole for reuse (GoMem's sync.Pool, for every pooled size).
 *
 * An arena is not locked: one thread at a time uses it. The cache keeps,
 * per backing and per size class (the powers of two from 1 KiB to 64 MiB),
 * a spinlocked LIFO of idle arenas (lib/pool/lock.h, atomic_ops.h): their
 * region stays mapped and their tree allocated, so creating and destroying
 * an arena of a pooled size costs no system call and no malloc once the
 * cache holds one. An arena of a pooled size takes the whole region of its
 * class (a size of 5000 takes 8 KiB, one of 17 MiB takes 32 MiB), so one
 * cached arena serves every size of its class. The rounding costs address
 * space only: the arena never touches its region past its size, which
 * the C library's heap maps on demand for such sizes and the mmap backing
 * maps MAP_NORESERVE; a buddy block is a power of two anyway.
 *
 * Each class holds at most ARENA_CLASS_BUDGET (1 MiB) of idle arenas, at
 * least one and at most ARENA_CLASS_MAX: the classes from 2 MiB to 64 MiB
 * keep one idle arena each. So the cache keeps at most 960 KiB (1 to
 * 8 KiB) + 7 MiB (16 KiB to 1 MiB) + 126 MiB (2 to 64 MiB), about 134 MiB,
 * per backing, of address space, resident only where those arenas were
 * touched. A reused region keeps its pages faulted in (on the mmap backing
 * its huge pages too), so touching it again costs no page fault.
 * gomem_arena_release_idle empties the cache (gomem_scalable_trim calls
 * it), and runs at exit.
 *
 * Tools: memory the arena has not handed out is reported to memcheck and
 * ASan as inaccessible (annotate.h), from the first gomem_arena_malloc on
 * ("tracked"): before that the arena may be driven through its offset
 * allocator directly (the scalable allocator carves its bump chunks that
 * way and reports its own allocations), so its bytes are left addressable
 * but undefined. An idle arena in the cache is inaccessible as a whole. */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>

#include "buddy.h"
#include "lock.h"

int (*gomem__arena_fail_hook)(size_t size);

/* Whether the pool annotations do anything in this build: when they do
 * not, arenas start tracked and the first malloc has nothing to do. */
#if defined(GOMEM__ANNOTATE) || defined(GOMEM__ASAN)
#define ARENA_TOOLS 1
#else
#define ARENA_TOOLS 0
#endif

/* ---------------------------------------------------------------- cache */

#define ARENA_MIN_SHIFT 10 /* the smallest class: 1 KiB */
#define ARENA_CLASSES 17   /* 1 KiB .. 64 MiB */
#define ARENA_CLASS_BUDGET ((size_t)1 << 20)
#define ARENA_CLASS_MAX 64

struct arena_bin {
    struct gomem__lock lock;
    gomem_arena *head;
    size_t n, cap;
} __attribute__((aligned(64))); /* one cache line each: no false sharing */

static struct arena_bin arena_cache[GOMEM__BACKINGS][ARENA_CLASSES];

__attribute__((constructor)) static void arena_cache_init(void)
{
    for (int b = 0; b < GOMEM__BACKINGS; b++)
        for (int c = 0; c < ARENA_CLASSES; c++) {
            size_t cap = ARENA_CLASS_BUDGET >> (ARENA_MIN_SHIFT + c);
            gomem__lock_init(&arena_cache[b][c].lock);
            arena_cache[b][c].cap = cap < 1 ? 1 : cap > ARENA_CLASS_MAX ? ARENA_CLASS_MAX : cap;
        }
}

/* Give every idle arena and buddy back at exit, so that leak checkers
 * see nothing left (gomem_arena_release_idle(3)). */
__attribute__((destructor)) static void arena_cache_fini(void)
{
    (void)gomem_arena_release_idle();
}

/* The class of an arena of size bytes, or -1 when it is not pooled. */
static int arena_class(size_t size)
{
    if (size > ((size_t)1 << (ARENA_MIN_SHIFT + ARENA_CLASSES - 1)))
        return -1;
    if (size <= ((size_t)1 << ARENA_MIN_SHIFT))
        return 0;
    /* ceil(log2(size)) - ARENA_MIN_SHIFT, for 1 KiB < size <= 64 MiB */
    return (int)(sizeof(unsigned long long) * 8) - __builtin_clzll((unsigned long long)size - 1) -
           ARENA_MIN_SHIFT;
}

static size_t arena_class_size(int c)
{
    return (size_t)1 << (ARENA_MIN_SHIFT + c);
}

static gomem_arena *arena_cache_pop(const struct gomem__backing *b, int c)
{
    struct arena_bin *bin = &arena_cache[b->id][c];
    gomem__lock(&bin->lock);
    gomem_arena *a = bin->head;
    if (a) {
        bin->head = a->next;
        bin->n--;
    }
    gomem__unlock(&bin->lock);
    return a;
}

/* 1 if the cache took the arena (already reset), 0 if its bin is full. */
static int arena_cache_push(gomem_arena *a)
{
    struct arena_bin *bin = &arena_cache[a->backing->id][a->pool_class];
    gomem__lock(&bin->lock);
    int took = bin->n < bin->cap;
    if (took) {
        a->next = bin->head;
        bin->head = a;
        bin->n++;
    }
    gomem__unlock(&bin->lock);
    return took;
}

size_t gomem__arena_pool_idle_with(const struct gomem__backing *b, size_t size)
{
    int c = b && size ? arena_class(size) : -1;
    if (c < 0)
        return 0;
    struct arena_bin *bin = &arena_cache[b->id][c];
    gomem__lock(&bin->lock);
    size_t n = bin->n;
    gomem__unlock(&bin->lock);
    return n;
}

size_t gomem__arena_pool_idle(size_t size)
{
    return gomem__arena_pool_idle_with(gomem__backing_default(), size);
}

/* Give the region back to its backing, and the tree and the arena to the
 * C library. The region becomes addressable again first: a buddy block or
 * a heap block may be handed to someone who does not track it. */
static void arena_free_all(gomem_arena *a)
{
#ifdef GOMEM__DEBUG
    free(a->rz);
#endif
    GOMEM__POOL_ALLOCATED(a->region.base, a->region.size);
    a->backing->put(&a->region);
    gomem_allocator_destroy(a->alloc);
    free(a);
}

GOMEM_API size_t gomem_arena_release_idle(void)
{
    size_t released = 0;
    for (int b = 0; b < GOMEM__BACKINGS; b++)
        for (int c = 0; c < ARENA_CLASSES; c++) {
            struct arena_bin *bin = &arena_cache[b][c];
            gomem__lock(&bin->lock);
            gomem_arena *a = bin->head;
            bin->head = NULL;
            bin->n = 0;
            gomem__unlock(&bin->lock);
            while (a) {
                gomem_arena *next = a->next;
                released += a->region.size;
                arena_free_all(a);
                a = next;
            }
        }
    /* Last: the buddy blocks of the arenas above are free by now. */
    return released + gomem__buddy_pool_release();
}

void gomem__arena_pool_drain(void)
{
    (void)gomem_arena_release_idle();
}

/* ---------------------------------------------------------------- redzones */
#ifdef GOMEM__DEBUG
#include <pthread.h>

static pthread_mutex_t rz_lock = PTHREAD_MUTEX_INITIALIZER;

int gomem__rz_ready(gomem_arena *a)
{
    pthread_mutex_lock(&rz_lock);
    if (!a->rz)
        a->rz = calloc(a->region.size / 8 + 1, 1);
    int r = a->rz ? 0 : -ENOMEM;
    pthread_mutex_unlock(&rz_lock);
    return r;
}

void gomem__rz_mark(gomem_arena *a, unsigned char *at)
{
    size_t i = (size_t)(at - a->base);
    pthread_mutex_lock(&rz_lock);
    a->rz[i / 8] |= (unsigned char)(1u << (i % 8));
    a->rz_bytes += GOMEM__REDZONE;
    pthread_mutex_unlock(&rz_lock);
    GOMEM__POOL_FREED(at, GOMEM__REDZONE);
}

int gomem__rz_meets(gomem_arena *a, const unsigned char *p, size_t n)
{
    /* A redzone starting in (p - GOMEM__REDZONE, p + n), clipped to a. */
    size_t off = (size_t)(p - a->base), lo = off < GOMEM__REDZONE ? 0 : off - GOMEM__REDZONE + 1;
    size_t hi = n > a->size - off ? a->size : off + n;
    int met = 0;
    pthread_mutex_lock(&rz_lock);
    for (size_t i = lo; a->rz && i < hi && !met;) {
        if (i % 8 == 0 && !a->rz[i / 8]) {
            i += 8;
            continue;
        }
        met = (a->rz[i / 8] >> (i % 8)) & 1;
        i++;
    }
    pthread_mutex_unlock(&rz_lock);
    return met;
}

int gomem__rz_take(gomem_arena *a, const unsigned char *at)
{
    size_t i = (size_t)(at - a->base);
    int had = 0;
    pthread_mutex_lock(&rz_lock);
    if (a->rz && i < a->size && ((a->rz[i / 8] >> (i % 8)) & 1)) {
        a->rz[i / 8] &= (unsigned char)~(1u << (i % 8));
        a->rz_bytes -= GOMEM__REDZONE;
        had = 1;
    }
    pthread_mutex_unlock(&rz_lock);
    return had;
}

void gomem__rz_untake(gomem_arena *a, const unsigned char *at)
{
    size_t i = (size_t)(at - a->base);
    pthread_mutex_lock(&rz_lock);
    a->rz[i / 8] |= (unsigned char)(1u << (i % 8));
    a->rz_bytes += GOMEM__REDZONE;
    pthread_mutex_unlock(&rz_lock);
}

void gomem__rz_reset(gomem_arena *a)
{
    pthread_mutex_lock(&rz_lock);
    if (a->rz && a->rz_bytes)
        memset(a->rz, 0, a->region.size / 8 + 1);
    a->rz_bytes = 0;
    pthread_mutex_unlock(&rz_lock);
}

size_t gomem__rz_bytes(const gomem_arena *a)
{
    pthread_mutex_lock(&rz_lock);
    size_t n = a->rz_bytes;
    pthread_mutex_unlock(&rz_lock);
    return n;
}

int gomem__rz_at(gomem_arena *a, const unsigned char *at)
{
    size_t i = (size_t)(at - a->base);
    pthread_mutex_lock(&rz_lock);
    int r = a->rz && i < a->size && ((a->rz[i / 8] >> (i % 8)) & 1);
    pthread_mutex_unlock(&rz_lock);
    return r;
}

/* The byte accounting of a after each call in debug builds: O(1), since
 * its offset allocator checks its own tree after every change
 * (lib/offset/allocator.c). 0, or -EFAULT with a message. */
int gomem__arena_check_quick(const gomem_arena *a)
{
    size_t fs = gomem_allocator_free_size(a->alloc), rz = gomem__rz_bytes(a);
    if (a->used > a->size || fs != a->size - a->used || rz > a->used) {
        fprintf(stderr, "gomem__arena_check: arena %p: used %zu (redzones %zu) + free %zu != size %zu\n",
                (const void *)a, a->used, rz, fs, a->size);
        return -EFAULT;
    }
    return 0;
}

/* gomem_arena_malloc in debug builds: n bytes and a redzone after them
 * when a run of n + GOMEM__REDZONE is free (else n alone: a debug build
 * refuses no request a release build would serve). */
static void *arena_malloc_debug(gomem_arena *a, size_t n)
{
    size_t off, t;
    int rz = !gomem__add_overflows(n, GOMEM__REDZONE, &t) && gomem__rz_ready(a) == 0 &&
             gomem_allocator_alloc(a->alloc, t, &off) == 0;
    if (!rz) {
        if (gomem_allocator_alloc(a->alloc, n, &off) != 0) {
            errno = ENOMEM;
            return NULL;
        }
        t = n;
    }
    a->used += t;
    GOMEM__POOL_ALLOCATED(a->base + off, n);
    if (rz)
        gomem__rz_mark(a, a->base + off + n);
    GOMEM__DEBUG_CHECK(gomem__arena_check_quick(a));
    return a->base + off;
}

/* gomem_arena_free in debug builds ([p, p + n) inside a): a range that
 * holds a redzone byte is refused; one that ends where a redzone starts
 * frees it too. The bytes are filled with GOMEM__FREE_PATTERN. */
static int arena_free_debug(gomem_arena *a, void *p, size_t n)
{
    unsigned char *q = p;
    if (gomem__rz_meets(a, q, n))
        return -EINVAL;
    int rz = gomem__rz_take(a, q + n);
    size_t t = n + (rz ? GOMEM__REDZONE : 0);
    int r = gomem_allocator_free(a->alloc, (size_t)(q - a->base), t);
    if (r) {
        if (rz)
            gomem__rz_untake(a, q + n);
        return r;
    }
    a->used -= t;
    GOMEM__POOL_SCRUB(q, t);
    GOMEM__POOL_FREED(q, t);
    GOMEM__DEBUG_CHECK(gomem__arena_check_quick(a));
    return 0;
}
#endif /* GOMEM__DEBUG */

/* ---------------------------------------------------------------- arena */

/* A new arena whose region holds cap >= size bytes. */
static gomem_arena *arena_make(const struct gomem__backing *b, size_t size, size_t cap, int c)
{
    gomem_arena *a = malloc(sizeof *a);
    if (!a)
        goto nomem;
    if ((gomem__arena_fail_hook && gomem__arena_fail_hook(size)) || b->get(cap, &a->region) != 0)
        goto free_struct;
    if (!(a->alloc = gomem_allocator_new(size)))
        goto put_region;
    a->base = a->region.base;
    a->size = size;
    a->used = 0;
    a->backing = b;
    a->pool_class = c;
    a->tracked = !ARENA_TOOLS;
    a->next = NULL;
#ifdef GOMEM__DEBUG
    a->rz = NULL;
    a->rz_bytes = 0;
#endif
    /* Addressable and undefined up to size (see the top of the file); the
     * rest of the class is never handed out. */
    GOMEM__POOL_FREED(a->base + size, cap - size);
    GOMEM__POOL_ALLOCATED(a->base, size);
    return a;
put_region:
    b->put(&a->region);
free_struct:
    free(a);
nomem:
    errno = ENOMEM;
    return NULL;
}

gomem_arena *gomem__arena_new_with(const struct gomem__backing *b, size_t size)
{
    if (!b || size == 0) {
        errno = EINVAL;
        return NULL;
    }
    int c = arena_class(size);
    if (c < 0)
        return arena_make(b, size, size, -1);
    gomem_arena *a = arena_cache_pop(b, c);
    if (a) {
        /* Cannot fail: the tree of an idle arena has its one free node. */
        if (GOMEM__UNLIKELY(a->size != size) && gomem_allocator_reset(a->alloc, size) == 0)
            a->size = size;
        if (GOMEM__LIKELY(a->size == size)) {
            GOMEM__POOL_ALLOCATED(a->base, size);
            a->tracked = !ARENA_TOOLS;
            return a;
        }
        arena_free_all(a);
    }
    return arena_make(b, size, arena_class_size(c), c);
}

GOMEM_API gomem_arena *gomem_arena_new(size_t size)
{
    return gomem__arena_new_with(gomem__backing_default(), size);
}

GOMEM_API void gomem_arena_destroy(gomem_arena *a)
{
    if (!a)
        return;
    if (a->pool_class >= 0) {
        /* The tree is reset only when something is still allocated: a
         * wholly free arena's tree is already one free block. A reset of
         * a full arena needs a tree node; without one (no memory) the
         * arena is released instead of kept half reset. */
        int clean = gomem_allocator_free_size(a->alloc) == a->size ||
                    gomem_allocator_reset(a->alloc, a->size) == 0;
        a->used = 0;
#ifdef GOMEM__DEBUG
        gomem__rz_reset(a);
#endif
        GOMEM__POOL_FREED(a->base, a->region.size);
        if (clean && arena_cache_push(a))
            return;
    }
    arena_free_all(a);
}

static int arena_track_block(size_t off, size_t n, void *arg)
{
    gomem_arena *a = arg;
    GOMEM__POOL_FREED(a->base + off, n);
    return 0;
}

/* From now on the tools see exactly what the arena handed out: its free
 * blocks become inaccessible. */
static GOMEM__NOINLINE void arena_track(gomem_arena *a)
{
    (void)gomem_allocator_foreach_free(a->alloc, arena_track_block, a);
    a->tracked = 1;
}

GOMEM_API void *gomem_arena_malloc(gomem_arena *a, size_t n)
{
    size_t off;
    if (!a || n == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (ARENA_TOOLS && GOMEM__UNLIKELY(!a->tracked))
        arena_track(a);
#ifdef GOMEM__DEBUG
    return arena_malloc_debug(a, n);
#endif
    if (gomem_allocator_alloc(a->alloc, n, &off) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    a->used += n;
    GOMEM__POOL_ALLOCATED(a->base + off, n);
    return a->base + off;
}

GOMEM_API int gomem_arena_free(gomem_arena *a, void *p, size_t n)
{
    if (!a || !p || n == 0 || !gomem_arena_contains(a, p))
        return -EINVAL;
    size_t off = (size_t)((unsigned char *)p - a->base);
    if (n > a->size - off)
        return -EINVAL; /* runs past the arena */
#ifdef GOMEM__DEBUG
    return arena_free_debug(a, p, n);
#endif
    int r = gomem_allocator_free(a->alloc, off, n);
    if (r == 0) {
        a->used -= n;
        GOMEM__POOL_FREED(p, n);
    }
    return r;
}

GOMEM_API void *gomem_arena_find(const gomem_arena *a, size_t n)
{
    size_t off;
    if (!a || n == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (gomem_allocator_find(a->alloc, n, &off) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    return a->base + off;
}

GOMEM_API int gomem_arena_contains(const gomem_arena *a, const void *p)
{
    if (!a || !p)
        return 0;
    uintptr_t x = (uintptr_t)p, b = (uintptr_t)a->base;
    return x >= b && x - b < a->size;
}

GOMEM_API size_t gomem_arena_size(const gomem_arena *a)
{
    return a ? a->size : 0;
}

GOMEM_API size_t gomem_arena_free_size(const gomem_arena *a)
{
#ifdef GOMEM__DEBUG
    if (a) /* redzones are free to the user */
        return gomem_allocator_free_size(a->alloc) + gomem__rz_bytes(a);
#endif
    return a ? gomem_allocator_free_size(a->alloc) : 0;
}

GOMEM_API int gomem_arena_foreach_free(const gomem_arena *a, gomem_allocator_visit_fn fn, void *arg)
{
    if (!a || !fn)
        return -EINVAL;
    return gomem_allocator_foreach_free(a->alloc, fn, arg);
}

/* ---------------------------------------------------------------- check */
/* Compiled into the white-box test library only (-DGOMEM__WHITEBOX). */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)

struct arena_walk {
    size_t size, next, total;
    int bad;
};

static int arena_check_block(size_t off, size_t n, void *arg)
{
    struct arena_walk *w = arg;
    if (n == 0 || off < w->next || off > w->size || n > w->size - off) {
        fprintf(stderr, "gomem__arena_check: free block [%zu, +%zu) out of order, touching or out of bounds\n",
                off, n);
        return w->bad = 1;
    }
    w->next = off + n + 1; /* the next block may not touch this one */
    w->total += n;
    return 0;
}

int gomem__arena_check(const gomem_arena *a, size_t reserved)
{
    if (!a)
        return -EINVAL;
    struct arena_walk w = {a->size, 0, 0, 0};
    if (a->base != a->region.base || a->size > a->region.size || !a->alloc ||
        gomem_allocator_size(a->alloc) != a->size ||
        (a->pool_class >= 0 ? a->region.size != arena_class_size(a->pool_class)
                            : a->region.size != a->size)) {
        fprintf(stderr, "gomem__arena_check: arena %p: region and allocator disagree\n", (void *)a);
        return -EFAULT;
    }
    if (gomem_allocator_foreach_free(a->alloc, arena_check_block, &w) != 0 || w.bad)
        return -EFAULT;
    size_t fs = gomem_allocator_free_size(a->alloc);
    if (w.total != fs) {
        fprintf(stderr, "gomem__arena_check: free blocks hold %zu bytes, allocator says %zu\n", w.total, fs);
        return -EFAULT;
    }
    if (a->used > a->size || fs > a->size - a->used || a->used + fs + reserved != a->size) {
        fprintf(stderr, "gomem__arena_check: used %zu + free %zu + reserved %zu != size %zu\n", a->used, fs,
                reserved, a->size);
        return -EFAULT;
    }
    return 0;
}
#endif /* GOMEM__WHITEBOX */
