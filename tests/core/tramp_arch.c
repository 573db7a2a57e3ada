/*
 * tramp_arch.c - the x86-64 side of trampolines, in process and without
 * ptrace: windows decoded from hand-assembled functions, trampolines
 * built next to them in an RWX mapping, the patch applied, the function
 * called through a pointer; results, counters, the trap gate (whether
 * it fired, by its counters; its stop, in a traced child), pc mapping,
 * the scan and padding.
 */
#include "harness.h"
#include "arch/arch.h"
#include "sym/sym.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

/*
 * The test functions, one blob so that their relative calls hold (as
 * assembled by gas; offsets below).
 */
enum {
	F_ENDBR = 0x0,
	F_PUSH = 0xc,
	F_RIP = 0x1e,
	F_RIPIN = 0x32,
	F_JCC = 0x48,
	F_JCCMID = 0x59,
	F_JMP = 0x62,
	F_LOOP = 0x69,
	F_CALL = 0x71,
	F_CALL5 = 0x7e,
	G_DBL = 0x88,
	G_DBL2 = 0x8c,
	F_CALLI = 0x91,
	F_CALLSP = 0x9c,
	F_CALLSP8 = 0xa9,
	F_CALLRIP = 0xb9,
	F_RET = 0xcc,
	F_FLAGS = 0xd6,
	F_RED = 0xe6,
	F_TRAP = 0xf7,
	F_SCAN = 0x116,
	F_MP = 0x11f,
	F_MMPAD = 0x125,
	F_MM = 0x135,
	F_MMBODY = 0x138,
};
static const uint8_t code[] = {
	/* f_endbr: */
	0xf3, 0x0f, 0x1e, 0xfa,			/* endbr64 */
	0x48, 0x8d, 0x47, 0x01,			/* lea 0x1(%rdi),%rax */
	0x48, 0x01, 0xf0,			/* add %rsi,%rax */
	0xc3,					/* ret */
	/* f_push: */
	0x55,					/* push %rbp */
	0x48, 0x89, 0xe5,			/* mov %rsp,%rbp */
	0x41, 0x55,				/* push %r13 */
	0x49, 0x89, 0xfd,			/* mov %rdi,%r13 */
	0x49, 0x8d, 0x44, 0x35, 0x00,		/* lea 0x0(%r13,%rsi,1),%rax */
	0x41, 0x5d,				/* pop %r13 */
	0x5d,					/* pop %rbp */
	0xc3,					/* ret */
	/* f_rip: */
	0x48, 0x8b, 0x05, 0x05, 0x00, 0x00, 0x00,	/* mov 0x5(%rip),%rax */
	0x48, 0x01, 0xf8,			/* add %rdi,%rax */
	0xc3,					/* ret */
	0xcc,
	0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* .quad, RIP_WORD */
	/* f_ripin: */
	0x48, 0x89, 0xf8,			/* mov %rdi,%rax */
	0x48, 0x8d, 0x0d, 0x04, 0x00, 0x00, 0x00,	/* lea 0x4(%rip),%rcx */
	0x48, 0x03, 0x01,			/* add (%rcx),%rax */
	0xc3,					/* ret */
	0xe8, 0x03, 0, 0, 0, 0, 0, 0,		/* .quad 1000 */
	/* f_jcc: */
	0x48, 0x85, 0xff,			/* test %rdi,%rdi */
	0x74, 0x06,				/* je 0x53 */
	0xb8, 0x01, 0x00, 0x00, 0x00,		/* mov $0x1,%eax */
	0xc3,					/* ret */
	0xb8, 0x02, 0x00, 0x00, 0x00,		/* mov $0x2,%eax */
	0xc3,					/* ret */
	/* f_jccmid: */
	0x85, 0xff,				/* test %edi,%edi */
	0x74, 0x02,				/* je 0x5f */
	0xff, 0xc6,				/* inc %esi */
	0x89, 0xf0,				/* mov %esi,%eax */
	0xc3,					/* ret */
	/* f_jmp: */
	0x48, 0x89, 0xf8,			/* mov %rdi,%rax */
	0xeb, 0x01,				/* jmp 0x68 */
	0xcc,					/* int3 */
	0xc3,					/* ret */
	/* f_loop: */
	0xff, 0xcf,				/* dec %edi */
	0x75, 0xfc,				/* jne 0x69 */
	0x8d, 0x47, 0x05,			/* lea 0x5(%rdi),%eax */
	0xc3,					/* ret */
	/* f_call: */
	0x48, 0x89, 0xf8,			/* mov %rdi,%rax */
	0xe8, 0x0f, 0x00, 0x00, 0x00,		/* call 0x88 */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	/* f_call5: */
	0xe8, 0x09, 0x00, 0x00, 0x00,		/* call 0x8c */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	/* g_dbl: */
	0x48, 0x01, 0xc0,			/* add %rax,%rax */
	0xc3,					/* ret */
	/* g_dbl2: */
	0x48, 0x8d, 0x04, 0x3f,			/* lea (%rdi,%rdi,1),%rax */
	0xc3,					/* ret */
	/* f_calli: */
	0x48, 0x8d, 0x7f, 0x01,			/* lea 0x1(%rdi),%rdi */
	0xff, 0xd6,				/* call *%rsi */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	/* f_callsp: */
	0x56,					/* push %rsi */
	0x48, 0x89, 0xff,			/* mov %rdi,%rdi */
	0xff, 0x14, 0x24,			/* call *(%rsp) */
	0x5e,					/* pop %rsi */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	/* f_callsp8: */
	0x56,					/* push %rsi */
	0x57,					/* push %rdi */
	0x48, 0x89, 0xff,			/* mov %rdi,%rdi */
	0xff, 0x54, 0x24, 0x08,			/* call *0x8(%rsp) */
	0x5f,					/* pop %rdi */
	0x5e,					/* pop %rsi */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	/* f_callrip: */
	0xff, 0x15, 0x05, 0x00, 0x00, 0x00,	/* call *0x5(%rip) */
	0x48, 0x83, 0xc0, 0x01,			/* add $0x1,%rax */
	0xc3,					/* ret */
	0, 0, 0, 0, 0, 0, 0, 0,			/* .quad g_dbl2, set at run time */
	/* f_ret: */
	0xc3,					/* ret */
	0x0f, 0x1f, 0x00,			/* nopl (%rax) */
	0x2e, 0x66, 0x0f, 0x1f, 0x04, 0x00,	/* cs nopw (%rax,%rax,1) */
	/* f_flags: */
	0x48, 0x39, 0xf7,			/* cmp %rsi,%rdi */
	0x48, 0x89, 0xf8,			/* mov %rdi,%rax */
	0x48, 0x89, 0xf2,			/* mov %rsi,%rdx */
	0x7c, 0x01,				/* jl 0xe2 */
	0xc3,					/* ret */
	0x48, 0x89, 0xd0,			/* mov %rdx,%rax */
	0xc3,					/* ret */
	/* f_red: */
	0x48, 0x89, 0x7c, 0x24, 0xf8,		/* mov %rdi,-0x8(%rsp) */
	0x48, 0x89, 0xf0,			/* mov %rsi,%rax */
	0x48, 0x01, 0xf0,			/* add %rsi,%rax */
	0x48, 0x03, 0x44, 0x24, 0xf8,		/* add -0x8(%rsp),%rax */
	0xc3,					/* ret */
	/* f_trap: */
	0x49, 0x89, 0xe0,			/* mov %rsp,%r8 */
	0x49, 0x89, 0xfa,			/* mov %rdi,%r10 */
	0x49, 0x89, 0xf3,			/* mov %rsi,%r11 */
	0x48, 0x89, 0xd0,			/* mov %rdx,%rax */
	0x48, 0x39, 0xf7,			/* cmp %rsi,%rdi */
	0x48, 0x8d, 0x04, 0x37,			/* lea (%rdi,%rsi,1),%rax */
	0x48, 0x8d, 0x04, 0x10,			/* lea (%rax,%rdx,1),%rax */
	0x72, 0x01,				/* jb 0x111 */
	0xc3,					/* ret */
	0x48, 0x83, 0xc0, 0x64,			/* add $0x64,%rax */
	0xc3,					/* ret */
	/* f_scan: */
	0x31, 0xc0,				/* xor %eax,%eax */
	0xff, 0xc0,				/* inc %eax */
	0x39, 0xf8,				/* cmp %edi,%eax */
	0x75, 0xfa,				/* jne 0x118 */
	0xc3,					/* ret */
	/* f_mp: as glibc's mempcpy, into f_mm + 3 */
	0x48, 0x8d, 0x04, 0x77,			/* lea (%rdi,%rsi,2),%rax */
	0xeb, 0x13,				/* jmp 0x138 */
	/* padding */
	0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,	/* nopl */
	0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,	/* nopl */
	/* f_mm: as glibc's memmove */
	0x48, 0x89, 0xf8,			/* mov %rdi,%rax */
	0x48, 0x01, 0xf0,			/* add %rsi,%rax (0x138) */
	0xc3,					/* ret */
};

