/* check_api.c - the public API as a user sees it: linked only against the
 * built libgomem, through include/gomem.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <gomem.h>

#include "testutil.h"

START_TEST(test_version_and_features)
{
    ck_assert_str_eq(gomem_version(), GOMEM_VERSION_STRING);
    unsigned f = gomem_features();
    ck_assert_uint_eq(!!(f & GOMEM_FEATURE_TWOTREE), GOMEM_HAVE_TWOTREE);
    ck_assert_uint_eq(!!(f & GOMEM_FEATURE_BUDDY), GOMEM_HAVE_BUDDY);
    ck_assert_uint_eq(!!(f & GOMEM_FEATURE_MMAP), GOMEM_HAVE_MMAP);
    ck_assert_uint_eq(!!(f & GOMEM_FEATURE_RM), GOMEM_HAVE_RM);
    ck_assert_uint_eq(f & ~0xfu, 0);
}
END_TEST

START_TEST(test_strerror)
{
    ck_assert_str_eq(gomem_strerror(0), "success");
    ck_assert_str_eq(gomem_strerror(-EINVAL), gomem_strerror(EINVAL));
    ck_assert_ptr_nonnull(strstr(gomem_strerror(-ENOMEM), "memory"));
    ck_assert_ptr_nonnull(strstr(gomem_strerror(-ENODATA), "data"));
    ck_assert_str_eq(gomem_strerror(-12345), "unknown error");
    ck_assert_str_eq(gomem_strerror(INT32_MIN + 1), "unknown error");
    ck_assert_str_eq(gomem_strerror(INT_MIN), "unknown error");
    ck_assert_str_eq(gomem_strerror(INT_MAX), "unknown error");
}
END_TEST

START_TEST(test_allocator_null_handles)
{
    size_t off = 5;
    ck_assert_int_eq(gomem_allocator_alloc(NULL, 1, &off), -EINVAL);
    ck_assert_int_eq(gomem_allocator_free(NULL, 0, 1), -EINVAL);
    ck_assert_int_eq(gomem_allocator_find(NULL, 1, &off), -EINVAL);
    ck_assert_int_eq(gomem_allocator_reset(NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_allocator_foreach_free(NULL, NULL, NULL), -EINVAL);
    ck_assert_uint_eq(gomem_allocator_free_size(NULL), 0);
    ck_assert_uint_eq(gomem_allocator_size(NULL), 0);
    ck_assert_uint_eq(off, 5);
    gomem_allocator_destroy(NULL);
    EXPECT_NULL_ERRNO(gomem_allocator_new(0), EINVAL);
}
END_TEST

static int count_blocks(size_t off, size_t n, void *arg)
{
    (void)off;
    (void)n;
    ++*(int *)arg;
    return 0;
}

START_TEST(test_allocator_roundtrip)
{
    gomem_allocator *a = gomem_allocator_new(1000);
    ck_assert_ptr_nonnull(a);
    size_t x, y, f;
    ck_assert_int_eq(gomem_allocator_alloc(a, 100, &x), 0);
    ck_assert_int_eq(gomem_allocator_alloc(a, 200, &y), 0);
    ck_assert_uint_eq(x, 0);
    ck_assert_uint_eq(y, 100);
    ck_assert_int_eq(gomem_allocator_find(a, 700, &f), 0);
    ck_assert_uint_eq(f, 300);
    ck_assert_int_eq(gomem_allocator_alloc(a, 701, &f), -ENOMEM);
    ck_assert_int_eq(gomem_allocator_free(a, 50, 100), 0);   /* tail of x, head of y */
    ck_assert_int_eq(gomem_allocator_free(a, 50, 100), -EINVAL); /* double free */
    ck_assert_uint_eq(gomem_allocator_free_size(a), 800);
    int blocks = 0;
    ck_assert_int_eq(gomem_allocator_foreach_free(a, count_blocks, &blocks), 0);
    ck_assert_int_eq(blocks, 2);
    ck_assert_int_eq(gomem_allocator_reset(a, 2000), 0);
    ck_assert_uint_eq(gomem_allocator_size(a), 2000);
    ck_assert_uint_eq(gomem_allocator_free_size(a), 2000);
    gomem_allocator_destroy(a);
}
END_TEST

/* A user's day: packets arrive in pool memory, are parsed across segment
 * boundaries, sent with writev, and all go back in one call. */
