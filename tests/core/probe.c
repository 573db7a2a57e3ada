/*
 * probe.c - carrying a thread past a breakpoint site in one stop: the
 * decoder's plans, the emulated kinds, out-of-line (XOL) copies and their
 * scratch areas, injected system calls, and the step fallback.
 *
 * The victim (tests/victims/carryv.c) has one function per kind of first
 * instruction and checks every result itself, so a wrong emulation or
 * relocation fails a test through the victim's verdict, not only through
 * a count:
 *
 *   probe_decode_kinds		arch_plan() on byte sequences: kind,
 *		length, target, register
 *   probe_plans_per_site	pt level: each site's plan as made at its
 *		first hit (prb_plan), exact hits, the victim's self-check,
 *		the faults delivered, no stray SIGTRAP
 *   probe_live_counts		public API: every function probed, exact
 *		counts, self-check, exit status, no stray SIGTRAP
 *   probe_xol_area_release	the "[anon:dtproc-xol]" area near its
 *		sites while tracing; after dtproc_release the area is gone,
 *		the text pristine, and the victim runs on and exits 0
 *   probe_syscall_*		pt_syscall: getpid; a thread blocked in
 *		read(2) finishes its read; a pending signal is kept, its
 *		handler runs once
 *   probe_threads_churn	8 threads on XOL sites while other sites
 *		are added and deleted: exact counts, self-check
 *   probe_signal_first_hit	signals sent at the first hit of each site
 *		(so while the plan is made) and handlers calling probed
 *		functions: exact counts, every signal handled
 *   probe_cb_stack_pc		a callback's dtproc_stack sees pc == site
 *   probe_fault_pc_release	a fault in a relocated copy is delivered at
 *		the site's pc, so a handler that returns after we let go
 *		does not land in an unmapped scratch area
 *   probe_signal_{in,at}_copy_release	a signal pending at a hit is
 *		taken after the copy, not inside it: a handler still
 *		running when we let go returns to the program's text
 */
#include "dtproc.h"
#include "harness.h"
#include "probe/probe.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#define REG(r)	((int)offsetof(arch_regs_t, r))

/* ---------------------------------------------------------------- sites */

static const struct expect {
	const char *name;
	arch_carry_kind_t kind;
	int reg;		/* PUSH */
	int len;		/* the first instruction's length */
	int per_round;		/* calls per round */
} expects[] = {
	{ "c_endbr", ARCH_CARRY_SKIP, -1, 4, 1 },
	{ "c_nop", ARCH_CARRY_SKIP, -1, 6, 1 },
	{ "c_push_rbx", ARCH_CARRY_PUSH, REG(rbx), 1, 1 },
	{ "c_push_r12", ARCH_CARRY_PUSH, REG(r12), 2, 1 },
	{ "c_mov", ARCH_CARRY_XOL, -1, 3, 1 },
	{ "c_sub", ARCH_CARRY_XOL, -1, 4, 1 },
	{ "c_push_imm", ARCH_CARRY_XOL, -1, 5, 1 },
	{ "c_rsp", ARCH_CARRY_XOL, -1, 5, 1 },
	{ "c_ret", ARCH_CARRY_XOL, -1, 1, 1 },
	{ "c_fault", ARCH_CARRY_XOL, -1, 3, 2 },
	{ "c_lea_rip", ARCH_CARRY_XOL, -1, 7, 1 },
	{ "c_load_rip", ARCH_CARRY_XOL, -1, 7, 1 },
	{ "c_store_rip", ARCH_CARRY_XOL, -1, 7, 1 },
	{ "c_cmp_rip8", ARCH_CARRY_XOL, -1, 7, 1 },
	{ "c_cmp_rip32", ARCH_CARRY_XOL, -1, 10, 1 },
	{ "c_jz8", ARCH_CARRY_XOL, -1, 2, 1 },
	{ "c_jl8", ARCH_CARRY_XOL, -1, 2, 1 },
	{ "c_jb32", ARCH_CARRY_XOL, -1, 6, 1 },
	{ "c_jnz32", ARCH_CARRY_XOL, -1, 6, 1 },
	{ "c_jmp32", ARCH_CARRY_JMP, -1, 5, 1 },
	{ "c_jmp8", ARCH_CARRY_JMP, -1, 2, 1 },
	{ "c_call", ARCH_CARRY_CALL, -1, 5, 1 },
	{ "c_jrcxz", ARCH_CARRY_STEP, -1, 2, 1 },
	{ "c_icall", ARCH_CARRY_STEP, -1, 2, 1 },
	{ "c_syscall", ARCH_CARRY_STEP, -1, 2, 1 },
};
#define NEXP ((int)(sizeof (expects) / sizeof (expects[0])))

struct site {
	const struct expect *e;
	uintptr_t addr;
	atomic_int hits;
	atomic_int bad;		/* wrong arguments to a callback, ... */
	int planned;		/* pt level: the plan was checked */
	arch_carry_t carry;
	void *ctx;		/* back pointer for callbacks */
};

struct carryv {
	struct victim v;
	int n;
	struct site s[NEXP];
	uintptr_t tail7, tail8, helper13;
};

static const char *
kind_name(arch_carry_kind_t k)
{
	static const char *names[] = { "NONE", "STEP", "SKIP", "PUSH", "JMP",
	    "CALL", "XOL" };

	return (unsigned)k < 7 ? names[k] : "?";
}

/* Read carryv's ready and fn lines into CV (the victim already runs). */
static void
carryv_lines(struct carryv *cv)
{
	char line[512], name[64];

	victim_ready(&cv->v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "nfn"), NEXP);
	cv->tail7 = line_field(line, "tail7");
	cv->tail8 = line_field(line, "tail8");
	cv->helper13 = line_field(line, "helper13");
	cv->n = NEXP;
	for (int i = 0; i < NEXP; i++) {
		victim_expect(&cv->v, line, sizeof (line), "fn ");
		CHECK(sscanf(line, "fn %63s", name) == 1);
		CHECK_STR_EQ(name, expects[i].name);
		cv->s[i].e = &expects[i];
		cv->s[i].addr = line_field(line, "addr");
		CHECK(cv->s[i].addr != 0);
	}
}

