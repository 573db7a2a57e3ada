/*
 * target.c - what every subcommand runs or grabs: -c 'CMD ARGS',
 * -p PID, or the words after --, and where a created one first stops
 * (-s WHEN), and where the report goes (-o FILE).  The options are
 * parsed here for trace and watch alike, so that both say the same thing
 * about the same mistake, and exit with the same status for it: 2, or
 * 125 when a command was given (its own status is not to be mistaken).
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
	free(t->ct_pids);
	t->ct_pids = NULL;
	t->ct_npids = 0;
}

/*
 * -p ARG: one pid, or with ct_multi a comma list, each added once (a pid
 * named twice is one process: grabbing it twice gives one handle).
 */
static int
cli_target_pids(cli_target_t *t, const char *sub, const char *arg)
{
	char one[32];

	if (!t->ct_multi && t->ct_npids > 0)
		return cli_target_usage(t, sub, "only one -p (one process at a "
		    "time): '%s'", arg);
	for (const char *p = arg;; p++) {
		size_t n = t->ct_multi ? strcspn(p, ",") : strlen(p);
		pid_t pid;
		pid_t *v;
		int i;

		if (n >= sizeof (one))
			n = sizeof (one) - 1;
		memcpy(one, p, n);
		one[n] = '\0';
		if (cli_parse_pid(one, &pid) != 0)
			return cli_target_usage(t, sub, "invalid pid '%s'",
			    n > 0 ? one : arg);
		for (i = 0; i < t->ct_npids && t->ct_pids[i] != pid; i++)
			;
		if (i == t->ct_npids) {
			if ((v = realloc(t->ct_pids, (t->ct_npids + 1) *
			    sizeof (*v))) == NULL)
				return cli_target_usage(t, sub, "%s",
				    "out of memory");
			t->ct_pids = v;
			v[t->ct_npids++] = pid;
		}
		t->ct_pid = t->ct_pids[0];
		if ((p = strchr(p, ',')) == NULL || !t->ct_multi)
			return -2;
	}
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
	return c == 'h' ? 0 : CLI_EXIT_USAGE;
}

int
cli_usage_err(const char *sub, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s: ", cli_progname, sub);
	fprintf(stderr, what, arg);
	fputc('\n', stderr);
	return CLI_EXIT_USAGE;
}

int
cli_target_status(const cli_target_t *t, int class)
{
	return t->ct_cmd != NULL || t->ct_argv != NULL ? CLI_EXIT_OWN : class;
}

/*
 * A usage error is recorded, not returned: whether it is 2 or 125
 * depends on a command being given, which only the end of the options
 * tells.  The first one is reported; getopt is silenced for the rest.
 */
int
cli_target_usage(cli_target_t *t, const char *sub, const char *what,
    const char *arg)
{
	if (t->ct_err == 0) {
		t->ct_err = cli_usage_err(sub, what, arg);
		opterr = 0;
	}
	return -2;
}

int
cli_target_opt(cli_target_t *t, const char *sub, const char *usage, int c,
    const char *arg)
{
	switch (c) {
	case 'c':
		t->ct_cmd = arg;
		return -2;
	case 'p':
		return cli_target_pids(t, sub, arg);
	case 's':
		t->ct_stop_set = true;
		if ((t->ct_stop = cli_parse_when(arg)) < 0)
			return cli_target_usage(t, sub, "-s: '%s' is not create, "
			    "preinit, postinit or main", arg);
		return -2;
	case 'o':
		t->ct_out = arg;
		return -2;
	case 'h':
		fputs(usage, stdout);
		return 0;
	case '?':
	case ':':
		/* getopt said which */
		if (t->ct_err == 0) {
			fputs(usage, stderr);
			t->ct_err = CLI_EXIT_USAGE;
			opterr = 0;
		}
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
	if (t->ct_err == 0 && (t->ct_cmd != NULL) + (t->ct_pid != 0) +
	    (t->ct_argv != NULL) != 1) {
		fprintf(stderr, "%s: %s: give exactly one of -c CMD, -p PID "
		    "or -- CMD ARGS\n", cli_progname, sub);
		fputs(usage, stderr);
		t->ct_err = CLI_EXIT_USAGE;
	}
	if (t->ct_pid != 0 && t->ct_stop_set)
		(void) cli_target_usage(t, sub, "%s", "-s applies to a command "
		    "dtproc runs, not to -p");
	if (t->ct_err == 0 && t->ct_cmd != NULL) {
		if ((n = cli_split_words(t->ct_cmd, &t->ct_words, &err)) < 0)
			(void) cli_target_usage(t, sub, "-c: %s", err);
		else if (n == 0)
			(void) cli_target_usage(t, sub, "%s",
			    "-c: empty command");
		else
			t->ct_argv = t->ct_words;
	}
	return t->ct_err != 0 ? cli_target_status(t, t->ct_err) : -1;
}
