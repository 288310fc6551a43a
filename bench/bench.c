/* bench.c - the clock, medians, peers and output of gomem-bench. */
#include "bench.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gomem.h"

int bench_runs = 7;
int bench_full;
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

/* The last medians with their runs, sorted: bench_row looks its value up
 * here (a figure printed as computed has its runs; one rescaled before
 * printing has none). */
#define SPREADS 32
#define MAXRUNS 64
static struct {
    double median;
    int n;
    double v[MAXRUNS];
} spreads[SPREADS];
static unsigned nspreads;

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    double m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    unsigned k = nspreads++ % SPREADS;
    spreads[k].median = m;
    spreads[k].n = n < MAXRUNS ? n : MAXRUNS;
    memcpy(spreads[k].v, v, (size_t)spreads[k].n * sizeof *v);
    return m;
}

/* The sorted runs behind a median just computed, or 0. */
static int runs_of(double value, double *v)
{
    unsigned n = nspreads < SPREADS ? nspreads : SPREADS;
    for (unsigned i = 1; i <= n; i++) {
        unsigned k = (nspreads - i) % SPREADS;
        if (spreads[k].median == value) {
            memcpy(v, spreads[k].v, (size_t)spreads[k].n * sizeof *v);
            return spreads[k].n;
        }
    }
    return 0;
}

double bench_measure(double (*fn)(void *arg), void *arg)
{
    double v[MAXRUNS];
    int n = bench_runs < 1 ? 1 : bench_runs > MAXRUNS ? MAXRUNS : bench_runs;
    (void)fn(arg); /* warms caches and page tables: not counted */
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

/* ---------------------------------------------------------------- every
 * figure of the run, for the summary and --json */

struct fig {
    char section[128], test[64], who[48], unit[8];
    double value, base, min, max;
    int nruns;            /* runs known (sorted), or 0 */
    double runs[MAXRUNS];
};
static struct fig *figs;
static size_t nfigs, capfigs;
static char section[128];
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
    snprintf(section, sizeof section, "%s", title);
    printf("\n== %s (median of %d runs)\n", title, bench_runs);
}

void bench_row(const char *test, const char *who, double value, const char *unit, double base)
{
    if (base > 0)
        printf("  %-34s %-16s %10.2f %-5s %7.2fx\n", test, who, value, unit, value / base);
    else
        printf("  %-34s %-16s %10.2f %s\n", test, who, value, unit);
    fflush(stdout);
    if (nfigs == capfigs) {
        size_t cap = capfigs ? 2 * capfigs : 256;
        struct fig *f = realloc(figs, cap * sizeof *f);
        if (!f)
            return;
        figs = f;
        capfigs = cap;
    }
    struct fig *f = &figs[nfigs++];
    snprintf(f->section, sizeof f->section, "%s", section);
    snprintf(f->test, sizeof f->test, "%s", test);
    snprintf(f->who, sizeof f->who, "%s", who);
    snprintf(f->unit, sizeof f->unit, "%s", unit);
    f->value = value;
    f->base = base;
    f->nruns = runs_of(value, f->runs);
    f->min = f->nruns ? f->runs[0] : value;
    f->max = f->nruns ? f->runs[f->nruns - 1] : value;
}

/* ---------------------------------------------------------------- names */

const char *bench_offset_variant(void)
{
    return (gomem_features() & GOMEM_FEATURE_TWOTREE) ? "avl (twotree)" : "segfit";
}

const char *bench_variant(void)
{
    static char buf[128];
    unsigned f = gomem_features();
    snprintf(buf, sizeof buf, "offset allocator %s, %s arenas, recyclable memory %s",
             (f & GOMEM_FEATURE_TWOTREE) ? "best fit (twotree)" : "good fit (segfit)",
             (f & GOMEM_FEATURE_BUDDY) ? "buddy" : (f & GOMEM_FEATURE_MMAP) ? "mmap" : "heap",
             (f & GOMEM_FEATURE_RM) ? "pooled" : "from malloc (no rm)");
    return buf;
}

/* ---------------------------------------------------------------- the
 * summary */

