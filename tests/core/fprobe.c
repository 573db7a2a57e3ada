/*
 * fprobe.c - dtproc_fprobe_* through the public API: entry probes'
 * arguments, return probes' values, times and depths, and every way a
 * call can leave its function without returning (longjmp, a C++
 * exception, a context switch, pthread_exit, exit) or return where a naive matcher would be
 * fooled (recursion, a tail call, eight threads, a signal handler on a
 * sigaltstack above the thread's stack); fork and vfork children that
 * run probed code; offset probes at each instruction; errors.
 *
 * The victim (fprobev) answers each command once its calls are done,
 * and every firing runs its callback while the firing thread is
 * stopped, so the records read after an answer are complete.  The tests
 * run again with returns recorded without a stop (the _nostop ones,
 * DTPROC_FP_NOSTOP): those fire later, and are waited for (rec_wait).
 */
#include "ctlsupport.h"

#include <limits.h>

TEST(fprobe_args_retval)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_args", DTPROC_FP_ENTRY | DTPROC_FP_RETURN, r);
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_ENTRY);
	CHECK(fi.dfi_how == DTPROC_PROBE_TRAMP || fi.dfi_how ==
	    DTPROC_PROBE_TRAP);
	CHECK_EQ_INT(fi.dfi_live, 1);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "a 1 -2 3 0x40 5 6 7000000000 8\n", "args ", line,
	    sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 7000000085LL);
	CHECK_EQ_INT(rec_n(r), 2);
	CHECK_EQ_INT(r->r_hit[0].dh_kind, DTPROC_HIT_ENTRY);
	CHECK_EQ_INT(r->r_hit[0].dh_func, fn);
	CHECK_EQ_INT(r->r_hit[0].dh_pc, fn);
	CHECK_EQ_INT(r->r_hit[0].dh_tid, v.pid);
	CHECK_EQ_INT(r->r_hit[0].dh_depth, 1);
	{
		static const long want[8] = { 1, -2, 3, 0x40, 5, 6,
		    7000000000L, 8 };

		for (int i = 0; i < 8; i++)
			CHECK_EQ_INT((long)r->r_hit[0].dh_args[i], want[i]);
	}
	CHECK_EQ_INT(r->r_rdi[0], 1);
	CHECK_EQ_INT(r->r_regbad, 0);
	CHECK_EQ_INT(r->r_hit[1].dh_kind, DTPROC_HIT_RETURN);
	CHECK_EQ_INT(r->r_hit[1].dh_retval, 7000000085LL);
	CHECK_EQ_INT(r->r_hit[1].dh_args[1], 7000000085LL);
	CHECK_EQ_INT(r->r_hit[1].dh_retaddr, r->r_hit[0].dh_retaddr);
	CHECK_EQ_INT(r->r_hit[1].dh_pc, r->r_hit[0].dh_retaddr);
	CHECK_EQ_INT(r->r_hit[1].dh_sp, r->r_hit[0].dh_sp);
	CHECK_EQ_INT(r->r_hit[1].dh_entry_time, r->r_hit[0].dh_time);
	CHECK(r->r_hit[1].dh_time >= r->r_hit[0].dh_time);
	/* the entry's stop, held from its dh_time to the resume, is in */
	CHECK(r->r_hit[1].dh_held > r->r_hit[0].dh_held);
	CHECK(r->r_hit[1].dh_held - r->r_hit[0].dh_held <
	    r->r_hit[1].dh_time - r->r_hit[0].dh_time);
	CHECK_EQ_INT(r->r_hit[1].dh_depth, 1);
	/* arg0: the return site's offset in main */
	{
		dtproc_sym_t sym;

		CHECK_EQ_INT(dtproc_sym_addr(dtp, pr,
		    r->r_hit[1].dh_pc, &sym), 0);
		CHECK_STR_EQ(sym.ds_name, "main");
		CHECK_EQ_INT(r->r_hit[1].dh_args[0], r->r_hit[1].dh_pc -
		    sym.ds_addr);
	}
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	/* errors */
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 0, DTPROC_FP_ENTRY,
	    rec_cb, NULL), -EEXIST);
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 0, 0x40, rec_cb, NULL),
	    -EINVAL);
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 0, DTPROC_FP_OFFSET |
	    DTPROC_FP_ENTRY, rec_cb, NULL), -EINVAL);
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 4, DTPROC_FP_ENTRY,
	    rec_cb, NULL), -EINVAL);
	CHECK_EQ_INT(dtproc_fprobe_info(dtp, pr, fn, 0, DTPROC_FP_OFFSET,
	    &fi), -ENOENT);
	/* deleted: no more firings, the text the file's */
	CHECK_EQ_INT(dtproc_fprobe_del(dtp, pr, fn, 0, DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN), 0);
	CHECK_EQ_INT(dtproc_fprobe_del(dtp, pr, fn, 0, DTPROC_FP_ENTRY),
	    -ENOENT);
	ask(&v, "a 1 2 3 4 5 6 7 8\n", "args ", line, sizeof (line));
	CHECK_EQ_INT(rec_n(r), 2);
	CHECK_EQ_INT(text_matches_file(v.pid, fn, 16), 1);
	quit_dead(dtp, pr, &v, &ns);
}

