/* check_faults.c - every allocation libgomem makes can fail, and every
 * public call survives it.
 *
 * The program is linked with -Wl,--wrap for malloc, calloc, realloc,
 * posix_memalign, aligned_alloc and mmap (mk/hardening.am), so each call the
 * library's objects make to them goes through the wrappers below, which fail
 * on demand. Each scenario is a fixed sequence of steps driving one family
 * (offset allocator in both variants through their ops tables, buddy and
 * buddy pool, arenas on every backing, the scalable allocator, Memory,
 * recyclable memory, reader). The driver replays a scenario once per
 * (step, N, mode): the step runs with the Nth allocation call failing (mode
 * "once") or with every call from the Nth on failing (mode "from"), for N =
 * 1, 2, ... until the step makes fewer than N calls. For each run:
 *   - no crash;
 *   - a failed step reports ENOMEM (-ENOMEM, or NULL with errno ENOMEM);
 *   - after a failed step the object is unchanged (its fingerprint and its
 *     invariant checker) and the same call succeeds when retried;
 *   - the rest of the scenario then runs as if nothing happened, and the
 *     scenario releases everything: make check-valgrind runs this program
 *     under memcheck, which sees any leak on an error path.
 * Prints, per scenario, the steps, the runs and the largest N that failed a
 * call. Exits 1 on the first broken promise, naming the scenario, step, N
 * and mode. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buffer/buffer.h"
#include "offset/offset.h"
#include "pool/arena.h"
#include "pool/buddy.h"
#include "pool/scalable.h"

/* ---------------------------------------------------------------- wrappers */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
int __real_posix_memalign(void **p, size_t a, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
int __wrap_posix_memalign(void **p, size_t a, size_t n);
void *__wrap_aligned_alloc(size_t a, size_t n);
void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off);

static long fault_at;   /* fail call number fault_at (1-based) of the armed step; 0: off */
static int fault_from;  /* and every later one */
static long fault_seen; /* calls since the step was armed */
static long fault_fired;

