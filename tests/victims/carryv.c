/*
 * carryv MODE ... - the carry victim: functions whose FIRST instruction is
 * each kind the one-stop breakpoint engine handles (emulated, run out of
 * line, or stepped), called through an asm trampoline that pins the
 * registers and flags they depend on, every result checked here against
 * the known answer.  A wrong emulation or relocation shows as bad=N (and
 * exit 1), not just as a wrong count.
 *
 * tcall(fn, x, v) calls fn with rdi = rcx = x, rbx = v, r12 = ~v, rdx =
 * &c_helper9, eax = 39 (SYS_getpid), flags of "cmp $5, x", and v at
 * 8(%rsp) as the callee sees it; it counts in tcall_bad a callee that
 * returned with rbx or r12 changed.
 *
 * Output: "ready <pid> nfn=K tail7=A tail8=A helper9=A helper13=A", then
 * K lines "fn NAME addr=A", then per mode:
 *   loop N P	P phases, each waiting for a "g" line, then N rounds (every
 *		function once per round, c_fault twice: one load that
 *		works, one from address 0x18 caught by a SIGSEGV handler
 *		that checks si_addr and the faulting pc and siglongjmps):
 *		"done phase=I rounds=N bad=B faults=F faultbad=FB"
 *   threads T N	after "g", T threads released together do N rounds
 *		each (the calls that use the shared globals under a lock):
 *		"done threads=T rounds=T*N bad=B faults=F faultbad=FB", then
 *		waits for another "g" (or EOF) before it exits
 *   sig N	after "g", N rounds; a SIGUSR1 or SIGRTMIN+1 handler (sent by the test
 *		whenever it likes) calls c_load_rip, c_mov and c_jz8 once
 *		each and checks them:
 *		"done rounds=N bad=B handled=H faults=F faultbad=FB"
 *   faultwait	after "g", one call of c_fault(0x18); the SIGSEGV handler
 *		prints "fault addr=A pcok=0|1" (pcok: the pc is c_fault's),
 *		waits for "g", points rdi at c_data and returns, so the load
 *		runs again: "result=1000", exit 0 (a second fault: exit 78)
 *   sigwait	after "g", c_sub(1) then c_mov(1); a SIGUSR2 handler (the
 *		test sends one at a hit) prints "inhandler", waits for "g"
 *		and returns: "result=5 sub=6", exit 0
 *   faultsig	after "g", c_sub(1) (which the test may probe, to map the
 *		scratch area first), then c_fault(0x18) while the test sends
 *		a SIGUSR2 at the hit: the SIGSEGV handler prints "fault
 *		addr=A pcok=0|1", points rdi at c_data and returns; the
 *		SIGUSR2 handler notes whether the pc it interrupted lies in
 *		a mapped object (not in a scratch area):
 *		"result=1000 usr2=N usr2ok=0|1"; exit 0 after a "g" or
 *		EOF (so that the test lets go of it first: exiting traced,
 *		its exit would be reaped by the tracer's waits)
 *   echo	SIGUSR1 handler counts; for each line read from stdin (its
 *		read may be interrupted and restarted by the tracer):
 *		"got LINE usr1=C"; exits 0 at EOF.
 * Exit 0 if bad, faultbad and tcall_bad are all 0, else 1; SIGTRAP 77,
 * SIGILL 79, SIGBUS 80 (a stray trap or broken copy shows in the status).
 */
#define V_SIGNALS
#include "victim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>

long c_data = 1000;		/* read rip-relative */
int c_word;			/* compared rip-relative with an immediate */
long c_store;			/* stored rip-relative */
long tcall_bad;

long tcall(void *fn, long x, long v);

#define FN(name) ".globl " #name "\n.type " #name ", @function\n" #name ":\n"
#define END(name) ".size " #name ", .-" #name "\n"

