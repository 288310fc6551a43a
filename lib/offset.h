/* offset.h - the internal contract of the offset-allocator variants.
 *
 * Each variant V (treap: lib/offset_treap.c, avl: lib/offset_avl.c)
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

GOMEM__OFFSET_DECLARE(treap);
GOMEM__OFFSET_DECLARE(avl);

#endif /* GOMEM_OFFSET_H */
