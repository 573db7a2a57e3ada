/*
 * harness_regs.c - a stop that checks every register came back
 * (harness.h): for tests of code that takes a stopped thread's registers
 * away and must put them all back (the park page, the resume stub).
 *
 * The thread stops itself with a raw kill(SIGSTOP) made with known
 * values in every register it can set and the carry flag set, then
 * checks them all in the same asm block: a register lost shows as a bit
 * of the result.
 */
#include "harness.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <unistd.h>

/* Stop (SIGSTOP to PID, ourselves); 0 if everything came back. */
uint64_t
regs_stop(pid_t pid)
{
	uint64_t bad;

	__asm__ volatile(
	    "sub $128, %%rsp\n\t"	/* past our caller's red zone */
	    "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\t"
	    "push %%r13\n\tpush %%r14\n\tpush %%r15\n\t"
	    "mov $0x1111, %%rbx\n\tmov $0x2222, %%rbp\n\t"
	    "mov $0x3333, %%r12\n\tmov $0x4444, %%r13\n\t"
	    "mov $0x5555, %%r14\n\tmov $0x6666, %%r15\n\t"
	    "mov $0x7777, %%r8\n\tmov $0x8888, %%r9\n\t"
	    "mov $0x9999, %%r10\n\tmov $0xaaaa, %%rdx\n\t"
	    "mov $19, %%esi\n\t"	/* SIGSTOP; pid in %rdi */
	    "mov $62, %%eax\n\t"	/* kill */
	    "stc\n\t"
	    "syscall\n\t"
	    "mov $0, %%ecx\n\t"		/* mov: the flags kept */
	    "jc 1f\n\tor $1, %%rcx\n1:\n\t"
	    "test %%rax, %%rax\n\tjz 1f\n\tor $2, %%rcx\n1:\n\t"
	    "cmp $0x1111, %%rbx\n\tje 1f\n\tor $4, %%rcx\n1:\n\t"
	    "cmp $0x2222, %%rbp\n\tje 1f\n\tor $8, %%rcx\n1:\n\t"
	    "cmp $0x3333, %%r12\n\tje 1f\n\tor $16, %%rcx\n1:\n\t"
	    "cmp $0x4444, %%r13\n\tje 1f\n\tor $32, %%rcx\n1:\n\t"
	    "cmp $0x5555, %%r14\n\tje 1f\n\tor $64, %%rcx\n1:\n\t"
	    "cmp $0x6666, %%r15\n\tje 1f\n\tor $128, %%rcx\n1:\n\t"
	    "cmp $0x7777, %%r8\n\tje 1f\n\tor $256, %%rcx\n1:\n\t"
	    "cmp $0x8888, %%r9\n\tje 1f\n\tor $512, %%rcx\n1:\n\t"
	    "cmp $0x9999, %%r10\n\tje 1f\n\tor $1024, %%rcx\n1:\n\t"
	    "cmp $0xaaaa, %%rdx\n\tje 1f\n\tor $2048, %%rcx\n1:\n\t"
	    "cmp $19, %%rsi\n\tje 1f\n\tor $4096, %%rcx\n1:\n\t"
	    "pop %%r15\n\tpop %%r14\n\tpop %%r13\n\t"
	    "pop %%r12\n\tpop %%rbp\n\tpop %%rbx\n\t"
	    "add $128, %%rsp\n\t"
	    "mov %%rcx, %%rax\n\t"
	    : "=a" (bad), "+D" (pid)
	    :
	    : "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");
	return bad | ((uint64_t)(pid != getpid()) << 13);
}


static volatile sig_atomic_t regs_usr1;

static void
regs_on_usr1(int sig)
{
	(void) sig;
	regs_usr1 = 1;
}

int
regs_child(const char *who)
{
	struct sigaction sa = { .sa_handler = regs_on_usr1 };
	sigset_t set, cur;
	uint64_t bad;
	int st = 0;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    sigprocmask(SIG_SETMASK, &set, NULL) != 0 ||
	    ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
		_exit(100);
	if ((bad = regs_stop(getpid())) != 0) {
		fprintf(stderr, "%s: registers lost: %#lx\n", who,
		    (unsigned long)bad);
		st |= 1;
	}
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0 ||
	    !sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGUSR1) ||
	    sigismember(&cur, SIGTERM))
		st |= 2;
	if (!regs_usr1)
		st |= 4;	/* sent while it was held: delivered now */
	return st;
}
