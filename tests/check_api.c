/* check_api.c - the public API as a user sees it: linked only against the
 * built libgomem, through include/gomem.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

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
    errno = 0;
    ck_assert_ptr_null(gomem_allocator_new(0));
    ck_assert_int_eq(errno, EINVAL);
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

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("public");
    tcase_add_test(tc, test_version_and_features);
    tcase_add_test(tc, test_strerror);
    tcase_add_test(tc, test_allocator_null_handles);
    tcase_add_test(tc, test_allocator_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run(api_suite());
}
