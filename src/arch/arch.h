/*
 * arch.h - the architecture seam: everything dtproc knows about x86-64.
 *
 * No file outside src/arch names a machine register, a register set or
 * an instruction encoding: the ptrace core, the probes, the agent and the
 * unwinder see a thread's registers as an arch_regs_t and reach its pc,
 * stack pointer, frame pointer, arguments and return value through the
 * accessors below; the trap instruction, how a trap is told from a
 * single step, how a system call is made to run in the tracee, the
 * DWARF register numbering and the planning and emulation of the
 * instruction under a breakpoint are all here.  A port (arm64: see
 * docs/DESIGN.md) supplies this header's contract for its machine.
 *
 * regs.c: register sets, accessors, traps, system call injection, DWARF
 * numbering; insn.c: the instruction planner (Zydis) and the decoding
 * helpers the other files share (insn.h, private to src/arch); carry.c:
 * emulated plans applied to a thread's registers; tramp.c: trampolines
 * (windows, the code, the patch, pcs inside one mapped back); scan.c:
 * whole-function analysis (branch targets, indirect jumps, padding);
 * sdt.c: the operands of sys/sdt.h probes' arguments; abi.c: where the
 * calling convention passes a typed parameter; park.c: the page a
 * process waits in between two tracer threads.
 */
#ifndef DTPROC_ARCH_H
#define DTPROC_ARCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* A thread's general registers, the kernel's NT_PRSTATUS register set. */
typedef struct user_regs_struct arch_regs_t;

/* Read or write a ptrace-stopped thread's registers: 0 or -errno. */
int arch_regs_read(pid_t tid, arch_regs_t *r);
int arch_regs_write(pid_t tid, const arch_regs_t *r);
/* Write the pc alone (the rest of the kernel's copy untouched). */
int arch_pc_write(pid_t tid, uintptr_t pc);

uintptr_t arch_pc(const arch_regs_t *r);
void arch_set_pc(arch_regs_t *r, uintptr_t pc);
uintptr_t arch_sp(const arch_regs_t *r);
void arch_set_sp(arch_regs_t *r, uintptr_t sp);
uintptr_t arch_fp(const arch_regs_t *r);	/* frame pointer */
void arch_set_fp(arch_regs_t *r, uintptr_t fp);
/* Integer argument N (0-5) at a function's entry, System V ABI. */
uint64_t arch_arg(const arch_regs_t *r, int n);
uint64_t arch_retval(const arch_regs_t *r);
void arch_set_retval(arch_regs_t *r, uint64_t v);
/*
 * Function probes (src/ctl/fprobes.c).  At a function's entry the
 * return address and the arguments past the registers are on the stack:
 * ARCH_ENTRY_WORDS words read from the stack pointer give them, and
 * arch_entry() fills *RA and ARGS[0..NARGS) from R and those WORDS.
 * Once the function has returned, the stack pointer at the return
 * address is arch_ret_sp() of the one at entry (ret popped the return
 * address).  The stack never gets written: a return is recognised by
 * its return address and that stack pointer.
 */
#define ARCH_ENTRY_WORDS 3	/* return address, arg6, arg7 */
void arch_entry(const arch_regs_t *r, const uint64_t *words, uintptr_t *ra,
    uint64_t *args, int nargs);
uintptr_t arch_ret_sp(uintptr_t entry_sp);
/*
 * A register by its name as a user writes it: "rdi", "eax" (its low
 * half), "rip", and the generic "pc", "sp", "fp".  0, or -ENOENT.
 */
int arch_reg_named(const arch_regs_t *r, const char *name, uint64_t *val);
/*
 * Is register NAME known at a return recorded without a stop (the pc,
 * the stack pointer, the return value's register)?  0, -ENODATA, or
 * -ENOENT for a name the architecture does not have.
 */
int arch_reg_at_return(const char *name);
/*
 * Is OFF an instruction boundary of the function whose text [0, N) is
 * TEXT (decoded from its start)?  0 yes; -EINVAL no (an instruction
 * covers it); -ERANGE: OFF is at or past N; -EILSEQ: the text before it
 * does not decode.
 */
