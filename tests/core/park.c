/*
 * park.c - the park page (ptrace/follow.c, arch/park.c) on its own: a
 * process parked and let go, that nobody takes, comes out by itself
 * exactly as it was (every register it had at its stop, its flags, its
 * signal mask, a signal sent meanwhile delivered after); pt_park_undo
 * puts it back at once and unmaps the page.
 *
 * The child stops itself with a raw kill(SIGSTOP) made with known
 * values in every register it can set and the carry flag set, then
 * checks them all in the same asm block: a register the park lost shows
 * as a bit of the result.
 */
#include "harness.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

static volatile sig_atomic_t park_usr1;

static void
park_on_usr1(int sig)
{
	(void) sig;
	park_usr1 = 1;
}

/* Stop (SIGSTOP to PID, ourselves); 0 if everything came back. */
static uint64_t
park_stop(pid_t pid)
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

/*
 * The child: SIGUSR2 blocked, SIGUSR1 handled, traced by the test; it
 * stops, then reports what came back in its exit status (0: all), after
 * a byte on GO (the test may look at it first).
 */
static _Noreturn void
park_child(int go)
{
	struct sigaction sa = { .sa_handler = park_on_usr1 };
	sigset_t set, cur;
	uint64_t bad;
	char b;
	int st = 0;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    sigprocmask(SIG_SETMASK, &set, NULL) != 0 ||
	    ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
		_exit(100);
	bad = park_stop(getpid());
	if (bad != 0) {
		fprintf(stderr, "park child: registers lost: %#lx\n",
		    (unsigned long)bad);
		st |= 1;
	}
	if (sigprocmask(SIG_BLOCK, NULL, &cur) != 0 ||
	    !sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGUSR1) ||
	    sigismember(&cur, SIGTERM))
		st |= 2;
	if (!park_usr1)
		st |= 4;		/* sent while parked: delivered now */
	if (read(go, &b, 1) < 0)
		st |= 8;
	_exit(st);
}

/* Fork the child and park it at its stop: *PK, its pid. */
static pid_t
park_start(pt_park_t *pk, int *go)
{
	int p[2], st;
	pid_t pid;

	CHECK(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[1]);
		park_child(p[0]);
	}
	close(p[0]);
	*go = p[1];
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "status %#x",
	    st);
	CHECK_MSG(pt_park(pid, false, 0, pk) == 0, "pt_park: %s", err_msg());
	CHECK(pk->pk_page != 0 && pk->pk_pid == pid);
	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	/* blocked: it waits for the park's end */
	CHECK(kill(pid, SIGUSR1) == 0);
	return pid;
}

static bool
park_mapped(pid_t pid, uintptr_t page)
{
	char path[64], line[256], want[32];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/maps", (int)pid);
	snprintf(want, sizeof (want), "%lx-", (unsigned long)page);
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof (line), f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0)
			found = true;
	fclose(f);
	return found;
}

/* Nobody takes it: it comes out by itself, whole (the page stays). */
TEST_TIMEOUT(park_alone_comes_out_whole, 30)
{
	pt_park_t pk;
	int go, st;
	pid_t pid = park_start(&pk, &go);

	CHECK(park_mapped(pid, pk.pk_page));
	CHECK(write(go, "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EXITED(st, 0);
	close(go);
}

/* pt_park_undo: put back at once, the page gone, whole. */
TEST_TIMEOUT(park_undo_puts_back, 30)
{
	pt_park_t pk;
	int go, st;
	pid_t pid = park_start(&pk, &go);

	pt_park_undo(&pk);
	CHECK(!park_mapped(pid, pk.pk_page));
	CHECK(write(go, "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EXITED(st, 0);
	close(go);
}