static void
carryv_spawn(char *const args[], struct carryv *cv)
{
	memset(cv, 0, sizeof (*cv));
	spawn_victim("carryv", args, &cv->v);
	carryv_lines(cv);
}

static struct site *
site_at(struct carryv *cv, uintptr_t addr)
{
	for (int i = 0; i < cv->n; i++) {
		if (cv->s[i].addr == addr)
			return &cv->s[i];
	}
	return NULL;
}

static struct site *
site_named(struct carryv *cv, const char *name)
{
	for (int i = 0; i < cv->n; i++) {
		if (strcmp(cv->s[i].e->name, name) == 0)
			return &cv->s[i];
	}
	FAIL("no site %s", name);
}

/* The "done" line: bad, faultbad and tcallbad must be 0. */
static char *
expect_done(struct victim *v, char *line, size_t n)
{
	victim_expect(v, line, n, "done ");
	CHECK_MSG(line_field(line, "bad") == 0 &&
	    line_field(line, "faultbad") == 0 &&
	    line_field(line, "tcallbad") == 0,
	    "victim's self-check failed: %s", line);
	return line;
}

/* ---------------------------------------------------------- public API */

/* Signals seen by the event callback, by number. */
static atomic_int ev_sigs[NSIG];

static void
ev_cb(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_event_t *ev, void *arg)
{
	(void) dtp; (void) pr; (void) arg;
	if (ev->de_kind == DTPROC_EV_SIGNAL && ev->de_sig > 0 &&
	    ev->de_sig < NSIG)
		atomic_fetch_add(&ev_sigs[ev->de_sig], 1);
}

/* dtproc_create carryv ARGS at main, pipes as for spawn_victim. */
static dtproc_proc_t *
carryv_create(dtproc_t *dtp, char *const extra[], struct carryv *cv)
{
	dtproc_proc_t *pr;

	memset(cv, 0, sizeof (*cv));
	pr = create_v(dtp, "carryv", extra, DTPROC_STOP_MAIN, &cv->v);
	CHECK_MSG(pr != NULL, "dtproc_create carryv: %s", dtproc_errmsg(dtp));
	/* the sites by symbol, checked against the victim's own word later */
	cv->n = NEXP;
	for (int i = 0; i < NEXP; i++) {
		char sym[64];
		dtproc_sym_t s;

		memset(&s, 0, sizeof (s));
		snprintf(sym, sizeof (sym), "a.out`%s", expects[i].name);
		CHECK_MSG(dtproc_sym_lookup(dtp, pr, sym, &s) == 0,
		    "lookup %s: %s", sym, dtproc_errmsg(dtp));
		cv->s[i].e = &expects[i];
		cv->s[i].addr = s.ds_addr;
	}
	return pr;
}

/* After dtproc_continue: the victim's lines must name the same sites. */
static void
carryv_check_lines(struct carryv *cv)
{
	static struct carryv mine;	/* not a copy: the hits are atomics */

	memset(&mine, 0, sizeof (mine));
	mine.v = cv->v;
	carryv_lines(&mine);
	for (int i = 0; i < NEXP; i++)
		CHECK_MSG(mine.s[i].addr == cv->s[i].addr, "%s: symbol %#lx, "
		    "victim says %#lx", expects[i].name,
		    (unsigned long)cv->s[i].addr,
		    (unsigned long)mine.s[i].addr);
	cv->tail7 = mine.tail7;
	cv->tail8 = mine.tail8;
	cv->helper13 = mine.helper13;
}

struct hitctx {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	struct carryv *cv;
	atomic_int sent;	/* signals sent from callbacks */
	atomic_int stackbad;
	int sig_every;		/* probe_signal_first_hit */
	int do_stack;		/* probe_cb_stack_pc */
};

static void
count_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct site *s = arg;
	struct hitctx *h = s->ctx;
	int n = atomic_fetch_add(&s->hits, 1) + 1;

	if (dtp != h->dtp || pr != h->pr || addr != s->addr || tid <= 0)
		atomic_fetch_add(&s->bad, 1);
	if (h->sig_every > 0 && (n == 1 || (strcmp(s->e->name,
	    "c_load_rip") == 0 && n % h->sig_every == 0))) {
		/*
		 * Pending while the thread sits in this stop; real-time, so
		 * that one sent while another is pending (blocked in the
		 * handler) is queued, not merged with it.
		 */
		if (syscall(SYS_tgkill, (int)dtproc_pid(pr), (int)tid,
		    SIGRTMIN + 1) == 0)
			atomic_fetch_add(&h->sent, 1);
	}
	if (h->do_stack) {
		uintptr_t pcs[8], again[8];
		int k = dtproc_stack(dtp, pr, tid, pcs, 8);
		int k2 = dtproc_stack(dtp, pr, tid, again, 8);

		if (k < 1 || pcs[0] != addr || k2 != k ||
		    memcmp(pcs, again, (size_t)k * sizeof (pcs[0])) != 0) {
			if (atomic_fetch_add(&h->stackbad, 1) == 0)
				fprintf(stderr, "stack at %s: n=%d pc=%#lx\n",
				    s->e->name, k, k > 0 ?
				    (unsigned long)pcs[0] : 0UL);
		}
	}
}

static void
arm_all(struct hitctx *h, struct carryv *cv)
{
	for (int i = 0; i < cv->n; i++) {
		cv->s[i].ctx = h;
		CHECK_MSG(dtproc_bkpt_add(h->dtp, h->pr, cv->s[i].addr,
		    count_cb, &cv->s[i]) == 0, "bkpt_add %s: %s",
		    cv->s[i].e->name, dtproc_errmsg(h->dtp));
	}
}

static void
check_counts(struct carryv *cv, long rounds, const char *const extra[],
    long nextra)
{
	for (int i = 0; i < cv->n; i++) {
		long want = rounds * cv->s[i].e->per_round;

		for (int k = 0; extra != NULL && extra[k] != NULL; k++)
			if (strcmp(extra[k], cv->s[i].e->name) == 0)
				want += nextra;
		CHECK_MSG(atomic_load(&cv->s[i].hits) == want,
		    "%s: %d hits, want %ld", cv->s[i].e->name,
		    atomic_load(&cv->s[i].hits), want);
		CHECK_EQ_INT(atomic_load(&cv->s[i].bad), 0);
	}
}

/* ---------------------------------------------------------------- 1 */