int arch_insn_boundary(const uint8_t *text, size_t n, size_t off);

/*
 * Breakpoints: a one-byte trap instruction.  A thread stopped by it
 * reports the pc past it; arch_trap_site() is the trap's own address.
 */
#define ARCH_TRAP_BYTE	0xcc
uintptr_t arch_trap_site(const arch_regs_t *r);
/* Is this SIGTRAP the trap instruction's, or a single step's? */
int arch_si_is_trap(const siginfo_t *si);
int arch_si_is_step(const siginfo_t *si);
/*
 * The flag a single step runs with (the trap flag).  The kernel clears
 * it when we stop stepping only while it believes the flag its own: a
 * stepped popf or iret, or any step after one, makes it the program's,
 * and it would stay set after detach.  A stepped flags push stores it in
 * the image: arch_flags_push() is the size of the image the instruction
 * at TEXT pushes (0: not a flags push), ARCH_STEP_FLAG_BYTE and _BIT
 * where the flag lies in it.
 */
int arch_step_flag(const arch_regs_t *r);
void arch_step_flag_clear(arch_regs_t *r);
size_t arch_flags_push(const uint8_t *text, size_t n);
#define ARCH_FLAGS_PUSH_MAX	4	/* bytes that tell a flags push */
#define ARCH_STEP_FLAG_BYTE	1	/* TF is bit 8 of a little-endian image */
#define ARCH_STEP_FLAG_BIT	0x01

/*
 * Injected system calls: ARCH_SYSCALL_LEN bytes (the call, then a trap)
 * written at AT; arch_syscall_setup() points R at them with call NR and
 * ARGS, and makes sure an interrupted call of the thread's is not
 * restarted at our code; the thread has returned once it traps with its
 * pc at arch_syscall_done(AT).
 */
#define ARCH_SYSCALL_LEN 3
extern const uint8_t arch_syscall_code[ARCH_SYSCALL_LEN];
void arch_syscall_setup(arch_regs_t *r, uintptr_t at, long nr,
    const long args[6]);
uintptr_t arch_syscall_done(uintptr_t at);
/* Was the thread stopped inside a system call (to be restarted)? */
int arch_in_syscall(const arch_regs_t *r);
long arch_syscall_ret(const arch_regs_t *r);

/*
 * The same, coming back by itself should nobody collect it (resume.c):
 * ARCH_RESUME_LEN bytes of code, kept in an executable page of ours, and
 * a block of ARCH_RESUME_WORDS words that arch_resume_block() fills from
 * R (a call R was stopped in set to restart) and the signal mask MASK
 * (put back after the call), and whose address, below R's red zone, it
 * returns.  arch_resume_setup() points R at the code (at STUB) and its
 * stack at the block (BLK), for call NR with ARGS.  Collected at its
 * exit stop, the thread has run nothing past the call.
 */
#define ARCH_RESUME_LEN		57
#define ARCH_RESUME_WORDS	18
extern const uint8_t arch_resume_code[ARCH_RESUME_LEN];
uintptr_t arch_resume_block(const arch_regs_t *r, uint64_t mask,
    uint64_t blk[ARCH_RESUME_WORDS]);
void arch_resume_setup(arch_regs_t *r, uintptr_t stub, uintptr_t blk,
    long nr, const long args[6]);

/*
 * The system call instruction alone (ARCH_SYSCALL_INSN_LEN bytes): any
 * copy of it in executable memory can run a call for us, its exit stop
 * collected before anything past it runs.
 */
#define ARCH_SYSCALL_INSN	"\x0f\x05"
#define ARCH_SYSCALL_INSN_LEN	2
/* R not inside a system call: nothing is restarted when it runs on. */
void arch_no_restart(arch_regs_t *r);

