/* gomem-bench - libgomem beside its peers, measured in one run.
 *
 * gomem-bench [--full] [--runs N] [--json FILE] [--svg FILE] [SECTION...];
 * without a section, all of them. Ends with a summary: one line per
 * family, libgomem beside the fastest peer found on this machine. */
#include "bench.h"

#include <errno.h>
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

/* The malloc-style peers, as bench_peers names them. */
#define MALLOCS "glibc|tcmalloc|jemalloc|mimalloc"

/* The summary's lines: which row is libgomem's and which rows are its
 * peers. The offset allocator has no peer library in this program: its
 * line sets a pair on it beside the fastest malloc+free pair of the same
 * size, what a program without it would call (o1heap, TLSF and the other
 * offset allocators are measured by a separate harness). release-all
 * sets recyclable memory (next x10 + recycle) beside its counterpart in
 * APR, palloc x10 + pool clear: both release ten buffers in one call. */
const struct bench_pick bench_picks[] = {
    {"offset allocator", "pair 1 KiB (1 MiB range)", NULL, "pair 1 KiB", MALLOCS},
    {"scalable", "pair 1 KiB", "libgomem", "pair 1 KiB", MALLOCS},
    {"threads", "2 threads x pairs (per pair)", "libgomem", "2 threads x pairs (per pair)", MALLOCS},
    {"release-all", "10 buffers, released at once", "libgomem", "10 buffers, released at once", "apr (pool clear)"},
    {"reader", "188-byte records (read), each", "gomem", "188-byte records (read), each",
     "plain (1 piece)|evbuffer"},
    {"writev", "writev to /dev/null, per 1000 segs", "gomem", "writev to /dev/null, per 1000 segs",
     "plain (1 piece)|evbuffer"},
};
const int bench_npicks = (int)(sizeof bench_picks / sizeof bench_picks[0]);

static void usage(FILE *f)
{
    fprintf(f, "usage: gomem-bench [--full] [--runs N] [--json FILE] [--svg FILE] [SECTION...]\nsections:");
    for (size_t i = 0; i < NSECTIONS; i++)
        fprintf(f, " %s", sections[i].name);
    fprintf(f, "\n");
}

int main(int argc, char **argv)
{
    int chosen = 0, first = 1, runs = 0;
    const char *json = NULL, *svg = NULL;
    bench_prepare_peers(argv);
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--runs") && first + 1 < argc) {
            runs = atoi(argv[++first]);
            if (runs < 1 || runs > 64) {
                fprintf(stderr, "gomem-bench: --runs takes 1 to 64\n");
                return 2;
            }
        } else if (!strcmp(argv[first], "--full")) {
            bench_full = 1;
        } else if (!strcmp(argv[first], "--json") && first + 1 < argc) {
            json = argv[++first];
        } else if (!strcmp(argv[first], "--svg") && first + 1 < argc) {
            svg = argv[++first];
        } else if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    bench_runs = runs ? runs : 7;
    for (int i = first; i < argc; i++) {
        size_t j = 0;
        while (j < NSECTIONS && strcmp(argv[i], sections[j].name))
            j++;
        if (j == NSECTIONS) {
            usage(stderr);
            return 2;
        }
    }
    printf("gomem-bench: libgomem %s: %s\n", gomem_version(), bench_variant());
    printf("%s\n", bench_full ? "all rows (--full)"
                              : "the rows of the summary only (--full for all of them); about a minute at most");
    for (size_t j = 0; j < NSECTIONS; j++) {
        int run = first == argc;
        for (int i = first; i < argc; i++)
            run |= !strcmp(argv[i], sections[j].name);
        if (run) {
            sections[j].run();
            chosen++;
        }
    }
    if (!chosen)
        return 2;
    bench_summary();
    int status = 0;
    if (json && bench_write_json(json) != 0) {
        fprintf(stderr, "gomem-bench: %s: %s\n", json, strerror(errno));
        status = 1;
    }
    if (svg && bench_write_svg(svg) != 0) {
        fprintf(stderr, "gomem-bench: %s: %s\n", svg, strerror(errno));
        status = 1;
    }
    return status;
}