struct dcase {
	const char *what;
	uint8_t text[16];
	size_t n;
	arch_carry_kind_t kind;
	int len;
	int reg;		/* PUSH */
	long target;		/* JMP, CALL: relative to the address */
	int xol;
	int err;
};

/* the table leaves out what a case does not check */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

TEST(probe_decode_kinds)
{
	static const struct dcase cases[] = {
		{ "endbr64", { 0xf3, 0x0f, 0x1e, 0xfa }, 4, ARCH_CARRY_SKIP, 4 },
		{ "nop", { 0x90 }, 1, ARCH_CARRY_SKIP, 1 },
		{ "nopw 0(%rax,%rax)", { 0x66, 0x0f, 0x1f, 0x44, 0, 0 }, 6,
		    ARCH_CARRY_SKIP, 6 },
		{ "push %rbp", { 0x55 }, 1, ARCH_CARRY_PUSH, 1, REG(rbp) },
		{ "push %rbx", { 0x53 }, 1, ARCH_CARRY_PUSH, 1, REG(rbx) },
		{ "push %r12", { 0x41, 0x54 }, 2, ARCH_CARRY_PUSH, 2, REG(r12) },
		{ "push %r15", { 0x41, 0x57 }, 2, ARCH_CARRY_PUSH, 2, REG(r15) },
		{ "jmp rel32 fwd", { 0xe9, 0x10, 0x00, 0x00, 0x00 }, 5,
		    ARCH_CARRY_JMP, 5, -1, 5 + 0x10 },
		{ "jmp rel32 back", { 0xe9, 0x00, 0xff, 0xff, 0xff }, 5,
		    ARCH_CARRY_JMP, 5, -1, 5 - 0x100 },
		{ "jmp rel8", { 0xeb, 0x7f }, 2, ARCH_CARRY_JMP, 2, -1,
		    2 + 0x7f },
		{ "jmp rel8 back", { 0xeb, 0x80 }, 2, ARCH_CARRY_JMP, 2, -1,
		    2 - 0x80 },
		{ "call rel32", { 0xe8, 0x20, 0x00, 0x00, 0x00 }, 5,
		    ARCH_CARRY_CALL, 5, -1, 5 + 0x20 },
		{ "call rel32 back", { 0xe8, 0xfb, 0xff, 0xff, 0xff }, 5,
		    ARCH_CARRY_CALL, 5, -1, 0 },
		{ "call *%rax", { 0xff, 0xd0 }, 2, ARCH_CARRY_STEP, 2 },
		{ "call *8(%rax)", { 0xff, 0x50, 0x08 }, 3, ARCH_CARRY_STEP, 3 },
		{ "call *disp(%rip)", { 0xff, 0x15, 1, 2, 3, 4 }, 6,
		    ARCH_CARRY_STEP, 6 },
		{ "syscall", { 0x0f, 0x05 }, 2, ARCH_CARRY_STEP, 2 },
		{ "int3", { 0xcc }, 1, ARCH_CARRY_STEP, 1 },
		{ "int $0x80", { 0xcd, 0x80 }, 2, ARCH_CARRY_STEP, 2 },
		{ "jrcxz", { 0xe3, 0x05 }, 2, ARCH_CARRY_STEP, 2 },
		{ "loop", { 0xe2, 0xfe }, 2, ARCH_CARRY_STEP, 2 },
		{ "mov disp(%rip),%rax", { 0x48, 0x8b, 0x05, 1, 2, 3, 4 }, 7,
		    ARCH_CARRY_XOL, 7, .xol = 1 },
		{ "lea disp(%rip),%rdi", { 0x48, 0x8d, 0x3d, 1, 2, 3, 4 }, 7,
		    ARCH_CARRY_XOL, 7, .xol = 1 },
		{ "cmpl $imm32,disp(%rip)", { 0x81, 0x3d, 1, 2, 3, 4, 5, 6,
		    7, 8 }, 10, ARCH_CARRY_XOL, 10, .xol = 1 },
		{ "je rel8", { 0x74, 0x05 }, 2, ARCH_CARRY_XOL, 2, .xol = 1 },
		{ "jne rel32", { 0x0f, 0x85, 1, 0, 0, 0 }, 6, ARCH_CARRY_XOL, 6,
		    .xol = 1 },
		{ "mov %rdi,%rax", { 0x48, 0x89, 0xf8 }, 3, ARCH_CARRY_XOL, 3,
		    .xol = 1 },
		{ "sub $0x28,%rsp", { 0x48, 0x83, 0xec, 0x28 }, 4,
		    ARCH_CARRY_XOL, 4, .xol = 1 },
		{ "push $imm32", { 0x68, 0x45, 0x23, 0x01, 0x00 }, 5,
		    ARCH_CARRY_XOL, 5, .xol = 1 },
		{ "ret", { 0xc3 }, 1, ARCH_CARRY_XOL, 1, .xol = 1 },
		/* only the first instruction counts, whatever follows */
		{ "push %rbp; mov %rsp,%rbp", { 0x55, 0x48, 0x89, 0xe5 }, 4,
		    ARCH_CARRY_PUSH, 1, REG(rbp) },
		{ "garbage (06)", { 0x06 }, 1, ARCH_CARRY_STEP, 0, .err = 1 },
		{ "truncated jmp", { 0xe9, 0x01 }, 2, ARCH_CARRY_STEP, 0,
		    .err = 1 },
		{ "empty", { 0 }, 0, ARCH_CARRY_STEP, 0, .err = 1 },
	};
	const uintptr_t at = 0x555555554000UL + 0x1234;

	for (size_t i = 0; i < sizeof (cases) / sizeof (cases[0]); i++) {
		const struct dcase *d = &cases[i];
		arch_carry_t c;
		int xol = -1, rc;

		memset(&c, 0xa5, sizeof (c));
		rc = arch_plan(d->text, d->n, at, &c, &xol);
		tinfo("%s: rc %d kind %s len %d reg %d target %#lx xol %d",
		    d->what, rc, kind_name(c.ac_kind), c.ac_len, c.ac_reg,
		    (unsigned long)c.ac_target, xol);
		CHECK_MSG(d->err ? rc < 0 : rc == 0, "%s: rc %d", d->what,
		    rc);
		CHECK_MSG(c.ac_kind == d->kind, "%s: kind %s, want %s",
		    d->what, kind_name(c.ac_kind), kind_name(d->kind));
		CHECK_MSG(xol == d->xol, "%s: needs_xol %d", d->what, xol);
		if (d->err)
			continue;
		CHECK_MSG(c.ac_len == d->len, "%s: len %d, want %d", d->what,
		    c.ac_len, d->len);
		if (d->kind == ARCH_CARRY_PUSH)
			CHECK_MSG(c.ac_reg == d->reg, "%s: reg %d, want %d",
			    d->what, c.ac_reg, d->reg);
		if (d->kind == ARCH_CARRY_JMP || d->kind == ARCH_CARRY_CALL)
			CHECK_MSG(c.ac_target == at + d->target, "%s: target "
			    "%#lx, want %#lx", d->what,
			    (unsigned long)c.ac_target,
			    (unsigned long)(at + d->target));
	}
}

