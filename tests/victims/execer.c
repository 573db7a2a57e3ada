/*
 * execer self N | thread | fail | other | final - exec in various ways.
 *
 * self N:	ready <pid>; (go line); then each image prints
 *		image n=<N> pid=<pid> and execs itself with N-1
 *		(marked "--child": no ready line, no go) until N is 0,
 *		which prints "done" and exits 0.  N execs in all.
 * thread:	ready <pid>; (go line); two threads block forever on a
 *		pipe, a third prints exec_tid=<its tid> and execs us as
 *		"final" while the main thread waits in pthread_join.
 * final:	final pid=<pid>; exits 0.
 * fail:	ready <pid>; (go line); execve of a missing file fails:
 *		exec failed ENOENT (or exec failed errno=N); exits 3.
 * other:	ready <pid>; (go line); execs /bin/true (exits 0).
 */
#include "victim.h"

#include <pthread.h>

static int blockfd[2];

static void *
blocker(void *arg)
{
	char c;

	(void)arg;
	while (read(blockfd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static void *
exec_thread(void *arg)
{
	(void)arg;
	printf("exec_tid=%d\n", (int)gettid());
	execl("/proc/self/exe", "execer", "final", (char *)NULL);
	v_die("execl");
	return NULL;
}

static void
ready(void)
{
	printf("ready %d\n", (int)getpid());
	if (v_wait_go() < 0)
		exit(98);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "self";

	v_init();
	if (strcmp(mode, "self") == 0) {
		int n = argc > 2 ? atoi(argv[2]) : 1;
		char next[16];

		if (argc <= 3 || strcmp(argv[3], "--child") != 0)
			ready();
		printf("image n=%d pid=%d\n", n, (int)getpid());
		if (n <= 0) {
			printf("done\n");
			return 0;
		}
		snprintf(next, sizeof (next), "%d", n - 1);
		execl("/proc/self/exe", "execer", "self", next, "--child",
		    (char *)NULL);
		v_die("execl");
	}
	if (strcmp(mode, "final") == 0) {
		printf("final pid=%d\n", (int)getpid());
		return 0;
	}
	if (strcmp(mode, "thread") == 0) {
		pthread_t b1, b2, t;

		if (pipe(blockfd) != 0)
			v_die("pipe");
		ready();
		if (pthread_create(&b1, NULL, blocker, NULL) != 0 ||
		    pthread_create(&b2, NULL, blocker, NULL) != 0 ||
		    pthread_create(&t, NULL, exec_thread, NULL) != 0)
			v_die("pthread_create");
		pthread_join(t, NULL);
		return 111;
	}
	if (strcmp(mode, "fail") == 0) {
		ready();
		execl("/nonexistent/dtproc-no-such-file", "x", (char *)NULL);
		if (errno == ENOENT)
			printf("exec failed ENOENT\n");
		else
			printf("exec failed errno=%d\n", errno);
		return 3;
	}
	if (strcmp(mode, "other") == 0) {
		ready();
		execl("/bin/true", "true", (char *)NULL);
		v_die("execl /bin/true");
	}
	fprintf(stderr, "execer: unknown mode %s\n", mode);
	return 2;
}
