/* bench_buffer.c - Memory, reader and recyclable memory on 1000 segments
 * of 1460 bytes (network payloads), each beside a plain C loop over one
 * contiguous copy of the same bytes (the physical limit, the base of the
 * ratios) and, where it loads, libevent's evbuffer holding the same
 * segments by reference. next+recycle is measured beside malloc/free of
 * the same sizes from glibc (the base) and the other peers. */
#include "config.h" /* _GNU_SOURCE: memmem */

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"
#include "gomem.h"

#define SEGS 1000
#define SEG 1460
#define RECORD 188 /* an MPEG-TS packet */
#define SKIP 100

static uint8_t *segs[SEGS]; /* each its own allocation, as from recv() */
static uint8_t *flat;       /* the same bytes in one piece */
static size_t total;        /* run-time, as a parser sees it */
static gomem_memory mem;

/* ---------------------------------------------------------------- libevent,
 * loaded at run time so it is no build dependency */
static struct {
    void *(*new_)(void);
    void (*free_)(void *);
    int (*add_reference)(void *, const void *, size_t, void (*)(const void *, size_t, void *),
                         void *);
    int (*remove)(void *, void *, size_t);
    int (*drain)(void *, size_t);
    long (*copyout)(void *, void *, size_t);
    int (*write)(void *, int);
    size_t (*length)(const void *);
} evb;

static int evb_load(void)
{
    void *h = dlopen("libevent-2.1.so.7", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return 0;
    struct {
        void *slot;
        const char *name;
    } syms[] = {
        {&evb.new_, "evbuffer_new"},       {&evb.free_, "evbuffer_free"},
        {&evb.add_reference, "evbuffer_add_reference"},
        {&evb.remove, "evbuffer_remove"},  {&evb.drain, "evbuffer_drain"},
        {&evb.copyout, "evbuffer_copyout"}, {&evb.write, "evbuffer_write"},
        {&evb.length, "evbuffer_get_length"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f)
            return 0;
        memcpy(syms[i].slot, &f, sizeof f);
    }
    return 1;
}

/* An evbuffer referencing the segments, zero-copy like the Memory. */
static void *evb_fill(void)
{
    void *e = evb.new_();
    for (size_t i = 0; i < SEGS; i++)
        evb.add_reference(e, segs[i], SEG, NULL, NULL);
    return e;
}

/* ---------------------------------------------------------------- the
 * workloads. Each returns ns per unit: byte, u32, record, skip, or one
 * whole pass over the 1000 segments. */

enum who { PLAIN, GOMEM, EVBUF };
enum test {
    T_U8, T_BE32, T_RECORD, T_SKIP, T_TO_BYTES, T_WRITEV,
    T_BITS, T_UE, T_SCAN3, T_SCAN1, NTESTS
};

static const struct {
    const char *name, *unit;
    int passes;    /* per run, over the 1.46 MB */
    size_t per;    /* units per pass */
} tests[NTESTS] = {
    [T_U8] = {"read_u8 to the end, per byte", "ns", 8, SEGS * SEG},
    [T_BE32] = {"read_be32 to the end, per u32", "ns", 20, SEGS * SEG / 4},
    [T_RECORD] = {"188-byte records (read), each", "ns", 40, SEGS * SEG / RECORD},
    [T_SKIP] = {"skip 100 bytes, each", "ns", 100, SEGS * SEG / SKIP},
    [T_TO_BYTES] = {"to_bytes, per 1.46 MB", "us", 20, 1},
    [T_WRITEV] = {"writev to /dev/null, per 1000 segs", "us", 200, 1},
    [T_BITS] = {"bit reads of 1..19 bits, each", "ns", 8, SEGS * SEG * 8 / 64 * 7},
    [T_UE] = {"exp-Golomb ue(v) to the end, per 1000", "ns", 8, 1},
    [T_SCAN3] = {"scan for 00 00 01, per 1.46 MB", "us", 40, 1},
    [T_SCAN1] = {"scan for 0x47 and skip, each match", "ns", 20, 1},
};

struct job {
    enum test t;
    enum who w;
    int devnull;
};

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Make the copy of a record real: the compiler must assume rec is read. */
static inline uint64_t use_record(const uint8_t *rec)
{
    __asm__ volatile("" : : "r"(rec) : "memory");
    return rec[0] + rec[RECORD - 1];
}

/* One pass of each workload, one function each so that each loop is
 * compiled on its own. e is the evbuffer (refilled before each pass). */
typedef uint64_t pass_fn(int fd, void *e);

static uint64_t plain_u8(int fd, void *e)
{
    uint64_t sum = 0;
    (void)fd, (void)e;
    for (size_t i = 0; i < total; i++)
        sum += flat[i];
    return sum;
}

static uint64_t gomem_u8(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t b;
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_read_u8(&r, &b) == 0)
        sum += b;
    return sum;
}

