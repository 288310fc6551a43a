/* gomem.h - libgomem: pooled memory, buffers and readers for C.
 *
 * libgomem is GoMem, the memory library of the Monibuca media server,
 * rebuilt as a C system library. See gomem(3) for an overview.
 *
 * Conventions (every call follows them):
 *   - Calls that return a pointer return NULL on failure and set errno
 *     (EINVAL for bad arguments, ENOMEM when memory ran out).
 *   - Calls that return int return 0 on success or a negative errno value
 *     (-EINVAL, -ENOMEM, -ENODATA for a reader that ran out of data).
 *     gomem_strerror() names them.
 *   - Sizes and offsets are size_t. No call aborts the process on bad
 *     input; a refused call changes nothing.
 *   - Heap objects have new/destroy; value types the caller embeds have
 *     init/destroy. destroy accepts NULL.
 */
#ifndef GOMEM_H
#define GOMEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <gomem-features.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define GOMEM_API __attribute__((visibility("default")))
#define GOMEM_MALLOC __attribute__((malloc))
#define GOMEM_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define GOMEM_API
#define GOMEM_MALLOC
#define GOMEM_WARN_UNUSED
#endif

/* ================================================================ version,
 * features, errors */

/* Bits of gomem_features(): which variant the loaded library was built as. */
#define GOMEM_FEATURE_TWOTREE 0x1u /* offset allocator: two AVL trees */
#define GOMEM_FEATURE_BUDDY 0x2u   /* arenas from the shared buddy pool */
#define GOMEM_FEATURE_MMAP 0x4u    /* arenas are mmap regions with THP */
#define GOMEM_FEATURE_RM 0x8u      /* recyclable memory is pooled */

/* The version of the loaded library, "MAJOR.MINOR.PATCH". Never fails. */
GOMEM_API const char *gomem_version(void);

/* The GOMEM_FEATURE_* bits of the loaded library. Never fails. */
GOMEM_API unsigned gomem_features(void);

/* A static, human-readable description of an error returned by a libgomem
 * call (a negative errno value; a positive one is accepted too). Never
 * returns NULL. Thread-safe. */
GOMEM_API const char *gomem_strerror(int err);

/* ================================================================ offset
 * allocator (GoMem's Allocator): bookkeeping of free ranges in [0, size).
 * It owns no memory of its own; the caller maps offsets to whatever it
 * manages. Not thread-safe: one allocator is used by one thread at a time.
 *
 * Free blocks are filed in size classes and indexed by address in a B+tree.
 * The default build is good fit (classes listed newest first, found through
 * a bitmap); --enable-twotree is best fit (an AVL tree by length in each
 * class), lowest offset on ties. Both are O(log n) in the worst case in the
 * number of free blocks and take their nodes from a node pool. */

typedef struct gomem_allocator gomem_allocator;

/* A new allocator whose whole range [0, size) is free.
 * Fails: EINVAL if size is 0; ENOMEM. */
GOMEM_API GOMEM_MALLOC gomem_allocator *gomem_allocator_new(size_t size);

/* Carve n bytes from the start of a free block and store its offset in
 * *off. Fails only when no free run of n bytes exists (-ENOMEM); -EINVAL for
 * a NULL a or off, or n == 0. -ENOMEM also if a tree node could not be
 * allocated (then nothing changed). O(log n). */
GOMEM_API int gomem_allocator_alloc(gomem_allocator *a, size_t n, size_t *off);

/* Release [off, off + n). The range may be any currently allocated range: a
 * whole earlier allocation, its head, its tail or a piece of its middle.
 * Free neighbours coalesce. -EINVAL, changing nothing, when a is NULL, n is 0,
 * off + n overflows or exceeds the size, or the range overlaps free space (a
 * double free). -ENOMEM if a tree node could not be allocated. O(log n). */
GOMEM_API int gomem_allocator_free(gomem_allocator *a, size_t off, size_t n);

/* Store in *off the offset gomem_allocator_alloc(a, n) would return, without
 * allocating. -ENOMEM when no free run of n bytes exists; -EINVAL for NULL
 * arguments or n == 0. O(log n). */
GOMEM_API int gomem_allocator_find(const gomem_allocator *a, size_t n, size_t *off);

/* Free bytes in total (0 for NULL). O(1). */
GOMEM_API size_t gomem_allocator_free_size(const gomem_allocator *a);

/* The size of the managed range (0 for NULL). O(1). */
GOMEM_API size_t gomem_allocator_size(const gomem_allocator *a);

/* Forget every allocation: [0, size) becomes one free block. size may
 * differ from the old one; tree nodes are kept for reuse. -EINVAL for a
 * NULL a or size 0 (then nothing changed). O(n). */
GOMEM_API int gomem_allocator_reset(gomem_allocator *a, size_t size);

/* Callback of gomem_allocator_foreach_free: a free block [off, off + n).
 * A non-zero return stops the walk. */
typedef int (*gomem_allocator_visit_fn)(size_t off, size_t n, void *arg);

/* Call fn on every free block in address order. Returns 0 after a full
 * walk, the first non-zero value fn returned, or -EINVAL for a NULL a or fn.
 * fn must not modify the allocator. */
GOMEM_API int gomem_allocator_foreach_free(const gomem_allocator *a,
                                           gomem_allocator_visit_fn fn, void *arg);

/* Release the allocator and its nodes. NULL is ignored. */
GOMEM_API void gomem_allocator_destroy(gomem_allocator *a);

/* ================================================================ buddy
 * allocator (GoMem's Buddy): power-of-two blocks of at least
 * GOMEM_BUDDY_MIN_BLOCK bytes over [0, size). Metadata is one byte per tree
 * node (2 * size / GOMEM_BUDDY_MIN_BLOCK bytes in all). A buddy is
 * internally locked: its calls are safe from several threads. */

#define GOMEM_BUDDY_MIN_BLOCK ((size_t)1024)

typedef struct gomem_buddy gomem_buddy;

/* A bookkeeping-only buddy over [0, size): it owns no memory. size must be
 * a power of two, at least GOMEM_BUDDY_MIN_BLOCK. Fails: EINVAL; ENOMEM.
 * O(size / GOMEM_BUDDY_MIN_BLOCK). The caller owns it (gomem_buddy_destroy). */
GOMEM_API GOMEM_MALLOC gomem_buddy *gomem_buddy_new(size_t size);

/* Allocate a block of n bytes rounded up to a power of two (at least
 * GOMEM_BUDDY_MIN_BLOCK); its offset goes to *off. -EINVAL for n == 0, n
 * larger than the buddy or NULL arguments; -ENOMEM when no block is free.
 * O(log(size / GOMEM_BUDDY_MIN_BLOCK)). Thread-safe. */
GOMEM_API int gomem_buddy_alloc(gomem_buddy *b, size_t n, size_t *off);

/* Free the block that starts at off. -EINVAL, changing nothing, when b is
 * NULL or off is not the start of an allocated block (out of range,
 * unaligned, inside a block, or already free).
 * O(log(size / GOMEM_BUDDY_MIN_BLOCK)). Thread-safe. */
GOMEM_API int gomem_buddy_free(gomem_buddy *b, size_t off);

/* Release a buddy from gomem_buddy_new. NULL is ignored, and so is a buddy
 * of the shared pool (gomem_arena_release_idle releases the idle ones). */
GOMEM_API void gomem_buddy_destroy(gomem_buddy *b);

/* A buddy of the process-wide pool (GoMem's GetBuddy), for the caller's
 * use until gomem_buddy_put. Unlike gomem_buddy_new, it owns memory: a
 * 512 MiB anonymous mmap reservation at gomem_buddy_base(), which costs
 * physical memory only where the caller touches it. Block offsets map to
 * base + off. Returns an idle pooled buddy, or grows the pool by a new one.
 * NULL with errno ENOMEM when the reservation fails. Thread-safe; O(pool
 * size). The buddy stays the pool's: its blocks stay valid after put, and
 * it is destroyed only by gomem_arena_release_idle (or at exit) once it is
 * put back and holds no block, so do not use it after put. */
GOMEM_API gomem_buddy *gomem_buddy_get(void);

