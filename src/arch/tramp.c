/*
 * tramp.c - trampolines: the window under a patched site, the code that
 * stands in for it, the patch, and how a pc inside that code maps back.
 *
 * The patch is a 5-byte jmp rel32 over the site's first instructions
 * (its window).  The trampoline counts the hit with a locked increment
 * of a counter that may lie anywhere (a scratch register and movabs, so
 * the shared page need not be near), for a trap site passes a gate and
 * stops, then runs the window's instructions relocated and jumps back
 * past the window.  Relocated instructions run with the site's own rsp
 * and flags: whatever the trampoline pushed is popped before them.
 *
 * What the counting code may disturb depends on where the site is.  At
 * a function's first instruction the flags are dead (the ABI does not
 * carry them across a call) and the stack below rsp is free, so a push
 * of %rax is all it takes.  Inside a function both are live: the code
 * steps over the 128-byte red zone first and saves the flags.
 *
 * The gate stops the thread by sending itself ARCH_TRAMP_SIG (SIGURG)
 * with tgkill, not with an int3.  A trap stop the tracer has not yet
 * collected keeps its signal, and the kernel delivers it if the tracer
 * dies then: SIGTRAP killed the victim, SIGURG is ignored by default.
 * While we trace, the kernel queues the signal even so (an ignored
 * signal is not dropped for a traced thread) and the thread stops as
 * it leaves the system call; untraced, it is dropped when sent.  Each
 * check before is a reason to skip the stop and count a miss instead:
 * the signal must be at SIG_DFL (a program that handles SIGURG, as Go's
 * runtime does, must not see calls it did not ask for); the thread must
 * belong to the process the page was made for (a vfork child shares our
 * memory but no tracer watches it; the pid is tgkill's first argument
 * too); the owner word of the page's robust mutex must name a live
 * thread (the kernel sets FUTEX_OWNER_DIED in it when the tracer's
 * control thread dies, before the tracee is detached; this only saves a
 * system call: a signal sent after the tracer died is dropped anyway).
 *
 * A thread that blocks the signal still stops: the gate unblocks it
 * alone, sends it, and after the stop sets the mask it saved back.  The
 * mask is only ever put back by this code, so it comes back whenever
 * the thread leaves the trampoline: if the tracer dies before the send,
 * the signal is dropped (unblocked, SIG_DFL, untraced); if it dies in
 * the stop, the kernel delivers it, and it is ignored.  Unless it is
 * already pending (rt_sigpending: the thread's and the process's): a
 * signal of the program's own, blocked, would merge with ours, be taken
 * as ours and swallowed; that call is a miss.  Left: a SIGURG the
 * program sends in the few instructions while it is unblocked is taken
 * (and ignored, at SIG_DFL) rather than left pending.
 *
 * The gate also reads the victim's clock (CLOCK_MONOTONIC, the system
 * call: nanoseconds on the tracer's clock, no TSC to convert) as it
 * enters, into its frame, and after the stop into the slot
 * the tracer named in r10 (zeroed before the trap: no slot, no write):
 * each stop's whole cost, the kernel's wake-ups included, as the victim
 * saw it.  A failed read leaves zeros: unknown.
 *
 * A call is relocated only as the window's last instruction, emulated:
 * the original return address is pushed and the callee entered with a
 * jump, so no stack ever holds an address inside a trampoline (which may
 * be unmapped while the callee runs).  Short branches are widened; a
 * branch into the window lands on the relocated copy.
 *
 * Left out: loop/jrcxz (short only), interrupts and system calls (a
 * thread blocked in one would pin the trampoline), privileged and far
 * transfers, relative operands other than rip-relative memory (xbegin).
 */
#include "arch.h"
#include "insn.h"
#include "err/err.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* The kinds of instruction a window may hold, as relocation sees them. */
typedef enum tr_kind {
	TR_PLAIN,	/* copied, a rip-relative operand rewritten */
	TR_JCC,		/* conditional jump: widened */
	TR_JMP,		/* direct jmp: ends the window */
	TR_JMPI,	/* indirect jmp: copied, ends the window */
	TR_RET,		/* ret: copied, ends the window */
	TR_CALL,	/* direct call: emulated, last only */
	TR_CALLI	/* indirect call: emulated, last only */
} tr_kind_t;

/*
 * The trap kind's frame: below the red zone, 48 bytes of buffer for the
 * gate's system calls, then the ARCH_TRAMP_FRAME saved words (flags,
 * rax, rcx, rdx, rsi, rdi, r10, r11), at the stack pointer at the trap.
 */
#define TR_BUF		48
#define TR_DEPTH	ARCH_TRAMP_TRAPSP
_Static_assert(TR_DEPTH == ARCH_REDZONE + TR_BUF + 8 * ARCH_TRAMP_FRAME,
    "the trap's frame");

/*
 * Classify one instruction: NULL and *KIND, or why it cannot be
 * relocated.
 */