static int fault_hit(void)
{
    if (!fault_at)
        return 0;
    long k = ++fault_seen;
    if (k == fault_at || (fault_from && k > fault_at)) {
        fault_fired++;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    if (fault_hit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    if (fault_hit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (fault_hit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, n);
}

int __wrap_posix_memalign(void **p, size_t a, size_t n)
{
    if (fault_hit())
        return ENOMEM;
    return __real_posix_memalign(p, a, n);
}

void *__wrap_aligned_alloc(size_t a, size_t n)
{
    if (fault_hit()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_aligned_alloc(a, n);
}

void *__wrap_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
    if (fault_hit()) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return __real_mmap(a, n, prot, flags, fd, off);
}

/* ---------------------------------------------------------------- driver */

static const char *scenario;
static long step_no;     /* steps run so far in this replay */
static long target;      /* the step that runs armed */
static long target_at;   /* its N */
static int target_from;  /* its mode */
static int target_fired; /* the armed step saw at least one injected failure */
static long max_fired_n; /* largest N that failed a call, per scenario */
static long calls_total; /* failed steps that were retried */
static long recycle_kept; /* recycles that kept segments for the next one */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "check_faults: %s, step %ld, N = %ld (%s): ", scenario, target, target_at,
            target_from ? "every call from N" : "call N only");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

/* A fingerprint of an object's observable state. */
struct snap {
    uint64_t h;
};

static void snap_mix(struct snap *s, uint64_t x)
{
    s->h = (s->h ^ x) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
}

/* Run one step. call() returns 0 or a negative errno; snap() fingerprints
 * the objects the step may change; check() returns 0 when their
 * invariants hold. The macro evaluates call again to retry it. */
#define STEP(SNAP, CHECK, CALL)                                                                     \
    do {                                                                                           \
        long me_ = step_no++;                                                                      \
        if (me_ != target) {                                                                       \
            int r_ = (CALL);                                                                       \
            if (r_ != 0)                                                                           \
                die("step %ld (%s) failed with %d without a fault", me_, #CALL, r_);               \
        } else {                                                                                   \
            struct snap b_ = {0}, a_ = {0};                                                        \
            SNAP(&b_);                                                                             \
            fault_seen = fault_fired = 0;                                                          \
            fault_from = target_from;                                                              \
            fault_at = target_at;                                                                  \
            int r_ = (CALL);                                                                       \
            fault_at = 0;                                                                          \
            target_fired = fault_fired > 0;                                                        \
            if (CHECK)                                                                             \
                die("%s: invariants broken after the step", #CALL);                                \
            if (!target_fired && r_ != 0)                                                          \
                die("%s failed with %d without a fault", #CALL, r_);                               \
            if (target_fired && r_ != 0) {                                                         \
                if (r_ != -ENOMEM)                                                                 \
                    die("%s failed with %d, not -ENOMEM", #CALL, r_);                              \
                SNAP(&a_);                                                                         \
                if (a_.h != b_.h)                                                                  \
                    die("%s failed but changed its object", #CALL);                                \
                calls_total++;                                                                     \
                if ((r_ = (CALL)) != 0)                                                            \
                    die("%s failed again (%d) when retried without faults", #CALL, r_);            \
                if (CHECK)                                                                         \
                    die("%s: invariants broken after the retry", #CALL);                           \
            }                                                                                      \
            if (target_fired && target_at > max_fired_n)                                           \
                max_fired_n = target_at;                                                           \
        }                                                                                          \
    } while (0)

/* A pointer-returning call as a status: 0, or -errno for NULL. */
#define PTR_STATUS(var, expr) ((errno = 0, (var) = (expr)) ? 0 : (errno ? -errno : -EIO))

/* Replay fn for every step, N and mode. */
static void run_scenario(const char *name, void (*fn)(void))
{
    scenario = name;
    max_fired_n = 0;
    long runs = 0, steps = 0;
    for (target = 0;; target++) {
        for (target_from = 0; target_from < 2; target_from++) {
            for (target_at = 1;; target_at++) {
                step_no = 0;
                target_fired = 0;
                fn();
                runs++;
                steps = step_no;
                if (!target_fired)
                    break;
            }
        }
        if (target >= steps)
            break;
    }
    printf("%-28s %4ld steps %6ld runs, calls failed at N = 1..%ld\n", name, steps, runs, max_fired_n);
}

/* ---------------------------------------------------------------- offset */

static const struct gomem__offset_ops *ops;
static void *ot;

static int o_free_visit(size_t off, size_t n, void *arg)
{
    snap_mix(arg, off);
    snap_mix(arg, n);
    return 0;
}

static void snap_offset(struct snap *s)
{
    if (!ot)
        return;
    snap_mix(s, ops->free_size(ot));
    (void)ops->foreach_free(ot, o_free_visit, s);
}

#define CHECK_OFFSET (ot && ops->check(ot) != 0)

static int o_alloc(size_t n, size_t *off)
{
    return ops->alloc(ot, n, off);
}

static void scenario_offset(void)
{
    uint64_t rng = 0x1234567;
    size_t offs[256], lens[256];
    size_t k = 0;
    ot = NULL;
    STEP(snap_offset, CHECK_OFFSET, PTR_STATUS(ot, ops->create(1 << 16)));
    for (int i = 0; i < 240; i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t x = (size_t)(rng >> 33);
        size_t n = 1 + x % 97, off;
        if (k < 256 && (x & 3) != 0 && ops->find(ot, n, &off) == 0) {
            STEP(snap_offset, CHECK_OFFSET, o_alloc(n, &offs[k]));
            lens[k++] = n;
        } else if (k > 0) {
            /* Free the middle of an allocation: the split needs a node. */
            size_t j = x % k, h = lens[j] / 3, m = lens[j] - 2 * h;
            if (h > 0) {
                STEP(snap_offset, CHECK_OFFSET, ops->release(ot, offs[j] + h, m));
                lens[j] = h; /* keep the head; the tail goes at the end */
                offs[k] = offs[j] + h + m;
                lens[k++] = h;
            } else {
                STEP(snap_offset, CHECK_OFFSET, ops->release(ot, offs[j], lens[j]));
                offs[j] = offs[--k];
                lens[j] = lens[k];
            }
        }
    }
    STEP(snap_offset, CHECK_OFFSET, ops->reset(ot, 1 << 15));
    ops->destroy(ot);
    ot = NULL;
}

static void scenario_segfit(void)
{
    ops = &gomem__segfit_ops;
    scenario_offset();
}

static void scenario_avl(void)
{
    ops = &gomem__avl_ops;
    scenario_offset();
}

/* ---------------------------------------------------------------- buddy */

static gomem_buddy *bd;

static void snap_buddy(struct snap *s)
{
    snap_mix(s, gomem__buddy_pool_count());
    if (bd)
        snap_mix(s, gomem_buddy_free_size(bd));
}

#define CHECK_BUDDY (bd && gomem__buddy_check(bd) != 0)

static void scenario_buddy(void)
{
    size_t off[4];
    bd = NULL;
    STEP(snap_buddy, CHECK_BUDDY, PTR_STATUS(bd, gomem_buddy_new((size_t)1 << 20)));
    for (int i = 0; i < 4; i++)
        STEP(snap_buddy, CHECK_BUDDY, gomem_buddy_alloc(bd, (size_t)3000 << i, &off[i]));
    for (int i = 0; i < 4; i++)
        STEP(snap_buddy, CHECK_BUDDY, gomem_buddy_free(bd, off[i]));
    gomem_buddy_destroy(bd);
    bd = NULL;

    /* The shared pool: hold every pooled buddy, so the next get grows it. */
    /* Only when that get is the step under test: each growth reserves
     * 512 MiB of address space. */
    size_t have = target == step_no ? gomem__buddy_pool_count() : 0;
    gomem_buddy **held = __real_calloc(have + 1, sizeof *held);
    if (!held)
        die("out of memory");
    for (size_t i = 0; i < have; i++)
        if (!(held[i] = gomem_buddy_get()))
            die("gomem_buddy_get failed without a fault");
    STEP(snap_buddy, 0, PTR_STATUS(held[have], gomem_buddy_get()));
    bd = held[have];
    STEP(snap_buddy, CHECK_BUDDY, gomem_buddy_alloc(bd, 5000, &off[0]));
    STEP(snap_buddy, CHECK_BUDDY, gomem_buddy_free(bd, off[0]));
    bd = NULL;
    for (size_t i = 0; i <= have; i++)
        if (gomem_buddy_put(held[i]) != 0)
            die("gomem_buddy_put refused a held buddy");
    free(held);
}

/* ---------------------------------------------------------------- arenas */

static gomem_arena *ar;

static void snap_arena(struct snap *s)
{
    if (!ar)
        return;
    snap_mix(s, ar->used);
    snap_mix(s, gomem_arena_free_size(ar));
    (void)gomem_allocator_foreach_free(ar->alloc, o_free_visit, s);
}

#define CHECK_ARENA (ar && gomem__arena_check(ar, 0) != 0)

static const struct gomem__backing *bk;

static void arena_steps(void)
{
    unsigned char *p[64];
    size_t n[64];
    int k = 0;
    for (int i = 0; i < 64; i++) {
        n[k] = 1 + (size_t)(i * 37) % 300;
        STEP(snap_arena, CHECK_ARENA, PTR_STATUS(p[k], gomem_arena_malloc(ar, n[k])));
        memset(p[k], 0x33, n[k]);
        k++;
    }
    /* Free the middle of every other allocation: each free block needs a
     * node, and the node pool grows. */
    for (int i = 0; i < k; i += 2)
        if (n[i] >= 3)
            STEP(snap_arena, CHECK_ARENA, gomem_arena_free(ar, p[i] + 1, n[i] - 2));
    for (int i = 0; i < k; i++) {
        if (i % 2 == 0 && n[i] >= 3) {
            STEP(snap_arena, CHECK_ARENA, gomem_arena_free(ar, p[i], 1));
            STEP(snap_arena, CHECK_ARENA, gomem_arena_free(ar, p[i] + n[i] - 1, 1));
        } else {
            STEP(snap_arena, CHECK_ARENA, gomem_arena_free(ar, p[i], n[i]));
        }
    }
    if (gomem_arena_free_size(ar) != gomem_arena_size(ar))
        die("arena not wholly free at the end");
}

static void scenario_arena_backing(void)
{
    ar = NULL;
    STEP(snap_arena, CHECK_ARENA, PTR_STATUS(ar, gomem__arena_new_with(bk, 65536)));
    arena_steps();
    gomem_arena_destroy(ar);
    ar = NULL;
}

static void scenario_arena_heap(void)
{
    bk = &gomem__backing_heap;
    scenario_arena_backing();
}

static void scenario_arena_mmap(void)
{
    bk = &gomem__backing_mmap;
    scenario_arena_backing();
}

static void scenario_arena_buddy(void)
{
    bk = &gomem__backing_buddy;
    scenario_arena_backing();
}

static void scenario_arena_pooled(void)
{
    /* A standard size (pooled) and another one, on this build's backing. */
    ar = NULL;
    STEP(snap_arena, CHECK_ARENA, PTR_STATUS(ar, gomem_arena_new(16384)));
    arena_steps();
    gomem_arena_destroy(ar);
    ar = NULL;
    STEP(snap_arena, CHECK_ARENA, PTR_STATUS(ar, gomem_arena_new(20000)));
    arena_steps();
    gomem_arena_destroy(ar);
    ar = NULL;
}

/* ---------------------------------------------------------------- scalable */

static gomem_scalable *sc;

static void snap_scalable(struct snap *s)
{
    struct gomem_scalable_stats st;
    if (!sc || gomem_scalable_stats(sc, &st) != 0)
        return;
    snap_mix(s, st.malloc_bytes);
    snap_mix(s, st.free_bytes);
    snap_mix(s, st.in_use);
    snap_mix(s, st.capacity);
    snap_mix(s, st.arenas);
}

#define CHECK_SCALABLE (sc && gomem__scalable_check(sc) != 0)

static int s_read(int fd, size_t n, void **out)
{
    ssize_t r = gomem_scalable_read(sc, fd, n, out);
    return r > 0 ? 0 : r == 0 ? -EIO : (int)r;
}

static int s_borrow(size_t n)
{
    void *p;
    int r = PTR_STATUS(p, gomem_scalable_borrow(sc, n));
    if (!r)
        memset(p, 0x44, n);
    return r;
}

static void scenario_scalable(void)
{
    sc = NULL;
    STEP(snap_scalable, CHECK_SCALABLE, PTR_STATUS(sc, gomem_scalable_new(1024)));
    unsigned char *p[40];
    size_t n[40];
    int k = 0;
    /* Growth: each new arena twice the last; then past the 4 MiB cap. */
    static const size_t sizes[] = {100,  900,   8192, 3000, 70000, 50,   200000, 1,
                                   5000, 65536, 1000, 7,    300,   2048, 4096,   999};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        n[k] = sizes[i];
        STEP(snap_scalable, CHECK_SCALABLE, PTR_STATUS(p[k], gomem_scalable_malloc(sc, n[k])));
        memset(p[k], 0x55, n[k]);
        k++;
    }
    n[k] = ((size_t)5 << 20) + 3;
    STEP(snap_scalable, CHECK_SCALABLE, PTR_STATUS(p[k], gomem_scalable_malloc(sc, n[k])));
    memset(p[k], 0x66, n[k]);
    k++;
    STEP(snap_scalable, CHECK_SCALABLE, s_borrow(100));
    STEP(snap_scalable, CHECK_SCALABLE, s_borrow((size_t)300 << 10));
    /* Middle frees split free space: the offset allocators need nodes. */
    for (int i = 0; i < k; i++)
        if (n[i] >= 3)
            STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free(sc, p[i] + 1, n[i] - 2));
    for (int i = 0; i < k; i++) {
        if (n[i] >= 3) {
            STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free(sc, p[i], 1));
            STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free_rest(sc, p[i] + n[i] - 1, 1, 0));
        } else {
            STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free(sc, p[i], n[i]));
        }
    }
    /* read: pool memory filled from a pipe, its unused tail given back. */
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe: %s", strerror(errno));
    static const char msg[] = "a message of some bytes";
    void *got = NULL;
    if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg)
        die("write to the pipe failed");
    STEP(snap_scalable, CHECK_SCALABLE, s_read(fds[0], 70000, &got));
    if (memcmp(got, msg, sizeof msg) != 0)
        die("gomem_scalable_read read the wrong bytes");
    STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free(sc, got, sizeof msg));
    close(fds[0]);
    close(fds[1]);
    struct gomem_scalable_stats st;
    gomem_scalable_stats(sc, &st);
    if (st.in_use != 0)
        die("%zu bytes still in use after every free", st.in_use);
    (void)gomem_scalable_trim(sc);
    STEP(snap_scalable, CHECK_SCALABLE, PTR_STATUS(p[0], gomem_scalable_malloc(sc, 10)));
    STEP(snap_scalable, CHECK_SCALABLE, gomem_scalable_free(sc, p[0], 10));
    gomem_scalable_destroy(sc);
    sc = NULL;
}

/* ---------------------------------------------------------------- memory */

static gomem_memory mem, mem2;

static void snap_memory1(struct snap *s, const gomem_memory *m)
{
    snap_mix(s, m->count);
    snap_mix(s, m->size);
    for (size_t i = 0; i < m->count; i++) {
        snap_mix(s, (uintptr_t)m->iov[i].iov_base);
        snap_mix(s, m->iov[i].iov_len);
    }
}

static void snap_memory(struct snap *s)
{
    snap_memory1(s, &mem);
    snap_memory1(s, &mem2);
}

#define CHECK_MEMORY (gomem__memory_check(&mem) != NULL || gomem__memory_check(&mem2) != NULL)

static unsigned char bytes[4096];

static int m_to_bytes(void)
{
    unsigned char *c;
    int r = PTR_STATUS(c, gomem_memory_to_bytes(&mem));
    if (r)
        return r;
    int same = gomem_memory_size(&mem) == 0 || memcmp(c, bytes, gomem_memory_size(&mem)) == 0;
    free(c);
    return same ? 0 : -EIO;
}

static void scenario_memory(void)
{
    gomem_memory_init(&mem);
    gomem_memory_init(&mem2);
    STEP(snap_memory, CHECK_MEMORY, m_to_bytes());
    size_t at = 0;
    for (int i = 0; i < 40; i++) {
        size_t n = (size_t)i % 5;
        STEP(snap_memory, CHECK_MEMORY, gomem_memory_push(&mem, bytes + at, n));
        at += n;
    }
    struct iovec v[20];
    for (int i = 0; i < 20; i++) {
        v[i].iov_base = bytes + at;
        v[i].iov_len = (size_t)i;
        at += (size_t)i;
    }
    STEP(snap_memory, CHECK_MEMORY, gomem_memory_pushv(&mem, v, 20));
    STEP(snap_memory, CHECK_MEMORY, m_to_bytes());
    STEP(snap_memory, CHECK_MEMORY, gomem_memory_append(&mem2, &mem));
    STEP(snap_memory, CHECK_MEMORY, gomem_memory_append(&mem2, &mem2));
    gomem_memory_reset(&mem2);
    STEP(snap_memory, CHECK_MEMORY, gomem_memory_push(&mem2, bytes, 1));
    /* The reader allocates nothing, whatever it does. */
    gomem_reader r;
    uint32_t x;
    uint64_t y;
    unsigned char buf[64];
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_init(&r, &mem));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_read_be32(&r, &x));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_read_le(&r, 7, &y));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_peek(&r, buf, 30));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_skip(&r, 40));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_unread(&r, 5));
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_read(&r, buf, 33) == 33 ? 0 : -EIO);
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_clip_front(&r, NULL, NULL));
    STEP(snap_memory, CHECK_MEMORY, gomem__reader_check(&r) == NULL ? 0 : -EIO);
    STEP(snap_memory, CHECK_MEMORY, gomem_reader_range_n(&r, 10, NULL, NULL));
    gomem_memory_destroy(&mem);
    gomem_memory_destroy(&mem2);
}

