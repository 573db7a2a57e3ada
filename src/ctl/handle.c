/*
 * handle.c - the dtproc_t and its process handles: pid hash, reference
 * counts, LRU cache, notices.  The reference's dt_proc_init, _fini,
 * _create, _grab, _release, _continue, _lock and _unlock.
 *
 * Reference counting: library and client code may grab the same pid
 * independently and get the same handle; at the last release it is
 * destroyed, unless it is a read-only handle and the cache has room.
 * Caching: read-only handles are kept, most recently used first, up to
 * dph_lrulim unreferenced ones, so a tracer that symbolizes the same
 * processes again and again does not re-read their symbol tables.  A
 * cached read-only handle asked for control is marked stale and replaced.
 * A handle is tied to its process by a pidfd: a pid that was reused never
 * reaches an old handle (it is stale too).
 */
#include "ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CTL_HASHLEN	256
#define CTL_LRULIM	8

/*
 * The last error is the calling thread's (src/err): a client thread reads
 * the reason of its own last call, a callback on a control thread its own,
 * whichever dtproc_t they came through.
 */
DTPROC_API int
dtproc_errno(dtproc_t *dtp)
{
	(void) dtp;
	return err_code();
}

DTPROC_API const char *
dtproc_errmsg(dtproc_t *dtp)
{
	(void) dtp;
	return err_msg();
}

/* The error of a call on a process no longer under control: dead or lost. */
int
ctl_gone(const dtproc_proc_t *pr, pid_t tid)
{
	bool lost = pr->dpr_state == DTPROC_PS_LOST;
	char th[32] = "";

	if (tid != 0)
		snprintf(th, sizeof (th), "thread %d: ", (int)tid);
	return err_set(lost ? DTPROC_ELOST : DTPROC_EDEAD, "pid %d: %s%s",
	    (int)pr->dpr_pid, th, lost ? "control of the process was lost" :
	    "process has exited");
}

DTPROC_API pid_t
dtproc_pid(const dtproc_proc_t *pr)
{
	return pr->dpr_pid;
}

