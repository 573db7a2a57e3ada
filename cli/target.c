/*
 * target.c - what every subcommand runs or grabs: -c 'CMD ARGS',
 * -p PID, or the words after --.
 */
#include "cli.h"

#include "dtproc.h"

#include <errno.h>
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
int
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
