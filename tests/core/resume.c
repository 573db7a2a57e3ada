/*
 * resume.c - the resume stub (arch/resume.c, ptrace/inject.c) on its
 * own: a system call injected through it into a thread, its tracer
 * killed (SIGKILL) while the thread sits in the call's exit stop, comes
 * back by itself whole: every register it had at its stop, its flags,
 * its own signal mask (every signal was blocked for the call), a signal
 * sent meanwhile delivered after, in the middle of the stub.  The same
 * call run the old way (the call and a trap, nothing to come back with)
 * kills the thread with SIGTRAP: what the stub is for.
 *
 * The test is a subreaper; a child of it, the tracer, forks the victim
 * (PTRACE_TRACEME), which stops itself with regs_stop (harness_regs.c):
 * a register lost shows as a bit of its exit status.
 */
#include "harness.h"
#include "arch/arch.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>

/* The victim: SIGUSR2 blocked, SIGUSR1 handled; status 0: all back. */
static _Noreturn void
rs_victim(void)
{
	_exit(regs_child("resume victim"));
}

/*
 * The tracer: fork the victim, and at its stop run getpid in it from
 * CODE (LEN bytes, in a page both share: the stub, or the old call and
 * trap), every signal blocked meanwhile; say the victim's pid on REP at
 * the call's exit stop and wait there to be killed.
 */
static _Noreturn void
rs_tracer(int rep, const uint8_t *code, size_t len, bool stub)
{
	static const uint64_t all = ~0ULL;
	uint64_t blk[ARCH_RESUME_WORDS], mask;
	const long args[6] = { 0 };
	arch_regs_t saved, r;
	uintptr_t blkat = 0;
	uint8_t *page;
	pid_t v;
	int st;

	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		_exit(90);
	memcpy(page, code, len);
	if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
		_exit(91);
	if ((v = fork()) == 0)
		rs_victim();
	if (waitpid(v, &st, 0) != v || !WIFSTOPPED(st) ||
	    WSTOPSIG(st) != SIGSTOP || arch_regs_read(v, &saved) != 0 ||
	    ptrace(PTRACE_GETSIGMASK, v, sizeof (mask), &mask) != 0 ||
	    ptrace(PTRACE_SETSIGMASK, v, sizeof (all), &all) != 0)
		_exit(92);
	r = saved;
	if (stub) {
		struct iovec l, rm;

		blkat = arch_resume_block(&saved, mask, blk);
		l.iov_base = blk;
		l.iov_len = rm.iov_len = sizeof (blk);
		rm.iov_base = (void *)blkat;
		if (process_vm_writev(v, &l, 1, &rm, 1, 0) !=
		    (ssize_t)sizeof (blk))
			_exit(93);
		arch_resume_setup(&r, (uintptr_t)page, blkat, SYS_getpid,
		    args);
	} else {
		arch_syscall_setup(&r, (uintptr_t)page, SYS_getpid, args);
	}
	if (arch_regs_write(v, &r) != 0)
		_exit(94);
	/* its entry stop, then its exit stop (the SIGSTOP suppressed) */
	for (int i = 0; i < 2; i++) {
		if (ptrace(PTRACE_SYSCALL, v, 0, 0) != 0 ||
		    waitpid(v, &st, 0) != v || !WIFSTOPPED(st) ||
		    WSTOPSIG(st) != SIGTRAP)
			_exit(95);
	}
	if (arch_regs_read(v, &r) != 0 || arch_syscall_ret(&r) != v)
		_exit(96);
	if (write(rep, &v, sizeof (v)) != (ssize_t)sizeof (v))
		_exit(97);
	for (;;)
		pause();
}

/* Run the tracer with CODE; kill it at the exit stop: the victim's end. */
static int
rs_run(const uint8_t *code, size_t len, bool stub)
{
	int p[2], st;
	pid_t t, v;

	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
	CHECK(pipe(p) == 0);
	if ((t = fork()) == 0) {
		close(p[0]);
		rs_tracer(p[1], code, len, stub);
	}
	close(p[1]);
	if (read(p[0], &v, sizeof (v)) != (ssize_t)sizeof (v)) {
		CHECK(waitpid(t, &st, 0) == t);
		FAIL("tracer: %s", wstatus_str(st));
	}
	close(p[0]);
	/* blocked for the call: pending until the mask is back */
	CHECK(kill(v, SIGUSR1) == 0);
	CHECK(kill(t, SIGKILL) == 0);
	CHECK(waitpid(t, &st, 0) == t);
	CHECK_KILLED(st, SIGKILL);
	/* ours now (a subreaper's) */
	CHECK(waitpid(v, &st, 0) == v);
	return st;
}

/* With the stub: it comes back from the call by itself, whole. */
TEST_TIMEOUT(resume_tracer_killed_at_exit_stop, 30)
{
	CHECK_EXITED(rs_run(arch_resume_code, sizeof (arch_resume_code),
	    true), 0);
}

/* The old way: the thread runs on into the trap, and dies of it. */
TEST_TIMEOUT(resume_old_way_dies_of_sigtrap, 30)
{
	CHECK_KILLED(rs_run(arch_syscall_code, sizeof (arch_syscall_code),
	    false), SIGTRAP);
}