#define RIP_WORD	0x1122334455667788ULL
#define RIP_WORD_AT	0x2a		/* f_rip's data word */
#define CALLRIP_AT	0xc4		/* f_callrip's pointer */

#define MAP_SIZE	0x10000
#define TRAMP_AT	0x4000		/* the trampolines' slots */
#define DATA_AT		0x8000		/* counters, owner and pid words */

/* A region with the functions, slots and counters; one site patched. */
typedef struct tcase {
	uint8_t *tc_mem;
	arch_window_t tc_w;
	arch_tramp_t tc_t;
	arch_tramp_req_t tc_req;
	int tc_nslot;
	volatile uint64_t *tc_hits;
	volatile uint64_t *tc_missed;
	volatile int32_t *tc_owner;
	volatile int32_t *tc_pid;
} tcase_t;

static void
tc_init(tcase_t *tc)
{
	memset(tc, 0, sizeof (*tc));
	tc->tc_mem = mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(tc->tc_mem != MAP_FAILED);
	memcpy(tc->tc_mem, code, sizeof (code));
	tc->tc_hits = (uint64_t *)(tc->tc_mem + DATA_AT);
	tc->tc_missed = (uint64_t *)(tc->tc_mem + DATA_AT + 8);
	tc->tc_owner = (int32_t *)(tc->tc_mem + DATA_AT + 16);
	tc->tc_pid = (int32_t *)(tc->tc_mem + DATA_AT + 20);
}

static uintptr_t
at(tcase_t *tc, size_t off)
{
	return (uintptr_t)tc->tc_mem + off;
}

/* Decode the window at OFF; the caller checks it. */
static arch_window_t *
tc_window(tcase_t *tc, size_t off, int entry)
{
	CHECK_EQ_INT(arch_window(tc->tc_mem + off, sizeof (code) - off,
	    at(tc, off), entry, &tc->tc_w), 0);
	return &tc->tc_w;
}

/* Build the trampoline for the window decoded at OFF, into a new slot. */
static int
tc_build(tcase_t *tc, size_t off, int entry, int trap, uintptr_t tramp)
{
	arch_tramp_req_t *q = &tc->tc_req;
	uint8_t *slot = tc->tc_mem + TRAMP_AT + tc->tc_nslot++ * ARCH_TRAMP_MAX;

	memset(q, 0, sizeof (*q));
	q->at_site = at(tc, off);
	q->at_patch = q->at_site + tc->tc_w.aw_skip;
	q->at_text = tc->tc_mem + off + tc->tc_w.aw_skip;
	q->at_n = sizeof (code) - off - tc->tc_w.aw_skip;
	q->at_win = &tc->tc_w;
	q->at_tramp = tramp != 0 ? tramp : (uintptr_t)slot;
	q->at_entry = entry;
	q->at_trap = trap;
	q->at_hits = (uintptr_t)tc->tc_hits;
	q->at_missed = (uintptr_t)tc->tc_missed;
	q->at_owner = (uintptr_t)tc->tc_owner;
	q->at_pid = (uintptr_t)tc->tc_pid;
	return arch_tramp_build(q, slot, &tc->tc_t);
}

/* Patch the site at OFF (window decoded and relocatable) to a trampoline. */
static void
tc_patch(tcase_t *tc, size_t off, int entry, int trap)
{
	uint8_t jmp[32];

	CHECK_MSG(tc->tc_w.aw_refuse == NULL, "refused: %s",
	    tc->tc_w.aw_refuse);
	CHECK_EQ_INT(tc_build(tc, off, entry, trap, 0), 0);
	CHECK(tc->tc_t.atr_len > 0 && tc->tc_t.atr_len <= ARCH_TRAMP_MAX);
	arch_patch(tc->tc_req.at_patch, tc->tc_req.at_tramp, tc->tc_w.aw_len,
	    jmp);
	memcpy((void *)tc->tc_req.at_patch, jmp, tc->tc_w.aw_len);
	__builtin___clear_cache((char *)tc->tc_mem,
	    (char *)tc->tc_mem + MAP_SIZE);
}

/* Decode and patch OFF, checking the window's length and count. */
static void
tc_site(tcase_t *tc, size_t off, int entry, int trap, int len, int ninsn)
{
	arch_window_t *w = tc_window(tc, off, entry);

	CHECK_MSG(w->aw_refuse == NULL, "refused: %s", w->aw_refuse);
	CHECK_EQ_INT(w->aw_len, len);
	CHECK_EQ_INT(w->aw_ninsn, ninsn);
	tc_patch(tc, off, entry, trap);
}

typedef uint64_t (*fn2_t)(uint64_t, uint64_t);
typedef uint64_t (*fn4_t)(uint64_t, uint64_t, uint64_t, uint64_t);

static uint64_t
call2(tcase_t *tc, size_t off, uint64_t a, uint64_t b)
{
	return ((fn2_t)at(tc, off))(a, b);
}

TEST(tramp_endbr_entry)
{
	tcase_t tc;

	tc_init(&tc);
	tc_site(&tc, F_ENDBR, 1, 0, 7, 2);
	CHECK_EQ_INT(tc.tc_w.aw_skip, 4);
	CHECK_EQ_INT(tc.tc_w.aw_off[1], 4);
	/* the endbr64 stays where indirect calls land */
	CHECK(tc.tc_mem[F_ENDBR] == 0xf3 && tc.tc_mem[F_ENDBR + 4] == 0xe9);
	CHECK(tc.tc_mem[F_ENDBR + 9] == ARCH_TRAP_BYTE);
	CHECK_EQ_INT(call2(&tc, F_ENDBR, 10, 5), 16);
	CHECK_EQ_INT(call2(&tc, F_ENDBR, 1, 2), 4);
	CHECK_EQ_INT(*tc.tc_hits, 2);
	/* not an entry: the endbr64 is part of the window */
	CHECK_EQ_INT(arch_window(code, sizeof (code), 0x1000, 0, &tc.tc_w), 0);
	CHECK_EQ_INT(tc.tc_w.aw_skip, 0);
	CHECK_EQ_INT(tc.tc_w.aw_len, 8);
}

TEST(tramp_push_prologue)
{
	tcase_t tc;

	tc_init(&tc);
	tc_site(&tc, F_PUSH, 1, 0, 6, 3);
	CHECK_EQ_INT(tc.tc_w.aw_skip, 0);
	CHECK_EQ_INT(call2(&tc, F_PUSH, 30, 12), 42);
	CHECK_EQ_INT(*tc.tc_hits, 1);
}

TEST(tramp_riprel)
{
	tcase_t tc;

	tc_init(&tc);
	tc_site(&tc, F_RIP, 1, 0, 7, 1);
	CHECK_EQ_INT(call2(&tc, F_RIP, 1, 0), RIP_WORD + 1);
	/* lea of a word next to the code, at an inside site */
	tc_site(&tc, F_RIPIN + 3, 0, 0, 7, 1);
	CHECK_EQ_INT(call2(&tc, F_RIPIN, 5, 0), 1005);
	CHECK_EQ_INT(*tc.tc_hits, 2);
}

