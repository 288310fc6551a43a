/* memory.c - gomem_memory_*: a scatter-gather list of segments. */
#include "buffer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_MIN_CAP 8

GOMEM_API void gomem_memory_init(gomem_memory *m)
{
    if (m)
        *m = (gomem_memory){0};
}

int gomem__memory_reserve(gomem_memory *m, size_t extra)
{
    size_t need;
    if (gomem__add_overflows(m->count, extra, &need))
        return -EOVERFLOW;
    if (need <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap : MEMORY_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof *m->iov)
        return -ENOMEM;
    struct iovec *iov = realloc(m->iov, cap * sizeof *iov);
    if (!iov)
        return -ENOMEM;
    m->iov = iov;
    m->cap = cap;
    return 0;
}

GOMEM_API int gomem_memory_pushv(gomem_memory *m, const struct iovec *iov, size_t cnt)
{
    if (!m || (!iov && cnt))
        return -EINVAL;
    size_t size = m->size;
    for (size_t i = 0; i < cnt; i++) {
        if (!iov[i].iov_base && iov[i].iov_len)
            return -EINVAL;
        if (gomem__add_overflows(size, iov[i].iov_len, &size))
            return -EOVERFLOW;
    }
    /* iov may lie inside m's own array (gomem_memory_append(m, m)), which
     * the reserve below may move: remember it as an index. */
    uintptr_t at = (uintptr_t)iov, lo = (uintptr_t)m->iov;
    int inside = m->count && at >= lo && at < lo + m->count * sizeof *iov;
    size_t idx = inside ? (size_t)(at - lo) / sizeof *iov : 0;
    int e = gomem__memory_reserve(m, cnt);
    if (e)
        return e;
    if (cnt)
        memmove(m->iov + m->count, inside ? m->iov + idx : iov, cnt * sizeof *iov);
    m->count += cnt;
    m->size = size;
    GOMEM__DEBUG_CHECK(gomem__memory_check(m));
    return 0;
}

GOMEM_API int gomem_memory_push(gomem_memory *m, const void *buf, size_t n)
{
    struct iovec one = {(void *)(uintptr_t)buf, n};
    return gomem_memory_pushv(m, &one, 1);
}

GOMEM_API int gomem_memory_append(gomem_memory *m, const gomem_memory *src)
{
    return src ? gomem_memory_pushv(m, src->iov, src->count) : -EINVAL;
}

GOMEM_API size_t gomem_memory_size(const gomem_memory *m)
{
    return m ? m->size : 0;
}

GOMEM_API size_t gomem_memory_count(const gomem_memory *m)
{
    return m ? m->count : 0;
}

GOMEM_API size_t gomem_memory_copy_to(const gomem_memory *m, void *dst, size_t cap)
{
    if (!m || !dst)
        return 0;
    uint8_t *d = dst;
    size_t done = 0;
    for (size_t i = 0; i < m->count && done < cap; i++) {
        size_t n = m->iov[i].iov_len < cap - done ? m->iov[i].iov_len : cap - done;
        if (n)
            memcpy(d + done, m->iov[i].iov_base, n);
        done += n;
    }
    return done;
}

GOMEM_API void *gomem_memory_to_bytes(const gomem_memory *m)
{
    if (!m) {
        errno = EINVAL;
        return NULL;
    }
    void *p = malloc(m->size ? m->size : 1);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    gomem_memory_copy_to(m, p, m->size);
    return p;
}

GOMEM_API void *gomem_memory_copy_from(gomem_memory *m, const gomem_memory *src)
{
    if (!m || !src) {
        errno = EINVAL;
        return NULL;
    }
    size_t size;
    if (gomem__add_overflows(m->size, src->size, &size)) {
        errno = EOVERFLOW;
        return NULL;
    }
    /* Room for the segment first: once the copy exists nothing fails. src
     * may be m; reserving moves its array but not its bytes. */
    int e = gomem__memory_reserve(m, 1);
    if (e) {
        errno = -e;
        return NULL;
    }
    size_t n = src->size;
    void *p = malloc(n ? n : 1);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    gomem_memory_copy_to(src, p, n);
    m->iov[m->count++] = (struct iovec){p, n};
    m->size = size;
    GOMEM__DEBUG_CHECK(gomem__memory_check(m));
    return p;
}

