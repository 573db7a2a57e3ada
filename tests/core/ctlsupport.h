/*
 * ctlsupport.h - what the ctl_*.c tests share: the control layer seen
 * through its public API (dtproc.h) with victims on pipes.
 *
 * Only dtproc_* calls drive a traced process; these helpers add victims
 * created or grabbed through the API, /proc readers and collectors for
 * notices, breakpoint hits and dynamic-linker activity.  A victim traced
 * by one of our control threads is never waitpid()ed: a wait in any
 * thread of the tracer's process could take the control thread's ptrace
 * stops.  Every wait sleeps on something that wakes it (a pipe, a
 * pidfd, the notify descriptor, a condition variable) until a deadline;
 * none polls.
 */
#ifndef DTPROC_TEST_CTLSUPPORT_H
#define DTPROC_TEST_CTLSUPPORT_H

#include "dtproc.h"
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>

struct notes;

/* Wait up to MS for PID to exit (a zombie, or gone); no verdict. */
void wait_exit(pid_t pid, int ms);

/* ---- handles and victims ---- */

/*
 * The locals most tests start with: a dtproc_t (open), a victim and its
 * handle, the notices seen, a line from the victim.
 */
#define CTL_LOCALS							\
	char line[256] __attribute__((unused));				\
	struct notes ns __attribute__((unused)) = { 0 };		\
	struct victim v __attribute__((unused));			\
	dtproc_t *dtp = open_ok();					\
	dtproc_proc_t *pr __attribute__((unused))

/* A grab that must succeed. */
dtproc_proc_t *grab_ctl(dtproc_t *dtp, pid_t pid, int flags);
/* Spawn "ctlv MODE" and read its ready line's addresses (ready_addrs). */
void spawn_ctlv(const char *mode, struct victim *v, uintptr_t *ctor,
    uintptr_t *mainm, uintptr_t *target);
/* spawn_ctlv("echo") (its ctor_mark in *CTOR if not NULL), grabbed. */
dtproc_proc_t *grab_echo(dtproc_t *dtp, struct victim *v, uintptr_t *ctor,
    int flags);
/* Have a ctlv echo victim call ctl_target N times; its "called" line. */
char *ctlv_call(struct victim *v, int n, char *line, size_t len);

/* Ends of a test: PR dies with exit status ST (quit_dead: after V is
   told to quit, with 0), or V, no longer traced, quits; DTP is closed. */
void close_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct notes *ns, int st);
void quit_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v,
    struct notes *ns);
void quit_untraced(dtproc_t *dtp, struct victim *v);

/* The address of NAME in PR; fails the test if it is not found. */
uintptr_t sym_addr(dtproc_t *dtp, dtproc_proc_t *pr, const char *name);
/* dtproc_read() of an int or a byte that must succeed. */
int read_int(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr);
int read_byte(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr);
/* The byte at ADDR straight from /proc/PID/mem. */
int mem_byte(pid_t pid, uintptr_t addr);
/* The ready line's ctor_mark, main_mark and target (each may be NULL). */
void ready_addrs(struct victim *v, uintptr_t *ctor, uintptr_t *mainm,
    uintptr_t *target);
/* Make PID the next pid the kernel hands out (ns_last_pid); 0 or -1. */
int set_next_pid(pid_t pid);

/* ---- process and thread states ---- */

/*
 * Are all live threads of PID in one of STATES, traced by a thread of
 * process TRACER (-1: anyone, 0: nobody)?  1, or 0 with WHY filled.
 */
int threads_are(pid_t pid, const char *states, pid_t tracer, char *why,
    size_t n);

#define CHECK_THREADS(pid, states, tracer) do {				\
	char w_[256];							\
	if (!threads_are((pid), (states), (tracer), w_, sizeof (w_)))	\
		FAIL("%s", w_);						\
} while (0)

/* Stopped at a rendezvous: every thread in a ptrace stop, traced by us. */
void check_resting(dtproc_t *dtp, dtproc_proc_t *pr);
/*
 * Wait up to MS until PR rests at a rendezvous (create, grab, preinit,
 * postinit, main) with its control thread idle, then check_resting().
 * A continue just before does not count: this waits for the next one.
 * The one place the tests wait for a rest; dtproc_wait_stopped() is the
 * public call for it.
 */
void ctl_wait_resting(dtproc_t *dtp, dtproc_proc_t *pr, int ms);

/*
 * Continue PR from one rendezvous to the next (after create: preinit or
 * later), where libc is known; it stays there for SILENT_MS.
 */
void continue_to_rest(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v,
    int silent_ms);

/* Job-control stops reported by the event callback, on a pipe. */
struct jobstops {
	int fd[2];	/* JOBSTOP events write a byte to fd[1] */
};
/* Set DTP's event callback to write to a new pipe in JS. */
void jobstops_watch(dtproc_t *dtp, struct jobstops *js);
/* Wait up to MS for a JOBSTOP event; fails the test without one. */
void jobstops_wait(struct jobstops *js, int ms);

/*
 * Sites upgraded from an int3 to a trampoline (DTPROC_EV_UPGRADE), on a
 * pipe; a process's end (EXIT, LOST) writes a 0, so a wait wakes on it.
 */
struct upgrades {
	int fd[2];	/* each event writes its de_addr to fd[1] */
};
/* Set DTP's event callback to write to a new pipe in U. */
void upgrades_watch(dtproc_t *dtp, struct upgrades *u);
/*
 * Wait up to MS for the upgrade of ADDR: 1; 0 when a process ended or
 * MS passed first.  *WAITED (if not NULL): the ms it took.
 */
int upgrades_wait(struct upgrades *u, uintptr_t addr, int ms, long *waited);
/* Unset DTP's event callback, close U's pipe. */
void upgrades_close(dtproc_t *dtp, struct upgrades *u);