/* Whether name is one of the "|"-separated list. */
static int one_of(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

int bench_wanted(const char *test)
{
    if (bench_full)
        return 1;
    for (int i = 0; i < bench_npicks; i++)
        if (!strcmp(test, bench_picks[i].test) || !strcmp(test, bench_picks[i].peer_test))
            return 1;
    return 0;
}

/* Ratios within this band of 1 are "on par". */
#define PAR 0.10
/* A spread (largest / smallest ratio) wider than this is not to be trusted. */
#define WIDE 1.5

struct line {
    const struct bench_pick *pick;
    const struct fig *mine, *peer; /* NULL when not measured */
    double ratio, lo, hi;          /* lo..hi: the ratio's spread over the runs */
    const char *verdict;
    int wide;                      /* the spread is too wide to trust */
};

static void summarize(const struct bench_pick *k, struct line *l)
{
    const char *gw = k->gomem_who ? k->gomem_who : bench_offset_variant();
    memset(l, 0, sizeof *l);
    l->pick = k;
    for (size_t i = 0; i < nfigs; i++) {
        const struct fig *f = &figs[i];
        if (!l->mine && !strcmp(f->test, k->test) && one_of(f->who, gw))
            l->mine = f;
        if (!strcmp(f->test, k->peer_test) && one_of(f->who, k->peers) && (!l->peer || f->value < l->peer->value))
            l->peer = f;
    }
    if (!l->mine || !l->peer || l->peer->value <= 0 || l->peer->min <= 0) {
        l->verdict = "not measured";
        return;
    }
    l->ratio = l->mine->value / l->peer->value;
    /* The spread: the i-th fastest run of libgomem over the i-th fastest
     * of the peer, for every i (a busy moment slows the runs it hits;
     * sorting pairs them by luck). Without runs of both, the widest the
     * ratio can be. */
    const struct fig *a = l->mine, *b = l->peer;
    if (a->nruns && a->nruns == b->nruns) {
        l->lo = l->hi = a->runs[0] / b->runs[0];
        for (int i = 1; i < a->nruns; i++) {
            double r = a->runs[i] / b->runs[i];
            l->lo = r < l->lo ? r : l->lo;
            l->hi = r > l->hi ? r : l->hi;
        }
    } else {
        l->lo = a->min / b->max;
        l->hi = a->max / b->min;
    }
    l->verdict = l->ratio < 1 - PAR ? "faster" : l->ratio > 1 + PAR ? "slower" : "on par";
    /* Too wide: the runs disagree by more than WIDE, or reach across 1 to
     * the opposite verdict. */
    l->wide = l->hi / l->lo > WIDE || (l->ratio < 1 - PAR && l->hi > 1 + PAR) ||
              (l->ratio > 1 + PAR && l->lo < 1 - PAR);
}

void bench_summary(void)
{
    int wide = 0, any = 0;
    for (int i = 0; i < bench_npicks; i++) {
        struct line l;
        summarize(&bench_picks[i], &l);
        any |= l.mine && l.peer;
    }
    if (!any)
        return; /* the sections run measured no line of it */
    printf("\n== summary: libgomem beside the fastest peer measured on this machine\n"
           "   ratio = libgomem / peer (below 1: libgomem is faster); spread = the ratio's\n"
           "   range over the %d runs; verdict: within %.0f%% of 1 is on par\n\n",
           bench_runs, PAR * 100);
    printf("  %-18s %-24s %-24s %7s  %-13s %s\n", "family", "libgomem", "best peer", "ratio", "spread",
           "verdict");
    for (int i = 0; i < bench_npicks; i++) {
        struct line l;
        char a[64], b[64], sp[32];
        summarize(&bench_picks[i], &l);
        if (!l.mine || !l.peer) {
            printf("  %-18s (not measured in this run)\n", l.pick->family);
            continue;
        }
        snprintf(a, sizeof a, "%s %.1f %s", l.mine->who, l.mine->value, l.mine->unit);
        snprintf(b, sizeof b, "%s %.1f %s", l.peer->who, l.peer->value, l.peer->unit);
        snprintf(sp, sizeof sp, "%.2f-%.2f", l.lo, l.hi);
        printf("  %-18s %-24s %-24s %6.2fx  %-13s %s%s\n", l.pick->family, a, b, l.ratio, sp, l.verdict,
               l.wide ? "  (!) spread too wide to trust" : "");
        wide |= l.wide;
    }
    printf("\n  each line's rows:\n");
    for (int i = 0; i < bench_npicks; i++)
        printf("    %-18s \"%s\" beside \"%s\" of %s\n", bench_picks[i].family, bench_picks[i].test,
               bench_picks[i].peer_test, bench_picks[i].peers);
    if (wide)
        printf("\n  (!) the runs of some lines disagree too much for their verdict to be trusted:\n"
               "      the machine is busy or its clock unsteady; rerun on an idle machine, or\n"
               "      with more runs (--runs 15).\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- --json */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int finish(FILE *f)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int bench_write_json(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"library\": \"libgomem\",\n  \"version\": ");
    json_str(f, gomem_version());
    fprintf(f, ",\n  \"features\": %u,\n  \"variant\": ", gomem_features());
    json_str(f, bench_variant());
    fprintf(f, ",\n  \"runs\": %d,\n  \"mode\": \"%s\",\n  \"figures\": [", bench_runs, bench_full ? "full" : "quick");
    for (size_t i = 0; i < nfigs; i++) {
        const struct fig *g = &figs[i];
        fprintf(f, "%s\n    {\"section\": ", i ? "," : "");
        json_str(f, g->section);
        fprintf(f, ", \"test\": ");
        json_str(f, g->test);
        fprintf(f, ", \"who\": ");
        json_str(f, g->who);
        fprintf(f, ", \"value\": %.6g, \"unit\": ", g->value);
        json_str(f, g->unit);
        if (g->nruns) {
            fprintf(f, ", \"min\": %.6g, \"max\": %.6g, \"runs\": [", g->min, g->max);
            for (int r = 0; r < g->nruns; r++)
                fprintf(f, "%s%.6g", r ? ", " : "", g->runs[r]);
            fprintf(f, "]");
        } else {
            fprintf(f, ", \"min\": null, \"max\": null, \"runs\": null");
        }
        if (g->base > 0)
            fprintf(f, ", \"base\": %.6g, \"ratio\": %.6g}", g->base, g->value / g->base);
        else
            fprintf(f, ", \"base\": null, \"ratio\": null}");
    }
    fprintf(f, "\n  ],\n  \"summary\": [");
    for (int i = 0; i < bench_npicks; i++) {
        struct line l;
        summarize(&bench_picks[i], &l);
        fprintf(f, "%s\n    {\"family\": ", i ? "," : "");
        json_str(f, l.pick->family);
        fprintf(f, ", \"test\": ");
        json_str(f, l.pick->test);
        if (!l.mine || !l.peer) {
            fprintf(f, ", \"verdict\": \"not measured\"}");
            continue;
        }
        fprintf(f, ", \"libgomem\": ");
        json_str(f, l.mine->who);
        fprintf(f, ", \"value\": %.6g, \"peer\": ", l.mine->value);
        json_str(f, l.peer->who);
        fprintf(f, ", \"peer_value\": %.6g, \"unit\": ", l.peer->value);
        json_str(f, l.mine->unit);
        fprintf(f, ", \"ratio\": %.6g, \"ratio_min\": %.6g, \"ratio_max\": %.6g, \"verdict\": ", l.ratio, l.lo,
                l.hi);
        json_str(f, l.verdict);
        fprintf(f, ", \"trusted\": %s}", l.wide ? "false" : "true");
    }
    fprintf(f, "\n  ]\n}\n");
    return finish(f);
}

/* ---------------------------------------------------------------- --svg:
 * one bar per family, the ratio to the best peer on a log scale from 1/8
 * to 8 (1 in the middle), the spread as a whisker. */

static void xml_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* x of a ratio: log2 scale, 1/8 at x0, 8 at x0 + w. */
static double svg_x(double r, double x0, double w)
{
    double e = 0;
    if (r < 0.125)
        r = 0.125;
    if (r > 8)
        r = 8;
    for (; r >= 2; r /= 2)
        e += 1;
    for (; r < 1; r *= 2)
        e -= 1;
    /* r in [1, 2): log2 by a short series is not needed for a chart; use
     * the piecewise-linear log2 (exact at the powers of two). */
    e += r - 1;
    return x0 + w * (e + 3) / 6;
}

int bench_write_svg(const char *path)
{
    const double x0 = 300, w = 480, row = 34, top = 70;
    double height = top + row * bench_npicks + 60;
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"13\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            height);
    fprintf(f, "<text x=\"20\" y=\"26\" font-size=\"16\" font-weight=\"bold\">libgomem %s / fastest peer "
               "(lower is better)</text>\n<text x=\"20\" y=\"46\" fill=\"#555\">",
            gomem_version());
    xml_str(f, bench_variant());
    fprintf(f, "; median of %d runs, whiskers: spread over the runs</text>\n", bench_runs);
    static const double ticks[] = {0.125, 0.25, 0.5, 1, 2, 4, 8};
    static const char *const tick_names[] = {"1/8", "1/4", "1/2", "1", "2", "4", "8"};
    for (int t = 0; t < 7; t++) {
        double x = svg_x(ticks[t], x0, w);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"%s\"/>\n",
                x, top - 8, x, top + row * bench_npicks, ticks[t] == 1 ? "#000" : "#ddd",
                ticks[t] == 1 ? "1.5" : "1");
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#555\">%sx</text>\n", x,
                top + row * bench_npicks + 18, tick_names[t]);
    }
    for (int i = 0; i < bench_npicks; i++) {
        struct line l;
        summarize(&bench_picks[i], &l);
        double y = top + row * i;
        fprintf(f, "<text x=\"20\" y=\"%.0f\">", y + 20);
        xml_str(f, l.pick->family);
        fprintf(f, "</text>\n");
        if (!l.mine || !l.peer) {
            fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#999\">not measured</text>\n", x0 + 10, y + 20);
            continue;
        }
        fprintf(f, "<text x=\"150\" y=\"%.0f\" fill=\"#555\" font-size=\"11\">vs ", y + 20);
        xml_str(f, l.peer->who);
        fprintf(f, "</text>\n");
        double one = svg_x(1, x0, w), x = svg_x(l.ratio, x0, w);
        const char *color = !strcmp(l.verdict, "faster") ? "#2a9d3a" : !strcmp(l.verdict, "slower") ? "#d0423b"
                                                                                                      : "#888";
        fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"%s\"%s/>\n", x < one ? x : one,
                y + 6, x < one ? one - x : x - one, color, l.wide ? " fill-opacity=\"0.45\"" : "");
        double lo = svg_x(l.lo, x0, w), hi = svg_x(l.hi, x0, w);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#000\"/>\n", lo, y + 15, hi,
                y + 15);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-size=\"12\">%.2fx %s%s</text>\n", x0 + w + 10, y + 20,
                l.ratio, l.verdict, l.wide ? " (noisy)" : "");
    }
    fprintf(f, "</svg>\n");
    return finish(f);
}
