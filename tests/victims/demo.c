/*
 * demo - the example program for `make demo`: a little of everything the
 * process-control layer follows, run standalone with no input.
 *
 * It starts two threads, forks a child that execs /bin/true, sends
 * itself a SIGUSR1 that a handler catches, reaps the child and joins the
 * threads, and exits 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void *
worker(void *arg)
{
	long n = (long)arg, s = 0;

	for (long i = 0; i < 100000 * n; i++)
		s += i % 7;
	return (void *)s;
}

int
main(void)
{
	struct sigaction sa;
	pthread_t t[2];
	pid_t pid;
	int st;

	memset(&sa, 0, sizeof (sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	for (long i = 0; i < 2; i++) {
		if ((errno = pthread_create(&t[i], NULL, worker,
		    (void *)(i + 1))) != 0) {
			perror("demo: pthread_create");
			return 1;
		}
	}

	pid = fork();
	if (pid < 0) {
		perror("demo: fork");
		return 1;
	}
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}

	raise(SIGUSR1);

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("demo: waitpid");
			return 1;
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	printf("demo: threads joined, child exited %d, SIGUSR1 %s\n",
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	    got_usr1 ? "handled" : "missed");
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0 && got_usr1) ? 0 : 1;
}
