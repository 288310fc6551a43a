/* bench_pool.c - placeholder */
#include "bench.h"
void bench_pool(void) {}
