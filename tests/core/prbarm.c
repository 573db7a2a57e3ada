/*
 * prbarm.c - where a probe may be patched with a trampoline (prb_arm,
 * prb_refusal: src/probe/arm.c, scan.c) and stacks through trampolines
 * (src/unwind/walk.c).
 *
 * The victim (tests/victims/prbarmv.c) has one function per shape; it
 * calls them all at each "c" line and prints their sum, so a bad patch
 * shows as a wrong sum or a dead victim.
 *
 *   prbarm_plain_patched	a C function's entry: a trampoline; hits
 *		counted without a stop; disarm restores the text
 *   prbarm_refusals		a loop back into the first bytes, jmp *%rax,
 *		a lone ret before code, 3 bytes before code: int3s with
 *		their reasons; PRB_INT3 honoured
 *   prbarm_padding_rule	a lone ret before padding: patched, runs
 *   prbarm_libc_census		every libc function asked: >= 90% patchable,
 *		the reasons counted (printed as "# census" lines);
 *		__memmove_avx_unaligned_erms refused for mempcpy's branch
 *   prbarm_dl_debug_state	ld.so's _dl_debug_state (the rtld agent's
 *		site): patched under the padding rule
 *   prbarm_scan_cached		a second process of the same files reuses
 *		the analysis
 *   prbarm_scan_threads	4 threads, each the owner of its own victim,
 *		ask about every libc function at once: one analysis per
 *		file, the same answers
 *   prbarm_stack_trap_vs_int3	the stack at a trampoline's trap equals
 *		the one at an int3 on the same function, same call path
 *   prbarm_stack_signal_in_tramp	a signal taken by a thread resumed
 *		from a trampoline's trap: under the handler's frames, the
 *		signal frame's pc (in the trampoline) shows as the site and
 *		the walk goes on to the site's callers
 */
#include "harness.h"
#include "probe/probe.h"
#include "unwind/unwind.h"

#include <elf.h>
#include <pthread.h>
#include <sys/syscall.h>

#define SUM	37		/* pa_outer(5) */
#define NREASON	16

struct pa {
	struct victim v;
	pt_proc_t *P;
	sym_proc_t *S;
	uintptr_t plain, loop, ijmp, ret1, ret1c, shrt, after, outer;
};

static void
pa_start(struct pa *a)
{
	char line[512];

	spawn_victim("prbarmv", NULL, &a->v);
	victim_ready(&a->v, line, sizeof (line));
	a->plain = line_field(line, "plain");
	a->loop = line_field(line, "loop");
	a->ijmp = line_field(line, "ijmp");
	a->ret1 = line_field(line, "ret1");
	a->ret1c = line_field(line, "ret1c");
	a->shrt = line_field(line, "short");
	a->after = line_field(line, "after");
	a->outer = line_field(line, "outer");
	a->P = grab_ok(a->v.pid, 0);
	CHECK((a->S = sym_proc_new(a->v.pid)) != NULL);
	CHECK_PT(sym_proc_update_maps(a->S));
}

/* Let it go and have it quit: exit 0. */
static void
pa_finish(struct pa *a)
{
	CHECK_PT(pt_release(a->P, PT_RELEASE_DEFAULT));
	sym_proc_free(a->S);
	victim_quit(&a->v);
}

/* One "c" while nothing stops it: the sum must be right. */
static void
pa_call(struct pa *a)
{
	char line[256];

	victim_send(&a->v, "c\n");
	victim_expect(&a->v, line, sizeof (line), "called ");
	CHECK_EQ_INT(line_field(line, "sum"), SUM);
}

static void
pa_arm(struct pa *a, uintptr_t addr, int flags, int want_how,
    const char *want_why)
{
	const char *why = "unset";
	int how = 0;

	CHECK_PT(prb_arm(a->P, a->S, addr, flags, &how, &why));
	if (want_why == NULL)
		CHECK_MSG(how == want_how && why == NULL,
		    "%#lx: how %d (want %d), why %s", (unsigned long)addr,
		    how, want_how, why ? why : "(null)");
	else
		CHECK_MSG(how == want_how && why != NULL &&
		    strcmp(why, want_why) == 0, "%#lx: how %d (want %d), "
		    "why %s (want %s)", (unsigned long)addr, how, want_how,
		    why ? why : "(null)", want_why);
}