asm(".text\n"
    FN(tcall)
    "	push %rbx\n"
    "	push %r12\n"
    "	sub $24, %rsp\n"
    "	mov %rdx, (%rsp)\n"
    "	mov %rdx, %rbx\n"
    "	mov %rdx, %r12\n"
    "	not %r12\n"
    "	mov %r12, 8(%rsp)\n"
    "	mov %rdi, %r11\n"
    "	mov %rsi, %rdi\n"
    "	mov %rsi, %rcx\n"
    "	lea c_helper9(%rip), %rdx\n"
    "	mov $39, %eax\n"
    "	cmp $5, %rdi\n"
    "	call *%r11\n"
    "	cmp (%rsp), %rbx\n"
    "	jne 1f\n"
    "	cmp 8(%rsp), %r12\n"
    "	je 2f\n"
    "1:	lock incq tcall_bad(%rip)\n"
    "2:	add $24, %rsp\n"
    "	pop %r12\n"
    "	pop %rbx\n"
    "	ret\n"
    END(tcall)
    FN(c_helper9)
    "	mov $9, %eax\n"
    "	ret\n"
    END(c_helper9)
    FN(c_helper13)
    "	mov $13, %eax\n"
    "	ret\n"
    END(c_helper13)
    FN(c_tail7)
    "	lea 7(%rdi), %rax\n"
    "	ret\n"
    END(c_tail7)
    /* SKIP */
    FN(c_endbr)
    "	.byte 0xf3, 0x0f, 0x1e, 0xfa\n"		/* endbr64 */
    "	lea 1(%rdi), %rax\n"
    "	ret\n"
    END(c_endbr)
    FN(c_nop)
    "	.byte 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00\n"	/* nopw 0(%rax,%rax) */
    "	lea 2(%rdi), %rax\n"
    "	ret\n"
    END(c_nop)
    /* PUSH */
    FN(c_push_rbx)
    "	push %rbx\n"
    "	mov (%rsp), %rax\n"
    "	add %rdi, %rax\n"
    "	xor %ebx, %ebx\n"
    "	pop %rbx\n"
    "	ret\n"
    END(c_push_rbx)
    FN(c_push_r12)
    "	push %r12\n"
    "	mov (%rsp), %rax\n"
    "	add %rdi, %rax\n"
    "	xor %r12d, %r12d\n"
    "	pop %r12\n"
    "	ret\n"
    END(c_push_r12)
    /* XOL, nothing relative */
    FN(c_mov)
    "	mov %rdi, %rax\n"
    "	add $4, %rax\n"
    "	ret\n"
    END(c_mov)
    FN(c_sub)
    "	sub $0x28, %rsp\n"
    "	mov %rdi, 8(%rsp)\n"
    "	mov 8(%rsp), %rax\n"
    "	add $0x28, %rsp\n"
    "	add $5, %rax\n"
    "	ret\n"
    END(c_sub)
    FN(c_push_imm)
    "	push $0x12345\n"
    "	pop %rax\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_push_imm)
    FN(c_rsp)
    "	mov 8(%rsp), %rax\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_rsp)
    FN(c_ret)
    "	ret\n"
    END(c_ret)
    FN(c_fault)
    "	mov (%rdi), %rax\n"
    "	ret\n"
    END(c_fault)
    /* XOL, rip-relative */
    FN(c_lea_rip)
    "	lea c_data(%rip), %rax\n"
    "	mov (%rax), %rax\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_lea_rip)
    FN(c_load_rip)
    "	mov c_data(%rip), %rax\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_load_rip)
    FN(c_store_rip)
    "	mov %rdi, c_store(%rip)\n"
    "	mov c_store(%rip), %rax\n"
    "	ret\n"
    END(c_store_rip)
    FN(c_cmp_rip8)
    "	cmpl $7, c_word(%rip)\n"		/* 83 3d disp32 imm8 */
    "	sete %al\n"
    "	movzbl %al, %eax\n"
    "	ret\n"
    END(c_cmp_rip8)
    FN(c_cmp_rip32)
    "	cmpl $0x12345, c_word(%rip)\n"		/* 81 3d disp32 imm32 */
    "	sete %al\n"
    "	movzbl %al, %eax\n"
    "	ret\n"
    END(c_cmp_rip32)
    /* XOL, jcc (flags of cmp $5, x) */
    FN(c_jz8)
    "	.byte 0x74, 1f - . - 1\n"
    "	lea 10(%rdi), %rax\n"
    "	ret\n"
    "1:	mov $-1, %rax\n"
    "	ret\n"
    END(c_jz8)
    FN(c_jl8)
    "	.byte 0x7c, 1f - . - 1\n"
    "	lea 12(%rdi), %rax\n"
    "	ret\n"
    "1:	mov $-3, %rax\n"
    "	ret\n"
    END(c_jl8)
    FN(c_jb32)
    "	.byte 0x0f, 0x82\n"
    "	.long 1f - . - 4\n"
    "	lea 11(%rdi), %rax\n"
    "	ret\n"
    "1:	mov $-2, %rax\n"
    "	ret\n"
    END(c_jb32)
    FN(c_jnz32)
    "	.byte 0x0f, 0x85\n"
    "	.long 1f - . - 4\n"
    "	mov $-4, %rax\n"
    "	ret\n"
    "1:	lea 14(%rdi), %rax\n"
    "	ret\n"
    END(c_jnz32)
    /* JMP, CALL */
    FN(c_jmp32)
    "	.byte 0xe9\n"
    "	.long c_tail7 - . - 4\n"
    "	ud2\n"
    END(c_jmp32)
    FN(c_jmp8)
    "	.byte 0xeb, c_tail8 - . - 1\n"
    "	ud2\n"
    FN(c_tail8)
    "	lea 8(%rdi), %rax\n"
    "	ret\n"
    END(c_tail8)
    END(c_jmp8)
    FN(c_call)
    "	call c_helper13\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_call)
    /* STEP */
    FN(c_jrcxz)
    "	jrcxz 1f\n"
    "	lea 15(%rdi), %rax\n"
    "	ret\n"
    "1:	mov $-5, %rax\n"
    "	ret\n"
    END(c_jrcxz)
    FN(c_icall)
    "	call *%rdx\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_icall)
    FN(c_syscall)
    "	syscall\n"
    "	add %rdi, %rax\n"
    "	ret\n"
    END(c_syscall)
    );

