/*
 * harm.c - never harm, never hang, never mislead (issue 11, library
 * part), through the public API: a site does not outlive its object; a
 * dlopen/dlclose loop with its plugin probed runs in bounded memory; a
 * process killed while it rests at a rendezvous is reported dead at
 * once; a static program's PREINIT; a grab of a process waiting in vfork
 * returns at once; a process sharing the victim's memory is not harmed.
 *
 * The internal counts of the memory test come from the control layer's
 * and the core's structures (tests link the internal archive).  As in
 * ctl.c, a victim traced by one of our control threads is never
 * waitpid()ed while traced.
 */
#include "dtproc.h"
#include "harness.h"
#include "ctl/ctl.h"
#include "ptrace/pt_impl.h"

#include <poll.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>

/* Milliseconds since *T0 (CLOCK_MONOTONIC). */
static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static void
count_hit(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) dtp, (void) pr, (void) tid, (void) addr;
	atomic_fetch_add((atomic_int *)arg, 1);
}

static const char *
lib_path(const char *name)
{
	static char path[2][4096];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof (path[k]), "%s", build_file(name, R_OK,
	    "test library"));
	return path[k];
}

/* The created victim, given its last go line, exits 0: all let go. */
static void
dt_exits_ok(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v)
{
	victim_go(v);
	CHECK_MSG(dtproc_sleep(dtp, 10000) > 0, "no exit notice");
	CHECK_EXITED(dtproc_status(dtp, pr), 0);
	dtproc_release(dtp, pr);
	victim_close(v);
	dtproc_close(dtp);
}

/* ------------------------------------------------ A: sites die with text */

/*
 * LIBA is opened, probed, hit, closed; LIBB opened where it was and
 * probed again: the new site must fire, and a fork child must run
 * LIBB's code, not LIBA's byte.  LIBB's harm_fn computes 7x, LIBA's 3x+1.
 */
static void
reopen_case(const char *liba, const char *libb, int expect)
{
	dtproc_t *dtp = open_ok();
	struct victim v;
	char line[256];
	atomic_int hits = 0;
	uintptr_t fa, fb;
	dtproc_proc_t *pr = create_ok(dtp, "harmv", (char *[]){
	    "reopen", (char *)lib_path(liba), (char *)lib_path(libb), NULL },
	    DTPROC_STOP_CREATE, &v);

	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	victim_go(&v);
	fa = line_field(victim_expect(&v, line, sizeof (line), "opened"),
	    "fn");
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, fa, count_hit, &hits), 0);
	victim_go(&v);
	CHECK_EQ_INT(line_field(victim_expect(&v, line, sizeof (line),
	    "called"), "r"), 22);
	CHECK_EQ_INT(atomic_load(&hits), 1);
	victim_expect(&v, line, sizeof (line), "closed");
	victim_go(&v);
	fb = line_field(victim_expect(&v, line, sizeof (line), "opened"),
	    "fn");
	if (fb != fa)
		SKIP("%s mapped at %#lx, not where %s was (%#lx)", libb,
		    (unsigned long)fb, liba, (unsigned long)fa);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, fb, count_hit, &hits), 0);
	victim_go(&v);
	CHECK_EQ_INT(line_field(victim_expect(&v, line, sizeof (line),
	    "called"), "r"), expect);
	CHECK_MSG(atomic_load(&hits) == 2, "the site in the new object did "
	    "not fire: %d hits", atomic_load(&hits));
	victim_expect(&v, line, sizeof (line), "child");
	CHECK_MSG(line_field(line, "st") == (unsigned)(expect << 8) &&
	    (int)line_field(line, "r") == expect,
	    "fork child harmed: %s (expected r=%d)", line, expect);
	dt_exits_ok(dtp, pr, &v);
}

TEST(site_dies_with_object_other)
{
	reopen_case("libs/libharma.so", "libs/libharmb.so", 49);
}

TEST(site_dies_with_object_same)
{
	reopen_case("libs/libharma.so", "libs/libharma.so", 22);
}

/* ------------------------------------------- 12: bounded memory in cycles */

struct cyc {
	atomic_int hits;
	int arms;
	uintptr_t last;
};

/* At each dlopen, arm libharma's harm_fn, wherever it landed. */
static int
cyc_dlact(dtproc_t *dtp, dtproc_proc_t *pr, void *arg)
{
	struct cyc *c = arg;
	dtproc_sym_t si;

	if (dtproc_sym_lookup(dtp, pr, "libharma.so`harm_fn", &si) != 0) {
		c->last = 0;		/* closed: its site went with it */
		return 0;
	}
	if (si.ds_addr == c->last)
		return 0;
	c->last = si.ds_addr;
	c->arms++;
	return dtproc_bkpt_add(dtp, pr, si.ds_addr, count_hit, &c->hits);
}

