/*
 * signals.c - Ctrl-C and friends while a loop owns a tracee.
 *
 * The owner sits in waitpid(); a signal handler could only set a flag it
 * might not look at until the next event.  So SIGINT, SIGTERM, SIGHUP and
 * SIGQUIT are blocked in every thread and taken by a thread of their own
 * with sigwait(), which records the signal and wakes the owner through
 * pt_wake_post(): that call returns only once the owner has seen it, so
 * an interrupt is never lost between the owner's check and its wait.
 * SIGPIPE is blocked too (a closed output becomes EPIPE, and we release
 * the victim instead of dying with it).  The caller gets the original
 * mask back for the program it creates.
 */
#include "cli.h"
#include "ptrace/pt.h"

#include <pthread.h>
#include <stdatomic.h>

static atomic_int cli_quit;
static pthread_t cli_sigthr;
static pt_wake_t *cli_wake;
static sigset_t cli_set;

static void *
cli_sigloop(void *arg)
{
	(void) arg;
	for (;;) {
		int sig;

		if (sigwait(&cli_set, &sig) != 0)
			continue;
		atomic_store(&cli_quit, sig);
		pt_wake_post(cli_wake);
	}
	return NULL;
}

int
cli_signals_start(pt_wake_t *w, sigset_t *orig)
{
	sigset_t block;

	cli_wake = w;
	sigemptyset(&cli_set);
	sigaddset(&cli_set, SIGINT);
	sigaddset(&cli_set, SIGTERM);
	sigaddset(&cli_set, SIGHUP);
	sigaddset(&cli_set, SIGQUIT);
	block = cli_set;
	sigaddset(&block, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &block, orig) != 0)
		return -1;
	/* never joined: it may sit in pt_wake_post() when we exit */
	if (pthread_create(&cli_sigthr, NULL, cli_sigloop, NULL) != 0)
		return -1;
	return pthread_detach(cli_sigthr);
}

int
cli_signals_quit(void)
{
	return atomic_load(&cli_quit);
}