/* ---------------------------------------------------------------- 3 */

struct planctx {
	struct carryv *cv;
	char err[256];
};

static int
plan_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	struct planctx *x = arg;
	struct carryv *cv = x->cv;
	struct site *s;
	arch_carry_t c;

	if (ev->pe_kind != PT_EV_BREAKPOINT)
		return RUN_DEFAULT;
	s = site_at(cv, ev->pe_addr);
	CHECK_MSG(s != NULL, "hit at unknown %#lx", (unsigned long)ev->pe_addr);
	atomic_fetch_add(&s->hits, 1);
	CHECK_EQ_INT(pt_bkpt_carry(P, s->addr, &c), 0);
	if (!s->planned) {
		/* a site's first hit: nothing planned yet, plan it here */
		CHECK_MSG(c.ac_kind == ARCH_CARRY_NONE, "%s: planned before "
		    "its first hit (%s)", s->e->name, kind_name(c.ac_kind));
		int rc = prb_plan(P, s->addr, ev->pe_tid);
		CHECK_MSG(rc == 0, "prb_plan %s: %d: %s", s->e->name, rc,
		    err_msg());
		CHECK_EQ_INT(pt_bkpt_carry(P, s->addr, &c), 0);
		s->carry = c;
		s->planned = 1;
	} else {
		/* and it stays */
		CHECK_MSG(memcmp(&c, &s->carry, sizeof (c)) == 0,
		    "%s: plan changed", s->e->name);
	}
	return RUN_DEFAULT;
}

static int
xol_area_near(pid_t pid, uintptr_t near, uintptr_t slot, int *named);

TEST_TIMEOUT(probe_plans_per_site, 60)
{
	char line[512];
	struct carryv cv;
	struct planctx x = { .cv = &cv };
	struct run_counts c;
	pt_proc_t *P;
	int st, rounds = 40;

	carryv_spawn((char *[]){ "loop", "40", "1", NULL }, &cv);
	P = grab_ok(cv.v.pid, 0);
	for (int i = 0; i < cv.n; i++)
		CHECK_PT(pt_bkpt_set(P, cv.s[i].addr));
	CHECK_PT(pt_resume(P));
	victim_go(&cv.v);
	st = run_events(P, &c, plan_cb, &x);
	CHECK_RUN(st, &c);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(c.sigs[SIGTRAP], 0);
	CHECK_EQ_INT(c.sigs[SIGSEGV], rounds);
	CHECK_EQ_INT(line_field(line, "faults"), rounds);
	check_counts(&cv, rounds, NULL, 0);
	for (int i = 0; i < cv.n; i++) {
		struct site *s = &cv.s[i];
		const arch_carry_t *k = &s->carry;

		CHECK(s->planned);
		tinfo("%s at %#lx: %s len %d reg %d target %#lx", s->e->name,
		    (unsigned long)s->addr, kind_name(k->ac_kind), k->ac_len,
		    k->ac_reg, (unsigned long)k->ac_target);
		CHECK_MSG(k->ac_kind == s->e->kind, "%s: plan %s, want %s",
		    s->e->name, kind_name(k->ac_kind), kind_name(s->e->kind));
		CHECK_MSG(k->ac_len == s->e->len, "%s: len %d, want %d",
		    s->e->name, k->ac_len, s->e->len);
		if (k->ac_kind == ARCH_CARRY_PUSH)
			CHECK_EQ_INT(k->ac_reg, s->e->reg);
	}
	CHECK_EQ_INT(site_named(&cv, "c_jmp32")->carry.ac_target, cv.tail7);
	CHECK_EQ_INT(site_named(&cv, "c_jmp8")->carry.ac_target, cv.tail8);
	CHECK_EQ_INT(site_named(&cv, "c_call")->carry.ac_target,
	    cv.helper13);
	/* XOL copies: distinct slots */
	for (int i = 0; i < cv.n; i++) {
		for (int j = i + 1; j < cv.n; j++) {
			if (cv.s[i].carry.ac_kind == ARCH_CARRY_XOL &&
			    cv.s[j].carry.ac_kind == ARCH_CARRY_XOL)
				CHECK(cv.s[i].carry.ac_target !=
				    cv.s[j].carry.ac_target);
		}
	}
	pt_release(P, PT_RELEASE_DEFAULT);	/* reaped by run_events */
	(void) xol_area_near;
}

/* ---------------------------------------------------------------- 2 */

TEST_TIMEOUT(probe_live_counts, 60)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	int rounds = 200;

	memset(ev_sigs, 0, sizeof (ev_sigs));
	dtproc_set_event(dtp, ev_cb, NULL);
	pr = carryv_create(dtp, (char *[]){ "loop", "200", "1", NULL }, &cv);
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	arm_all(&h, &cv);
	dtproc_continue(dtp, pr);
	carryv_check_lines(&cv);
	victim_go(&cv.v);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "faults"), rounds);
	CHECK_EXITED(api_wait_dead(dtp, pr, 10000), 0);
	check_counts(&cv, rounds, NULL, 0);
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGTRAP]), 0);
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGSEGV]), rounds);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---------------------------------------------------------------- 4 */

/*
 * Is there a scratch area of ours in PID within +-2 GB of NEAR (holding
 * SLOT, if nonzero)?  *NAMED: it is called "[anon:dtproc-xol]".
 */