DTPROC_API dtproc_t *
dtproc_open(int flags, int *errp)
{
	dtproc_t *dtp;
	const char *lim = getenv("DTPROC_LRU_LIMIT");

	/* no flag is defined yet: a caller asking for one gets no less */
	if (flags != 0) {
		if (errp != NULL)
			*errp = EINVAL;
		return NULL;
	}
	if ((dtp = calloc(1, sizeof (*dtp))) == NULL ||
	    (dtp->dph_hash = calloc(CTL_HASHLEN,
	    sizeof (dtproc_proc_t *))) == NULL ||
	    (dtp->dph_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		if (errp != NULL)
			*errp = errno ? errno : ENOMEM;
		if (dtp != NULL)
			free(dtp->dph_hash);
		free(dtp);
		return NULL;
	}
	(void) pthread_mutex_init(&dtp->dph_lock, NULL);
	dtp->dph_hashlen = CTL_HASHLEN;
	dtp->dph_lrulim = lim != NULL && atoi(lim) >= 0 ? (unsigned)atoi(lim) :
	    CTL_LRULIM;
	return dtp;
}

static void
ctl_lru_unlink(dtproc_t *dtp, dtproc_proc_t *pr)
{
	if (pr->dpr_lprev != NULL)
		pr->dpr_lprev->dpr_lnext = pr->dpr_lnext;
	else if (dtp->dph_lru == pr)
		dtp->dph_lru = pr->dpr_lnext;
	if (pr->dpr_lnext != NULL)
		pr->dpr_lnext->dpr_lprev = pr->dpr_lprev;
	pr->dpr_lprev = pr->dpr_lnext = NULL;
}

static void
ctl_lru_push(dtproc_t *dtp, dtproc_proc_t *pr)
{
	pr->dpr_lprev = NULL;
	pr->dpr_lnext = dtp->dph_lru;
	if (dtp->dph_lru != NULL)
		dtp->dph_lru->dpr_lprev = pr;
	dtp->dph_lru = pr;
}

static dtproc_proc_t *
ctl_alloc(dtproc_t *dtp, pid_t pid)
{
	pthread_condattr_t ca;
	dtproc_proc_t *pr;

	if ((pr = calloc(1, sizeof (*pr))) == NULL)
		return NULL;
	pr->dpr_hdl = dtp;
	pr->dpr_pid = pid;
	AHASH_INIT(&pr->dpr_bps, ctl_bkpt_t, cb_addr, cb_next, 256);
	AHASH_INIT(&pr->dpr_probes, ctl_probe_t, cp_addr, cp_next, 256);
	(void) pthread_mutex_init(&pr->dpr_lock, NULL);
	/* timed waits on it are bounds, not dates: immune to clock steps */
	(void) pthread_condattr_init(&ca);
	(void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&pr->dpr_cv, &ca);
	(void) pthread_condattr_destroy(&ca);
	pr->dpr_state = DTPROC_PS_RUN;
	return pr;
}

static void
ctl_free(dtproc_proc_t *pr)
{
	rtld_free(pr->dpr_rtld);
	unw_proc_free(pr->dpr_unw);
	sym_proc_free(pr->dpr_sym);
	free(pr->dpr_file);
	if (pr->dpr_argv != NULL) {
		for (char **a = pr->dpr_argv; *a != NULL; a++)
			free(*a);
		free(pr->dpr_argv);
	}
	ctl_bkpt_clear(pr);
	ctl_probe_clear(pr);
	ctl_usdt_clear(pr);
	ctl_fp_clear(pr);
	(void) pthread_mutex_destroy(&pr->dpr_lock);
	(void) pthread_cond_destroy(&pr->dpr_cv);
	free(pr);
}

static void
ctl_hash_insert(dtproc_t *dtp, dtproc_proc_t *pr)
{
	size_t h = (size_t)pr->dpr_pid & (dtp->dph_hashlen - 1);

	pr->dpr_hash = dtp->dph_hash[h];
	dtp->dph_hash[h] = pr;
	ctl_lru_push(dtp, pr);
	pr->dpr_refs++;
}

/* Forget the notices about PR: it is about to be freed. */
static void
ctl_drop_notices(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) pthread_mutex_lock(&dtp->dph_lock);
	ctl_notice_t **np = &dtp->dph_notify;
	dtp->dph_notify_tail = NULL;
	while (*np != NULL) {
		if ((*np)->cn_proc == pr) {
			ctl_notice_t *n = *np;
			*np = n->cn_next;
			free(n);
		} else {
			dtp->dph_notify_tail = *np;
			np = &(*np)->cn_next;
		}
	}
	(void) pthread_mutex_unlock(&dtp->dph_lock);
}

/*
 * dt_proc_destroy: let the process go (kill what we created, run what we
 * grabbed; a process job control stopped stays stopped), then forget it.
 */
static void
ctl_destroy(dtproc_t *dtp, dtproc_proc_t *pr)
{
	size_t h = (size_t)pr->dpr_pid & (dtp->dph_hashlen - 1);

	ctl_finish(pr, pr->dpr_created ? PT_RELEASE_KILL : PT_RELEASE_RUN);
	/*
	 * Another thread may still be inside a call on this handle that
	 * waits on dpr_cv with the lock let go: a FOLLOW callback's
	 * dtproc_continue on the parent's control thread, whose child ran,
	 * exited and was released by the client meanwhile.  It sees
	 * dpr_done and leaves; the handle is freed after.
	 */
	(void) pthread_mutex_lock(&pr->dpr_lock);
	while (pr->dpr_visitors > 0)
		(void) pthread_cond_wait(&pr->dpr_cv, &pr->dpr_lock);
	(void) pthread_mutex_unlock(&pr->dpr_lock);
	if (pr->dpr_rdonly && pr->dpr_P != NULL) {
		(void) pt_release(pr->dpr_P, PT_RELEASE_DEFAULT);
		pr->dpr_P = NULL;
	}
	for (dtproc_proc_t **pp = &dtp->dph_hash[h]; *pp != NULL;
	    pp = &(*pp)->dpr_hash) {
		if (*pp == pr) {
			*pp = pr->dpr_hash;
			break;
		}
	}
	ctl_drop_notices(dtp, pr);
	if (pr->dpr_cacheable && dtp->dph_lrucnt > 0)
		dtp->dph_lrucnt--;
	ctl_lru_unlink(dtp, pr);
	ctl_free(pr);
}