/*
 * XF: more flags for the return probes (DTPROC_FP_NOSTOP); then a return
 * may fire after the answer, and the tests wait for the count they know.
 */
static void
recursion(int xf)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_rec", DTPROC_FP_ENTRY | DTPROC_FP_RETURN | xf,
	    r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "r 10\n", "rec ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 55);
	CHECK_EQ_INT(rec_wait(r, 22, 10000), 22);
	for (int i = 0; i < 11; i++) {
		const dtproc_hit_t *e = &r->r_hit[i], *x = &r->r_hit[21 - i];

		CHECK_EQ_INT(e->dh_kind, DTPROC_HIT_ENTRY);
		CHECK_EQ_INT(e->dh_args[0], 10 - i);
		CHECK_EQ_INT(e->dh_depth, i + 1);
		CHECK_EQ_INT(x->dh_kind, DTPROC_HIT_RETURN);
		CHECK_EQ_INT(x->dh_depth, i + 1);
		CHECK_EQ_INT(x->dh_sp, e->dh_sp);
		/* fp_rec(n) = n(n+1)/2 */
		CHECK_EQ_INT(x->dh_retval, (10 - i) * (11 - i) / 2);
		CHECK_EQ_INT(!!(x->dh_flags & DTPROC_HIT_DEFERRED), xf != 0);
	}
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 11);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(finfo(dtp, pr, fn, 0, DTPROC_FP_ENTRY).dfi_hits, 11);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_recursion)
{
	recursion(0);
}

TEST(fprobe_recursion_nostop)
{
	recursion(DTPROC_FP_NOSTOP);
}

static void
threads(int xf)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fn;
	dtproc_fprobe_info_t fi;
	int per[64] = { 0 }, ntid = 0, deferred = 0;
	pid_t tids[64];

	pr = fprobev(dtp, &v);
	fn = probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY | DTPROC_FP_RETURN |
	    xf, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "t 100\n", "threads ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 8 * (3 * 4950 + 100));
	/* (each thread's last return: fired at its exit, before the join) */
	CHECK_EQ_INT(rec_wait(r, 1600, 10000), 1600);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_ENTRY), 800);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_RETURN), 800);
	/* each return: its thread's, 3x + 1 of what that entry had */
	for (int i = 0; i < rec_n(r); i++) {
		const dtproc_hit_t *h = &r->r_hit[i];
		int k;

		for (k = 0; k < ntid && tids[k] != h->dh_tid; k++)
			;
		if (k == ntid) {
			CHECK(ntid < 64);
			tids[ntid++] = h->dh_tid;
		}
		if (h->dh_kind == DTPROC_HIT_RETURN) {
			/* the entry before it on that thread */
			int j;

			for (j = i - 1; j >= 0 && r->r_hit[j].dh_tid !=
			    h->dh_tid; j--)
				;
			CHECK(j >= 0 && r->r_hit[j].dh_kind ==
			    DTPROC_HIT_ENTRY);
			CHECK_EQ_INT(h->dh_retval,
			    3 * r->r_hit[j].dh_args[0] + 1);
			CHECK_EQ_INT(h->dh_depth, 1);
			CHECK_EQ_INT(h->dh_sp, r->r_hit[j].dh_sp);
			CHECK_EQ_INT(h->dh_entry_time, r->r_hit[j].dh_time);
			deferred += (h->dh_flags & DTPROC_HIT_DEFERRED) != 0;
			per[k]++;
		}
	}
	CHECK_EQ_INT(ntid, 8);
	for (int k = 0; k < 8; k++)
		CHECK_EQ_INT(per[k], 100);
	fi = finfo(dtp, pr, fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 800);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(fi.dfi_overflow, 0);
	tinfo("%d of 800 returns deferred\n", deferred);
	if (xf != 0)	/* a bucket another thread holds: a stop */
		CHECK(deferred >= 700);
	else
		CHECK_EQ_INT(deferred, 0);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_threads)
{
	threads(0);
}

