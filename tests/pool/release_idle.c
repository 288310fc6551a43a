/* release_idle.c - a program that leaves nothing behind: it creates and
 * destroys one 4 KiB arena (and a scalable allocator, and takes a pooled
 * buddy and puts it back), then gives the idle memory back with
 * gomem_arena_release_idle(), or, with the argument "exit", leaves that to
 * the library's exit-time release. tests/pool/release_idle_leaks.sh runs it
 * under memcheck with every leak kind counted as an error. Public API only. */
#include <stdio.h>
#include <string.h>

#include <gomem.h>

int main(int argc, char **argv)
{
    int at_exit = argc > 1 && strcmp(argv[1], "exit") == 0;
    gomem_arena *a = gomem_arena_new(4096);
    if (!a)
        return 1;
    unsigned char *p = gomem_arena_malloc(a, 100);
    if (!p)
        return 1;
    memset(p, 1, 100);
    gomem_arena_destroy(a);

    gomem_scalable *s = gomem_scalable_new(4096);
    void *q = s ? gomem_scalable_malloc(s, 10000) : NULL;
    if (!q)
        return 1;
    memset(q, 2, 10000);
    gomem_scalable_destroy(s);

    gomem_buddy *b = gomem_buddy_get();
    if (!b || gomem_buddy_put(b) != 0)
        return 1;

    if (!at_exit && gomem_arena_release_idle() == 0) {
        fprintf(stderr, "release_idle: nothing released\n");
        return 1;
    }
    return 0;
}
