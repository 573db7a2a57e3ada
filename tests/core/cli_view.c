/*
 * cli_view.c - the CLI's summaries alone (cli/stats.c, cli/hist.c,
 * cli/flame.c), fed known values: quantiles within the histogram's
 * stated error, exact counts, sums and bounds, merging, the quantize()
 * layout to the character, and a flame graph whose names are escaped
 * and whose widths are the counts.  (tests/cli/time.sh checks the same
 * pieces end to end, and parses the SVG as XML.)
 */
#include "harness.h"
#include "../../cli/view.h"

#include <math.h>

/* cli/out.c, linked in for cli_utf8_len, names the program */
const char *cli_progname = "cli_view";

/* Q is within 1/64 (the half bucket) of WANT, or equal below 32. */
static void
check_near(uint64_t q, uint64_t want)
{
	double tol = want < 32 ? 0 : (double)want / 64 + 1;

	CHECK_MSG(fabs((double)q - (double)want) <= tol,
	    "quantile %llu, want %llu +- %.0f", (unsigned long long)q,
	    (unsigned long long)want, tol);
}

TEST(view_dist_quantiles)
{
	cli_dist_t d = { 0 };
	uint64_t c[65];

	for (uint64_t v = 1; v <= 100000; v++)
		cli_dist_add(&d, v * 10);
	CHECK_EQ_INT(d.cd_n, 100000);
	CHECK_EQ_INT(d.cd_sum, 10ULL * 100000 * 100001 / 2);
	CHECK_EQ_INT(d.cd_min, 10);
	CHECK_EQ_INT(d.cd_max, 1000000);
	check_near(cli_dist_quantile(&d, 0.5), 500000);
	check_near(cli_dist_quantile(&d, 0.99), 990000);
	CHECK_EQ_INT(cli_dist_quantile(&d, 1.0), 1000000);
	CHECK_EQ_INT(cli_dist_quantile(&d, 0.00001), 10);
	/* log2: 10 in [8,16), ... every value counted once */
	cli_dist_log2(&d, c);
	uint64_t n = 0;
	for (int i = 0; i < 65; i++)
		n += c[i];
	CHECK_EQ_INT(n, 100000);
	CHECK_EQ_INT(c[4], 1);			/* 10 */
	CHECK_EQ_INT(c[5], 2);			/* 20, 30 */
	CHECK_EQ_INT(c[20], 1000000 / 10 - 524288 / 10);  /* [2^19, 2^20) */
	cli_dist_free(&d);
}

TEST(view_dist_small_exact)
{
	cli_dist_t d = { 0 };
	uint64_t c[65];

	for (int i = 0; i < 4; i++)
		cli_dist_add(&d, 0);
	cli_dist_add(&d, 1);
	cli_dist_add(&d, 3);
	cli_dist_add(&d, 31);
	cli_dist_add(&d, 32);
	CHECK_EQ_INT(cli_dist_quantile(&d, 0.5), 0);
	CHECK_EQ_INT(cli_dist_quantile(&d, 5.0 / 8), 1);
	CHECK_EQ_INT(cli_dist_quantile(&d, 6.0 / 8), 3);
	CHECK_EQ_INT(cli_dist_quantile(&d, 7.0 / 8), 31);
	CHECK_EQ_INT(cli_dist_quantile(&d, 1), 32);
	cli_dist_log2(&d, c);
	CHECK_EQ_INT(c[0], 4);
	CHECK_EQ_INT(c[1], 1);
	CHECK_EQ_INT(c[2], 1);
	CHECK_EQ_INT(c[5], 1);		/* 31 in [16, 32) */
	CHECK_EQ_INT(c[6], 1);		/* 32 in [32, 64) */
	cli_dist_free(&d);
}

/* One value: every quantile is it, even in a wide bucket. */
TEST(view_dist_one_and_huge)
{
	cli_dist_t d = { 0 }, e = { 0 };

	cli_dist_add(&d, 20123);
	CHECK_EQ_INT(cli_dist_quantile(&d, 0.5), 20123);
	CHECK_EQ_INT(cli_dist_quantile(&d, 0.99), 20123);
	cli_dist_add(&e, UINT64_MAX);
	cli_dist_add(&e, UINT64_MAX);
	CHECK_EQ_INT(e.cd_sum, UINT64_MAX);	/* saturated */
	CHECK(cli_dist_quantile(&e, 0.5) == UINT64_MAX);
	CHECK_EQ_INT(cli_dist_quantile(&(cli_dist_t){ 0 }, 0.5), 0);
	cli_dist_free(&d);
	cli_dist_free(&e);
}