TEST(tramp_riprel_far)
{
	tcase_t tc;

	/* a trampoline 3 GiB away cannot reach the word: -ERANGE */
	tc_init(&tc);
	tc_window(&tc, F_RIP, 1);
	CHECK_EQ_INT(tc_build(&tc, F_RIP, 1, 0, at(&tc, 0) + (3ULL << 30)),
	    -ERANGE);
	CHECK_CONTAINS(err_msg(), "reach");
}

TEST(tramp_jcc)
{
	tcase_t tc;

	tc_init(&tc);
	tc_site(&tc, F_JCC, 1, 0, 5, 2);
	CHECK_EQ_INT(call2(&tc, F_JCC, 0, 0), 2);	/* taken */
	CHECK_EQ_INT(call2(&tc, F_JCC, 7, 0), 1);	/* not taken */
	/* a jcc in the middle of the window */
	tc_site(&tc, F_JCCMID, 1, 0, 6, 3);
	CHECK_EQ_INT(call2(&tc, F_JCCMID, 0, 5), 5);
	CHECK_EQ_INT(call2(&tc, F_JCCMID, 1, 5), 6);
	CHECK_EQ_INT(*tc.tc_hits, 4);
}

TEST(tramp_jmp_short)
{
	tcase_t tc;

	tc_init(&tc);
	tc_site(&tc, F_JMP, 1, 0, 5, 2);
	CHECK_EQ_INT(tc.tc_w.aw_last, 1);
	CHECK_EQ_INT(call2(&tc, F_JMP, 77, 0), 77);
	CHECK_EQ_INT(*tc.tc_hits, 1);
}

TEST(tramp_branch_into_window)
{
	tcase_t tc;

	/* dec; jne back to the dec: the loop runs in the copy */
	tc_init(&tc);
	tc_site(&tc, F_LOOP, 1, 0, 7, 3);
	CHECK_EQ_INT(call2(&tc, F_LOOP, 3, 0), 5);
	CHECK_EQ_INT(*tc.tc_hits, 1);
}

/*
 * The short form: f_mm's first instruction is 3 bytes, then f_mp's
 * target.  A jmp rel8 to a pad in the padding before, the pad's jmp
 * rel32 to the trampoline; f_mp's path runs the original bytes.
 */
TEST(tramp_short_pad)
{
	uintptr_t pad;
	uint8_t j[8];
	tcase_t tc;

	tc_init(&tc);
	CHECK_EQ_INT(call2(&tc, F_MP, 5, 1), 8);
	CHECK_EQ_INT(arch_padding(tc.tc_mem + F_MMPAD, F_MM - F_MMPAD), 1);
	/* the usual window covers the target */
	tc_window(&tc, F_MM, 1);
	CHECK_EQ_INT(tc.tc_w.aw_len, 6);
	CHECK_EQ_INT(arch_window_short(tc.tc_mem + F_MM, sizeof (code) -
	    F_MM, at(&tc, F_MM), 1, F_MMBODY - F_MM, &tc.tc_w), 0);
	CHECK_MSG(tc.tc_w.aw_refuse == NULL, "refused: %s",
	    tc.tc_w.aw_refuse);
	CHECK_EQ_INT(tc.tc_w.aw_len, 3);
	CHECK_EQ_INT(tc.tc_w.aw_ninsn, 1);
	/* under 2 bytes: refused */
	arch_window_t w1;
	CHECK_EQ_INT(arch_window_short(tc.tc_mem + F_MM, sizeof (code) -
	    F_MM, at(&tc, F_MM), 1, 2, &w1), 0);
	CHECK(w1.aw_refuse != NULL);
	CHECK_EQ_INT(tc_build(&tc, F_MM, 1, 0, 0), 0);
	pad = at(&tc, F_MMPAD + 8);
	CHECK_EQ_INT(arch_patch_short(at(&tc, F_MM), at(&tc, F_MM) + 200, 3,
	    j), -ERANGE);
	CHECK_EQ_INT(arch_patch_short(at(&tc, F_MM), at(&tc, F_MM) - 126, 3,
	    j), 0);			/* -128 from the jump's end */
	CHECK_EQ_INT(arch_patch_short(at(&tc, F_MM), at(&tc, F_MM) - 127, 3,
	    j), -ERANGE);
	arch_patch(pad, tc.tc_req.at_tramp, ARCH_JMP_LEN, j);
	memcpy((void *)pad, j, ARCH_JMP_LEN);
	CHECK_EQ_INT(arch_patch_short(at(&tc, F_MM), pad, 3, j), 0);
	CHECK(j[0] == 0xeb && (int8_t)j[1] == -10 && j[2] == 0xcc);
	memcpy(tc.tc_mem + F_MM, j, 3);
	__builtin___clear_cache((char *)tc.tc_mem,
	    (char *)tc.tc_mem + MAP_SIZE);
	CHECK_EQ_INT(call2(&tc, F_MM, 5, 1), 6);
	CHECK_EQ_INT(call2(&tc, F_MP, 5, 1), 8);
	CHECK_EQ_INT(call2(&tc, F_MM, 40, 2), 42);
	CHECK_EQ_INT(*tc.tc_hits, 2);
}

TEST(tramp_call_last)
{
	tcase_t tc;
	uint64_t g = 0;

	tc_init(&tc);
	tc_site(&tc, F_CALL, 1, 0, 8, 2);
	CHECK(tc.tc_w.aw_call && !tc.tc_w.aw_last);
	CHECK_EQ_INT(call2(&tc, F_CALL, 5, 0), 11);
	tc_site(&tc, F_CALL5, 1, 0, 5, 1);
	CHECK_EQ_INT(call2(&tc, F_CALL5, 5, 0), 11);
	/* indirect: through a register, rsp-relative, rip-relative */
	tc_site(&tc, F_CALLI, 1, 0, 6, 2);
	CHECK_EQ_INT(call2(&tc, F_CALLI, 5, at(&tc, G_DBL2)), 13);
	tc_site(&tc, F_CALLSP, 0, 0, 7, 3);
	CHECK_EQ_INT(call2(&tc, F_CALLSP, 5, at(&tc, G_DBL2)), 11);
	tc_site(&tc, F_CALLSP8 + 1, 0, 0, 8, 3);
	CHECK_EQ_INT(call2(&tc, F_CALLSP8, 6, at(&tc, G_DBL2)), 13);
	g = at(&tc, G_DBL2);
	memcpy(tc.tc_mem + CALLRIP_AT, &g, 8);
	tc_site(&tc, F_CALLRIP, 1, 0, 6, 1);
	CHECK_EQ_INT(call2(&tc, F_CALLRIP, 4, 0), 9);
	CHECK_EQ_INT(*tc.tc_hits, 6);
}

TEST(tramp_ret_padding)
{
	tcase_t tc;
	arch_window_t *w;

	tc_init(&tc);
	w = tc_window(&tc, F_RET, 1);
	CHECK(w->aw_refuse == NULL);
	CHECK_EQ_INT(w->aw_last, 1);
	CHECK_EQ_INT(w->aw_call, 0);
	CHECK_EQ_INT(w->aw_len, 1);
	/* up to the next function, and the bytes the jump covers alone */
	CHECK_EQ_INT(arch_padding(tc.tc_mem + F_RET + 1, F_FLAGS - F_RET - 1),
	    1);
	CHECK_EQ_INT(arch_padding(tc.tc_mem + F_RET + 1, ARCH_JMP_LEN - 1), 1);
	w->aw_len = ARCH_JMP_LEN;
	tc_patch(&tc, F_RET, 1, 0);
	call2(&tc, F_RET, 0, 0);
	call2(&tc, F_RET, 0, 0);
	CHECK_EQ_INT(*tc.tc_hits, 2);
}

