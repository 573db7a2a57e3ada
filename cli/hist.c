/*
 * hist.c - a log2 histogram in the layout of DTrace's quantize(): a
 * header of value, distribution and count; a line per power of two,
 * labelled by its lower bound (0, 1, 2, 4, ...), from the bucket before
 * the first that holds anything to the one after the last (so the range
 * is visibly closed); 40 columns of '@' stand for all the values, each
 * line's share rounded to the nearest column.
 */
#include "view.h"

#include <string.h>

/* The lower bound of log2 bucket I: 0, 1, 2, 4, ... */
static uint64_t
cli_hist_value(int i)
{
	return i == 0 ? 0 : 1ULL << (i - 1);
}

void
cli_hist_print(FILE *f, const uint64_t counts[65])
{
	int first = -1, last = -1;
	uint64_t total = 0;

	for (int i = 0; i < 65; i++) {
		if (counts[i] == 0)
			continue;
		if (first < 0)
			first = i;
		last = i;
		total += counts[i];
	}
	if (total == 0)
		return;
	if (first > 0)
		first--;
	if (last < 64)
		last++;
	fprintf(f, "%16s  %s %s\n", "value",
	    "------------- Distribution -------------", "count");
	for (int i = first; i <= last; i++) {
		char bar[41];
		int at = (int)((counts[i] * 40 + total / 2) / total);

		memset(bar, ' ', 40);
		memset(bar, '@', (size_t)at);
		bar[40] = '\0';
		fprintf(f, "%16llu |%s %llu\n",
		    (unsigned long long)cli_hist_value(i), bar,
		    (unsigned long long)counts[i]);
	}
}