static int
xol_area_near(pid_t pid, uintptr_t near, uintptr_t slot, int *named)
{
	pt_map_t *maps;
	size_t n;
	int found = 0;

	*named = 0;
	CHECK_EQ_INT(pt_maps_read(pid, &maps, &n), 0);
	for (size_t i = 0; i < n; i++) {
		pt_map_t *m = &maps[i];
		int ours = strcmp(m->pm_path, "[anon:dtproc-xol]") == 0;
		uintptr_t far;

		char head[16] = "";

		/* unnamed (no anon names in this kernel): ours by content,
		   the area's first slot holds its name */
		if (!ours && !(m->pm_path[0] == '\0' && m->pm_inode == 0 &&
		    m->pm_prot == (PROT_READ | PROT_EXEC) &&
		    proc_mem_read(pid, m->pm_start, head, 11) == 11 &&
		    memcmp(head, "dtproc-xol", 11) == 0))
			continue;
		if (slot != 0 && (slot < m->pm_start || slot >= m->pm_end))
			continue;
		far = near > m->pm_start ? near - m->pm_start :
		    m->pm_end - near;
		if (far < 0x7fff0000UL) {
			found++;
			*named |= ours;
		}
	}
	pt_maps_free(maps, n);
	return found;
}

/* Anonymous executable mappings of PID, named ours or not. */
static int
anon_exec_maps(pid_t pid)
{
	pt_map_t *maps;
	size_t n;
	int k = 0;

	CHECK_EQ_INT(pt_maps_read(pid, &maps, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if ((maps[i].pm_path[0] == '\0' ||
		    strncmp(maps[i].pm_path, "[anon:", 6) == 0) &&
		    (maps[i].pm_prot & PROT_EXEC))
			k++;
	}
	pt_maps_free(maps, n);
	return k;
}



TEST_TIMEOUT(probe_xol_area_release, 60)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	uint8_t pristine[NEXP][16], now[16];
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	int rounds = 50, named = 0, before;

	carryv_spawn((char *[]){ "loop", "50", "2", NULL }, &cv);
	for (int i = 0; i < cv.n; i++) {
		CHECK_EQ_INT(proc_mem_read(cv.v.pid, cv.s[i].addr, pristine[i],
		    16), 16);
		CHECK_EQ_INT(text_matches_file(cv.v.pid, cv.s[i].addr, 16), 1);
	}
	before = anon_exec_maps(cv.v.pid);
	pr = dtproc_grab(dtp, cv.v.pid, 0);
	CHECK_MSG(pr != NULL, "dtproc_grab: %s", dtproc_errmsg(dtp));
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	arm_all(&h, &cv);
	dtproc_continue(dtp, pr);
	victim_go(&cv.v);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "phase"), 1);
	check_counts(&cv, rounds, NULL, 0);

	/* while tracing: an area near every site run out of line */
	for (int i = 0; i < cv.n; i++) {
		if (cv.s[i].e->kind != ARCH_CARRY_XOL)
			continue;
		CHECK_MSG(xol_area_near(cv.v.pid, cv.s[i].addr, 0, &named) > 0,
		    "no scratch area within 2 GB of %s at %#lx",
		    cv.s[i].e->name, (unsigned long)cv.s[i].addr);
	}
	if (!named)
		tinfo("kernel without anonymous VMA names: the area is an "
		    "unnamed r-xp mapping");
	CHECK(anon_exec_maps(cv.v.pid) > before);

	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	/* let go: area gone, text as before, no tracer */
	CHECK_EQ_INT(proc_tracer(cv.v.pid, 0), 0);
	CHECK_EQ_INT(anon_exec_maps(cv.v.pid), before);
	for (int i = 0; i < cv.n; i++) {
		CHECK_EQ_INT(proc_mem_read(cv.v.pid, cv.s[i].addr, now, 16),
		    16);
		CHECK_MSG(memcmp(now, pristine[i], 16) == 0, "%s: text "
		    "changed after release", cv.s[i].e->name);
		CHECK_EQ_INT(text_matches_file(cv.v.pid, cv.s[i].addr, 16), 1);
	}
	/* and runs on untraced, every result still right */
	victim_go(&cv.v);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "phase"), 2);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
	if (!named)
		SKIP("kernel lacks anonymous VMA names: checked an unnamed "
		    "r-xp mapping instead of [anon:dtproc-xol]");
}

/* ---------------------------------------------------------------- 5 */

/* Read a victim line while answering P's events (none expected but
   signal stops, which are passed on). */
static void
pump_line(pt_proc_t *P, struct victim *v, char *buf, size_t n,
    struct run_counts *c)
{
	long end = now_ms() + 10000;

	for (;;) {
		struct pollfd p = { .fd = v->out, .events = POLLIN };
		pt_event_t ev;
		int r;

		if (poll(&p, 1, 5) == 1) {
			CHECK(victim_readline(v, buf, n) >= 0);
			return;
		}
		while ((r = pt_wait(P, &ev, 0)) == 1) {
			if (c != NULL) {
				c->ev[ev.pe_kind]++;
				if (ev.pe_kind == PT_EV_SIGNAL)
					c->sigs[ev.pe_sig]++;
			}
			CHECK_PT(run_default(P, &ev));
		}
		CHECK_MSG(now_ms() < end, "no line from the victim");
	}
}

