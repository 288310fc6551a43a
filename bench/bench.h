/* bench.h - what the sections of gomem-bench share: a clock, medians of
 * repeated runs, the peer allocators loaded at run time, and one line
 * format for every figure. Benchmarks print; they never pass or fail. */
#ifndef GOMEM_BENCH_H
#define GOMEM_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds on the monotonic clock. */
uint64_t bench_now_ns(void);

/* How many times each measurement is repeated; the median is reported
 * (--runs N, default 7). */
extern int bench_runs;

/* The median of n values (reorders v). It also notes the smallest and
 * largest of them: bench_row finds a figure's spread over its runs there. */
double bench_median(double *v, int n);

/* Run fn(arg) bench_runs times; each call returns the ns per operation it
 * measured. Returns their median. */
double bench_measure(double (*fn)(void *arg), void *arg);

/* Keep the compiler from removing work whose result is unused. */
void bench_sink(const void *p);
extern volatile uint64_t bench_sink_u64;

/* A malloc-style allocator to compare against. glibc is always first; the
 * others are loaded with dlopen where installed, so none is a build
 * dependency. */
struct bench_peer {
    const char *name;
    void *(*malloc)(size_t);
    void (*free)(void *);
};
/* Call first in main: re-executes the program once so that peers using
 * initial-exec TLS (jemalloc) can be loaded. */
void bench_prepare_peers(char **argv);
/* Fill peers[] (at most max) and return how many were found. */
int bench_peers(struct bench_peer *peers, int max);

/* The Apache Portable Runtime's pools, the peer of the rows that create,
 * clear and destroy whole pools (APR cannot free one allocation). Loaded
 * with dlopen where libapr-1 is installed, so it is not a build dependency.
 * pool_create is apr_pool_create_ex (parent, abort function and allocator
 * may be NULL); APR is initialised once by bench_apr_load. */
struct bench_apr {
    int (*pool_create)(void **pool, void *parent, void *abort_fn, void *allocator);
    void (*pool_clear)(void *pool);
    void (*pool_destroy)(void *pool);
    void *(*palloc)(void *pool, size_t n);
};
/* Fill *apr and return 1 if APR loaded and initialised, else 0. */
int bench_apr_load(struct bench_apr *apr);

/* A section heading. */
void bench_section(const char *title);
/* One figure: "  test  who  value unit  (ratio x base)". base <= 0 leaves
 * the ratio out; the ratio is value / base (lower is better for times). */
void bench_row(const char *test, const char *who, double value, const char *unit, double base);

/* --full: every row, as many iterations as before. Without it the
 * sections run only the rows the summary needs (bench_wanted) with fewer
 * iterations, so that the whole run takes well under a minute. */
extern int bench_full;
/* Whether a row of this test name is to be measured in this run: always
 * with --full, else only when a summary line uses it. */
int bench_wanted(const char *test);

/* The summary: one line per family, libgomem's figure for test (the row
 * whose who is one of gomem_who, "|"-separated) beside the fastest of the
 * rows of peer_test whose who is one of peers ("|"-separated). main.c
 * holds the table (gomem_who NULL: the configured offset variant);
 * bench_summary prints it after the sections. */
struct bench_pick {
    const char *family;
    const char *test, *gomem_who;
    const char *peer_test, *peers;
};
extern const struct bench_pick bench_picks[];
extern const int bench_npicks;
void bench_summary(void);
/* Every figure of the run as JSON, and the summary's ratios as an SVG
 * chart. 0, or -1 with errno set. */
int bench_write_json(const char *path);
int bench_write_svg(const char *path);
/* The build variant in words ("good fit (segfit), heap arenas, ..."). */
const char *bench_variant(void);
/* The configured offset-allocator variant's name as its rows print it. */
const char *bench_offset_variant(void);

/* The sections, one per module family (bench_<family>.c). */
void bench_offset(void);
void bench_buffer(void);
void bench_pool(void);

#endif /* GOMEM_BENCH_H */
