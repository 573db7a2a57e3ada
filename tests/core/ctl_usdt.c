/*
 * ctl_usdt.c - USDT (sys/sdt.h) probes through the public API: the notes
 * listed with their addresses, semaphores and parsed arguments (in a
 * process and in the file), arguments read at each firing equal to what
 * the victim printed for it (every operand form gcc gave usdtv: register
 * parts, constants, the stack, an indexed element, a global), counts,
 * semaphores raised while armed and lowered at del and at release, the
 * same in a dlopened library, and the errors.
 *
 * The victim (usdtv) prints a line with the values of a probe's
 * arguments just before firing it, and "done" after a round: the hits of
 * a round were all recorded by then (a callback runs before its thread
 * goes on).
 */
#include "ctlsupport.h"

#include <pthread.h>

#define LOG_MAX		256

/* Every firing seen by the STOP callback, in order. */
struct ulog {
	pthread_mutex_t lock;
	int n;
	struct {
		char name[32];
		int nargs;		/* or the negative code */
		char why[256];
		uint64_t vals[DTPROC_USDT_NARGS];
	} e[LOG_MAX];
};

static struct ulog ulog = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A probe's name, by address, for the callback. */
struct uprobe {
	uintptr_t addr;
	char name[32];
};

static void
ulog_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct uprobe *u = arg;
	int k;

	pthread_mutex_lock(&ulog.lock);
	if ((k = ulog.n) < LOG_MAX) {
		ulog.n++;
		snprintf(ulog.e[k].name, sizeof (ulog.e[k].name), "%s",
		    u->name);
		ulog.e[k].nargs = dtproc_usdt_args(dtp, pr, tid, addr,
		    ulog.e[k].vals, DTPROC_USDT_NARGS);
		snprintf(ulog.e[k].why, sizeof (ulog.e[k].why), "%s",
		    ulog.e[k].nargs < 0 ? dtproc_errmsg(dtp) : "");
	}
	pthread_mutex_unlock(&ulog.lock);
}

static void
ulog_reset(void)
{
	pthread_mutex_lock(&ulog.lock);
	ulog.n = 0;
	pthread_mutex_unlock(&ulog.lock);
}

/* What a walk collected. */
struct ulist {
	int n;
	dtproc_usdt_t u[32];
	char strs[32][3][128];	/* object, provider, name: the walk's
				   strings live for the call only */
	char why[32][256];
};

static int
ulist_cb(const dtproc_usdt_t *u, void *arg)
{
	struct ulist *l = arg;

	if (l->n == 32)
		return 1;
	l->u[l->n] = *u;
	snprintf(l->strs[l->n][0], 128, "%s", u->du_object);
	snprintf(l->strs[l->n][1], 128, "%s", u->du_provider);
	snprintf(l->strs[l->n][2], 128, "%s", u->du_name);
	snprintf(l->why[l->n], 256, "%s", u->du_why != NULL ? u->du_why : "");
	l->u[l->n].du_object = l->strs[l->n][0];
	l->u[l->n].du_provider = l->strs[l->n][1];
	l->u[l->n].du_name = l->strs[l->n][2];
	l->u[l->n].du_why = l->why[l->n];
	for (int i = 0; i < DTPROC_USDT_NARGS; i++) {
		/* register names are static; a symbol's is the note's */
		if (u->du_args[i].dua_sym != NULL)
			l->u[l->n].du_args[i].dua_sym = "sym";
	}
	l->n++;
	return 0;
}

static const dtproc_usdt_t *
ulist_find(const struct ulist *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->u[i].du_name, name) == 0)
			return &l->u[i];
	FAIL("no USDT probe %s", name);
	return NULL;
}

/* usdtv created and run to its ready line: its semaphore in *SEMA. */
static dtproc_proc_t *
usdtv(dtproc_t *dtp, struct victim *v, uintptr_t *sema)
{
	dtproc_proc_t *pr = create_ok(dtp, "usdtv", NULL, DTPROC_STOP_MAIN,
	    v);
	char line[256];

	dtproc_continue(dtp, pr);
	victim_ready(v, line, sizeof (line));
	*sema = (uintptr_t)line_field(line, "sema");
	return pr;
}

