/*
 * create.c - run a program under control, stopped at its exec.
 *
 * The child is seized before it execs, so the exec is its first traced
 * stop (the reference's CREATE rendezvous) and no instruction of the new
 * image has run.  It waits on a pipe for the seize; an exec failure comes
 * back as an errno on a close-on-exec pipe and is reported in the caller
 * as "failed to execute FILE: REASON", with the child reaped: never a
 * child that silently vanishes.  The path is resolved here, not by
 * execvp(), which would run a file without a #! line through /bin/sh.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* FILE as execvp would find it; -errno of the best failure otherwise. */
static int
pt_resolve(const char *file, char *out, size_t len)
{
	const char *path, *p;
	int err = ENOENT;

	if (*file == '\0')
		return -ENOENT;
	if (strchr(file, '/') != NULL) {
		if (strlen(file) >= len)
			return -ENAMETOOLONG;
		strcpy(out, file);
		return 0;
	}
	if ((path = getenv("PATH")) == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = strchr(p, ':') + 1) {
		size_t dl = strcspn(p, ":");
		struct stat st;

		if ((int)snprintf(out, len, "%.*s%s%s", (int)dl, p,
		    dl ? "/" : "", file) < (int)len &&
		    stat(out, &st) == 0) {
			if (S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
			err = EACCES;
		}
		if (p[dl] == '\0')
			break;
	}
	return -err;
}

static void
pt_child_exec(const char *path, char *const argv[], char *const envp[],
    const sigset_t *mask, int gofd, int errfd)
{
	char c;
	int err;

	(void) sigprocmask(SIG_SETMASK, mask, NULL);
	while (read(gofd, &c, 1) < 0 && errno == EINTR)
		;
	execve(path, argv, envp);
	err = errno;
	(void) write(errfd, &err, sizeof (err));
	_exit(127);
}

int
pt_create(const char *file, char *const argv[], char *const envp[],
    const sigset_t *sigmask, pt_proc_t **pp, pt_err_t *e)
{
	char path[PATH_MAX];
	char *const defargv[] = { (char *)file, NULL };
	int go[2], ep[2], status, err = 0, rv;
	sigset_t empty;
	pt_proc_t *P;
	pid_t pid;
	ssize_t n;

	*pp = NULL;
	if ((rv = pt_resolve(file, path, sizeof (path))) != 0)
		return pt_errset(e, -rv, "failed to execute %s: %s", file,
		    strerror(-rv));
	if (argv == NULL || argv[0] == NULL)
		argv = defargv;
	if (envp == NULL)
		envp = environ;
	if (sigmask == NULL) {
		sigemptyset(&empty);
		sigmask = &empty;
	}
	if (pipe2(go, O_CLOEXEC) != 0)
		return pt_errset(e, errno, "failed to execute %s: %s", file,
		    strerror(errno));
	if (pipe2(ep, O_CLOEXEC) != 0) {
		err = errno;
		close(go[0]);
		close(go[1]);
		return pt_errset(e, err, "failed to execute %s: %s", file,
		    strerror(err));
	}
	if ((pid = fork()) == 0)
		pt_child_exec(path, argv, envp, sigmask, go[0], ep[1]);
	err = errno;
	close(go[0]);
	close(ep[1]);
	if (pid < 0) {
		close(go[1]);
		close(ep[0]);
		return pt_errset(e, err, "failed to execute %s: %s", file,
		    strerror(err));
	}
	/*
	 * Until the exec, only the exec matters: a thread the child might
	 * start meanwhile (a sanitizer's, after fork) must not be traced, or
	 * the exec would wait on its exit stop.  The rest comes at the exec.
	 */
	if (ptrace(PTRACE_SEIZE, pid, 0,
	    (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)) != 0) {
		err = errno;
		kill(pid, SIGKILL);
		close(go[1]);
		close(ep[0]);
		(void) waitpid(pid, &status, 0);
		return pt_errset(e, err, "failed to execute %s: cannot trace "
		    "child %d: %s", file, (int)pid, strerror(err));
	}
	(void) write(go[1], "g", 1);
	close(go[1]);

	/*
	 * Wait for the exec stop.  A signal that reaches the child first
	 * (Ctrl-C, SIGWINCH...) is passed on, as it would be untraced; only
	 * its exit ends the wait, and then the pipe says why.
	 */
	if ((P = pt_proc_alloc(pid)) == NULL ||
	    pt_thr_add(P, pid, 0) == NULL) {
		pt_proc_free(P);
		close(ep[0]);
		kill(pid, SIGKILL);
		(void) waitpid(pid, &status, __WALL);
		return pt_errset(e, ENOMEM, "failed to execute %s: %s", file,
		    strerror(ENOMEM));
	}
	pt_owner_add(P);
	for (unsigned how = PT_RUN_COLLECT | PT_RUN_PASS | PT_RUN_EVENTS;;
	    how &= ~PT_RUN_COLLECT) {
		pt_ran_t ran;

		if (pt_run(P, pid, how, &ran) != 0 ||
		    ran.pr_kind == PT_RAN_GONE) {
			status = ran.pr_status;
			break;
		}
		status = ran.pr_status;
		if ((status >> 16) == PTRACE_EVENT_EXEC)
			break;
	}
	if (!WIFSTOPPED(status) || P->pp_state == PT_DEAD) {
		pt_proc_free(P);
		n = read(ep[0], &err, sizeof (err));
		close(ep[0]);
		if (n == sizeof (err))
			return pt_errset(e, err, "failed to execute %s: %s",
			    file, strerror(err));
		if (WIFSIGNALED(status))
			return pt_errset(e, EINTR, "failed to execute %s: "
			    "process died from signal %d before its exec",
			    file, WTERMSIG(status));
		return pt_errset(e, ECHILD, "failed to execute %s: process "
		    "exited before its exec", file);
	}
	close(ep[0]);
	(void) ptrace(PTRACE_SETOPTIONS, pid, 0,
	    (void *)(long)(pt_seize_opts() | PTRACE_O_EXITKILL));
	P->pp_thr[0].pt_flags = PT_TF_STOPPED;
	P->pp_created = true;
	P->pp_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	P->pp_exe = realpath(path, NULL);
	if (P->pp_exe == NULL)
		P->pp_exe = strdup(path);
	if ((rv = pt_proc_open_mem(P, 0)) != 0) {
		pt_proc_free(P);
		kill(pid, SIGKILL);
		(void) waitpid(pid, &status, __WALL);
		if (rv == -EACCES || rv == -EPERM)
			return pt_errset(e, -rv, "failed to control pid %d: "
			    "process exec'd set-id or unobservable program",
			    (int)pid);
		return pt_errset(e, -rv, "failed to execute %s: cannot open "
		    "memory of pid %d: %s", file, (int)pid, strerror(-rv));
	}
	P->pp_state = PT_STOPPED;
	P->pp_why = PT_WHY_EVENT;
	*pp = P;
	pt_dprintf("created pid %d: %s\n", (int)pid, path);
	return 0;
}