/* Hand a buddy from gomem_buddy_get back to the pool (GoMem's PutBuddy).
 * Its allocated blocks stay allocated. -EINVAL, changing nothing, for NULL,
 * a buddy not from the pool, or one not currently handed out. Thread-safe. */
GOMEM_API int gomem_buddy_put(gomem_buddy *b);

/* The memory of a pooled buddy; NULL for one from gomem_buddy_new (or
 * NULL). O(1). Thread-safe. */
GOMEM_API void *gomem_buddy_base(const gomem_buddy *b);

/* The bytes a buddy manages (0 for NULL). O(1). Thread-safe. */
GOMEM_API size_t gomem_buddy_size(const gomem_buddy *b);

/* The bytes of its free blocks (0 for NULL). O(1). Thread-safe. */
GOMEM_API size_t gomem_buddy_free_size(gomem_buddy *b);

/* ================================================================ arenas
 * (GoMem's MemoryAllocator): one contiguous region plus an offset
 * allocator over it. The region comes from the heap (default), an mmap
 * region with transparent huge pages (--enable-mmap) or a block of the
 * shared buddy pool (--enable-buddy). Arenas of the pooled sizes (up to
 * 64 MiB) are kept whole when destroyed, in a bounded, thread-safe cache
 * (per size class, a power of two from 1 KiB: at most 1 MiB of idle arenas,
 * and at least one; about 134 MiB per backing at most), so creating and
 * destroying one costs no system call once the cache holds one. An arena is not locked: use one from one thread
 * at a time (creating and destroying arenas is thread-safe). Memory is
 * byte-granular: a pointer is aligned only as far as the sizes allocated
 * before it make it. Built with --enable-valgrind-annotations or ASan, the
 * bytes an arena has not handed out are inaccessible to memcheck and ASan
 * from its first gomem_arena_malloc on. */

typedef struct gomem_arena gomem_arena;

/* A new arena of size bytes, all free (a pooled size comes from the cache
 * when an arena of its class is idle there: O(1), no system call). Fails:
 * EINVAL for size 0; ENOMEM. The caller owns it (gomem_arena_destroy).
 * Thread-safe. */
GOMEM_API GOMEM_MALLOC gomem_arena *gomem_arena_new(size_t size);

/* n bytes of the arena (good fit, or best fit with --enable-twotree), or
 * NULL with errno EINVAL (a NULL, n == 0) or ENOMEM (no free run of n
 * bytes). O(log free blocks). */
GOMEM_API void *gomem_arena_malloc(gomem_arena *a, size_t n);

/* Give back [p, p + n): any currently allocated range of the arena (a
 * whole allocation, its head, tail or middle). -EINVAL, changing nothing,
 * for NULL arguments, n == 0, a pointer outside the arena, a range that
 * runs past its end or overlaps free space (a double free); -ENOMEM when a
 * tree node could not be allocated. O(log free blocks). */
GOMEM_API int gomem_arena_free(gomem_arena *a, void *p, size_t n);

/* Where gomem_arena_malloc(a, n) would put n bytes, without allocating
 * them: NULL with errno EINVAL (a NULL, n == 0) or ENOMEM. O(log free
 * blocks). */
GOMEM_API void *gomem_arena_find(const gomem_arena *a, size_t n);

/* 1 if p points into the arena's region, else 0 (also for NULL). O(1). */
GOMEM_API int gomem_arena_contains(const gomem_arena *a, const void *p);

/* The arena's size in bytes (0 for NULL). O(1). */
GOMEM_API size_t gomem_arena_size(const gomem_arena *a);

/* Its free bytes in total (0 for NULL). O(1). */
GOMEM_API size_t gomem_arena_free_size(const gomem_arena *a);

/* Call fn on every free block of the arena in address order, as offsets
 * from its base (GoMem's GetBlocks). Returns 0 after a full walk, the first
 * non-zero value fn returned, or -EINVAL for a NULL a or fn. fn must not
 * change the arena. O(free blocks). */
GOMEM_API int gomem_arena_foreach_free(const gomem_arena *a, gomem_allocator_visit_fn fn, void *arg);

/* Release an arena and everything allocated from it (a pooled size goes
 * to the cache unless its class is full, then back to the system). NULL is
 * ignored. Thread-safe for distinct arenas. */
GOMEM_API void gomem_arena_destroy(gomem_arena *a);

/* Give back to the system every idle arena of the cache and every buddy of
 * the shared pool that is not handed out and has no block in use; returns
 * the bytes released. Later calls refill the cache and the pool as needed.
 * It also runs at exit (a destructor), so a leak checker sees none of this
 * memory; call it earlier to give memory back after a burst. Thread-safe.
 * O(idle arenas + pooled buddies). */
GOMEM_API size_t gomem_arena_release_idle(void);

/* ================================================================ the
 * scalable allocator (GoMem's ScalableMemoryAllocator): a growing set of
 * arenas, each new one twice the last, up to 4 MiB whatever the first
 * was; a larger request gets an arena of its own size. Memory is
 * byte-granular, like an arena's.
 *
 * Each thread that calls an allocator gets a bump chunk of its own (up to
 * 256 KiB) carved from the arenas: malloc takes its next bytes, a free of
 * the last bytes the thread took gives them back, and frees in another
 * order inside it are held back (up to 16 blocks) until they reach the
 * end in use. When 64 of a thread's frees over one chunk go to the tree
 * instead (out of order beyond that, or of older chunks), its requests of
 * up to 4 KiB come from spans of its own from then on: a free block of
 * the request's size class (28 classes: 16 to 128 bytes in steps of 16,
 * then four per power of two) from a span (128 blocks, 4 to 256 KiB); the
 * thread's free of such a whole block puts it back for the next malloc
 * of the class, in any order. When 1024 of its frees have left a span
 * wholly free or given back the block its last malloc took (pairs,
 * batches freed whole), with none of its spans filling up meanwhile but
 * by such a pair, its requests come from its chunk again. These run
 * without a lock or an atomic read-modify-write. Each block records how
 * many of its bytes are handed out (the rest of the class size, "slack",
 * is handed out to nobody), so every free is validated exactly there
 * too. Every other free (a head or middle of a block, another thread's
 * memory, out of order in a chunk beyond what the thread holds back)
 * takes the allocator's lock: a block it meets is "broken", its slack
 * given to the owning arena's offset allocator, which from then on holds
 * exactly what is allocated there. Whichever thread frees a range and
 * wherever it lies, a range not wholly allocated is refused.
 *
 * Thread safety: every call is thread-safe except gomem_scalable_recycle
 * and gomem_scalable_destroy, which no other call on the same allocator
 * may overlap. Two threads freeing the same bytes at once is a race in
 * the caller (one of the frees is refused only when they are ordered).
 * A thread that exits gives its chunk and spans back; gomem_scalable_destroy
 * and gomem_scalable_recycle take every chunk and span back. A span whose
 * blocks are all free goes back when four others of its class have free
 * blocks. An arena whose bytes are all free goes back to its pool or the
 * system, unless it is the last one or holds a thread's chunk or span;
 * gomem_scalable_trim releases those too (but not other threads' chunks
 * and spans). Memory held for a thread (free blocks, slack, the chunk's
 * tail) counts in capacity, not in in_use. */
typedef struct gomem_scalable gomem_scalable;

/* Counters of a scalable allocator. Each thread counts its own calls; a
 * snapshot sums them (each thread's pair read consistently), so it is
 * exact whenever no other thread is allocating, and while they are,
 * in_use is never below the bytes truly in use. */
struct gomem_scalable_stats {
    uint64_t malloc_bytes; /* handed out by malloc (and read) since new */
    uint64_t free_bytes;   /* given back since new (recycle counts all in use) */
    size_t in_use;         /* malloc_bytes - free_bytes; borrow counts nothing */
    size_t capacity;       /* bytes in all arenas */
    size_t arenas;         /* how many arenas */
};

/* A scalable allocator whose first arena holds size bytes; each new arena
 * is twice the last, up to 4 MiB (a first arena above 4 MiB is followed
 * by 4 MiB ones). Fails: EINVAL for size 0; ENOMEM. The caller owns it
 * (gomem_scalable_destroy). */
