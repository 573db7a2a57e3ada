/*
 * blocked read | blocked sleep [MS] - a victim blocked in a system call.
 *
 * Both modes count SIGCONTs in a handler installed without SA_RESTART,
 * so a tracer that stops/continues the process with signals, instead of
 * ptrace stops, shows up as an EINTR.
 *
 * read [trapmask]:
 *		ready <pid> magic=<addr> data=<addr>
 *		blocks in read(0) (with trapmask, SIGTRAP blocked first);
 *		after the go line:
 *		read ok | read EINTR	(EINTR seen while waiting) |
 *		read error <errno>	(it failed otherwise)
 *		sigcont=<n>
 *		data=<contents of the data[] global>
 *		sigtrap=blocked | sigtrap=unblocked	(trapmask only)
 * sleep:	ready <pid> ms=<MS>
 *		nanosleep(MS, default 300) once, timed with CLOCK_MONOTONIC:
 *		slept_ms=<elapsed> eintr=<0|1>
 *		sigcont=<n>
 * Exits 0.
 */
#include "victim.h"

#include <signal.h>
#include <stdbool.h>
#include <time.h>

const char magic[] = "dtproc-magic-0123456789";
char data[64] = "original";

static volatile sig_atomic_t nsigcont;

static void
on_cont(int sig)
{
	(void)sig;
	nsigcont++;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "read";
	struct sigaction sa;

	v_init();
	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_cont;	/* no SA_RESTART */
	sigaction(SIGCONT, &sa, NULL);

	if (strcmp(mode, "read") == 0) {
		bool trapmask = argc > 2 && strcmp(argv[2], "trapmask") == 0;
		sigset_t set;
		int eintr = 0, err = 0;

		sigemptyset(&set);
		sigaddset(&set, SIGTRAP);
		if (trapmask && sigprocmask(SIG_BLOCK, &set, NULL) != 0)
			v_die("sigprocmask");
		printf("ready %d magic=%p data=%p\n", (int)getpid(),
		    (void *)magic, (void *)data);
		for (;;) {
			char c;
			ssize_t r = read(0, &c, 1);

			if (r < 0 && errno == EINTR) {
				eintr = 1;
				continue;
			}
			if (r < 0)
				err = errno;	/* a restart code leaked? */
			if (r <= 0 || c == '\n')
				break;
		}
		if (err != 0)
			printf("read error %d\n", err);
		else
			printf("read %s\n", eintr ? "EINTR" : "ok");
		printf("sigcont=%d\n", (int)nsigcont);
		printf("data=%s\n", data);
		if (trapmask) {
			if (sigprocmask(SIG_BLOCK, NULL, &set) != 0)
				v_die("sigprocmask");
			printf("sigtrap=%s\n", sigismember(&set, SIGTRAP) ?
			    "blocked" : "unblocked");
		}
		return 0;
	}
	if (strcmp(mode, "sleep") == 0) {
		long ms = argc > 2 ? atol(argv[2]) : 300;
		struct timespec t0, req = { ms / 1000, (ms % 1000) * 1000000L };
		int eintr = 0;

		printf("ready %d ms=%ld\n", (int)getpid(), ms);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (nanosleep(&req, NULL) != 0 && errno == EINTR)
			eintr = 1;
		printf("slept_ms=%ld eintr=%d\n", ms_since(&t0), eintr);
		printf("sigcont=%d\n", (int)nsigcont);
		return 0;
	}
	fprintf(stderr, "blocked: unknown mode %s\n", mode);
	return 2;
}