static void
check_refusal(struct pa *a, uintptr_t addr, const char *want)
{
	const char *why = prb_refusal(a->P, a->S, addr);

	if (want == NULL)
		CHECK_MSG(why == NULL, "%#lx refused: %s", (unsigned long)addr,
		    why);
	else
		CHECK_MSG(why != NULL && strcmp(why, want) == 0,
		    "%#lx: \"%s\", want \"%s\"", (unsigned long)addr,
		    why ? why : "(patchable)", want);
}

TEST(prbarm_plain_patched)
{
	struct pa a;
	uint64_t hits, missed;
	uint8_t b;

	pa_start(&a);
	check_refusal(&a, a.plain, NULL);
	pa_arm(&a, a.plain, 0, PRB_HOW_TRAMP, NULL);
	CHECK_EQ_INT(pt_site_kind(a.P, a.plain), 1);
	CHECK_EQ_INT(proc_mem_read(a.v.pid, a.plain, &b, 1), 1);
	CHECK_MSG(b == 0xe9, "first byte %#x, not a jmp", b);
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	pa_call(&a);
	CHECK_PT(pt_tramp_count(a.P, a.plain, &hits, &missed));
	CHECK_EQ_INT(hits, 2);
	CHECK_EQ_INT(missed, 0);
	CHECK_PT(prb_disarm(a.P, a.plain, 0));
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.plain, 16), 1);
	pa_call(&a);
	pa_finish(&a);
}

TEST(prbarm_refusals)
{
	struct pa a;

	pa_start(&a);
	check_refusal(&a, a.loop, "a branch targets the window");
	check_refusal(&a, a.ijmp, "indirect jump in the function");
	check_refusal(&a, a.ret1c, "window runs past the function's end");
	check_refusal(&a, a.shrt, "window runs past the function's end");
	pa_arm(&a, a.loop, 0, PRB_HOW_INT3, "a branch targets the window");
	CHECK_EQ_INT(pt_site_kind(a.P, a.loop), 0);
	pa_arm(&a, a.ijmp, PRB_TRAP, PRB_HOW_INT3,
	    "indirect jump in the function");
	pa_arm(&a, a.plain, PRB_INT3, PRB_HOW_INT3, "int3 asked");
	CHECK_EQ_INT(pt_site_kind(a.P, a.plain), 0);
	CHECK_PT(prb_disarm(a.P, a.loop, 0));
	CHECK_PT(prb_disarm(a.P, a.ijmp, PRB_TRAP));
	CHECK_PT(prb_disarm(a.P, a.plain, PRB_INT3));
	CHECK(pt_site_kind(a.P, a.plain) < 0);
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.loop, 16), 1);
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.ijmp, 16), 1);
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.plain, 16), 1);
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	pa_finish(&a);
}

TEST(prbarm_padding_rule)
{
	struct pa a;
	uint64_t hits, missed;

	pa_start(&a);
	check_refusal(&a, a.ret1, NULL);
	pa_arm(&a, a.ret1, 0, PRB_HOW_TRAMP, NULL);
	/* the site next to it is its own business */
	check_refusal(&a, a.ret1c, "window runs past the function's end");
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.ret1c, 8), 1);
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	CHECK_PT(pt_tramp_count(a.P, a.ret1, &hits, &missed));
	CHECK_EQ_INT(hits, 1);
	CHECK_PT(prb_disarm(a.P, a.ret1, 0));
	CHECK_EQ_INT(text_matches_file(a.v.pid, a.ret1, 16), 1);
	pa_call(&a);
	pa_finish(&a);
}

/* ---- libc ---- */

struct census {
	struct pa *a;
	int nfunc, nok;
	struct { const char *why; int n; } r[NREASON];
	int nr;
};