GOMEM_API GOMEM_MALLOC gomem_scalable *gomem_scalable_new(size_t size);

/* n bytes of pool memory, or NULL with errno EINVAL (n == 0, s NULL) or
 * ENOMEM (no memory for an arena, a tree node or the thread's cache; the
 * allocator stays usable). O(1) with no lock while the calling thread's
 * chunk has room, or (a thread on spans, n <= 4096) a span of n's class
 * has a free block, else O(arenas * log free blocks + the thread's spans)
 * under the lock. Requests above 4 MiB always take the lock. Thread-safe. */
GOMEM_API void *gomem_scalable_malloc(gomem_scalable *s, size_t n);

/* Give back [p, p + n): any currently allocated sub-range of what
 * gomem_scalable_malloc returned, from any thread. -EINVAL, changing
 * nothing, for NULL arguments, n == 0, a pointer no arena of s owns, a
 * range already free (also when it sits in a thread's chunk), or one that
 * runs past its arena; -ENOMEM when a tree node could not be allocated
 * (nothing changed). O(1) without a lock for a whole block the calling
 * thread took from its spans or the last bytes it took from its chunk,
 * else O(log arenas + log free blocks + threads + blocks met) under the
 * lock. Thread-safe. */
GOMEM_API int gomem_scalable_free(gomem_scalable *s, void *p, size_t n);

/* Keep the first keep bytes of the allocation [p, p + n) and give back the
 * rest (GoMem's FreeRest); keep == n frees nothing. -EINVAL for keep > n
 * and as gomem_scalable_free. Thread-safe. */
GOMEM_API int gomem_scalable_free_rest(gomem_scalable *s, void *p, size_t n, size_t keep);

/* n bytes of scratch memory that stay valid only until the next call on s
 * from any thread (GoMem's Borrow); today they are the free tail of the
 * calling thread's chunk, which only that thread's next call can hand
 * out. Nothing is allocated: never free it, and the counters do not move.
 * NULL with errno EINVAL or ENOMEM. O(1) without a lock while the chunk
 * has room. Thread-safe. */
GOMEM_API void *gomem_scalable_borrow(gomem_scalable *s, size_t n);

/* Read up to n bytes from fd into new pool memory (GoMem's Read): returns
 * the count r > 0 with *out pointing at r allocated bytes (free them with
 * gomem_scalable_free(s, *out, r)); the unused tail is given back at once
 * and never counted. Returns 0 at end of file, or a negative errno:
 * -EINVAL (NULL s or out, n == 0 or above SSIZE_MAX), -ENOMEM, -EAGAIN (a
 * non-blocking fd had no data) or whatever read(2) failed with; then *out
 * is NULL, nothing is allocated and the counters have not moved. EINTR is
 * retried. No lock is held while read(2) blocks. Thread-safe. */
GOMEM_API ssize_t gomem_scalable_read(gomem_scalable *s, int fd, size_t n, void **out);

/* Give the calling thread's chunk and spans back, then release every
 * arena whose bytes are all free, even the last one (the next malloc makes
 * a new arena). Arenas holding other threads' chunks or spans stay. Then, as
 * gomem_arena_release_idle does, the process-wide cache of idle arenas
 * goes back to the system. Returns the bytes of s released (0 for NULL).
 * O(arenas). Thread-safe. */
GOMEM_API size_t gomem_scalable_trim(gomem_scalable *s);

/* Give every arena back to its pool or the system in one call (GoMem's
 * Recycle), whatever is still allocated: the allocator is left empty (no
 * arena) and usable, every thread's chunk dropped, and the counters say
 * that everything in use was freed. Memory it handed out, or lent through
 * borrow, becomes invalid: using or freeing it afterwards is undefined.
 * 0, or -EINVAL for NULL. O(arenas + threads). Not thread-safe: no other
 * call on s may run at the same time. */
GOMEM_API int gomem_scalable_recycle(gomem_scalable *s);

/* Callback of gomem_scalable_foreach_arena: an arena [base, base + size)
 * with free_bytes not handed out (the unused part of threads' chunks,
 * their spans' free blocks and slack included). A non-zero return stops
 * the walk. */
typedef int (*gomem_scalable_visit_fn)(void *base, size_t size, size_t free_bytes, void *arg);

/* Call fn on every arena of s in address order (GoMem's GetChildren).
 * Returns 0 after a full walk, the first non-zero value fn returned, or
 * -EINVAL for a NULL s or fn. The allocator's lock is held during the
 * walk, so the arenas cannot change under it, other threads' calls that
 * need the lock wait, and fn must not call gomem_scalable_* on s (it
 * would deadlock). free_bytes is a snapshot: threads' lock-free mallocs
 * and frees go on. O(arenas * threads + span blocks). Thread-safe. */
GOMEM_API int gomem_scalable_foreach_arena(gomem_scalable *s, gomem_scalable_visit_fn fn, void *arg);

/* Store the counters in *st without taking the allocator's lock (a
 * snapshot as described at struct gomem_scalable_stats: lock-free, each
 * part retried while its writer is mid-update). -EINVAL for NULL
 * arguments. O(threads that used s). Thread-safe. */
GOMEM_API int gomem_scalable_stats(const gomem_scalable *s, struct gomem_scalable_stats *st);

/* Release the allocator, every arena and every thread's cache; memory it
 * handed out becomes invalid. NULL is ignored. Not thread-safe: no other
 * call on s may run at the same time (threads that used s may still be
 * running, or exit, as long as they no longer call it). */
GOMEM_API void gomem_scalable_destroy(gomem_scalable *s);

/* ================================================================ object
 * pool (GoMem's Pool[T]): objects of one fixed size, carved from arenas
 * (slabs of twice the last one's objects), handed out by get and taken
 * back by put. A free object goes to the calling thread's cache (no lock,
 * no atomic instruction) and moves in batches between that cache and a
 * locked list the threads share; a thread's exit gives its cache back.
 *
 * Thread safety: get and put are safe from any number of threads, and an
 * object may be put by another thread than the one that got it (handed
 * over with the usual synchronization). new and destroy are not: destroy
 * must not run while another thread uses the pool.
 *
 * Objects are never freed one by one: a pool's memory grows to its
 * largest simultaneous use and goes back at destroy. An object keeps its
 * contents while in the pool, as reset left them. */

typedef struct gomem_objpool gomem_objpool;

/* Callback of the object pool: obj is the object, arg the pool's. */
typedef void (*gomem_objpool_fn)(void *obj, void *arg);

/* A pool of objects of size bytes, each aligned to align (a power of two
 * up to 4096; 0 picks the largest power of two up to 16 that divides
 * size, which suits any type of that size). init (may be NULL, GoMem's
 * SetNew) runs once per object, when the pool first carves it from a
 * slab: in the thread whose get needed it, without the pool's lock,
 * before any get returns it (a get may construct a batch at once).
 * reset (may be NULL) runs in put, in the putting thread, on every
 * object put accepts, before it is back in the pool. Neither runs
 * anywhere else, and neither may call the pool. NULL with errno EINVAL
 * (size 0, a bad align) or ENOMEM. Allocates no slab yet. */
GOMEM_API GOMEM_MALLOC gomem_objpool *gomem_objpool_new(size_t size, size_t align,
                                                        gomem_objpool_fn init,
                                                        gomem_objpool_fn reset, void *arg);

/* An object: a free one of the calling thread's cache, else one from the
 * shared list, else a new one (init runs). Its contents are what init or
 * the last reset left. NULL with errno EINVAL (p NULL) or ENOMEM. O(1):
 * no lock while the thread's cache holds objects, the pool's lock once
 * per batch otherwise (plus a new slab now and then). Thread-safe. */
GOMEM_API void *gomem_objpool_get(gomem_objpool *p);

/* Give back an object get returned: reset runs, then the object is free.
 * -EINVAL, changing nothing and running no callback, for a NULL p or obj,
 * a pointer that is not the start of one of p's objects (a foreign
 * pointer, one inside an object, another pool's object) or an object not
 * out (put twice, or never handed out). Two threads putting the same
 * object at once is a race the check cannot catch. O(slabs) (a few dozen
 * at most) for the check, then O(1) as get. Thread-safe. */