static const char *
tr_classify(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
    tr_kind_t *kind)
{
	int rel = ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	    ops[0].imm.is_relative;
	/* ff /2 (call) and ff /4 (jmp): near, through a register or memory */
	int ff = in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	    in->opcode == 0xff;

	*kind = TR_PLAIN;
	if (in->attributes & ZYDIS_ATTRIB_IS_PRIVILEGED)
		return "privileged instruction";
	switch (in->meta.category) {
	case ZYDIS_CATEGORY_INVALID:
		return "undecodable";
	case ZYDIS_CATEGORY_INTERRUPT:
		return in->mnemonic == ZYDIS_MNEMONIC_INT3 ||
		    in->mnemonic == ZYDIS_MNEMONIC_INT1 ?
		    "int3 in window" : "interrupt in window";
	case ZYDIS_CATEGORY_SYSCALL:
		return "syscall in window";
	case ZYDIS_CATEGORY_SYSTEM:
		return "privileged instruction";
	case ZYDIS_CATEGORY_COND_BR:
		if (in->mnemonic == ZYDIS_MNEMONIC_XBEGIN)
			return "relative operand";
		if (!arch_jcc(in))
			return "loop/jrcxz";
		*kind = TR_JCC;
		return NULL;
	case ZYDIS_CATEGORY_UNCOND_BR:
		if (in->mnemonic != ZYDIS_MNEMONIC_JMP)
			break;	/* xabort: no transfer of its own */
		if (rel)
			*kind = TR_JMP;
		else if (ff && in->raw.modrm.reg == 4)
			*kind = TR_JMPI;
		else
			return "far jump";
		return NULL;
	case ZYDIS_CATEGORY_CALL:
		if (rel) {
			*kind = TR_CALL;
			return NULL;
		}
		if (!ff || in->raw.modrm.reg != 2)
			return "far call";
		/* the emulation pushes before it jumps through the operand */
		if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ops[0].reg.value == ZYDIS_REGISTER_RSP)
			return "call through rsp";
		*kind = TR_CALLI;
		return NULL;
	case ZYDIS_CATEGORY_RET:
		if (in->mnemonic != ZYDIS_MNEMONIC_RET ||
		    (in->opcode != 0xc3 && in->opcode != 0xc2))
			return "far return";
		*kind = TR_RET;
		return NULL;
	default:
		break;
	}
	if ((in->attributes & ZYDIS_ATTRIB_IS_RELATIVE) &&
	    !arch_riprel(in, ops))
		return "relative operand";
	if (arch_riprel(in, ops) && in->raw.disp.size != 32)
		return "undecodable";
	return NULL;
}

/* A direct branch's target, or 0. */
static uintptr_t
tr_target(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
    uintptr_t addr)
{
	ZyanU64 to;

	if (ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
	    !ops[0].imm.is_relative ||
	    ZYAN_FAILED(ZydisCalcAbsoluteAddress(in, &ops[0], addr, &to)))
		return 0;
	return (uintptr_t)to;
}

/* Index of the window's instruction at ADDR, -1 outside, -2 inside one. */
static int
tr_inwin(const arch_window_t *w, uintptr_t patch, uintptr_t addr)
{
	if (addr < patch || addr >= patch + w->aw_len)
		return -1;
	for (int i = 0; i < w->aw_ninsn; i++) {
		if (patch + w->aw_off[i] == addr)
			return i;
	}
	return -2;
}

/*
 * The window at ADDR, of whole instructions within LIMIT bytes of the
 * patch (SIZE_MAX: no limit, the usual >= ARCH_JMP_LEN).
 */
