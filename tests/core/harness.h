/*
 * harness.h - a tiny test framework for dtproc's core tests.
 *
 * TEST(name) { ... } registers a test; main() (harness.c) runs each one in
 * a forked child in its own process group, with an alarm (30 s, or the
 * TEST_TIMEOUT value, or $DTPROC_TEST_TIMEOUT), so that a hang or crash
 * fails only that test; whatever the test left behind is killed.
 * Output, one line per test:
 *	ok NAME
 *	FAIL NAME: reason (file:line)
 *	skip NAME: reason
 * and at the end "# passed P failed F skipped S".  argv[1], if given,
 * runs only the tests whose name contains it ("-l" lists the tests).
 *
 * Helpers spawn victims (tests/victims/NAME, under $DTPROC_BUILD, default
 * "build") with pipes on their stdin and stdout, read /proc, compare
 * process text with the executable file, and drive a traced process to
 * its exit.
 */
#ifndef DTPROC_TEST_HARNESS_H
#define DTPROC_TEST_HARNESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL		/* a thread's pidfd (Linux 6.9) */
#endif

#include "dtproc.h"
#include "ptrace/pt.h"

/* ---- registration ---- */

void harness_register(const char *name, void (*fn)(void), int timeout);

#define TEST_TIMEOUT(name, secs)					\
	static void test_##name(void);					\
	__attribute__((constructor)) static void			\
	register_##name(void)						\
	{								\
		harness_register(#name, test_##name, (secs));		\
	}								\
	static void test_##name(void)

#define TEST(name) TEST_TIMEOUT(name, 0)

/* ---- verdicts ---- */

_Noreturn void harness_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void harness_skip(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Diagnostics on stderr when $DTPROC_TEST_VERBOSE is set. */
void tinfo(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define FAIL(...) harness_fail(__FILE__, __LINE__, __VA_ARGS__)
#define SKIP(...) harness_skip(__VA_ARGS__)

#define CHECK(cond) do {						\
	if (!(cond))							\
		FAIL("check failed: %s", #cond);			\
} while (0)

#define CHECK_MSG(cond, ...) do {					\
	if (!(cond))							\
		FAIL(__VA_ARGS__);					\
} while (0)

/* A == B as TYPE, both printed with FMT if not. */
#define CHECK_EQ_AS(type, fmt, a, b) do {				\
	type a_ = (type)(a), b_ = (type)(b);				\
	if (a_ != b_)							\
		FAIL("%s == %s: " fmt " != " fmt, #a, #b, a_, b_);	\
} while (0)

#define CHECK_EQ_INT(a, b) CHECK_EQ_AS(long long, "%lld", a, b)

#define CHECK_STR_EQ(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)		\
		FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,		\
		    a_ ? a_ : "(null)", b_ ? b_ : "(null)");		\
} while (0)

/* Case-insensitive substring check. */
#define CHECK_CONTAINS(hay, needle) do {				\
	const char *h_ = (hay), *n_ = (needle);				\
	if (h_ == NULL || strcasestr(h_, n_) == NULL)			\
		FAIL("\"%s\" does not contain \"%s\"",			\
		    h_ ? h_ : "(null)", n_);				\
} while (0)

#define CHECK_PREFIX(s, prefix) do {					\
	const char *s_ = (s), *p_ = (prefix);				\
	if (s_ == NULL || strncmp(s_, p_, strlen(p_)) != 0)		\
		FAIL("\"%s\" does not start with \"%s\"",		\
		    s_ ? s_ : "(null)", p_);				\
} while (0)

/* A pt_* call returning 0 or -errno must succeed. */
#define CHECK_PT(call) do {						\
	long r_ = (long)(call);						\
	if (r_ < 0)							\
		FAIL("%s: %s", #call, strerror((int)-r_));		\
} while (0)

/* Wait statuses. */
#define CHECK_EXITED(st, code) do {					\
	int s_ = (st);							\
	if (!WIFEXITED(s_) || WEXITSTATUS(s_) != (code))		\
		FAIL("%s: expected exit %d, got %s", #st, (code),	\
		    wstatus_str(s_));					\
} while (0)