static uint64_t evbuf_u8(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t b;
    (void)fd;
    while (evb.remove(e, &b, 1) == 1)
        sum += b;
    return sum;
}

static uint64_t plain_be32(int fd, void *e)
{
    uint64_t sum = 0;
    (void)fd, (void)e;
    for (size_t i = 0; i + 4 <= total; i += 4)
        sum += load_be32(flat + i);
    return sum;
}

static uint64_t gomem_be32(int fd, void *e)
{
    uint64_t sum = 0;
    uint32_t v;
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_read_be32(&r, &v) == 0)
        sum += v;
    return sum;
}

static uint64_t evbuf_be32(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t b[4];
    (void)fd;
    while (evb.remove(e, b, 4) == 4)
        sum += load_be32(b);
    return sum;
}

static uint64_t plain_record(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t rec[RECORD];
    (void)fd, (void)e;
    for (size_t off = 0; total - off >= RECORD; off += RECORD) {
        memcpy(rec, flat + off, RECORD);
        sum += use_record(rec);
    }
    return sum;
}

static uint64_t gomem_record(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t rec[RECORD];
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_read(&r, rec, RECORD) == RECORD)
        sum += use_record(rec);
    return sum;
}

static uint64_t evbuf_record(int fd, void *e)
{
    uint64_t sum = 0;
    uint8_t rec[RECORD];
    (void)fd;
    while (evb.remove(e, rec, RECORD) == RECORD)
        sum += use_record(rec);
    return sum;
}

static uint64_t plain_skip(int fd, void *e)
{
    uint64_t sum = 0;
    (void)fd, (void)e;
    for (size_t off = 0; total - off >= SKIP; sum++) {
        off += SKIP;
        __asm__ volatile("" : "+r"(off)); /* no closed form */
    }
    return sum;
}

static uint64_t gomem_skip(int fd, void *e)
{
    uint64_t sum = 0;
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_skip(&r, SKIP) == 0)
        sum++;
    return sum;
}

static uint64_t evbuf_skip(int fd, void *e)
{
    uint64_t sum = 0;
    (void)fd;
    while (evb.length(e) >= SKIP) {
        evb.drain(e, SKIP);
        sum++;
    }
    return sum;
}

static uint64_t plain_to_bytes(int fd, void *e)
{
    (void)fd, (void)e;
    void *d = malloc(total);
    memcpy(d, flat, total);
    bench_sink(d);
    free(d);
    return 1;
}

static uint64_t gomem_to_bytes(int fd, void *e)
{
    (void)fd, (void)e;
    void *d = gomem_memory_to_bytes(&mem);
    bench_sink(d);
    free(d);
    return 1;
}

static uint64_t evbuf_to_bytes(int fd, void *e)
{
    (void)fd;
    void *d = malloc(total);
    evb.copyout(e, d, total);
    bench_sink(d);
    free(d);
    return 1;
}

#ifndef IOV_MAX
#define IOV_MAX 1024 /* POSIX names it only with the X/Open extensions */
#endif

/* The same segments sent by hand: writev(2), IOV_MAX at a time. Writing
 * the one-piece copy instead would measure less work than the others do. */
static uint64_t plain_writev(int fd, void *e)
{
    uint64_t w = 0;
    (void)e;
    for (size_t i = 0; i < mem.count; i += IOV_MAX) {
        size_t n = mem.count - i < IOV_MAX ? mem.count - i : IOV_MAX;
        ssize_t r = writev(fd, mem.iov + i, (int)n);
        if (r > 0)
            w += (uint64_t)r;
    }
    return w;
}

