/* buddy.h - the buddy allocator's structure, shared by lib/buddy.c (the
 * algorithm) and lib/buddy_pool.c (the process-wide pool of buddies with
 * memory), and what the buddy backing of arenas uses. */
#ifndef GOMEM_BUDDY_H
#define GOMEM_BUDDY_H

#include "internal.h"
#include "lock.h"

/* The tree is a complete binary tree stored breadth first (children of node
 * i are 2i+1 and 2i+2). A node of order o covers GOMEM_BUDDY_MIN_BLOCK << o
 * bytes; its byte is 0 when its subtree has no free block (or the node is
 * itself an allocated block), else 1 + log2 of the longest free block in it,
 * in units of GOMEM_BUDDY_MIN_BLOCK. So a node of order o is wholly free
 * when its byte is o + 1, and every node under a wholly free or allocated
 * node reads wholly free. */
struct gomem_buddy {
    struct gomem__lock lock;
    size_t size;              /* bytes managed, a power of two */
    size_t used;              /* bytes in allocated blocks */
    unsigned order;           /* log2(size / GOMEM_BUDDY_MIN_BLOCK) */
    int pooled;               /* belongs to the shared pool */
    int held;                 /* pooled, and handed out by gomem_buddy_get */
    unsigned char *base;      /* memory of a pooled buddy, else NULL */
    struct gomem_buddy *next; /* the pool's list */
    unsigned char tree[];     /* 2 * (size / GOMEM_BUDDY_MIN_BLOCK) - 1 bytes */
};

/* The size of each buddy of the shared pool (GoMem's BuddySize). */
#define GOMEM__BUDDY_POOL_SIZE ((size_t)512 << 20)

/* Walk the whole tree: 0 when every invariant holds, else -EFAULT with a
 * message on stderr. Takes the buddy's lock. O(size / MIN_BLOCK). */
int gomem__buddy_check(gomem_buddy *b);

/* A block of at least n bytes from the shared pool, growing the pool by a
 * new buddy when every buddy is full: 0 with *owner and *p set, -EINVAL
 * for n == 0 or n > GOMEM__BUDDY_POOL_SIZE, -ENOMEM. Thread-safe. */
int gomem__buddy_pool_alloc(size_t n, gomem_buddy **owner, void **p);

/* Give back a block from gomem__buddy_pool_alloc. Thread-safe. */
void gomem__buddy_pool_free(gomem_buddy *owner, void *p);

/* How many buddies the shared pool holds. Thread-safe. */
size_t gomem__buddy_pool_count(void);

/* Unmap and free every pooled buddy that is not handed out and has no
 * block allocated; returns the bytes of address space given back.
 * Thread-safe. O(pool size). */
size_t gomem__buddy_pool_release(void);

#endif /* GOMEM_BUDDY_H */