TEST(fprobe_threads_nostop)
{
	threads(DTPROC_FP_NOSTOP);
}

/*
 * A thread that blocks every signal: each entry stops and its return
 * is matched, the mask is the same after each call (the victim checks)
 * and nothing is left pending.  With a SIGURG of the program's own
 * pending, the gate does not stop (that signal would be taken as ours)
 * and the victim finds it there, once.
 */
TEST(fprobe_blocked_signals)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	int e, x;

	pr = fprobev(dtp, &v);
	(void) probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "b 200\n", "blocked ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "sum"), 3 * 19900 + 200);
	CHECK_EQ_INT(line_field(line, "bad"), 0);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_ENTRY), 200);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_RETURN), 200);

	ask(&v, "B 50\n", "blocked ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "bad"), 0);
	CHECK_EQ_INT(line_field(line, "own"), 1);
	e = count(r, "fp_target", DTPROC_HIT_ENTRY) - 200;
	x = count(r, "fp_target", DTPROC_HIT_RETURN) - 200;
	tinfo("with a SIGURG of its own pending: %d entries, %d returns\n",
	    e, x);
	CHECK_EQ_INT(e, x);
	quit_dead(dtp, pr, &v, &ns);
}

/*
 * The victim's clock (dh_vtime, dh_vheld): on each thread, each hit's is
 * read after the last hit's stop was reported to us and before this
 * one's was (one CLOCK_MONOTONIC); the stops' sum grows; a return
 * carries its entry's two as they were, and includes at least the entry
 * stop's cost.  Nearly every call is timed so (patched sites).
 */
TEST(fprobe_victim_clock)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	int known = 0;

	pr = fprobev(dtp, &v);
	(void) probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "t 100\n", "threads ", line, sizeof (line));
	CHECK_EQ_INT(rec_n(r), 1600);
	for (int i = 0; i < rec_n(r); i++) {
		const dtproc_hit_t *h = &r->r_hit[i], *p = NULL;

		for (int j = i - 1; j >= 0 && p == NULL; j--)
			if (r->r_hit[j].dh_tid == h->dh_tid)
				p = &r->r_hit[j];
		if (h->dh_vtime == 0) {
			/* an int3 stop: no clock of its own */
			continue;
		}
		CHECK_MSG(h->dh_vtime <= h->dh_time, "hit %d: victim %llu "
		    "after our %llu", i, (unsigned long long)h->dh_vtime,
		    (unsigned long long)h->dh_time);
		if (p != NULL) {
			CHECK(h->dh_vtime > p->dh_time);
			if (p->dh_vtime != 0)
				CHECK(h->dh_vheld > p->dh_vheld);
		}
		if (h->dh_kind != DTPROC_HIT_RETURN)
			continue;
		CHECK(p != NULL && p->dh_kind == DTPROC_HIT_ENTRY);
		CHECK_EQ_INT(h->dh_entry_vtime, p->dh_vtime);
		CHECK_EQ_INT(h->dh_entry_vheld, p->dh_vheld);
		CHECK(h->dh_vtime > h->dh_entry_vtime);
		known++;
	}
	tinfo("%d of 800 calls timed by the victim's clock\n", known);
	CHECK(known >= 700);
	quit_dead(dtp, pr, &v, &ns);
}