TEST(tramp_inside_flags)
{
	tcase_t tc;

	/* cmp before the site, jl after it: the flags must survive */
	tc_init(&tc);
	tc_site(&tc, F_FLAGS + 3, 0, 0, 6, 2);
	CHECK_EQ_INT(call2(&tc, F_FLAGS, 1, 2), 2);
	CHECK_EQ_INT(call2(&tc, F_FLAGS, 2, 1), 2);
	CHECK_EQ_INT(call2(&tc, F_FLAGS, (uint64_t)-1, 1), 1);
	CHECK_EQ_INT(call2(&tc, F_FLAGS, 3, (uint64_t)-5), 3);
	CHECK_EQ_INT(*tc.tc_hits, 4);
}

TEST(tramp_inside_redzone)
{
	tcase_t tc;

	/* a leaf keeps a word at -8(%rsp) across the site */
	tc_init(&tc);
	tc_site(&tc, F_RED + 5, 0, 0, 6, 2);
	CHECK_EQ_INT(call2(&tc, F_RED, 1000, 3), 1006);
	CHECK_EQ_INT(*tc.tc_hits, 1);
}

/* The window of BYTES (padded with nops) must be refused for WHY. */
static void
refused(const uint8_t *bytes, size_t n, int entry, const char *why)
{
	uint8_t text[64];
	arch_window_t w;

	memset(text, 0x90, sizeof (text));
	memcpy(text, bytes, n);
	CHECK_EQ_INT(arch_window(text, sizeof (text), 0x400000, entry, &w), 0);
	CHECK_MSG(w.aw_refuse != NULL, "not refused: want \"%s\"", why);
	CHECK_STR_EQ(w.aw_refuse, why);
}

TEST(tramp_refusals)
{
	static const uint8_t callreg[] = { 0xff, 0xd0 };	/* call *%rax */
	static const uint8_t callrel[] = { 0xe8, 0, 0, 0, 0 };
	static const uint8_t loop[] = { 0xe2, 0xfe };		/* loop . */
	static const uint8_t jrcxz[] = { 0xe3, 0x00 };
	static const uint8_t int3[] = { 0x90, 0xcc };
	static const uint8_t sysc[] = { 0x0f, 0x05 };
	static const uint8_t midjmp[] = { 0xeb, 0xff };		/* jmp .+1 */
	static const uint8_t bad[] = { 0x06 };			/* push %es */
	static const uint8_t callsp[] = { 0xff, 0xd4, 0x90, 0x90 };
	static const uint8_t xbegin[] = { 0xc7, 0xf8, 0, 0, 0, 0 };
	static const uint8_t hlt[] = { 0xf4 };
	static const uint8_t ljmp[] = { 0xff, 0x28 };		/* ljmp *(%rax) */
	static const uint8_t lcall[] = { 0xff, 0x18 };		/* lcall *(%rax) */
	static const uint8_t xabort[] = { 0xc6, 0xf8, 0xfd, 0x90, 0x90 };
	static const uint8_t endbr[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xcc };
	uint8_t text[8] = { 0x90, 0x90 };
	arch_window_t w;

	refused(callreg, sizeof (callreg), 1, "call not last in window");
	refused(loop, sizeof (loop), 1, "loop/jrcxz");
	refused(jrcxz, sizeof (jrcxz), 1, "loop/jrcxz");
	refused(int3, sizeof (int3), 1, "int3 in window");
	refused(sysc, sizeof (sysc), 1, "syscall in window");
	refused(midjmp, sizeof (midjmp), 1,
	    "branch into an instruction in window");
	refused(bad, sizeof (bad), 1, "undecodable");
	refused(xbegin, sizeof (xbegin), 1, "relative operand");
	refused(hlt, sizeof (hlt), 1, "privileged instruction");
	refused(ljmp, sizeof (ljmp), 1, "far jump");
	refused(lcall, sizeof (lcall), 1, "far call");
	refused(endbr, sizeof (endbr), 1, "int3 in window");
	refused(callsp, sizeof (callsp), 1, "call through rsp");
	/* a call whose return address is past the window is fine */
	memcpy(text, callrel, sizeof (callrel));
	CHECK_EQ_INT(arch_window(text, sizeof (text), 0x400000, 1, &w), 0);
	CHECK(w.aw_refuse == NULL && w.aw_len == 5 && !w.aw_last && w.aw_call);
	/* xabort is no jump (a nop outside a transaction) */
	CHECK_EQ_INT(arch_window(xabort, sizeof (xabort), 0x400000, 1, &w), 0);
	CHECK(w.aw_refuse == NULL && w.aw_ninsn == 3 && !w.aw_last);
	/* too few bytes to decode a window */
	CHECK_EQ_INT(arch_window(text, 2, 0x400000, 1, &w), -EINVAL);
}

/* ---- the trap kind ---- */

/*
 * The gate stops its thread with ARCH_TRAMP_SIG (SIGURG), sent to
 * itself.  Untraced, at SIG_DFL, the kernel drops it as it is sent: the
 * process runs on unharmed, which is what a dead tracer leaves.  So in
 * process a stop cannot be seen, but whether the gate fired can: it
 * counts a hit always and a miss when it skips the signal.
 */
static uint64_t
fired(const tcase_t *tc)
{
	return *tc->tc_hits - *tc->tc_missed;
}

/* Is SIGURG pending here?  (A fired gate's must not be.) */
static int
urg_pending(void)
{
	sigset_t set;

	CHECK(sigpending(&set) == 0);
	return sigismember(&set, SIGURG);
}

#define FLAGS_ARITH	0x8d5	/* OF SF ZF AF PF CF */

/* f_trap(a, b, c, d) = a + b + c, + 100 when a < b (unsigned) */
static uint64_t
call_trap(tcase_t *tc, uint64_t a, uint64_t b)
{
	return ((fn4_t)at(tc, F_TRAP))(a, b, 7, 9);
}

static void
trap_site(tcase_t *tc, int entry)
{
	tc_init(tc);
	/* at the lea: rsp in r8, cmp's flags live */
	tc_site(tc, F_TRAP + 15, entry, 1, 8, 2);
	CHECK(tc->tc_t.atr_trap > 0);
	*tc->tc_pid = getpid();
	*tc->tc_owner = (int32_t)gettid();
}

static volatile int urgs;

/* where a traced child's gate writes its clock after the stop */
static struct timespec tslot[3];

static uint64_t
ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ts_ns(&ts);
}

static void
on_urg(int sig)
{
	(void)sig;
	urgs++;
}

/*
 * The stop itself, seen by a tracer: a traced child calls the trap
 * site three times, the last with every signal blocked.  Each call stops in SIGURG's delivery stop, sent by the
 * child to itself, the pc just past the gate's system call; the frame
 * the gate saved gives back the site's registers; resumed without the
 * signal it computes right.  The gate's clock at the trap is in the
 * frame, between the tracer's before the call and at the stop; resumed
 * with a slot, the thread writes its clock there after the stop (the
 * child checks it lies within the call), without one nothing.
 */
