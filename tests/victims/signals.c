/*
 * signals usr1 | sigwait | raise N
 *
 * usr1:	SIGUSR1 handler (SA_RESTART) counting hits.
 *		ready <pid>
 *		each "g" line: count=<hits>; a "q" line: count=<hits>, exit 0;
 *		EOF: exit 0.
 * sigwait:	SIGUSR1 blocked; ready <pid>; sigwait(); got <signo>; exit 0.
 * raise N:	handler as usr1, raise(SIGUSR1) N times, count=<hits>, exit 0.
 */
#define V_SIGNALS
#include "victim.h"

#include <signal.h>

static volatile sig_atomic_t hits;

static void
on_usr1(int sig)
{
	(void)sig;
	hits++;
}

static void
install(void)
{
	v_catch(SIGUSR1, on_usr1, SA_RESTART);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "usr1";

	v_init();
	if (strcmp(mode, "usr1") == 0) {
		char line[64];

		install();
		printf("ready %d\n", (int)getpid());
		while (v_getline(line, sizeof (line)) >= 0) {
			printf("count=%d\n", (int)hits);
			if (line[0] == 'q')
				break;
		}
		return 0;
	}
	if (strcmp(mode, "sigwait") == 0) {
		sigset_t set;
		int sig = 0;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("ready %d\n", (int)getpid());
		if ((errno = sigwait(&set, &sig)) != 0)
			v_die("sigwait");
		printf("got %d\n", sig);
		return 0;
	}
	if (strcmp(mode, "raise") == 0) {
		int n = argc > 2 ? atoi(argv[2]) : 1;

		install();
		for (int i = 0; i < n; i++)
			raise(SIGUSR1);
		printf("count=%d\n", (int)hits);
		return 0;
	}
	fprintf(stderr, "signals: unknown mode %s\n", mode);
	return 2;
}