static void
longjmps(int xf)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t jump, target;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	jump = probe(dtp, pr, "fp_jump", DTPROC_FP_ENTRY | DTPROC_FP_RETURN |
	    xf, r);
	target = probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN | xf, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "j\n", "jumped ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 16);
	/* fp_jump's entry, fp_target's entry and return */
	CHECK_EQ_INT(rec_wait(r, 3, 10000), 3);
	fi = finfo(dtp, pr, jump, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 0);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	CHECK_EQ_INT(count(r, "fp_target", DTPROC_HIT_RETURN), 1);
	/* the later call's depth: the dropped entry does not count */
	CHECK_EQ_INT(r->r_hit[rec_n(r) - 1].dh_depth, 1);
	CHECK_EQ_INT(r->r_hit[rec_n(r) - 1].dh_retval, 16);
	/* again: the same return site, the same answers */
	ask(&v, "j\n", "jumped ", line, sizeof (line));
	CHECK_EQ_INT(rec_wait(r, 6, 10000), 6);
	CHECK_EQ_INT(finfo(dtp, pr, jump, 0, DTPROC_FP_RETURN).dfi_unwound,
	    2);
	fi = finfo(dtp, pr, target, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 2);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	/* no stray return of fp_jump's, the last one as it should be */
	CHECK_EQ_INT(count(r, "fp_jump", DTPROC_HIT_RETURN), 0);
	CHECK_EQ_INT(r->r_hit[5].dh_kind, DTPROC_HIT_RETURN);
	CHECK_EQ_INT(r->r_hit[5].dh_retval, 16);
	CHECK_EQ_INT(!!(r->r_hit[5].dh_flags & DTPROC_HIT_DEFERRED), xf != 0);
	/* and fp_jump's bucket, left pending, fools no later call */
	ask(&v, "r 3\n", "rec ", line, sizeof (line));
	ask(&v, "j\n", "jumped ", line, sizeof (line));
	CHECK_EQ_INT(rec_wait(r, 9, 10000), 9);
	CHECK_EQ_INT(count(r, "fp_jump", DTPROC_HIT_RETURN), 0);
	CHECK_EQ_INT(finfo(dtp, pr, jump, 0, DTPROC_FP_RETURN).dfi_unwound,
	    3);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_longjmp)
{
	longjmps(0);
}

TEST(fprobe_longjmp_nostop)
{
	longjmps(DTPROC_FP_NOSTOP);
}

