/*
 * harness_proc.c - the harness's readers of /proc (harness.h): thread
 * states, tracers and system calls, a process's memory and the files
 * behind it, and the one wait that can only poll: a thread entering a
 * system call announces itself to nobody.
 *
 * Any thread may call these; they read, never write, and never touch a
 * ptrace stop.
 */
#include "harness.h"

#include <sys/ptrace.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>

int
read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return (int)r;
}

/* /proc/PID/task/TID/NAME (TID 0: PID) into BUF; its length or -1. */
static int
read_task_file(pid_t pid, pid_t tid, const char *name, char *buf, size_t n)
{
	char path[64];

	snprintf(path, sizeof (path), "/proc/%d/task/%d/%s", (int)pid,
	    (int)(tid ? tid : pid), name);
	return read_file(path, buf, n);
}

char
proc_state(pid_t pid, pid_t tid)
{
	char buf[1024], *p;

	if (read_task_file(pid, tid, "stat", buf, sizeof (buf)) < 0 ||
	    (p = strrchr(buf, ')')) == NULL || p[1] == 0)
		return 0;
	return p[2];
}

pid_t
proc_tracer(pid_t pid, pid_t tid)
{
	char buf[4096], *p;

	if (read_task_file(pid, tid, "status", buf, sizeof (buf)) < 0 ||
	    (p = strstr(buf, "TracerPid:")) == NULL)
		return -1;
	return (pid_t)atoi(p + strlen("TracerPid:"));
}

int
proc_tasks(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof (path), "/proc/%d/task", (int)pid);
	if ((dir = opendir(path)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		if (n < max)
			tids[n] = atoi(d->d_name);
		n++;
	}
	closedir(dir);
	return n;
}

int
proc_alive(pid_t pid)
{
	char s = proc_state(pid, 0);

	return s != 0 && s != 'Z' && s != 'X';
}

int
proc_syscall(pid_t pid)
{
	return proc_task_syscall(pid, 0, NULL);
}

int
proc_task_syscall(pid_t pid, pid_t tid, long *arg0)
{
	char buf[256], *p;

	if (read_task_file(pid, tid, "syscall", buf, sizeof (buf)) < 0 ||
	    buf[0] < '0' || buf[0] > '9')
		return -1;
	if (arg0 != NULL)
		*arg0 = (p = strchr(buf, ' ')) != NULL ?
		    strtol(p + 1, NULL, 0) : -1;
	return atoi(buf);
}

void
wait_in_syscall(pid_t pid, pid_t tid, const int *nrs, long arg0, int ms)
{
	long end = now_ms() + ms, a = -1;
	int nr = -1;
	char st = 0;

	for (;;) {
		/* one reading of each: either may flicker while it wakes */
		nr = proc_task_syscall(pid, tid, &a);
		st = proc_state(pid, tid);
		for (int i = 0; nrs[i] >= 0; i++) {
			if (nr == nrs[i] && st == 'S' && (arg0 < 0 ||
			    a == arg0))
				return;
		}
		if (now_ms() >= end)
			break;
		(void) poll(NULL, 0, 1);	/* no event to wait on */
	}
	FAIL("thread %d of %d not asleep in syscall %d (syscall %d, arg %ld, "
	    "state %c) after %d ms", (int)(tid ? tid : pid), (int)pid, nrs[0],
	    nr, a, st ? st : '?', ms);
}

static int
tid_in(pid_t tid, const pid_t *tids, int n)
{
	for (int i = 0; i < n; i++) {
		if (tids[i] == tid)
			return 1;
	}
	return 0;
}