extern char c_endbr[], c_nop[], c_push_rbx[], c_push_r12[], c_mov[],
    c_sub[], c_push_imm[], c_rsp[], c_ret[], c_fault[], c_lea_rip[],
    c_load_rip[], c_store_rip[], c_cmp_rip8[], c_cmp_rip32[], c_jz8[],
    c_jl8[], c_jb32[], c_jnz32[], c_jmp32[], c_jmp8[], c_call[], c_jrcxz[],
    c_icall[], c_syscall[], c_tail7[], c_tail8[], c_helper9[],
    c_helper13[];

#define FAULT_ADDR 0x18

static const struct fn {
	const char *name;
	char *addr;
} fns[] = {
	{ "c_endbr", c_endbr }, { "c_nop", c_nop },
	{ "c_push_rbx", c_push_rbx }, { "c_push_r12", c_push_r12 },
	{ "c_mov", c_mov }, { "c_sub", c_sub }, { "c_push_imm", c_push_imm },
	{ "c_rsp", c_rsp }, { "c_ret", c_ret }, { "c_fault", c_fault },
	{ "c_lea_rip", c_lea_rip }, { "c_load_rip", c_load_rip },
	{ "c_store_rip", c_store_rip }, { "c_cmp_rip8", c_cmp_rip8 },
	{ "c_cmp_rip32", c_cmp_rip32 }, { "c_jz8", c_jz8 },
	{ "c_jl8", c_jl8 }, { "c_jb32", c_jb32 }, { "c_jnz32", c_jnz32 },
	{ "c_jmp32", c_jmp32 }, { "c_jmp8", c_jmp8 }, { "c_call", c_call },
	{ "c_jrcxz", c_jrcxz }, { "c_icall", c_icall },
	{ "c_syscall", c_syscall },
};
#define NFN ((int)(sizeof (fns) / sizeof (fns[0])))

