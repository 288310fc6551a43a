/* backing.h - the internal contract of arena backings: where the one
 * contiguous region of an arena comes from.
 *
 * One file per backing (lib/backing_heap.c, lib/backing_mmap.c,
 * lib/backing_buddy.c), each in its own convenience library so the
 * white-box tests and the benchmark drive all three whatever configure
 * chose; lib/backing.c names the one this build's arenas use. */
#ifndef GOMEM_BACKING_H
#define GOMEM_BACKING_H

#include "internal.h"

/* A region handed out by a backing. */
struct gomem__region {
    unsigned char *base;
    size_t size;  /* what was asked for */
    void *cookie; /* the backing's own (the owning buddy) */
};

/* Each backing's index (arena.c keeps a cache per backing). */
enum { GOMEM__BACKING_HEAP, GOMEM__BACKING_MMAP, GOMEM__BACKING_BUDDY, GOMEM__BACKINGS };

struct gomem__backing {
    const char *name;
    int id; /* GOMEM__BACKING_* */
    /* Fill *r with a region of size bytes: 0, -EINVAL for size 0, -ENOMEM
     * when the system has no memory (then *r is unchanged). Thread-safe. */
    int (*get)(size_t size, struct gomem__region *r);
    /* Give a region back. Thread-safe. */
    void (*put)(struct gomem__region *r);
};

extern const struct gomem__backing gomem__backing_heap; /* malloc/free */
extern const struct gomem__backing gomem__backing_mmap; /* mmap + THP/munmap */
extern const struct gomem__backing gomem__backing_buddy; /* the buddy pool */

/* The backing of this build (heap, or mmap for --enable-mmap, or buddy for
 * --enable-buddy, which wins when both are given). */
const struct gomem__backing *gomem__backing_default(void);

#endif /* GOMEM_BACKING_H */
