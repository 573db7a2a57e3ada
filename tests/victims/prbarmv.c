/*
 * prbarmv.c - victim for tests/core/prbarm.c: functions of known shapes
 * for the trampoline rules (where a jump may be written, where not).
 *
 *   pa_plain	a C function: patchable at its entry
 *   pa_loop	its loop branches back 2 bytes into it, no padding in a
 *		short jump's reach (walls of code around it): refused
 *   pa_ijmp	lea of a label after it, jmp *%rax: patchable (the label
 *		is a target, outside the window)
 *   pa_switch	a C switch of 10 dense cases (gcc -O2: a jump table in
 *		.rodata): patchable, right for every case
 *   pa_jtab	a hand-written jump table one of whose entries goes 2
 *		bytes into the first instruction window, walls of code
 *		around it: refused
 *   pa_tail	a tail call through a register: patchable
 *   pa_ret1	a lone ret (1 byte), then padding: patchable (padding rule)
 *   pa_ret1c	a lone ret, another function's code right after: refused
 *   pa_short	3 bytes (mov, ret), then code: patched through a pad (the
 *		padding after pa_ret1)
 *   pa_mm	shaped like glibc's memmove: `mov %rdi,%rax`, then a label
 *		that pa_mp jumps to; padding before: patched through a pad
 *   pa_np	the same shape (pa_np_in jumps in) with code all around:
 *		refused
 *   pa_after	the code after pa_ret1c and pa_short
 *
 * Prints "ready <pid> plain=0x... loop=0x... ..." then, for each line:
 * "c" calls each function once through pa_outer (the same call path
 * every time, for stacks) and prints "called sum=N sig=M" (N is checked:
 * a bad patch shows as a wrong sum or a crash; M is what SIGUSR1's
 * handler, pa_handler, added up); "s" prints "switched v=..." with
 * pa_switch's result for -2..11 and pa_jtab's for 0..7 (compared with
 * the same line before arming); "q" exits 0.
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
long pa_mm(long x, long y);	/* x + y */
long pa_mp(long x, long y);	/* x + 3y, through pa_mm + 3 */
long pa_np(long x, long y);
long pa_np_in(long x, long y);
int pa_jtab(int x);
int pa_tail(int (*f)(int), int x);
int pa_switch(int x, int y);

__asm__(
"	.text\n"
"	.p2align 4\n"
"	.type pa_wall1, @function\n"	/* code, not padding: never run */
"pa_wall1:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall1, .-pa_wall1\n"
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
"	.type pa_wall2, @function\n"
"pa_wall2:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall2, .-pa_wall2\n"

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

"	.p2align 4\n"
"	.globl pa_mp\n"
"	.type pa_mp, @function\n"
"pa_mp:\n"
"	.cfi_startproc\n"
"	lea (%rdi,%rsi,2), %rax\n"
"	jmp .Lpa_mm_body\n"
"	.cfi_endproc\n"
"	.size pa_mp, .-pa_mp\n"
"	.fill 40, 1, 0x90\n"		/* padding, as glibc's */
"	.globl pa_mm\n"
"	.type pa_mm, @function\n"
"pa_mm:\n"
"	.cfi_startproc\n"
"	mov %rdi, %rax\n"
".Lpa_mm_body:\n"
"	add %rsi, %rax\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_mm, .-pa_mm\n"

"	.p2align 4\n"
"	.type pa_wall3, @function\n"
"pa_wall3:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall3, .-pa_wall3\n"
"	.globl pa_np\n"
"	.type pa_np, @function\n"
"pa_np:\n"
"	.cfi_startproc\n"
"	mov %rdi, %rax\n"
".Lpa_np_body:\n"
"	add %rsi, %rax\n"
"	ret\n"
"	.cfi_endproc\n"
"	.size pa_np, .-pa_np\n"
"	.globl pa_np_in\n"
"	.type pa_np_in, @function\n"
"pa_np_in:\n"
"	.cfi_startproc\n"
"	lea (%rdi,%rsi,2), %rax\n"
"	jmp .Lpa_np_body\n"
"	.cfi_endproc\n"
"	.size pa_np_in, .-pa_np_in\n"
"	.type pa_wall4, @function\n"
"pa_wall4:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall4, .-pa_wall4\n"

/* x+1, then by (x+1)&3: +10, +20, ret, or back to +2 (x+2 again) */
"	.p2align 4\n"
"	.type pa_wall5, @function\n"	/* no padding in reach */
"pa_wall5:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall5, .-pa_wall5\n"
"	.globl pa_jtab\n"
"	.type pa_jtab, @function\n"
"pa_jtab:\n"
"	.cfi_startproc\n"
"	mov %edi, %eax\n"		/* 2 bytes */
"1:	add $1, %eax\n"			/* 3 bytes, at +2: a table's entry */
"	lea 5f(%rip), %rdx\n"
"	mov %eax, %ecx\n"
"	and $3, %ecx\n"
"	movslq (%rdx,%rcx,4), %rcx\n"
"	add %rdx, %rcx\n"
"	jmp *%rcx\n"
"2:	add $10, %eax\n"
"	ret\n"
"3:	add $20, %eax\n"
"	ret\n"
"4:	ret\n"
"	.cfi_endproc\n"
"	.size pa_jtab, .-pa_jtab\n"
"	.type pa_wall6, @function\n"
"pa_wall6:\n"
"	.fill 160, 1, 0xf4\n"
"	.size pa_wall6, .-pa_wall6\n"
"	.section .rodata\n"
"	.p2align 2\n"
"5:	.long 2b-5b, 3b-5b, 4b-5b, 1b-5b\n"
"	.text\n"

/* f(x + 1), jumped to */
"	.p2align 4\n"
"	.globl pa_tail\n"
"	.type pa_tail, @function\n"
"pa_tail:\n"
"	.cfi_startproc\n"
"	mov %rdi, %rax\n"
"	lea 1(%rsi), %edi\n"
"	jmp *%rax\n"
"	.cfi_endproc\n"
"	.size pa_tail, .-pa_tail\n"
);

