/* arena.c - arenas (GoMem's MemoryAllocator): one contiguous region from a
 * backing plus an offset allocator over it, and the thread-safe pool that
 * recycles arenas of the standard sizes (GoMem's sync.Pool).
 *
 * An arena is not locked: one thread at a time uses it. The pool is a
 * spinlocked LIFO per standard size (lib/lock.h, atomic_ops.h), capped so
 * that idle arenas never hold more than POOL_CAP of each size. */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>

#include "lock.h"

int (*gomem__arena_fail_hook)(size_t size);

/* ---------------------------------------------------------------- pool */

#define POOL_CAP 64

static const size_t arena_pool_sizes[] = {1024, 4096, 16384};
#define POOL_CLASSES ((int)(sizeof arena_pool_sizes / sizeof arena_pool_sizes[0]))

static struct arena_pool {
    struct gomem__lock lock;
    gomem_arena *head;
    size_t n;
} arena_pool[POOL_CLASSES];

__attribute__((constructor)) static void arena_pool_init(void)
{
    for (int c = 0; c < POOL_CLASSES; c++)
        gomem__lock_init(&arena_pool[c].lock);
}

static int arena_pool_class(size_t size)
{
    for (int c = 0; c < POOL_CLASSES; c++)
        if (arena_pool_sizes[c] == size)
            return c;
    return -1;
}

static gomem_arena *arena_pool_pop(int c)
{
    struct arena_pool *p = &arena_pool[c];
    gomem__lock(&p->lock);
    gomem_arena *a = p->head;
    if (a) {
        p->head = a->next;
        p->n--;
    }
    gomem__unlock(&p->lock);
    return a;
}

/* 1 if the pool took the arena (already reset), 0 if it is full. */
static int arena_pool_push(gomem_arena *a)
{
    struct arena_pool *p = &arena_pool[a->pool_class];
    gomem__lock(&p->lock);
    int took = p->n < POOL_CAP;
    if (took) {
        a->next = p->head;
        p->head = a;
        p->n++;
    }
    gomem__unlock(&p->lock);
    return took;
}

size_t gomem__arena_pool_idle(size_t size)
{
    int c = arena_pool_class(size);
    if (c < 0)
        return 0;
    gomem__lock(&arena_pool[c].lock);
    size_t n = arena_pool[c].n;
    gomem__unlock(&arena_pool[c].lock);
    return n;
}

static void arena_free_all(gomem_arena *a)
{
    a->backing->put(&a->region);
    gomem_allocator_destroy(a->alloc);
    free(a);
}

void gomem__arena_pool_drain(void)
{
    for (int c = 0; c < POOL_CLASSES; c++) {
        gomem_arena *a;
        while ((a = arena_pool_pop(c)) != NULL)
            arena_free_all(a);
    }
}

/* ---------------------------------------------------------------- arena */

gomem_arena *gomem__arena_new_with(const struct gomem__backing *b, size_t size)
{
    if (!b || size == 0) {
        errno = EINVAL;
        return NULL;
    }
    gomem_arena *a = malloc(sizeof *a);
    if (!a)
        goto nomem;
    if ((gomem__arena_fail_hook && gomem__arena_fail_hook(size)) || b->get(size, &a->region) != 0)
        goto free_struct;
    if (!(a->alloc = gomem_allocator_new(size)))
        goto put_region;
    a->base = a->region.base;
    a->size = size;
    a->used = 0;
    a->backing = b;
    a->pool_class = -1;
    a->next = NULL;
    return a;
put_region:
    b->put(&a->region);
free_struct:
    free(a);
nomem:
    errno = ENOMEM;
    return NULL;
}

GOMEM_API gomem_arena *gomem_arena_new(size_t size)
{
    int c = arena_pool_class(size);
    gomem_arena *a = c >= 0 ? arena_pool_pop(c) : NULL;
    if (a)
        return a;
    a = gomem__arena_new_with(gomem__backing_default(), size);
    if (a)
        a->pool_class = c;
    return a;
}

GOMEM_API void gomem_arena_destroy(gomem_arena *a)
{
    if (!a)
        return;
    if (a->pool_class >= 0) {
        /* Cannot fail: a is valid and its size is not 0. */
        (void)gomem_allocator_reset(a->alloc, a->size);
        a->used = 0;
        if (arena_pool_push(a))
            return;
    }
    arena_free_all(a);
}

GOMEM_API void *gomem_arena_malloc(gomem_arena *a, size_t n)
{
    size_t off;
    if (!a || n == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (gomem_allocator_alloc(a->alloc, n, &off) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    a->used += n;
    return a->base + off;
}

GOMEM_API int gomem_arena_free(gomem_arena *a, void *p, size_t n)
{
    if (!a || !p || n == 0 || !gomem_arena_contains(a, p))
        return -EINVAL;
    size_t off = (size_t)((unsigned char *)p - a->base);
    if (n > a->size - off)
        return -EINVAL; /* runs past the arena */
    int r = gomem_allocator_free(a->alloc, off, n);
    if (r == 0)
        a->used -= n;
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
    return a ? gomem_allocator_free_size(a->alloc) : 0;
}

GOMEM_API int gomem_arena_foreach_free(const gomem_arena *a, gomem_allocator_visit_fn fn, void *arg)
{
    if (!a || !fn)
        return -EINVAL;
    return gomem_allocator_foreach_free(a->alloc, fn, arg);
}

/* ---------------------------------------------------------------- check */

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
    if (a->base != a->region.base || a->size != a->region.size || !a->alloc ||
        gomem_allocator_size(a->alloc) != a->size) {
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
