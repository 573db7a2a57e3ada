/*
 * target.c - what every subcommand runs or grabs: -c 'CMD ARGS',
 * -p PID, or the words after --, and where a created one first stops
 * (-s WHEN).  The options are parsed here for trace and watch alike, so
 * that both say the same thing about the same mistake.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
cli_parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

void
cli_target_free(cli_target_t *t)
{
	cli_free_words(t->ct_words);
	t->ct_words = NULL;
}

/* -s WHEN: create, preinit, postinit or main; -1 for anything else. */
static int
cli_parse_when(const char *s)
{
	static const struct { const char *n; int v; } tab[] = {
		{ "create", DTPROC_STOP_CREATE },
		{ "preinit", DTPROC_STOP_PREINIT },
		{ "postinit", DTPROC_STOP_POSTINIT },
		{ "main", DTPROC_STOP_MAIN },
	};

	for (size_t i = 0; i < sizeof (tab) / sizeof (tab[0]); i++)
		if (strcmp(s, tab[i].n) == 0)
			return tab[i].v;
	return -1;
}

int
cli_opt_other(int c, const char *usage)
{
	fputs(usage, c == 'h' ? stdout : stderr);
	return c == 'h' ? 0 : 2;
}

int
cli_usage_err(const char *sub, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s: ", cli_progname, sub);
	fprintf(stderr, what, arg);
	fputc('\n', stderr);
	return 2;
}

int
cli_target_opt(cli_target_t *t, const char *sub, int c, const char *arg)
{
	switch (c) {
	case 'c':
		t->ct_cmd = arg;
		return -2;
	case 'p':
		if (cli_parse_pid(arg, &t->ct_pid) != 0)
			return cli_usage_err(sub, "invalid pid '%s'", arg);
		return -2;
	case 's':
		if ((t->ct_stop = cli_parse_when(arg)) < 0)
			return cli_usage_err(sub, "-s: '%s' is not create, "
			    "preinit, postinit or main", arg);
		return -2;
	default:
		return -1;
	}
}

int
cli_target_done(cli_target_t *t, const char *sub, const char *usage,
    int argc, char **argv)
{
	const char *err;
	int n;

	if (optind < argc)
		t->ct_argv = &argv[optind];
	if ((t->ct_cmd != NULL) + (t->ct_pid != 0) + (t->ct_argv != NULL) !=
	    1) {
		fprintf(stderr, "%s: %s: give exactly one of -c CMD, -p PID "
		    "or -- CMD ARGS\n", cli_progname, sub);
		fputs(usage, stderr);
		return 2;
	}
	if (t->ct_cmd == NULL)
		return -1;
	if ((n = cli_split_words(t->ct_cmd, &t->ct_words, &err)) < 0)
		return cli_usage_err(sub, "-c: %s", err);
	if (n == 0)
		return cli_usage_err(sub, "%s", "-c: empty command");
	t->ct_argv = t->ct_words;
	return -1;
}