static int
census_cb(const sym_info_t *si, void *arg)
{
	struct census *c = arg;
	const char *why;
	int i;

	/* an IFUNC is given again as its choice: counted once, as itself */
	if (si->sy_type != STT_FUNC || si->sy_size == 0 ||
	    (si->sy_flags & SYM_IFUNC))
		return 0;
	c->nfunc++;
	if ((why = prb_refusal(c->a->P, c->a->S, si->sy_addr)) == NULL) {
		c->nok++;
		return 0;
	}
	tinfo("refused %s: %s\n", si->sy_name, why);
	for (i = 0; i < c->nr && strcmp(c->r[i].why, why) != 0; i++)
		;
	if (i == c->nr && c->nr < NREASON)
		c->r[c->nr++].why = why;
	if (i < c->nr)
		c->r[i].n++;
	return 0;
}

TEST_TIMEOUT(prbarm_libc_census, 120)
{
	struct census c = { 0 };
	sym_info_t mm, mp;
	struct pa a;
	long t0;

	pa_start(&a);
	c.a = &a;
	t0 = now_ms();
	CHECK_PT(sym_iter(a.S, "libc.so.6", "*", census_cb, &c));
	printf("# census libc: %d of %d functions patchable (%.1f%%), "
	    "%ld ms\n", c.nok, c.nfunc, c.nfunc ? 100.0 * c.nok / c.nfunc :
	    0.0, now_ms() - t0);
	for (int i = 0; i < c.nr; i++)
		printf("# census libc: %5d %s\n", c.r[i].n, c.r[i].why);
	fflush(stdout);
	CHECK(c.nfunc > 1000);
	CHECK_MSG(c.nok * 10 >= c.nfunc * 9, "%d of %d patchable", c.nok,
	    c.nfunc);
	if (sym_lookup_name(a.S, "libc.so.6`__memmove_avx_unaligned_erms",
	    &mm) == 0 && sym_lookup_name(a.S,
	    "libc.so.6`__mempcpy_avx_unaligned_erms", &mp) == 0)
		check_refusal(&a, mm.sy_addr, "a branch targets the window");
	else
		printf("# census libc: no __memmove_avx_unaligned_erms "
		    "and __mempcpy_avx_unaligned_erms here\n");
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	pa_finish(&a);
}

TEST(prbarm_dl_debug_state)
{
	const char *why = "unset";
	sym_info_t si;
	struct pa a;
	int how = 0;

	pa_start(&a);
	CHECK_PT(sym_lookup_name(a.S, "ld-linux-x86-64.so.2`_dl_debug_state",
	    &si));
	why = prb_refusal(a.P, a.S, si.sy_addr);
	printf("# _dl_debug_state (%lu bytes): %s\n",
	    (unsigned long)si.sy_size, why ? why : "patched (padding rule)");
	fflush(stdout);
	CHECK_MSG(why == NULL, "_dl_debug_state refused: %s", why);
	CHECK_PT(prb_arm(a.P, a.S, si.sy_addr, 0, &how, &why));
	CHECK_EQ_INT(how, PRB_HOW_TRAMP);
	CHECK_PT(prb_disarm(a.P, si.sy_addr, 0));
	CHECK_EQ_INT(text_matches_file(a.v.pid, si.sy_addr, 16), 1);
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	pa_finish(&a);
}

TEST(prbarm_scan_cached)
{
	sym_info_t si;
	struct pa a, b;

	pa_start(&a);
	check_refusal(&a, a.loop, "a branch targets the window");
	CHECK_EQ_INT(prb_scan_files(), 1);
	pa_start(&b);
	check_refusal(&b, b.loop, "a branch targets the window");
	check_refusal(&b, b.plain, NULL);
	CHECK_EQ_INT(prb_scan_files(), 1);	/* the same file: reused */
	CHECK_PT(sym_lookup_name(b.S, "libc.so.6`malloc", &si));
	(void) prb_refusal(b.P, b.S, si.sy_addr);
	CHECK_EQ_INT(prb_scan_files(), 2);
	CHECK_PT(sym_lookup_name(a.S, "libc.so.6`malloc", &si));
	(void) prb_refusal(a.P, a.S, si.sy_addr);
	CHECK_EQ_INT(prb_scan_files(), 2);	/* libc's too */
	CHECK_PT(pt_resume(a.P));
	CHECK_PT(pt_resume(b.P));
	pa_call(&a);
	pa_call(&b);
	pa_finish(&a);
	pa_finish(&b);
}