static uint64_t gomem_writev(int fd, void *e)
{
    size_t w = 0;
    (void)e;
    gomem_memory_writev(&mem, fd, &w);
    return w;
}

static uint64_t evbuf_writev(int fd, void *e)
{
    uint64_t calls = 0;
    while (evb.length(e) && evb.write(e, fd) > 0)
        calls++;
    return calls;
}

/* ---------------------------------------------------------------- bits,
 * exp-Golomb and scans. The plain side is what a parser would write over
 * one contiguous copy: a bit index and an unaligned 64-bit load (FFmpeg's
 * get_bits), and memmem(3). flatpad has 8 bytes of padding for the
 * loads. */

static uint8_t *flatpad;

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return __builtin_bswap64(w);
}

struct pbits {
    const uint8_t *buf;
    size_t idx, bits;
};

static inline int pbits_read(struct pbits *b, unsigned n, uint64_t *v)
{
    if (b->bits - b->idx < n)
        return -1;
    *v = load_be64(b->buf + (b->idx >> 3)) << (b->idx & 7) >> (64 - n);
    b->idx += n;
    return 0;
}

static inline int pbits_ue(struct pbits *b, uint32_t *v)
{
    uint64_t w = load_be64(b->buf + (b->idx >> 3)) << (b->idx & 7);
    unsigned z = (unsigned)__builtin_clzll(w | 1);
    if (z > 31 || b->bits - b->idx < 2 * z + 1)
        return -1;
    *v = (uint32_t)((w >> (63 - 2 * z)) - 1);
    b->idx += 2 * z + 1;
    return 0;
}

/* Seven reads of 64 bits in all, as a header parser does. */
#define BITS7(read, b, sum)                                                   \
    for (;;) {                                                                \
        uint64_t v1, v2, v3, v4, v5, v6, v7;                                  \
        if (read(b, 1, &v1) || read(b, 7, &v2) || read(b, 12, &v3) ||         \
            read(b, 5, &v4) || read(b, 17, &v5) || read(b, 3, &v6) ||         \
            read(b, 19, &v7))                                                 \
            break;                                                            \
        sum += v1 + v2 + v3 + v4 + v5 + v6 + v7;                              \
    }

/* Each pass of BITS7 reads 64 bits, so with the index in a register the
 * compiler knows idx & 7 at every read of the plain loop and turns its
 * shifts into constants (and merges its bound checks): no parser whose
 * fields vary in width (ue codes, optional fields) gets that. The empty
 * asm hides idx's value from the optimizer once per pass, which makes the
 * plain loop an ordinary bit reader again; it emits no instruction. */
static inline int pbits_read_unknown(struct pbits *b, unsigned n, uint64_t *v)
{
    if (n == 1) /* the first read of a pass */
        __asm__("" : "+r"(b->idx));
    return pbits_read(b, n, v);
}

static uint64_t plain_bits(int fd, void *e)
{
    uint64_t sum = 0;
    struct pbits b = {flatpad, 0, total * 8};
    (void)fd, (void)e;
    BITS7(pbits_read_unknown, &b, sum)
    return sum;
}

static uint64_t gomem_bits(int fd, void *e)
{
    uint64_t sum = 0;
    gomem_reader r;
    gomem_bitreader b;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    gomem_bitreader_init(&b, &r, 0);
    BITS7(gomem_bitreader_read, &b, sum)
    return sum;
}

static uint64_t plain_ue(int fd, void *e)
{
    uint64_t sum = 0;
    uint32_t v;
    struct pbits b = {flatpad, 0, total * 8};
    (void)fd, (void)e;
    while (pbits_ue(&b, &v) == 0)
        sum += v;
    return sum;
}

static uint64_t gomem_ue(int fd, void *e)
{
    uint64_t sum = 0;
    uint32_t v;
    gomem_reader r;
    gomem_bitreader b;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    gomem_bitreader_init(&b, &r, 0);
    while (gomem_bitreader_read_ue(&b, &v) == 0)
        sum += v;
    return sum;
}

