/* flvtags.c - an FLV tag parser over network-sized chunks, with libgomem.
 *
 *   flvtags [-c CHUNK] [-s] FILE
 *
 * Reads FILE CHUNK bytes at a time (default 4096), as a server receives
 * it, and prints one line per audio or video packet, as
 * "ffprobe -show_entries packet=stream_index,pts,dts,size -of csv=p=0"
 * does (video is stream 0, audio stream 1). With -s it prints instead
 * what the H.264 sequence parameter set says: "width,height,level", as
 * "ffprobe -select_streams v -show_entries stream=width,height,level".
 *
 * What it shows: a tag is read whole or not at all (gomem_reader_require,
 * then a rewind to the mark when the chunk ends inside it), its body
 * through a sub-reader, FLV's signed 24-bit composition time
 * (gomem_reader_read_sbe24), and the SPS decoded with the bit reader,
 * emulation prevention bytes removed on the fly. */
#include <gomem.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sps_only;

/* The SPS (after its NAL header byte): H.264 7.3.2.1.1, up to the frame
 * size and cropping. Sticky reads: one check at the end. Returns 0, or an
 * error of the bit reader. */
static int sps(gomem_reader *r)
{
    static const uint8_t high[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    gomem_bitreader b;
    int e = gomem_bitreader_init(&b, r, GOMEM_BITREADER_EPB);
    unsigned profile = (unsigned)gomem_bitreader_get_bits(&b, 8, &e);
    gomem_bitreader_get_bits(&b, 8, &e); /* constraint flags */
    unsigned level = (unsigned)gomem_bitreader_get_bits(&b, 8, &e);
    uint32_t chroma = 1;
    gomem_bitreader_get_ue(&b, &e); /* seq_parameter_set_id */
    if (!e && memchr(high, (int)profile, sizeof high)) {
        chroma = gomem_bitreader_get_ue(&b, &e);
        if (chroma == 3)
            gomem_bitreader_get_bits(&b, 1, &e); /* separate_colour_plane */
        gomem_bitreader_get_ue(&b, &e); /* bit depths */
        gomem_bitreader_get_ue(&b, &e);
        gomem_bitreader_get_bits(&b, 1, &e);
        int matrices = (int)gomem_bitreader_get_bits(&b, 1, &e);
        for (int i = 0; matrices && i < (chroma == 3 ? 12 : 8); i++) {
            int present = (int)gomem_bitreader_get_bits(&b, 1, &e);
            for (int j = 0, last = 8, next = 8; present && next && j < (i < 6 ? 16 : 64); j++) {
                next = (last + gomem_bitreader_get_se(&b, &e) + 256) % 256;
                last = next ? next : last;
            }
        }
    }
    gomem_bitreader_get_ue(&b, &e); /* log2_max_frame_num_minus4 */
    uint32_t poc = gomem_bitreader_get_ue(&b, &e);
    if (poc == 0) {
        gomem_bitreader_get_ue(&b, &e);
    } else if (poc == 1) {
        gomem_bitreader_get_bits(&b, 1, &e);
        gomem_bitreader_get_se(&b, &e);
        gomem_bitreader_get_se(&b, &e);
        uint32_t n = gomem_bitreader_get_ue(&b, &e);
        for (uint32_t i = 0; !e && i < n; i++)
            gomem_bitreader_get_se(&b, &e);
    }
    gomem_bitreader_get_ue(&b, &e); /* max_num_ref_frames */
    gomem_bitreader_get_bits(&b, 1, &e);
    uint32_t wmbs = gomem_bitreader_get_ue(&b, &e), hmbs = gomem_bitreader_get_ue(&b, &e);
    unsigned frame_mbs_only = (unsigned)gomem_bitreader_get_bits(&b, 1, &e);
    if (!frame_mbs_only)
        gomem_bitreader_get_bits(&b, 1, &e);
    gomem_bitreader_get_bits(&b, 1, &e);
    uint32_t crop[4] = {0, 0, 0, 0};
    if (gomem_bitreader_get_bits(&b, 1, &e)) /* frame_cropping_flag */
        for (int i = 0; i < 4; i++)
            crop[i] = gomem_bitreader_get_ue(&b, &e);
    if (e)
        return e;
    /* Crop units: 4:2:0 halves both, 4:2:2 the width, 4:4:4 none. */
    unsigned cx = chroma == 1 || chroma == 2 ? 2 : 1;
    unsigned cy = (chroma == 1 ? 2 : 1) * (2 - frame_mbs_only);
    unsigned long w = (wmbs + 1ul) * 16 - cx * (crop[0] + crop[1]);
    unsigned long h = (hmbs + 1ul) * 16 * (2 - frame_mbs_only) - cy * (crop[2] + crop[3]);
    if (sps_only)
        printf("%lu,%lu,%u\n", w, h, level);
    return 0;
}

/* AVCDecoderConfigurationRecord: the first SPS goes to sps(). */
static void avc_config(gomem_reader *body)
{
    int err = 0;
    gomem_reader_get_skip(body, 5, &err);
    unsigned nsps = gomem_reader_get_u8(body, &err) & 31;
    size_t len = gomem_reader_get_be16(body, &err);
    gomem_memory m;
    gomem_reader nal;
    gomem_memory_init(&m);
    if (!err && nsps && len > 1 && gomem_reader_sub(body, len, &m, &nal) == 0) {
        gomem_reader_skip(&nal, 1); /* NAL header */
        if (sps(&nal))
            fprintf(stderr, "bad SPS\n");
    }
    gomem_memory_destroy(&m);
}

/* One tag body of n bytes. */
static void tag(unsigned type, uint32_t ts, gomem_reader *body, size_t n)
{
    uint8_t b, kind;
    int32_t cts = 0;
    if (gomem_reader_read_u8(body, &b) || gomem_reader_read_u8(body, &kind))
        return; /* no codec header: nothing to print */
    if (type == 8 && b >> 4 == 10) { /* AAC: kind 0 is the config */
        if (kind && !sps_only)
            printf("1,%lu,%lu,%zu\n", (unsigned long)ts, (unsigned long)ts, n - 2);
    } else if (type == 9 && (b & 15) == 7) { /* AVC */
        if (gomem_reader_read_sbe24(body, &cts))
            return;
        if (kind == 0)
            avc_config(body);
        else if (kind == 1 && !sps_only)
            printf("0,%ld,%lu,%zu\n", (long)ts + cts, (unsigned long)ts, n - 5);
    }
}

/* Parse every whole tag; a tag cut by the end of the data stays for the
 * next chunk. Returns 1 once the file header has been read. */
static int parse(gomem_reader *r, int started)
{
    if (!started) {
        uint8_t sig[3] = {0, 0, 0};
        int err = 0;
        if (gomem_reader_require(r, 9) != 0)
            return 0;
        gomem_reader_get_bytes(r, sig, 3, &err);
        gomem_reader_get_skip(r, 2, &err);
        uint32_t skip = gomem_reader_get_be32(r, &err);
        if (err || memcmp(sig, "FLV", 3) != 0 || skip < 9) {
            fprintf(stderr, "not an FLV file\n");
            exit(1);
        }
        gomem_reader_rewind(r, 0);
        if (gomem_reader_require(r, skip + (size_t)4) != 0)
            return 0;
        gomem_reader_skip(r, skip + 4); /* the header and PreviousTagSize0 */
    }
    for (;;) {
        size_t mark = gomem_reader_offset(r);
        int err = 0;
        unsigned type = gomem_reader_get_u8(r, &err) & 31;
        size_t size = gomem_reader_get_be24(r, &err);
        uint32_t ts = gomem_reader_get_be24(r, &err);
        ts |= (uint32_t)gomem_reader_get_u8(r, &err) << 24;
        gomem_reader_get_skip(r, 3, &err); /* stream id */
        if (err || gomem_reader_require(r, size + 4) != 0) {
            gomem_reader_rewind(r, mark); /* wait for the rest */
            break;
        }
        gomem_memory m;
        gomem_reader body;
        gomem_memory_init(&m);
        gomem_reader_sub(r, size, &m, &body);
        tag(type, ts, &body, size);
        gomem_memory_destroy(&m);
        gomem_reader_skip(r, 4); /* PreviousTagSize */
    }
    gomem_reader_clip_front(r, NULL, NULL); /* the caller owns the chunks */
    return 1;
}

int main(int argc, char **argv)
{
    size_t chunk = 4096;
    int opt;
    while ((opt = getopt(argc, argv, "c:s")) != -1) {
        if (opt == 's')
            sps_only = 1;
        else if (opt != 'c' || (chunk = strtoul(optarg, NULL, 0)) == 0)
            goto usage;
    }
    FILE *f = optind < argc ? fopen(argv[optind], "rb") : NULL;
    if (!f)
        goto usage;
    /* The chunks stay until the end: a real server would give each back
     * once clip_front has passed it. */
    gomem_recyclable rm;
    gomem_scalable *pool = gomem_scalable_new(64 * 1024);
    gomem_recyclable_init(&rm, pool);
    gomem_memory buf;
    gomem_reader r;
    gomem_memory_init(&buf);
    gomem_reader_init(&r, &buf);
    int started = 0;
    for (;;) {
        uint8_t *p = gomem_recyclable_next(&rm, chunk);
        size_t got = p ? fread(p, 1, chunk, f) : 0;
        if (!got)
            break;
        gomem_memory_push(&buf, p, got);
        started = parse(&r, started);
    }
    fclose(f);
    gomem_memory_destroy(&buf);
    gomem_recyclable_destroy(&rm);
    gomem_scalable_destroy(pool);
    return 0;
usage:
    fprintf(stderr, "usage: flvtags [-c CHUNK] [-s] FILE\n");
    return 2;
}