TEST(view_dist_merge)
{
	cli_dist_t a = { 0 }, b = { 0 }, all = { 0 };

	for (uint64_t v = 0; v < 5000; v++) {
		uint64_t x = v * v % 77777 + (v & 1 ? 3 : 400000);

		cli_dist_add(v < 1000 ? &a : &b, x);
		cli_dist_add(&all, x);
	}
	cli_dist_merge(&a, &b);
	CHECK_EQ_INT(a.cd_n, all.cd_n);
	CHECK_EQ_INT(a.cd_sum, all.cd_sum);
	CHECK_EQ_INT(a.cd_min, all.cd_min);
	CHECK_EQ_INT(a.cd_max, all.cd_max);
	for (double p = 0.01; p < 1; p += 0.07)
		CHECK_EQ_INT(cli_dist_quantile(&a, p), cli_dist_quantile(&all, p));
	cli_dist_free(&a);
	cli_dist_free(&b);
	cli_dist_free(&all);
}

/* The text of F so far (a memstream). */
static char *
text_of(FILE *f, char **buf)
{
	CHECK(fflush(f) == 0);
	return *buf;
}

TEST(view_hist_layout)
{
	uint64_t c[65] = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char want[] =
	    "           value  ------------- Distribution ------------- count\n"
	    "            4096 |                                         0\n"
	    "            8192 |@@@@@@@@@@                               25\n"
	    "           16384 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@           75\n"
	    "           32768 |                                         0\n";

	CHECK(f != NULL);
	cli_hist_print(f, c);		/* empty: nothing */
	CHECK_STR_EQ(text_of(f, &buf), "");
	c[14] = 25;			/* [8192, 16384) */
	c[15] = 75;
	cli_hist_print(f, c);
	CHECK_STR_EQ(text_of(f, &buf), want);
	fclose(f);
	free(buf);
}

/* Zero values: the first line is 0, none before it. */
TEST(view_hist_zero)
{
	uint64_t c[65] = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	c[0] = 1;
	cli_hist_print(f, c);
	CHECK_STR_EQ(text_of(f, &buf),
	    "           value  ------------- Distribution ------------- count\n"
	    "               0 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1\n"
	    "               1 |                                         0\n");
	fclose(f);
	free(buf);
}

TEST(view_flame_escaped_counted)
{
	cli_flame_t *fg = cli_flame_new();
	const char *s1[] = { "main", "a<b>&\"c'", "leaf" };
	const char *s2[] = { "main", "a<b>&\"c'" };
	const char *s3[] = { "main", "bad\xff\x01name" };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(fg != NULL && f != NULL);
	CHECK(cli_flame_add(fg, s1, 3, 5) == 0);
	CHECK(cli_flame_add(fg, s2, 2, 2) == 0);
	CHECK(cli_flame_add(fg, s1, 3, 1) == 0);
	CHECK(cli_flame_add(fg, s3, 2, 4) == 0);
	CHECK(cli_flame_write(fg, f, "t<itle", "calls") == 0);
	fclose(f);
	CHECK_CONTAINS(buf, "<?xml version=\"1.0\"");
	CHECK_CONTAINS(buf, "t&lt;itle");
	/* all = 12; main 12; a<b>.. 8 at offset 0; leaf 6; bad.. 4 at 8 */
	CHECK_CONTAINS(buf, "data-x=\"0\" data-w=\"12\" data-d=\"0\" data-n=\"all\"");
	CHECK_CONTAINS(buf, "data-x=\"0\" data-w=\"12\" data-d=\"1\" data-n=\"main\"");
	CHECK_CONTAINS(buf, "data-x=\"0\" data-w=\"8\" data-d=\"2\" "
	    "data-n=\"a&lt;b&gt;&amp;&quot;c&apos;\"");
	CHECK_CONTAINS(buf, "data-x=\"0\" data-w=\"6\" data-d=\"3\" data-n=\"leaf\"");
	CHECK_CONTAINS(buf, "data-x=\"8\" data-w=\"4\" data-d=\"2\" "
	    "data-n=\"bad&#xfffd;&#xfffd;name\"");
	CHECK_CONTAINS(buf, "<title>leaf (6 calls, 50.00%)</title>");
	CHECK(strstr(buf, "\xff") == NULL && strstr(buf, "a<b") == NULL);
	/* the script is inline: nothing fetched */
	CHECK_CONTAINS(buf, "<script type=\"text/ecmascript\"><![CDATA[");
	CHECK(strstr(buf, "href") == NULL && strstr(buf, "src=") == NULL);
	cli_flame_free(fg);
	free(buf);
}
