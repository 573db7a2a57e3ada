/*
 * session.c - what trace, watch and stack share: the life of one
 * process under the command, on the public API only.
 *
 * The signals that end a session (SIGINT, SIGTERM, SIGHUP, SIGQUIT; with
 * CLI_SESS_SIGPIPE SIGPIPE too, so a closed output is an EPIPE the
 * command notices) are blocked before dtproc_open(), so every thread the
 * library starts inherits the mask and only the main thread takes them,
 * through a signalfd: none is lost, none interrupts a control thread.
 * The main thread then sleeps in poll() on three fds: the library's
 * notification fd (the process died or was lost), the signalfd, and a
 * pipe that callbacks on the control thread write to (cli_session_poke)
 * when they want the main thread to look.  The end is released the
 * reference's way: what we created is killed, what we grabbed runs on,
 * what job control stopped stays stopped.  How the run ended (the
 * process's exit, a signal, -d, lost control, a failure of ours) becomes
 * the exit status here alone (cli_session_exit), per dtproc(1)'s table.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
cli_session_err(const cli_session_t *s, const char *msg)
{
	if (s->cs_flags & CLI_SESS_NAMED)
		fprintf(stderr, "%s: %s: %s\n", cli_progname, s->cs_sub, msg);
	else
		fprintf(stderr, "%s: %s\n", cli_progname, msg);
}

int
cli_session_open(cli_session_t *s, const char *sub, int flags,
    const cli_target_t *t)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	sigset_t set;
	int err = 0;

	memset(s, 0, sizeof (*s));
	s->cs_sub = sub;
	s->cs_flags = flags;
	s->cs_created = t->ct_pid == 0;
	s->cs_sigfd = s->cs_poke[0] = s->cs_poke[1] = -1;
	if (flags & CLI_SESS_SIGNALS) {
		/* ours alone: the control threads inherit the mask, and a
		 * created program is given an empty one */
		sigemptyset(&set);
		for (size_t i = 0; i < sizeof (sigs) / sizeof (sigs[0]); i++)
			sigaddset(&set, sigs[i]);
		if (flags & CLI_SESS_SIGPIPE) {
			sigaddset(&set, SIGPIPE);
			(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
			sigdelset(&set, SIGPIPE);	/* EPIPE says it */
		} else {
			(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
		}
		if ((s->cs_sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0 ||
		    pipe2(s->cs_poke, O_CLOEXEC | O_NONBLOCK) != 0)
			err = errno;
	}
	if (err == 0 && (s->cs_dtp = dtproc_open(0, &err)) == NULL &&
	    err == 0)
		err = ENOMEM;
	if (err != 0) {
		fprintf(stderr, "%s: %s: cannot set up: %s\n", cli_progname,
		    sub, strerror(err));
		cli_session_close(s);
		return cli_session_fail(s);
	}
	return 0;
}

int
cli_session_fail(const cli_session_t *s)
{
	return s->cs_created ? CLI_EXIT_OWN : CLI_EXIT_FAIL;
}

/*
 * Why a command could not be run, as a shell says it: 127 not found,
 * 126 found but not runnable, 128+N killed by signal N before its exec
 * (past the kernel's point of no return: a bad ELF); else dtproc's 125.
 * The library's code says which (exec's own errno); only the signal's
 * number is read from its sentence.
 */
static int
cli_session_create_status(const cli_session_t *s)
{
	static const int noexec[] = { EACCES, ENOEXEC, ETXTBSY, EISDIR,
	    ELOOP, ENAMETOOLONG, ENOTDIR, EPERM, E2BIG, ECHILD,
	    DTPROC_ENOTELF };
	const char *msg = dtproc_errmsg(s->cs_dtp), *sig;
	int err = dtproc_errno(s->cs_dtp), n;

	if (strncmp(msg, "failed to execute ", 18) != 0 ||
	    strstr(msg, ": cannot ") != NULL)
		return CLI_EXIT_OWN;
	if ((sig = strstr(msg, "died from signal ")) != NULL &&
	    sscanf(sig, "died from signal %d", &n) == 1 && n > 0 && n < 128)
		return 128 + n;
	if (err == ENOENT)
		return CLI_EXIT_NOTFOUND;
	for (size_t i = 0; i < sizeof (noexec) / sizeof (noexec[0]); i++)
		if (err == noexec[i])
			return CLI_EXIT_NOEXEC;
	return CLI_EXIT_OWN;
}

int
cli_session_start(cli_session_t *s, const cli_target_t *t, int flags)
{
	if (t->ct_pid != 0)
		s->cs_proc = dtproc_grab(s->cs_dtp, t->ct_pid, flags);
	else
		s->cs_proc = dtproc_create(s->cs_dtp, t->ct_argv[0],
		    t->ct_argv, t->ct_stop);
	if (s->cs_proc == NULL) {
		cli_session_err(s, dtproc_errmsg(s->cs_dtp));
		return s->cs_created ? cli_session_create_status(s) :
		    CLI_EXIT_FAIL;
	}
	s->cs_pid = dtproc_pid(s->cs_proc);
	if (s->cs_created)
		cli_session_setid(dtproc_exe(s->cs_dtp, s->cs_proc));
	return 0;
}

/* Have we CAP_SYS_PTRACE (bit 19 of CapEff)?  Then set-id applies. */
static bool
cli_may_ptrace_setid(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return geteuid() == 0;
	while (fgets(line, sizeof (line), f) != NULL)
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	(void) fclose(f);
	return (caps >> 19) & 1;
}

/*
 * The kernel runs a set-id program exec'd under ptrace without its
 * privileges unless the tracer could ptrace it anyway (CAP_SYS_PTRACE):
 * the program may behave otherwise (passwd, sudo), so say so.
 */
void
cli_session_setid(const char *path)
{
	struct statvfs vfs;
	struct stat st;

	if (path == NULL || stat(path, &st) != 0)
		return;
	if (!((st.st_mode & S_ISUID) && st.st_uid != geteuid()) &&
	    !((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) &&
	    st.st_gid != getegid()))
		return;
	if ((statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)) ||
	    cli_may_ptrace_setid())
		return;
	fprintf(stderr, "%s: %s is set-id: it runs without its privileges "
	    "while traced\n", cli_progname, path);
}