/* victim_expect() that fails after MS without a line, naming WHAT. */
char *expect_within(struct victim *v, char *buf, size_t n,
    const char *prefix, int ms, const char *what);
/* Send CMD and expect its answer (PREFIX) within 20 s. */
char *ask(struct victim *v, const char *cmd, const char *prefix, char *line,
    size_t n);
/* victim_wait() of a victim that must not be traced any more. */
int wait_untraced(struct victim *v);
/* Our descriptors that belong to PID: its pidfd, its mem file. */
int handle_fds(pid_t pid);
/* Wait until our_threads() is N (the control threads joined and gone). */
void wait_our_threads(int n, int ms);
/* No child of ours is left, zombie or not. */
void check_no_children(void);

/* N "ctlv wait" victims, ready; then each let go and its exit checked. */
void spawn_waiters(struct victim *v, int n);
void finish_waiters(struct victim *v, int n);
/* Which of V[0..N) have a handle: a string of '1' and '0'. */
const char *cached_set(struct victim *v, int n);

/* ---- what a thread of the test tells another ---- */

/* A count and a done flag that a waiting thread sleeps on. */
struct tally {
	pthread_mutex_t t_mu;
	pthread_cond_t t_cv;
	int t_n;
	int t_done;
};
#define TALLY_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, \
	0, 0 }

void tally_add(struct tally *t, int d);
void tally_done(struct tally *t);
/* Wait up to MS until the count reaches WANT or T is done; the count. */
int tally_wait(struct tally *t, int want, int ms);
int tally_is_done(struct tally *t);

/* ---- notices ---- */

#define NOTES_MAX 256

struct notes {
	int n;
	dtproc_proc_t *pr[NOTES_MAX];
	int hasmsg[NOTES_MAX];
	char msg[NOTES_MAX][512];
};

void note_cb(dtproc_t *dtp, dtproc_proc_t *pr, const char *msg, void *arg);
/* A notice for PR (NULL: any) not yet seen: 1 if one comes within MS. */
int wait_notice(dtproc_t *dtp, struct notes *ns, dtproc_proc_t *pr, int ms);
/* Wait for PR's death notice (no message); returns its wait status. */
int wait_dead(dtproc_t *dtp, dtproc_proc_t *pr, struct notes *ns, int ms);

/* ---- breakpoints ---- */

void nop_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg);

/* Hits counted by hit_cb: each must come from DTP, PR at ADDR. */
struct hits {
	atomic_int n;
	atomic_int bad;
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	uintptr_t addr;
	pid_t only_tid;		/* if set, every hit must be this thread */
	atomic_int last_tid;
};

void hit_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg);

/* H counted WANT hits, each from where it should. */
#define CHECK_HITS(h, want) do {					\
	CHECK_EQ_INT(atomic_load(&(h)->n), (want));			\
	CHECK_EQ_INT(atomic_load(&(h)->bad), 0);			\
} while (0)
void hits_init(struct hits *h, dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr);
/* hits_init() and dtproc_bkpt_add(hit_cb) that must succeed. */
void hits_add(struct hits *h, dtproc_t *dtp, dtproc_proc_t *pr,
    uintptr_t addr);

/* ---- dynamic-linker activity ---- */

/* $DTPROC_BUILD/tests/libs/libdyn.so, made absolute. */
const char *libdyn_path(void);

struct dlact {
	atomic_int n;
	atomic_int bad;
	dtproc_proc_t *pr;
	int ret;
	int lookup;		/* look dyn_fn up from the callback */
	atomic_int found;
	uintptr_t fn;
	char msg[8][512];
};

int dlact_cb(dtproc_t *dtp, dtproc_proc_t *pr, void *arg);

/* ---- function probes (fprobe*.c) ---- */

#define REC_MAX	4096

/*
 * Firings recorded by rec_cb, each with what dtproc_hit_reg said of
 * some registers; a tally counts them for a bounded wait on firings that
 * come after the victim's answer (returns recorded without a stop).
 */
struct rec {
	pthread_mutex_t r_mu;
	struct tally r_tally;	/* firings */
	int r_n;
	dtproc_hit_t r_hit[REC_MAX];
	const char *r_name[REC_MAX];
	uint64_t r_rdi[REC_MAX];	/* dtproc_hit_reg "rdi" */
	int r_rdierr[REC_MAX];		/* its code */
	uint64_t r_rax[REC_MAX];	/* "rax", "pc", "sp" */
	uint64_t r_pc[REC_MAX];
	uint64_t r_sp[REC_MAX];
	int r_regbad;		/* "rdi" refused */
	int r_rpsbad;		/* "rax", "pc" or "sp" refused */
};

/* rec_cb's ARG: where and under what name. */
struct tag {
	struct rec *t_rec;
	const char *t_name;
};

void rec_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_hit_t *hit,
    void *arg);
struct rec *rec_new(void);
/* How many firings R holds, read under its lock. */
int rec_n(struct rec *r);
/* Wait up to MS until R holds WANT firings; how many it holds. */
int rec_wait(struct rec *r, int want, int ms);
/* Firings of NAME of KIND in R. */
int count(struct rec *r, const char *name, int kind);
/* "fprobev" created, resting at main. */
dtproc_proc_t *fprobev(dtproc_t *dtp, struct victim *v);
/* Probe a.out`NAME with FLAGS, firings recorded in R under NAME. */
uintptr_t probe(dtproc_t *dtp, dtproc_proc_t *pr, const char *name,
    int flags, struct rec *r);
/* dtproc_fprobe_info that must succeed. */
dtproc_fprobe_info_t finfo(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t fn,
    size_t off, int kind);

#endif /* DTPROC_TEST_CTLSUPPORT_H */
