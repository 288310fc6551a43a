/* check_memory.c - gomem_memory_*: each call and each error, writev
 * against a pipe and a full non-blocking socket, and a randomized model
 * test with the invariant checker after every step. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "buffer/buffer.h"
#include "testutil.h"

#define CHECK_MEM(m)                                                          \
    do {                                                                      \
        const char *why_ = gomem__memory_check(m);                           \
        ck_assert_msg(why_ == NULL, "invariant: %s", why_ ? why_ : "");       \
    } while (0)

/* writev as the library sees it: every call is counted, and a test can
 * make the kernel look slow (at most writev_cap bytes per call) or
 * interrupted (every other call fails with EINTR). The real system call
 * is made with syscall(2). The library is linked statically into this
 * program, so its writev calls land here. */
static long writev_calls;
static size_t writev_cap;
static int writev_eintr;

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    writev_calls++;
    if (writev_eintr && writev_calls % 2) {
        errno = EINTR;
        return -1;
    }
    if (writev_cap) {
        struct iovec tmp[8];
        int n = 0;
        size_t total = 0;
        for (; n < cnt && n < 8 && total < writev_cap; n++) {
            tmp[n] = iov[n];
            if (tmp[n].iov_len > writev_cap - total)
                tmp[n].iov_len = writev_cap - total;
            total += tmp[n].iov_len;
        }
        return syscall(SYS_writev, fd, tmp, n);
    }
    return syscall(SYS_writev, fd, iov, cnt);
}

static uint8_t src[4096];

static void fill_src(void)
{
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 7 + i / 251);
}

/* m holds the bytes of src[off, off + n) split after every `step` bytes. */
static void split(gomem_memory *m, size_t off, size_t n, size_t step)
{
    gomem_memory_init(m);
    for (size_t i = 0; i < n; i += step)
        ck_assert_int_eq(gomem_memory_push(m, src + off + i, n - i < step ? n - i : step), 0);
    CHECK_MEM(m);
}

START_TEST(test_empty)
{
    gomem_memory m, e;
    gomem_memory_init(&m);
    gomem_memory_init(&e);
    gomem_memory_init(NULL);
    ck_assert_uint_eq(gomem_memory_size(&m), 0);
    ck_assert_uint_eq(gomem_memory_count(&m), 0);
    ck_assert_uint_eq(gomem_memory_size(NULL), 0);
    ck_assert_uint_eq(gomem_memory_count(NULL), 0);
    uint8_t b[4] = {9, 9, 9, 9};
    ck_assert_uint_eq(gomem_memory_copy_to(&m, b, sizeof b), 0);
    ck_assert_int_eq(b[0], 9);
    void *p = gomem_memory_to_bytes(&m);
    ck_assert_ptr_nonnull(p);
    free(p);
    ck_assert_int_eq(gomem_memory_equal(&m, &e), 1);
    size_t w = 99;
    ck_assert_int_eq(gomem_memory_writev(&m, 1, &w), 0);
    ck_assert_uint_eq(w, 0);
    /* Empty means no system call, so no fd to refuse either: also with
     * empty segments, and with a negative or closed fd. */
    writev_calls = 0;
    w = 99;
    ck_assert_int_eq(gomem_memory_writev(&m, -1, &w), 0);
    ck_assert_uint_eq(w, 0);
    ck_assert_int_eq(gomem_memory_push(&m, NULL, 0), 0);
    ck_assert_int_eq(gomem_memory_push(&m, src, 0), 0);
    w = 99;
    ck_assert_int_eq(gomem_memory_writev(&m, -1, &w), 0);
    ck_assert_uint_eq(w, 0);
    ck_assert_int_eq(gomem_memory_writev(&m, INT_MAX, NULL), 0);
    ck_assert_int_eq(writev_calls, 0);
    gomem_memory_reset(&m);
    CHECK_MEM(&m);
    gomem_memory_destroy(&m);
    gomem_memory_destroy(&m);
    gomem_memory_destroy(NULL);
}
END_TEST