static int
tr_window(const uint8_t *text, size_t n, uintptr_t addr, int entry,
    size_t limit, arch_window_t *w)
{
	static const uint8_t endbr64[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uintptr_t to[ARCH_WIN_MAX], patch;
	tr_kind_t kind = TR_PLAIN;
	int nto = 0;

	memset(w, 0, sizeof (*w));
	if (entry && n >= sizeof (endbr64) &&
	    memcmp(text, endbr64, sizeof (endbr64)) == 0)
		w->aw_skip = sizeof (endbr64);
	text += w->aw_skip;
	n -= w->aw_skip;
	patch = addr + w->aw_skip;

	while (w->aw_len < ARCH_JMP_LEN && !w->aw_last && w->aw_len < limit) {
		size_t off = w->aw_len;

		if (off >= n)
			return -EINVAL;
		if (arch_decode(text + off, n - off, &in, ops) != 0) {
			if (n - off < ARCH_INSN_MAX)
				return -EINVAL;
			w->aw_refuse = "undecodable";
			return 0;
		}
		if (off + in.length > limit)
			break;		/* a short window ends before it */
		if (kind == TR_CALL || kind == TR_CALLI) {
			/* its return address would be inside the window */
			w->aw_refuse = "call not last in window";
			return 0;
		}
		w->aw_off[w->aw_ninsn++] = (uint8_t)off;
		w->aw_len += in.length;
		if ((w->aw_refuse = tr_classify(&in, ops, &kind)) != NULL)
			return 0;
		if ((to[nto] = tr_target(&in, ops, patch + off)) != 0)
			nto++;
		w->aw_last = kind == TR_JMP || kind == TR_JMPI ||
		    kind == TR_RET;
		w->aw_call = kind == TR_CALL || kind == TR_CALLI;
	}
	/* a branch back into the window must land on an instruction */
	for (int i = 0; i < nto; i++) {
		if (tr_inwin(w, patch, to[i]) == -2) {
			w->aw_refuse = "branch into an instruction in window";
			return 0;
		}
	}
	return 0;
}

int
arch_window(const uint8_t *text, size_t n, uintptr_t addr, int entry,
    arch_window_t *w)
{
	return tr_window(text, n, addr, entry, SIZE_MAX, w);
}

int
arch_window_short(const uint8_t *text, size_t n, uintptr_t addr, int entry,
    size_t limit, arch_window_t *w)
{
	int rv = tr_window(text, n, addr, entry, limit, w);

	if (rv == 0 && w->aw_refuse == NULL && w->aw_len < ARCH_SHORT_LEN)
		w->aw_refuse = "window too short for a short jump";
	return rv;
}

/*
 * The code being built: bytes, where they will run, the stack depth
 * spans, and the branches still to be pointed at a relocated copy or at
 * the miss path.
 */
typedef struct tr_buf {
	uint8_t *tb_code;
	uintptr_t tb_at;	/* address of tb_code[0] when it runs */
	size_t tb_len;
	int tb_over;		/* ran past ARCH_TRAMP_MAX */
	arch_tramp_t *tb_t;
	uint16_t tb_depth;	/* current depth below the site's sp */
	int tb_nfix;
	struct {
		uint16_t f_at;	/* the rel32 field */
		int f_to;	/* window instruction index, or -1: miss */
	} tb_fix[16];
} tr_buf_t;

static void
tb_put(tr_buf_t *b, const void *p, size_t n)
{
	if (b->tb_len + n > ARCH_TRAMP_MAX) {
		b->tb_over = 1;
		return;
	}
	memcpy(b->tb_code + b->tb_len, p, n);
	b->tb_len += n;
}

static void
tb_imm(tr_buf_t *b, uint64_t v, size_t n)
{
	tb_put(b, &v, n);	/* little-endian: the low N bytes */
}

/* From the current offset on, the stack is DEPTH bytes below the site's. */
static void
tb_depth(tr_buf_t *b, uint16_t depth)
{
	arch_tramp_t *t = b->tb_t;

	if (depth == b->tb_depth)
		return;
	if (b->tb_depth != 0)
		t->atr_span[t->atr_nspan - 1].s_to = (uint16_t)b->tb_len;
	if (depth != 0 && t->atr_nspan < sizeof (t->atr_span) /
	    sizeof (t->atr_span[0])) {
		t->atr_span[t->atr_nspan].s_from = (uint16_t)b->tb_len;
		t->atr_span[t->atr_nspan].s_to = (uint16_t)b->tb_len;
		t->atr_span[t->atr_nspan++].s_depth = depth;
	} else if (depth != 0) {
		b->tb_over = 1;
	}
	b->tb_depth = depth;
}

/* A rel32 branch (opcode bytes OP, N of them) fixed up later to TO. */
static void
tb_fixed(tr_buf_t *b, const uint8_t *op, size_t n, int to)
{
	tb_put(b, op, n);
	if (b->tb_nfix == (int)(sizeof (b->tb_fix) / sizeof (b->tb_fix[0]))) {
		b->tb_over = 1;
		return;
	}
	b->tb_fix[b->tb_nfix].f_at = (uint16_t)b->tb_len;
	b->tb_fix[b->tb_nfix++].f_to = to;
	tb_imm(b, 0, 4);
}

#define TB(b, ...) do {							\
	static const uint8_t tb_bytes_[] = { __VA_ARGS__ };		\
	tb_put((b), tb_bytes_, sizeof (tb_bytes_));			\
} while (0)

/* lock incq at ADDR, through %rax (the caller saved it) */
static void
tb_count(tr_buf_t *b, uintptr_t addr)
{
	TB(b, 0x48, 0xb8);			/* movabs $addr, %rax */
	tb_imm(b, addr, 8);
	TB(b, 0xf0, 0x48, 0xff, 0x00);		/* lock incq (%rax) */
}

static void
tb_jmiss(tr_buf_t *b, uint8_t cc)
{
	const uint8_t op[2] = { 0x0f, 0x80 | cc };

	tb_fixed(b, op, 2, -1);
}

#define CC_E	0x4
#define CC_NE	0x5

/* The counting prologue: a push of %rax at an entry, else flags kept. */
static void
tb_count_only(tr_buf_t *b, const arch_tramp_req_t *req)
{
	if (req->at_entry) {
		TB(b, 0x50);				/* push %rax */
		tb_depth(b, 8);
		tb_count(b, req->at_hits);
		TB(b, 0x58);				/* pop %rax */
		tb_depth(b, 0);
		return;
	}
	TB(b, 0x48, 0x8d, 0x64, 0x24, 0x80);	/* lea -128(%rsp), %rsp */
	tb_depth(b, ARCH_REDZONE);
	TB(b, 0x9c);				/* pushfq */
	tb_depth(b, ARCH_REDZONE + 8);
	TB(b, 0x50);				/* push %rax */
	tb_depth(b, ARCH_REDZONE + 16);
	tb_count(b, req->at_hits);
	TB(b, 0x58);				/* pop %rax */
	tb_depth(b, ARCH_REDZONE + 8);
	TB(b, 0x9d);				/* popfq */
	tb_depth(b, ARCH_REDZONE);
	TB(b, 0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0);	/* lea 128(%rsp) */
	tb_depth(b, 0);
}

/*
 * The trap prologue: count, save, the gate, the signal, restore.  Its
 * stack depth is TR_DEPTH from the pushfq to the popfq, whatever path
 * it takes.  The system calls clobber rax, rcx and r11 and the checks
 * use rdx, rsi, rdi and r10: all of them saved, and restored on every
 * path.  The buffer holds the old mask (TR_MASK) from check 3 until the
 * end: a set SIGURG bit there means the gate unblocked the signal and
 * owes the thread its mask back; past rt_sigaction's 32 bytes, the
 * clock (TR_CLOCK).
 */
#define TR_MASK		64	/* the thread's mask, from check 3 on */
#define TR_SET		72	/* rt_sigpending's set, then the unblock's */
#define TR_CLOCK	96	/* the victim's clock at the gate */
_Static_assert(TR_CLOCK == ARCH_TRAMP_CLOCK && TR_CLOCK + 16 ==
    8 * ARCH_TRAMP_FRAME + TR_BUF, "the clock's place in the buffer");