#define CHECK_KILLED(st, sig) do {					\
	int s_ = (st);							\
	if (!WIFSIGNALED(s_) || WTERMSIG(s_) != (sig))			\
		FAIL("%s: expected death by signal %d, got %s", #st,	\
		    (sig), wstatus_str(s_));				\
} while (0)

const char *wstatus_str(int status);	/* "exit 3", "signal 9", ... */

/* ---- victims ---- */

struct victim {
	pid_t pid;
	int in;		/* write end of the victim's stdin, or -1 */
	int out;	/* read end of the victim's stdout, or -1 */
	char path[4096];
};

/*
 * The locals most tests start with: a victim, its lines, its process,
 * the events counted in a run, the last event and a wait status.
 */
#define VICTIM_LOCALS							\
	char line[256] __attribute__((unused));				\
	struct victim v __attribute__((unused));			\
	pt_proc_t *P __attribute__((unused)) = NULL;			\
	struct run_counts c __attribute__((unused));			\
	pt_event_t ev __attribute__((unused));				\
	int st __attribute__((unused))

/* $DTPROC_BUILD/tests/victims/NAME, made absolute; fails if missing. */
/* $DTPROC_BUILD/tests/REL, made absolute; the test fails if it is missing. */
const char *build_file(const char *rel, int mode, const char *what);
const char *victim_path(const char *name);

/*
 * Fork and exec victim NAME with ARGV_EXTRA (NULL-terminated, may be
 * NULL) after argv[0], stdin and stdout on pipes.  Fails the test on error.
 */
pid_t spawn_victim(const char *name, char *const argv_extra[],
    struct victim *v);

/*
 * pt_create() victim NAME with the same pipes: fd 0 and 1 are swapped
 * for the pipe ends around the call.  Returns pt_create()'s result; on
 * success v->pid is the pid.
 */
int create_victim(const char *name, char *const argv_extra[],
    char *const envp[], const sigset_t *mask, struct victim *v,
    pt_proc_t **pp);
/*
 * Victim ctlv MODE created, continued and past its ready line (running:
 * "echo" reads lines, "wait" a go line); ctl_target's address in *TARGET.
 */
dtproc_proc_t *dt_running_ctlv(dtproc_t *dtp, const char *mode,
    struct victim *v, uintptr_t *target);

/*
 * Start a process with START(path, argv, ARG) (pt_create, dtproc_create)
 * as victim NAME (or the file NAME when it starts with '/') with
 * ARGV_EXTRA, its fd 0 and 1 on pipes as spawn_victim's: ours are
 * swapped for the pipe ends around the call.  Returns START's result;
 * V has our ends and the path (its pid is the caller's to fill in).
 */
int start_on_pipes(const char *name, char *const argv_extra[],
    struct victim *v, int (*start)(const char *path, char **av, void *arg),
    void *arg);
/* create_victim() that must succeed; the process. */
pt_proc_t *create_ok_victim(const char *name, char *const argv_extra[],
    char *const envp[], const sigset_t *mask, struct victim *v);

/*
 * dtproc_create() victim NAME (or the file NAME when it starts with '/')
 * at STOP, on pipes the same way; NULL on failure (v->pid is then -1).
 */
dtproc_proc_t *create_v(dtproc_t *dtp, const char *name,
    char *const extra[], int stop, struct victim *v);
/* create_v() that must succeed. */
dtproc_proc_t *create_ok(dtproc_t *dtp, const char *name,
    char *const extra[], int stop, struct victim *v);

/* One line without its newline; -1 at EOF.  Lines longer than N are cut. */
ssize_t victim_readline(struct victim *v, char *buf, size_t n);
/* Read lines until one starts with PREFIX; fails the test at EOF. */
char *victim_expect(struct victim *v, char *buf, size_t n,
    const char *prefix);
/* spawn_victim() and victim_ready() into LINE (N bytes); LINE. */
char *spawn_ready(const char *name, char *const argv_extra[],
    struct victim *v, char *line, size_t n);
/* spawn_ready(), then grab_ok(FLAGS) of the victim. */
pt_proc_t *spawn_grab(const char *name, char *const argv_extra[],
    struct victim *v, char *line, size_t n, int flags);
/* "signals usr1" grabbed and running, sent SIGUSR1: its signal stop,
   not resumed, in EV. */
