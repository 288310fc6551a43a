/* fuzz_buddy.c - the buddy allocator against a list of its blocks: every
 * block is a power of two of at least GOMEM_BUDDY_MIN_BLOCK, aligned to
 * its size, inside the buddy and clear of every other block; an alloc is
 * refused only when no aligned slot of that size is free; a free succeeds
 * exactly for the start of an allocated block; after every operation the
 * checker passes and the free size is what the list says. */
#include "fuzz.h"

#include <errno.h>

#include "pool/buddy.h"

#define MAXBLOCKS 128

struct block {
    size_t off, size;
};

static int overlaps(const struct block *v, size_t k, size_t off, size_t size)
{
    for (size_t i = 0; i < k; i++)
        if (off < v[i].off + v[i].size && v[i].off < off + size)
            return 1;
    return 0;
}

static size_t block_size(size_t n)
{
    size_t b = GOMEM_BUDDY_MIN_BLOCK;
    while (b < n)
        b *= 2;
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct fuzz_in in = {data, len};
    size_t size = GOMEM_BUDDY_MIN_BLOCK << fuzz_below(&in, 8);
    gomem_buddy *b = gomem_buddy_new(size);
    FUZZ_REQUIRE(b != NULL, "gomem_buddy_new(%zu)", size);
    struct block v[MAXBLOCKS];
    size_t k = 0, used = 0;
    while (fuzz_more(&in)) {
        uint8_t op = fuzz_u8(&in);
        size_t off;
        if (op % 3 == 0) {
            size_t n = op & 0x80 ? fuzz_below(&in, 2 * size + 2) : fuzz_below(&in, 3 * GOMEM_BUDDY_MIN_BLOCK);
            int r = gomem_buddy_alloc(b, n, &off);
            if (n == 0 || n > size) {
                FUZZ_REQUIRE(r == -EINVAL, "alloc %zu: %d", n, r);
                continue;
            }
            size_t bs = block_size(n), slot = SIZE_MAX;
            for (size_t p = 0; p < size && slot == SIZE_MAX; p += bs)
                if (!overlaps(v, k, p, bs))
                    slot = p;
            if (slot == SIZE_MAX) {
                FUZZ_REQUIRE(r == -ENOMEM, "alloc %zu: %d, but no slot of %zu is free", n, r, bs);
                continue;
            }
            FUZZ_REQUIRE(r == 0, "alloc %zu: %d, but the slot at %zu is free", n, r, slot);
            FUZZ_REQUIRE(off % bs == 0 && off < size && !overlaps(v, k, off, bs),
                         "alloc %zu: block at %zu (size %zu) misplaced", n, off, bs);
            FUZZ_REQUIRE(k < MAXBLOCKS, "more blocks than fit");
            v[k++] = (struct block){off, bs};
            used += bs;
        } else if (op % 3 == 1 && k > 0) {
            size_t i = fuzz_below(&in, k);
            FUZZ_REQUIRE(gomem_buddy_free(b, v[i].off) == 0, "free of the block at %zu", v[i].off);
            used -= v[i].size;
            v[i] = v[--k];
        } else {
            off = op & 0x80 ? SIZE_MAX - fuzz_below(&in, 4) : fuzz_below(&in, size + 2048);
            size_t i = 0;
            while (i < k && v[i].off != off)
                i++;
            int r = gomem_buddy_free(b, off);
            FUZZ_REQUIRE(r == (i < k ? 0 : -EINVAL), "free %zu: %d", off, r);
            if (i < k) {
                used -= v[i].size;
                v[i] = v[--k];
            }
        }
        FUZZ_REQUIRE(gomem__buddy_check(b) == 0, "checker");
        FUZZ_REQUIRE(gomem_buddy_free_size(b) == size - used, "free size %zu, model %zu",
                     gomem_buddy_free_size(b), size - used);
    }
    gomem_buddy_destroy(b);
    return 0;
}
