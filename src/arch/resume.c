/*
 * resume.c - an injected system call that comes back by itself.
 *
 * A call injected into a thread (ptrace/inject.c) is run with the
 * thread's registers changed.  Should the tracer die before it puts
 * them back, the thread goes on from wherever the call left it.  So the
 * call is run from a stub in an executable page of ours,
 *
 *	syscall
 *	rt_sigprocmask(SIG_SETMASK, %rsp, NULL, 8)	its mask back
 *	lea 8(%rsp),%rsp
 *	pop %r15 ... pop %rax	every general register but %rsp
 *	popfq
 *	ret $ARCH_REDZONE
 *
 * with %rsp pointing at a block, below the red zone, that holds the
 * thread's signal mask, registers, flags and pc in that order: should
 * nobody collect the call's exit stop, the thread takes back its mask
 * (a caller may have blocked every signal for the call) and pops the
 * rest, returning to its pc with %rsp its own again.  Nothing but the
 * block (below the red zone, where nothing of the thread's lives) is
 * written; a handler run once the mask is back runs below the block,
 * and returns into the stub, which goes on.  With a tracer, the exit
 * stop of the first call is collected and nothing past it runs.
 * A system call the thread was stopped in is set up in the block to be
 * restarted as the kernel would have done it with no handler to run: pc
 * back onto the call instruction, its number back in %rax.
 */
#include "arch.h"

#include <assert.h>
#include <string.h>
#include <sys/syscall.h>

const uint8_t arch_resume_code[ARCH_RESUME_LEN] = {
	0x0f, 0x05,				/* syscall */
	0xb8, 0x0e, 0x00, 0x00, 0x00,		/* mov $rt_sigprocmask,%eax */
	0xbf, 0x02, 0x00, 0x00, 0x00,		/* mov $SIG_SETMASK,%edi */
	0x48, 0x89, 0xe6,			/* mov %rsp,%rsi */
	0x31, 0xd2,				/* xor %edx,%edx */
	0x41, 0xba, 0x08, 0x00, 0x00, 0x00,	/* mov $8,%r10d */
	0x0f, 0x05,				/* syscall */
	0x48, 0x8d, 0x64, 0x24, 0x08,		/* lea 8(%rsp),%rsp */
	0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d,	/* pop %r15, %r14, %r13 */
	0x41, 0x5c, 0x41, 0x5b, 0x41, 0x5a,	/* pop %r12, %r11, %r10 */
	0x41, 0x59, 0x41, 0x58,			/* pop %r9, %r8 */
	0x5d, 0x5f, 0x5e, 0x5a, 0x59, 0x5b,	/* pop %rbp %rdi %rsi %rdx
						   %rcx %rbx */
	0x58,					/* pop %rax */
	0x9d,					/* popfq */
	0xc2, ARCH_REDZONE, 0x00		/* ret $128 */
};

static_assert(SYS_rt_sigprocmask == 14, "the stub's call number");

/* The kernel's codes for a call to be restarted (never seen by users). */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

uintptr_t
arch_resume_block(const arch_regs_t *r, uint64_t mask,
    uint64_t blk[ARCH_RESUME_WORDS])
{
	arch_regs_t s = *r;

	if ((long)s.orig_rax >= 0) {
		switch (-(long)s.rax) {
		case ERESTARTSYS:
		case ERESTARTNOINTR:
		case ERESTARTNOHAND:
			s.rax = s.orig_rax;
			s.rip -= ARCH_SYSCALL_INSN_LEN;
			break;
		case ERESTART_RESTARTBLOCK:
			s.rax = SYS_restart_syscall;
			s.rip -= ARCH_SYSCALL_INSN_LEN;
			break;
		}
	}
	const uint64_t v[ARCH_RESUME_WORDS] = {
		mask, s.r15, s.r14, s.r13, s.r12, s.r11, s.r10, s.r9, s.r8,
		s.rbp, s.rdi, s.rsi, s.rdx, s.rcx, s.rbx, s.rax,
		s.eflags, s.rip
	};
	memcpy(blk, v, sizeof (v));
	return r->rsp - ARCH_REDZONE - sizeof (v);
}

void
arch_resume_setup(arch_regs_t *r, uintptr_t stub, uintptr_t blk, long nr,
    const long args[6])
{
	arch_syscall_setup(r, stub, nr, args);
	r->rsp = blk;
}