static const char *
usdtlib_path(void)
{
	return build_file("libs/libusdtlib.so", R_OK, "test library");
}

/* "s": the semaphores as the victim reads them; lib -1: not open. */
static void
semas(struct victim *v, int *gated, int *lib)
{
	char line[256];

	victim_send(v, "s\n");
	victim_expect(v, line, sizeof (line), "sema ");
	*gated = (int)line_field(line, "gated");
	*lib = atoi(strstr(line, "lib=") + 4);
}

/*
 * "r N", every line before "done" of a probe in L checked against the
 * log (read once "done" is: a line comes before its firing): the
 * probe's name and each key=value its arguments, in order.  The "done"
 * line into DONE.
 */
static void
round_check(struct victim *v, const struct ulist *l, int n, char *done,
    size_t len)
{
	static char lines[LOG_MAX][256];
	char cmd[32];
	int nl = 0, k = 0;

	ulog_reset();
	snprintf(cmd, sizeof (cmd), "r %d\n", n);
	victim_send(v, cmd);
	for (;;) {
		char line[256], name[32];
		bool armed = false;

		CHECK_MSG(victim_readline(v, line, sizeof (line)) >= 0,
		    "victim gone");
		if (strncmp(line, "done ", 5) == 0) {
			snprintf(done, len, "%s", line);
			break;
		}
		snprintf(name, sizeof (name), "%.*s", (int)strcspn(line, " "),
		    line);
		for (int i = 0; i < l->n; i++)
			armed |= strcmp(l->u[i].du_name, name) == 0;
		if (armed && nl < LOG_MAX)
			snprintf(lines[nl++], sizeof (lines[0]), "%s", line);
	}
	pthread_mutex_lock(&ulog.lock);
	CHECK_EQ_INT(ulog.n, nl);	/* a firing for each line, no more */
	for (k = 0; k < nl; k++) {
		char *p, *save = NULL;
		int a = 0;

		p = strtok_r(lines[k], " ", &save);
		CHECK_STR_EQ(ulog.e[k].name, p);
		if (strcmp(p, "bad") == 0) {
			CHECK_EQ_INT(ulog.e[k].nargs, -EINVAL);
			CHECK_CONTAINS(ulog.e[k].why, "xmm0");
			continue;
		}
		CHECK_MSG(ulog.e[k].nargs >= 0, "%s: %s", p, ulog.e[k].why);
		while ((p = strtok_r(NULL, " ", &save)) != NULL) {
			char *eq = strchr(p, '=');
			uint64_t want = eq[1] == '-' ?
			    (uint64_t)strtoll(eq + 1, NULL, 0) :
			    strtoull(eq + 1, NULL, 0);

			CHECK_MSG(a < ulog.e[k].nargs, "%s: %s past its %d "
			    "arguments", ulog.e[k].name, p, ulog.e[k].nargs);
			CHECK_MSG(ulog.e[k].vals[a] == want, "%s arg%d (%s): "
			    "read %#llx", ulog.e[k].name, a, p,
			    (unsigned long long)ulog.e[k].vals[a]);
			a++;
		}
		CHECK_EQ_INT(a, ulog.e[k].nargs);
	}
	pthread_mutex_unlock(&ulog.lock);
}

/* Arm every probe in L as STOP probes logging their arguments. */
static void
arm_all(dtproc_t *dtp, dtproc_proc_t *pr, const struct ulist *l,
    struct uprobe *up)
{
	for (int i = 0; i < l->n; i++) {
		up[i].addr = l->u[i].du_addr;
		snprintf(up[i].name, sizeof (up[i].name), "%s",
		    l->u[i].du_name);
		CHECK_MSG(dtproc_usdt_add(dtp, pr, up[i].addr,
		    DTPROC_PROBE_STOP, ulog_cb, &up[i]) == 0, "usdt_add %s: %s",
		    up[i].name, dtproc_errmsg(dtp));
	}
}