/* ---------------------------------------------------------------- recyclable */

static gomem_recyclable rm;

static void snap_recyclable(struct snap *s)
{
    snap_memory1(s, &rm.mem);
    snap_mix(s, rm.nowned);
    for (size_t i = 0; i < rm.nowned; i++)
        snap_mix(s, (uintptr_t)rm.owned[i].iov_base);
    snap_scalable(s);
}

#define CHECK_RECYCLABLE (gomem__memory_check(&rm.mem) != NULL || CHECK_SCALABLE)

/* recycle returns nothing: it gives back every segment, but one the
 * allocator cannot take back for lack of memory stays owned by rm and goes
 * back at the next recycle. The allocator's in-use count shows which. */
static int r_recycle(size_t expect_in_use)
{
    gomem_recyclable_recycle(&rm);
    struct gomem_scalable_stats st;
    gomem_scalable_stats(sc, &st);
    size_t kept = 0;
    for (size_t i = 0; i < rm.nowned; i++)
        kept += rm.owned[i].iov_len;
    if (gomem_memory_count(&rm.mem) != 0 || st.in_use != expect_in_use + kept)
        return -EIO;
    if (kept) {
        /* The next recycle, without faults, gives back the rest. */
        long at = fault_at;
        fault_at = 0;
        gomem_recyclable_recycle(&rm);
        fault_at = at;
        gomem_scalable_stats(sc, &st);
        if (rm.nowned != 0 || st.in_use != expect_in_use)
            return -EIO;
        recycle_kept++;
    }
    return 0;
}

