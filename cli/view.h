/*
 * view.h - the summaries `dtproc trace` draws from what it measured,
 * apart from tracing so that they can be tested alone: a distribution
 * of times (stats.c), DTrace's quantize() layout (hist.c) and an SVG
 * flame graph of stacks (flame.c).  Nothing here calls the library.
 */
#ifndef DTPROC_CLI_VIEW_H
#define DTPROC_CLI_VIEW_H

#include <stdint.h>
#include <stdio.h>

/*
 * A distribution of nanosecond values: count, sum, min and max exact;
 * quantiles from a log-linear histogram, bounded whatever the number of
 * values: values under 32 each in a bucket of their own, above that 32
 * buckets per power of two (an octave's array allocated when first
 * used).  A quantile is the middle of its bucket, clamped to [min, max]:
 * within 1/64 (1.6%) of the exact value.
 */
#define CLI_DIST_SUB	32			/* buckets per octave */
#define CLI_DIST_OCT	59			/* octaves 2^5 .. 2^63 */

typedef struct cli_dist {
	uint64_t cd_n;			/* values added */
	uint64_t cd_sum;		/* their sum (saturates) */
	uint64_t cd_min, cd_max;	/* valid when cd_n > 0 */
	uint64_t cd_low[CLI_DIST_SUB];	/* values 0..31 */
	uint64_t *cd_oct[CLI_DIST_OCT];	/* [o]: [2^(o+5), 2^(o+6)) */
	uint64_t cd_lost;		/* added while out of memory: in
					   n, sum, min, max, no bucket */
} cli_dist_t;

void cli_dist_add(cli_dist_t *d, uint64_t v);
/* Add SRC's values to DST (SRC unchanged). */
void cli_dist_merge(cli_dist_t *dst, const cli_dist_t *src);
/* The P quantile (0 < P <= 1; nearest rank), or 0 when empty. */
uint64_t cli_dist_quantile(const cli_dist_t *d, double p);
/* The counts per power of two: [0] zeros, [i] values in [2^(i-1), 2^i). */
void cli_dist_log2(const cli_dist_t *d, uint64_t counts[65]);
void cli_dist_free(cli_dist_t *d);

/*
 * hist.c: COUNTS (as cli_dist_log2's) as DTrace's quantize() prints
 * them: a value / distribution / count header, one line per power of
 * two from the one before the first used to the one after the last,
 * 40 columns of '@' for all the values.  Nothing when empty.
 */
void cli_hist_print(FILE *f, const uint64_t counts[65]);

/*
 * flame.c: a flame graph in one self-contained SVG file (script and
 * style inline): cli_flame_add each stack, outermost frame first, with
 * its count, then cli_flame_write.  Hovering shows a frame and its share,
 * a click zooms into it, the search box highlights the frames whose names
 * match and says their share.  Frame names are any bytes: XML-escaped,
 * and bytes that are not UTF-8 shown as U+FFFD.
 */
typedef struct cli_flame cli_flame_t;

cli_flame_t *cli_flame_new(void);
/* 0, or -1 out of memory. */
int cli_flame_add(cli_flame_t *fg, const char *const *frames, int n,
    uint64_t count);
/* TITLE heads the graph; COUNTNAME names the unit ("calls"). */
int cli_flame_write(const cli_flame_t *fg, FILE *f, const char *title,
    const char *countname);
void cli_flame_free(cli_flame_t *fg);

/* out.c: the length of the well-formed UTF-8 sequence at P, or 0. */
int cli_utf8_len(const unsigned char *p);

#endif /* DTPROC_CLI_VIEW_H */
