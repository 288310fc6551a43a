/* misuse.c - one mistake inside a pool, for tests/hardening/check_visible.sh to
 * show that memcheck and AddressSanitizer see it as they would in malloc's
 * memory.
 *
 *   misuse                   the correct program on every pool (make
 *                            check runs it so: it must pass everywhere)
 *   misuse features          what this build tells the tools:
 *                            "annotate asan redzone" as 0/1 words
 *   misuse POOL MISTAKE      POOL: arena, scalable, recyclable
 *                            MISTAKE: none (the correct program),
 *                            use-after-free, overflow (one byte past an
 *                            allocation, into the next one), uninit (a
 *                            branch on pool bytes nobody wrote since they
 *                            were handed out)
 *
 * Each mistake is made once, through a volatile pointer so the compiler
 * keeps it; the correct program makes the same calls without it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "buffer/buffer.h"
#include "pool/arena.h"

#define N 32

struct pool {
    gomem_arena *a;
    gomem_scalable *s;
    gomem_recyclable rm;
    int kind; /* 0 arena, 1 scalable, 2 recyclable */
};

static unsigned char *pool_get(struct pool *p, size_t n)
{
    switch (p->kind) {
    case 0:
        return gomem_arena_malloc(p->a, n);
    case 1:
        return gomem_scalable_malloc(p->s, n);
    default:
        return gomem_recyclable_next(&p->rm, n);
    }
}

/* Give back everything of a recyclable memory, or p for the others. */
static void pool_put(struct pool *p, unsigned char *q, size_t n)
{
    switch (p->kind) {
    case 0:
        (void)gomem_arena_free(p->a, q, n);
        break;
    case 1:
        (void)gomem_scalable_free(p->s, q, n);
        break;
    default:
        gomem_recyclable_recycle(&p->rm);
        break;
    }
}

static int run(struct pool *p, const char *mistake)
{
    unsigned char *x = pool_get(p, N), *y = pool_get(p, N);
    if (!x || !y) {
        perror("misuse: allocation");
        return 2;
    }
    volatile unsigned char *vx = x;
    int sum = 0;
    if (!strcmp(mistake, "none")) {
        memset(x, 1, N);
        memset(y, 2, N);
        vx[N - 1] = 3;
        sum = vx[0] + y[0];
        pool_put(p, x, N);
        if (p->kind != 2)
            pool_put(p, y, N);
    } else if (!strcmp(mistake, "use-after-free")) {
        memset(x, 1, N);
        pool_put(p, x, N);
        sum = vx[3]; /* x was given back */
        if (p->kind != 2)
            pool_put(p, y, N);
    } else if (!strcmp(mistake, "overflow")) {
        memset(x, 1, N);
        vx[N] = 4; /* one byte past x, toward y */
        pool_put(p, x, N);
        if (p->kind != 2)
            pool_put(p, y, N);
    } else if (!strcmp(mistake, "uninit")) {
        /* Bytes written, given back, handed out again: to the tools they
         * are uninitialised, as in a fresh malloc. */
        memset(x, 1, N);
        memset(y, 1, N);
        pool_put(p, x, N);
        if (p->kind != 2)
            pool_put(p, y, N);
        unsigned char *z = pool_get(p, N);
        if (!z)
            return 2;
        volatile unsigned char *vz = z;
        if (vz[5] == 1) /* a branch on uninitialised bytes */
            sum = 1;
        pool_put(p, z, N);
    } else {
        fprintf(stderr, "misuse: unknown mistake %s\n", mistake);
        return 2;
    }
    printf("misuse: %d\n", sum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "features")) {
#ifdef GOMEM__ANNOTATE
        int annotate = 1;
#else
        int annotate = 0;
#endif
#ifdef GOMEM__ASAN
        int asan = 1;
#else
        int asan = 0;
#endif
        printf("%d %d %d\n", annotate, asan, GOMEM__REDZONE > 0);
        return 0;
    }
    if (argc == 1) {
        static const char *const pools[] = {"arena", "scalable", "recyclable"};
        for (int i = 0; i < 3; i++) {
            char *args[] = {argv[0], (char *)pools[i], (char *)"none", NULL};
            int r = main(3, args);
            if (r)
                return r;
        }
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: misuse features | misuse arena|scalable|recyclable MISTAKE\n");
        return 2;
    }
    struct pool p = {0};
    int r;
    if (!strcmp(argv[1], "arena")) {
        p.kind = 0;
        p.a = gomem_arena_new(20000);
        r = p.a ? run(&p, argv[2]) : 2;
        gomem_arena_destroy(p.a);
    } else if (!strcmp(argv[1], "scalable") || !strcmp(argv[1], "recyclable")) {
        p.kind = argv[1][0] == 's' ? 1 : 2;
        p.s = gomem_scalable_new(4096);
        if (!p.s || (p.kind == 2 && gomem_recyclable_init(&p.rm, p.s) != 0))
            return 2;
        r = run(&p, argv[2]);
        if (p.kind == 2)
            gomem_recyclable_destroy(&p.rm);
        gomem_scalable_destroy(p.s);
    } else {
        fprintf(stderr, "misuse: unknown pool %s\n", argv[1]);
        return 2;
    }
    gomem__arena_pool_drain();
    return r;
}