GOMEM_API int gomem_objpool_put(gomem_objpool *p, void *obj);

/* The object size given to new (0 for NULL). O(1). Thread-safe. */
GOMEM_API size_t gomem_objpool_size(const gomem_objpool *p);

/* Release the pool and every slab; objects still out become invalid, and
 * no callback runs (an init that acquires resources needs the caller to
 * release them). The other threads' caches of p are freed when those
 * threads exit or next make a cache. NULL is ignored. Not to be called
 * while another thread uses p. */
GOMEM_API void gomem_objpool_destroy(gomem_objpool *p);


/* ================================================================ memory,
 * recyclable memory, reader.
 *
 * A Memory (GoMem's Memory) is a scatter-gather list of byte segments: an
 * array of struct iovec and their total size. It references segments, it
 * never copies them, and it never writes through a segment it did not
 * allocate. A recyclable memory (GoMem's RecyclableMemory) is a Memory whose
 * segments come from a scalable allocator and all go back in one call. A
 * reader (GoMem's MemoryReader) is a cursor over a Memory that reads across
 * segment boundaries without copying more than the caller asks for.
 *
 * All three are value types the caller embeds: init before use, destroy
 * after. None is thread-safe: one thread at a time uses a Memory, a
 * recyclable memory or a reader (the scalable allocator underneath is
 * thread-safe on its own).
 *
 * ABI: these structures are public. The fields marked private may change
 * meaning between releases only with a SONAME change, because the inline
 * reads below (gomem_reader_read_u8 and friends) are compiled into the
 * caller and use the reader's pos and end fields directly. */

/* A scatter-gather list. Public and read-only for the caller: iov, count,
 * size. Change them only through gomem_memory_* calls. */
typedef struct gomem_memory {
    struct iovec *iov; /* count segments, in order */
    size_t count;      /* number of segments */
    size_t size;       /* total bytes: the sum of iov[i].iov_len */
    size_t cap;        /* private: capacity of iov */
} gomem_memory;

/* Callback of gomem_memory_foreach, gomem_reader_range and
 * gomem_reader_range_n: a segment, or a piece of one, of len bytes (len may
 * be 0 for an empty segment in gomem_memory_foreach only). A non-zero
 * return stops the walk and is returned by the caller of the walk. */
typedef int (*gomem_memory_visit_fn)(void *base, size_t len, void *arg);

/* An empty Memory (no segments, size 0). Allocates nothing; never fails.
 * NULL is ignored. O(1). */
GOMEM_API void gomem_memory_init(gomem_memory *m);

/* Append the segment [buf, buf + n) without copying it; the caller keeps
 * ownership and keeps it valid while m references it. n may be 0 (an empty
 * segment, counted by gomem_memory_count). Errors, changing nothing:
 * -EINVAL for a NULL m, or a NULL buf with n > 0; -EOVERFLOW if the total
 * size would not fit in size_t; -ENOMEM if the segment array could not
 * grow. Amortized O(1). */
GOMEM_API int gomem_memory_push(gomem_memory *m, const void *buf, size_t n);

/* Append cnt segments at once, without copying them (iov itself is copied
 * and may be reused at once). All or nothing, with the errors of
 * gomem_memory_push (-EINVAL also for a NULL iov with cnt > 0). O(cnt). */
GOMEM_API int gomem_memory_pushv(gomem_memory *m, const struct iovec *iov, size_t cnt);

/* Append every segment of src to m, without copying bytes. src may be m
 * (its segments then appear twice). Errors as gomem_memory_pushv.
 * O(src->count). */
GOMEM_API int gomem_memory_append(gomem_memory *m, const gomem_memory *src);

/* Total bytes (0 for NULL). O(1). */
GOMEM_API size_t gomem_memory_size(const gomem_memory *m);

/* Number of segments, empty ones included (0 for NULL). O(1). */
GOMEM_API size_t gomem_memory_count(const gomem_memory *m);

/* Copy the first min(cap, size) bytes of m into dst and return how many
 * were copied. 0 for a NULL m, or a NULL dst. O(bytes copied + count). */
GOMEM_API size_t gomem_memory_copy_to(const gomem_memory *m, void *dst, size_t cap);

/* A contiguous copy of every byte of m, from malloc: the caller frees it
 * with free(). An empty m gives a valid, freeable pointer to 0 bytes.
 * NULL with errno EINVAL for a NULL m, or ENOMEM. O(size + count). */
GOMEM_API GOMEM_MALLOC void *gomem_memory_to_bytes(const gomem_memory *m);

/* Append one contiguous copy of every byte of src (GoMem's CopyFrom) as a
 * new last segment of m, and return it. The copy comes from malloc and is
 * the caller's: m references it like any pushed segment, and the caller
 * frees it with free() once m no longer needs it (gomem_memory_destroy
 * does not). An empty src appends an empty segment whose pointer is still
 * freeable. src may be m. All or nothing: NULL with errno EINVAL (a NULL
 * argument), EOVERFLOW (the total size would not fit in size_t) or ENOMEM,
 * and m unchanged. For a copy that goes back with the rest of a recyclable
 * memory, see gomem_recyclable_copy_from. O(src size + src count). */
GOMEM_API void *gomem_memory_copy_from(gomem_memory *m, const gomem_memory *src);

/* 1 if a and b hold the same bytes in the same order, however they are
 * split into segments; 0 otherwise, or if either is NULL. O(size + count). */
GOMEM_API int gomem_memory_equal(const gomem_memory *a, const gomem_memory *b);

/* Replace segment i with [buf, buf + n) (not copied; the old segment is
 * forgotten, not freed) and correct the total size. A negative i counts
 * from the end: -1 is the last segment. Errors, changing nothing: -EINVAL
 * for a NULL m, i out of range, or a NULL buf with n > 0; -EOVERFLOW if the
 * total size would not fit in size_t. O(1). */
GOMEM_API int gomem_memory_update(gomem_memory *m, ptrdiff_t i, const void *buf, size_t n);

/* Forget every segment (none is freed); the segment array is kept for
 * reuse. NULL is ignored. O(1). */
GOMEM_API void gomem_memory_reset(gomem_memory *m);

/* Call fn on each segment in order, empty ones included. Returns 0 after a
 * full walk, the first non-zero value fn returned, or -EINVAL for a NULL m
 * or fn. fn must not change m. O(count). */
GOMEM_API int gomem_memory_foreach(const gomem_memory *m, gomem_memory_visit_fn fn, void *arg);

/* Write every byte of m to fd with writev(2), IOV_MAX segments per system
 * call; short writes are continued and EINTR is retried. *written (if not
 * NULL) always receives the number of bytes written, also on failure.
 * Returns 0 when all of m was written, or a negative errno: -EAGAIN when a
 * non-blocking fd is full (resume by writing the rest, e.g. through a
 * reader skipped by *written), -EBADF, -EPIPE, -EINVAL for a NULL m, or any
 * other error of writev(2). An empty m makes no system call and succeeds.
 * Writing to a pipe or socket whose reader is gone raises SIGPIPE unless
 * the caller ignores it. O(count) plus the system calls. */
GOMEM_API int gomem_memory_writev(const gomem_memory *m, int fd, size_t *written);

/* Free the segment array (never the segments) and leave m empty, as after
 * gomem_memory_init. NULL is ignored. */
GOMEM_API void gomem_memory_destroy(gomem_memory *m);

/* A Memory whose segments come from a scalable allocator (or, built with
 * --disable-rm, from malloc) and all go back in one call. The field mem is
 * public and read-only for the caller: read it with gomem_memory_* const
 * calls or a reader, never change it. The other fields are private. */
typedef struct gomem_recyclable {
    gomem_memory mem;     /* every segment, from next and add, in order */
    gomem_scalable *pool; /* private: where next takes memory from */
    struct iovec *owned;  /* private: the segments next handed out */
    size_t nowned;        /* private */
    size_t capowned;      /* private */
} gomem_recyclable;

/* An empty recyclable memory taking its segments from s (which must
 * outlive it). -EINVAL for a NULL rm or s. Allocates nothing. O(1). */
