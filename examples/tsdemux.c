/* tsdemux.c - an MPEG-TS demuxer over network-sized chunks, with libgomem.
 *
 *   tsdemux [-c CHUNK] FILE
 *
 * Reads FILE CHUNK bytes at a time (default 1316) into pool memory, as a
 * server receives it, and prints one line per PES packet, as
 * "ffprobe -show_entries packet=stream_index,pts,dts,size -of csv=p=0"
 * does: stream index (in PMT order), PTS, DTS, payload size. Continuity
 * counter errors go to stderr and make the exit status 1.
 *
 * What it shows: all-or-nothing parsing across chunk boundaries
 * (gomem_reader_require, sticky gomem_reader_get_*), resync with
 * gomem_reader_scan, PSI sections through a bounded sub-reader, and PES
 * payloads moved with their ownership out of the receive buffer
 * (gomem_reader_move) while gomem_reader_clip_front frees the TS headers. */
#include <gomem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TS 188
#define MAXSTREAMS 8

struct stream {
    unsigned pid, index, cc;
    int seen_cc, open;
    uint64_t pts, dts;
    size_t want;      /* PES payload size from its header, 0: unknown */
    gomem_memory pes; /* the payload so far: pieces of the chunks */
};

static gomem_scalable *pool;
static struct stream streams[MAXSTREAMS];
static unsigned nstreams, pmt_pid = 0x2000, cc_errors;

/* Give a piece of a chunk back to the pool: pieces are sub-ranges of what
 * gomem_scalable_malloc returned, and the pool frees any sub-range. */
static void release(void *base, size_t len, void *arg)
{
    (void)arg;
    gomem_scalable_free(pool, base, len);
}

static int release_piece(void *base, size_t len, void *arg)
{
    release(base, len, arg);
    return 0;
}

static void emit(struct stream *st)
{
    if (st->open)
        printf("%u,%llu,%llu,%zu\n", st->index, (unsigned long long)st->pts,
               (unsigned long long)st->dts, gomem_memory_size(&st->pes));
    gomem_memory_foreach(&st->pes, release_piece, NULL);
    gomem_memory_reset(&st->pes);
    st->open = 0;
}

static uint64_t timestamp(gomem_reader *r, int *err)
{
    uint64_t hi = gomem_reader_get_u8(r, err), mid = gomem_reader_get_be16(r, err),
             lo = gomem_reader_get_be16(r, err);
    return (hi >> 1 & 7) << 30 | (mid >> 1) << 15 | lo >> 1;
}

/* PAT or PMT: one section, in the n payload bytes of this packet. */
static void psi(gomem_reader *r, size_t n, unsigned pid)
{
    gomem_memory m;
    gomem_reader s;
    int err = 0;
    gomem_memory_init(&m);
    if (gomem_reader_sub(r, n, &m, &s) != 0)
        return;
    gomem_reader_get_skip(&s, gomem_reader_get_u8(&s, &err), &err); /* pointer_field */
    gomem_reader_get_skip(&s, 1, &err);                              /* table_id */
    size_t len = gomem_reader_get_be16(&s, &err) & 0xfff;
    if (err || len < 9 || len > gomem_reader_remaining(&s))
        goto out;
    gomem_reader_get_skip(&s, 5, &err);
    size_t end = gomem_reader_remaining(&s) - (len - 4); /* the CRC stays unread */
    if (pid == 0) {
        while (!err && gomem_reader_remaining(&s) > end) {
            unsigned program = gomem_reader_get_be16(&s, &err);
            unsigned p = gomem_reader_get_be16(&s, &err) & 0x1fff;
            if (program && pmt_pid == 0x2000)
                pmt_pid = p;
        }
    } else if (nstreams == 0) {
        gomem_reader_get_skip(&s, 2, &err); /* PCR PID */
        gomem_reader_get_skip(&s, gomem_reader_get_be16(&s, &err) & 0xfff, &err);
        while (!err && gomem_reader_remaining(&s) > end && nstreams < MAXSTREAMS) {
            gomem_reader_get_skip(&s, 1, &err); /* stream_type */
            unsigned p = gomem_reader_get_be16(&s, &err) & 0x1fff;
            gomem_reader_get_skip(&s, gomem_reader_get_be16(&s, &err) & 0xfff, &err);
            if (!err) {
                streams[nstreams] = (struct stream){.pid = p, .index = nstreams};
                gomem_memory_init(&streams[nstreams].pes);
                nstreams++;
            }
        }
    }
out:
    gomem_memory_destroy(&m);
}

static struct stream *find(unsigned pid)
{
    for (unsigned i = 0; i < nstreams; i++)
        if (streams[i].pid == pid)
            return &streams[i];
    return NULL;
}