static int r_clone(void)
{
    gomem_memory c;
    int r = gomem_recyclable_clone(&rm, &c);
    if (!r && !gomem_memory_equal(&c, &rm.mem))
        r = -EIO;
    gomem_memory_destroy(&c);
    return r;
}

static void scenario_recyclable(void)
{
    sc = gomem_scalable_new(1024);
    if (!sc)
        die("gomem_scalable_new failed without a fault");
    STEP(snap_recyclable, CHECK_RECYCLABLE, gomem_recyclable_init(&rm, sc));
    /* Round 1 puts a byte of someone else's between the segments, so each
     * segment goes back alone, through an offset allocator that needs a
     * node for it. */
    unsigned char *gap[150];
    for (int round = 0; round < 2; round++) {
        int count = round ? 150 : 40;
        for (int i = 0; i < count; i++) {
            unsigned char *p;
            size_t n = 1 + (size_t)(i * 131) % (round ? 50 : 700);
            STEP(snap_recyclable, CHECK_RECYCLABLE, PTR_STATUS(p, gomem_recyclable_next(&rm, n)));
            memset(p, i, n);
            if (i % 7 == 0)
                STEP(snap_recyclable, CHECK_RECYCLABLE, gomem_recyclable_add(&rm, bytes, 5));
            if (round == 1)
                STEP(snap_recyclable, CHECK_RECYCLABLE, PTR_STATUS(gap[i], gomem_scalable_malloc(sc, 1)));
        }
        STEP(snap_recyclable, CHECK_RECYCLABLE, r_clone());
        /* Someone else's allocation after the segments: recycle must go
         * through the offset allocators, which may need nodes. */
        unsigned char *other;
        STEP(snap_recyclable, CHECK_RECYCLABLE, PTR_STATUS(other, gomem_scalable_malloc(sc, 10)));
        STEP(snap_recyclable, CHECK_RECYCLABLE, r_recycle(round == 1 ? 160 : 10));
        STEP(snap_recyclable, CHECK_RECYCLABLE, gomem_scalable_free(sc, other, 10));
        for (int i = 0; round == 1 && i < count; i++)
            STEP(snap_recyclable, CHECK_RECYCLABLE, gomem_scalable_free(sc, gap[i], 1));
    }
    gomem_recyclable_destroy(&rm);
    gomem_scalable_destroy(sc);
    sc = NULL;
}

/* ---------------------------------------------------------------- main */

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(i * 7 + 1);
    run_scenario("offset (segfit ops table)", scenario_segfit);
    run_scenario("offset (avl ops table)", scenario_avl);
    run_scenario("buddy, buddy pool", scenario_buddy);
    run_scenario("arena on heap", scenario_arena_heap);
    run_scenario("arena on mmap", scenario_arena_mmap);
    run_scenario("arena on buddy pool", scenario_arena_buddy);
    run_scenario("arena (pooled, default)", scenario_arena_pooled);
    run_scenario("scalable", scenario_scalable);
    run_scenario("memory, reader", scenario_memory);
    run_scenario("recyclable", scenario_recyclable);
    printf("%ld failed calls retried successfully; %ld recycles kept segments for the next one\n",
           calls_total, recycle_kept);
    /* Idle pooled arenas are not leaks, but memcheck would count them. */
    gomem__arena_pool_drain();
    return EXIT_SUCCESS;
}