TEST(probe_syscall_getpid_read_restart)
{
	char line[512];
	struct carryv cv;
	struct run_counts c = { 0 };
	pt_proc_t *P;
	long ret = 0;
	long args[6] = { 0 };

	carryv_spawn((char *[]){ "echo", NULL }, &cv);
	wait_in_syscall(cv.v.pid, 0, (int []){ SYS_read, -1 }, -1, 5000);
	P = grab_ok(cv.v.pid, 0);
	CHECK_PT(pt_syscall(P, cv.v.pid, SYS_getpid, args, &ret));
	CHECK_EQ_INT(ret, cv.v.pid);
	CHECK_PT(pt_syscall(P, 0, SYS_gettid, args, &ret));
	CHECK_EQ_INT(ret, cv.v.pid);
	/* an error comes back as the call's value, not as ours */
	long bad[6] = { -1 };
	CHECK_PT(pt_syscall(P, cv.v.pid, SYS_close, bad, &ret));
	CHECK_EQ_INT(ret, -EBADF);
	CHECK_PT(pt_resume(P));
	/* still (again) in its read, which sees our line whole */
	wait_in_syscall(cv.v.pid, 0, (int []){ SYS_read, -1 }, -1, 5000);
	victim_send(&cv.v, "hello\n");
	pump_line(P, &cv.v, line, sizeof (line), &c);
	CHECK_STR_EQ(line, "got hello usr1=0");
	victim_send(&cv.v, "again\n");
	pump_line(P, &cv.v, line, sizeof (line), &c);
	CHECK_STR_EQ(line, "got again usr1=0");
	CHECK_EQ_INT(c.nevents, 0);
	pt_release(P, PT_RELEASE_RUN);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

/*
 * carryv echo, asleep in read(2), grabbed with the signals SIGS (0 ends
 * them) pending for it; two injected calls made, then resumed.
 */
static pt_proc_t *
calls_with_pending(struct carryv *cv, const int *sigs)
{
	long ret = 0, args[6] = { 0 };
	pt_proc_t *P;

	carryv_spawn((char *[]){ "echo", NULL }, cv);
	wait_in_syscall(cv->v.pid, 0, (int []){ SYS_read, -1 }, -1, 5000);
	P = grab_ok(cv->v.pid, 0);
	for (int i = 0; sigs[i] != 0; i++)
		CHECK_EQ_INT(syscall(SYS_tgkill, cv->v.pid, cv->v.pid,
		    sigs[i]), 0);
	CHECK_PT(pt_syscall(P, cv->v.pid, SYS_getpid, args, &ret));
	CHECK_EQ_INT(ret, cv->v.pid);
	CHECK_PT(pt_syscall(P, cv->v.pid, SYS_getppid, args, &ret));
	CHECK_EQ_INT(ret, getpid());
	CHECK_PT(pt_resume(P));
	return P;
}

TEST(probe_syscall_keeps_pending_signal)
{
	char line[512];
	struct carryv cv;
	struct run_counts c = { 0 };
	pt_proc_t *P;

	/* pending for the stopped thread: the injected call meets it */
	P = calls_with_pending(&cv, (int []){ SIGUSR1, 0 });
	victim_send(&cv.v, "one\n");
	pump_line(P, &cv.v, line, sizeof (line), &c);
	/* handled once, and the interrupted read still read our line */
	CHECK_STR_EQ(line, "got one usr1=1");
	victim_send(&cv.v, "two\n");
	pump_line(P, &cv.v, line, sizeof (line), &c);
	CHECK_STR_EQ(line, "got two usr1=1");
	pt_release(P, PT_RELEASE_RUN);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

/*
 * Several of the victim's signals pending during one injected call: each
 * is held and given back once, after the call, and each handler runs
 * once.  (Re-sent during the call, a held signal stopped the thread again
 * at once, for ever: release never returned.)
 */
TEST_TIMEOUT(probe_syscall_many_pending_signals, 60)
{
	char line[512];
	struct carryv cv;
	struct run_counts c = { 0 };
	pt_proc_t *P;

	P = calls_with_pending(&cv, (int []){ SIGUSR1, SIGRTMIN + 1,
	    SIGRTMIN + 1, 0 });
	victim_send(&cv.v, "one\n");
	pump_line(P, &cv.v, line, sizeof (line), &c);
	CHECK_STR_EQ(line, "got one usr1=3");
	pt_release(P, PT_RELEASE_RUN);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

/* ---------------------------------------------------------------- 6 */

TEST_TIMEOUT(probe_threads_churn, 180)
{
	static const char *const fixed[] = { "c_load_rip", "c_lea_rip",
	    "c_cmp_rip32", "c_cmp_rip8", "c_jz8", "c_jb32", "c_sub", "c_mov",
	    "c_fault", "c_push_imm", NULL };
	static const char *const churn[] = { "c_endbr", "c_push_rbx",
	    "c_jmp32", "c_call", "c_store_rip", "c_jnz32", "c_rsp",
	    "c_icall", "c_jrcxz", "c_ret", NULL };
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	int nthr = 8, rounds = 300, cycles = 0;

	memset(ev_sigs, 0, sizeof (ev_sigs));
	dtproc_set_event(dtp, ev_cb, NULL);
	pr = carryv_create(dtp, (char *[]){ "threads", "8", "300", NULL },
	    &cv);
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	for (int i = 0; fixed[i] != NULL; i++) {
		struct site *s = site_named(&cv, fixed[i]);

		s->ctx = &h;
		CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, s->addr, count_cb, s),
		    0);
	}
	dtproc_continue(dtp, pr);
	carryv_check_lines(&cv);
	victim_go(&cv.v);
	for (;;) {
		struct pollfd p = { .fd = cv.v.out, .events = POLLIN };

		if (poll(&p, 1, 0) == 1)
			break;
		for (int i = 0; churn[i] != NULL; i++) {
			struct site *s = site_named(&cv, churn[i]);

			s->ctx = &h;
			CHECK_MSG(dtproc_bkpt_add(dtp, pr, s->addr, count_cb,
			    s) == 0, "add %s: %s", churn[i],
			    dtproc_errmsg(dtp));
		}
		for (int i = 0; churn[i] != NULL; i++)
			CHECK_MSG(dtproc_bkpt_del(dtp, pr,
			    site_named(&cv, churn[i])->addr) == 0,
			    "del %s: %s", churn[i], dtproc_errmsg(dtp));
		cycles++;
	}
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "faults"), nthr * rounds);
	victim_go(&cv.v);	/* it waited for us to stop editing */
	CHECK_EXITED(api_wait_dead(dtp, pr, 30000), 0);
	tinfo("%d add/delete cycles", cycles);
	CHECK(cycles > 0);
	for (int i = 0; fixed[i] != NULL; i++) {
		struct site *s = site_named(&cv, fixed[i]);

		CHECK_MSG(atomic_load(&s->hits) == nthr * rounds *
		    s->e->per_round, "%s: %d hits, want %d", fixed[i],
		    atomic_load(&s->hits), nthr * rounds * s->e->per_round);
		CHECK_EQ_INT(atomic_load(&s->bad), 0);
	}
	for (int i = 0; churn[i] != NULL; i++)
		CHECK_EQ_INT(atomic_load(&site_named(&cv, churn[i])->bad), 0);
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGTRAP]), 0);
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGSEGV]), nthr * rounds);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---------------------------------------------------------------- 7 */