pt_proc_t *grab_usr1_stop(struct victim *v, pt_event_t *ev);
/* Nothing arrives on V's stdout within MS (it is stopped). */
void check_silent(struct victim *v, int ms);
/* EOF on V's stdout within MS (it is gone). */
void check_eof(struct victim *v, int ms);
/* victim_expect(PREFIX) whose line must be WANT. */
void victim_expect_eq(struct victim *v, const char *prefix,
    const char *want);
/* Read the "ready <pid> ..." line; fails unless its pid is v->pid. */
char *victim_ready(struct victim *v, char *buf, size_t n);
/* Write "g\n" (the go line), or any string. */
void victim_go(struct victim *v);
void victim_send(struct victim *v, const char *s);
/* waitpid() the victim (our child); returns its status. */
int victim_wait(struct victim *v);
/* Send "q" (quit) and wait for the victim's exit 0. */
void victim_quit(struct victim *v);
/* Wait until the victim is in a job-control stop (WUNTRACED). */
void victim_wait_stopped(struct victim *v);
void victim_close(struct victim *v);

/* The value of "KEY=value" in LINE (base 0: 0x... accepted). */
unsigned long long line_field(const char *line, const char *key);
int line_has(const char *line, const char *key);

/*
 * Spawn victim NAME as our grandchild: a helper process we fork forks
 * and execs it, then waits for it and exits with its exit status (128 +
 * signal if killed).  Returns the victim's pid (also v->pid); *MIDDLE is
 * the helper's pid, to waitpid() for the status the real parent saw.
 */
pid_t spawn_victim_indirect(const char *name, char *const argv_extra[],
    struct victim *v, pid_t *middle);

/* ---- /proc ---- */

/* Processes whose parent is us: how many (-1: no /proc), the first MAX
   in PIDS with their state letters in STATES (may be NULL). */
int proc_children(pid_t *pids, char *states, int max);
/* Read PATH into BUF (N bytes, NUL-terminated); its length or -1. */
int read_file(const char *path, char *buf, size_t n);

/* State letter of TID (0: TID = PID), or 0 if gone. */
char proc_state(pid_t pid, pid_t tid);
/* TracerPid of TID (0: PID), -1 if gone. */
pid_t proc_tracer(pid_t pid, pid_t tid);
/*
 * Is thread TID in a group stop, or on its way back into one (just
 * detached from a tracer)?  Asked of the kernel, not of /proc's state
 * letter, which lags: TID is seized and interrupted for a moment; 1, 0,
 * or -1 if it cannot be seized.
 */
int proc_group_stopped(pid_t tid);
/* Thread ids in /proc/PID/task; returns count (may exceed MAX). */
int proc_tasks(pid_t pid, pid_t *tids, int max);
/* Is PID alive (not gone, not a zombie)? */
int proc_alive(pid_t pid);
/* System call number PID is blocked in (/proc/PID/syscall), -1 if none. */
int proc_syscall(pid_t pid);
/* The same for thread TID of PID (0: PID), its first argument in *ARG0
   (may be NULL). */
int proc_task_syscall(pid_t pid, pid_t tid, long *arg0);
/*
 * Wait up to MS until thread TID of PID (0: PID) sleeps in one of the
 * system calls NRS (ending with -1), with first argument ARG0 (-1: any).
 * Nothing tells when a thread has entered a system call: this is the one
 * wait in the tests that polls, reading /proc between 1 ms sleeps.
 */
void wait_in_syscall(pid_t pid, pid_t tid, const int *nrs, long arg0, int ms);
/*
 * Every live thread of P's process is in a ptrace stop ('t'), traced by
 * us and known to P (pt_threads()); zombie threads are ignored.  Returns
 * the number of live threads.  Fails the test otherwise.
 */
int check_threads_stopped(pt_proc_t *P);
/* No thread of PID is in a ptrace stop or traced by anyone. */
void check_threads_released(pid_t pid);
/* pread /proc/PID/mem; returns bytes read or -errno. */
ssize_t proc_mem_read(pid_t pid, uintptr_t addr, void *buf, size_t len);
/* The file and offset backing ADDR in PID (via pt_maps_read). 0/-1. */
int addr_file_offset(pid_t pid, uintptr_t addr, char *path, size_t pathlen,
    off_t *off);