/*
 * A process waiting between two tracer threads (park.c, ptrace/
 * follow.c): a page of its own, ARCH_PARK_SIZE bytes mapped read and
 * execute, filled by arch_park_build() with code and the thread's
 * registers R and signal mask MASK.  Entered at the page's start
 * (arch_park_enter sets R's pc) with every signal blocked, it sleeps at
 * most SECS seconds in a futex wait on a word of the page, then puts the
 * mask and every register back and jumps to R's pc.  Its only effects
 * are on its registers, its mask and one word below the red zone, so a
 * tracer that finds it anywhere in the page may put R (arch_no_restart)
 * and MASK back itself instead.
 */
#define ARCH_PARK_SIZE	4096
void arch_park_build(uint8_t *page, const arch_regs_t *r, uint64_t mask,
    long secs);
void arch_park_enter(arch_regs_t *r, uintptr_t page);

/* Bytes below the stack pointer that a leaf function may use. */
#define ARCH_REDZONE	128

/* The kernel's struct sigaction, as rt_sigaction(2) reads and writes it. */
typedef struct arch_ksigaction {
	uint64_t ks_handler;	/* SIG_DFL (0), SIG_IGN (1) or a function */
	uint64_t ks_flags;
	uint64_t ks_restorer;
	uint64_t ks_mask;
} arch_ksigaction_t;

/* The DWARF register file (numbers 0..ARCH_DWARF_NREGS-1) and the pc. */
#define ARCH_DWARF_NREGS 17
#define ARCH_DWARF_FP	6	/* the frame pointer's DWARF number */
#define ARCH_DWARF_SP	7	/* the stack pointer's */
/*
 * A frame-pointer frame: the caller's frame pointer at [fp], the return
 * address at [fp + ARCH_FP_RET], the caller's stack pointer fp +
 * ARCH_FP_CFA.
 */
#define ARCH_FP_RET	8
#define ARCH_FP_CFA	16
void arch_dwarf_regs(const arch_regs_t *r, uint64_t out[ARCH_DWARF_NREGS]);

/*
 * How a hit is carried past its site in one stop (the plan of a site).
 * The planner decodes the original instruction: emulated kinds change
 * the registers (and push one word), XOL runs a relocated copy.
 */
#define ARCH_INSN_MAX	16	/* longest instruction */
#define ARCH_XOL_SLOT	32	/* room for a relocated copy and its jump */

typedef enum arch_carry_kind {
	ARCH_CARRY_NONE,	/* not planned yet: step */
	ARCH_CARRY_STEP,	/* planned: nothing better than a step */
	ARCH_CARRY_SKIP,	/* endbr64, nops: pc += len */
	ARCH_CARRY_PUSH,	/* push of register ac_reg */
	ARCH_CARRY_JMP,		/* direct jump to ac_target */
	ARCH_CARRY_CALL,	/* direct call of ac_target */
	ARCH_CARRY_XOL		/* run the copy at ac_target */
} arch_carry_kind_t;

typedef struct arch_carry {
	arch_carry_kind_t ac_kind;
	uint8_t ac_len;		/* length of the original instruction */
	int ac_reg;		/* PUSH: offset of the register in arch_regs_t */
	uintptr_t ac_target;	/* JMP, CALL: destination; XOL: the copy */
} arch_carry_t;

/* Plan for TEXT (N bytes) at ADDR: 0 (*NEEDS_XOL: a copy is wanted). */
int arch_plan(const uint8_t *text, size_t n, uintptr_t addr,
    arch_carry_t *c, int *needs_xol);
/*
 * The copy of the instruction in TEXT (at ADDR) to run at SLOT, with its
 * jump back: at most ARCH_XOL_SLOT bytes in OUT, *LEN set; -ERANGE when
 * an operand cannot reach from the slot.
 */
int arch_relocate(const uint8_t *text, size_t n, uintptr_t addr,
    uintptr_t slot, uint8_t *out, size_t *len);

/*
 * Apply plan C of the site at ADDR to R.  *PUSH_AT is set to the stack
 * address where *PUSH_WORD must be written first (0: none); the caller
 * writes it and keeps R only if that worked.  -1: the plan cannot be
 * emulated for this thread (SHSTK: it runs with a shadow stack, which an
 * emulated call would not update): step instead.
 */