TEST(ctl_usdt_list)
{
	CTL_LOCALS;
	struct ulist l = { 0 }, f = { 0 }, g = { 0 };
	const dtproc_usdt_t *u;
	uintptr_t sema;

	pr = usdtv(dtp, &v, &sema);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "a.out", NULL, NULL, ulist_cb,
	    &l), 0);
	CHECK_EQ_INT(l.n, 5);
	for (int i = 0; i < l.n; i++) {
		CHECK_STR_EQ(l.u[i].du_provider, "usdtv");
		CHECK_STR_EQ(l.u[i].du_object, "usdtv");
	}
	u = ulist_find(&l, "gated");
	CHECK_EQ_INT(u->du_sema, sema);
	CHECK_EQ_INT(u->du_nargs, 2);
	CHECK_EQ_INT(u->du_args[0].dua_kind, DTPROC_USDT_REG);
	CHECK_EQ_INT(u->du_args[0].dua_signed, 1);
	CHECK_EQ_INT(u->du_args[1].dua_kind, DTPROC_USDT_MEM);
	CHECK(u->du_args[1].dua_sym != NULL);	/* counter(%rip) */
	CHECK(u->du_args[1].dua_reg == NULL);
	u = ulist_find(&l, "plain");
	CHECK_EQ_INT(u->du_sema, 0);
	CHECK_EQ_INT(u->du_nargs, 6);
	CHECK_EQ_INT(u->du_args[2].dua_size, 8);
	CHECK_EQ_INT(u->du_args[2].dua_signed, 0);
	CHECK_EQ_INT(u->du_args[3].dua_kind, DTPROC_USDT_CONST);
	CHECK_EQ_INT(u->du_args[3].dua_disp, 5);
	CHECK_EQ_INT(u->du_args[4].dua_kind, DTPROC_USDT_MEM);
	CHECK_STR_EQ(u->du_args[4].dua_reg, "rsp");
	CHECK_EQ_INT(u->du_args[5].dua_kind, DTPROC_USDT_MEM);
	CHECK(u->du_args[5].dua_index != NULL);
	CHECK_EQ_INT(u->du_args[5].dua_scale, 4);
	u = ulist_find(&l, "small");
	CHECK_EQ_INT(u->du_args[0].dua_size, 1);
	CHECK_EQ_INT(u->du_args[1].dua_size, 2);
	CHECK_EQ_INT(u->du_args[2].dua_disp, -1);
	u = ulist_find(&l, "slow");
	CHECK_STR_EQ(u->du_args[0].dua_reg, "rbp");
	CHECK_EQ_INT(u->du_args[0].dua_disp, -20);
	u = ulist_find(&l, "bad");
	CHECK_EQ_INT(u->du_nargs, -1);
	CHECK_CONTAINS(u->du_why, "xmm0");
	/* the file's notes: the same probes, less the bias */
	CHECK_EQ_INT(dtproc_usdt_file_iter(dtp, victim_path("usdtv"), NULL,
	    NULL, ulist_cb, &f), 0);
	CHECK_EQ_INT(f.n, 5);
	for (int i = 0; i < f.n; i++)
		CHECK_EQ_INT(f.u[i].du_addr + l.u[0].du_bias,
		    ulist_find(&l, f.u[i].du_name)->du_addr);
	CHECK_EQ_INT(ulist_find(&f, "gated")->du_sema + l.u[0].du_bias, sema);
	/* globs on provider and name */
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, NULL, "usdt?", "g*", ulist_cb,
	    &g), 0);
	CHECK_EQ_INT(g.n, 1);
	CHECK_STR_EQ(g.u[0].du_name, "gated");
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_usdt_args)
{
	CTL_LOCALS;
	struct ulist l = { 0 };
	struct uprobe up[8];
	uintptr_t sema;
	int gated, lib;

	pr = usdtv(dtp, &v, &sema);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "a.out", NULL, NULL, ulist_cb,
	    &l), 0);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 0);
	arm_all(dtp, pr, &l, up);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 1);			/* raised while armed */
	CHECK_EQ_INT(read_byte(dtp, pr, sema), 1);
	round_check(&v, &l, 3, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "setups"), 3);
	/* deleted: lowered, the gated probe's set-up skipped again */
	CHECK_EQ_INT(dtproc_usdt_del(dtp, pr, ulist_find(&l,
	    "gated")->du_addr), 0);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 0);
	round_check(&v, &l, 2, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "setups"), 3);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_usdt_counted)
{
	CTL_LOCALS;
	struct ulist l = { 0 };
	dtproc_probe_info_t pi;
	uintptr_t sema;

	pr = usdtv(dtp, &v, &sema);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "a.out", NULL, NULL, ulist_cb,
	    &l), 0);
	for (int i = 0; i < l.n; i++)
		CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, l.u[i].du_addr, 0, NULL,
		    NULL), 0);
	victim_send(&v, "r 50\n");
	victim_expect(&v, line, sizeof (line), "done ");
	CHECK_EQ_INT(line_field(line, "setups"), 50);
	for (int i = 0; i < l.n; i++) {
		CHECK_EQ_INT(dtproc_probe_info(dtp, pr, l.u[i].du_addr, &pi),
		    0);
		CHECK_MSG(pi.dpi_hits == 50, "%s: %llu hits", l.u[i].du_name,
		    (unsigned long long)pi.dpi_hits);
	}
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_usdt_release)
{
	CTL_LOCALS;
	struct ulist l = { 0 };
	uintptr_t gsite;
	int gated, lib;

	spawn_ready("usdtv", NULL, &v, line, sizeof (line));
	pr = grab_ctl(dtp, v.pid, 0);
	victim_send(&v, "o ");
	victim_send(&v, usdtlib_path());
	victim_send(&v, "\n");
	dtproc_continue(dtp, pr);
	victim_expect(&v, line, sizeof (line), "opened");
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, NULL, NULL, "g*", ulist_cb,
	    &l), 0);
	CHECK_EQ_INT(l.n, 2);
	for (int i = 0; i < l.n; i++)
		CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, l.u[i].du_addr, 0, NULL,
		    NULL), 0);
	gsite = ulist_find(&l, "gated")->du_addr;
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 1);
	CHECK_EQ_INT(lib, 1);
	/* let go: both lowered, the probes undone */
	dtproc_release(dtp, pr);
	CHECK_EQ_INT(text_matches_file(v.pid, gsite, 8), 1);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 0);
	CHECK_EQ_INT(lib, 0);
	victim_send(&v, "r 2\n");
	victim_expect(&v, line, sizeof (line), "done ");
	CHECK_EQ_INT(line_field(line, "setups"), 0);
	CHECK_EQ_INT(line_field(line, "lsetups"), 0);
	quit_untraced(dtp, &v);
}