TEST_TIMEOUT(probe_signal_first_hit, 60)
{
	static const char *const inhandler[] = { "c_load_rip", "c_mov",
	    "c_jz8", NULL };
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	int rounds = 100;
	long handled;

	memset(ev_sigs, 0, sizeof (ev_sigs));
	dtproc_set_event(dtp, ev_cb, NULL);
	pr = carryv_create(dtp, (char *[]){ "sig", "100", NULL }, &cv);
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	h.sig_every = 7;
	arm_all(&h, &cv);
	dtproc_continue(dtp, pr);
	carryv_check_lines(&cv);
	victim_go(&cv.v);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EXITED(api_wait_dead(dtp, pr, 10000), 0);
	handled = (long)line_field(line, "handled");
	tinfo("sent %d handled %ld", atomic_load(&h.sent), handled);
	CHECK(atomic_load(&h.sent) > NEXP);
	CHECK_EQ_INT(handled, atomic_load(&h.sent));
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGRTMIN + 1]), handled);
	CHECK_EQ_INT(atomic_load(&ev_sigs[SIGTRAP]), 0);
	CHECK_EQ_INT(line_field(line, "faults"), rounds);
	check_counts(&cv, rounds, inhandler, handled);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---------------------------------------------------------------- 8 */

TEST_TIMEOUT(probe_cb_stack_pc, 60)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;
	int rounds = 30;

	pr = carryv_create(dtp, (char *[]){ "loop", "30", "1", NULL }, &cv);
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	h.do_stack = 1;
	arm_all(&h, &cv);
	dtproc_continue(dtp, pr);
	carryv_check_lines(&cv);
	victim_go(&cv.v);
	expect_done(&cv.v, line, sizeof (line));
	CHECK_EXITED(api_wait_dead(dtp, pr, 10000), 0);
	check_counts(&cv, rounds, NULL, 0);
	CHECK_EQ_INT(atomic_load(&h.stackbad), 0);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
}

/* ---------------------------------------------------------------- 9 */

/*
 * A fault in a relocated copy is the victim's fault at the site: its
 * handler sees the site's pc, not the copy's.  One that returns after we
 * have let go (areas unmapped) runs the load again from the text, where a
 * pc left in the copy would land in unmapped memory.
 */
TEST_TIMEOUT(probe_fault_pc_release, 60)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	struct site *s;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	carryv_spawn((char *[]){ "faultwait", NULL }, &cv);
	pr = dtproc_grab(dtp, cv.v.pid, 0);
	CHECK_MSG(pr != NULL, "dtproc_grab: %s", dtproc_errmsg(dtp));
	h.dtp = dtp;
	h.pr = pr;
	h.cv = &cv;
	s = site_named(&cv, "c_fault");
	s->ctx = &h;
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, s->addr, count_cb, s), 0);
	dtproc_continue(dtp, pr);
	victim_go(&cv.v);
	victim_expect(&cv.v, line, sizeof (line), "fault ");
	CHECK_EQ_INT(line_field(line, "addr"), 0x18);
	CHECK_EQ_INT(atomic_load(&s->hits), 1);
	CHECK_MSG(line_field(line, "pcok") == 1, "the handler saw the pc of "
	    "a copy, not of the faulting load: %s", line);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	CHECK_EQ_INT(proc_tracer(cv.v.pid, 0), 0);
	victim_go(&cv.v);
	victim_expect(&cv.v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 1000);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

/* ---------------------------------------------------------------- 10 */

static void
usr2_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	count_cb(dtp, pr, tid, addr, arg);
	(void) syscall(SYS_tgkill, (int)dtproc_pid(pr), (int)tid, SIGUSR2);
}

/*
 * carryv MODE grabbed through the API, H filled, *S the site NAME and
 * *SUB c_sub, both counting into H: the set-up of the signal-in-copy
 * tests (their breakpoints are theirs to add).
 */
static dtproc_proc_t *
grab_copy_sites(dtproc_t *dtp, const char *mode, const char *name,
    struct carryv *cv, struct hitctx *h, struct site **s, struct site **sub)
{
	dtproc_proc_t *pr;

	carryv_spawn((char *[]){ (char *)mode, NULL }, cv);
	pr = dtproc_grab(dtp, cv->v.pid, 0);
	CHECK_MSG(pr != NULL, "dtproc_grab: %s", dtproc_errmsg(dtp));
	h->dtp = dtp;
	h->pr = pr;
	h->cv = cv;
	*s = site_named(cv, name);
	(*s)->ctx = h;
	*sub = site_named(cv, "c_sub");
	(*sub)->ctx = h;
	return pr;
}

/*
 * A signal pending at a hit is delivered as the thread is carried on,
 * into an out-of-line copy: the handler's frame must not hold a pc in
 * the copy, or a handler still running when we let go (areas unmapped)
 * returns into unmapped memory.  PREMAP: c_sub, probed too, is hit first
 * and maps the area, so c_mov's signal comes at the copy with a stop of
 * its own; otherwise c_mov's plan maps it, and the injected mmap is what
 * meets the signal (kept for the thread as it is carried on).
 */
static void
signal_in_copy(int premap)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	struct site *s, *sub;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	pr = grab_copy_sites(dtp, "sigwait", "c_mov", &cv, &h, &s, &sub);
	if (premap)
		CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, sub->addr, count_cb,
		    sub), 0);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, s->addr, usr2_cb, s), 0);
	dtproc_continue(dtp, pr);
	victim_go(&cv.v);
	victim_expect(&cv.v, line, sizeof (line), "inhandler");
	CHECK_EQ_INT(atomic_load(&s->hits), 1);
	CHECK_EQ_INT(atomic_load(&sub->hits), premap);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	CHECK_EQ_INT(proc_tracer(cv.v.pid, 0), 0);
	victim_go(&cv.v);
	victim_expect(&cv.v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 5);
	CHECK_EQ_INT(line_field(line, "sub"), 6);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

TEST_TIMEOUT(probe_signal_in_copy_release, 60)
{
	signal_in_copy(0);
}

TEST_TIMEOUT(probe_signal_at_copy_release, 60)
{
	signal_in_copy(1);
}