GOMEM_API int gomem_recyclable_init(gomem_recyclable *rm, gomem_scalable *s);

/* A new segment of n bytes (uninitialized), appended to rm->mem and owned
 * by rm until gomem_recyclable_recycle. NULL with errno EINVAL (NULL rm,
 * n == 0), EOVERFLOW (the total size would not fit in size_t) or ENOMEM;
 * then nothing changed. Amortized O(1) plus the allocator. */
GOMEM_API void *gomem_recyclable_next(gomem_recyclable *rm, size_t n);

/* Append [buf, buf + n), which the caller owns: recycle leaves it alone.
 * Errors as gomem_memory_push. */
GOMEM_API int gomem_recyclable_add(gomem_recyclable *rm, const void *buf, size_t n);

/* GoMem's CopyFrom on a RecyclableMemory: append one contiguous copy of
 * every byte of src as a new segment from rm's allocator, exactly as
 * gomem_recyclable_next does, so recycle gives it back with the others;
 * returns it. src may be rm->mem. NULL with errno EINVAL (NULL arguments,
 * or an empty src), EOVERFLOW or ENOMEM; then nothing changed. O(src size
 * + src count) plus the allocator. */
GOMEM_API void *gomem_recyclable_copy_from(gomem_recyclable *rm, const gomem_memory *src);

/* A capacity hint (GoMem's InitRecycleIndexes): make room in rm's
 * bookkeeping for n more segments, so the next n calls of next, add or
 * copy_from do not grow it. Optional; n == 0 does nothing. -EINVAL for a
 * NULL rm; -ENOMEM or -EOVERFLOW when the room cannot be made (segments
 * and contents unchanged). O(segments). */
GOMEM_API int gomem_recyclable_reserve(gomem_recyclable *rm, size_t n);

/* The scalable allocator next takes segments from (GoMem's GetAllocator):
 * the one given to init or set_allocator. NULL with errno EINVAL for a
 * NULL rm. O(1). */
GOMEM_API gomem_scalable *gomem_recyclable_get_allocator(const gomem_recyclable *rm);

/* Take later segments from s (GoMem's SetAllocator; s must outlive rm).
 * Refused while segments next handed out are outstanding, since recycle
 * gives each back to the allocator it came from: -EBUSY until
 * gomem_recyclable_recycle (segments from add do not count). s equal to
 * the current allocator always succeeds. -EINVAL for a NULL rm or s. A
 * refused call changes nothing. The same in the --disable-rm build, whose
 * segments come from malloc whatever s is. O(1). */
GOMEM_API int gomem_recyclable_set_allocator(gomem_recyclable *rm, gomem_scalable *s);

/* Give back every segment next handed out (whatever was done to rm->mem
 * meanwhile), then forget every segment: rm is empty and reusable. Segments
 * from add are not touched. NULL is ignored. O(segments). A segment the
 * allocator cannot take back for lack of memory (its bookkeeping needs a
 * tree node) stays owned by rm, out of rm->mem, and goes back at the next
 * recycle or destroy. */
GOMEM_API void gomem_recyclable_recycle(gomem_recyclable *rm);

/* Initialize *out as a plain Memory over the same segments as rm->mem. out
 * owns none of them: it is valid until rm is recycled, and is released with
 * gomem_memory_destroy (which frees nothing of rm). -EINVAL for NULL
 * arguments, -ENOMEM; on failure *out is an empty Memory. O(count). */
GOMEM_API int gomem_recyclable_clone(const gomem_recyclable *rm, gomem_memory *out);

/* Recycle rm and free its bookkeeping. NULL is ignored. A segment that
 * still cannot go back (see recycle) stays allocated in the scalable
 * allocator until it is destroyed. */
GOMEM_API void gomem_recyclable_destroy(gomem_recyclable *rm);

/* A cursor over a Memory. Every field is private (pos and end are read by
 * the inline reads and so are part of the ABI). Pushing segments to the
 * Memory while a reader reads it is allowed: the reader sees them. Any other
 * change to the Memory (update, reset, destroy, another reader's clip_front)
 * invalidates the reader until gomem_reader_init is called again. */
typedef struct gomem_reader {
    const uint8_t *pos; /* private: next byte of the current segment */
    const uint8_t *end; /* private: end of the current segment */
    gomem_memory *mem;  /* private: the Memory read (not owned) */
    size_t seg;         /* private: segments entered (current is seg - 1) */
    size_t limit;       /* private: offset of end in the Memory */
} gomem_reader;

/* Callback of gomem_reader_clip_front: a removed piece [base, base + len),
 * handed over so its owner can free it. */
typedef void (*gomem_reader_clip_fn)(void *base, size_t len, void *arg);

/* A reader at offset 0 of m (not owned; it must outlive the reader).
 * -EINVAL for a NULL r or m. O(1). */
GOMEM_API int gomem_reader_init(gomem_reader *r, gomem_memory *m);

/* Copy up to n bytes into dst and consume them; like read(2), fewer than n
 * (0 at the end) when fewer remain. Returns the count; 0 for a NULL r, or a
 * NULL dst. O(bytes + segments crossed). */
GOMEM_API size_t gomem_reader_read(gomem_reader *r, void *dst, size_t n);

/* Typed reads: all or nothing. Each stores the value in *v and consumes its
 * bytes, or returns -ENODATA (fewer bytes remain) or -EINVAL (NULL r or v)
 * and leaves the cursor and *v alone. O(1) within a segment; the inline
 * versions below cost a compare and a load there.
 *
 * gomem_reader_read_be and gomem_reader_read_le read an n-byte unsigned
 * big- or little-endian integer, n in 1..8 (-EINVAL otherwise). They are
 * also the out-of-line paths of the inline reads. */
GOMEM_API int gomem_reader_read_be(gomem_reader *r, size_t n, uint64_t *v);
GOMEM_API int gomem_reader_read_le(gomem_reader *r, size_t n, uint64_t *v);

/* An unsigned LEB128 value of up to 64 bits. Errors, consuming nothing:
 * -ENODATA when the data ends before the last byte (high bit clear);
 * -EOVERFLOW for an encoding longer than 10 bytes or whose value does not
 * fit in 64 bits; -EINVAL for NULL arguments. O(bytes). */
GOMEM_API int gomem_reader_read_uleb128(gomem_reader *r, uint64_t *v);

/* Copy the next n bytes into dst without consuming them. All or nothing:
 * -ENODATA if fewer than n remain, -EINVAL for a NULL r, or a NULL dst with
 * n > 0. O(n + segments crossed). */
GOMEM_API int gomem_reader_peek(const gomem_reader *r, void *dst, size_t n);

/* Consume n bytes. -ENODATA (cursor unchanged) if fewer remain, -EINVAL for
 * a NULL r. O(segments crossed). Also a macro with an inline fast path
 * (a compare and a store) inside the current segment, as the typed reads
 * below. */
GOMEM_API int gomem_reader_skip(gomem_reader *r, size_t n);

/* Move the cursor n bytes back. -EINVAL (cursor unchanged) if n is larger
 * than gomem_reader_offset, or r is NULL. O(segments crossed). */
GOMEM_API int gomem_reader_unread(gomem_reader *r, size_t n);

/* Bytes consumed since the start of the Memory (0 for NULL). O(1). */
GOMEM_API size_t gomem_reader_offset(const gomem_reader *r);

/* Bytes left to read (0 for NULL). O(1). */
GOMEM_API size_t gomem_reader_remaining(const gomem_reader *r);

/* The unread rest of the current segment, zero-copy, without consuming it:
 * its length goes to *len (if not NULL). Exhausted and empty segments are
 * passed over first. NULL with errno ENODATA at the end (*len = 0), EINVAL
 * for a NULL r. O(1) amortized. */
GOMEM_API const void *gomem_reader_current(gomem_reader *r, size_t *len);

/* Consume every remaining byte, handing each piece (the rest of the current
 * segment, then each later non-empty segment) to fn, zero-copy. A non-zero
 * return from fn stops the walk after that piece and is returned; 0 after a
 * full walk. fn may be NULL (then the same as gomem_reader_move_to_end).
 * -EINVAL for a NULL r. O(segments). */