GOMEM_API int gomem_memory_equal(const gomem_memory *a, const gomem_memory *b)
{
    if (!a || !b || a->size != b->size)
        return 0;
    /* Walk both lists at once, comparing the overlap of the two current
     * segments each time. */
    size_t i = 0, j = 0, ai = 0, bj = 0;
    for (;;) {
        while (i < a->count && ai == a->iov[i].iov_len)
            i++, ai = 0;
        while (j < b->count && bj == b->iov[j].iov_len)
            j++, bj = 0;
        if (i == a->count || j == b->count)
            return 1; /* equal sizes: both ended together */
        size_t na = a->iov[i].iov_len - ai, nb = b->iov[j].iov_len - bj;
        size_t n = na < nb ? na : nb;
        if (memcmp((const uint8_t *)a->iov[i].iov_base + ai,
                   (const uint8_t *)b->iov[j].iov_base + bj, n))
            return 0;
        ai += n;
        bj += n;
    }
}

GOMEM_API int gomem_memory_update(gomem_memory *m, ptrdiff_t i, const void *buf, size_t n)
{
    if (!m || (!buf && n))
        return -EINVAL;
    size_t idx;
    if (i < 0) {
        size_t back = (size_t)-(i + 1) + 1; /* |i| without overflow at PTRDIFF_MIN */
        if (back > m->count)
            return -EINVAL;
        idx = m->count - back;
    } else {
        if ((size_t)i >= m->count)
            return -EINVAL;
        idx = (size_t)i;
    }
    size_t size;
    if (gomem__add_overflows(m->size - m->iov[idx].iov_len, n, &size))
        return -EOVERFLOW;
    m->iov[idx] = (struct iovec){(void *)(uintptr_t)buf, n};
    m->size = size;
    GOMEM__DEBUG_CHECK(gomem__memory_check(m));
    return 0;
}

GOMEM_API GOMEM__HOT_ENTRY void gomem_memory_reset(gomem_memory *m)
{
    if (m) {
        m->count = 0;
        m->size = 0;
    }
}

GOMEM_API int gomem_memory_foreach(const gomem_memory *m, gomem_memory_visit_fn fn, void *arg)
{
    if (!m || !fn)
        return -EINVAL;
    for (size_t i = 0; i < m->count; i++) {
        int r = fn(m->iov[i].iov_base, m->iov[i].iov_len, arg);
        if (r)
            return r;
    }
    return 0;
}

/* One system call: the rest of a partly written segment alone, otherwise
 * up to IOV_MAX whole segments. EINTR is retried. */
static ssize_t memory_write_once(const gomem_memory *m, int fd, size_t i, size_t off)
{
    size_t cnt = m->count - i < IOV_MAX ? m->count - i : IOV_MAX;
    const struct iovec *iov = m->iov + i;
    struct iovec rest;
    if (off) { /* 0 < off < iov_len: the base is not NULL */
        rest = (struct iovec){(uint8_t *)iov->iov_base + off, iov->iov_len - off};
        iov = &rest;
        cnt = 1;
    }
    ssize_t w;
    do
        w = writev(fd, iov, (int)cnt);
    while (w < 0 && errno == EINTR);
    return w;
}

GOMEM_API int gomem_memory_writev(const gomem_memory *m, int fd, size_t *written)
{
    size_t total = 0, i = 0, off = 0;
    int err = 0;
    if (!m)
        err = -EINVAL;
    else if (fd < 0 && m->size > 0)
        err = -EBADF; /* an empty m succeeds without a system call, whatever fd */
    while (!err) {
        while (i < m->count && off == m->iov[i].iov_len)
            i++, off = 0; /* pass over written and empty segments */
        if (i == m->count)
            break;
        ssize_t w = memory_write_once(m, fd, i, off);
        if (w < 0) {
            err = errno == EWOULDBLOCK ? -EAGAIN : -errno;
        } else if (w == 0) {
            err = -EIO; /* writev wrote nothing without saying why */
        } else {
            size_t left = (size_t)w;
            total += left;
            if (total == m->size)
                break; /* all of it: no need to walk what was written */
            while (left) { /* advance past what the kernel took */
                size_t n = m->iov[i].iov_len - off;
                if (left < n) {
                    off += left;
                    break;
                }
                left -= n;
                i++, off = 0;
            }
        }
    }
    if (written)
        *written = total;
    return err;
}

GOMEM_API void gomem_memory_destroy(gomem_memory *m)
{
    if (m) {
        free(m->iov);
        gomem_memory_init(m);
    }
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
const char *gomem__memory_check(const gomem_memory *m)
{
    if (m->count > m->cap)
        return "count exceeds capacity";
    if (m->cap && !m->iov)
        return "capacity without a segment array";
    size_t size = 0;
    for (size_t i = 0; i < m->count; i++) {
        if (!m->iov[i].iov_base && m->iov[i].iov_len)
            return "NULL segment with a length";
        if (gomem__add_overflows(size, m->iov[i].iov_len, &size))
            return "size overflows";
    }
    return size == m->size ? NULL : "size is not the sum of the segment lengths";
}
#endif /* GOMEM__WHITEBOX */