void
cli_session_poke(cli_session_t *s, int quit)
{
	unsigned char b = (unsigned char)quit;

	/* a full pipe already has the main thread's attention */
	if (write(s->cs_poke[1], &b, 1) < 0) {
		/* the notice wakes it all the same */
	}
}

static double
cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
cli_session_notice(dtproc_t *dtp, dtproc_proc_t *pr, const char *msg,
    void *arg)
{
	cli_session_t *s = arg;

	(void) dtp;
	(void) msg;
	if (pr == s->cs_proc || s->cs_other == NULL)
		s->cs_ended = true;
	else
		s->cs_other(s->cs_other_arg, pr);
}

/* Take the queued notices: did one say the session's process ended? */
static bool
cli_session_notices(cli_session_t *s)
{
	s->cs_ended = false;
	(void) dtproc_handle_notify(s->cs_dtp, cli_session_notice, s);
	return s->cs_ended;
}

int
cli_session_wait(cli_session_t *s, double secs)
{
	double end = secs >= 0 ? cli_now() + secs : 0;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = dtproc_notify_fd(s->cs_dtp), .events = POLLIN },
			{ .fd = s->cs_sigfd, .events = POLLIN },
			{ .fd = s->cs_poke[0], .events = POLLIN },
		};
		struct signalfd_siginfo si;
		unsigned char b;
		int ms = -1;

		if (secs >= 0) {
			double left = end - cli_now();

			if (left <= 0)
				return -1;
			ms = (int)ceil(left * 1000);
		}
		if (poll(p, 3, ms) < 0) {
			if (errno == EINTR)
				continue;
			return SIGTERM;
		}
		if ((p[1].revents & POLLIN) &&
		    read(s->cs_sigfd, &si, sizeof (si)) == sizeof (si))
			return (int)si.ssi_signo;
		while ((p[2].revents & POLLIN) &&
		    read(s->cs_poke[0], &b, 1) == 1)
			if (b != 0)
				return b;
		if ((p[0].revents & POLLIN) && cli_session_notices(s))
			return 0;
	}
}

void
cli_session_release(cli_session_t *s, int quit)
{
	if (s->cs_proc == NULL)
		return;
	s->cs_state = dtproc_state(s->cs_dtp, s->cs_proc);
	s->cs_status = dtproc_status(s->cs_dtp, s->cs_proc);
	if (quit > 0 && quit != SIGPIPE && s->cs_state != DTPROC_PS_DEAD)
		fprintf(stderr, "%s: %s: releasing pid %d\n", cli_progname,
		    strsignal(quit), (int)s->cs_pid);
	dtproc_release(s->cs_dtp, s->cs_proc);
	s->cs_proc = NULL;
}

int
cli_session_status(const cli_session_t *s)
{
	if (!s->cs_created || s->cs_state != DTPROC_PS_DEAD)
		return 0;
	return WIFSIGNALED(s->cs_status) ? 128 + WTERMSIG(s->cs_status) :
	    WEXITSTATUS(s->cs_status);
}

/*
 * The end of a run as the exit status, for every subcommand (dtproc(1)'s
 * table).  Lost control is a failure, never a report that all was well:
 * the process runs on unsupervised.  QUIT is cli_session_wait's answer.
 */
int
cli_session_exit(const cli_session_t *s, int quit, bool outerr)
{
	if (s->cs_state == DTPROC_PS_LOST) {
		fprintf(stderr, "%s: failed to control pid %d: process exec'd "
		    "set-id or unobservable program\n", cli_progname,
		    (int)s->cs_pid);
		return cli_session_fail(s);
	}
	if (outerr)
		return cli_session_fail(s);
	if (!s->cs_created)
		return 0;
	if (quit > 0)
		return 128 + quit;
	if (quit < 0 && s->cs_state != DTPROC_PS_DEAD)
		return CLI_EXIT_TIMEOUT;
	return cli_session_status(s);
}

void
cli_session_close(cli_session_t *s)
{
	if (s->cs_proc != NULL)
		dtproc_release(s->cs_dtp, s->cs_proc);
	s->cs_proc = NULL;
	if (s->cs_dtp != NULL)
		dtproc_close(s->cs_dtp);
	s->cs_dtp = NULL;
	if (s->cs_sigfd >= 0)
		close(s->cs_sigfd);
	for (int i = 0; i < 2; i++)
		if (s->cs_poke[i] >= 0)
			close(s->cs_poke[i]);
	s->cs_sigfd = s->cs_poke[0] = s->cs_poke[1] = -1;
}