#define ARCH_QUICK_MUL	0x9e3779b97f4a7c15ull	/* odd: a multiplicative hash */
_Static_assert(sizeof (arch_quick_t) == 64 &&
    offsetof(arch_quick_t, aq_ra) == 8 &&
    offsetof(arch_quick_t, aq_tid) == 16 &&
    offsetof(arch_quick_t, aq_state) == 20 &&
    offsetof(arch_quick_t, aq_retval) == 24 &&
    offsetof(arch_quick_t, aq_sec) == 32 &&
    offsetof(arch_quick_t, aq_nsec) == 40, "the bucket tb_quick writes");
#define SIG_BYTE(off)	(uint8_t)((off) + (ARCH_TRAMP_SIG - 1) / 8)
#define SIG_BIT		(uint8_t)(1 << ((ARCH_TRAMP_SIG - 1) % 8))

/* movabs $at_pid, %rdi; mov (%rdi), %edi: tgkill's pid, the page's */
static void
tb_pid_edi(tr_buf_t *b, uintptr_t at_pid)
{
	TB(b, 0x48, 0xbf);
	tb_imm(b, at_pid, 8);
	TB(b, 0x8b, 0x3f);
}

uint32_t
arch_quick_hash(uintptr_t sp)
{
	return (uint32_t)(((uint64_t)sp * ARCH_QUICK_MUL) >>
	    (64 - ARCH_QUICK_BITS));
}

/* The rel32 of a jump at FROM (its field's offset) set to land here. */
static void
tb_land(tr_buf_t *b, uint16_t from)
{
	int32_t rel = (int32_t)(b->tb_len - (from + 4u));

	if (!b->tb_over)
		memcpy(b->tb_code + from, &rel, 4);
}

static uint16_t
tb_jcc32(tr_buf_t *b, uint8_t cc)
{
	const uint8_t op[6] = { 0x0f, (uint8_t)(0x80 | cc) };

	tb_put(b, op, sizeof (op));
	return (uint16_t)(b->tb_len - 4);
}

/*
 * A return recorded without a stop (arch.h, arch_quick_t): the bucket of
 * the site's stack pointer, pending for this site and this thread, gets
 * the return value and the clock; anything else falls through to the
 * gate.  The clock is read into the frame (TR_CLOCK) before gettid, so
 * that the call's time keeps as little of this code as can be.  The
 * rel32 field of its jump to the restore, to be landed there.
 */
static uint16_t
tb_quick(tr_buf_t *b, const arch_tramp_req_t *req)
{
	uint16_t jgate[4], jdone;
	int n = 0;

	TB(b, 0x48, 0x8d, 0x94, 0x24);		/* lea DEPTH(%rsp), %rdx */
	tb_imm(b, TR_DEPTH, 4);
	TB(b, 0x48, 0xb8);			/* movabs $MUL, %rax */
	tb_imm(b, ARCH_QUICK_MUL, 8);
	TB(b, 0x48, 0x0f, 0xaf, 0xc2,		/* imul %rdx, %rax */
	    0x48, 0xc1, 0xe8, 64 - ARCH_QUICK_BITS,	/* shr */
	    0x48, 0xc1, 0xe0, 6,		/* shl $6: 64-byte buckets */
	    0x48, 0xbe);			/* movabs $table, %rsi */
	tb_imm(b, req->at_quick, 8);
	TB(b, 0x48, 0x01, 0xc6,			/* add %rax, %rsi */
	    0x48, 0x3b, 0x16);			/* cmp (%rsi), %rdx: aq_sp */
	jgate[n++] = tb_jcc32(b, CC_NE);
	TB(b, 0x48, 0xb8);			/* movabs $site, %rax */
	tb_imm(b, req->at_site, 8);
	TB(b, 0x48, 0x3b, 0x46, 8);		/* cmp 8(%rsi), %rax: aq_ra */
	jgate[n++] = tb_jcc32(b, CC_NE);
	TB(b, 0x83, 0x7e, 20, ARCH_QUICK_PENDING);	/* cmpl aq_state */
	jgate[n++] = tb_jcc32(b, CC_NE);
	TB(b, 0x48, 0xc7, 0x44, 0x24, TR_CLOCK, 0, 0, 0, 0,	/* movq $0 */
	    0x48, 0xc7, 0x44, 0x24, TR_CLOCK + 8, 0, 0, 0, 0,
	    0x48, 0x89, 0xf2,			/* mov %rsi, %rdx */
	    0xb8, 228, 0, 0, 0,			/* mov $SYS_clock_gettime */
	    0xbf, 1, 0, 0, 0,			/* mov $CLOCK_MONOTONIC */
	    0x48, 0x8d, 0x74, 0x24, TR_CLOCK,	/* lea 96(%rsp), %rsi */
	    0x0f, 0x05,				/* syscall */
	    0xb8, 186, 0, 0, 0,			/* mov $SYS_gettid, %eax */
	    0x0f, 0x05,				/* syscall */
	    0x3b, 0x42, 16);			/* cmp 16(%rdx), %eax: aq_tid */
	jgate[n++] = tb_jcc32(b, CC_NE);
	TB(b, 0x48, 0x8b, 0x44, 0x24, 0x08,	/* mov 8(%rsp), %rax */
	    0x48, 0x89, 0x42, 24,		/* mov %rax, aq_retval */
	    0x48, 0x8b, 0x44, 0x24, TR_CLOCK,	/* mov 96(%rsp), %rax */
	    0x48, 0x89, 0x42, 32,		/* mov %rax, aq_sec */
	    0x48, 0x8b, 0x44, 0x24, TR_CLOCK + 8,	/* mov 104(%rsp) */
	    0x48, 0x89, 0x42, 40,		/* mov %rax, aq_nsec */
	    /* movl $RETURNED, aq_state: last (stores stay in order) */
	    0xc7, 0x42, 20, ARCH_QUICK_RETURNED, 0, 0, 0,
	    0xe9);				/* jmp restore */
	tb_imm(b, 0, 4);
	jdone = (uint16_t)(b->tb_len - 4);
	for (int i = 0; i < n; i++)
		tb_land(b, jgate[i]);
	return jdone;
}