static atomic_long bad, faults, faultbad, handled;
static int threaded;
static pthread_mutex_t data_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread sigjmp_buf fault_jb;
static __thread volatile int fault_armed;
static pid_t mypid;
static volatile uintptr_t bad_addr, bad_pc;	/* the first bad fault's */

static void
on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	if (!fault_armed)
		_exit(78);
	(void) sig;
	atomic_fetch_add(&faults, 1);
	/* exactly as without a probe: the data address, and the pc of the
	   load itself, not of a copy of it somewhere else */
	if ((uintptr_t)si->si_addr != FAULT_ADDR ||
	    (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] != (uintptr_t)c_fault) {
		if (atomic_fetch_add(&faultbad, 1) == 0) {
			bad_addr = (uintptr_t)si->si_addr;
			bad_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
		}
	}
	fault_armed = 0;
	siglongjmp(fault_jb, 1);
}

/*
 * A SIGSEGV at c_fault, reported once ("fault addr=... pcok=..."); the
 * load is pointed at c_data to run again where the fault says it was.
 * With WAIT, the handler waits for the test (which lets go of us
 * meanwhile) before it returns.  A second fault exits 78: the return
 * went somewhere else.
 */
static void
segv_report_fix(siginfo_t *si, ucontext_t *uc, int wait)
{
	static int nfault;
	char buf[128];
	int n;

	if (nfault++ > 0)
		_exit(78);
	n = snprintf(buf, sizeof (buf), "fault addr=%#lx pcok=%d\n",
	    (unsigned long)si->si_addr,
	    (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] == (uintptr_t)c_fault);
	(void)!write(1, buf, (size_t)n);
	if (wait)
		(void) v_wait_go();
	uc->uc_mcontext.gregs[REG_RDI] = (greg_t)(uintptr_t)&c_data;
}

/* faultwait: the fault reported, the test waited for, the load fixed. */
static void
on_segv_wait(int sig, siginfo_t *si, void *ucv)
{
	(void) sig;
	segv_report_fix(si, ucv, 1);
}

/* faultsig: as faultwait, without waiting for the test. */
static void
on_segv_fix(int sig, siginfo_t *si, void *ucv)
{
	(void) sig;
	segv_report_fix(si, ucv, 0);
}

static volatile sig_atomic_t usr2_seen, usr2_bad;

/* faultsig: where did SIGUSR2 interrupt us? in an object, or not */
static void
on_usr2_where(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	Dl_info dli;

	(void) sig;
	(void) si;
	usr2_seen++;
	if (dladdr((void *)uc->uc_mcontext.gregs[REG_RIP], &dli) == 0)
		usr2_bad = 1;
}

/* sigwait: the handler reports, waits for the test, and returns. */
static void
on_usr2_wait(int sig)
{
	static const char msg[] = "inhandler\n";

	(void) sig;
	(void)!write(1, msg, sizeof (msg) - 1);
	(void) v_wait_go();
}

static void
on_fatal(int sig)
{
	_exit(sig == SIGTRAP ? 77 : sig == SIGILL ? 79 : sig == SIGBUS ? 80 :
	    81);
}

#define EXPECT(fnc, x, v, want) do {					\
	long got_ = tcall((fnc), (x), (v));				\
	if (got_ != (long)(want)) {					\
		atomic_fetch_add(&bad, 1);				\
		fprintf(stderr, "carryv: %s(%ld) = %ld, want %ld\n",	\
		    #fnc, (long)(x), got_, (long)(want));		\
	}								\
} while (0)

