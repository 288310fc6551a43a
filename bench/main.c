/* gomem-bench - libgomem beside its peers, measured in one run.
 *
 * gomem-bench [--runs N] [SECTION...]; without a section, all of them. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomem.h"

static const struct {
    const char *name;
    void (*run)(void);
} sections[] = {
    {"offset", bench_offset},
    {"buffer", bench_buffer},
    {"pool", bench_pool},
};

#define NSECTIONS (sizeof sections / sizeof sections[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: gomem-bench [--runs N] [SECTION...]\nsections:");
    for (size_t i = 0; i < NSECTIONS; i++)
        fprintf(f, " %s", sections[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    int chosen = 0, first = 1;
    bench_prepare_peers(argv);
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--runs") && first + 1 < argc) {
            bench_runs = atoi(argv[++first]);
        } else if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    for (int i = first; i < argc; i++) {
        size_t j = 0;
        while (j < NSECTIONS && strcmp(argv[i], sections[j].name))
            j++;
        if (j == NSECTIONS) {
            usage(stderr);
            return 2;
        }
    }
    printf("gomem-bench: libgomem %s, features 0x%x\n", gomem_version(), gomem_features());
    for (size_t j = 0; j < NSECTIONS; j++) {
        int run = first == argc;
        for (int i = first; i < argc; i++)
            run |= !strcmp(argv[i], sections[j].name);
        if (run) {
            sections[j].run();
            chosen++;
        }
    }
    return chosen ? 0 : 2;
}