static long
rss_kb(pid_t pid)
{
	char path[64];
	long size, res = -1;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/statm", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

#define CYC_WARM	300
#define CYC_N		(CYC_WARM + 2000)

TEST_TIMEOUT(cycles_in_bounded_memory, 60)
{
	dtproc_t *dtp = open_ok();
	struct cyc c = { 0 };
	struct victim v;
	char line[256], n[16], w[16];
	long me0, vic0, me1, vic1;

	snprintf(n, sizeof (n), "%d", CYC_N);
	snprintf(w, sizeof (w), "%d", CYC_WARM);
	dtproc_set_dlactivity(dtp, cyc_dlact, &c);
	dtproc_proc_t *pr = create_ok(dtp, "harmv", (char *[]){
	    "cycle", n, w, (char *)lib_path("libs/libharma.so"), NULL },
	    DTPROC_STOP_CREATE, &v);

	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "warm");
	me0 = rss_kb(getpid());
	vic0 = rss_kb(v.pid);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "done");
	me1 = rss_kb(getpid());
	vic1 = rss_kb(v.pid);
	tinfo("rss: tracer %ld -> %ld KiB, victim %ld -> %ld KiB; %d hits",
	    me0, me1, vic0, vic1, atomic_load(&c.hits));
	CHECK_EQ_INT(atomic_load(&c.hits), CYC_N);
	/* what the library keeps: what the live plugin needs, no more */
	dtproc_lock(dtp, pr);
	int arms = c.arms;		/* the callback's, under the lock */
	pt_proc_t *P = pr->dpr_P;
	int nbp = P->pp_nbp, ngone = P->pp_ngone, nslots = P->pp_nslots,
	    nxol = P->pp_nxol;
	size_t nrec = pr->dpr_bps.ah_n;
	dtproc_unlock(dtp, pr);
	CHECK_EQ_INT(arms, CYC_N);
	tinfo("sites %d gone %d slots %d areas %d client records %zu", nbp,
	    ngone, nslots, nxol, nrec);
	CHECK_MSG(nbp < 16 && ngone < 16 && nslots < 16 && nxol <= 2 &&
	    nrec < 16, "kept for unmapped objects: %d sites, %d removed "
	    "sites, %d slots, %d areas, %zu client records", nbp, ngone,
	    nslots, nxol, nrec);
	/* a sanitizer's allocator keeps freed memory aside (quarantine) */
	const char *san = getenv("DTPROC_SAN");
	if (san == NULL || *san == '\0')
		CHECK_MSG(me1 - me0 < 1024, "tracer RSS grew %ld KiB over %d "
		    "cycles", me1 - me0, CYC_N - CYC_WARM);
	CHECK_MSG(vic1 - vic0 < 1024, "victim RSS grew %ld KiB over %d "
	    "cycles", vic1 - vic0, CYC_N - CYC_WARM);
	dt_exits_ok(dtp, pr, &v);
}

/* ------------------------------------------- B: death at a rendezvous */

/*
 * PR rests at a rendezvous; SIGKILL it: a notice comes at once, the
 * state is DEAD, a wait for the stop says it died.
 */
static void
death_at_rest(dtproc_t *dtp, dtproc_proc_t *pr, pid_t pid)
{
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, 10000), 0);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	CHECK_EQ_INT(kill(pid, SIGKILL), 0);
	CHECK_MSG(dtproc_sleep(dtp, 5000) > 0, "no notice 5 s after the "
	    "process was killed at its rendezvous");
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_DEAD);
	CHECK_EQ_INT(dtproc_wait_stopped(dtp, pr, 1000), -DTPROC_EDEAD);
	CHECK_KILLED(dtproc_status(dtp, pr), SIGKILL);
}

/* Created with STOP, resting there, killed. */
static void
death_of_created(int stop)
{
	dtproc_t *dtp = open_ok();
	struct victim v;
	dtproc_proc_t *pr = create_ok(dtp, "ctlv",
	    (char *[]){ "wait", NULL }, stop, &v);

	death_at_rest(dtp, pr, v.pid);
	dtproc_release(dtp, pr);
	victim_close(&v);
	dtproc_close(dtp);
}

TEST_TIMEOUT(death_at_create_rendezvous, 20)
{
	death_of_created(DTPROC_STOP_CREATE);
}

TEST_TIMEOUT(death_at_preinit_rendezvous, 20)
{
	death_of_created(DTPROC_STOP_PREINIT);
}