/* One call of every function; X in -3..7 so that each jcc goes both ways. */
static void
round1(long i)
{
	long x = i % 11 - 3, v = 0x5a5a0000L + i * 7;

	EXPECT(c_endbr, x, v, x + 1);
	EXPECT(c_nop, x, v, x + 2);
	EXPECT(c_push_rbx, x, v, v + x);
	EXPECT(c_push_r12, x, v, ~v + x);
	EXPECT(c_mov, x, v, x + 4);
	EXPECT(c_sub, x, v, x + 5);
	EXPECT(c_push_imm, x, v, 0x12345 + x);
	EXPECT(c_rsp, x, v, v + x);
	EXPECT(c_ret, x, v, 39);
	/* the globals read rip-relative are shared: one thread at a time */
	if (threaded)
		pthread_mutex_lock(&data_lock);
	c_data = 1000 + i;
	EXPECT(c_fault, (long)&c_data, v, 1000 + i);
	fault_armed = 1;
	if (sigsetjmp(fault_jb, 1) == 0) {
		(void) tcall(c_fault, FAULT_ADDR, v);
		atomic_fetch_add(&bad, 1);	/* no fault */
	}
	fault_armed = 0;
	EXPECT(c_lea_rip, x, v, 1000 + i + x);
	EXPECT(c_load_rip, x, v, 1000 + i + x);
	EXPECT(c_store_rip, x + i, v, x + i);
	c_word = (int)x;
	EXPECT(c_cmp_rip8, x, v, x == 7);
	c_word = x == 3 ? 0x12345 : (int)x;
	EXPECT(c_cmp_rip32, x, v, x == 3);
	if (threaded)
		pthread_mutex_unlock(&data_lock);
	EXPECT(c_jz8, x, v, x == 5 ? -1 : x + 10);
	EXPECT(c_jl8, x, v, x < 5 ? -3 : x + 12);
	EXPECT(c_jb32, x, v, (unsigned long)x < 5 ? -2 : x + 11);
	EXPECT(c_jnz32, x, v, x != 5 ? x + 14 : -4);
	EXPECT(c_jmp32, x, v, x + 7);
	EXPECT(c_jmp8, x, v, x + 8);
	EXPECT(c_call, x, v, x + 13);
	EXPECT(c_jrcxz, x, v, x == 0 ? -5 : x + 15);
	EXPECT(c_icall, x, v, x + 9);
	EXPECT(c_syscall, x, v, mypid + x);
}

static void
on_usr1(int sig)
{
	long v = 0x77770000L + sig;

	(void) sig;
	/* the round this interrupts set c_data on this very thread */
	long d = c_data;
	if (tcall(c_load_rip, 2, v) != d + 2)
		atomic_fetch_add(&bad, 1);
	EXPECT(c_mov, 2, v, 6);
	EXPECT(c_jz8, 5, v, -1);
	atomic_fetch_add(&handled, 1);
}

static void
on_usr1_count(int sig)
{
	(void) sig;
	atomic_fetch_add(&handled, 1);
}

static pthread_barrier_t barrier;
static long thr_rounds;

static void *
thr_main(void *arg)
{
	(void) arg;
	pthread_barrier_wait(&barrier);
	for (long i = 0; i < thr_rounds; i++)
		round1(i);
	return NULL;
}

