/* version.c - version, build features and error names. */
#include "internal.h"

#include <string.h>

GOMEM_API const char *gomem_version(void)
{
    return GOMEM_VERSION_STRING;
}

GOMEM_API unsigned gomem_features(void)
{
    return (GOMEM_HAVE_TWOTREE ? GOMEM_FEATURE_TWOTREE : 0u) |
           (GOMEM_HAVE_BUDDY ? GOMEM_FEATURE_BUDDY : 0u) |
           (GOMEM_HAVE_MMAP ? GOMEM_FEATURE_MMAP : 0u) |
           (GOMEM_HAVE_RM ? GOMEM_FEATURE_RM : 0u);
}

GOMEM_API const char *gomem_strerror(int err)
{
    /* Fold to the negative side: negating a positive int is always
     * defined, negating INT_MIN is not. */
    switch (err > 0 ? -err : err) {
    case 0: return "success";
    case -EINVAL: return "invalid argument: bad size, range, pointer or double free";
    case -ENOMEM: return "out of memory or no free block large enough";
    case -ENODATA: return "not enough data left to read";
    case -EOVERFLOW: return "value does not fit in 64 bits";
    case -EAGAIN: return "operation would block";
    case -EBADF: return "bad file descriptor";
    case -EPIPE: return "broken pipe";
    case -EBUSY: return "busy: memory from it is still outstanding";
    default: return "unknown error";
    }
}