int arch_carry(const arch_carry_t *c, uintptr_t addr, arch_regs_t *r,
    int shstk, uintptr_t *push_at, uint64_t *push_word);
/*
 * Does a thread run with a user shadow stack (CET)?  From the value of
 * ARCH_SHSTK_FIELD in its /proc status (a kernel without the line has
 * none).
 */
#define ARCH_SHSTK_FIELD "x86_Thread_features"
int arch_shstk(const char *features);

/*
 * Trampolines (tramp.c, scan.c).  A probe site is patched with a jump
 * (ARCH_JMP_LEN bytes) to a trampoline that counts the hit, may trap to
 * the tracer, runs the instructions the jump covers, relocated, and
 * jumps back.  The covered instructions are the site's window.
 */
#define ARCH_JMP_LEN	5	/* jmp rel32 */
#define ARCH_WIN_MAX	8	/* instructions in a window, at most */
#define ARCH_TRAMP_MAX	768	/* longest trampoline */
#define ARCH_TRAMP_FRAME 8	/* words saved below the red zone at a trap */
/*
 * The signal a trap gate stops its thread with, sent to itself with
 * tgkill once the gate's checks pass: its default action is to ignore
 * it, so a stop left uncollected when the tracer dies (the kernel then
 * delivers the stop's signal) or a signal sent once no tracer is left
 * (dropped at once) does the program no harm.  The gate skips the stop
 * when the program handles it; a thread that blocks it has it unblocked
 * for the stop and its mask put back by the gate (tramp.c).
 */
#define ARCH_TRAMP_SIG	SIGURG

typedef struct arch_window {
	uint8_t aw_skip;	/* bytes kept in place before the patch
				   (endbr64 at a function's entry) */
	uint8_t aw_len;		/* bytes covered from the patch, >= 5 */
	uint8_t aw_ninsn;	/* instructions covered */
	uint8_t aw_off[ARCH_WIN_MAX];	/* each one's offset from the patch */
	uint8_t aw_last;	/* 1: the window ends in ret/jmp: no way back */
	const char *aw_refuse;	/* NULL, or why it cannot be relocated */
	uint8_t aw_call;	/* 1: it ends in a call, emulated (push and
				   jmp): not for a thread with a shadow
				   stack, whose ret would not match */
} arch_window_t;

/*
 * Decode the window at ADDR from TEXT (N bytes, the original text; N is
 * at least the window plus ARCH_INSN_MAX where available).  ENTRY: ADDR
 * is a function's first instruction (an endbr64 there is kept: indirect
 * calls land on it).  0 with *W filled (aw_refuse set when the window
 * cannot be relocated: a call not last, loop/jrcxz, int3, a bad
 * instruction...), -EINVAL when N is too short to decode.  Decoding
 * stops after an unconditional transfer (ret, jmp): aw_last is set and
 * aw_len may then be under ARCH_JMP_LEN; the caller may cover the rest
 * only if it is padding nothing branches to (arch_padding), setting
 * aw_len to ARCH_JMP_LEN itself.
 */
int arch_window(const uint8_t *text, size_t n, uintptr_t addr, int entry,
    arch_window_t *w);
/*
 * The short form, for a site whose usual window is refused (a branch
 * targets its inside, or it runs past the function's end): the window
 * is the longest run of whole instructions within LIMIT bytes of the
 * patch, at least ARCH_SHORT_LEN (else aw_refuse says so), and under
 * ARCH_JMP_LEN when LIMIT is.  It is patched with a jmp rel8 to a pad,
 * ARCH_JMP_LEN bytes of padding that the rel8 reaches (ARCH_SHORT_MIN
 * to ARCH_SHORT_MAX from the jump's end), which holds the jmp rel32 to the trampoline (arch_patch at the pad).  The
 * trampoline is built for the window as usual: it jumps back to the
 * patch plus aw_len.
 */
#define ARCH_SHORT_LEN	2	/* jmp rel8 */
#define ARCH_SHORT_MIN	(-128)	/* pad - (patch + ARCH_SHORT_LEN) */
#define ARCH_SHORT_MAX	127
int arch_window_short(const uint8_t *text, size_t n, uintptr_t addr,
    int entry, size_t limit, arch_window_t *w);