static int
verdict(void)
{
	if (atomic_load(&faultbad) != 0)
		fprintf(stderr, "carryv: fault at pc %#lx (c_fault %p), "
		    "si_addr %#lx\n", (unsigned long)bad_pc, (void *)c_fault,
		    (unsigned long)bad_addr);
	return atomic_load(&bad) == 0 && atomic_load(&faultbad) == 0 &&
	    tcall_bad == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	v_init();
	mypid = getpid();
	v_catch_info(SIGSEGV, on_segv, SA_NODEFER);
	signal(SIGTRAP, on_fatal);
	signal(SIGILL, on_fatal);
	signal(SIGBUS, on_fatal);
	v_catch(SIGUSR1, on_usr1, SA_RESTART);
	v_catch(SIGRTMIN + 1, on_usr1, SA_RESTART);	/* queued: none coalesce */

	if (argc < 2) {
		fprintf(stderr, "usage: carryv loop N P | threads T N | sig N "
		    "| echo\n");
		return 2;
	}
	printf("ready %d nfn=%d tail7=%p tail8=%p helper9=%p helper13=%p\n",
	    (int)mypid, NFN, (void *)c_tail7, (void *)c_tail8,
	    (void *)c_helper9, (void *)c_helper13);
	for (int i = 0; i < NFN; i++)
		printf("fn %s addr=%p\n", fns[i].name, (void *)fns[i].addr);

	if (strcmp(argv[1], "loop") == 0 && argc == 4) {
		long n = atol(argv[2]), p = atol(argv[3]);

		for (long ph = 1; ph <= p; ph++) {
			if (v_wait_go() != 0)
				return 3;
			for (long i = 0; i < n; i++)
				round1(i);
			printf("done phase=%ld rounds=%ld bad=%ld faults=%ld "
			    "faultbad=%ld tcallbad=%ld\n", ph, n,
			    atomic_load(&bad), atomic_load(&faults),
			    atomic_load(&faultbad), tcall_bad);
		}
		return verdict();
	}
	if (strcmp(argv[1], "threads") == 0 && argc == 4) {
		int t = atoi(argv[2]);
		pthread_t tids[64];

		thr_rounds = atol(argv[3]);
		threaded = 1;
		if (t < 1 || t > 64)
			return 2;
		pthread_barrier_init(&barrier, NULL, (unsigned)t);
		if (v_wait_go() != 0)
			return 3;
		for (int i = 0; i < t; i++)
			if (pthread_create(&tids[i], NULL, thr_main, NULL) != 0)
				v_die("pthread_create");
		for (int i = 0; i < t; i++)
			pthread_join(tids[i], NULL);
		printf("done threads=%d rounds=%ld bad=%ld faults=%ld "
		    "faultbad=%ld tcallbad=%ld\n", t, t * thr_rounds,
		    atomic_load(&bad), atomic_load(&faults),
		    atomic_load(&faultbad), tcall_bad);
		(void) v_wait_go();	/* alive until the test is done */
		return verdict();
	}
	if (strcmp(argv[1], "sig") == 0 && argc == 3) {
		long n = atol(argv[2]);

		if (v_wait_go() != 0)
			return 3;
		for (long i = 0; i < n; i++)
			round1(i);
		printf("done rounds=%ld bad=%ld handled=%ld faults=%ld "
		    "faultbad=%ld tcallbad=%ld\n", n, atomic_load(&bad),
		    atomic_load(&handled), atomic_load(&faults),
		    atomic_load(&faultbad), tcall_bad);
		return verdict();
	}
	if (strcmp(argv[1], "faultwait") == 0) {
		long r;

		v_catch_info(SIGSEGV, on_segv_wait, SA_NODEFER);
		if (v_wait_go() != 0)
			return 3;
		r = tcall(c_fault, FAULT_ADDR, 1);
		printf("result=%ld\n", r);
		return r == c_data && tcall_bad == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "faultsig") == 0) {
		long r;

		v_catch_info(SIGSEGV, on_segv_fix, SA_NODEFER);
		v_catch_info(SIGUSR2, on_usr2_where, 0);
		if (v_wait_go() != 0)
			return 3;
		(void) tcall(c_sub, 1, 0);
		r = tcall(c_fault, FAULT_ADDR, 1);
		printf("result=%ld usr2=%d usr2ok=%d\n", r, (int)usr2_seen,
		    !usr2_bad);
		(void) v_wait_go();
		return r == c_data && tcall_bad == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "sigwait") == 0) {
		long r;

		signal(SIGUSR2, on_usr2_wait);
		if (v_wait_go() != 0)
			return 3;
		long r0 = tcall(c_sub, 1, 0);
		r = tcall(c_mov, 1, 0);
		printf("result=%ld sub=%ld\n", r, r0);
		return r == 5 && r0 == 6 && tcall_bad == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "echo") == 0) {
		char buf[256];

		v_catch(SIGUSR1, on_usr1_count, SA_RESTART);
		while (v_getline(buf, sizeof (buf)) >= 0)
			printf("got %s usr1=%ld\n", buf, atomic_load(&handled));
		return 0;
	}
	return 2;
}