static void
tb_trap(tr_buf_t *b, const arch_tramp_req_t *req, arch_tramp_t *t)
{
	uint16_t jrestore, junblocked, jsend, jquick = 0;

	/* lea -(TR_DEPTH - 8)(%rsp), %rsp; pushfq */
	TB(b, 0x48, 0x8d, 0xa4, 0x24);
	tb_imm(b, (uint32_t)-(int32_t)(TR_DEPTH - 8), 4);
	tb_depth(b, TR_DEPTH - 8);
	TB(b, 0x9c);
	tb_depth(b, TR_DEPTH);
	TB(b, 0x48, 0x89, 0x44, 0x24, 0x08,	/* mov %rax, 8(%rsp) */
	    0x48, 0x89, 0x4c, 0x24, 0x10,	/* mov %rcx, 16(%rsp) */
	    0x48, 0x89, 0x54, 0x24, 0x18,	/* mov %rdx, 24(%rsp) */
	    0x48, 0x89, 0x74, 0x24, 0x20,	/* mov %rsi, 32(%rsp) */
	    0x48, 0x89, 0x7c, 0x24, 0x28,	/* mov %rdi, 40(%rsp) */
	    0x4c, 0x89, 0x54, 0x24, 0x30,	/* mov %r10, 48(%rsp) */
	    0x4c, 0x89, 0x5c, 0x24, 0x38);	/* mov %r11, 56(%rsp) */
	tb_count(b, req->at_hits);
	if (req->at_quick != 0)
		jquick = tb_quick(b, req);

	/* the buffer 64(%rsp) is the old value's: NULL new, size 8 */
	TB(b, 0x31, 0xf6,			/* xor %esi, %esi */
	    0x48, 0x8d, 0x54, 0x24, TR_MASK,	/* lea 64(%rsp), %rdx */
	    0x41, 0xba, 8, 0, 0, 0);		/* mov $8, %r10d */
	/* 1. rt_sigaction(sig, NULL, buf, 8): anything but SIG_DFL? */
	TB(b, 0xb8, 13, 0, 0, 0,		/* mov $SYS_rt_sigaction */
	    0xbf, ARCH_TRAMP_SIG, 0, 0, 0,	/* mov $sig, %edi */
	    0x0f, 0x05,				/* syscall */
	    0x85, 0xc0);			/* test %eax, %eax */
	tb_jmiss(b, CC_NE);
	TB(b, 0x48, 0x83, 0x7c, 0x24, TR_MASK, 0);	/* cmpq $SIG_DFL */
	tb_jmiss(b, CC_NE);
	/*
	 * The victim's clock, into the frame (TR_CLOCK, zeroed first: a
	 * failed call leaves "unknown"): from here to the clock after the
	 * stop is the stop's cost, the checks' system calls included, so
	 * that a call's time keeps as little of the gate as can be.  After
	 * check 1, which a program handling the signal fails (Go's, at
	 * every call).
	 */
	TB(b, 0x48, 0xc7, 0x44, 0x24, TR_CLOCK, 0, 0, 0, 0,	/* movq $0 */
	    0x48, 0xc7, 0x44, 0x24, TR_CLOCK + 8, 0, 0, 0, 0,
	    0xb8, 228, 0, 0, 0,			/* mov $SYS_clock_gettime */
	    0xbf, 1, 0, 0, 0,			/* mov $CLOCK_MONOTONIC */
	    0x48, 0x8d, 0x74, 0x24, TR_CLOCK,	/* lea 96(%rsp), %rsi */
	    0x0f, 0x05,				/* syscall */
	    0x31, 0xf6);			/* xor %esi, %esi */

	/* 2. getpid() == *at_pid: not a vfork child or a sharer */
	TB(b, 0xb8, 39, 0, 0, 0,		/* mov $SYS_getpid, %eax */
	    0x0f, 0x05,				/* syscall */
	    0x48, 0xbf);			/* movabs $at_pid, %rdi */
	tb_imm(b, req->at_pid, 8);
	TB(b, 0x3b, 0x07);			/* cmp (%rdi), %eax */
	tb_jmiss(b, CC_NE);

	/* 3. rt_sigprocmask(SIG_BLOCK, NULL, buf, 8): the mask, kept */
	TB(b, 0xb8, 14, 0, 0, 0,		/* mov $SYS_rt_sigprocmask */
	    0x31, 0xff,				/* xor %edi, %edi */
	    0x0f, 0x05,				/* syscall */
	    0x85, 0xc0);			/* test %eax, %eax */
	tb_jmiss(b, CC_NE);
	TB(b, 0xf6, 0x44, 0x24, SIG_BYTE(TR_MASK), SIG_BIT,	/* testb */
	    0x74, 0);				/* jz owner */
	junblocked = (uint16_t)b->tb_len;
	/*
	 * 3a. Blocked: rt_sigpending(buf2, 8), the thread's and the
	 * process's.  One already pending is the program's: ours would
	 * merge with it and the stop would swallow it.
	 */
	TB(b, 0xb8, 127, 0, 0, 0,		/* mov $SYS_rt_sigpending */
	    0x48, 0x8d, 0x7c, 0x24, TR_SET,	/* lea 72(%rsp), %rdi */
	    0xbe, 8, 0, 0, 0,			/* mov $8, %esi */
	    0x0f, 0x05,				/* syscall */
	    0x85, 0xc0);			/* test %eax, %eax */
	tb_jmiss(b, CC_NE);
	TB(b, 0xf6, 0x44, 0x24, SIG_BYTE(TR_SET), SIG_BIT);	/* testb */
	tb_jmiss(b, CC_NE);
	if (!b->tb_over)
		b->tb_code[junblocked - 1] = (uint8_t)(b->tb_len -
		    junblocked);

	/* 4. a live owner: some tid, not FUTEX_OWNER_DIED; then at once */
	TB(b, 0x48, 0xb8);			/* movabs $at_owner, %rax */
	tb_imm(b, req->at_owner, 8);
	TB(b, 0x8b, 0x00,			/* mov (%rax), %eax */
	    0xa9, 0, 0, 0, 0x40);		/* test $OWNER_DIED, %eax */
	tb_jmiss(b, CC_NE);
	TB(b, 0x25, 0xff, 0xff, 0xff, 0x3f);	/* and $TID_MASK, %eax */
	tb_jmiss(b, CC_E);

	/*
	 * 5. Blocked: unblock the signal alone.  The old mask goes back
	 * after the stop, by this code (whether or not a tracer is left:
	 * untraced, the signal is dropped when sent, at SIG_DFL).
	 */
	TB(b, 0xf6, 0x44, 0x24, SIG_BYTE(TR_MASK), SIG_BIT,	/* testb */
	    0x74, 0);				/* jz send */
	jsend = (uint16_t)b->tb_len;
	TB(b, 0x48, 0xc7, 0x44, 0x24, TR_SET);	/* movq $sigbit, 72(%rsp) */
	tb_imm(b, 1u << (ARCH_TRAMP_SIG - 1), 4);
	TB(b, 0xb8, 14, 0, 0, 0,		/* mov $SYS_rt_sigprocmask */
	    0xbf, 1, 0, 0, 0,			/* mov $SIG_UNBLOCK, %edi */
	    0x48, 0x8d, 0x74, 0x24, TR_SET,	/* lea 72(%rsp), %rsi */
	    0x31, 0xd2,				/* xor %edx, %edx */
	    0x0f, 0x05,				/* syscall */
	    0x85, 0xc0);			/* test %eax, %eax */
	tb_jmiss(b, CC_NE);
	if (!b->tb_over)
		b->tb_code[jsend - 1] = (uint8_t)(b->tb_len - jsend);

	/* 6. tgkill(the page's pid, gettid(), sig), r10 0: no slot */
	TB(b, 0xb8, 186, 0, 0, 0,		/* mov $SYS_gettid, %eax */
	    0x0f, 0x05,				/* syscall */
	    0x89, 0xc6);			/* mov %eax, %esi */
	tb_pid_edi(b, req->at_pid);
	TB(b, 0xba, ARCH_TRAMP_SIG, 0, 0, 0,	/* mov $sig, %edx */
	    0x45, 0x31, 0xd2,			/* xor %r10d, %r10d */
	    0xb8, 234, 0, 0, 0,			/* mov $SYS_tgkill, %eax */
	    0x0f, 0x05);			/* syscall */
	/* the signal-delivery stop comes on the way out of it: here */
	t->atr_trap = (uint16_t)b->tb_len;
	/* 8. the clock again, into the slot the tracer put in r10, if any */
	TB(b, 0x4d, 0x85, 0xd2,			/* test %r10, %r10 */
	    0x74, 15,				/* jz past the call */
	    0xb8, 228, 0, 0, 0,			/* mov $SYS_clock_gettime */
	    0xbf, 1, 0, 0, 0,			/* mov $CLOCK_MONOTONIC */
	    0x4c, 0x89, 0xd6,			/* mov %r10, %rsi */
	    0x0f, 0x05);			/* syscall */
	/* 9. the mask back if 5 changed it: SIG_SETMASK from the copy */
	TB(b, 0xf6, 0x44, 0x24, SIG_BYTE(TR_MASK), SIG_BIT,	/* testb */
	    0x74, 0);				/* jz restore */
	jrestore = (uint16_t)b->tb_len;
	TB(b, 0xb8, 14, 0, 0, 0,		/* mov $SYS_rt_sigprocmask */
	    0xbf, 2, 0, 0, 0,			/* mov $SIG_SETMASK, %edi */
	    0x48, 0x8d, 0x74, 0x24, TR_MASK,	/* lea 64(%rsp), %rsi */
	    0x31, 0xd2,				/* xor %edx, %edx */
	    0x41, 0xba, 8, 0, 0, 0,		/* mov $8, %r10d */
	    0x0f, 0x05);			/* syscall */
	if (!b->tb_over)
		b->tb_code[jrestore - 1] = (uint8_t)(b->tb_len - jrestore);
	TB(b, 0xeb, 0);				/* jmp restore */
	jrestore = (uint16_t)b->tb_len;

	/* miss: */
	for (int i = 0; i < b->tb_nfix; i++) {
		int32_t rel = (int32_t)(b->tb_len - (b->tb_fix[i].f_at + 4));

		if (b->tb_over)
			break;
		memcpy(b->tb_code + b->tb_fix[i].f_at, &rel, 4);
	}
	b->tb_nfix = 0;
	tb_count(b, req->at_missed);
	if (!b->tb_over)
		b->tb_code[jrestore - 1] = (uint8_t)(b->tb_len - jrestore);

	/* restore: */
	if (jquick != 0)
		tb_land(b, jquick);
	TB(b, 0x48, 0x8b, 0x44, 0x24, 0x08,	/* mov 8(%rsp), %rax */
	    0x48, 0x8b, 0x4c, 0x24, 0x10,	/* mov 16(%rsp), %rcx */
	    0x48, 0x8b, 0x54, 0x24, 0x18,	/* mov 24(%rsp), %rdx */
	    0x48, 0x8b, 0x74, 0x24, 0x20,	/* mov 32(%rsp), %rsi */
	    0x48, 0x8b, 0x7c, 0x24, 0x28,	/* mov 40(%rsp), %rdi */
	    0x4c, 0x8b, 0x54, 0x24, 0x30,	/* mov 48(%rsp), %r10 */
	    0x4c, 0x8b, 0x5c, 0x24, 0x38,	/* mov 56(%rsp), %r11 */
	    0x9d);				/* popfq */
	tb_depth(b, TR_DEPTH - 8);
	TB(b, 0x48, 0x8d, 0xa4, 0x24);		/* lea (TR_DEPTH-8)(%rsp) */
	tb_imm(b, TR_DEPTH - 8, 4);
	tb_depth(b, 0);
}