/*
 * Ten dense cases, each computing from Y (no table of values can stand
 * for them): a jump table, built -O2 though the victim is -O0.
 */
__attribute__((noinline, optimize("O2"))) int
pa_switch(int x, int y)
{
	switch (x) {
	case 0: return y + 7;
	case 1: return y * 13;
	case 2: return y ^ 0x55;
	case 3: return y + 40;
	case 4: return y >> 1;
	case 5: return y * y;
	case 6: return y - 66;
	case 7: return y * 9 + 1;
	case 8: return y | 0x400;
	case 9: return y * 7 + 2;
	default: return -1;
	}
}

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
	s += pa_jtab(x);
	s += pa_tail(pa_after, x);
	/* 6 + 8 + 6 + 8 */
	s += (int)(pa_mm(x, 1) + pa_mp(x, 1) + pa_np(x, 1) + pa_np_in(x, 1));
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
	char buf[64], buf2[256];

	v_init();
	signal(SIGUSR1, pa_handler);
	printf("ready %d plain=%#lx loop=%#lx ijmp=%#lx ret1=%#lx "
	    "ret1c=%#lx short=%#lx after=%#lx outer=%#lx switch=%#lx "
	    "jtab=%#lx tail=%#lx mm=%#lx np=%#lx\n", (int)getpid(),
	    (unsigned long)(uintptr_t)pa_plain,
	    (unsigned long)(uintptr_t)pa_loop,
	    (unsigned long)(uintptr_t)pa_ijmp,
	    (unsigned long)(uintptr_t)pa_ret1,
	    (unsigned long)(uintptr_t)pa_ret1c,
	    (unsigned long)(uintptr_t)pa_short,
	    (unsigned long)(uintptr_t)pa_after,
	    (unsigned long)(uintptr_t)pa_outer,
	    (unsigned long)(uintptr_t)pa_switch,
	    (unsigned long)(uintptr_t)pa_jtab,
	    (unsigned long)(uintptr_t)pa_tail,
	    (unsigned long)(uintptr_t)pa_mm,
	    (unsigned long)(uintptr_t)pa_np);
	while (v_getline(buf, sizeof (buf)) >= 0) {
		if (buf[0] == 'q')
			return 0;
		if (buf[0] == 's') {	/* every case, and the jtab's */
			int off = 0;

			for (int i = -2; i <= 11; i++)
				off += snprintf(buf2 + off, sizeof (buf2) - off,
				    "%d,", pa_switch(i, 3 * i + 1));
			for (int i = 0; i < 8; i++)
				off += snprintf(buf2 + off, sizeof (buf2) - off,
				    "%d,", pa_jtab(i));
			printf("switched v=%s\n", buf2);
		}
		/* 3x+1 + x + x + x + x+1 + x+1 + x+2 + 28,
		   x = 5 */
		if (buf[0] == 'c') {
			int sum = pa_outer(5);

			printf("called sum=%d sig=%d\n", sum, pa_sigsum);
		}
	}
	return 0;
}