#define NSCAN	4

static void *
scan_thread(void *arg)
{
	struct census *c = arg;
	struct pa a;

	pa_start(&a);
	c->a = &a;
	CHECK_PT(sym_iter(a.S, "libc.so.6", "*", census_cb, c));
	CHECK_PT(pt_resume(a.P));
	pa_call(&a);
	pa_finish(&a);
	c->a = NULL;
	return NULL;
}

TEST_TIMEOUT(prbarm_scan_threads, 120)
{
	struct census c[NSCAN];
	pthread_t t[NSCAN];

	memset(c, 0, sizeof (c));
	for (int i = 0; i < NSCAN; i++)
		CHECK_EQ_INT(pthread_create(&t[i], NULL, scan_thread, &c[i]), 0);
	for (int i = 0; i < NSCAN; i++)
		CHECK_EQ_INT(pthread_join(t[i], NULL), 0);
	for (int i = 1; i < NSCAN; i++) {
		CHECK_EQ_INT(c[i].nfunc, c[0].nfunc);
		CHECK_EQ_INT(c[i].nok, c[0].nok);
	}
	CHECK(c[0].nfunc > 1000);
	CHECK_EQ_INT(prb_scan_files(), 1);	/* libc only */
}

/* ---- stacks ---- */

struct stk {
	int n;
	uintptr_t pcs[UNW_DEPTH_DEFAULT];
};

/* A "c" with a stopping probe on pa_plain: its stack at the hit. */
static void
stack_at_hit(struct pa *a, unw_proc_t *U, struct stk *s)
{
	char line[256], name[256];
	arch_regs_t r;
	pt_event_t ev;

	victim_send(&a->v, "c\n");
	wait_for_event(a->P, PT_EV_BREAKPOINT, &ev, NULL, 100);
	CHECK_EQ_INT(ev.pe_addr, a->plain);
	CHECK_PT(pt_regs_site(a->P, ev.pe_tid, &r));
	CHECK_EQ_INT(arch_pc(&r), a->plain);
	s->n = unw_stack(U, a->P, a->S, ev.pe_tid, s->pcs, NULL,
	    UNW_DEPTH_DEFAULT);
	CHECK_MSG(s->n > 2, "unw_stack: %d: %s", s->n, err_msg());
	for (int i = 0; i < s->n; i++) {
		(void) unw_frame_name(a->S, s->pcs[i], i > 0, name,
		    sizeof (name));
		tinfo("#%d %#lx %s\n", i, (unsigned long)s->pcs[i], name);
	}
	CHECK_PT(run_default(a->P, &ev));
	victim_expect(&a->v, line, sizeof (line), "called ");
	CHECK_EQ_INT(line_field(line, "sum"), SUM);
}

TEST(prbarm_stack_trap_vs_int3)
{
	struct stk t, i;
	char name[256];
	unw_proc_t *U;
	struct pa a;

	pa_start(&a);
	CHECK((U = unw_proc_new(a.v.pid)) != NULL);
	pa_arm(&a, a.plain, PRB_TRAP, PRB_HOW_TRAMP, NULL);
	CHECK_PT(pt_resume(a.P));
	stack_at_hit(&a, U, &t);
	CHECK_PT(prb_disarm(a.P, a.plain, PRB_TRAP));
	pa_arm(&a, a.plain, PRB_INT3, PRB_HOW_INT3, "int3 asked");
	stack_at_hit(&a, U, &i);
	CHECK_PT(prb_disarm(a.P, a.plain, PRB_INT3));
	CHECK_EQ_INT(t.n, i.n);
	for (int k = 0; k < t.n; k++)
		CHECK_MSG(t.pcs[k] == i.pcs[k], "frame %d: %#lx (trap) != "
		    "%#lx (int3)", k, (unsigned long)t.pcs[k],
		    (unsigned long)i.pcs[k]);
	CHECK_EQ_INT(t.pcs[0], a.plain);
	CHECK(unw_frame_name(a.S, t.pcs[1], 1, name, sizeof (name)) > 0);
	CHECK_CONTAINS(name, "pa_outer");
	unw_proc_free(U);
	pa_finish(&a);
}

