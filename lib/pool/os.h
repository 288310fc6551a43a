/* os.h - anonymous memory from the kernel, for the buddy pool and the mmap
 * backing (lib/os.c). */
#ifndef GOMEM_OS_H
#define GOMEM_OS_H

#include <stddef.h>

/* Reserve size bytes of anonymous, private, zero-filled memory that costs no
 * physical memory until touched. huge asks for transparent huge pages
 * (madvise(MADV_HUGEPAGE)) where the system has them; elsewhere it is
 * silently ignored. NULL with errno ENOMEM on failure (EINVAL for size 0). */
void *gomem__os_map(size_t size, int huge);

/* Give a region from gomem__os_map back to the kernel. */
void gomem__os_unmap(void *p, size_t size);

#endif /* GOMEM_OS_H */