TEST(ctl_usdt_dlopen)
{
	CTL_LOCALS;
	struct ulist l = { 0 }, l2 = { 0 };
	struct uprobe up[4];
	uintptr_t sema;
	int gated, lib;
	char cmd[4200];

	pr = usdtv(dtp, &v, &sema);
	snprintf(cmd, sizeof (cmd), "o %s\n", usdtlib_path());
	victim_send(&v, cmd);
	victim_expect(&v, line, sizeof (line), "opened");
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "libusdtlib*", NULL, NULL,
	    ulist_cb, &l), 0);
	CHECK_EQ_INT(l.n, 2);
	CHECK_STR_EQ(l.u[0].du_provider, "usdtlib");
	CHECK(ulist_find(&l, "gtick")->du_sema != 0);
	CHECK_EQ_INT(ulist_find(&l, "tick")->du_sema, 0);
	arm_all(dtp, pr, &l, up);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 0);
	CHECK_EQ_INT(lib, 1);
	round_check(&v, &l, 3, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "lsetups"), 3);
	/* closed: the records stale, deleting them writes nothing */
	victim_send(&v, "c\n");
	victim_expect(&v, line, sizeof (line), "closed");
	for (int i = 0; i < l.n; i++)
		CHECK_EQ_INT(dtproc_usdt_del(dtp, pr, l.u[i].du_addr), 0);
	/* opened again: its semaphore starts at 0; armed anew, raised */
	victim_send(&v, cmd);
	victim_expect(&v, line, sizeof (line), "opened");
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(lib, 0);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "libusdtlib*", NULL, NULL,
	    ulist_cb, &l2), 0);
	arm_all(dtp, pr, &l2, up);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(lib, 1);
	round_check(&v, &l2, 1, line, sizeof (line));
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_usdt_errors)
{
	CTL_LOCALS;
	struct ulist l = { 0 };
	uint64_t vals[4];
	uintptr_t sema, plain;

	pr = usdtv(dtp, &v, &sema);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "a.out", NULL, "plain",
	    ulist_cb, &l), 0);
	plain = l.u[0].du_addr;
	CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, plain + 1, 0, NULL, NULL),
	    -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no USDT probe");
	CHECK_EQ_INT(dtproc_usdt_del(dtp, pr, plain), -ENOENT);
	CHECK_EQ_INT(dtproc_usdt_args(dtp, pr, v.pid, plain, vals, 4),
	    -EBUSY);
	CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, plain, 0, NULL, NULL), 0);
	CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, plain, 0, NULL, NULL), -EEXIST);
	CHECK_EQ_INT(dtproc_usdt_file_iter(dtp, "/etc/passwd", NULL, NULL,
	    ulist_cb, &l), -ENOEXEC);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "not an ELF file");
	CHECK_EQ_INT(dtproc_usdt_file_iter(dtp, "/nonexistent", NULL, NULL,
	    ulist_cb, &l), -ENOENT);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, NULL, NULL, NULL, NULL, NULL),
	    -EINVAL);
	quit_dead(dtp, pr, &v, &ns);
}

