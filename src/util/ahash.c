/*
 * ahash.c - a chained hash of records by an integer key (ahash.h).  A
 * record's key and chain pointer (its own typed field) are read and
 * written with memcpy: no access through another type.
 */
#include "util/ahash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void *
ahash_link(const ahash_t *t, const void *r)
{
	void *next;

	memcpy(&next, (const char *)r + t->ah_noff, sizeof (next));
	return next;
}

static void
ahash_set_link(const ahash_t *t, void *r, void *next)
{
	memcpy((char *)r + t->ah_noff, &next, sizeof (next));
}

/* R (NULL: a chain's end) in bucket B after LAST (NULL: at its head). */
static void
ahash_put(ahash_t *t, size_t b, void *last, void *r)
{
	if (last == NULL)
		t->ah_tab[b] = r;
	else
		ahash_set_link(t, last, r);
}

static uintptr_t
ahash_key(const ahash_t *t, const void *r)
{
	const char *at = (const char *)r + t->ah_koff;
	uint64_t k;
	uint32_t k32;

	if (t->ah_ksize == sizeof (k32)) {
		memcpy(&k32, at, sizeof (k32));
		return k32;
	}
	memcpy(&k, at, sizeof (k));
	return (uintptr_t)k;
}

/*
 * Multiplicative (Fibonacci) hashing: the product's high half mixes
 * every bit of the key.  The bucket is its low bits, so a doubling sends
 * a record of bucket i to i or i + the old length.
 */
static size_t
ahash_bucket(const ahash_t *t, uintptr_t key)
{
	return (size_t)(((uint64_t)key * 0x9e3779b97f4a7c15ULL) >> 32) &
	    (t->ah_len - 1);
}

/* R or the first record of KEY after it in its chain. */
static void *
ahash_scan(const ahash_t *t, void *r, uintptr_t key)
{
	while (r != NULL && ahash_key(t, r) != key)
		r = ahash_link(t, r);
	return r;
}

void *
ahash_find(const ahash_t *t, uintptr_t key)
{
	return t->ah_len == 0 ? NULL :
	    ahash_scan(t, t->ah_tab[ahash_bucket(t, key)], key);
}

void *
ahash_find_next(const ahash_t *t, const void *r)
{
	return ahash_scan(t, ahash_link(t, r), ahash_key(t, r));
}

/* Twice the buckets (the first: ah_min), each chain split in order. */
static int
ahash_grow(ahash_t *t)
{
	size_t old = t->ah_len, n = old != 0 ? old * 2 : t->ah_min;
	void **h = realloc(t->ah_tab, n * sizeof (*h));

	if (h == NULL)
		return -ENOMEM;
	memset(&h[old], 0, (n - old) * sizeof (*h));
	t->ah_tab = h;
	t->ah_len = n;
	for (size_t i = 0; i < old; i++) {
		void *r = h[i], *next, *last[2] = { NULL, NULL };

		for (h[i] = NULL; r != NULL; r = next) {
			size_t k = ahash_bucket(t, ahash_key(t, r));

			next = ahash_link(t, r);
			ahash_set_link(t, r, NULL);
			ahash_put(t, k, last[k != i], r);
			last[k != i] = r;
		}
	}
	return 0;
}

void *
ahash_new(ahash_t *t, size_t size, uintptr_t key)
{
	uint64_t k = key;
	uint32_t k32 = (uint32_t)key;
	void *r, *last;
	size_t b;

	if ((t->ah_n >= t->ah_len && ahash_grow(t) != 0) ||
	    (r = calloc(1, size)) == NULL)
		return NULL;
	if (t->ah_ksize == sizeof (k32))
		memcpy((char *)r + t->ah_koff, &k32, sizeof (k32));
	else
		memcpy((char *)r + t->ah_koff, &k, sizeof (k));
	b = ahash_bucket(t, key);
	last = t->ah_tab[b];
	while (last != NULL && ahash_link(t, last) != NULL)
		last = ahash_link(t, last);
	ahash_put(t, b, last, r);
	t->ah_n++;
	return r;
}

void
ahash_remove(ahash_t *t, void *r)
{
	size_t k = ahash_bucket(t, ahash_key(t, r));
	void *prev = NULL, *o = t->ah_tab[k];

	for (; o != NULL && o != r; o = ahash_link(t, o))
		prev = o;
	if (o != NULL) {
		ahash_put(t, k, prev, ahash_link(t, r));
		t->ah_n--;
	}
}

void *
ahash_next(const ahash_t *t, const void *r)
{
	size_t i = r != NULL ? ahash_bucket(t, ahash_key(t, r)) + 1 : 0;

	if (r != NULL && ahash_link(t, r) != NULL)
		return ahash_link(t, r);
	while (i < t->ah_len && t->ah_tab[i] == NULL)
		i++;
	return i < t->ah_len ? t->ah_tab[i] : NULL;
}

void
ahash_clear(ahash_t *t, void (*fn)(void *))
{
	for (void *r = ahash_first(t), *next; r != NULL; r = next) {
		next = ahash_next(t, r);
		if (fn != NULL)
			fn(r);
	}
	free(t->ah_tab);
	t->ah_tab = NULL;
	t->ah_len = t->ah_n = 0;
}