/* One packet: the reader holds at least TS bytes and stands on 0x47. */
static void packet(gomem_reader *r)
{
    int err = 0;
    gomem_reader_get_skip(r, 1, &err);
    unsigned h = gomem_reader_get_be16(r, &err), b = gomem_reader_get_u8(r, &err);
    unsigned pid = h & 0x1fff, afc = b >> 4 & 3, cc = b & 15;
    size_t n = TS - 4;
    if (afc & 2) {
        size_t alen = gomem_reader_get_u8(r, &err);
        alen = alen > n - 1 ? n - 1 : alen;
        gomem_reader_get_skip(r, alen, &err);
        n -= 1 + alen;
    }
    if (!(afc & 1)) {
        gomem_reader_get_skip(r, n, &err);
        return;
    }
    if (pid == 0 || pid == pmt_pid) {
        psi(r, n, pid);
        return;
    }
    struct stream *st = find(pid);
    if (!st) {
        gomem_reader_get_skip(r, n, &err);
        return;
    }
    if (st->seen_cc && cc != ((st->cc + 1) & 15) && cc != st->cc) {
        fprintf(stderr, "pid %#x: continuity counter %u after %u\n", pid, cc, st->cc);
        cc_errors++;
    }
    st->cc = cc;
    st->seen_cc = 1;
    if (h & 0x4000) { /* a new PES starts here */
        emit(st);
        gomem_reader_get_skip(r, 4, &err); /* 00 00 01 stream_id */
        size_t plen = gomem_reader_get_be16(r, &err);
        unsigned flags = gomem_reader_get_be16(r, &err) & 0xff;
        size_t hlen = gomem_reader_get_u8(r, &err);
        if (err || 9 + hlen > n) {
            gomem_reader_get_skip(r, n >= 9 ? n - 9 : 0, &err);
            return;
        }
        st->pts = st->dts = 0;
        if (flags & 0x80)
            st->pts = st->dts = timestamp(r, &err);
        if (flags & 0x40)
            st->dts = timestamp(r, &err);
        gomem_reader_get_skip(r, hlen - (flags & 0x80 ? 5 : 0) - (flags & 0x40 ? 5 : 0), &err);
        n -= 9 + hlen;
        st->want = plen > 3 + hlen ? plen - 3 - hlen : 0;
        st->open = 1;
    }
    if (!st->open) {
        gomem_reader_get_skip(r, n, &err);
        return;
    }
    /* The payload leaves the receive buffer with its ownership. */
    gomem_reader_move(r, n, &st->pes);
    if (st->want && gomem_memory_size(&st->pes) >= st->want)
        emit(st);
}

/* Parse every whole packet; keep the rest for the next chunk. */
static void parse(gomem_reader *r)
{
    static const uint8_t sync = 0x47;
    while (gomem_reader_require(r, TS) == 0) {
        size_t off;
        if (gomem_reader_scan(r, &sync, NULL, 1, &off) != 0) {
            gomem_reader_move_to_end(r); /* no sync byte at all */
            break;
        }
        if (off) { /* lost sync: resume at the next 0x47 */
            gomem_reader_skip(r, off);
            continue;
        }
        packet(r);
    }
    gomem_reader_clip_front(r, release, NULL); /* headers, skipped bytes */
}

int main(int argc, char **argv)
{
    size_t chunk = 1316;
    int opt;
    while ((opt = getopt(argc, argv, "c:")) != -1) {
        if (opt != 'c' || (chunk = strtoul(optarg, NULL, 0)) == 0) {
            fprintf(stderr, "usage: tsdemux [-c CHUNK] FILE\n");
            return 2;
        }
    }
    FILE *f = optind < argc ? fopen(argv[optind], "rb") : NULL;
    if (!f) {
        fprintf(stderr, "usage: tsdemux [-c CHUNK] FILE\n");
        return 2;
    }
    pool = gomem_scalable_new(64 * 1024);
    gomem_memory buf;
    gomem_reader r;
    gomem_memory_init(&buf);
    gomem_reader_init(&r, &buf);
    for (;;) {
        uint8_t *p = gomem_scalable_malloc(pool, chunk);
        size_t got = p ? fread(p, 1, chunk, f) : 0;
        if (!got) {
            if (p)
                gomem_scalable_free(pool, p, chunk);
            break;
        }
        if (got < chunk)
            gomem_scalable_free_rest(pool, p, chunk, got);
        gomem_memory_push(&buf, p, got);
        parse(&r);
    }
    fclose(f);
    /* At the end, the open PES packets, by PID as ffprobe flushes them. */
    for (unsigned pid = 0; pid < 0x2000; pid++) {
        struct stream *st = find(pid);
        if (st) {
            emit(st);
            gomem_memory_destroy(&st->pes);
        }
    }
    gomem_reader_move_to_end(&r);
    gomem_reader_clip_front(&r, release, NULL);
    gomem_memory_destroy(&buf);
    struct gomem_scalable_stats stats;
    gomem_scalable_stats(pool, &stats);
    gomem_scalable_destroy(pool);
    if (stats.in_use) {
        fprintf(stderr, "%zu bytes not given back\n", stats.in_use);
        return 1;
    }
    return cc_errors ? 1 : 0;
}
