/*
 * reviewv - regressions from a review of the one-stop engine, one mode
 * each (argv[1]); every probed function starts with an instruction that
 * is run out of line (a rip-relative load) unless said otherwise.
 *
 *   signals   a thread signals the main one every 100 us while it calls
 *             rv_work 20000 times: the tracer once recursed without end
 *             holding signals that arrived inside a copy
 *   fork      rv_work then fork, for ever: a system call injected at
 *             release once ran on a thread stopped at its fork event and
 *             fork() returned -ENOSYS ("fork failed", exit 3)
 *   guard     rv_push, which starts with a push, called with the stack
 *             pointer just above a guard page: the SIGSEGV must name
 *             rv_push (an emulated push once wrote through the guard)
 *   fpe       rv_div (div first, out of line) divides by zero: the
 *             handler must see rip and si_addr at rv_div
 *   brk       rv_work, then 64 MiB of sbrk: the scratch area once sat
 *             where the heap grows
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

long rv_global;
static volatile long nsig;

/* mov rv_global(%rip),%rax first: a copy with a rewritten displacement */
asm(".text\n.globl rv_work\n.type rv_work,@function\nrv_work:\n"
    "\tmov rv_global(%rip),%rax\n\tadd %rdi,%rax\n"
    "\tmov %rax,rv_global(%rip)\n\tret\n.size rv_work,.-rv_work\n"
    ".globl rv_push\n.type rv_push,@function\nrv_push:\n"
    "\tpush %rbp\n\tpop %rbp\n\tret\n.size rv_push,.-rv_push\n"
    ".globl rv_div\n.type rv_div,@function\nrv_div:\n"
    "\tdiv %rsi\n\tret\n.size rv_div,.-rv_div\n");
long rv_work(long x);
void rv_push(void);
long rv_div(void);

static void
on_sig(int s)
{
	(void) s;
	nsig++;
}

static pthread_t main_thread;

static void *
kicker(void *arg)
{
	(void) arg;
	for (;;) {
		pthread_kill(main_thread, SIGUSR1);
		usleep(100);
	}
	return NULL;
}

static void
on_fault(int s, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	void *rip = (void *)u->uc_mcontext.gregs[REG_RIP];
	void *want = s == SIGSEGV ? (void *)rv_push : (void *)rv_div;
	char b[160];
	int n = snprintf(b, sizeof (b), "%s rip %s si_addr %s\n",
	    s == SIGSEGV ? "segv" : "fpe", rip == want ? "ok" : "wrong",
	    s == SIGSEGV || si->si_addr == want ? "ok" : "wrong");

	(void) write(1, b, (size_t)n);
	_exit(0);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	struct sigaction sa = { .sa_sigaction = on_fault,
	    .sa_flags = SA_SIGINFO | SA_ONSTACK };

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "signals") == 0) {
		pthread_t t;

		signal(SIGUSR1, on_sig);
		main_thread = pthread_self();
		pthread_create(&t, NULL, kicker, NULL);
		for (long i = 0; i < 20000; i++)
			rv_work(i);
		/* how many signals came depends on the pace: not printed */
		printf("signals sum=%ld\n", rv_global);
		return 0;
	}
	if (strcmp(mode, "fork") == 0) {
		printf("ready\n");
		for (long i = 0;; i++) {
			int st;
			pid_t p;

			rv_work(i);
			if ((p = fork()) < 0) {
				printf("fork failed: %s\n", strerror(errno));
				return 3;
			}
			if (p == 0)
				_exit(0);
			if (waitpid(p, &st, 0) != p)
				return 4;
		}
	}
	if (strcmp(mode, "guard") == 0) {
		stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
		char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		/* the call's return address fits; rv_push's push does not */
		char *top = m + 2 * 4096 + 8;

		sigaltstack(&ss, NULL);
		sigaction(SIGSEGV, &sa, NULL);
		mprotect(m + 4096, 4096, PROT_NONE);
		asm volatile("mov %%rsp, %%r12; mov %0, %%rsp; call rv_push; "
		    "mov %%r12, %%rsp" :: "r"(top) : "r12", "rax", "rcx",
		    "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
		printf("guard: no fault\n");
		return 1;
	}
	if (strcmp(mode, "fpe") == 0) {
		sigaction(SIGFPE, &sa, NULL);
		asm volatile("xor %%esi,%%esi; mov $1,%%eax; xor %%edx,%%edx; "
		    "call rv_div" ::: "rax", "rdx", "rsi", "memory");
		printf("fpe: no fault\n");
		return 1;
	}
	if (strcmp(mode, "brk") == 0) {
		rv_work(1);
		for (int i = 0; i < 64; i++) {
			if (sbrk(1 << 20) == (void *)-1) {
				printf("brk failed after %d MiB\n", i);
				return 5;
			}
		}
		printf("brk ok 64 MiB\n");
		return 0;
	}
	fprintf(stderr, "usage: reviewv signals|fork|guard|fpe|brk\n");
	return 2;
}
