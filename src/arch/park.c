/*
 * park.c - the page a process waits in between two tracer threads.
 *
 * A followed child is handed from its parent's tracer thread to one of
 * its own (ptrace/follow.c); in between it is untraced, and if dtproc
 * dies then, nobody will ever come for it.  So it waits in code that
 * gives up by itself: a page of its own holding
 *
 *	futex(&word, FUTEX_WAIT_PRIVATE, 0, &timeout)	no spin, bounded
 *	rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8)	its own mask back
 *	lea -128(%rsp),%rsp; push flags; popfq; lea 128(%rsp),%rsp
 *	mov saved(%rip), %reg	for each general register but %rsp
 *	jmp *saved_rip(%rip)
 *
 * and the data those name.  The thread enters at the page's start with
 * every signal blocked and only its pc (and the system call state)
 * changed, so %rsp is its own throughout: the flags' push goes below the
 * red zone, never over anything live, and a signal delivered once the
 * mask is back (the handler runs in the middle of the page, on the
 * thread's stack) returns into the page, which goes on as before.  The
 * registers are reloaded after the last system call (which clobbers
 * %rcx and %r11) and the flags after the mask; mov, lea and jmp leave
 * the flags alone.  So its only effects are on its registers, its mask
 * and one word below the red zone: whoever takes the thread anywhere in
 * the page may put back the saved registers and mask itself, and the
 * result is the same.
 */
#include "arch.h"

#include <linux/futex.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

/* The data, at ARCH_PARK_DATA in the page. */
typedef struct park_data {
	uint32_t pd_word;	/* always 0: the futex waits on it */
	uint32_t pd_pad;
	struct timespec pd_timeout;
	uint64_t pd_mask;	/* the thread's signal mask */
	arch_regs_t pd_regs;	/* its registers: rip, flags, the rest */
} park_data_t;

#define ARCH_PARK_DATA	1024

typedef struct park_asm {
	uint8_t *pa_code;
	size_t pa_len;
} park_asm_t;

static void
pa_bytes(park_asm_t *a, const void *b, size_t n)
{
	memcpy(a->pa_code + a->pa_len, b, n);
	a->pa_len += n;
}

static void
pa_imm32(park_asm_t *a, uint32_t v)
{
	pa_bytes(a, &v, 4);
}

/* The rel32 of an operand ending the instruction at pa_len, to OFF. */
static void
pa_rip(park_asm_t *a, size_t off)
{
	pa_imm32(a, (uint32_t)((int32_t)off - (int32_t)(a->pa_len + 4)));
}

/* mov $V, %e<REG> (REG 0-7) */
static void
pa_movimm(park_asm_t *a, int reg, uint32_t v)
{
	uint8_t op = (uint8_t)(0xb8 + reg);

	pa_bytes(a, &op, 1);
	pa_imm32(a, v);
}

/* REX.W OPCODE REG, OFF(%rip): lea or mov into a 64-bit register. */
static void
pa_ripop(park_asm_t *a, uint8_t opcode, int reg, size_t off)
{
	uint8_t b[3] = { (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)), opcode,
	    (uint8_t)(0x05 | ((reg & 7) << 3)) };

	pa_bytes(a, b, 3);
	pa_rip(a, off);
}

#define RAX 0
#define RDX 2
#define RSI 6
#define RDI 7
#define R10 10
#define REGOFF(f) (ARCH_PARK_DATA + offsetof(park_data_t, pd_regs) + \
	offsetof(arch_regs_t, f))

void
arch_park_build(uint8_t *page, const arch_regs_t *r, uint64_t mask,
    long secs)
{
	/* the general registers, by number, as the encodings name them */
	static const size_t regs[16] = {
		REGOFF(rax), REGOFF(rcx), REGOFF(rdx), REGOFF(rbx), 0,
		REGOFF(rbp), REGOFF(rsi), REGOFF(rdi), REGOFF(r8), REGOFF(r9),
		REGOFF(r10), REGOFF(r11), REGOFF(r12), REGOFF(r13),
		REGOFF(r14), REGOFF(r15)
	};
	park_asm_t a = { page, 0 };
	park_data_t d;

	memset(page, 0xcc, ARCH_PARK_SIZE);
	memset(&d, 0, sizeof (d));
	d.pd_timeout.tv_sec = secs;
	d.pd_mask = mask;
	d.pd_regs = *r;
	memcpy(page + ARCH_PARK_DATA, &d, sizeof (d));

	/* futex(&word, FUTEX_WAIT_PRIVATE, 0, &timeout) */
	pa_movimm(&a, RAX, SYS_futex);
	pa_ripop(&a, 0x8d, RDI, ARCH_PARK_DATA + offsetof(park_data_t,
	    pd_word));
	pa_movimm(&a, RSI, FUTEX_WAIT_PRIVATE);
	pa_bytes(&a, "\x31\xd2", 2);			/* xor %edx,%edx */
	pa_ripop(&a, 0x8d, R10, ARCH_PARK_DATA + offsetof(park_data_t,
	    pd_timeout));
	pa_bytes(&a, "\x0f\x05", 2);
	/* rt_sigprocmask(SIG_SETMASK, &mask, NULL, 8) */
	pa_movimm(&a, RAX, SYS_rt_sigprocmask);
	pa_movimm(&a, RDI, 2);				/* SIG_SETMASK */
	pa_ripop(&a, 0x8d, RSI, ARCH_PARK_DATA + offsetof(park_data_t,
	    pd_mask));
	pa_bytes(&a, "\x31\xd2", 2);			/* xor %edx,%edx */
	pa_bytes(&a, "\x41\xba", 2);			/* mov $8,%r10d */
	pa_imm32(&a, 8);
	pa_bytes(&a, "\x0f\x05", 2);
	/* the flags, through a word below the red zone */
	pa_bytes(&a, "\x48\x8d\x64\x24\x80", 5);	/* lea -128(%rsp) */
	pa_bytes(&a, "\xff\x35", 2);			/* push m64 */
	pa_rip(&a, REGOFF(eflags));
	pa_bytes(&a, "\x9d", 1);			/* popfq */
	pa_bytes(&a, "\x48\x8d\xa4\x24\x80\x00\x00\x00", 8); /* lea 128 */
	/* every general register but %rsp, never changed */
	for (int i = 0; i < 16; i++) {
		if (regs[i] != 0)
			pa_ripop(&a, 0x8b, i, regs[i]);
	}
	pa_bytes(&a, "\xff\x25", 2);			/* jmp *m64 */
	pa_rip(&a, REGOFF(rip));
}

void
arch_park_enter(arch_regs_t *r, uintptr_t page)
{
	r->rip = page;
	arch_no_restart(r);
}

void
arch_no_restart(arch_regs_t *r)
{
	r->orig_rax = (unsigned long)-1;
}
