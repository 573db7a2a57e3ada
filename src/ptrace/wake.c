/*
 * wake.c - waking an owner thread out of its blocking wait.
 *
 * The owner blocks in waitpid(), which no descriptor can interrupt; a
 * signal whose handler was installed without SA_RESTART can.  A signal
 * sent after the owner checked for work but before it entered waitpid()
 * is lost, so the poster does not send once and hope: it counts its post,
 * sends, and waits for the owner to acknowledge that count, sending again
 * on a short, growing interval until it does.  The owner checks the count
 * before blocking and acknowledges once it has acted on what it saw.
 *
 * The signal is PT_WAKE_SIG; its handler does nothing.  Only owners are
 * ever sent it (by thread id), so the rest of the process never sees it.
 */
#include "pt_impl.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PT_WAKE_SIG (SIGRTMAX - 2)

struct pt_wake {
	pthread_t pw_owner;		/* thread to interrupt */
	atomic_ulong pw_posted;		/* posts so far */
	atomic_ulong pw_acked;		/* posts the owner has acted on */
	unsigned long pw_seen;		/* owner only: posts it last saw */
	pthread_mutex_t pw_lock;	/* for pw_cv */
	pthread_cond_t pw_cv;		/* signalled on each ack */
	pid_t pw_tid;			/* the owner's thread id */
	timer_t pw_timer;		/* pt_wake_every's, once made */
	bool pw_has_timer;
};

static void
pt_wake_handler(int sig)
{
	(void) sig;
}

static void
pt_wake_install(void)
{
	struct sigaction sa = { .sa_handler = pt_wake_handler };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt waitpid() */
	(void) sigaction(PT_WAKE_SIG, &sa, NULL);
}

static pthread_once_t pt_wake_once = PTHREAD_ONCE_INIT;

/* The signal, for a timer that must interrupt waitpid too (share.c). */
int
pt_wake_signal(void)
{
	(void) pthread_once(&pt_wake_once, pt_wake_install);
	return PT_WAKE_SIG;
}

pt_wake_t *
pt_wake_init(void)
{
	pt_wake_t *w = calloc(1, sizeof (*w));
	pthread_condattr_t ca;
	sigset_t set;

	if (w == NULL)
		return NULL;
	(void) pthread_once(&pt_wake_once, pt_wake_install);
	w->pw_owner = pthread_self();
	w->pw_tid = (pid_t)syscall(SYS_gettid);
	atomic_init(&w->pw_posted, 0);
	atomic_init(&w->pw_acked, 0);
	(void) pthread_mutex_init(&w->pw_lock, NULL);
	(void) pthread_condattr_init(&ca);
	(void) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&w->pw_cv, &ca);
	(void) pthread_condattr_destroy(&ca);
	sigemptyset(&set);
	sigaddset(&set, PT_WAKE_SIG);
	(void) pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return w;
}

void
pt_wake_fini(pt_wake_t *w)
{
	if (w == NULL)
		return;
	if (w->pw_has_timer)
		(void) timer_delete(w->pw_timer);
	(void) pthread_mutex_destroy(&w->pw_lock);
	(void) pthread_cond_destroy(&w->pw_cv);
	free(w);
}

void
pt_wake_post(pt_wake_t *w)
{
	unsigned long mine = atomic_fetch_add(&w->pw_posted, 1) + 1;
	long backoff_ns = 200 * 1000;

	(void) pthread_mutex_lock(&w->pw_lock);
	while (atomic_load(&w->pw_acked) < mine) {
		struct timespec ts;

		if (pthread_kill(w->pw_owner, PT_WAKE_SIG) != 0)
			break;		/* the owner is gone */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += backoff_ns;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		(void) pthread_cond_timedwait(&w->pw_cv, &w->pw_lock, &ts);
		if (backoff_ns < 50 * 1000 * 1000)
			backoff_ns *= 2;
	}
	(void) pthread_mutex_unlock(&w->pw_lock);
}

/*
 * Post without waiting for the acknowledgement: for a poster that cannot
 * block (it holds a lock the owner needs) and re-kicks on its own until
 * its request is served.
 */
void
pt_wake_kick(pt_wake_t *w)
{
	(void) atomic_fetch_add(&w->pw_posted, 1);
	(void) pthread_kill(w->pw_owner, PT_WAKE_SIG);
}

/* Owner: is there a post?  Only the posts seen here are acknowledged. */
int
pt_wake_pending(pt_wake_t *w)
{
	w->pw_seen = atomic_load(&w->pw_posted);
	return w->pw_seen != atomic_load(&w->pw_acked);
}

void
pt_wake_ack(pt_wake_t *w)
{
	(void) pthread_mutex_lock(&w->pw_lock);
	atomic_store(&w->pw_acked, w->pw_seen);
	(void) pthread_cond_broadcast(&w->pw_cv);
	(void) pthread_mutex_unlock(&w->pw_lock);
}

void
pt_set_wake(pt_proc_t *P, pt_wake_t *w)
{
	P->pp_wake = w;
}

/*
 * Owner: interrupt our own wait every MS milliseconds (0: no more), for
 * work that no tracee event announces (a site to patch once a thread has
 * left its window).  Periodic, so an interruption landing just before
 * the wait blocks costs one period, not the work.  0 or -errno.
 */
int
pt_wake_every(pt_wake_t *w, long ms)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (!w->pw_has_timer) {
		struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID,
		    .sigev_signo = PT_WAKE_SIG };

		if (ms == 0)
			return 0;
		sev._sigev_un._tid = w->pw_tid;
		if (timer_create(CLOCK_MONOTONIC, &sev, &w->pw_timer) != 0)
			return -errno;
		w->pw_has_timer = true;
	}
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000L;
	its.it_interval = its.it_value;
	return timer_settime(w->pw_timer, 0, &its, NULL) == 0 ? 0 : -errno;
}