/*
 * An emulated call: the original return address RET pushed (push of
 * the sign-extended low half, then the high half written over), so the
 * callee returns into the original code.  The stack is 8 bytes deeper
 * until the jump.
 */
static void
tb_push_ret(tr_buf_t *b, uintptr_t ret)
{
	TB(b, 0x68);				/* push $lo32 */
	tb_imm(b, (uint32_t)ret, 4);
	tb_depth(b, 8);
	TB(b, 0xc7, 0x44, 0x24, 0x04);		/* movl $hi32, 4(%rsp) */
	tb_imm(b, (uint32_t)(ret >> 32), 4);
}

/*
 * call *X as jmp *X (ff /2 to ff /4) after the push of the return
 * address: an rsp-based X moves by the 8 bytes pushed.
 */
static int
tb_calli(tr_buf_t *b, const ZydisDecodedInstruction *in,
    const ZydisDecodedOperand *ops, const uint8_t *text, uintptr_t addr)
{
	uint8_t out[ARCH_INSN_MAX + 4];
	size_t m = in->raw.modrm.offset;
	int k;

	if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
	    (ops[0].mem.base == ZYDIS_REGISTER_RSP ||
	    ops[0].mem.base == ZYDIS_REGISTER_ESP)) {
		int64_t disp = in->raw.disp.value + 8;
		int d8 = disp >= INT8_MIN && disp <= INT8_MAX;

		/* prefixes and opcode, ModRM (mod 01 or 10), SIB, disp */
		memcpy(out, text, m);
		k = (int)m;
		out[k++] = (uint8_t)((d8 ? 1 : 2) << 6 |
		    4 << 3 | (text[m] & 7));
		out[k++] = text[in->raw.sib.offset];
		if (d8) {
			out[k++] = (uint8_t)disp;
		} else {
			int32_t d32 = (int32_t)disp;

			memcpy(&out[k], &d32, 4);
			k += 4;
		}
	} else if ((k = arch_copy(in, ops, text, addr,
	    b->tb_at + b->tb_len, out)) < 0) {
		return k;
	}
	out[m] = (uint8_t)((out[m] & ~0x38) | 4 << 3);
	tb_put(b, out, (size_t)k);
	return 0;
}