TEST(tramp_trap_fires)
{
	tcase_t tc;
	sigset_t all, want, got;
	uint64_t t0, t1;
	pid_t pid;
	int st;

	trap_site(&tc, 0);
	if ((pid = fork()) == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(10);
		raise(SIGSTOP);
		*tc.tc_pid = getpid();
		*tc.tc_owner = (int32_t)gettid();
		t0 = now_ns();
		if (call_trap(&tc, 1, 2) != 110)
			_exit(11);
		t1 = now_ns();
		if (ts_ns(&tslot[0]) < t0 || ts_ns(&tslot[0]) > t1)
			_exit(17);
		if (call_trap(&tc, 5, 2) != 14)
			_exit(12);
		if (ts_ns(&tslot[1]) != 0)
			_exit(18);
		/* every signal blocked: it stops all the same */
		sigfillset(&all);
		if (sigprocmask(SIG_BLOCK, &all, NULL) != 0 ||
		    sigprocmask(SIG_BLOCK, NULL, &want) != 0 ||
		    call_trap(&tc, 5, 2) != 14 ||
		    sigprocmask(SIG_BLOCK, NULL, &got) != 0)
			_exit(14);
		for (int s = 1; s < SIGRTMAX; s++) {
			if (sigismember(&got, s) != sigismember(&want, s))
				_exit(15);
		}
		if (urg_pending())
			_exit(16);
		_exit(*tc.tc_hits == 3 && *tc.tc_missed == 0 ? 0 : 13);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "child %s",
	    wstatus_str(st));
	t0 = now_ns();
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	for (int i = 0; i < 3; i++) {
		uint64_t frame[ARCH_TRAMP_FRAME], clk[2];
		arch_regs_t r, view;
		siginfo_t si;

		CHECK(waitpid(pid, &st, 0) == pid);
		t1 = now_ns();
		CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == ARCH_TRAMP_SIG,
		    "stop %d: child %s", i, wstatus_str(st));
		CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0);
		CHECK_EQ_INT(si.si_code, SI_TKILL);
		CHECK_EQ_INT(si.si_pid, pid);
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
		CHECK_EQ_INT(r.rip, tc.tc_req.at_tramp + tc.tc_t.atr_trap);
		for (int k = 0; k < ARCH_TRAMP_FRAME; k++) {
			errno = 0;
			frame[k] = (uint64_t)ptrace(PTRACE_PEEKDATA, pid,
			    (void *)(r.rsp + 8 * k), 0);
			CHECK(errno == 0);
		}
		arch_tramp_view(&r, frame, tc.tc_req.at_site, &view);
		CHECK_EQ_INT(view.rip, at(&tc, F_TRAP + 15));
		for (int k = 0; k < 2; k++) {
			errno = 0;
			clk[k] = (uint64_t)ptrace(PTRACE_PEEKDATA, pid,
			    (void *)(r.rsp + ARCH_TRAMP_CLOCK + 8 * k), 0);
			CHECK(errno == 0);
		}
		CHECK_MSG(clk[0] * 1000000000u + clk[1] >= t0 &&
		    clk[0] * 1000000000u + clk[1] <= t1, "stop %d: %llu s "
		    "%llu ns", i, (unsigned long long)clk[0],
		    (unsigned long long)clk[1]);
		t0 = t1;
		CHECK_EQ_INT(view.rsp, r.r8);	/* f_trap saved it there */
		CHECK_EQ_INT(view.rdi, i == 0 ? 1 : 5);
		CHECK_EQ_INT(view.rsi, 2);
		CHECK_EQ_INT(view.rdx, 7);
		CHECK_EQ_INT(view.rcx, 9);
		CHECK_EQ_INT(view.r10, view.rdi);
		CHECK_EQ_INT(view.r11, 2);
		CHECK_EQ_INT(arch_pc(&view), view.rip);
		if (i == 0) {
			CHECK_EQ_INT(view.rax, 7);
			/* cmp 1, 2: borrow and negative */
			CHECK_EQ_INT(view.eflags & FLAGS_ARITH,
			    0x80 | 0x04 | 0x10 | 0x01);
		}
		/* on without the signal; the first with a slot */
		if (i == 0) {
			arch_tramp_slot(&r, (uintptr_t)&tslot[0]);
			CHECK(ptrace(PTRACE_SETREGS, pid, 0, &r) == 0);
		}
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s",
	    wstatus_str(st));
}

/*
 * The clock system call refused (a seccomp filter answering EPERM): the
 * stop is taken all the same, the frame's clock is all zero (unknown),
 * and the slot is left as it was.
 */
TEST(tramp_trap_clock_refused)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof (f) / sizeof (f[0]), f };
	tcase_t tc;
	uint64_t clk[2];
	arch_regs_t r;
	pid_t pid;
	int st;

	trap_site(&tc, 0);
	if ((pid = fork()) == 0) {
		if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
			_exit(10);
		raise(SIGSTOP);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(77);
		*tc.tc_pid = getpid();
		*tc.tc_owner = (int32_t)gettid();
		memset(&tslot[2], 0x5a, sizeof (tslot[2]));
		if (call_trap(&tc, 1, 2) != 110)
			_exit(11);
		for (size_t k = 0; k < sizeof (tslot[2]); k++)
			if (((unsigned char *)&tslot[2])[k] != 0x5a)
				_exit(12);
		_exit(*tc.tc_hits == 1 && *tc.tc_missed == 0 ? 0 : 13);
	}
	CHECK(pid > 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		SKIP("seccomp filters unavailable here");
	CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == ARCH_TRAMP_SIG, "child %s",
	    wstatus_str(st));
	CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
	for (int k = 0; k < 2; k++) {
		errno = 0;
		clk[k] = (uint64_t)ptrace(PTRACE_PEEKDATA, pid,
		    (void *)(r.rsp + ARCH_TRAMP_CLOCK + 8 * k), 0);
		CHECK(errno == 0);
		CHECK_EQ_INT(clk[k], 0);
	}
	arch_tramp_slot(&r, (uintptr_t)&tslot[2]);
	CHECK(ptrace(PTRACE_SETREGS, pid, 0, &r) == 0);
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %s",
	    wstatus_str(st));
}

/* Untraced, the gate fires and nothing happens: the tracer-death case. */
TEST(tramp_trap_untraced)
{
	tcase_t tc;

	trap_site(&tc, 0);
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(call_trap(&tc, 5, 2), 14);
	CHECK_EQ_INT(*tc.tc_hits, 2);
	CHECK_EQ_INT(fired(&tc), 2);
	CHECK(!urg_pending());
}

TEST(tramp_trap_entry)
{
	tcase_t tc;

	/* an entry site takes the same gate */
	tc_init(&tc);
	*tc.tc_pid = getpid();
	*tc.tc_owner = (int32_t)gettid();
	tc_site(&tc, F_PUSH, 1, 1, 6, 3);
	CHECK_EQ_INT(call2(&tc, F_PUSH, 30, 12), 42);
	CHECK_EQ_INT(*tc.tc_hits, 1);
	CHECK_EQ_INT(fired(&tc), 1);
}

TEST(tramp_trap_misses)
{
	tcase_t tc;
	sigset_t set, old, prev, want;
	struct sigaction sa;

	trap_site(&tc, 0);
	/* released: no owner */
	*tc.tc_owner = 0;
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 1);
	/* the owner died */
	*tc.tc_owner = (int32_t)gettid() | 0x40000000;
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 2);
	/* waiters bit alone is not an owner */
	*tc.tc_owner = (int32_t)0x80000000;
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 3);
	*tc.tc_owner = (int32_t)gettid() | (int32_t)0x80000000;
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(fired(&tc), 1);
	*tc.tc_owner = (int32_t)gettid();

	/* another process's page (a vfork child's view) */
	*tc.tc_pid = getpid() + 1;
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 4);
	*tc.tc_pid = getpid();

	/*
	 * SIGURG blocked: the gate fires (untraced: the signal is dropped
	 * when sent, unblocked at SIG_DFL), the whole mask as it was.
	 */
	sigfillset(&set);
	CHECK(sigprocmask(SIG_BLOCK, &set, &prev) == 0);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &want) == 0);
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK(sigprocmask(SIG_BLOCK, NULL, &old) == 0);
	for (int s = 1; s < SIGRTMAX; s++)
		CHECK_MSG(sigismember(&old, s) == sigismember(&want, s),
		    "signal %d", s);
	CHECK_EQ_INT(*tc.tc_missed, 4);
	CHECK_EQ_INT(fired(&tc), 2);
	CHECK(!urg_pending());
	/* one of the program's own pending: a miss, and it stays, once */
	CHECK(raise(SIGURG) == 0);
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 5);
	CHECK(urg_pending());
	sigemptyset(&set);
	sigaddset(&set, SIGURG);
	{
		struct timespec zero = { 0, 0 };
		siginfo_t si;

		CHECK_EQ_INT(sigtimedwait(&set, &si, &zero), SIGURG);
		CHECK_EQ_INT(si.si_pid, getpid());
		CHECK(!urg_pending());
	}
	CHECK(sigprocmask(SIG_SETMASK, &prev, NULL) == 0);

	/* SIGURG handled (Go's runtime): no call to the handler */
	urgs = 0;
	CHECK(signal(SIGURG, on_urg) != SIG_ERR);
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(*tc.tc_missed, 6);
	CHECK_EQ_INT(urgs, 0);
	CHECK(sigaction(SIGURG, NULL, &sa) == 0);
	CHECK(sa.sa_handler == on_urg);

	/* SIGURG ignored: not SIG_DFL either, still ignored */
	CHECK(signal(SIGURG, SIG_IGN) != SIG_ERR);
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK(sigaction(SIGURG, NULL, &sa) == 0);
	CHECK(sa.sa_handler == SIG_IGN);
	CHECK_EQ_INT(*tc.tc_missed, 7);
	CHECK(signal(SIGURG, SIG_DFL) != SIG_ERR);

	/* back to the default: it fires again */
	CHECK_EQ_INT(call_trap(&tc, 1, 2), 110);
	CHECK_EQ_INT(fired(&tc), 3);
	CHECK_EQ_INT(*tc.tc_hits, 10);
	CHECK(!urg_pending());
}

