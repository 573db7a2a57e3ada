/*
 * stats.c - a distribution of times, for `dtproc trace --time` and
 * --hist: count, sum, min and max exact, quantiles (p50, p99) from a
 * log-linear histogram.
 *
 * Why not keep every sample for exact quantiles: a traced malloc makes
 * millions of calls, and a run may last hours; the histogram's memory
 * is bounded (an octave, 32 counters, per power of two actually used:
 * a function whose calls take from 1 us to 1 ms uses 11), and its error
 * is bounded too: a bucket spans 1/32 of its lower bound, its middle is
 * within 1/64 of any value in it.  Values under 32 ns are counted
 * exactly.  The log2 histogram of --hist is the same counters summed per
 * octave, so both views agree.
 */
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* The octave of V >= 32 and its bucket in it. */
static void
cli_dist_where(uint64_t v, int *octp, int *subp)
{
	int top = 63 - __builtin_clzll(v);	/* 2^top <= v */
	int o = top - 5;

	*octp = o;
	*subp = (int)((v >> o) - CLI_DIST_SUB);
}

static void
cli_dist_count(cli_dist_t *d, uint64_t v, uint64_t n)
{
	int o, s;

	if (v < CLI_DIST_SUB) {
		d->cd_low[v] += n;
		return;
	}
	cli_dist_where(v, &o, &s);
	if (d->cd_oct[o] == NULL &&
	    (d->cd_oct[o] = calloc(CLI_DIST_SUB, sizeof (uint64_t))) == NULL) {
		d->cd_lost += n;
		return;
	}
	d->cd_oct[o][s] += n;
}

static uint64_t
cli_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

void
cli_dist_add(cli_dist_t *d, uint64_t v)
{
	if (d->cd_n == 0 || v < d->cd_min)
		d->cd_min = v;
	if (d->cd_n == 0 || v > d->cd_max)
		d->cd_max = v;
	d->cd_n++;
	d->cd_sum = cli_sat_add(d->cd_sum, v);
	cli_dist_count(d, v, 1);
}

void
cli_dist_merge(cli_dist_t *dst, const cli_dist_t *src)
{
	if (src->cd_n == 0)
		return;
	if (dst->cd_n == 0 || src->cd_min < dst->cd_min)
		dst->cd_min = src->cd_min;
	if (dst->cd_n == 0 || src->cd_max > dst->cd_max)
		dst->cd_max = src->cd_max;
	dst->cd_n += src->cd_n;
	dst->cd_sum = cli_sat_add(dst->cd_sum, src->cd_sum);
	dst->cd_lost += src->cd_lost;
	for (int i = 0; i < CLI_DIST_SUB; i++)
		dst->cd_low[i] += src->cd_low[i];
	for (int o = 0; o < CLI_DIST_OCT; o++) {
		if (src->cd_oct[o] == NULL)
			continue;
		for (int s = 0; s < CLI_DIST_SUB; s++)
			if (src->cd_oct[o][s] != 0)
				cli_dist_count(dst, ((uint64_t)CLI_DIST_SUB + s)
				    << o, src->cd_oct[o][s]);
	}
}

uint64_t
cli_dist_quantile(const cli_dist_t *d, double p)
{
	uint64_t n = d->cd_n - d->cd_lost, rank, seen = 0, v = 0;
	double r;

	if (n == 0)
		return d->cd_n > 0 ? d->cd_max : 0;
	r = p * (double)n;
	rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank == 0)
		rank = 1;
	for (int i = 0; i < CLI_DIST_SUB; i++) {
		if ((seen += d->cd_low[i]) >= rank)
			return i < (int)d->cd_min ? d->cd_min : (uint64_t)i;
	}
	for (int o = 0; o < CLI_DIST_OCT; o++) {
		if (d->cd_oct[o] == NULL)
			continue;
		for (int s = 0; s < CLI_DIST_SUB; s++) {
			if ((seen += d->cd_oct[o][s]) < rank)
				continue;
			/* the middle of [lo, lo + 2^o) */
			v = (((uint64_t)CLI_DIST_SUB + s) << o) +
			    ((1ULL << o) >> 1);
			goto found;
		}
	}
	return d->cd_max;
found:
	if (v < d->cd_min)
		v = d->cd_min;
	if (v > d->cd_max)
		v = d->cd_max;
	return v;
}

void
cli_dist_log2(const cli_dist_t *d, uint64_t counts[65])
{
	memset(counts, 0, 65 * sizeof (uint64_t));
	counts[0] = d->cd_low[0];
	for (int i = 1; i < CLI_DIST_SUB; i++)
		counts[64 - __builtin_clzll((uint64_t)i)] += d->cd_low[i];
	for (int o = 0; o < CLI_DIST_OCT; o++) {
		if (d->cd_oct[o] == NULL)
			continue;
		/* [2^(o+5), 2^(o+6)): log2 bucket o + 6 */
		for (int s = 0; s < CLI_DIST_SUB; s++)
			counts[o + 6] += d->cd_oct[o][s];
	}
}

void
cli_dist_free(cli_dist_t *d)
{
	for (int o = 0; o < CLI_DIST_OCT; o++) {
		free(d->cd_oct[o]);
		d->cd_oct[o] = NULL;
	}
}