DTPROC_API void
dtproc_close(dtproc_t *dtp)
{
	if (dtp == NULL)
		return;
	ctl_adopt_settle(dtp);
	while (dtp->dph_lru != NULL)
		ctl_destroy(dtp, dtp->dph_lru);
	while (dtp->dph_notify != NULL) {
		ctl_notice_t *n = dtp->dph_notify;
		dtp->dph_notify = n->cn_next;
		free(n);
	}
	close(dtp->dph_efd);
	(void) pthread_mutex_destroy(&dtp->dph_lock);
	free(dtp->dph_hash);
	free(dtp);
}

/*
 * Start PR's control thread and wait for its first rendezvous (STOP); if
 * it fails, the process is let go (HOW) and PR freed: NULL, the reason
 * recorded.
 */
static dtproc_proc_t *
ctl_launch(dtproc_t *dtp, dtproc_proc_t *pr, unsigned stop, pt_release_t how)
{
	if (ctl_start(dtp, pr, stop) != 0) {
		ctl_finish(pr, how);
		ctl_drop_notices(dtp, pr);
		ctl_free(pr);
		return NULL;
	}
	ctl_hash_insert(dtp, pr);
	return pr;
}

/*
 * A followed child, parked by the control thread that calls this (pk):
 * a handle with a control thread of its own, which seizes and unparks
 * it and rests at GRAB.  The handle table is the client thread's alone,
 * so the handle waits on dph_adopt, under dph_lock, until the client's
 * next call on the dtproc_t hashes it (ctl_adopt_settle); the client
 * holds its one reference meanwhile.  NULL if it could not be taken:
 * the child is then let go as it was.
 */
dtproc_proc_t *
ctl_adopt(dtproc_t *dtp, const pt_park_t *pk)
{
	dtproc_proc_t *pr;

	if ((pr = ctl_alloc(dtp, pk->pk_pid)) == NULL) {
		pt_park_undo(pk);
		return NULL;
	}
	pr->dpr_park = *pk;
	pr->dpr_follow = true;
	if (ctl_start(dtp, pr, DTPROC_STOP_GRAB) != 0) {
		ctl_finish(pr, PT_RELEASE_RUN);
		if (!pr->dpr_unparked)
			pt_park_undo(pk);
		ctl_drop_notices(dtp, pr);
		ctl_free(pr);
		return NULL;
	}
	pr->dpr_refs = 1;
	(void) pthread_mutex_lock(&dtp->dph_lock);
	pr->dpr_adnext = dtp->dph_adopt;
	dtp->dph_adopt = pr;
	(void) pthread_mutex_unlock(&dtp->dph_lock);
	return pr;
}

/* The adopted handles into the table: the client's thread only. */
void
ctl_adopt_settle(dtproc_t *dtp)
{
	dtproc_proc_t *pr;

	(void) pthread_mutex_lock(&dtp->dph_lock);
	pr = dtp->dph_adopt;
	dtp->dph_adopt = NULL;
	(void) pthread_mutex_unlock(&dtp->dph_lock);
	while (pr != NULL) {
		dtproc_proc_t *next = pr->dpr_adnext;

		pr->dpr_adnext = NULL;
		ctl_hash_insert(dtp, pr);
		pr->dpr_refs--;		/* the insert counted it again */
		pr = next;
	}
}