typedef struct arch_tramp_req {
	uintptr_t at_site;	/* the probe's address: pc shown at a trap */
	uintptr_t at_patch;	/* where the jump is written (site+aw_skip) */
	const uint8_t *at_text;	/* original text at at_patch */
	size_t at_n;		/* >= aw_len */
	const arch_window_t *at_win;
	uintptr_t at_tramp;	/* where the trampoline will run */
	int at_entry;		/* a function's entry: flags and the stack
				   below sp are free */
	int at_trap;		/* gate and trap instruction */
	uintptr_t at_hits;	/* 8-byte counter: every hit */
	uintptr_t at_missed;	/* 8-byte counter: traps skipped (trap) */
	uintptr_t at_owner;	/* 4-byte robust mutex word (trap) */
	uintptr_t at_pid;	/* 4-byte pid the page belongs to (trap) */
	uintptr_t at_quick;	/* the returns table (arch_quick_t[]), for a
				   trap at a return site; 0: none */
} arch_tramp_req_t;

/* Where things are in a built trampoline (offsets from its start). */
typedef struct arch_tramp {
	uint16_t atr_len;	/* code length */
	uint16_t atr_trap;	/* where a gate's thread stops: just past
				   the system call that sends it
				   ARCH_TRAMP_SIG (0: no gate) */
	uint16_t atr_reloc;	/* first relocated instruction */
	uint16_t atr_roff[ARCH_WIN_MAX + 1];	/* each relocated one, then
						   the jump back */
	/* stack depth below the site's sp at each offset (unwinding) */
	uint16_t atr_nspan;
	struct { uint16_t s_from, s_to, s_depth; } atr_span[8];
} arch_tramp_t;

/*
 * Build the trampoline for REQ into CODE (ARCH_TRAMP_MAX bytes): 0 with
 * *T filled, -ERANGE when an operand cannot reach from at_tramp.
 */
int arch_tramp_build(const arch_tramp_req_t *req, uint8_t *code,
    arch_tramp_t *t);
/* The patch: jump from PATCH to TRAMP, int3 over the rest of LEN bytes. */
void arch_patch(uintptr_t patch, uintptr_t tramp, size_t len, uint8_t *out);
/*
 * The short patch: jmp rel8 from PATCH to PAD, int3 over the rest of
 * LEN bytes.  0, or -ERANGE when PAD is out of the jump's reach.
 */
int arch_patch_short(uintptr_t patch, uintptr_t pad, size_t len,
    uint8_t *out);
/*
 * A thread stopped at T's trap (in the signal-delivery stop of
 * ARCH_TRAMP_SIG, its pc at atr_trap): the registers it had at SITE, from R
 * and the ARCH_TRAMP_FRAME words at its stack pointer (FRAME: flags,
 * rax, rcx, rdx, rsi, rdi, r10, r11; every other register is the
 * site's).  The site's stack pointer is ARCH_TRAMP_TRAPSP above R's:
 * the frame, a 48-byte buffer for the gate's system calls, the red zone.
 */
#define ARCH_TRAMP_TRAPSP (8 * ARCH_TRAMP_FRAME + 48 + ARCH_REDZONE)
void arch_tramp_view(const arch_regs_t *r, const uint64_t *frame,
    uintptr_t site, arch_regs_t *view);
/*
 * The victim's own clock around a gate's stop, so that the stop's whole
 * cost (the kernel's wake-ups included, which the tracer cannot see) is
 * known: a struct timespec of CLOCK_MONOTONIC, read by the gate with the
 * system call as it enters (after its first check), lies
 * ARCH_TRAMP_CLOCK bytes above the stopped thread's stack pointer (all
 * zero: unknown, the call failed).  Resumed with arch_tramp_slot(R, SLOT) in its registers, the
 * thread writes the clock again, as it leaves the stop, to the 16 bytes
 * at SLOT (0: nowhere; a bad SLOT is only a failed system call).  The
 * register is one the gate restores from its frame: the site never sees
 * it.
 */