static const uint8_t startcode[3] = {0, 0, 1}, syncbyte = 0x47;

static uint64_t plain_scan3(int fd, void *e)
{
    uint64_t n = 0;
    const uint8_t *p = flat, *end = flat + total, *q;
    (void)fd, (void)e;
    while ((q = memmem(p, (size_t)(end - p), startcode, 3)) != NULL) {
        p = q + 1;
        n++;
    }
    return n;
}

static uint64_t gomem_scan3(int fd, void *e)
{
    uint64_t n = 0;
    size_t off;
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_scan(&r, startcode, NULL, 3, &off) == 0) {
        gomem_reader_skip(&r, off + 1);
        n++;
    }
    return n;
}

static uint64_t plain_scan1(int fd, void *e)
{
    uint64_t n = 0;
    const uint8_t *p = flat, *end = flat + total, *q;
    (void)fd, (void)e;
    while ((q = memmem(p, (size_t)(end - p), &syncbyte, 1)) != NULL) {
        p = q + 1;
        n++;
    }
    return n;
}

static uint64_t gomem_scan1(int fd, void *e)
{
    uint64_t n = 0;
    size_t off;
    gomem_reader r;
    (void)fd, (void)e;
    gomem_reader_init(&r, &mem);
    while (gomem_reader_scan(&r, &syncbyte, NULL, 1, &off) == 0) {
        gomem_reader_skip(&r, off + 1);
        n++;
    }
    return n;
}

static pass_fn *const passes[NTESTS][3] = {
    [T_U8] = {plain_u8, gomem_u8, evbuf_u8},
    [T_BE32] = {plain_be32, gomem_be32, evbuf_be32},
    [T_RECORD] = {plain_record, gomem_record, evbuf_record},
    [T_SKIP] = {plain_skip, gomem_skip, evbuf_skip},
    [T_TO_BYTES] = {plain_to_bytes, gomem_to_bytes, evbuf_to_bytes},
    [T_WRITEV] = {plain_writev, gomem_writev, evbuf_writev},
    [T_BITS] = {plain_bits, gomem_bits, NULL},
    [T_UE] = {plain_ue, gomem_ue, NULL},
    [T_SCAN3] = {plain_scan3, gomem_scan3, NULL},
    [T_SCAN1] = {plain_scan1, gomem_scan1, NULL},
};

/* Units per pass of the tests that count them as they go. */
static uint64_t per_pass[NTESTS];

static double run(void *arg)
{
    const struct job *j = arg;
    uint64_t ns = 0, sum = 0;
    for (int p = 0; p < tests[j->t].passes; p++) {
        void *e = j->w == EVBUF ? evb_fill() : NULL;
        uint64_t t0 = bench_now_ns();
        sum += passes[j->t][j->w](j->devnull, e);
        ns += bench_now_ns() - t0;
        if (e)
            evb.free_(e);
    }
    bench_sink_u64 += sum;
    double units = per_pass[j->t] ? (double)per_pass[j->t] : (double)tests[j->t].per;
    double per = (double)ns / tests[j->t].passes / units;
    return tests[j->t].unit[0] == 'u' ? per / 1000 : per;
}

/* ---------------------------------------------------------------- 10 next
 * of 128..4096 bytes, then one recycle */

#define ROUNDS 100000
#define BATCH 10

static size_t batch_sizes[BATCH];

struct rm_job {
    const struct bench_peer *peer; /* NULL: gomem_recyclable */
    gomem_scalable *s;
};

static double rm_run(void *arg)
{
    const struct rm_job *j = arg;
    uint64_t t0, t1;
    if (!j->peer) {
        gomem_recyclable rm;
        gomem_recyclable_init(&rm, j->s);
        t0 = bench_now_ns();
        for (int r = 0; r < ROUNDS; r++) {
            for (int i = 0; i < BATCH; i++) {
                uint8_t *p = gomem_recyclable_next(&rm, batch_sizes[i]);
                p[0] = (uint8_t)r; /* touch it, as a user would */
            }
            gomem_recyclable_recycle(&rm);
        }
        t1 = bench_now_ns();
        gomem_recyclable_destroy(&rm);
    } else {
        void *p[BATCH];
        t0 = bench_now_ns();
        for (int r = 0; r < ROUNDS; r++) {
            for (int i = 0; i < BATCH; i++) {
                p[i] = j->peer->malloc(batch_sizes[i]);
                ((uint8_t *)p[i])[0] = (uint8_t)r;
            }
            for (int i = 0; i < BATCH; i++)
                j->peer->free(p[i]);
        }
        t1 = bench_now_ns();
    }
    return (double)(t1 - t0) / ROUNDS;
}

