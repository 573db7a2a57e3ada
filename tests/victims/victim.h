/*
 * victim.h - shared bits of the test victims (header only: each victim is
 * a single .c file built on its own).
 *
 * Protocol: a victim prints lines to stdout (line-buffered, so each line
 * reaches the test as soon as it is printed), the first one usually
 * "ready <pid> key=value...", and where it needs the test to act first it
 * blocks reading a "g" line from stdin.  Victims never sleep to
 * synchronize.
 */
#ifndef DTPROC_VICTIM_H
#define DTPROC_VICTIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void
v_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

__attribute__((noreturn)) static inline void
v_die(const char *what)
{
	fprintf(stderr, "victim %d: %s: %s\n", (int)getpid(), what,
	    strerror(errno));
	exit(111);
}

/*
 * Read one line from fd 0, byte by byte so that nothing past the newline
 * is consumed (a child sharing our stdin reads the next line).  Returns
 * the line length, or -1 at EOF/error before any newline.
 */
static inline int
v_getline(char *buf, size_t n)
{
	size_t len = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (len + 1 < n)
			buf[len++] = c;
	}
	buf[len] = '\0';
	return (int)len;
}

/* Block until the test writes a line ("g"); -1 at EOF. */
static inline int
v_wait_go(void)
{
	char buf[64];

	return v_getline(buf, sizeof (buf)) < 0 ? -1 : 0;
}

/*
 * Wait for child C (reaping it) and report it: "child=<pid>", then
 * "child_exit=N", "child_signal=N" or "child_status=0x...".
 */
#ifdef V_CHILDREN
#include <sys/wait.h>

static inline void
v_report_child(pid_t c)
{
	int st;

	printf("child=%d\n", (int)c);
	while (waitpid(c, &st, 0) < 0) {
		if (errno != EINTR)
			v_die("waitpid");
	}
	if (WIFEXITED(st))
		printf("child_exit=%d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("child_signal=%d\n", WTERMSIG(st));
	else
		printf("child_status=0x%x\n", st);
}
#endif

/* Print "blocked=" and the signals blocked in this thread (or "none"). */
#ifdef V_SIGNALS
#include <signal.h>

/* SIG handled by FN with sigaction FLAGS (SA_RESTART, ...). */
static inline void
v_catch(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	if (sigaction(sig, &sa, NULL) != 0)
		v_die("sigaction");
}

/* SIG handled by the siginfo handler FN, FLAGS besides SA_SIGINFO. */
static inline void
v_catch_info(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof (sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	if (sigaction(sig, &sa, NULL) != 0)
		v_die("sigaction");
}

static inline void
v_print_blocked(const char *prefix)
{
	sigset_t cur;
	int any = 0;

	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("%sblocked=", prefix);
	for (int s = 1; s < NSIG; s++) {
		if (sigismember(&cur, s) == 1) {
			printf("%s%d", any ? "," : "", s);
			any = 1;
		}
	}
	printf("%s\n", any ? "" : "none");
}
#endif

/*
 * A start gate for worker threads: each arrives (v_gate_arrive) and waits
 * until the main thread, having seen them all (v_gate_wait), opens it.
 */
#ifdef V_THREADS
#include <pthread.h>

struct v_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started;
	int open;
};
#define V_GATE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, \
	0, 0 }

static inline void
v_gate_arrive(struct v_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->started++;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static inline void
v_gate_wait(struct v_gate *g, int n)
{
	pthread_mutex_lock(&g->mu);
	while (g->started < n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static inline void
v_gate_open(struct v_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->open = 1;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}
#endif

#endif /* DTPROC_VICTIM_H */