static void
fork_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev,
    void *arg)
{
	(void) pr;
	(void) arg;
	if (ev->de_kind == DTPROC_EV_FOLLOW && ev->de_proc != NULL)
		dtproc_continue(dtp, ev->de_proc);
}

/*
 * A fork child has none of its parent's probes: the semaphore its
 * parent's probe raised is not raised in it.  Followed, a client arming
 * it there would add one, and its release take only that one away; not
 * followed, it is let go at once, and would run the probe's argument
 * set-up for the rest of its life with nobody watching.
 */
static void
fork_semaphore(bool follow)
{
	CTL_LOCALS;
	struct ulist l = { 0 };
	uintptr_t sema;
	int gated, lib;

	pr = usdtv(dtp, &v, &sema);
	CHECK_EQ_INT(dtproc_usdt_iter(dtp, pr, "a.out", NULL, "gated",
	    ulist_cb, &l), 0);
	CHECK_EQ_INT(dtproc_usdt_add(dtp, pr, l.u[0].du_addr, 0, NULL, NULL),
	    0);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 1);
	if (follow) {
		dtproc_set_event(dtp, fork_cb, NULL);
		CHECK_EQ_INT(dtproc_follow(dtp, pr, 1), 0);
	}
	victim_send(&v, "f\n");
	victim_expect(&v, line, sizeof (line), "child ");
	CHECK_EQ_INT(line_field(line, "gated"), 0);
	victim_expect(&v, line, sizeof (line), "forked");
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 1);			/* the parent's stays */
	CHECK_EQ_INT(dtproc_usdt_del(dtp, pr, l.u[0].du_addr), 0);
	semas(&v, &gated, &lib);
	CHECK_EQ_INT(gated, 0);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(ctl_usdt_fork_followed)
{
	fork_semaphore(true);
}

TEST(ctl_usdt_fork_unfollowed)
{
	fork_semaphore(false);
}
