/* arena.h - an arena's structure and the internal calls the scalable
 * allocator, the tests and the benchmark use (lib/arena.c). */
#ifndef GOMEM_ARENA_H
#define GOMEM_ARENA_H

#include "backing.h"
#include "internal.h"

struct gomem_arena {
    unsigned char *base;       /* region.base */
    size_t size;               /* bytes of the arena, at most region.size */
    size_t used;               /* bytes handed out and not given back */
    gomem_allocator *alloc;    /* free ranges of [0, size) */
    const struct gomem__backing *backing;
    struct gomem__region region; /* its size class's bytes, or size */
    int pool_class;            /* its size class in the cache, or -1 */
    int tracked;               /* free space reported inaccessible to the tools */
    struct gomem_arena *next;  /* link in the cache */
#ifdef GOMEM__DEBUG
    unsigned char *rz;         /* where live redzones start: a bit per byte of region, or NULL */
    size_t rz_bytes;           /* bytes in live redzones (counted in used, not by the user) */
#endif
};

/* gomem_arena_new on a given backing, through that backing's cache (the
 * benchmark and white-box tests use it to drive each backing). NULL with
 * errno EINVAL or ENOMEM. */
gomem_arena *gomem__arena_new_with(const struct gomem__backing *b, size_t size);

/* Check an arena: its free blocks are in bounds, sorted and never touch,
 * and used + free + reserved == size, where reserved counts bytes carved
 * from the offset allocator but not handed out (the scalable allocator's
 * bump chunk). 0, or -EFAULT with a message on stderr. O(free blocks). */
int gomem__arena_check(const gomem_arena *a, size_t reserved);

/* Test hook: when set, called before each region is taken from a backing;
 * a non-zero return makes that attempt fail as if the system had no
 * memory. Not thread-safe to change while arenas are being created. */
extern int (*gomem__arena_fail_hook)(size_t size);

/* Idle arenas in the cache of this build's backing for the size class of
 * size (0 for sizes that are not pooled). */
size_t gomem__arena_pool_idle(size_t size);

/* The same for the cache of backing b (0 for a NULL b). */
size_t gomem__arena_pool_idle_with(const struct gomem__backing *b, size_t size);

/* Release every idle arena and buddy: gomem_arena_release_idle() for the
 * tests, before a leak check. */
void gomem__arena_pool_drain(void);

/* Redzones (debug builds; internal.h says what they are). An arena keeps
 * a record of the redzones in it, whoever carved them (gomem_arena_malloc,
 * the scalable allocator): a bit per byte of its region, allocated at the
 * first redzone, under one process-wide mutex (the scalable allocator's
 * threads share arenas). Redzone bytes are carved from the offset
 * allocator and counted in used; the statistics the user sees leave them
 * out.
 *
 * gomem__rz_ready: 0 when a's record exists (made now if need be), else
 *   -ENOMEM: the caller allocates without a redzone.
 * gomem__rz_mark: record the redzone [at, at + GOMEM__REDZONE) (carved,
 *   inside a) and make it inaccessible to the tools.
 * gomem__rz_meets: 1 if [p, p + n) holds a byte of a live redzone.
 * gomem__rz_take: 1 if a redzone starts at at (its record is dropped: the
 *   caller frees it with the bytes before it), else 0.
 * gomem__rz_untake: record again a redzone taken for a free that failed.
 * gomem__rz_reset: drop every record (the arena's tree was reset).
 * gomem__rz_at: 1 if a redzone starts at at (the tests).
 * gomem__rz_bytes: the bytes of a's live redzones. */
#ifdef GOMEM__DEBUG
int gomem__rz_ready(gomem_arena *a);
void gomem__rz_mark(gomem_arena *a, unsigned char *at);
int gomem__rz_meets(gomem_arena *a, const unsigned char *p, size_t n);
int gomem__rz_take(gomem_arena *a, const unsigned char *at);
void gomem__rz_untake(gomem_arena *a, const unsigned char *at);
void gomem__rz_reset(gomem_arena *a);
int gomem__rz_at(gomem_arena *a, const unsigned char *at);
size_t gomem__rz_bytes(const gomem_arena *a);
/* used + free == size and redzones within used, with a message on stderr
 * when not: what debug builds check after each arena call, in O(1) (the
 * offset allocator checks its tree itself). 0 or -EFAULT. */
int gomem__arena_check_quick(const gomem_arena *a);
#endif

#endif /* GOMEM_ARENA_H */