TEST(fprobe_context_switch)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t co, yield;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	co = probe(dtp, pr, "fp_co", DTPROC_FP_RETURN, r);
	yield = probe(dtp, pr, "fp_yield", DTPROC_FP_RETURN, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "u\n", "context ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 16);
	fi = finfo(dtp, pr, co, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	/* pending on the coroutine's stack while fp_co returned */
	fi = finfo(dtp, pr, yield, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(rec_n(r), 2);
	CHECK_EQ_INT(r->r_hit[1].dh_retval, 11);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_sigaltstack)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t sig, rec;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	sig = probe(dtp, pr, "fp_sig", DTPROC_FP_ENTRY | DTPROC_FP_RETURN, r);
	rec = probe(dtp, pr, "fp_rec", DTPROC_FP_ENTRY | DTPROC_FP_RETURN, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "s\n", "signal ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 106);
	fi = finfo(dtp, pr, rec, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 4);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	/* the handler ran above fp_sig's frame, on another stack */
	fi = finfo(dtp, pr, sig, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(r->r_hit[rec_n(r) - 1].dh_retval, 106);
	CHECK_EQ_INT(r->r_hit[rec_n(r) - 1].dh_depth, 1);
	/* fp_rec(3) inside: depths 2..5 */
	CHECK_EQ_INT(r->r_hit[1].dh_depth, 2);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_tail_call)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t tail, leaf;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	tail = probe(dtp, pr, "fp_tail", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	leaf = probe(dtp, pr, "fp_leaf", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	for (int i = 0; i < 3; i++) {
		ask(&v, "l\n", "tail ", line, sizeof (line));
		CHECK_EQ_INT(line_field(line, "r"), 42);
	}
	/* fp_leaf returns for both: the tail call's return is its callee's */
	fi = finfo(dtp, pr, tail, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 3);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	fi = finfo(dtp, pr, leaf, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 3);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	CHECK_EQ_INT(rec_n(r), 12);
	CHECK_EQ_INT(r->r_hit[2].dh_retval, 42);
	CHECK_EQ_INT(r->r_hit[3].dh_retval, 42);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_never_return)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t pexit, ex;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	pexit = probe(dtp, pr, "fp_pexit", DTPROC_FP_RETURN, r);
	ex = probe(dtp, pr, "fp_exit", DTPROC_FP_ENTRY | DTPROC_FP_RETURN, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "p\n", "pexit", line, sizeof (line));
	victim_send(&v, "e 3\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 3);
	fi = finfo(dtp, pr, pexit, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 0);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	CHECK_EQ_INT(fi.dfi_live, 0);
	fi = finfo(dtp, pr, ex, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 0);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	CHECK_EQ_INT(finfo(dtp, pr, ex, 0, DTPROC_FP_ENTRY).dfi_hits, 1);
	CHECK_EQ_INT(count(r, "fp_exit", DTPROC_HIT_ENTRY), 1);
	CHECK_EQ_INT(r->r_hit[0].dh_args[0], 3);
	/* withdrawn records go without their process */
	CHECK_EQ_INT(dtproc_fprobe_del(dtp, pr, ex, 0, DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN), 0);
	CHECK_EQ_INT(dtproc_fprobe_info(dtp, pr, ex, 0, DTPROC_FP_RETURN, &fi),
	    -ENOENT);
	dtproc_close(dtp);
}

static void
fork_children(int xf)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t fork_fn, vfork_fn, target;
	dtproc_fprobe_info_t fi;

	pr = fprobev(dtp, &v);
	fork_fn = probe(dtp, pr, "fp_fork", DTPROC_FP_ENTRY | DTPROC_FP_RETURN |
	    xf, r);
	vfork_fn = probe(dtp, pr, "fp_vfork", DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN | xf, r);
	target = probe(dtp, pr, "fp_target", DTPROC_FP_ENTRY |
	    DTPROC_FP_RETURN | xf, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	/* each child ran the probed code and the return site: unharmed */
	ask(&v, "f\n", "forked ", line, sizeof (line));
	CHECK_EXITED((int)line_field(line, "st"), 7);
	ask(&v, "v\n", "vforked ", line, sizeof (line));
	CHECK_EXITED((int)line_field(line, "st"), 9);
	/* fp_fork's and fp_vfork's entries and returns */
	CHECK_EQ_INT(rec_wait(r, 4, 10000), 4);
	CHECK_EQ_INT(r->r_hit[1].dh_kind, DTPROC_HIT_RETURN);
	CHECK_EQ_INT(r->r_hit[1].dh_tid, v.pid);
	CHECK(r->r_hit[1].dh_retval > 0);	/* the parent's: a pid */
	CHECK_EQ_INT(r->r_hit[3].dh_kind, DTPROC_HIT_RETURN);
	CHECK_EQ_INT(r->r_hit[3].dh_tid, v.pid);
	CHECK(r->r_hit[3].dh_retval > 0);
	/* the parent's returns only; the children are not ours */
	fi = finfo(dtp, pr, fork_fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	fi = finfo(dtp, pr, vfork_fn, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(finfo(dtp, pr, target, 0, DTPROC_FP_ENTRY).dfi_hits, 0);
	/* and the parent goes on being traced right */
	ask(&v, "r 2\n", "rec ", line, sizeof (line));
	ask(&v, "j\n", "jumped ", line, sizeof (line));
	CHECK_EQ_INT(rec_wait(r, 6, 10000), 6);
	CHECK_EQ_INT(r->r_hit[5].dh_retval, 16);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(fprobe_fork_children)
{
	fork_children(0);
}

TEST(fprobe_fork_children_nostop)
{
	fork_children(DTPROC_FP_NOSTOP);
}

TEST(fprobe_offsets)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	static const size_t offs[] = { 0, 3, 7, 11 };
	struct tag t = { r, "fp_small" };
	uintptr_t fn;

	pr = fprobev(dtp, &v);
	fn = sym_addr(dtp, pr, "a.out`fp_small");
	/* inside an instruction, past the end: refused, named */
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 1, DTPROC_FP_OFFSET,
	    rec_cb, &t), -EINVAL);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "fp_small+0x1 is not an "
	    "instruction boundary");
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 8, DTPROC_FP_OFFSET,
	    rec_cb, &t), -EINVAL);
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 12, DTPROC_FP_OFFSET,
	    rec_cb, &t), -ERANGE);
	for (int i = 3; i >= 0; i--)
		CHECK_MSG(dtproc_fprobe_add(dtp, pr, fn, offs[i],
		    DTPROC_FP_OFFSET, rec_cb, &t) == 0, "offset %zu: %s",
		    offs[i], dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_fprobe_add(dtp, pr, fn, 3, DTPROC_FP_OFFSET,
	    rec_cb, &t), -EEXIST);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "o 4\n", "small ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 25);
	CHECK_EQ_INT(rec_n(r), 4);
	for (int i = 0; i < 4; i++) {
		CHECK_EQ_INT(r->r_hit[i].dh_kind, DTPROC_HIT_OFFSET);
		CHECK_EQ_INT(r->r_hit[i].dh_pc, fn + offs[i]);
		CHECK_EQ_INT(r->r_hit[i].dh_args[0], 4);
	}
	{
		uint64_t rax;

		/* the registers as they are: rax = 5 before the imul */
		(void) rax;
		CHECK(r->r_hit[2].dh_time >= r->r_hit[1].dh_time);
	}
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(finfo(dtp, pr, fn, offs[i],
		    DTPROC_FP_OFFSET).dfi_hits, 1);
	CHECK_EQ_INT(dtproc_fprobe_del(dtp, pr, fn, 7, DTPROC_FP_OFFSET), 0);
	ask(&v, "o 1\n", "small ", line, sizeof (line));
	CHECK_EQ_INT(rec_n(r), 7);
	CHECK_EQ_INT(r->r_hit[6].dh_pc, fn + 11);
	quit_dead(dtp, pr, &v, &ns);
}

