/* offset.h - the internal contract of the offset-allocator variants.
 *
 * Each variant V (segfit: lib/offset/offset_segfit.c, the default; avl:
 * lib/offset/offset_avl.c, --enable-twotree)
 * implements the functions below under the names gomem__V_*. The public
 * gomem_allocator_* calls (lib/allocator.c) forward to the variant configure
 * chose; the white-box tests link both and drive them against one model.
 *
 * Every function validates its arguments as the public call documents
 * (except the handle itself, which the glue checks): a refused call
 * returns -EINVAL or -ENOMEM and changes nothing. */
#ifndef GOMEM_OFFSET_H
#define GOMEM_OFFSET_H

#include "internal.h"

#define GOMEM__OFFSET_DECLARE(V)                                                        \
    struct gomem__##V;                                                                  \
    struct gomem__##V *gomem__##V##_new(size_t size);                                   \
    void gomem__##V##_destroy(struct gomem__##V *t);                                    \
    int gomem__##V##_alloc(struct gomem__##V *t, size_t n, size_t *off);                \
    int gomem__##V##_free(struct gomem__##V *t, size_t off, size_t n);                  \
    int gomem__##V##_find(const struct gomem__##V *t, size_t n, size_t *off);           \
    size_t gomem__##V##_free_size(const struct gomem__##V *t);                          \
    size_t gomem__##V##_size(const struct gomem__##V *t);                               \
    int gomem__##V##_reset(struct gomem__##V *t, size_t size);                          \
    int gomem__##V##_foreach_free(const struct gomem__##V *t, gomem_allocator_visit_fn fn, \
                                  void *arg);                                           \
    /* Walk the whole structure; 0 when every invariant holds, else -EFAULT        \
     * (and a message on stderr naming the broken invariant). O(n). */              \
    int gomem__##V##_check(const struct gomem__##V *t);                                 \
    /* The height of the (deepest) tree: 0 when empty. O(n). */                    \
    size_t gomem__##V##_depth(const struct gomem__##V *t)

GOMEM__OFFSET_DECLARE(segfit);
GOMEM__OFFSET_DECLARE(avl);

/* gomem_allocator_alloc and _free are defined by the variant configure
 * chose, in its own file, right after its entry points: a call then takes
 * no hop through allocator.c (whose other calls forward), and measurably
 * less time through libgomem.so. Debug and white-box builds keep them in
 * allocator.c, which checks the whole structure after each call. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
#define GOMEM__OFFSET_PUBLIC_IN_VARIANT 0
#else
#define GOMEM__OFFSET_PUBLIC_IN_VARIANT 1
#endif
#define GOMEM__OFFSET_PUBLIC(V)                                                          \
    GOMEM_API GOMEM__HOT_ENTRY int gomem_allocator_alloc(gomem_allocator *a, size_t n,    \
                                                         size_t *off)                    \
    {                                                                                    \
        return a ? gomem__##V##_alloc((struct gomem__##V *)a, n, off) : -EINVAL;         \
    }                                                                                    \
    GOMEM_API GOMEM__HOT_ENTRY int gomem_allocator_free(gomem_allocator *a, size_t off,   \
                                                        size_t n)                        \
    {                                                                                    \
        return a ? gomem__##V##_free((struct gomem__##V *)a, off, n) : -EINVAL;          \
    }

/* Placement policies, as the white-box model tests reproduce them. */
enum gomem__offset_policy {
    /* The lowest-addressed block that fits. */
    GOMEM__FIT_FIRST,
    /* The smallest block that fits, the lowest offset on ties. */
    GOMEM__FIT_BEST,
    /* Segregated good fit, with classes of lengths exact below 64 and 32 per
     * power of two above (offset_segfit.c's seg_class), each listing its
     * blocks most recently created or changed first: the head of n's own
     * class if it holds n bytes; else the head of the lowest non-empty
     * class whose every length is at least n; else the lowest-addressed
     * block that fits. */
    GOMEM__FIT_GOOD
};

/* The same contract as a table over untyped handles, so that the tests and
 * the benchmark drive every variant with one piece of code. */
struct gomem__offset_ops {
    const char *name;
    int policy; /* enum gomem__offset_policy */
    void *(*create)(size_t size);
    void (*destroy)(void *t);
    int (*alloc)(void *t, size_t n, size_t *off);
    int (*release)(void *t, size_t off, size_t n);
    int (*find)(const void *t, size_t n, size_t *off);
    size_t (*free_size)(const void *t);
    size_t (*size)(const void *t);
    int (*reset)(void *t, size_t size);
    int (*foreach_free)(const void *t, gomem_allocator_visit_fn fn, void *arg);
    int (*check)(const void *t);
    size_t (*depth)(const void *t);
};

extern const struct gomem__offset_ops gomem__segfit_ops;
extern const struct gomem__offset_ops gomem__avl_ops;

/* The checkers are compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX); elsewhere the table's check is NULL. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
#define GOMEM__OFFSET_OPS_CHECK_FN(V) \
    static int V##_ops_check(const void *t) { return gomem__##V##_check(t); }
#define GOMEM__OFFSET_OPS_CHECK(V) V##_ops_check
#else
#define GOMEM__OFFSET_OPS_CHECK_FN(V)
#define GOMEM__OFFSET_OPS_CHECK(V) NULL
#endif

/* Define gomem__V_ops at the end of variant V's file. */
#define GOMEM__OFFSET_OPS(V, NAME, POLICY)                                                    \
    static void *V##_ops_create(size_t s) { return gomem__##V##_new(s); }                       \
    static void V##_ops_destroy(void *t) { gomem__##V##_destroy(t); }                           \
    static int V##_ops_alloc(void *t, size_t n, size_t *o) { return gomem__##V##_alloc(t, n, o); } \
    static int V##_ops_release(void *t, size_t o, size_t n) { return gomem__##V##_free(t, o, n); } \
    static int V##_ops_find(const void *t, size_t n, size_t *o)                                 \
    {                                                                                           \
        return gomem__##V##_find(t, n, o);                                                      \
    }                                                                                           \
    static size_t V##_ops_free_size(const void *t) { return gomem__##V##_free_size(t); }        \
    static size_t V##_ops_size(const void *t) { return gomem__##V##_size(t); }                  \
    static int V##_ops_reset(void *t, size_t s) { return gomem__##V##_reset(t, s); }            \
    static int V##_ops_foreach(const void *t, gomem_allocator_visit_fn f, void *a)              \
    {                                                                                           \
        return gomem__##V##_foreach_free(t, f, a);                                              \
    }                                                                                           \
    GOMEM__OFFSET_OPS_CHECK_FN(V)                                                               \
    static size_t V##_ops_depth(const void *t) { return gomem__##V##_depth(t); }                \
    const struct gomem__offset_ops gomem__##V##_ops = {                                         \
        NAME, POLICY, V##_ops_create, V##_ops_destroy, V##_ops_alloc, V##_ops_release,         \
        V##_ops_find, V##_ops_free_size, V##_ops_size, V##_ops_reset, V##_ops_foreach,          \
        GOMEM__OFFSET_OPS_CHECK(V), V##_ops_depth}

#endif /* GOMEM_OFFSET_H */