static char **
ctl_copy_argv(const char *file, char *const argv[])
{
	size_t n = 0;
	char **v;

	while (argv != NULL && argv[n] != NULL)
		n++;
	if ((v = calloc(n + 2, sizeof (char *))) == NULL)
		return NULL;
	if (n == 0) {
		v[0] = strdup(file);
		return v[0] != NULL ? v : (free(v), NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if ((v[i] = strdup(argv[i])) == NULL) {
			while (i-- > 0)
				free(v[i]);
			free(v);
			return NULL;
		}
	}
	return v;
}

DTPROC_API dtproc_proc_t *
dtproc_create(dtproc_t *dtp, const char *file, char *const argv[], int stop)
{
	dtproc_proc_t *pr;
	bool exact = (stop & DTPROC_CREATE_EXACT) != 0;

	stop &= ~DTPROC_CREATE_EXACT;
	if (stop == 0)
		stop = DTPROC_STOP_CREATE;	/* every create has a rendezvous */
	if (file == NULL || (stop & ~CTL_STOP_MASK) != 0 ||
	    (stop & DTPROC_STOP_GRAB)) {
		(void) err_set(EINVAL, "failed to execute %s: invalid "
		    "arguments", file != NULL ? file : "(null)");
		return NULL;
	}
	if ((pr = ctl_alloc(dtp, 0)) == NULL ||
	    (pr->dpr_file = strdup(file)) == NULL ||
	    (pr->dpr_argv = ctl_copy_argv(file, argv)) == NULL) {
		if (pr != NULL)
			ctl_free(pr);
		(void) err_set(ENOMEM, "failed to execute %s: %s", file,
		    strerror(ENOMEM));
		return NULL;
	}
	pr->dpr_created = true;
	pr->dpr_exact = exact;
	return ctl_launch(dtp, pr, (unsigned)stop, PT_RELEASE_KILL);
}

/* Is the process of this handle still the one it was grabbed as? */
static bool
ctl_same_process_locked(dtproc_proc_t *pr)
{
	if (pr->dpr_rdonly)
		return pr->dpr_P != NULL && pt_alive(pr->dpr_P);
	return pr->dpr_thread && !pr->dpr_done &&
	    pr->dpr_state != DTPROC_PS_DEAD && pr->dpr_state != DTPROC_PS_LOST;
}

static bool
ctl_same_process(dtproc_proc_t *pr)
{
	bool took, same;

	ctl_enter(pr, &took);
	same = ctl_same_process_locked(pr);
	ctl_leave(pr, took);
	return same;
}

DTPROC_API dtproc_proc_t *
dtproc_grab(dtproc_t *dtp, pid_t pid, int flags)
{
	size_t h = (size_t)pid & (dtp->dph_hashlen - 1);
	bool rdonly = (flags & (DTPROC_GRAB_RDONLY | DTPROC_GRAB_NOMONITOR))
	    != 0;
	dtproc_proc_t *pr;

	ctl_adopt_settle(dtp);
	for (pr = dtp->dph_hash[h]; pr != NULL; pr = pr->dpr_hash) {
		if (pr->dpr_pid != pid || pr->dpr_stale)
			continue;
		bool dead = !ctl_same_process(pr);

		if ((pr->dpr_rdonly && !rdonly) || dead) {

			/* upgrade to control, or a pid reused: start anew */
			pr->dpr_stale = true;
			if (pr->dpr_cacheable && dtp->dph_lrucnt > 0)
				dtp->dph_lrucnt--;
			pr->dpr_cacheable = false;
			/* the handle of a dead process that nobody holds */
			if (dead && pr->dpr_refs == 0)
				ctl_destroy(dtp, pr);
			break;
		}
		ctl_lru_unlink(dtp, pr);
		ctl_lru_push(dtp, pr);
		pr->dpr_refs++;
		/* a cached view may predate a dlopen or dlclose */
		if (pr->dpr_rdonly && pr->dpr_rtld != NULL)
			(void) rtld_refresh(pr->dpr_rtld);
		return pr;
	}
	if ((pr = ctl_alloc(dtp, pid)) == NULL) {
		(void) err_set(ENOMEM, "failed to grab pid %d: %s",
		    (int)pid, strerror(ENOMEM));
		return NULL;
	}
	if (rdonly) {
		if (pt_grab(pid, PT_GRAB_RDONLY, &pr->dpr_P) != 0) {
			ctl_free(pr);	/* the core's reason stands */
			return NULL;
		}
		pr->dpr_rdonly = true;
		snprintf(pr->dpr_exe, sizeof (pr->dpr_exe), "%s",
		    pt_exe(pr->dpr_P));
		if ((pr->dpr_sym = sym_proc_new(pid)) == NULL ||
		    (pr->dpr_rtld = rtld_new(pr->dpr_P, pr->dpr_sym)) == NULL) {
			(void) err_set(ENOMEM, "failed to grab pid %d: %s",
			    (int)pid, strerror(ENOMEM));
			(void) pt_release(pr->dpr_P, PT_RELEASE_DEFAULT);
			ctl_free(pr);
			return NULL;
		}
		/*
		 * One pass: a dlopen or dlclose in progress (-EAGAIN, the
		 * link maps not consistent) leaves the maps to serve, and
		 * the next grab of the cached handle reads the link maps
		 * again; waiting here for the linker would wait for the
		 * victim, with no bound.
		 */
		(void) rtld_refresh(pr->dpr_rtld);
		if (dtp->dph_lrucnt >= dtp->dph_lrulim) {
			dtproc_proc_t *o = dtp->dph_lru;

			while (o != NULL && o->dpr_lnext != NULL)
				o = o->dpr_lnext;	/* the oldest */
			for (; o != NULL; o = o->dpr_lprev) {
				if (o->dpr_cacheable && o->dpr_refs == 0) {
					ctl_destroy(dtp, o);
					break;
				}
			}
		}
		if (flags & DTPROC_GRAB_RDONLY) {
			pr->dpr_cacheable = true;
			dtp->dph_lrucnt++;
		}
	} else {
		return ctl_launch(dtp, pr, DTPROC_STOP_GRAB, PT_RELEASE_RUN);
	}
	ctl_hash_insert(dtp, pr);
	return pr;
}

DTPROC_API void
dtproc_release(dtproc_t *dtp, dtproc_proc_t *pr)
{
	ctl_adopt_settle(dtp);
	if (pr == NULL || pr->dpr_refs <= 0)
		return;
	/* a dead process is not worth caching: nobody can grab it again */
	if (--pr->dpr_refs == 0 && (!pr->dpr_cacheable || pr->dpr_stale ||
	    dtp->dph_lrucnt > dtp->dph_lrulim || !ctl_same_process(pr)))
		ctl_destroy(dtp, pr);
}

DTPROC_API void
dtproc_continue(dtproc_t *dtp, dtproc_proc_t *pr)
{
	bool took;

	(void) dtp;
	ctl_enter(pr, &took);
	if (pr->dpr_stop & CTL_STOP_IDLE) {
		pr->dpr_stop &= ~CTL_STOP_IDLE;
		(void) pthread_cond_broadcast(&pr->dpr_cv);
		ctl_wake_rest(pr);
	} else if ((pr->dpr_stop & CTL_STOP_MASK) && !pr->dpr_done) {
		pr->dpr_cont = true;	/* spend the next rendezvous */
	}
	ctl_leave(pr, took);
}

/*
 * Which handles this thread holds the lock of: kept per thread, so that
 * asking needs no shared state (a callback on the control thread, or a
 * client between dtproc_lock and dtproc_unlock, calls in without
 * deadlocking on its own lock).
 */
#define CTL_MAXHELD 16
static __thread dtproc_proc_t *ctl_held[CTL_MAXHELD];
static __thread int ctl_nheld;

bool
ctl_holds(dtproc_proc_t *pr)
{
	for (int i = 0; i < ctl_nheld; i++)
		if (ctl_held[i] == pr)
			return true;
	return false;
}

void
ctl_mark(dtproc_proc_t *pr)
{
	if (ctl_nheld < CTL_MAXHELD)
		ctl_held[ctl_nheld++] = pr;
}

void
ctl_unmark(dtproc_proc_t *pr)
{
	for (int i = 0; i < ctl_nheld; i++) {
		if (ctl_held[i] == pr) {
			ctl_held[i] = ctl_held[--ctl_nheld];
			return;
		}
	}
}

void
ctl_enter(dtproc_proc_t *pr, bool *took)
{
	if (ctl_holds(pr)) {
		*took = false;
		return;
	}
	(void) pthread_mutex_lock(&pr->dpr_lock);
	ctl_mark(pr);
	pr->dpr_visitors++;
	*took = true;
}

void
ctl_leave(dtproc_proc_t *pr, bool took)
{
	if (!took)
		return;
	ctl_unmark(pr);
	if (--pr->dpr_visitors == 0)
		(void) pthread_cond_broadcast(&pr->dpr_cv);
	(void) pthread_mutex_unlock(&pr->dpr_lock);
}

DTPROC_API void
dtproc_lock(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	(void) pthread_mutex_lock(&pr->dpr_lock);
	ctl_mark(pr);
}

DTPROC_API void
dtproc_unlock(dtproc_t *dtp, dtproc_proc_t *pr)
{
	(void) dtp;
	ctl_unmark(pr);
	(void) pthread_mutex_unlock(&pr->dpr_lock);
}

void
ctl_notify(dtproc_t *dtp, dtproc_proc_t *pr, const char *msg)
{
	ctl_notice_t *n = calloc(1, sizeof (*n));
	uint64_t one = 1;

	if (n == NULL)
		return;
	n->cn_proc = pr;
	if (msg != NULL)
		snprintf(n->cn_msg, sizeof (n->cn_msg), "%s", msg);
	(void) pthread_mutex_lock(&dtp->dph_lock);
	if (dtp->dph_notify_tail != NULL)
		dtp->dph_notify_tail->cn_next = n;
	else
		dtp->dph_notify = n;
	dtp->dph_notify_tail = n;
	(void) write(dtp->dph_efd, &one, sizeof (one));
	(void) pthread_mutex_unlock(&dtp->dph_lock);
}

DTPROC_API int
dtproc_notify_fd(dtproc_t *dtp)
{
	return dtp->dph_efd;
}

DTPROC_API int
dtproc_handle_notify(dtproc_t *dtp, dtproc_notify_f *fn, void *arg)
{
	uint64_t v;
	int n = 0;

	/*
	 * One at a time from the live queue: a callback that releases a
	 * handle drops its other notices with it, before we could reach
	 * them.
	 */
	(void) read(dtp->dph_efd, &v, sizeof (v));
	ctl_adopt_settle(dtp);
	for (;;) {
		ctl_notice_t *cn;

		(void) pthread_mutex_lock(&dtp->dph_lock);
		if ((cn = dtp->dph_notify) != NULL) {
			dtp->dph_notify = cn->cn_next;
			if (dtp->dph_notify == NULL)
				dtp->dph_notify_tail = NULL;
		}
		(void) pthread_mutex_unlock(&dtp->dph_lock);
		if (cn == NULL)
			break;
		if (fn != NULL)
			fn(dtp, cn->cn_proc, cn->cn_msg[0] ? cn->cn_msg : NULL,
			    arg);
		free(cn);
		n++;
	}
	return n;
}

DTPROC_API int
dtproc_sleep(dtproc_t *dtp, int timeout_ms)
{
	struct pollfd p = { .fd = dtp->dph_efd, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : r;
}