/* ------------------------------------------------- the step primitive */

static void
usr2_once_cb(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	struct site *s = arg;

	if (atomic_load(&s->hits) == 0)
		(void) syscall(SYS_tgkill, (int)dtproc_pid(pr), (int)tid,
		    SIGUSR2);
	count_cb(dtp, pr, tid, addr, arg);
}

/*
 * A signal pending at the hit of a site whose copy faults: the thread is
 * stepped out of the copy with the signal held, and the step faults.
 * The fault is the program's, at the site: the SIGSEGV handler sees
 * c_fault's pc and the load's address, and the SIGUSR2 handler never
 * finds its interrupted pc in a scratch area.  c_sub maps the area
 * first, so the signal meets the copy in a stop of its own.
 */
TEST_TIMEOUT(step_fault_in_copy_with_signal, 60)
{
	char line[512];
	struct carryv cv;
	struct hitctx h = { 0 };
	struct site *s, *sub;
	dtproc_t *dtp = open_ok();
	dtproc_proc_t *pr;

	pr = grab_copy_sites(dtp, "faultsig", "c_fault", &cv, &h, &s, &sub);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, sub->addr, count_cb, sub), 0);
	CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, s->addr, usr2_once_cb, s), 0);
	dtproc_continue(dtp, pr);
	victim_go(&cv.v);
	victim_expect(&cv.v, line, sizeof (line), "fault ");
	CHECK_EQ_INT(line_field(line, "addr"), 0x18);
	CHECK_MSG(line_field(line, "pcok") == 1, "the SIGSEGV handler saw "
	    "the pc of a copy, not of the faulting load: %s", line);
	victim_expect(&cv.v, line, sizeof (line), "result=");
	CHECK_EQ_INT(line_field(line, "result"), 1000);
	CHECK_EQ_INT(line_field(line, "usr2"), 1);
	CHECK_MSG(line_field(line, "usr2ok") == 1, "SIGUSR2 interrupted "
	    "the thread inside a scratch area: %s", line);
	/* the handler ran the load again from the site: a second hit */
	CHECK_EQ_INT(atomic_load(&s->hits), 2);
	CHECK_EQ_INT(atomic_load(&sub->hits), 1);
	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	victim_close(&cv.v);
	CHECK_EXITED(victim_wait(&cv.v), 0);
}

/*
 * A thread left inside an out-of-line copy when the process is killed:
 * letting go steps it out, and the step meets its death.  The exit goes
 * to the dispatcher: release returns, nothing is left in an exit stop
 * waiting for us, and the process is gone (reaped by our own waits, as
 * this thread is both its tracer and its parent, or left for us).
 */
TEST_TIMEOUT(step_out_of_copy_thread_dies, 60)
{
	struct carryv cv;
	pt_proc_t *P;
	pt_event_t ev;
	struct site *s;
	arch_carry_t c;
	int st = 0;
	pid_t r;

	carryv_spawn((char *[]){ "loop", "1", "1", NULL }, &cv);
	P = grab_ok(cv.v.pid, 0);
	s = site_named(&cv, "c_mov");
	CHECK_PT(pt_bkpt_set(P, s->addr));
	CHECK_PT(pt_resume(P));
	victim_go(&cv.v);
	for (;;) {
		CHECK_EQ_INT(pt_wait(P, &ev, 1), 1);
		if (ev.pe_kind == PT_EV_BREAKPOINT)
			break;
		CHECK_PT(run_default(P, &ev));
	}
	CHECK_EQ_INT((long)ev.pe_addr, (long)s->addr);
	CHECK_EQ_INT(prb_plan(P, s->addr, ev.pe_tid), 0);
	CHECK_EQ_INT(pt_bkpt_carry(P, s->addr, &c), 0);
	CHECK_EQ_INT(c.ac_kind, ARCH_CARRY_XOL);
	/* carried into the copy, and left there, stopped */
	CHECK_PT(pt_bkpt_step(P, ev.pe_tid));
	CHECK_PT(pt_stop(P, PT_WHY_REQUESTED));
	CHECK_EQ_INT(kill(cv.v.pid, SIGKILL), 0);
	pt_release(P, PT_RELEASE_RUN);
	victim_close(&cv.v);
	while ((r = waitpid(cv.v.pid, &st, 0)) < 0 && errno == EINTR)
		;
	CHECK_MSG((r == cv.v.pid && WIFSIGNALED(st) && WTERMSIG(st) ==
	    SIGKILL) || (r < 0 && errno == ECHILD), "waitpid %d: %d, "
	    "status %#x", (int)cv.v.pid, (int)r, st);
	CHECK_EQ_INT(kill(cv.v.pid, 0), -1);
}

/*
 * An injected system call that ends in a ptrace event: exit_group, in a
 * process whose other threads then sit in exit stops only we can end.
 * The event goes to the dispatcher, the call reports the process gone
 * (ESRCH, not EINVAL), and the death is reported with its status.
 */
TEST_TIMEOUT(step_event_at_injected_call, 60)
{
	struct victim v;
	char line[512];
	pt_proc_t *P;
	pt_event_t ev;
	long ret = 0;
	long args[6] = { 7 };
	int r, exits = 0;

	spawn_victim("threads", (char *[]){ "4", NULL }, &v);
	victim_expect(&v, line, sizeof (line), "ready ");
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(pt_nthreads(P), 5);
	CHECK_EQ_INT(pt_syscall(P, v.pid, SYS_exit_group, args, &ret),
	    -ESRCH);
	while ((r = pt_wait(P, &ev, 1)) == 1) {
		if (ev.pe_kind == PT_EV_EXIT) {
			exits++;
			CHECK_MSG(WIFEXITED(ev.pe_status) &&
			    WEXITSTATUS(ev.pe_status) == 7, "status %#x",
			    ev.pe_status);
		} else if (ev.pe_stopped) {
			(void) pt_resume_thread(P, ev.pe_tid);
		}
	}
	CHECK_EQ_INT(r, -ESRCH);
	CHECK_EQ_INT(exits, 1);
	pt_release(P, PT_RELEASE_RUN);
	victim_close(&v);
	/* this thread, tracer and parent both, reaped it in pt_wait */
	CHECK_EQ_INT(kill(v.pid, 0), -1);
}