/*
 * Compare LEN bytes of PID's memory at ADDR with PATH at FILE_OFFSET:
 * 1 equal, 0 different, -1 error.
 */
int text_equals_file(pid_t pid, uintptr_t addr, size_t len,
    const char *path, off_t file_offset);
/* The same, the file and offset found from PID's mappings. */
int text_matches_file(pid_t pid, uintptr_t addr, size_t len);
/* The byte of the mapped file backing ADDR in PID; -1 on error. */
int file_byte_at(pid_t pid, uintptr_t addr);

/* ---- driving a traced process ---- */

struct run_counts {
	int ev[PT_EV_LOST + 1];		/* events by kind */
	int sigs[NSIG];			/* SIGNAL events by signal */
	int nevents;
	pt_event_t last;		/* the last event seen */
	char err[512];			/* why run_events() returned -1 */
};

/*
 * A callback sees each event first.  Return RUN_DEFAULT to let
 * run_events() handle it (breakpoint: step + resume; stopped thread:
 * resume), RUN_HANDLED if the callback resumed the thread itself, or
 * RUN_ABORT to stop the loop (run_events() returns -1).
 */
enum { RUN_DEFAULT = 0, RUN_HANDLED = 1, RUN_ABORT = -1 };
typedef int (*run_cb_t)(pt_proc_t *P, const pt_event_t *ev, void *arg);

/*
 * Collect events until PT_EV_EXIT; returns its wait status, or -1 with
 * C->err set.  A failed resume of a thread that is gone (-ESRCH) is not
 * an error; any other failure is.
 */
int run_events(pt_proc_t *P, struct run_counts *c, run_cb_t cb, void *arg);
int run_until_exit(pt_proc_t *P, struct run_counts *c);
/* run_until_exit() that fails the test on an event-loop error. */
int run_checked(pt_proc_t *P, struct run_counts *c);

/* Fail the test with C->err when ST < 0 (from run_events). */
#define CHECK_RUN(st, c) do {						\
	if ((st) < 0)							\
		FAIL("event loop: %s", (c)->err);			\
} while (0)

/* Handle one event the default way (step/resume); 0 or -errno. */
int run_default(pt_proc_t *P, const pt_event_t *ev);

/*
 * Wait for an event of KIND, handling the others the default way (and
 * counting them in C, which may be NULL); at most MAXEV events.  The
 * event of KIND is returned in EV and NOT handled.  Fails the test on
 * error, on EXIT (unless KIND is EXIT) or after MAXEV others.
 */
void wait_for_event(pt_proc_t *P, pt_event_kind_t kind, pt_event_t *ev,
    struct run_counts *c, int maxev);

const char *ev_name(pt_event_kind_t kind);
/* Is EV of KIND?  If so, it must have stopped its thread. */
int event_stopped(const pt_event_t *ev, pt_event_kind_t kind);

/* pt_grab/pt_create that must succeed. */
pt_proc_t *grab_ok(pid_t pid, int flags);

/*
 * ---- harness_regs.c: stop (SIGSTOP to PID, the caller's own pid) with
 * known values in every register and the carry flag; 0 if all came back,
 * else a bit per register lost.
 */
uint64_t regs_stop(pid_t pid);
/*
 * A child to be held by what is tested: SIGUSR1 handled, SIGUSR2
 * blocked, PTRACE_TRACEME, then regs_stop.  Its bits: 1 a register
 * lost, 2 its mask changed, 4 no SIGUSR1 delivered (the test sends one
 * while it holds the child); _exit(100) if it could not set up.
 */
int regs_child(const char *who);

/* ---- time, library handles, our own threads ---- */

/* Monotonic milliseconds. */
long now_ms(void);
/* dtproc_open() that must succeed; counts the sanitizer's threads first. */
dtproc_t *open_ok(void);
/*
 * Threads a sanitizer runs in the background, counted once by starting
 * a thread before any control thread exists (count_extra_threads), and
 * the threads of our process but those: the main one and control threads.
 */
void count_extra_threads(void);
/* Sleep on DTP's notify descriptor (handling notices) until PR is dead,
   MS at most; its wait status. */
int api_wait_dead(dtproc_t *dtp, dtproc_proc_t *pr, int ms);
int sanitizer_threads(void);
int our_threads(void);

#endif /* DTPROC_TEST_HARNESS_H */
