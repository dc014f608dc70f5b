/*
 * Deterministic driver for the fuzz targets when they are not built with
 * libFuzzer: runs each seed file given on the command line, then a fixed
 * number of pseudo-random inputs and byte-level mutations of the seeds, so
 * the same inputs run on every `make test`.  Prints the ctest-readable
 * summary "N passed, 0 failed"; a property violation aborts.
 *
 * usage: fuzz_xxx [--iterations=N] [SEED_FILE...]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096
#define MAX_SEEDS 64

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    long iterations = 200000;
    static uint8_t seeds[MAX_SEEDS][MAX_INPUT];
    size_t seed_len[MAX_SEEDS];
    size_t n_seeds = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--iterations=", 13) == 0) {
            iterations = strtol(argv[i] + 13, NULL, 10);
            continue;
        }
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "fuzz driver: could not open seed \"%s\"\n", argv[i]);
            return 2;
        }
        if (n_seeds < MAX_SEEDS) {
            seed_len[n_seeds] = fread(seeds[n_seeds], 1, MAX_INPUT, f);
            LLVMFuzzerTestOneInput(seeds[n_seeds], seed_len[n_seeds]);
            n_seeds++;
        }
        fclose(f);
    }
    static uint8_t buf[MAX_INPUT];
    for (long it = 0; it < iterations; it++) {
        size_t len;
        if (n_seeds > 0 && it % 2 == 0) {
            /* Mutate a seed: flip, overwrite, truncate or splice bytes. */
            size_t s = next() % n_seeds;
            len = seed_len[s];
            memcpy(buf, seeds[s], len);
            int edits = 1 + (int)(next() % 4);
            for (int e = 0; e < edits && len > 0; e++) {
                size_t pos = next() % len;
                switch (next() % 4) {
                case 0:
                    buf[pos] ^= (uint8_t)(1u << (next() % 8));
                    break;
                case 1:
                    buf[pos] = (uint8_t)next();
                    break;
                case 2:
                    len = pos + 1;
                    break;
                default:
                    if (len < MAX_INPUT)
                        buf[len++] = (uint8_t)next();
                    break;
                }
            }
        } else {
            len = next() % 64;
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)next();
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%ld passed, 0 failed\n", iterations + (long)n_seeds);
    return 0;
}