/* ---- pcs inside a trampoline ---- */

static void
where(tcase_t *tc, size_t off, uintptr_t pc, size_t depth)
{
	uintptr_t got;
	size_t d;

	arch_tramp_where(&tc->tc_t, tc->tc_req.at_site, tc->tc_req.at_patch,
	    &tc->tc_w, off, &got, &d);
	CHECK_MSG(got == pc && d == depth, "offset %zu: %#lx depth %zu, "
	    "want %#lx depth %zu", off, (unsigned long)got, d,
	    (unsigned long)pc, depth);
}

TEST(tramp_where)
{
	tcase_t tc;
	const arch_tramp_t *t = &tc.tc_t;
	uintptr_t site, patch;

	/* entry, counting: push %rax first */
	tc_init(&tc);
	tc_site(&tc, F_ENDBR, 1, 0, 7, 2);
	site = at(&tc, F_ENDBR);
	patch = site + 4;
	where(&tc, 0, site, 0);
	where(&tc, 1, site, 8);
	where(&tc, t->atr_reloc - 1, site, 8);
	where(&tc, t->atr_reloc, patch, 0);
	where(&tc, t->atr_roff[1], patch + 4, 0);
	where(&tc, t->atr_roff[1] + 1, patch + 4, 0);
	where(&tc, t->atr_roff[2], patch + 7, 0);

	/* inside, counting: the red zone, then flags and %rax */
	tc_site(&tc, F_FLAGS + 3, 0, 0, 6, 2);
	site = at(&tc, F_FLAGS + 3);
	where(&tc, 0, site, 0);
	where(&tc, 5, site, 128);
	where(&tc, 6, site, 136);
	where(&tc, 7, site, 144);
	where(&tc, t->atr_reloc - 1, site, 128);
	where(&tc, t->atr_reloc, site, 0);
	where(&tc, t->atr_roff[1], site + 3, 0);
	where(&tc, t->atr_roff[2], site + 6, 0);

	/* a call: the return address is pushed before the jump */
	tc_site(&tc, F_CALL, 1, 0, 8, 2);
	site = at(&tc, F_CALL);
	where(&tc, t->atr_roff[1], site + 3, 0);
	where(&tc, t->atr_roff[1] + 5, site + 3, 8);
	where(&tc, t->atr_roff[2] - 1, site + 3, 8);

	/* the trap: its frame below the red zone */
	trap_site(&tc, 0);
	site = at(&tc, F_TRAP + 15);
	where(&tc, 0, site, 0);
	where(&tc, t->atr_trap, site, ARCH_TRAMP_TRAPSP);
	where(&tc, t->atr_trap + 1, site, ARCH_TRAMP_TRAPSP);
	where(&tc, t->atr_reloc, site, 0);
	where(&tc, t->atr_roff[2], site + 8, 0);
}

TEST(tramp_worst_case)
{
	/* two short jccs and a long indirect call, all far: the longest */
	static const uint8_t text[] = {
		0x74, 0x00, 0x75, 0x00,			/* je; jne */
		/* notrack call *0x12345678(%rsp,%rax,8) */
		0x3e, 0xff, 0x94, 0xc4, 0x78, 0x56, 0x34, 0x12,
		0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
		0x90, 0x90, 0x90, 0x90,
	};
	static const uint8_t text2[] = {
		0x74, 0x00, 0x75, 0x00,			/* je; jne */
		/* lock addq $imm32, %fs:disp32(%rax,%rcx,8) */
		0x64, 0xf0, 0x48, 0x81, 0x84, 0xc8,
		0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12,
		0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
	};
	const uint8_t *texts[] = { text, text2 };
	uint8_t code2[ARCH_TRAMP_MAX];
	arch_window_t w;
	arch_tramp_t t;

	for (int i = 0; i < 2; i++) {
		arch_tramp_req_t q = {
			.at_site = 0x400000, .at_patch = 0x400000,
			.at_text = texts[i], .at_n = sizeof (text), .at_win = &w,
			.at_tramp = 0x400000 + (3ULL << 30), .at_trap = 1,
			.at_hits = 8, .at_missed = 16, .at_owner = 24,
			.at_pid = 28,
		};

		CHECK_EQ_INT(arch_window(texts[i], sizeof (text), 0x400000, 0,
		    &w), 0);
		CHECK_MSG(w.aw_refuse == NULL, "refused: %s", w.aw_refuse);
		CHECK_EQ_INT(w.aw_ninsn, 3);
		CHECK_EQ_INT(arch_tramp_build(&q, code2, &t), 0);
		tinfo("worst case %d: %u bytes", i, t.atr_len);
		CHECK(t.atr_len <= ARCH_TRAMP_MAX);
	}
}

/* ---- scan and padding ---- */

typedef struct targets {
	uintptr_t tg_to[64];
	int tg_n;
	uintptr_t tg_want;
	int tg_found;
} targets_t;

static void
on_target(void *arg, uintptr_t to)
{
	targets_t *tg = arg;

	if (tg->tg_n < 64)
		tg->tg_to[tg->tg_n++] = to;
	if (to == tg->tg_want)
		tg->tg_found = 1;
}

TEST(scan_loop_back)
{
	targets_t tg = { .tg_want = 0x1000 + F_SCAN + 2 };
	int ind = -1;

	/* its loop jumps back to offset 2: inside an entry's window */
	CHECK_EQ_INT(arch_scan(code + F_SCAN, F_MP - F_SCAN,
	    0x1000 + F_SCAN, on_target, &tg, &ind), 0);
	CHECK_EQ_INT(ind, 0);
	CHECK_EQ_INT(tg.tg_n, 1);
	CHECK(tg.tg_found);
	/* calls are targets too */
	memset(&tg, 0, sizeof (tg));
	tg.tg_want = 0x1000 + G_DBL;
	CHECK_EQ_INT(arch_scan(code + F_CALL, 13, 0x1000 + F_CALL, on_target,
	    &tg, &ind), 0);
	CHECK(tg.tg_found);
}