/* A jump (or jcc, CC >= 0) to TO: to a relocated copy if in the window. */
static void
tb_branch(tr_buf_t *b, const arch_window_t *w, uintptr_t patch, int cc,
    uintptr_t to)
{
	uint8_t out[ARCH_JCC_ABS];
	int i = tr_inwin(w, patch, to);

	if (i >= 0) {
		const uint8_t jcc[2] = { 0x0f, 0x80 | (cc & 0xf) };
		const uint8_t jmp[1] = { 0xe9 };

		if (cc >= 0)
			tb_fixed(b, jcc, 2, i);
		else
			tb_fixed(b, jmp, 1, i);
		return;
	}
	if (cc >= 0)
		tb_put(b, out, arch_emit_jcc(out, cc, b->tb_at + b->tb_len,
		    to));
	else
		tb_put(b, out, arch_emit_jmp(out, b->tb_at + b->tb_len, to));
}

/* Window instruction I, relocated: 0, -ERANGE or -EINVAL. */
static int
tb_reloc(tr_buf_t *b, const arch_tramp_req_t *req, int i, tr_kind_t *kind)
{
	const arch_window_t *w = req->at_win;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	const uint8_t *text = req->at_text + w->aw_off[i];
	uintptr_t addr = req->at_patch + w->aw_off[i];
	uint8_t out[ARCH_INSN_MAX];
	int k;

	if (arch_decode(text, req->at_n - w->aw_off[i], &in, ops) != 0 ||
	    tr_classify(&in, ops, kind) != NULL)
		return -EINVAL;
	switch (*kind) {
	case TR_JCC:
		tb_branch(b, w, req->at_patch, in.opcode & 0xf,
		    tr_target(&in, ops, addr));
		return 0;
	case TR_JMP:
		tb_branch(b, w, req->at_patch, -1, tr_target(&in, ops, addr));
		return 0;
	case TR_CALL:
		tb_push_ret(b, addr + in.length);
		tb_branch(b, w, req->at_patch, -1, tr_target(&in, ops, addr));
		return 0;
	case TR_CALLI:
		tb_push_ret(b, addr + in.length);
		return tb_calli(b, &in, ops, text, addr);
	default:
		if ((k = arch_copy(&in, ops, text, addr, b->tb_at + b->tb_len,
		    out)) < 0)
			return k;
		tb_put(b, out, (size_t)k);
		return 0;
	}
}

