/* backing.c - the backing this build's arenas use. GOMEM__BACKING names it;
 * mk/pool.am sets it from the configure options. */
#include "backing.h"

const struct gomem__backing *gomem__backing_default(void)
{
    return &GOMEM__BACKING;
}