TEST_TIMEOUT(death_at_grab_rendezvous, 20)
{
	dtproc_t *dtp = open_ok();
	struct victim v;
	char line[256];
	dtproc_proc_t *pr;

	spawn_victim("ctlv", (char *[]){ "wait", NULL }, &v);
	victim_ready(&v, line, sizeof (line));
	if ((pr = dtproc_grab(dtp, v.pid, 0)) == NULL)
		FAIL("dtproc_grab: %s", dtproc_errmsg(dtp));
	death_at_rest(dtp, pr, v.pid);
	dtproc_release(dtp, pr);
	victim_close(&v);
	dtproc_close(dtp);
}

/* ------------------------------------------- F: static PREINIT */

static void
note_event(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	(void) dtp, (void) pr;
	if (ev->de_kind == DTPROC_EV_PREINIT)
		atomic_fetch_add((atomic_int *)arg, 1);
}

/*
 * A static program's PREINIT is its exec stop: everything is loaded,
 * nothing has run.  The call succeeds there, with the PREINIT event.
 */
TEST(static_preinit_is_exec_stop)
{
	dtproc_t *dtp = open_ok();
	atomic_int preinits = 0;
	struct victim v;
	char line[256];
	dtproc_sym_t si;

	dtproc_set_event(dtp, note_event, &preinits);
	dtproc_proc_t *pr = create_ok(dtp, "staticv", NULL,
	    DTPROC_STOP_PREINIT, &v);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	CHECK_EQ_INT(atomic_load(&preinits), 1);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "staticv_func", &si), 0);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "func"), si.ds_addr);
	victim_go(&v);
	dtproc_release(dtp, pr);
	victim_close(&v);
	CHECK_EQ_INT(atomic_load(&preinits), 1);
	dtproc_close(dtp);
}

/* ------------------------------------------- 11: a grab during vfork */

/*
 * harmv vfork spawned, its parent asleep in vfork (the child runs until
 * the test's next line), grabbed: at once, resting.
 */
static dtproc_proc_t *
grab_in_vfork(dtproc_t *dtp, struct victim *v)
{
	char line[256];
	dtproc_proc_t *pr;
	struct timespec t0;
	long t;

	spawn_victim("harmv", (char *[]){ "vfork", NULL }, v);
	victim_ready(v, line, sizeof (line));
	victim_expect(v, line, sizeof (line), "child");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pr = dtproc_grab(dtp, v->pid, 0)) == NULL)
		FAIL("dtproc_grab: %s", dtproc_errmsg(dtp));
	t = ms_since(&t0);
	CHECK_MSG(t < 1000, "grab took %ld ms", t);
	CHECK_EQ_INT(dtproc_state(dtp, pr), DTPROC_PS_STOP);
	return pr;
}

/* Released at once: nothing waits for the thread in vfork. */
static void
release_at_once(dtproc_t *dtp, dtproc_proc_t *pr)
{
	struct timespec t0;
	long t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	dtproc_release(dtp, pr);
	t = ms_since(&t0);
	CHECK_MSG(t < 1000, "release took %ld ms", t);
}

/* The child execs while the parent runs under control. */
TEST_TIMEOUT(grab_during_vfork, 15)
{
	dtproc_t *dtp = open_ok();
	struct victim v;
	char line[256];
	dtproc_proc_t *pr = grab_in_vfork(dtp, &v);

	dtproc_continue(dtp, pr);
	victim_go(&v);			/* the child execs */
	victim_expect(&v, line, sizeof (line), "back");
	release_at_once(dtp, pr);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	victim_close(&v);
	dtproc_close(dtp);
}

/* Released while the parent still waits in vfork. */
TEST_TIMEOUT(release_during_vfork, 15)
{
	dtproc_t *dtp = open_ok();
	struct victim v;
	char line[256];

	release_at_once(dtp, grab_in_vfork(dtp, &v));
	dtproc_close(dtp);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "back");
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	victim_close(&v);
}

/* ------------------------------------------- 4: memory shared before */

TEST_TIMEOUT(grab_spares_memory_sharer, 20)
{
	dtproc_t *dtp = open_ok();
	atomic_int hits = 0;
	struct victim v;
	char line[256];
	dtproc_proc_t *pr;
	uintptr_t target;

	spawn_victim("harmv", (char *[]){ "sibling", NULL }, &v);
	target = line_field(victim_ready(&v, line, sizeof (line)), "target");
	if ((pr = dtproc_grab(dtp, v.pid, 0)) == NULL)
		FAIL("dtproc_grab: %s", dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, target, count_hit, &hits), 0);
	dtproc_continue(dtp, pr);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "sibling");
	CHECK_MSG(strncmp(line, "sibling 0 ", 10) == 0 &&
	    line_field(line, "r") == 42, "the sibling was harmed: %s", line);
	dtproc_release(dtp, pr);	/* before it exits: it is our child */
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	victim_close(&v);
	dtproc_close(dtp);
}
