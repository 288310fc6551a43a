/* replay.c - the plain driver of a fuzz target: runs every file of the
 * target's seed corpus (or the files given as arguments) through
 * LLVMFuzzerTestOneInput once. No libFuzzer needed, so make check replays
 * the corpora with any compiler; a broken promise aborts the program. */
#include "fuzz.h"

#include <dirent.h>
#include <string.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME names the target's corpus directory"
#endif

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            uint8_t *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    (void)LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    long files = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++, files++)
            if (replay_file(argv[i]) != 0)
                return 99;
    } else {
        const char *top = getenv("top_srcdir");
        char dir[4096], path[8192];
        snprintf(dir, sizeof dir, "%s/fuzz/corpus/%s", top && *top ? top : ".", FUZZ_NAME);
        DIR *d = opendir(dir);
        if (!d) {
            perror(dir);
            return 99; /* a missing corpus is a hard error, never a pass */
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (replay_file(path) != 0) {
                closedir(d);
                return 99;
            }
            files++;
        }
        closedir(d);
    }
    printf("%s: %ld inputs replayed\n", FUZZ_NAME, files);
    return files > 0 ? 0 : 99;
}
