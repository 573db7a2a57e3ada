/*
 * main.c - the dtproc command: subcommand dispatch, --help, --version.
 */
#include "cli.h"
#include "dtproc.h"

#include <stdio.h>
#include <string.h>

const char *cli_progname = "dtproc";

static const char usage[] =
"usage: dtproc COMMAND [ARGS]\n"
"\n"
"DTrace's process control for Linux: run or grab a process, follow it\n"
"through threads, fork and exec, and let it go unharmed.\n"
"\n"
"commands:\n"
"  trace   count (and stack) the calls of functions, as DTrace's pid\n"
"          provider does\n"
"  watch   print a process's lifecycle events as they happen\n"
"  ldd     list the objects of a running process (as pldd)\n"
"  sym     resolve symbols and addresses in a running process\n"
"  stack   print every thread's user stack (as pstack, eu-stack)\n"
"\n"
"trace and watch take their target as -c 'CMD ARGS', -p PID, or -- CMD ARGS,\n"
"and report on stderr (or -o FILE); ldd, sym and stack take a PID and\n"
"print on stdout.  Exit status with a command: its own, else 125 (dtproc\n"
"failed), 126 (cannot run it), 127 (not found); without: 0, 1, 2 (usage).\n"
"'dtproc COMMAND --help' describes a command; 'man dtproc' all of them.\n"
"\n"
"options:\n"
"  -h, --help     this text\n"
"  -V, --version  the version\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} cmds[] = {
	{ "trace", cmd_trace },
	{ "watch", cmd_watch },
	{ "ldd", cmd_ldd },
	{ "sym", cmd_sym },
	{ "stack", cmd_stack },
};

int
main(int argc, char **argv)
{
	/* reports go to stderr: a line per write, not a write per piece */
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *sub[] = { argv[2], "--help", NULL };
			for (size_t i = 0; i < sizeof (cmds) / sizeof (*cmds); i++)
				if (strcmp(argv[2], cmds[i].name) == 0)
					return cmds[i].fn(2, sub);
		}
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("dtproc %s\n", dtproc_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof (cmds) / sizeof (*cmds); i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", cli_progname, argv[1]);
	fputs(usage, stderr);
	return 2;
}