TEST(scan_indirect)
{
	static const uint8_t got[] = { 0xff, 0x25, 0x10, 0, 0, 0 };
	static const uint8_t reg[] = { 0x48, 0x01, 0xd0, 0xff, 0xe0 };
	static const uint8_t notrack[] = { 0x3e, 0xff, 0xe0 };
	static const uint8_t table[] = { 0xff, 0x24, 0xc5, 0, 0x10, 0, 0 };
	static const uint8_t callreg[] = { 0xff, 0xd0, 0xc3 };
	/* data in text: undecodable bytes skipped one at a time */
	static const uint8_t data[] = { 0x06, 0x07, 0xeb, 0xfe };
	targets_t tg = { .tg_want = 0x2002 };
	int ind;

	CHECK_EQ_INT(arch_scan(got, sizeof (got), 0x2000, on_target, &tg,
	    &ind), 0);
	CHECK_EQ_INT(ind, 0);
	CHECK_EQ_INT(arch_scan(callreg, sizeof (callreg), 0x2000, on_target,
	    &tg, &ind), 0);
	CHECK_EQ_INT(ind, 0);
	CHECK_EQ_INT(arch_scan(reg, sizeof (reg), 0x2000, on_target, &tg,
	    &ind), 0);
	CHECK_EQ_INT(ind, 1);
	CHECK_EQ_INT(arch_scan(notrack, sizeof (notrack), 0x2000, on_target,
	    &tg, &ind), 0);
	CHECK_EQ_INT(ind, 1);
	CHECK_EQ_INT(arch_scan(table, sizeof (table), 0x2000, on_target, &tg,
	    &ind), 0);
	CHECK_EQ_INT(ind, 1);
	CHECK_EQ_INT(tg.tg_n, 0);
	CHECK_EQ_INT(arch_scan(data, sizeof (data), 0x2000, on_target, &tg,
	    &ind), 0);
	CHECK_EQ_INT(tg.tg_n, 1);
	CHECK(tg.tg_found);
}

typedef struct refs {
	int r_n;
	uintptr_t r_at[8];
	int r_kind[8];
} refs_t;

static void
on_ref(void *arg, uintptr_t at, int kind)
{
	refs_t *r = arg;

	if (r->r_n < 8) {
		r->r_at[r->r_n] = at;
		r->r_kind[r->r_n++] = kind;
	}
}

static void
on_nothing(void *arg, uintptr_t to)
{
	(void) arg;
	(void) to;
}

/* The fixed addresses a function names: what jump tables are found by. */
TEST(scan_refs)
{
	static const uint8_t code[] = {
		0x48, 0x8d, 0x15, 0x10, 0, 0, 0,	/* lea 0x10(%rip),%rdx */
		0x48, 0x63, 0x0c, 0x8a,		/* movslq (%rdx,%rcx,4),%rcx */
		0x48, 0x01, 0xd1,		/* add %rdx,%rcx */
		0x3e, 0xff, 0xe1,		/* notrack jmp *%rcx */
		0xff, 0x24, 0xc5, 0, 0x10, 0x40, 0,	/* jmp *0x401000(,%rax,8) */
		0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0,	/* mov %fs:0x28 */
		0x48, 0x8b, 0x05, 0x20, 0, 0, 0,	/* mov 0x20(%rip),%rax */
		0x48, 0x8d, 0x04, 0xc5, 0x08, 0, 0, 0,	/* lea 8(,%rax,8) */
	};
	arch_scan_cb_t cb;
	refs_t r = { 0 };
	int ind;

	cb.asc_target = on_nothing;
	cb.asc_ref = on_ref;
	cb.asc_arg = &r;
	CHECK_EQ_INT(arch_scan_refs(code, sizeof (code), 0x2000, &cb, &ind),
	    0);
	CHECK_EQ_INT(ind, 1);
	CHECK_EQ_INT(r.r_n, 3);
	CHECK_EQ_INT(r.r_at[0], 0x2000 + 7 + 0x10);
	CHECK_EQ_INT(r.r_kind[0], ARCH_REF_LEA);
	CHECK_EQ_INT(r.r_at[1], 0x401000);
	CHECK_EQ_INT(r.r_kind[1], ARCH_REF_ABS);
	CHECK_EQ_INT(r.r_at[2], 0x2000 + 40 + 0x20);
	CHECK_EQ_INT(r.r_kind[2], ARCH_REF_RIP);
}

typedef struct libc_scan {
	int ls_funcs;
	int ls_indirect;
	uintptr_t ls_want;	/* __memmove_avx_unaligned_erms + 3 */
	targets_t ls_tg;
} libc_scan_t;

static int
scan_one(const sym_info_t *si, void *arg)
{
	libc_scan_t *ls = arg;
	uint8_t *text = (uint8_t *)si->sy_addr;
	int ind = 0;

	if (si->sy_size == 0)
		return 0;
	ls->ls_funcs++;
	ls->ls_tg.tg_n = 0;
	CHECK_EQ_INT(arch_scan(text, si->sy_size, si->sy_addr, on_target,
	    &ls->ls_tg, &ind), 0);
	ls->ls_indirect += ind;
	return 0;
}

TEST(scan_libc)
{
	sym_proc_t *S = sym_proc_new(getpid());
	libc_scan_t ls;
	sym_info_t mm, mp;
	int ind;

	CHECK(S != NULL);
	CHECK_EQ_INT(sym_proc_update_maps(S), 0);
	memset(&ls, 0, sizeof (ls));
	CHECK_EQ_INT(sym_iter(S, "libc.so.6", "*", scan_one, &ls), 0);
	tinfo("libc: %d functions, %d with indirect jumps", ls.ls_funcs,
	    ls.ls_indirect);
	CHECK(ls.ls_funcs > 1000);
	CHECK(ls.ls_indirect > 0 && ls.ls_indirect < ls.ls_funcs / 10);

	if (sym_lookup_name(S, "libc.so.6`__memmove_avx_unaligned_erms",
	    &mm) != 0 ||
	    sym_lookup_name(S, "libc.so.6`__mempcpy_avx_unaligned_erms",
	    &mp) != 0) {
		sym_proc_free(S);
		SKIP("no __mempcpy_avx_unaligned_erms in this libc");
	}
	memset(&ls.ls_tg, 0, sizeof (ls.ls_tg));
	ls.ls_tg.tg_want = mm.sy_addr + 3;
	CHECK_EQ_INT(arch_scan((uint8_t *)mp.sy_addr, mp.sy_size, mp.sy_addr,
	    on_target, &ls.ls_tg, &ind), 0);
	CHECK_MSG(ls.ls_tg.tg_found, "no branch to __memmove_avx_"
	    "unaligned_erms+3 from __mempcpy_avx_unaligned_erms");
	sym_proc_free(S);
}

TEST(padding)
{
	static const uint8_t pads[][12] = {
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0, 0, 0, 0 },
		{ 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 },
		{ 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 },
		{ 0xcc, 0xcc, 0xcc },
		{ 0x00, 0x00 },
	};
	static const size_t lens[] = { 1, 2, 3, 4, 5, 6, 7, 10, 11, 3, 2 };
	static const uint8_t mixed[] = { 0xc3 - 0xc3, 0x90, 0x0f, 0x1f, 0x40,
	    0x00, 0xcc, 0x66, 0x90 };
	static const uint8_t notpad[][4] = {
		{ 0x48, 0x89, 0xf8 },		/* mov */
		{ 0xf3, 0x0f, 0x1e, 0xfa },	/* endbr64 */
		{ 0x0f, 0x0b },			/* ud2 */
		{ 0x90, 0xc3 },			/* ret */
		{ 0xf3, 0x90 },			/* pause */
	};
	static const size_t nlens[] = { 3, 4, 2, 2, 2 };

	for (size_t i = 0; i < sizeof (lens) / sizeof (lens[0]); i++)
		CHECK_MSG(arch_padding(pads[i], lens[i]) == 1, "pad %zu", i);
	CHECK_EQ_INT(arch_padding(mixed, sizeof (mixed)), 1);
	CHECK_EQ_INT(arch_padding(mixed, 0), 1);
	/* a long nop cut by the range's end */
	CHECK_EQ_INT(arch_padding(pads[8], 3), 1);
	CHECK_EQ_INT(arch_padding(pads[7], 5), 1);
	for (size_t i = 0; i < sizeof (nlens) / sizeof (nlens[0]); i++)
		CHECK_MSG(arch_padding(notpad[i], nlens[i]) == 0, "code %zu",
		    i);
	/* the padding after f_ret */
	CHECK_EQ_INT(arch_padding(code + F_RET + 1, F_FLAGS - F_RET - 1), 1);
	CHECK_EQ_INT(arch_padding(code + F_FLAGS, 3), 0);
}

/* ---- every libc function's entry ---- */

