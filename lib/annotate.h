/* annotate.h - what libgomem tells valgrind (helgrind, memcheck) about its
 * locks and pools.
 *
 * The client requests cost instructions on every call, so they are
 * compiled in only when asked for: ./configure --enable-valgrind-annotations
 * (implied by --enable-debug) defines GOMEM__ANNOTATE. Without it every
 * macro below is empty and the release build pays nothing. */
#ifndef GOMEM_ANNOTATE_H
#define GOMEM_ANNOTATE_H

#include "config.h"

#if GOMEM__ANNOTATE
#include <valgrind/helgrind.h>
#include <valgrind/memcheck.h>
/* A compare-and-swap word used as a lock (helgrind cannot see it is one). */
#define GOMEM__HG_CREATE(l) ANNOTATE_RWLOCK_CREATE(l)
#define GOMEM__HG_DESTROY(l) ANNOTATE_RWLOCK_DESTROY(l)
#define GOMEM__HG_ACQUIRED(l) ANNOTATE_RWLOCK_ACQUIRED(l, 1)
#define GOMEM__HG_RELEASED(l) ANNOTATE_RWLOCK_RELEASED(l, 1)
/* Words read without the lock on purpose (a lock word, seqlock counters). */
#define GOMEM__HG_IGNORE(p, n) VALGRIND_HG_DISABLE_CHECKING(p, n)
#define GOMEM__HG_UNIGNORE(p, n) VALGRIND_HG_ENABLE_CHECKING(p, n)
/* A happens-before edge that a lock-free hand-off creates. */
#define GOMEM__HG_SEND(p) ANNOTATE_HAPPENS_BEFORE(p)
#define GOMEM__HG_RECEIVE(p) ANNOTATE_HAPPENS_AFTER(p)
#else
#define GOMEM__HG_CREATE(l) ((void)(l))
#define GOMEM__HG_DESTROY(l) ((void)(l))
#define GOMEM__HG_ACQUIRED(l) ((void)(l))
#define GOMEM__HG_RELEASED(l) ((void)(l))
#define GOMEM__HG_IGNORE(p, n) ((void)(p), (void)(n))
#define GOMEM__HG_UNIGNORE(p, n) ((void)(p), (void)(n))
#define GOMEM__HG_SEND(p) ((void)(p))
#define GOMEM__HG_RECEIVE(p) ((void)(p))
#endif

#endif /* GOMEM_ANNOTATE_H */