#define ARCH_TRAMP_CLOCK (8 * ARCH_TRAMP_FRAME + 32)
void arch_tramp_slot(arch_regs_t *r, uintptr_t slot);
/*
 * Returns recorded without a stop.  A trap trampoline built with a
 * returns table (at_quick) looks, before its gate, for the bucket of the
 * site's stack pointer (arch_quick_hash): if the tracer left it pending
 * for this site, that stack pointer and the calling thread, the thread
 * writes the return value and its clock (CLOCK_MONOTONIC, system call)
 * there, marks it returned and goes on without stopping; anything else
 * takes the gate as before.  Only the thread named writes a pending
 * bucket, and only the tracer a returned or free one: the thread writes
 * aq_state last, so the tracer that reads ARCH_QUICK_RETURNED (acquire)
 * reads the rest whole.
 */
#define ARCH_QUICK_BITS		12
#define ARCH_QUICK_N		(1u << ARCH_QUICK_BITS)
#define ARCH_QUICK_FREE		0
#define ARCH_QUICK_PENDING	1
#define ARCH_QUICK_RETURNED	2

typedef struct arch_quick {
	uint64_t aq_sp;		/* the stack pointer the return leaves */
	uint64_t aq_ra;		/* the return site */
	uint32_t aq_tid;	/* the thread whose return it is */
	uint32_t aq_state;	/* ARCH_QUICK_* */
	uint64_t aq_retval;	/* written by the thread: the return value */
	uint64_t aq_sec;	/* and its clock, 0 0: unknown */
	uint64_t aq_nsec;
	uint64_t aq_pad[2];
} arch_quick_t;

/* The bucket of a return leaving stack pointer SP. */
uint32_t arch_quick_hash(uintptr_t sp);

/*
 * A pc at offset OFF of trampoline T (built for REQ's site/patch): the
 * pc to show instead (the site, or the original instruction a relocated
 * one stands for) and the stack depth below what the site had.
 */
void arch_tramp_where(const arch_tramp_t *t, uintptr_t site,
    uintptr_t patch, const arch_window_t *w, size_t off, uintptr_t *pc,
    size_t *depth);

/*
 * Whole-object analysis (scan.c).  Decode one function's text [ADDR,
 * ADDR+N): each direct branch's or call's target is passed to TARGET;
 * *INDIRECT is set when it has an indirect jump (jmp through a register
 * or memory other than a rip-relative slot: a tail call through the GOT).
 */
int arch_scan(const uint8_t *text, size_t n, uintptr_t addr,
    void (*target)(void *arg, uintptr_t to), void *arg, int *indirect);
/*
 * The same, and the fixed addresses the function's instructions name
 * (for bounding its jump tables): ASC_REF, when not NULL, is given each
 * rip-relative memory operand's address (ARCH_REF_LEA for a lea: an
 * address taken, perhaps a label's; ARCH_REF_RIP otherwise) and each
 * displacement of a memory operand with no base register (ARCH_REF_ABS:
 * a non-PIC table, `jmp *TABLE(,%rax,8)`; fs/gs ones left out), in
 * instruction order, repeats included.  arch_scan is this with no REF.
 */
#define ARCH_REF_RIP	1
#define ARCH_REF_LEA	2
#define ARCH_REF_ABS	3
typedef struct arch_scan_cb {
	/* a direct branch's or call's target */
	void (*asc_target)(void *arg, uintptr_t to);
	/* a fixed address named (ARCH_REF_*), or NULL */
	void (*asc_ref)(void *arg, uintptr_t at, int kind);
	void *asc_arg;		/* both callbacks' ARG */
} arch_scan_cb_t;
int arch_scan_refs(const uint8_t *text, size_t n, uintptr_t addr,
    const arch_scan_cb_t *cb, int *indirect);
/*
 * Are TEXT's N bytes padding (nops, int3, zeros) nothing executes?  A
 * nop cut short by the end of the range counts.
 */
int arch_padding(const uint8_t *text, size_t n);