typedef struct census {
	int cs_funcs;
	int cs_ok;
	int cs_short;		/* ends in ret/jmp under 5 bytes */
	int cs_maxlen;
	const char *cs_why[32];
	int cs_nwhy[32];
} census_t;

static int
census_one(const sym_info_t *si, void *arg)
{
	census_t *cs = arg;
	const uint8_t *text = (const uint8_t *)si->sy_addr;
	static uint8_t code2[ARCH_TRAMP_MAX];
	arch_window_t w;
	arch_tramp_t t;
	int i;

	if (si->sy_size == 0)
		return 0;
	cs->cs_funcs++;
	/* the function and what follows it (text goes on past its end) */
	CHECK_EQ_INT(arch_window(text, si->sy_size + 32, si->sy_addr, 1, &w),
	    0);
	if (w.aw_refuse == NULL && w.aw_len < ARCH_JMP_LEN) {
		cs->cs_short++;
		return 0;
	}
	if (w.aw_refuse == NULL && w.aw_len > si->sy_size)
		w.aw_refuse = "past the function's end";
	if (w.aw_refuse != NULL) {
		for (i = 0; i < 31 && cs->cs_why[i] != NULL &&
		    strcmp(cs->cs_why[i], w.aw_refuse) != 0; i++)
			;
		cs->cs_why[i] = w.aw_refuse;
		cs->cs_nwhy[i]++;
		return 0;
	}
	for (int trap = 0; trap < 2; trap++) {
		arch_tramp_req_t q = {
			.at_site = si->sy_addr,
			.at_patch = si->sy_addr + w.aw_skip,
			.at_text = text + w.aw_skip, .at_n = w.aw_len,
			.at_win = &w, .at_tramp = si->sy_addr - (1UL << 30),
			.at_entry = 1, .at_trap = trap, .at_hits = 8,
			.at_missed = 16, .at_owner = 24, .at_pid = 28,
		};

		CHECK_MSG(arch_tramp_build(&q, code2, &t) == 0, "%s: %s",
		    si->sy_name, err_msg());
		if (t.atr_len > cs->cs_maxlen)
			cs->cs_maxlen = t.atr_len;
	}
	cs->cs_ok++;
	return 0;
}

TEST(tramp_libc_census)
{
	sym_proc_t *S = sym_proc_new(getpid());
	census_t cs;

	CHECK(S != NULL);
	CHECK_EQ_INT(sym_proc_update_maps(S), 0);
	memset(&cs, 0, sizeof (cs));
	CHECK_EQ_INT(sym_iter(S, "libc.so.6", "*", census_one, &cs), 0);
	tinfo("libc: %d functions, %d windows built (longest trampoline "
	    "%d bytes), %d short", cs.cs_funcs, cs.cs_ok, cs.cs_maxlen,
	    cs.cs_short);
	for (int i = 0; i < 32 && cs.cs_why[i] != NULL; i++)
		tinfo("  %5d %s", cs.cs_nwhy[i], cs.cs_why[i]);
	CHECK(cs.cs_ok >= cs.cs_funcs * 9 / 10);
	sym_proc_free(S);
}

/* ---- branches out of a trampoline's reach ---- */

TEST(tramp_far_targets)
{
	/* C: the targets; A, 1 GiB above: the functions; B: the slot */
	static const uint8_t tgt[] = {
		0xb8, 0x02, 0, 0, 0,		/* mov $2, %eax */
		0xc3,				/* ret */
		0x48, 0x8d, 0x40, 0x01,		/* lea 1(%rax), %rax */
		0xc3,				/* ret */
	};
	uintptr_t c, a, b;
	uint8_t *pc, *pa, *pb, *res, jmp[16];
	arch_window_t w;
	arch_tramp_t t;
	int32_t rel;
	uint64_t hits = 0;

	/*
	 * The three pages inside one reservation the kernel placed: no fixed
	 * address of ours, which a sanitizer's shadow may hold.
	 */
	res = mmap(NULL, 3UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
	    MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		SKIP("cannot reserve 3 GiB of address space: %s",
		    strerror(errno));
	c = ((uintptr_t)res + 4095) & ~4095UL;
	a = c + (1UL << 30);
	b = a + (3UL << 29);
	pc = mmap((void *)c, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	pa = mmap((void *)a, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	pb = mmap((void *)b, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(pc == (void *)c && pa == (void *)a && pb == (void *)b);
	memcpy(pc, tgt, sizeof (tgt));

	/* f1: test %rdi,%rdi; je c; mov $1,%eax; ret */
	memcpy(pa, "\x48\x85\xff\x0f\x84", 5);
	rel = (int32_t)(int64_t)(c - (a + 9));
	memcpy(pa + 5, &rel, 4);
	memcpy(pa + 9, "\xb8\x01\x00\x00\x00\xc3", 6);
	/* f2, at a+32: mov %rdi,%rax; call c+6; ret */
	memcpy(pa + 32, "\x48\x89\xf8\xe8", 4);
	rel = (int32_t)(int64_t)(c + 6 - (a + 32 + 8));
	memcpy(pa + 36, &rel, 4);
	pa[40] = 0xc3;
	/* f3, at a+64: jmp c */
	pa[64] = 0xe9;
	rel = (int32_t)(int64_t)(c - (a + 64 + 5));
	memcpy(pa + 65, &rel, 4);

	for (int f = 0; f < 3; f++) {
		uintptr_t site = a + 32 * f;
		arch_tramp_req_t q = {
			.at_site = site, .at_patch = site,
			.at_text = (uint8_t *)site, .at_n = 32, .at_win = &w,
			.at_tramp = b + 512 * f, .at_entry = 1,
			.at_hits = (uintptr_t)&hits,
		};

		CHECK_EQ_INT(arch_window((uint8_t *)site, 32, site, 1, &w), 0);
		CHECK(w.aw_refuse == NULL);
		CHECK_EQ_INT(arch_tramp_build(&q, pb + 512 * f, &t), 0);
		arch_patch(site, q.at_tramp, w.aw_len, jmp);
		memcpy((void *)site, jmp, w.aw_len);
	}
	CHECK_EQ_INT(((fn2_t)a)(0, 0), 2);
	CHECK_EQ_INT(((fn2_t)a)(1, 0), 1);
	CHECK_EQ_INT(((fn2_t)(a + 32))(41, 0), 42);
	CHECK_EQ_INT(((fn2_t)(a + 64))(0, 0), 2);
	CHECK_EQ_INT(hits, 4);
}

/* ---- signals while threads run trampolines ---- */

static volatile unsigned long ticks;

static void
on_tick(int sig)
{
	volatile uint8_t scribble[2048];

	(void)sig;
	/* the stack below the interrupted code is the handler's to use */
	for (size_t i = 0; i < sizeof (scribble); i++)
		scribble[i] = 0xa5;
	ticks++;
}

TEST(tramp_signals_inside)
{
	struct itimerval it = { { 0, 50 }, { 0, 50 } };
	tcase_t tc;
	uint64_t bad = 0;
	const uint64_t n = 200000;

	tc_init(&tc);
	*tc.tc_pid = getpid();
	*tc.tc_owner = 0;		/* gate runs, no trap */
	tc_site(&tc, F_FLAGS + 3, 0, 0, 6, 2);
	tc_window(&tc, F_RED + 5, 0);
	tc_patch(&tc, F_RED + 5, 0, 1);
	CHECK(signal(SIGALRM, on_tick) != SIG_ERR);
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	for (uint64_t i = 0; i < n; i++) {
		bad += call2(&tc, F_FLAGS, i & 1 ? i : -i, i) !=
		    (i & 1 ? i : i);
		bad += call2(&tc, F_RED, i, 3) != i + 6;
	}
	memset(&it, 0, sizeof (it));
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	tinfo("%lu signals over %lu calls", ticks, 2 * n);
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(*tc.tc_hits, 2 * n);
	CHECK_EQ_INT(*tc.tc_missed, n);
	CHECK(ticks > 0);
}