void bench_buffer(void)
{
    uint64_t st = 0x9e3779b97f4a7c15ULL;
    flat = malloc(SEGS * SEG);
    flatpad = calloc(1, SEGS * SEG + 8);
    gomem_memory_init(&mem);
    for (size_t i = 0; i < SEGS; i++) {
        segs[i] = malloc(SEG);
        for (size_t k = 0; k < SEG; k++) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            segs[i][k] = (uint8_t)(st >> 56);
        }
        memcpy(flat + i * SEG, segs[i], SEG);
        memcpy(flatpad + i * SEG, segs[i], SEG);
        gomem_memory_push(&mem, segs[i], SEG);
    }
    total = gomem_memory_size(&mem);
    int have_evb = evb_load();
    int devnull = open("/dev/null", O_WRONLY);

    bench_section("buffer: Memory and reader, 1000 segments of 1460 bytes");
    if (!have_evb)
        printf("  (libevent-2.1.so.7 not loaded: no evbuffer rows)\n");
    /* The runs of the three contenders alternate, so a busy machine slows
     * them alike; the median of each is reported. */
    static const char *const who[] = {"plain (1 piece)", "gomem", "evbuffer"};
    int runs = bench_runs < 1 ? 1 : bench_runs > 64 ? 64 : bench_runs, nwho = have_evb ? 3 : 2;
    /* Units the counting tests see in one pass: matches, or ue codes in
     * thousands. */
    {
        gomem_reader r;
        gomem_bitreader b;
        uint32_t v;
        uint64_t codes = 0;
        gomem_reader_init(&r, &mem);
        gomem_bitreader_init(&b, &r, 0);
        while (gomem_bitreader_read_ue(&b, &v) == 0)
            codes++;
        per_pass[T_UE] = codes / 1000 ? codes / 1000 : 1;
        per_pass[T_SCAN1] = gomem_scan1(0, NULL);
    }
    for (int t = 0; t < NTESTS; t++) {
        double v[3][64], med[3];
        if (!bench_wanted(tests[t].name))
            continue;
        int nw = passes[t][EVBUF] ? nwho : 2;
        for (int i = 0; i < runs; i++)
            for (int w = 0; w < nw; w++) {
                struct job j = {(enum test)t, (enum who)w, devnull};
                v[w][i] = run(&j);
            }
        for (int w = 0; w < nw; w++) {
            med[w] = bench_median(v[w], runs);
            bench_row(tests[t].name, who[w], med[w], tests[t].unit, med[PLAIN]);
        }
    }

    bench_section("buffer: 10 next of 128..4096 bytes + 1 recycle, per round");
    for (int i = 0; i < BATCH; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        batch_sizes[i] = 128 + (size_t)(st >> 33) % (4096 - 128 + 1);
    }
    struct bench_peer peers[8];
    int npeers = bench_peers(peers, 8);
    double base = 0;
    for (int i = 0; i < npeers; i++) {
        struct rm_job j = {&peers[i], NULL};
        double v = bench_measure(rm_run, &j);
        if (i == 0)
            base = v;
        bench_row("10 malloc + 10 free", peers[i].name, v, "ns", base);
    }
    struct rm_job j = {NULL, gomem_scalable_new(64 * 1024)};
    bench_row("10 next + recycle", (gomem_features() & GOMEM_FEATURE_RM) ? "gomem" : "gomem (no rm)",
              bench_measure(rm_run, &j), "ns", base);
    gomem_scalable_destroy(j.s);

    if (devnull >= 0)
        close(devnull);
    gomem_memory_destroy(&mem);
    for (size_t i = 0; i < SEGS; i++)
        free(segs[i]);
    free(flat);
    free(flatpad);
}