GOMEM_API int gomem_reader_range(gomem_reader *r, gomem_memory_visit_fn fn, void *arg);

/* Consume exactly n bytes, handing each piece to fn as gomem_reader_range
 * does. All or nothing: -ENODATA, nothing visited, if fewer than n remain.
 * -EINVAL for a NULL r. O(segments crossed). */
GOMEM_API int gomem_reader_range_n(gomem_reader *r, size_t n, gomem_memory_visit_fn fn,
                                   void *arg);

/* Remove the consumed prefix from the Memory: every segment before the
 * current one (empty ones too) and the consumed head of a partly read one.
 * Each removed piece goes to fn (if not NULL) so its owner can free it;
 * the reader then stands at offset 0 of the shortened Memory. Removing
 * from a recyclable memory's mem is allowed: recycle still frees what next
 * handed out, so fn must not. Returns 0, or -EINVAL for a NULL r.
 * O(count). */
GOMEM_API int gomem_reader_clip_front(gomem_reader *r, gomem_reader_clip_fn fn, void *arg);

/* Consume every remaining byte. NULL is ignored. O(segments). */
GOMEM_API void gomem_reader_move_to_end(gomem_reader *r);

/* Typed reads: unsigned integers of 1, 2, 3, 4 and 8 bytes, big- and
 * little-endian, with the contract of gomem_reader_read_be/le: 0, -ENODATA
 * or -EINVAL, nothing consumed and *v untouched on failure.
 *
 * Fast path: each of these, and gomem_reader_read, is an exported function
 * and also a macro of the same name that expands to an inline fast path
 * (a compare, a load and a store of the cursor inside the current segment)
 * falling back to the exported function at segment ends. Taking the
 * address, or writing (gomem_reader_read_u8)(r, v), calls the exported
 * function; the result is the same. */