int
arch_tramp_build(const arch_tramp_req_t *req, uint8_t *code, arch_tramp_t *t)
{
	const arch_window_t *w = req->at_win;
	tr_buf_t b = { .tb_code = code, .tb_at = req->at_tramp, .tb_t = t };
	tr_kind_t kind = TR_PLAIN;
	int err;

	memset(t, 0, sizeof (*t));
	if (w->aw_refuse != NULL || w->aw_ninsn == 0 || req->at_n < w->aw_len)
		return err_set(EINVAL, "site %#lx: no window to relocate",
		    (unsigned long)req->at_site);
	if (req->at_trap)
		tb_trap(&b, req, t);
	else
		tb_count_only(&b, req);

	t->atr_reloc = (uint16_t)b.tb_len;
	for (int i = 0; i < w->aw_ninsn; i++) {
		t->atr_roff[i] = (uint16_t)b.tb_len;
		if ((err = tb_reloc(&b, req, i, &kind)) < 0)
			return err_set(-err, "site %#lx: the instruction at "
			    "%#lx %s", (unsigned long)req->at_site,
			    (unsigned long)(req->at_patch + w->aw_off[i]),
			    err == -ERANGE ? "cannot reach its operand from "
			    "the trampoline" : "cannot be relocated");
		tb_depth(&b, 0);
	}
	t->atr_roff[w->aw_ninsn] = (uint16_t)b.tb_len;
	/* after ret, jmp or an emulated call nothing comes back here */
	if (!w->aw_last && kind != TR_CALL && kind != TR_CALLI) {
		uint8_t out[ARCH_JMP_ABS];

		tb_put(&b, out, arch_emit_jmp(out, b.tb_at + b.tb_len,
		    req->at_patch + w->aw_len));
	}
	for (int i = 0; i < b.tb_nfix && !b.tb_over; i++) {
		int to = t->atr_roff[b.tb_fix[i].f_to];
		int32_t rel = to - (b.tb_fix[i].f_at + 4);

		memcpy(code + b.tb_fix[i].f_at, &rel, 4);
	}
	if (b.tb_over)
		return err_set(E2BIG, "site %#lx: trampoline longer than %d "
		    "bytes", (unsigned long)req->at_site, ARCH_TRAMP_MAX);
	t->atr_len = (uint16_t)b.tb_len;
	return 0;
}

void
arch_patch(uintptr_t patch, uintptr_t tramp, size_t len, uint8_t *out)
{
	int32_t rel = (int32_t)(int64_t)(tramp - (patch + ARCH_JMP_LEN));

	out[0] = 0xe9;
	memcpy(&out[1], &rel, 4);
	if (len > ARCH_JMP_LEN)
		memset(&out[ARCH_JMP_LEN], ARCH_TRAP_BYTE, len - ARCH_JMP_LEN);
}

int
arch_patch_short(uintptr_t patch, uintptr_t pad, size_t len, uint8_t *out)
{
	int64_t rel = (int64_t)(pad - (patch + ARCH_SHORT_LEN));

	if (len < ARCH_SHORT_LEN || rel < INT8_MIN || rel > INT8_MAX)
		return -ERANGE;
	out[0] = 0xeb;
	out[1] = (uint8_t)(int8_t)rel;
	memset(&out[ARCH_SHORT_LEN], ARCH_TRAP_BYTE, len - ARCH_SHORT_LEN);
	return 0;
}

void
arch_tramp_view(const arch_regs_t *r, const uint64_t *frame, uintptr_t site,
    arch_regs_t *view)
{
	*view = *r;
	view->rip = site;
	view->rsp = r->rsp + TR_DEPTH;
	view->eflags = frame[0];
	view->rax = frame[1];
	view->rcx = frame[2];
	view->rdx = frame[3];
	view->rsi = frame[4];
	view->rdi = frame[5];
	view->r10 = frame[6];
	view->r11 = frame[7];
}

void
arch_tramp_slot(arch_regs_t *r, uintptr_t slot)
{
	r->r10 = slot;
}

void
arch_tramp_where(const arch_tramp_t *t, uintptr_t site, uintptr_t patch,
    const arch_window_t *w, size_t off, uintptr_t *pc, size_t *depth)
{
	int i;

	*depth = 0;
	for (i = 0; i < t->atr_nspan; i++) {
		if (off >= t->atr_span[i].s_from && off < t->atr_span[i].s_to) {
			*depth = t->atr_span[i].s_depth;
			break;
		}
	}
	if (off < t->atr_reloc) {
		*pc = site;
		return;
	}
	for (i = 0; i < w->aw_ninsn && off >= t->atr_roff[i + 1]; i++)
		;
	*pc = i < w->aw_ninsn ? patch + w->aw_off[i] : patch + w->aw_len;
}