/*
 * sys/sdt.h probes' arguments (sdt.c).  One argument of a note's spec,
 * "SIZE@OPERAND" (the operand in the machine's assembler syntax), into
 * *A: 0, or -EINVAL with *WHY (static text) saying what is wrong.  A
 * MEM operand may name a symbol (asa_symoff, asa_symlen: its place in
 * TEXT), which the caller resolves: the address read is the symbol's
 * address, plus asa_disp, plus the base and the scaled index registers
 * where given.
 */
#define ARCH_SDT_CONST	1	/* asa_disp is the value */
#define ARCH_SDT_REG	2	/* a register (or part of one) */
#define ARCH_SDT_MEM	3	/* memory at an address */

typedef struct arch_sdt_arg {
	int8_t asa_kind;	/* ARCH_SDT_* */
	int8_t asa_size;	/* bytes of the value: 1, 2, 4, 8 */
	int8_t asa_signed;	/* sign-extended from asa_size */
	int8_t asa_scale;	/* MEM: the index's scale (1, 2, 4, 8) */
	int16_t asa_reg;	/* REG; MEM's base: a register, or -1 */
	int16_t asa_index;	/* MEM: the index register, or -1 */
	uint16_t asa_symoff;	/* MEM: the symbol's place in the text, */
	uint16_t asa_symlen;	/* 0 long: none */
	int64_t asa_disp;	/* CONST: the value; MEM: displacement */
} arch_sdt_arg_t;

int arch_sdt_parse(const char *text, size_t len, arch_sdt_arg_t *a,
    const char **why);
/* A register of a parsed operand by its index: "edi", "r8", "ah". */
const char *arch_sdt_regname(int reg);
/*
 * A's value in a thread whose registers at the probe are R (SYMADDR:
 * the resolved symbol's address, 0 without one), memory read by RD
 * (0 or -1): 0 and *VAL, sized and sign-extended; -EFAULT when the
 * memory cannot be read.
 */
typedef int arch_sdt_read_f(void *arg, uintptr_t addr, void *buf,
    size_t len);
int arch_sdt_value(const arch_sdt_arg_t *a, const arch_regs_t *r,
    uint64_t symaddr, arch_sdt_read_f *rd, void *rarg, uint64_t *val);

/*
 * Typed arguments (abi.c): where the calling convention passes each
 * parameter of a function, from its type described as scalar pieces by
 * the DWARF walk (src/sym/dwtype.c).  arch_args_next() takes the
 * registers or stack words of the next parameter and returns its argN
 * (the index arch_entry's ARGS use), or -1 for one that has none (an
 * aggregate, a floating value, one in memory).
 */
#define ARCH_PIECE_INT		1	/* integer, pointer, enum, bit-field */
#define ARCH_PIECE_FLOAT	2	/* float, double, _Float128 */
#define ARCH_PIECE_X87		3	/* long double */
#define ARCH_ARG_PIECES		64

typedef struct arch_argpiece {
	uint32_t ap_off;	/* byte offset in the value */
	uint32_t ap_size;	/* bytes */
	int ap_class;		/* ARCH_PIECE_* */
} arch_argpiece_t;

typedef struct arch_argtype {
	int at_size;		/* bytes */
	int at_align;		/* bytes */
	bool at_aggregate;	/* a struct, class, union or array */
	bool at_byref;		/* C++: passed by invisible reference */
	bool at_intkind;	/* a scalar of integer class */
	bool at_unknown;	/* a layout not read whole: in memory */
	int at_npiece;
	arch_argpiece_t at_piece[ARCH_ARG_PIECES];
} arch_argtype_t;

typedef struct arch_args {
	int aa_int;		/* integer registers taken */
	int aa_sse;		/* vector registers taken */
	int aa_stack;		/* stack words taken */
} arch_args_t;

/* Start a function's parameters; RET its result's type (NULL: void). */
void arch_args_begin(arch_args_t *st, const arch_argtype_t *ret);
int arch_args_next(arch_args_t *st, const arch_argtype_t *t);

#endif /* DTPROC_ARCH_H */