GOMEM_API int gomem_reader_read_u8(gomem_reader *r, uint8_t *v);
GOMEM_API int gomem_reader_read_be16(gomem_reader *r, uint16_t *v);
GOMEM_API int gomem_reader_read_be24(gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_read_be32(gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_read_be64(gomem_reader *r, uint64_t *v);
GOMEM_API int gomem_reader_read_le16(gomem_reader *r, uint16_t *v);
GOMEM_API int gomem_reader_read_le24(gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_read_le32(gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_read_le64(gomem_reader *r, uint64_t *v);

/* Copy exactly n bytes into dst and consume them, or nothing (GoMem's
 * ReadBytes(n); gomem_reader_read copies what there is, like read(2)).
 * 0; -ENODATA when fewer than n remain, -EINVAL for a NULL r, or a NULL
 * dst with n > 0; on failure nothing is consumed and dst is not written.
 * O(n + segments crossed). */
GOMEM_API int gomem_reader_read_exact(gomem_reader *r, void *dst, size_t n);

/* Signed reads: two's-complement integers of 1, 2, 3, 4 and 8 bytes, big-
 * (sbe) and little-endian (sle), sign-extended into *v (FLV's SI24
 * composition time is gomem_reader_read_sbe24). The contract of the
 * unsigned reads: 0, -ENODATA or -EINVAL, nothing consumed and *v untouched
 * on failure. */
GOMEM_API int gomem_reader_read_s8(gomem_reader *r, int8_t *v);
GOMEM_API int gomem_reader_read_sbe16(gomem_reader *r, int16_t *v);
GOMEM_API int gomem_reader_read_sbe24(gomem_reader *r, int32_t *v);
GOMEM_API int gomem_reader_read_sbe32(gomem_reader *r, int32_t *v);
GOMEM_API int gomem_reader_read_sbe64(gomem_reader *r, int64_t *v);
GOMEM_API int gomem_reader_read_sle16(gomem_reader *r, int16_t *v);
GOMEM_API int gomem_reader_read_sle24(gomem_reader *r, int32_t *v);
GOMEM_API int gomem_reader_read_sle32(gomem_reader *r, int32_t *v);
GOMEM_API int gomem_reader_read_sle64(gomem_reader *r, int64_t *v);

/* Typed peeks: the unsigned value the read of the same name would return,
 * without consuming anything. 0, -ENODATA (too few bytes; *v untouched)
 * or -EINVAL (NULL r or v). O(1) within a segment. */
GOMEM_API int gomem_reader_peek_u8(const gomem_reader *r, uint8_t *v);
GOMEM_API int gomem_reader_peek_be16(const gomem_reader *r, uint16_t *v);
GOMEM_API int gomem_reader_peek_be24(const gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_peek_be32(const gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_peek_be64(const gomem_reader *r, uint64_t *v);
GOMEM_API int gomem_reader_peek_le16(const gomem_reader *r, uint16_t *v);
GOMEM_API int gomem_reader_peek_le24(const gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_peek_le32(const gomem_reader *r, uint32_t *v);
GOMEM_API int gomem_reader_peek_le64(const gomem_reader *r, uint64_t *v);

/* Consume the next n bytes (n >= 1) and return a pointer to them: into the
 * segment, zero-copy, when they lie in one; otherwise they are copied to
 * scratch (at least n bytes, owned by the caller) and scratch is returned.
 * The pointer is valid as long as the segment, or scratch, is. NULL with
 * errno ENODATA (fewer than n remain; nothing consumed) or EINVAL (NULL r
 * or scratch, n == 0). O(1) when contiguous, else O(n + segments). */
GOMEM_API const void *gomem_reader_read_ptr(gomem_reader *r, size_t n, void *scratch);

/* Transactions. gomem_reader_require returns 0 if at least n bytes remain,
 * else -ENODATA (-EINVAL for NULL): check a whole record once, then read it
 * without further checks. A mark is gomem_reader_offset(r);
 * gomem_reader_rewind puts the cursor back there, so a run of reads that
 * failed half-way can be undone: 0, or -EINVAL (cursor unchanged) for a
 * mark past the cursor or a NULL r. O(1) / O(segments crossed). A
 * clip_front between mark and rewind invalidates the mark. */
GOMEM_API int gomem_reader_require(const gomem_reader *r, size_t n);
GOMEM_API int gomem_reader_rewind(gomem_reader *r, size_t mark);

/* A sub-reader over the next n bytes: m (the caller's Memory) is reset and
 * given the pieces of those bytes, zero-copy, and sub is set at its start;
 * r consumes them. sub can never read past the n bytes. m must not be r's
 * Memory; it references r's segments, so it is valid as long as they are.
 * 0; -ENODATA (fewer than n remain), -EINVAL (NULL arguments, m is r's
 * Memory) or -ENOMEM (m's segment array could not grow): then nothing
 * changed. O(segments crossed); allocates only when m's array grows. */
GOMEM_API int gomem_reader_sub(gomem_reader *r, size_t n, gomem_memory *m, gomem_reader *sub);

/* Move the next n bytes out of r's Memory into dst: their pieces, zero-copy,
 * are appended to dst and removed from r's Memory (a segment the range
 * starts or ends inside is split), so that gomem_reader_clip_front on r
 * never hands them to its callback: whoever holds a piece frees it (with
 * an allocator that frees sub-ranges, such as gomem_scalable_free). The
 * cursor stays at the same offset; remaining drops by n. Other readers of
 * r's Memory are invalidated. 0; -ENODATA (fewer than n remain), -EINVAL
 * (NULL r or dst, dst is r's Memory), -EOVERFLOW (dst's size would
 * overflow) or -ENOMEM: then nothing changed. O(count of r's Memory). */
GOMEM_API int gomem_reader_move(gomem_reader *r, size_t n, gomem_memory *dst);

/* Find the first offset k >= 0 from the cursor at which the next len bytes
 * b[0..len) match: (b[i] & mask[i]) == (pat[i] & mask[i]) for each i (mask
 * NULL: b[i] == pat[i]). Stores k in *off and consumes nothing (skip k to
 * go there). The match may span segments. len >= 1. 0; -ENODATA when no
 * match lies in the remaining bytes (fewer than len remain, or none; a
 * resync skips remaining - (len - 1) and waits for more), -EINVAL for NULL
 * r, pat or off, or len == 0. memchr over each segment when mask is NULL or
 * mask[0] == 0xff; O(bytes scanned * len) at worst. Also a macro whose
 * inline path, for one unmasked byte, is the memchr over the current
 * segment (the exported function goes on from the next one). */
GOMEM_API int gomem_reader_scan(const gomem_reader *r, const void *pat, const void *mask,
                                size_t len, size_t *off);

#if defined(__GNUC__)
#define GOMEM__EXPECTED(x) __builtin_expect(!!(x), 1)
#else
#define GOMEM__EXPECTED(x) (x)
#endif
#define GOMEM__READER_INLINE(name, type, n, slow, expr)                      \
    static inline int gomem__reader_##name(gomem_reader *r, type *v)         \
    {                                                                        \
        if (GOMEM__EXPECTED(r && v && (size_t)(r->end - r->pos) >= (size_t)(n))) { \
            const uint8_t *p = r->pos;                                       \
            *v = (type)(expr);                                               \
            r->pos = p + (n);                                                \
            return 0;                                                        \
        }                                                                    \
        uint64_t x = 0;                                                      \
        int e = slow(r, (n), v ? &x : NULL);                                 \
        if (e == 0)                                                          \
            *v = (type)x;                                                    \
        return e;                                                            \
    }
#define GOMEM__B(i, s) ((uint64_t)p[i] << (s))
GOMEM__READER_INLINE(read_u8, uint8_t, 1, gomem_reader_read_be, p[0])
GOMEM__READER_INLINE(read_be16, uint16_t, 2, gomem_reader_read_be,
                     GOMEM__B(0, 8) | GOMEM__B(1, 0))
GOMEM__READER_INLINE(read_be24, uint32_t, 3, gomem_reader_read_be,
                     GOMEM__B(0, 16) | GOMEM__B(1, 8) | GOMEM__B(2, 0))
GOMEM__READER_INLINE(read_be32, uint32_t, 4, gomem_reader_read_be,
                     GOMEM__B(0, 24) | GOMEM__B(1, 16) | GOMEM__B(2, 8) | GOMEM__B(3, 0))
GOMEM__READER_INLINE(read_be64, uint64_t, 8, gomem_reader_read_be,
                     GOMEM__B(0, 56) | GOMEM__B(1, 48) | GOMEM__B(2, 40) | GOMEM__B(3, 32) |
                     GOMEM__B(4, 24) | GOMEM__B(5, 16) | GOMEM__B(6, 8) | GOMEM__B(7, 0))
GOMEM__READER_INLINE(read_le16, uint16_t, 2, gomem_reader_read_le,
                     GOMEM__B(0, 0) | GOMEM__B(1, 8))
GOMEM__READER_INLINE(read_le24, uint32_t, 3, gomem_reader_read_le,
                     GOMEM__B(0, 0) | GOMEM__B(1, 8) | GOMEM__B(2, 16))
GOMEM__READER_INLINE(read_le32, uint32_t, 4, gomem_reader_read_le,
                     GOMEM__B(0, 0) | GOMEM__B(1, 8) | GOMEM__B(2, 16) | GOMEM__B(3, 24))
GOMEM__READER_INLINE(read_le64, uint64_t, 8, gomem_reader_read_le,
                     GOMEM__B(0, 0) | GOMEM__B(1, 8) | GOMEM__B(2, 16) | GOMEM__B(3, 24) |
                     GOMEM__B(4, 32) | GOMEM__B(5, 40) | GOMEM__B(6, 48) | GOMEM__B(7, 56))
#undef GOMEM__B
#undef GOMEM__READER_INLINE

static inline size_t gomem__reader_read(gomem_reader *r, void *dst, size_t n)
{
    if (GOMEM__EXPECTED(r && dst && n && (size_t)(r->end - r->pos) >= n)) {
        memcpy(dst, r->pos, n);
        r->pos += n;
        return n;
    }
    return (gomem_reader_read)(r, dst, n);
}

static inline int gomem__reader_skip(gomem_reader *r, size_t n)
{
    if (GOMEM__EXPECTED(r && n - 1 < (size_t)(r->end - r->pos))) {
        r->pos += n; /* 0 < n <= the rest of the current segment */
        return 0;
    }
    return (gomem_reader_skip)(r, n);
}

/* A sync byte: memchr over the current segment, inline; after it, the
 * exported function goes on from the next segment. */
static inline int gomem__reader_scan(const gomem_reader *r, const void *pat, const void *mask,
                                     size_t len, size_t *off)
{
    if (GOMEM__EXPECTED(r && pat && off && len == 1 && !mask && r->pos != r->end)) {
        size_t k = (size_t)(r->end - r->pos);
        const uint8_t *q = (const uint8_t *)memchr(r->pos, *(const uint8_t *)pat, k);
        if (GOMEM__EXPECTED(q != NULL)) {
            *off = (size_t)(q - r->pos);
            return 0;
        }
        gomem_reader t = *r;
        t.pos = t.end;
        int e = (gomem_reader_scan)(&t, pat, mask, len, off);
        if (e == 0)
            *off += k;
        return e;
    }
    return (gomem_reader_scan)(r, pat, mask, len, off);
}

#define gomem_reader_read(r, dst, n) gomem__reader_read(r, dst, n)
#define gomem_reader_skip(r, n) gomem__reader_skip(r, n)
#define gomem_reader_scan(r, pat, mask, len, off) gomem__reader_scan(r, pat, mask, len, off)
#define gomem_reader_read_u8(r, v) gomem__reader_read_u8(r, v)
#define gomem_reader_read_be16(r, v) gomem__reader_read_be16(r, v)
#define gomem_reader_read_be24(r, v) gomem__reader_read_be24(r, v)
#define gomem_reader_read_be32(r, v) gomem__reader_read_be32(r, v)
#define gomem_reader_read_be64(r, v) gomem__reader_read_be64(r, v)
#define gomem_reader_read_le16(r, v) gomem__reader_read_le16(r, v)
#define gomem_reader_read_le24(r, v) gomem__reader_read_le24(r, v)
#define gomem_reader_read_le32(r, v) gomem__reader_read_le32(r, v)
#define gomem_reader_read_le64(r, v) gomem__reader_read_le64(r, v)

/* Sticky-error reads (FFmpeg's bytestream2 style), inline only: each
 * returns the value, or 0 when *err is already non-zero or the read fails,
 * in which case the read's error is stored in *err (err must not be NULL).
 * A parser reads straight on and checks *err once at the end; with a mark
 * (gomem_reader_offset) it can rewind. A failed read consumes nothing, and
 * so does every read after it. */
#define GOMEM__READER_GET(name, type)                                        \
    static inline type gomem_reader_get_##name(gomem_reader *r, int *err)    \
    {                                                                        \
        type v = 0;                                                          \
        if (!*err) {                                                         \
            int e = gomem_reader_read_##name(r, &v);                         \
            if (e) {                                                         \
                *err = e;                                                    \
                v = 0;                                                       \
            }                                                                \
        }                                                                    \
        return v;                                                            \
    }
GOMEM__READER_GET(u8, uint8_t)
GOMEM__READER_GET(be16, uint16_t)
GOMEM__READER_GET(be24, uint32_t)
GOMEM__READER_GET(be32, uint32_t)
GOMEM__READER_GET(be64, uint64_t)
GOMEM__READER_GET(le16, uint16_t)
GOMEM__READER_GET(le24, uint32_t)
GOMEM__READER_GET(le32, uint32_t)
GOMEM__READER_GET(le64, uint64_t)
GOMEM__READER_GET(s8, int8_t)
GOMEM__READER_GET(sbe16, int16_t)
GOMEM__READER_GET(sbe24, int32_t)
GOMEM__READER_GET(sbe32, int32_t)
GOMEM__READER_GET(sbe64, int64_t)
GOMEM__READER_GET(sle16, int16_t)
GOMEM__READER_GET(sle24, int32_t)
GOMEM__READER_GET(sle32, int32_t)
GOMEM__READER_GET(sle64, int64_t)
#undef GOMEM__READER_GET

/* Sticky skip and exact read: as gomem_reader_skip and
 * gomem_reader_read_exact, doing nothing once *err is set. */
static inline void gomem_reader_get_skip(gomem_reader *r, size_t n, int *err)
{
    if (!*err)
        *err = gomem_reader_skip(r, n);
}

static inline void gomem_reader_get_bytes(gomem_reader *r, void *dst, size_t n, int *err)
{
    if (!*err)
        *err = gomem_reader_read_exact(r, dst, n);
}

/* ================================================================ bit
 * reader: bits, most significant first, from the bytes after a reader's
 * cursor, across segments, optionally removing H.264/H.265 emulation
 * prevention bytes (00 00 03 -> 00 00) on the fly. It works on its own
 * copy of the cursor: the reader it started from does not move until
 * gomem_bitreader_sync. Every read is all or nothing: on failure no bit is
 * consumed and *v is untouched. A value type the caller embeds (no
 * destroy: it owns nothing); one thread at a time. The struct is opaque:
 * its fields are private and may change meaning; the inline fast paths
 * read them, so its layout is part of the ABI. */

#define GOMEM_BITREADER_EPB 0x1u /* strip emulation prevention bytes */

typedef struct gomem_bitreader {
    size_t idx;       /* private: bits consumed after cur.pos */
    size_t lim;       /* private: idx < lim: 8 bytes at cur.pos + idx / 8 lie in the window */
    size_t wbits;     /* private: bits in the window (whole bytes from cur.pos) */
    size_t pulled;    /* private: stream bytes before cur.pos since init */
    unsigned flags;   /* private: GOMEM_BITREADER_* */
    unsigned zeros;   /* private: zero bytes just before cur.pos (EPB) */
    gomem_reader cur; /* private: at the window's first byte */
} gomem_bitreader;

/* A bit reader at r's cursor (r is copied, not moved; its Memory must
 * outlive the bit reader). flags: 0 or GOMEM_BITREADER_EPB. -EINVAL for a
 * NULL br or r, or an unknown flag. O(1) plus empty segments passed; with
 * GOMEM_BITREADER_EPB it looks up to 256 bytes ahead for emulation
 * prevention bytes (and again each time it reaches the end of that). */
GOMEM_API int gomem_bitreader_init(gomem_bitreader *br, const gomem_reader *r, unsigned flags);

/* Read n bits (0..64) as an unsigned value, first bit most significant.
 * 0; -ENODATA (fewer bits remain), -EINVAL (NULL br or v, n > 64). O(1)
 * plus segments crossed. The inline version, for n <= 57, is a compare,
 * an unaligned 8-byte load and two shifts, as over one contiguous buffer,
 * until the last 7 bytes of a segment (with GOMEM_BITREADER_EPB, of the
 * bytes before the next emulation prevention byte); reads there and
 * across segments go through the function. */
GOMEM_API int gomem_bitreader_read(gomem_bitreader *br, unsigned n, uint64_t *v);

/* The next n bits (0..64) without consuming them; errors as read. */
GOMEM_API int gomem_bitreader_peek(const gomem_bitreader *br, unsigned n, uint64_t *v);

/* Consume n bits. 0, -ENODATA (fewer remain; nothing consumed) or -EINVAL.
 * O(n / 8 + segments crossed). */
GOMEM_API int gomem_bitreader_skip(gomem_bitreader *br, size_t n);

/* Consume the bits up to the next byte boundary of the (stripped) stream;
 * nothing at a boundary. 0, or -EINVAL for NULL. O(1). */
GOMEM_API int gomem_bitreader_align(gomem_bitreader *br);

/* Exp-Golomb codes (H.264 7.2): ue(v) into *v, se(v) into *v. A code of
 * more than 31 leading zero bits does not fit 32 bits: -EOVERFLOW. 0;
 * -ENODATA (the code ends after the data), -EOVERFLOW, -EINVAL (NULL);
 * nothing consumed on failure. O(1) plus segments crossed; the inline
 * version decodes codes of up to 28 leading zeros with one load where
 * gomem_bitreader_read's inline version would. */
GOMEM_API int gomem_bitreader_read_ue(gomem_bitreader *br, uint32_t *v);
GOMEM_API int gomem_bitreader_read_se(gomem_bitreader *br, int32_t *v);

/* Bits consumed since init (0 for NULL). O(1). */
GOMEM_API size_t gomem_bitreader_tell(const gomem_bitreader *br);

/* Set r (a reader of the same Memory) to the byte after the last bit
 * consumed (a partly read byte counts as read; with GOMEM_BITREADER_EPB,
 * an emulation prevention byte right there is passed over too), so byte
 * reads go on from there. -EINVAL for NULL arguments. O(1) plus the
 * empty segments passed. */
GOMEM_API int gomem_bitreader_sync(const gomem_bitreader *br, gomem_reader *r);

#if defined(__GNUC__)
#define GOMEM__BR_CLZ64(x) ((unsigned)__builtin_clzll(x))
#endif

/* The 8 bytes at p, big-endian. */
static inline uint64_t gomem__br_load(const uint8_t *p)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return __builtin_bswap64(w);
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
#else
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | (uint64_t)p[7];
#endif
}

/* The fast paths: one load inside the window (the bytes of one segment
 * with no emulation prevention byte, where the stream is the raw bytes),
 * as a bit reader over one contiguous buffer does. Anything else (the
 * last 7 bytes of the window, a read across its end, n > 57, a code of
 * more than 28 leading zeros) goes to the exported function. */
static inline int gomem__bitreader_read(gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (GOMEM__EXPECTED(br && v && n - 1u < 57u)) {
        size_t idx = br->idx;
        if (GOMEM__EXPECTED(idx < br->lim)) {
            *v = gomem__br_load(br->cur.pos + (idx >> 3)) << (idx & 7) >> (64 - n);
            br->idx = idx + n;
            return 0;
        }
    }
    uint64_t x = 0; /* so that v's address does not escape */
    int e = (gomem_bitreader_read)(br, n, v ? &x : NULL);
    if (e == 0)
        *v = x;
    return e;
}

static inline int gomem__bitreader_read_ue(gomem_bitreader *br, uint32_t *v)
{
#ifdef GOMEM__BR_CLZ64
    if (GOMEM__EXPECTED(br && v)) {
        size_t idx = br->idx;
        if (GOMEM__EXPECTED(idx < br->lim)) {
            /* 57 bits or more are valid: codes of up to 28 leading zeros */
            uint64_t w = gomem__br_load(br->cur.pos + (idx >> 3)) << (idx & 7);
            if (GOMEM__EXPECTED(w >= (uint64_t)1 << 35)) {
                unsigned len = 2 * GOMEM__BR_CLZ64(w) + 1;
                *v = (uint32_t)((w >> (64 - len)) - 1);
                br->idx = idx + len;
                return 0;
            }
        }
    }
#endif
    uint32_t x = 0;
    int e = (gomem_bitreader_read_ue)(br, v ? &x : NULL);
    if (e == 0)
        *v = x;
    return e;
}
#undef GOMEM__EXPECTED

#define gomem_bitreader_read(br, n, v) gomem__bitreader_read(br, n, v)
#define gomem_bitreader_read_ue(br, v) gomem__bitreader_read_ue(br, v)

/* Sticky-error bit reads, inline only, as gomem_reader_get_*: the value,
 * or 0 once *err is non-zero; the first failure stores its error in *err
 * and nothing is consumed from then on. err must not be NULL. */
static inline uint64_t gomem_bitreader_get_bits(gomem_bitreader *br, unsigned n, int *err)
{
    uint64_t v = 0;
    if (!*err && (*err = gomem_bitreader_read(br, n, &v)) != 0)
        v = 0;
    return v;
}

static inline uint32_t gomem_bitreader_get_ue(gomem_bitreader *br, int *err)
{
    uint32_t v = 0;
    if (!*err && (*err = gomem_bitreader_read_ue(br, &v)) != 0)
        v = 0;
    return v;
}

static inline int32_t gomem_bitreader_get_se(gomem_bitreader *br, int *err)
{
    int32_t v = 0;
    if (!*err && (*err = gomem_bitreader_read_se(br, &v)) != 0)
        v = 0;
    return v;
}

#ifdef __cplusplus
}
#endif

#endif /* GOMEM_H */
