/* buddy_pool.c - the process-wide pool of buddies with memory (GoMem's
 * GetBuddy/PutBuddy), from which --enable-buddy carves arenas.
 *
 * Each pooled buddy manages a GOMEM__BUDDY_POOL_SIZE anonymous mmap
 * reservation: it costs address space, and physical memory only where a
 * block is touched. Pooled buddies stay reachable from the list below, which
 * is walked under its lock, until gomem_arena_release_idle (also run at
 * exit) unmaps those that are idle: not handed out and without a block in
 * use. Each buddy has its own lock for its blocks. Lock order: pool, then
 * buddy. */
#include "buddy.h"
#include "os.h"

static struct gomem__lock buddy_pool_lock = GOMEM__LOCK_INIT;
static gomem_buddy *buddy_pool_list; /* every pooled buddy, newest first */
static size_t buddy_pool_n;

__attribute__((constructor)) static void buddy_pool_init(void)
{
    gomem__lock_init(&buddy_pool_lock);
}

/* A new pooled buddy, linked into the list. Called with the pool lock. */
static gomem_buddy *buddy_pool_grow(void)
{
    gomem_buddy *b = gomem_buddy_new(GOMEM__BUDDY_POOL_SIZE);
    if (!b)
        return NULL;
    b->base = gomem__os_map(GOMEM__BUDDY_POOL_SIZE, 0);
    if (!b->base) {
        gomem_buddy_destroy(b);
        errno = ENOMEM;
        return NULL;
    }
    b->pooled = 1;
    b->next = buddy_pool_list;
    buddy_pool_list = b;
    buddy_pool_n++;
    return b;
}

GOMEM_API gomem_buddy *gomem_buddy_get(void)
{
    gomem__lock(&buddy_pool_lock);
    gomem_buddy *b = buddy_pool_list;
    while (b && b->held)
        b = b->next;
    if (!b)
        b = buddy_pool_grow();
    if (b)
        b->held = 1;
    gomem__unlock(&buddy_pool_lock);
    return b;
}

GOMEM_API int gomem_buddy_put(gomem_buddy *b)
{
    if (!b)
        return -EINVAL;
    gomem__lock(&buddy_pool_lock);
    int r = b->pooled && b->held ? 0 : -EINVAL;
    if (!r)
        b->held = 0;
    gomem__unlock(&buddy_pool_lock);
    return r;
}

int gomem__buddy_pool_alloc(size_t n, gomem_buddy **owner, void **p)
{
    if (n == 0 || n > GOMEM__BUDDY_POOL_SIZE)
        return -EINVAL;
    size_t off;
    gomem__lock(&buddy_pool_lock);
    gomem_buddy *b = buddy_pool_list;
    while (b && gomem_buddy_alloc(b, n, &off) != 0)
        b = b->next;
    if (!b && (b = buddy_pool_grow()) != NULL && gomem_buddy_alloc(b, n, &off) != 0)
        b = NULL; /* cannot happen: a fresh buddy holds any n up to its size */
    gomem__unlock(&buddy_pool_lock);
    if (!b)
        return -ENOMEM;
    *owner = b;
    *p = b->base + off;
    return 0;
}

void gomem__buddy_pool_free(gomem_buddy *owner, void *p)
{
    (void)gomem_buddy_free(owner, (size_t)((unsigned char *)p - owner->base));
}

size_t gomem__buddy_pool_count(void)
{
    gomem__lock(&buddy_pool_lock);
    size_t n = buddy_pool_n;
    gomem__unlock(&buddy_pool_lock);
    return n;
}

size_t gomem__buddy_pool_release(void)
{
    size_t released = 0;
    gomem__lock(&buddy_pool_lock);
    for (gomem_buddy **link = &buddy_pool_list; *link;) {
        gomem_buddy *b = *link;
        gomem__lock(&b->lock);
        int idle = !b->held && b->used == 0;
        gomem__unlock(&b->lock);
        if (!idle) {
            link = &b->next;
            continue;
        }
        *link = b->next;
        buddy_pool_n--;
        gomem__os_unmap(b->base, b->size);
        released += b->size;
        b->pooled = 0; /* now gomem_buddy_destroy frees it */
        gomem_buddy_destroy(b);
    }
    gomem__unlock(&buddy_pool_lock);
    return released;
}