/* Names of S's frames, "|"-separated, into BUF. */
static void
stack_names(struct pa *a, const struct stk *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < s->n && off + 2 < len; i++) {
		char name[256];

		(void) unw_frame_name(a->S, s->pcs[i], i > 0, name,
		    sizeof (name));
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i ? "|" : "", name);
	}
}

TEST(prbarm_stack_signal_in_tramp)
{
	char line[256], names[4096];
	struct run_counts c = { 0 };
	unsigned char fl[UNW_DEPTH_DEFAULT];
	struct stk s;
	pt_event_t ev;
	unw_proc_t *U;
	struct pa a;
	int k;

	pa_start(&a);
	CHECK((U = unw_proc_new(a.v.pid)) != NULL);
	pa_arm(&a, a.plain, PRB_TRAP, PRB_HOW_TRAMP, NULL);
	pa_arm(&a, a.after, PRB_INT3, PRB_HOW_INT3, "int3 asked");
	CHECK_PT(pt_resume(a.P));
	victim_send(&a.v, "c\n");
	wait_for_event(a.P, PT_EV_BREAKPOINT, &ev, NULL, 100);
	CHECK_EQ_INT(ev.pe_addr, a.plain);
	/* pending at the trap stop: taken as it resumes, in the trampoline */
	CHECK_EQ_INT(syscall(SYS_tgkill, a.v.pid, ev.pe_tid, SIGUSR1), 0);
	CHECK_PT(run_default(a.P, &ev));
	wait_for_event(a.P, PT_EV_BREAKPOINT, &ev, &c, 100);
	CHECK_EQ_INT(c.sigs[SIGUSR1], 1);
	CHECK_EQ_INT(ev.pe_addr, a.after);
	s.n = unw_stack(U, a.P, a.S, ev.pe_tid, s.pcs, fl,
	    UNW_DEPTH_DEFAULT);
	stack_names(&a, &s, names, sizeof (names));
	tinfo("%s\n", names);
	CHECK_MSG(s.n > 4, "unw_stack: %d: %s", s.n, names);
	CHECK_EQ_INT(s.pcs[0], a.after);
	/* the handler, the signal trampoline, then the site, exact */
	for (k = 1; k < s.n; k++) {
		(void) unw_frame_name(a.S, s.pcs[k], 0, line, sizeof (line));
		if (strncmp(line, "prbarmv`pa_plain", 16) == 0)
			break;
	}
	CHECK_MSG(k < s.n, "no frame in pa_plain: %s", names);
	CHECK_MSG(s.pcs[k] >= a.plain && s.pcs[k] < a.plain + 16,
	    "frame %d: %#lx is not in pa_plain's first bytes: %s", k,
	    (unsigned long)s.pcs[k], names);
	CHECK_MSG(fl[k] & UNW_F_EXACT, "pa_plain's frame is not exact: %s",
	    names);
	CHECK_MSG(k + 1 < s.n && unw_frame_name(a.S, s.pcs[k + 1], 1, line,
	    sizeof (line)) > 0 && strstr(line, "pa_outer") != NULL,
	    "no pa_outer under pa_plain: %s", names);
	CHECK_CONTAINS(names, "pa_handler");
	CHECK(strstr(names, "dtproc-tramp") == NULL);
	CHECK_PT(run_default(a.P, &ev));
	/* pa_outer's own call of pa_after */
	wait_for_event(a.P, PT_EV_BREAKPOINT, &ev, &c, 100);
	CHECK_EQ_INT(ev.pe_addr, a.after);
	CHECK_PT(run_default(a.P, &ev));
	victim_expect(&a.v, line, sizeof (line), "called ");
	CHECK_EQ_INT(line_field(line, "sum"), SUM);
	CHECK_EQ_INT(line_field(line, "sig"), SIGUSR1 + 1);
	CHECK_PT(prb_disarm(a.P, a.plain, PRB_TRAP));
	CHECK_PT(prb_disarm(a.P, a.after, PRB_INT3));
	unw_proc_free(U);
	pa_finish(&a);
}
