/*
 * prbarmv.c - victim for tests/core/prbarm.c: functions of known shapes
 * for the trampoline rules (where a jump may be written, where not).
 *
 *   pa_plain	a C function: patchable at its entry
 *   pa_loop	its loop branches back 2 bytes into it: refused
 *   pa_ijmp	jmp *%rax: refused
 *   pa_ret1	a lone ret (1 byte), then padding: patchable (padding rule)
 *   pa_ret1c	a lone ret, another function's code right after: refused
 *   pa_short	3 bytes (mov, ret), then code: refused
 *   pa_after	the code after pa_ret1c and pa_short
 *
 * Prints "ready <pid> plain=0x... loop=0x... ..." then, for each line:
 * "c" calls each function once through pa_outer (the same call path
 * every time, for stacks) and prints "called sum=N sig=M" (N is checked:
 * a bad patch shows as a wrong sum or a crash; M is what SIGUSR1's
 * handler, pa_handler, added up); "q" exits 0.
 */
#include "victim.h"

#include <signal.h>
#include <stdint.h>

int pa_loop(int n);
int pa_ijmp(int x);
void pa_ret1(void);
void pa_ret1c(void);
int pa_short(int x);
int pa_after(int x);

__asm__(
"	.text\n"
"	.p2align 4\n"
"	.globl pa_loop\n"
"	.type pa_loop, @function\n"
"pa_loop:\n"
"	.cfi_startproc\n"
"	xor %eax, %eax\n"		/* 2 bytes */
"1:	add $1, %eax\n"			/* 3 bytes, at +2: a target */
"	cmp %edi, %eax\n"
"	jl 1b\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_loop, .-pa_loop\n"

"	.p2align 4\n"
"	.globl pa_ijmp\n"
"	.type pa_ijmp, @function\n"
"pa_ijmp:\n"
"	.cfi_startproc\n"
"	lea 2f(%rip), %rax\n"
"	jmp *%rax\n"
"2:	mov %edi, %eax\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_ijmp, .-pa_ijmp\n"

"	.p2align 4\n"
"	.globl pa_ret1\n"
"	.type pa_ret1, @function\n"
"pa_ret1:\n"
"	.cfi_startproc\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_ret1, .-pa_ret1\n"
"	.p2align 4\n"			/* padding up to the next */

"	.globl pa_ret1c\n"
"	.type pa_ret1c, @function\n"
"pa_ret1c:\n"
"	.cfi_startproc\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_ret1c, .-pa_ret1c\n"
"	.globl pa_short\n"		/* right after: code */
"	.type pa_short, @function\n"
"pa_short:\n"
"	.cfi_startproc\n"
"	mov %edi, %eax\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_short, .-pa_short\n"
"	.globl pa_after\n"		/* right after: code */
"	.type pa_after, @function\n"
"pa_after:\n"
"	.cfi_startproc\n"
"	lea 1(%rdi), %eax\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_after, .-pa_after\n"
);

__attribute__((noinline)) int
pa_plain(int x)
{
	return x * 3 + 1;
}

/* One call path for every function, the same at each "c". */
__attribute__((noinline)) int
pa_outer(int x)
{
	int s = pa_plain(x);

	s += pa_loop(x);
	s += pa_ijmp(x);
	pa_ret1();
	pa_ret1c();
	s += pa_short(x);
	s += pa_after(x);
	return s;
}

volatile int pa_sigsum;

/* SIGUSR1 (sent while a thread sits at a trampoline's trap): a call to
   stop in, with the trampoline under the signal frame. */
__attribute__((noinline)) void
pa_handler(int sig)
{
	pa_sigsum += pa_after(sig);
}

int
main(void)
{
	char buf[64];

	v_init();
	signal(SIGUSR1, pa_handler);
	printf("ready %d plain=%#lx loop=%#lx ijmp=%#lx ret1=%#lx "
	    "ret1c=%#lx short=%#lx after=%#lx outer=%#lx\n", (int)getpid(),
	    (unsigned long)(uintptr_t)pa_plain,
	    (unsigned long)(uintptr_t)pa_loop,
	    (unsigned long)(uintptr_t)pa_ijmp,
	    (unsigned long)(uintptr_t)pa_ret1,
	    (unsigned long)(uintptr_t)pa_ret1c,
	    (unsigned long)(uintptr_t)pa_short,
	    (unsigned long)(uintptr_t)pa_after,
	    (unsigned long)(uintptr_t)pa_outer);
	while (v_getline(buf, sizeof (buf)) >= 0) {
		if (buf[0] == 'q')
			return 0;
		if (buf[0] == 'c') {	/* 3x+1 + x + x + x + x+1, x = 5 */
			int sum = pa_outer(5);

			printf("called sum=%d sig=%d\n", sum, pa_sigsum);
		}
	}
	return 0;
}