START_TEST(test_packet_pipeline)
{
    gomem_scalable *s = gomem_scalable_new(4096);
    ck_assert_ptr_nonnull(s);
    gomem_recyclable rm;
    ck_assert_int_eq(gomem_recyclable_init(&rm, s), 0);
    /* An FLV-like tag split over three segments: type, be24 size, be32. */
    static const uint8_t head[] = {0x09, 0x00, 0x01, 0x02, 0xde};
    uint8_t *a = gomem_recyclable_next(&rm, 2), *b = gomem_recyclable_next(&rm, 3);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    memcpy(a, head, 2);
    memcpy(b, head + 2, 3);
    static const uint8_t tail[] = {0xad, 0xbe, 0xef, 0x96, 0x01}; /* be32 end, LEB128 150 */
    ck_assert_int_eq(gomem_recyclable_add(&rm, tail, sizeof tail), 0);
    ck_assert_uint_eq(gomem_memory_size(&rm.mem), 10);
    ck_assert_uint_eq(gomem_memory_count(&rm.mem), 3);

    gomem_reader r;
    ck_assert_int_eq(gomem_reader_init(&r, &rm.mem), 0);
    uint8_t type;
    uint32_t size, word;
    uint64_t leb, big;
    ck_assert_int_eq(gomem_reader_read_u8(&r, &type), 0);
    ck_assert_uint_eq(type, 9);
    ck_assert_int_eq(gomem_reader_read_be24(&r, &size), 0);
    ck_assert_uint_eq(size, 0x102);
    ck_assert_int_eq(gomem_reader_read_be32(&r, &word), 0);
    ck_assert_uint_eq(word, 0xdeadbeef);
    ck_assert_int_eq(gomem_reader_read_uleb128(&r, &leb), 0);
    ck_assert_uint_eq(leb, 150);
    ck_assert_int_eq(gomem_reader_read_be64(&r, &big), -ENODATA);
    ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
    ck_assert_int_eq(gomem_reader_unread(&r, 11), -EINVAL);
    ck_assert_int_eq(gomem_reader_unread(&r, 10), 0);
    ck_assert_uint_eq(gomem_reader_offset(&r), 0);

    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    size_t written = 0;
    ck_assert_int_eq(gomem_memory_writev(&rm.mem, fd[1], &written), 0);
    ck_assert_uint_eq(written, 10);
    uint8_t got[10];
    ck_assert_int_eq(read(fd[0], got, sizeof got), 10);
    ck_assert_int_eq(memcmp(got, head, 5), 0);
    ck_assert_int_eq(memcmp(got + 5, tail, 5), 0);
    close(fd[0]);
    close(fd[1]);

    struct gomem_scalable_stats st;
    ck_assert_int_eq(gomem_scalable_stats(s, &st), 0);
    /* next takes pool memory; with --disable-rm it takes malloc's. Debug
     * builds (--enable-debug) put a redzone after each segment, in the
     * pool too. */
#ifdef GOMEM__DEBUG
    ck_assert_uint_ge(st.in_use, gomem_features() & GOMEM_FEATURE_RM ? 5 : 0);
#else
    ck_assert_uint_eq(st.in_use, gomem_features() & GOMEM_FEATURE_RM ? 5 : 0);
#endif
    gomem_recyclable_recycle(&rm);
    ck_assert_uint_eq(gomem_memory_size(&rm.mem), 0);
    ck_assert_int_eq(gomem_scalable_stats(s, &st), 0);
    ck_assert_uint_eq(st.in_use, 0);
    gomem_recyclable_destroy(&rm);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_scalable_partial_frees)
{
    gomem_scalable *s = gomem_scalable_new(1024);
    uint8_t *p = gomem_scalable_malloc(s, 1024);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x5a, 1024);
    ck_assert_int_eq(gomem_scalable_free(s, p, 256), 0);         /* head */
    ck_assert_int_eq(gomem_scalable_free(s, p + 512, 256), 0);   /* middle */
    ck_assert_int_eq(gomem_scalable_free(s, p + 512, 256), -EINVAL); /* again */
    ck_assert_int_eq(gomem_scalable_free_rest(s, p + 768, 256, 128), 0); /* tail */
    int x;
    ck_assert_int_eq(gomem_scalable_free(s, &x, sizeof x), -EINVAL); /* foreign */
    ck_assert_int_eq(gomem_scalable_free(s, p + 256, 0), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(NULL, p, 1), -EINVAL);
    ck_assert_int_eq(p[300], 0x5a); /* what is still allocated is untouched */
    ck_assert_int_eq(gomem_scalable_free(s, p + 256, 256), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p + 768, 128), 0);
    struct gomem_scalable_stats st;
    ck_assert_int_eq(gomem_scalable_stats(s, &st), 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.malloc_bytes, 1024);
    ck_assert_uint_eq(st.free_bytes, 1024);
    EXPECT_NULL_ERRNO(gomem_scalable_malloc(s, 0), EINVAL);
    gomem_scalable_destroy(s);
}
END_TEST

/* The object pool through the shared library (its thread-local cache uses
 * the initial-exec TLS model there): a thread gets and puts, exits, and
 * its cache goes back to the pool. */
static void *objpool_thread(void *arg)
{
    gomem_objpool *p = arg;
    void *o[100];
    for (int i = 0; i < 100; i++)
        if ((o[i] = gomem_objpool_get(p)) == NULL)
            return arg;
    for (int i = 0; i < 100; i++)
        if (gomem_objpool_put(p, o[i]) != 0)
            return arg;
    return NULL;
}

START_TEST(test_objpool)
{
    gomem_objpool *p = gomem_objpool_new(48, 0, NULL, NULL, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(gomem_objpool_size(p), 48);
    void *a = gomem_objpool_get(p);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 16, 0);
    ck_assert_int_eq(gomem_objpool_put(p, a), 0);
    ck_assert_int_eq(gomem_objpool_put(p, a), -EINVAL);
    ck_assert_int_eq(gomem_objpool_put(p, &a), -EINVAL);
    pthread_t t;
    void *ret = p;
    ck_assert_int_eq(pthread_create(&t, NULL, objpool_thread, p), 0);
    ck_assert_int_eq(pthread_join(t, &ret), 0);
    ck_assert_ptr_null(ret);
    gomem_objpool_destroy(p);
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("public");
    tcase_add_test(tc, test_version_and_features);
    tcase_add_test(tc, test_strerror);
    tcase_add_test(tc, test_allocator_null_handles);
    tcase_add_test(tc, test_allocator_roundtrip);
    tcase_add_test(tc, test_packet_pipeline);
    tcase_add_test(tc, test_scalable_partial_frees);
    tcase_add_test(tc, test_objpool);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(api_suite());
}