/* The dlopen'd libfpcall.so, made absolute. */
static const char *
libfpcall_path(void)
{
	static char buf[PATH_MAX];
	const char *b = getenv("DTPROC_BUILD");
	char p[PATH_MAX];

	snprintf(p, sizeof (p), "%s/tests/libs/libfpcall.so",
	    b != NULL && b[0] != 0 ? b : "build");
	if (realpath(p, buf) == NULL)
		FAIL("%s: %s", p, strerror(errno));
	return buf;
}

/* A library whose code a pending call would return to is closed. */
TEST(fprobe_dlclose_pending)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t cb, target;
	dtproc_fprobe_info_t fi;
	char cmd[PATH_MAX + 8];

	pr = fprobev(dtp, &v);
	cb = probe(dtp, pr, "fp_cbjump", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	target = probe(dtp, pr, "fp_target", DTPROC_FP_RETURN, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	snprintf(cmd, sizeof (cmd), "d %s\n", libfpcall_path());
	ask(&v, cmd, "dlclosed ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 16);
	fi = finfo(dtp, pr, cb, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 0);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	CHECK_EQ_INT(finfo(dtp, pr, cb, 0, DTPROC_FP_ENTRY).dfi_hits, 1);
	fi = finfo(dtp, pr, target, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 1);
	CHECK_EQ_INT(fi.dfi_unwound, 0);
	/* the library again, at the same place or another: all right */
	ask(&v, cmd, "dlclosed ", line, sizeof (line));
	CHECK_EQ_INT(finfo(dtp, pr, cb, 0, DTPROC_FP_RETURN).dfi_unwound, 2);
	CHECK_EQ_INT(finfo(dtp, pr, target, 0, DTPROC_FP_RETURN).dfi_hits, 2);
	quit_dead(dtp, pr, &v, &ns);
}

/*
 * A C++ exception thrown by a probed function (cx_throw) through its
 * probed caller (cx_mid) and caught by cx_catch: the victim's cleanups
 * and handler run (nothing of ours is on the stack the unwinder reads,
 * and cx_catch's landing pad, 2 bytes past cx_mid's return address,
 * is under no jump of ours: a window ends at the jmp before it); both
 * entries are counted unwound, and the same calls made again, at the
 * very stack pointers and return addresses of the unwound ones, return
 * as themselves (they were taken for a tail call's, returning twice).
 */
TEST(fprobe_cxx_exception)
{
	CTL_LOCALS;
	struct rec *r = rec_new();
	uintptr_t thr, mid;
	dtproc_fprobe_info_t fi;

	pr = create_ok(dtp, "exceptv", NULL, DTPROC_STOP_MAIN, &v);
	thr = probe(dtp, pr, "cx_throw", DTPROC_FP_ENTRY | DTPROC_FP_RETURN,
	    r);
	mid = probe(dtp, pr, "cx_mid", DTPROC_FP_ENTRY | DTPROC_FP_RETURN, r);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	ask(&v, "x 0\n", "caught ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 2);
	CHECK_EQ_INT(line_field(line, "d"), 2);
	CHECK_EQ_INT(rec_n(r), 4);
	/* thrown by cx_throw(3), caught two frames up, cleanups run */
	ask(&v, "x 3\n", "caught ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), -1);
	CHECK_EQ_INT(line_field(line, "c"), 6);
	CHECK_EQ_INT(line_field(line, "d"), 4);
	CHECK_EQ_INT(rec_n(r), 6);
	CHECK_EQ_INT(r->r_hit[5].dh_kind, DTPROC_HIT_ENTRY);
	CHECK_EQ_INT(r->r_hit[5].dh_args[0], 3);
	/* the same calls again: the unwound entries are found out */
	ask(&v, "x 0\n", "caught ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "r"), 2);
	CHECK_EQ_INT(line_field(line, "d"), 6);
	CHECK_EQ_INT(rec_n(r), 10);
	CHECK_EQ_INT(r->r_hit[8].dh_kind, DTPROC_HIT_RETURN);
	CHECK_STR_EQ(r->r_name[8], "cx_throw");
	CHECK_EQ_INT(r->r_hit[8].dh_retval, 1);
	CHECK_EQ_INT(r->r_hit[8].dh_depth, 2);
	CHECK_EQ_INT(r->r_hit[8].dh_entry_time, r->r_hit[7].dh_time);
	CHECK_EQ_INT(r->r_hit[9].dh_kind, DTPROC_HIT_RETURN);
	CHECK_STR_EQ(r->r_name[9], "cx_mid");
	CHECK_EQ_INT(r->r_hit[9].dh_retval, 2);
	CHECK_EQ_INT(r->r_hit[9].dh_depth, 1);
	CHECK_EQ_INT(r->r_hit[9].dh_entry_time, r->r_hit[6].dh_time);
	fi = finfo(dtp, pr, thr, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 2);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	fi = finfo(dtp, pr, mid, 0, DTPROC_FP_RETURN);
	CHECK_EQ_INT(fi.dfi_hits, 2);
	CHECK_EQ_INT(fi.dfi_unwound, 1);
	CHECK_EQ_INT(finfo(dtp, pr, thr, 0, DTPROC_FP_ENTRY).dfi_hits, 3);
	/* thrown again, the first one then found out by a return */
	ask(&v, "x 1\n", "caught ", line, sizeof (line));
	CHECK_EQ_INT(line_field(line, "c"), 8);
	ask(&v, "x 0\n", "caught ", line, sizeof (line));
	CHECK_EQ_INT(finfo(dtp, pr, mid, 0, DTPROC_FP_RETURN).dfi_unwound, 2);
	CHECK_EQ_INT(finfo(dtp, pr, mid, 0, DTPROC_FP_RETURN).dfi_hits, 3);
	quit_dead(dtp, pr, &v, &ns);
}