int
check_threads_stopped(pt_proc_t *P)
{
	static pid_t tids[4096], ptids[4096];
	pid_t pid = pt_pid(P);
	int n = proc_tasks(pid, tids, 4096);
	int pn = pt_threads(P, ptids, 4096);
	int live = 0;

	if (n < 0)
		FAIL("pid %d has no /proc/%d/task", (int)pid, (int)pid);
	if (n > 4096 || pn > 4096)
		FAIL("too many threads (%d, %d)", n, pn);
	for (int i = 0; i < n; i++) {
		char s = proc_state(pid, tids[i]);

		if (s == 0 || s == 'Z' || s == 'X')
			continue;
		live++;
		if (s != 't')
			FAIL("thread %d of %d is in state '%c', not 't'",
			    (int)tids[i], (int)pid, s);
		if (proc_tracer(pid, tids[i]) != getpid())
			FAIL("thread %d of %d traced by %d, not us (%d)",
			    (int)tids[i], (int)pid,
			    (int)proc_tracer(pid, tids[i]), (int)getpid());
		if (!tid_in(tids[i], ptids, pn))
			FAIL("thread %d of %d unknown to pt_threads() "
			    "(%d threads)", (int)tids[i], (int)pid, pn);
	}
	if (pt_nthreads(P) < live)
		FAIL("pt_nthreads() %d < %d live threads", pt_nthreads(P),
		    live);
	return live;
}

void
check_threads_released(pid_t pid)
{
	static pid_t tids[4096];
	int n = proc_tasks(pid, tids, 4096);

	if (n < 0)
		FAIL("pid %d is gone", (int)pid);
	for (int i = 0; i < n && i < 4096; i++) {
		char s = proc_state(pid, tids[i]);
		pid_t tr = proc_tracer(pid, tids[i]);

		if (s == 't')
			FAIL("thread %d of %d still in a ptrace stop",
			    (int)tids[i], (int)pid);
		if (tr > 0)
			FAIL("thread %d of %d (state '%c') still traced by %d",
			    (int)tids[i], (int)pid, s ? s : '?', (int)tr);
	}
}

ssize_t
proc_mem_read(pid_t pid, uintptr_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t r;
	int fd;

	snprintf(path, sizeof (path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	r = pread(fd, buf, len, (off_t)addr);
	if (r < 0)
		r = -errno;
	close(fd);
	return r;
}

int
addr_file_offset(pid_t pid, uintptr_t addr, char *path, size_t pathlen,
    off_t *off)
{
	pt_map_t *maps = NULL;
	size_t n = 0;
	int rc = -1;

	if (pt_maps_read(pid, &maps, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (addr >= maps[i].pm_start && addr < maps[i].pm_end &&
		    maps[i].pm_path != NULL && maps[i].pm_path[0] == '/') {
			snprintf(path, pathlen, "%s", maps[i].pm_path);
			*off = (off_t)(addr - maps[i].pm_start +
			    maps[i].pm_offset);
			rc = 0;
			break;
		}
	}
	pt_maps_free(maps, n);
	return rc;
}

int
text_equals_file(pid_t pid, uintptr_t addr, size_t len, const char *path,
    off_t file_offset)
{
	unsigned char mem[256], file[256];
	ssize_t r;
	int fd;

	if (len > sizeof (mem))
		len = sizeof (mem);
	if (proc_mem_read(pid, addr, mem, len) != (ssize_t)len)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = pread(fd, file, len, file_offset);
	close(fd);
	if (r != (ssize_t)len)
		return -1;
	return memcmp(mem, file, len) == 0;
}

int
text_matches_file(pid_t pid, uintptr_t addr, size_t len)
{
	char path[PATH_MAX];
	off_t off;

	if (addr_file_offset(pid, addr, path, sizeof (path), &off) < 0)
		return -1;
	return text_equals_file(pid, addr, len, path, off);
}

int
file_byte_at(pid_t pid, uintptr_t addr)
{
	char path[PATH_MAX];
	unsigned char b;
	off_t off;
	int fd;
	ssize_t r;

	if (addr_file_offset(pid, addr, path, sizeof (path), &off) < 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	r = pread(fd, &b, 1, off);
	close(fd);
	return r == 1 ? b : -1;
}

int
proc_group_stopped(pid_t tid)
{
	int st, r;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0)
		return -1;
	(void) ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	while ((r = waitpid(tid, &st, __WALL)) < 0 && errno == EINTR)
		;
	/* bound for the group stop: reported with its stop signal; else
	   the interrupt's SIGTRAP */
	r = r == tid && WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP &&
	    WSTOPSIG(st) != SIGTRAP;
	(void) ptrace(PTRACE_DETACH, tid, 0, 0);
	return r;
}
