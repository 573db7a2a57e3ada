/*
 * exit_code - print argv, DTPROC_TEST_ENV and the blocked signals, then
 * exit with status atoi(argv[1]) or, for argv[1] = "sigN", raise signal N.
 *
 * Output:
 *	argc=N
 *	argv1=... (one line per argument)
 *	env=VALUE | env=(unset)
 *	blocked=10,12 (signal numbers blocked at start, "none" if none)
 *	exit N | raise N
 */
#define V_SIGNALS
#include "victim.h"

int
main(int argc, char **argv)
{
	const char *env = getenv("DTPROC_TEST_ENV");
	int code = 0;

	v_init();
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv%d=%s\n", i, argv[i]);
	printf("env=%s\n", env != NULL ? env : "(unset)");

	v_print_blocked("");

	if (argc > 1 && strncmp(argv[1], "sig", 3) == 0) {
		int sig = atoi(argv[1] + 3);

		printf("raise %d\n", sig);
		signal(sig, SIG_DFL);
		raise(sig);
		printf("survived %d\n", sig);
		return 100;
	}
	if (argc > 1)
		code = atoi(argv[1]);
	printf("exit %d\n", code);
	return code;
}