START_TEST(test_push)
{
    gomem_memory m;
    gomem_memory_init(&m);
    ck_assert_int_eq(gomem_memory_push(&m, src, 10), 0);
    ck_assert_int_eq(gomem_memory_push(&m, NULL, 0), 0); /* an empty segment */
    ck_assert_int_eq(gomem_memory_push(&m, src + 10, 5), 0);
    ck_assert_uint_eq(gomem_memory_count(&m), 3);
    ck_assert_uint_eq(gomem_memory_size(&m), 15);
    ck_assert_ptr_eq(m.iov[0].iov_base, src); /* zero-copy */
    ck_assert_ptr_eq(m.iov[2].iov_base, src + 10);
    CHECK_MEM(&m);

    /* Errors change nothing. */
    ck_assert_int_eq(gomem_memory_push(NULL, src, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_push(&m, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_push(&m, src, SIZE_MAX), -EOVERFLOW);
    ck_assert_uint_eq(gomem_memory_count(&m), 3);
    ck_assert_uint_eq(gomem_memory_size(&m), 15);

    /* Many pushes: the array grows and keeps every segment. */
    for (size_t i = 0; i < 1000; i++)
        ck_assert_int_eq(gomem_memory_push(&m, src + i, 1), 0);
    ck_assert_uint_eq(gomem_memory_count(&m), 1003);
    ck_assert_uint_eq(gomem_memory_size(&m), 1015);
    ck_assert_ptr_eq(m.iov[1002].iov_base, src + 999);
    CHECK_MEM(&m);
    gomem_memory_destroy(&m);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_ptr_null(m.iov);
}
END_TEST

START_TEST(test_pushv_append)
{
    gomem_memory m, o;
    gomem_memory_init(&m);
    struct iovec v[3] = {{src, 3}, {src + 3, 0}, {src + 3, 4}};
    ck_assert_int_eq(gomem_memory_pushv(&m, v, 3), 0);
    ck_assert_int_eq(gomem_memory_pushv(&m, NULL, 0), 0);
    ck_assert_uint_eq(m.count, 3);
    ck_assert_uint_eq(m.size, 7);

    /* All or nothing: a bad entry anywhere adds none. */
    struct iovec bad[2] = {{src, 1}, {NULL, 1}};
    ck_assert_int_eq(gomem_memory_pushv(&m, bad, 2), -EINVAL);
    struct iovec big[2] = {{src, 1}, {src, SIZE_MAX - 7}};
    ck_assert_int_eq(gomem_memory_pushv(&m, big, 2), -EOVERFLOW);
    ck_assert_int_eq(gomem_memory_pushv(&m, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_pushv(NULL, v, 1), -EINVAL);
    ck_assert_uint_eq(m.count, 3);
    ck_assert_uint_eq(m.size, 7);
    CHECK_MEM(&m);

    /* Pushing m's own segments, and appending m to itself, while the
     * array moves as it grows. */
    for (int round = 0; round < 4; round++)
        ck_assert_int_eq(gomem_memory_pushv(&m, m.iov, m.count), 0);
    ck_assert_uint_eq(m.count, 48);
    ck_assert_uint_eq(m.size, 112);
    ck_assert_int_eq(gomem_memory_append(&m, &m), 0);
    ck_assert_uint_eq(m.count, 96);
    ck_assert_uint_eq(m.size, 224);
    CHECK_MEM(&m);
    uint8_t *all = gomem_memory_to_bytes(&m);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < 224; i++)
        ck_assert_int_eq(all[i], src[i % 7]);
    free(all);

    split(&o, 100, 50, 7);
    gomem_memory_reset(&m);
    ck_assert_int_eq(gomem_memory_append(&m, &o), 0);
    ck_assert_int_eq(gomem_memory_append(&m, NULL), -EINVAL);
    ck_assert_int_eq(gomem_memory_append(NULL, &o), -EINVAL);
    ck_assert_uint_eq(m.count, o.count);
    ck_assert_ptr_eq(m.iov[1].iov_base, o.iov[1].iov_base);
    ck_assert_int_eq(gomem_memory_equal(&m, &o), 1);
    gomem_memory_destroy(&m);
    gomem_memory_destroy(&o);
}
END_TEST

START_TEST(test_copy_to_bytes)
{
    gomem_memory m;
    split(&m, 0, 1000, 33);
    uint8_t out[1100];
    memset(out, 0xee, sizeof out);
    ck_assert_uint_eq(gomem_memory_copy_to(&m, out, sizeof out), 1000);
    ck_assert_mem_eq(out, src, 1000);
    ck_assert_int_eq(out[1000], 0xee);
    memset(out, 0xee, sizeof out);
    ck_assert_uint_eq(gomem_memory_copy_to(&m, out, 100), 100); /* cut inside a segment */
    ck_assert_mem_eq(out, src, 100);
    ck_assert_int_eq(out[100], 0xee);
    ck_assert_uint_eq(gomem_memory_copy_to(&m, out, 0), 0);
    ck_assert_uint_eq(gomem_memory_copy_to(&m, NULL, 10), 0);
    ck_assert_uint_eq(gomem_memory_copy_to(NULL, out, 10), 0);
    uint8_t *b = gomem_memory_to_bytes(&m);
    ck_assert_ptr_nonnull(b);
    ck_assert_mem_eq(b, src, 1000);
    free(b);
    EXPECT_NULL_ERRNO(gomem_memory_to_bytes(NULL), EINVAL);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_copy_from)
{
    gomem_memory m, from;
    split(&from, 0, 1000, 33);
    gomem_memory_init(&m);
    static const uint8_t head[5] = {9, 9, 9, 9, 9};
    gomem_memory_push(&m, head, sizeof head);
    EXPECT_NULL_ERRNO(gomem_memory_copy_from(NULL, &from), EINVAL);
    EXPECT_NULL_ERRNO(gomem_memory_copy_from(&m, NULL), EINVAL);
    uint8_t *c = gomem_memory_copy_from(&m, &from);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(m.count, 2); /* one contiguous segment */
    ck_assert_uint_eq(m.size, 1005);
    ck_assert_ptr_eq(m.iov[1].iov_base, c);
    ck_assert_mem_eq(c, src, 1000);
    CHECK_MEM(&m);
    /* A copy of itself, and of an empty Memory (a freeable pointer). */
    uint8_t *d = gomem_memory_copy_from(&m, &m);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(m.count, 3);
    ck_assert_uint_eq(m.size, 2010);
    ck_assert_mem_eq(d, head, 5);
    ck_assert_mem_eq(d + 5, src, 1000);
    gomem_memory empty;
    gomem_memory_init(&empty);
    void *e = gomem_memory_copy_from(&m, &empty);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(m.count, 4);
    ck_assert_uint_eq(m.size, 2010);
    CHECK_MEM(&m);
    /* A total that would overflow: refused, nothing changes. */
    gomem_memory big;
    gomem_memory_init(&big);
    gomem_memory_push(&big, src, SIZE_MAX - 100); /* never read */
    errno = 0;
    ck_assert_ptr_null(gomem_memory_copy_from(&m, &big));
    ck_assert_int_eq(errno, EOVERFLOW);
    ck_assert_uint_eq(m.count, 4);
    ck_assert_uint_eq(m.size, 2010);
    /* The copies are the caller's. */
    free(c);
    free(d);
    free(e);
    gomem_memory_destroy(&big);
    gomem_memory_destroy(&m);
    gomem_memory_destroy(&from);
}
END_TEST

START_TEST(test_equal)
{
    gomem_memory a, b, c;
    split(&a, 0, 500, 1);
    split(&b, 0, 500, 499);
    ck_assert_int_eq(gomem_memory_push(&b, NULL, 0), 0);
    ck_assert_int_eq(gomem_memory_equal(&a, &b), 1);
    ck_assert_int_eq(gomem_memory_equal(&b, &a), 1);
    ck_assert_int_eq(gomem_memory_equal(&a, &a), 1);
    split(&c, 1, 500, 10); /* same size, other bytes */
    ck_assert_int_eq(gomem_memory_equal(&a, &c), 0);
    gomem_memory_destroy(&c);
    split(&c, 0, 499, 10); /* a prefix */
    ck_assert_int_eq(gomem_memory_equal(&a, &c), 0);
    ck_assert_int_eq(gomem_memory_equal(&a, NULL), 0);
    ck_assert_int_eq(gomem_memory_equal(NULL, &a), 0);
    gomem_memory_destroy(&a);
    gomem_memory_destroy(&b);
    gomem_memory_destroy(&c);
}
END_TEST

START_TEST(test_update)
{
    gomem_memory m;
    split(&m, 0, 30, 10); /* 3 segments of 10 */
    ck_assert_int_eq(gomem_memory_update(&m, 0, src + 100, 4), 0);
    ck_assert_uint_eq(m.size, 24);
    ck_assert_ptr_eq(m.iov[0].iov_base, src + 100);
    ck_assert_int_eq(gomem_memory_update(&m, -1, src + 200, 25), 0); /* the last */
    ck_assert_uint_eq(m.size, 39); /* GoMem's UpdateBuffer sets 15 here */
    ck_assert_ptr_eq(m.iov[2].iov_base, src + 200);
    ck_assert_int_eq(gomem_memory_update(&m, -3, src + 300, 0), 0); /* the first */
    ck_assert_uint_eq(m.size, 35);
    ck_assert_uint_eq(m.count, 3);
    CHECK_MEM(&m);

    /* Out of range, bad arguments: -EINVAL and nothing changed. */
    ptrdiff_t bad[] = {3, 4, -4, PTRDIFF_MAX, PTRDIFF_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(gomem_memory_update(&m, bad[i], src, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_update(&m, 1, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_update(NULL, 0, src, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_update(&m, 1, src, SIZE_MAX), -EOVERFLOW);
    ck_assert_uint_eq(m.size, 35);
    ck_assert_ptr_eq(m.iov[1].iov_base, src + 10);
    CHECK_MEM(&m);
    gomem_memory_reset(&m);
    ck_assert_int_eq(gomem_memory_update(&m, 0, src, 1), -EINVAL);
    ck_assert_int_eq(gomem_memory_update(&m, -1, src, 1), -EINVAL);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_reset)
{
    gomem_memory m;
    split(&m, 0, 100, 3);
    size_t cap = m.cap;
    struct iovec *iov = m.iov;
    gomem_memory_reset(&m);
    gomem_memory_reset(NULL);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_uint_eq(m.size, 0);
    ck_assert_uint_eq(m.cap, cap); /* the array is kept for reuse */
    ck_assert_ptr_eq(m.iov, iov);
    CHECK_MEM(&m);
    ck_assert_int_eq(gomem_memory_push(&m, src, 5), 0);
    ck_assert_ptr_eq(m.iov, iov);
    ck_assert_uint_eq(m.size, 5);
    gomem_memory_destroy(&m);
}
END_TEST

struct visit {
    size_t calls, bytes, stop_at;
};

static int visit_count(void *base, size_t len, void *arg)
{
    struct visit *v = arg;
    ck_assert(base != NULL || len == 0);
    v->bytes += len;
    return ++v->calls == v->stop_at ? 42 : 0;
}

START_TEST(test_foreach)
{
    gomem_memory m;
    split(&m, 0, 100, 10);
    ck_assert_int_eq(gomem_memory_push(&m, NULL, 0), 0);
    struct visit v = {0, 0, 0};
    ck_assert_int_eq(gomem_memory_foreach(&m, visit_count, &v), 0);
    ck_assert_uint_eq(v.calls, 11); /* the empty segment too */
    ck_assert_uint_eq(v.bytes, 100);
    v = (struct visit){0, 0, 3};
    ck_assert_int_eq(gomem_memory_foreach(&m, visit_count, &v), 42);
    ck_assert_uint_eq(v.calls, 3);
    ck_assert_int_eq(gomem_memory_foreach(&m, NULL, &v), -EINVAL);
    ck_assert_int_eq(gomem_memory_foreach(NULL, visit_count, &v), -EINVAL);
    gomem_memory_destroy(&m);
}
END_TEST

/* Read everything available from fd (non-blocking) into buf at *got. */
static void drain(int fd, uint8_t *buf, size_t cap, size_t *got)
{
    for (;;) {
        ssize_t r = read(fd, buf + *got, cap - *got);
        if (r <= 0)
            break;
        *got += (size_t)r;
    }
}

/* Write m to a pipe and read it back, under the writev conditions set. */
static void pipe_roundtrip(gomem_memory *m, long expect_calls)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    writev_calls = 0;
    size_t w = 0;
    ck_assert_int_eq(gomem_memory_writev(m, p[1], &w), 0);
    ck_assert_uint_eq(w, m->size);
    if (expect_calls >= 0)
        ck_assert_int_eq(writev_calls, expect_calls);
    uint8_t *back = malloc(m->size + 1), *want = gomem_memory_to_bytes(m);
    size_t got = 0;
    drain(p[0], back, m->size + 1, &got);
    ck_assert_uint_eq(got, m->size);
    ck_assert_mem_eq(back, want, got);
    free(back);
    free(want);
    close(p[0]);
    close(p[1]);
}

START_TEST(test_writev_pipe)
{
    gomem_memory m;
    /* 3000 segments: one system call per IOV_MAX of them. */
    split(&m, 0, 3000, 1);
    pipe_roundtrip(&m, (3000 + IOV_MAX - 1) / IOV_MAX);
    /* Empty segments in between are sent as they are. */
    gomem_memory_reset(&m);
    for (size_t i = 0; i < 50; i++) {
        ck_assert_int_eq(gomem_memory_push(&m, src + i * 20, 20), 0);
        ck_assert_int_eq(gomem_memory_push(&m, NULL, 0), 0);
    }
    pipe_roundtrip(&m, 1);
    /* Short writes of 7 bytes at most: continued until done, the partly
     * written segment first. */
    writev_cap = 7;
    pipe_roundtrip(&m, -1);
    ck_assert_int_ge(writev_calls, 1000 / 7);
    writev_cap = 0;
    /* EINTR on every other call is retried. */
    writev_eintr = 1;
    pipe_roundtrip(&m, 2);
    writev_cap = 13;
    pipe_roundtrip(&m, -1);
    writev_cap = 0;
    writev_eintr = 0;
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_writev_errors)
{
    gomem_memory m;
    split(&m, 0, 100, 10);
    size_t w = 99;
    ck_assert_int_eq(gomem_memory_writev(NULL, 1, &w), -EINVAL);
    ck_assert_uint_eq(w, 0);
    w = 99;
    ck_assert_int_eq(gomem_memory_writev(&m, -1, &w), -EBADF);
    ck_assert_uint_eq(w, 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    close(p[1]);
    w = 99;
    ck_assert_int_eq(gomem_memory_writev(&m, p[1], &w), -EBADF); /* closed */
    ck_assert_uint_eq(w, 0);
    close(p[0]);
    ck_assert_int_eq(pipe(p), 0);
    close(p[0]); /* nobody reads: EPIPE (SIGPIPE ignored by main) */
    ck_assert_int_eq(gomem_memory_writev(&m, p[1], NULL), -EPIPE);
    close(p[1]);
    CHECK_MEM(&m);
    ck_assert_uint_eq(m.size, 100);
    gomem_memory_destroy(&m);
}
END_TEST

/* A non-blocking socket with a small send buffer: writev reports EAGAIN
 * with the bytes it wrote; the caller clips them off with a reader and
 * resumes once the peer has read. Every byte arrives once, in order. */
START_TEST(test_writev_eagain)
{
    enum { SEGS = 1000, SEG = 1460 };
    uint8_t *data = malloc(SEGS * SEG), *back = malloc(SEGS * SEG);
    for (size_t i = 0; i < SEGS * SEG; i++)
        data[i] = (uint8_t)(i ^ i >> 9);
    gomem_memory m;
    gomem_memory_init(&m);
    for (size_t i = 0; i < SEGS; i++)
        ck_assert_int_eq(gomem_memory_push(&m, data + i * SEG, SEG), 0);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    size_t got = 0, sent = 0;
    int eagains = 0;
    for (;;) {
        size_t w = 0;
        int e = gomem_memory_writev(&m, sv[0], &w);
        sent += w;
        ck_assert_uint_le(w, m.size);
        if (e == 0)
            break;
        ck_assert_int_eq(e, -EAGAIN);
        eagains++;
        gomem_reader r; /* drop what was written, keep the rest */
        ck_assert_int_eq(gomem_reader_init(&r, &m), 0);
        ck_assert_int_eq(gomem_reader_skip(&r, w), 0);
        ck_assert_int_eq(gomem_reader_clip_front(&r, NULL, NULL), 0);
        CHECK_MEM(&m);
        ck_assert_uint_eq(m.size, SEGS * SEG - sent);
        drain(sv[1], back, SEGS * SEG, &got);
        ck_assert_uint_eq(got, sent);
        ck_assert_mem_eq(back, data, got);
    }
    drain(sv[1], back, SEGS * SEG, &got);
    ck_assert_uint_eq(sent, SEGS * SEG);
    ck_assert_uint_eq(got, SEGS * SEG);
    ck_assert_mem_eq(back, data, got);
    ck_assert_int_gt(eagains, 10); /* the buffer really was small */
    close(sv[0]);
    close(sv[1]);
    gomem_memory_destroy(&m);
    free(data);
    free(back);
}
END_TEST

/* Random pushes, appends, updates and resets against a model: the list of
 * segments kept apart, and its bytes compared after every step. */
START_TEST(test_model)
{
    uint64_t seed = test_seed(0x6d656d6f7279ULL), st = seed;
    long steps = test_steps(20000);
    gomem_memory m, o;
    gomem_memory_init(&m);
    split(&o, 500, 300, 37);
    struct iovec model[4096];
    size_t n = 0;
    uint8_t want[sizeof src * 4], got[sizeof src * 4];
    for (long step = 0; step < steps; step++) {
        unsigned op = (unsigned)test_range(&st, 0, 9);
        int e = 0;
        if (op < 4 && n < 4000) {
            size_t off = test_range(&st, 0, 4000), len = test_range(&st, 0, 40);
            e = gomem_memory_push(&m, src + off, len);
            model[n++] = (struct iovec){src + off, len};
        } else if (op < 5 && n + o.count < 4000) {
            e = gomem_memory_append(&m, &o);
            memcpy(model + n, o.iov, o.count * sizeof *o.iov);
            n += o.count;
        } else if (op < 8 && n) {
            ptrdiff_t i = (ptrdiff_t)test_range(&st, 0, 2 * n + 4) - (ptrdiff_t)n - 2;
            size_t off = test_range(&st, 0, 4000), len = test_range(&st, 0, 40);
            e = gomem_memory_update(&m, i, src + off, len);
            if (i >= (ptrdiff_t)n || i < -(ptrdiff_t)n) {
                ck_assert_msg(e == -EINVAL, "seed %#llx step %ld", (unsigned long long)seed, step);
                e = 0;
            } else {
                model[i < 0 ? (size_t)((ptrdiff_t)n + i) : (size_t)i] = (struct iovec){src + off, len};
            }
        } else if (op == 9 && test_range(&st, 0, 20) == 0) {
            gomem_memory_reset(&m);
            n = 0;
        }
        ck_assert_msg(e == 0, "seed %#llx step %ld: %d", (unsigned long long)seed, step, e);
        const char *why = gomem__memory_check(&m);
        ck_assert_msg(!why, "seed %#llx step %ld: %s", (unsigned long long)seed, step, why);
        size_t size = 0;
        for (size_t i = 0; i < n && size + model[i].iov_len <= sizeof want; i++) {
            memcpy(want + size, model[i].iov_base, model[i].iov_len);
            size += model[i].iov_len;
        }
        ck_assert_msg(m.count == n, "seed %#llx step %ld: count", (unsigned long long)seed, step);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(m.iov[i].iov_base == model[i].iov_base &&
                              m.iov[i].iov_len == model[i].iov_len,
                          "seed %#llx step %ld: segment %zu", (unsigned long long)seed, step, i);
        ck_assert_uint_eq(gomem_memory_copy_to(&m, got, size), size);
        ck_assert_msg(!memcmp(want, got, size), "seed %#llx step %ld: bytes",
                      (unsigned long long)seed, step);
    }
    gomem_memory_destroy(&m);
    gomem_memory_destroy(&o);
}
END_TEST

int main(void)
{
    fill_src();
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_push);
    tcase_add_test(tc, test_pushv_append);
    tcase_add_test(tc, test_copy_to_bytes);
    tcase_add_test(tc, test_copy_from);
    tcase_add_test(tc, test_equal);
    tcase_add_test(tc, test_update);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_foreach);
    tcase_add_test(tc, test_writev_pipe);
    tcase_add_test(tc, test_writev_errors);
    tcase_add_test(tc, test_writev_eagain);
    tcase_add_test(tc, test_model);
    suite_add_tcase(s, tc);
    return test_run(s);
}
