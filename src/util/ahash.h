/*
 * ahash.h - a chained hash of records by an integer key (an address, a
 * thread id), below every layer.
 *
 * Intrusive: a record keeps its own key and chain pointer, and the
 * table knows their offsets (AHASH_INIT).  The table makes records
 * (ahash_new), the caller frees them once taken out.  The buckets
 * double when the records reach their number (a lookup stays O(1) with
 * thousands of probes), and never shrink.  A record is appended to its
 * chain and a doubling splits each chain in order, so records of one
 * key are met in the order they were added.  A walk (ahash_first,
 * ahash_next) may free the record it stands on once it has its
 * successor, and add nothing.  No locking: the caller's.
 */
#ifndef DTPROC_AHASH_H
#define DTPROC_AHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct ahash {
	void **ah_tab;		/* buckets: chains of records */
	size_t ah_len;		/* buckets, a power of two; 0: none yet */
	size_t ah_n;		/* records */
	size_t ah_min;		/* buckets of the first table */
	size_t ah_koff;		/* the key: its offset in a record, */
	size_t ah_ksize;	/* its size: 4 or 8 (compared unsigned) */
	size_t ah_noff;		/* the chain pointer's offset */
} ahash_t;

/*
 * T keeps records of TYPE by its field KEY, chained by its field NEXT;
 * MIN, the first table's buckets, is a power of two.
 */
#define	AHASH_INIT(t, type, key, next, min)				\
	(*(t) = (ahash_t){ .ah_min = (min), .ah_koff = offsetof(type, key), \
	    .ah_ksize = sizeof (((type *)0)->key),			\
	    .ah_noff = offsetof(type, next) })

/* The first record of KEY, or NULL; the next one of R's key, or NULL. */
void *ahash_find(const ahash_t *t, uintptr_t key);
void *ahash_find_next(const ahash_t *t, const void *r);
/* A zeroed record of SIZE bytes, its key KEY, added (at its chain's
 * end); NULL: no memory. */
void *ahash_new(ahash_t *t, size_t size, uintptr_t key);
/* Take R out (it is in T). */
void ahash_remove(ahash_t *t, void *r);
/* Every record, a chain after another: R's successor (NULL: the first). */
void *ahash_next(const ahash_t *t, const void *r);
#define	ahash_first(t)	ahash_next((t), NULL)
/* FN (NULL: none) called with each record, the buckets freed. */
void ahash_clear(ahash_t *t, void (*fn)(void *));

#endif /* DTPROC_AHASH_H */
