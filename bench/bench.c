/* bench.c - the clock, medians, peers and output of gomem-bench. */
#include "bench.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int bench_runs = 7;
volatile uint64_t bench_sink_u64;

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_measure(double (*fn)(void *arg), void *arg)
{
    double v[64];
    int n = bench_runs < 1 ? 1 : bench_runs > 64 ? 64 : bench_runs;
    for (int i = 0; i < n; i++)
        v[i] = fn(arg);
    return bench_median(v, n);
}

void bench_sink(const void *p)
{
    bench_sink_u64 += (uint64_t)(uintptr_t)p;
}

static int bench_load(struct bench_peer *p, const char *name, const char *lib,
                      const char *msym, const char *fsym)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return 0;
    void *m = dlsym(h, msym), *f = dlsym(h, fsym);
    if (!m || !f)
        return 0;
    p->name = name;
    *(void **)&p->malloc = m;
    *(void **)&p->free = f;
    return 1;
}

void bench_prepare_peers(char **argv)
{
    /* jemalloc uses initial-exec TLS: dlopen refuses it ("cannot allocate
     * memory in static TLS block") unless the dynamic loader reserved more
     * static TLS at start-up. Ask for that and start again, once. */
    const char *tun = getenv("GLIBC_TUNABLES");
    if (tun && strstr(tun, "optional_static_tls"))
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s%sglibc.rtld.optional_static_tls=65536", tun ? tun : "",
             tun ? ":" : "");
    if (setenv("GLIBC_TUNABLES", buf, 1) == 0)
        execv("/proc/self/exe", argv);
    /* Not possible: go on without jemalloc. */
}

int bench_peers(struct bench_peer *peers, int max)
{
    int n = 0;
    if (n < max) {
        peers[n].name = "glibc";
        peers[n].malloc = malloc;
        peers[n].free = free;
        n++;
    }
    if (n < max && bench_load(&peers[n], "tcmalloc", "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free"))
        n++;
    if (n < max && bench_load(&peers[n], "jemalloc", "libjemalloc.so.2", "malloc", "free"))
        n++;
    if (n < max && bench_load(&peers[n], "mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free"))
        n++;
    return n;
}

int bench_apr_load(struct bench_apr *apr)
{
    static void *h;
    static int ready;
    if (!ready) {
        if (!h && !(h = dlopen("libapr-1.so.0", RTLD_NOW | RTLD_LOCAL)))
            return 0;
        int (*init)(void);
        *(void **)&init = dlsym(h, "apr_initialize");
        if (!init || init() != 0)
            return 0;
        ready = 1;
    }
    void *c = dlsym(h, "apr_pool_create_ex"), *cl = dlsym(h, "apr_pool_clear"),
         *d = dlsym(h, "apr_pool_destroy"), *pa = dlsym(h, "apr_palloc");
    if (!c || !cl || !d || !pa)
        return 0;
    *(void **)&apr->pool_create = c;
    *(void **)&apr->pool_clear = cl;
    *(void **)&apr->pool_destroy = d;
    *(void **)&apr->palloc = pa;
    return 1;
}

void bench_section(const char *title)
{
    printf("\n== %s (median of %d runs)\n", title, bench_runs);
}

void bench_row(const char *test, const char *who, double value, const char *unit, double base)
{
    if (base > 0)
        printf("  %-34s %-16s %10.2f %-5s %7.2fx\n", test, who, value, unit, value / base);
    else
        printf("  %-34s %-16s %10.2f %s\n", test, who, value, unit);
    fflush(stdout);
}
