/*
 * diag.c - facts about a process read from /proc, for the reasons a grab
 * is refused (state, flags, tracer, owner) and for read-only handles
 * (threads).
 */
#include "pt_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* State letter and kernel flags from /proc/PID/stat; -errno if none. */
int
pt_proc_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof (buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* the command may hold spaces and parentheses: skip to the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return -EINVAL;
	*state = p[2];
	if (flags != NULL) {
		/* after state: ppid pgrp session tty_nr tpgid flags */
		unsigned long f = 0;
		if (sscanf(p + 4, "%*d %*d %*d %*d %*d %lu", &f) != 1)
			return -EINVAL;
		*flags = f;
	}
	return 0;
}

/*
 * A numeric field ("Tgid", "TracerPid", "Uid") of /proc/PID/status, or of
 * /proc/PID/task/TID/status when TID is not 0; -1 when unreadable.
 */
pid_t
pt_status_field(pid_t pid, pid_t tid, const char *field)
{
	char path[96], line[256];
	size_t len = strlen(field);
	pid_t v = -1;
	FILE *f;

	if (tid != 0)
		snprintf(path, sizeof (path), "/proc/%d/task/%d/status",
		    (int)pid, (int)tid);
	else
		snprintf(path, sizeof (path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof (line), f) != NULL) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = (pid_t)strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * The text of FIELD in /proc/PID/task/TID/status, leading blanks and the
 * newline cut: 0, or -1 if there is no such line.
 */
int
pt_status_text(pid_t pid, pid_t tid, const char *field, char *buf,
    size_t len)
{
	char path[96], line[512];
	size_t flen = strlen(field);
	int rv = -1;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/task/%d/status", (int)pid,
	    (int)tid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof (line), f) != NULL) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			char *v = line + flen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(buf, len, "%s", v);
			rv = 0;
			break;
		}
	}
	fclose(f);
	return rv;
}

/* Is SIG pending for this very thread? (SigPnd: thread-private) */
int
pt_sig_pending(pid_t pid, pid_t tid, int sig)
{
	char pnd[64];

	return pt_status_text(pid, tid, "SigPnd", pnd, sizeof (pnd)) == 0 &&
	    ((strtoull(pnd, NULL, 16) >> (sig - 1)) & 1);
}

void
pt_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	if (n <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * The thread ids of PID from /proc/PID/task (at most MAX stored), how
 * many there are, or a negative code with the reason recorded.
 */
int
pt_tasks(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof (path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return err_set(errno == ENOENT ? ESRCH : errno, "pid %d: cannot "
		    "list threads: %s", (int)pid, errno == ENOENT ?
		    "process has exited" : strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);

		if (tid > 0 && n++ < max)
			tids[n - 1] = tid;
	}
	closedir(dir);
	return n;
}
