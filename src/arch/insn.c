/*
 * insn.c - choosing how a hit is carried past its site: the x86-64
 * instruction planner (Zydis), for src/probe's prb_plan().
 *
 * Function entries start with few kinds of instruction: endbr64, push
 * %rbp or another register, sub/mov/lea/xor/test, a direct jmp (tail
 * call) or call.  The first group costs nothing to emulate, so the ptrace
 * core does it at hit time from a plan made here once per site.  Anything
 * else is copied into a slot of a scratch area near the site, its
 * rip-relative operand rewritten to address the same byte from there,
 * and followed by a jump back: the thread runs it there, no second stop.
 *
 * Refused (planned as a single step): instructions that cannot be
 * decoded, indirect calls (the return address would point into the slot,
 * which goes away when we let go), system calls and interrupts (a thread
 * blocked in one must not sit in a slot), repeated string operations
 * (one step per round: a signal could not wait for the copy to end),
 * and branches with only a short
 * form (loop, jrcxz), or whose target a slot cannot reach.
 */
#include "arch.h"
#include "insn.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#define ARCH_REG(r)	offsetof(arch_regs_t, r)

/* Offset in arch_regs_t of a 64-bit general register, or -1. */
static int
arch_reg_offset(ZydisRegister r)
{
	switch (r) {
	case ZYDIS_REGISTER_RAX: return ARCH_REG(rax);
	case ZYDIS_REGISTER_RBX: return ARCH_REG(rbx);
	case ZYDIS_REGISTER_RCX: return ARCH_REG(rcx);
	case ZYDIS_REGISTER_RDX: return ARCH_REG(rdx);
	case ZYDIS_REGISTER_RSI: return ARCH_REG(rsi);
	case ZYDIS_REGISTER_RDI: return ARCH_REG(rdi);
	case ZYDIS_REGISTER_RBP: return ARCH_REG(rbp);
	case ZYDIS_REGISTER_RSP: return ARCH_REG(rsp);
	case ZYDIS_REGISTER_R8: return ARCH_REG(r8);
	case ZYDIS_REGISTER_R9: return ARCH_REG(r9);
	case ZYDIS_REGISTER_R10: return ARCH_REG(r10);
	case ZYDIS_REGISTER_R11: return ARCH_REG(r11);
	case ZYDIS_REGISTER_R12: return ARCH_REG(r12);
	case ZYDIS_REGISTER_R13: return ARCH_REG(r13);
	case ZYDIS_REGISTER_R14: return ARCH_REG(r14);
	case ZYDIS_REGISTER_R15: return ARCH_REG(r15);
	default: return -1;
	}
}

int
arch_decode(const uint8_t *text, size_t n, ZydisDecodedInstruction *in,
    ZydisDecodedOperand *ops)
{
	ZydisDecoder dec;

	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
	    ZYDIS_STACK_WIDTH_64)) ||
	    ZYAN_FAILED(ZydisDecoderDecodeFull(&dec, text, n, in, ops)))
		return -EINVAL;
	return 0;
}

int
arch_riprel(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	for (int i = 0; i < in->operand_count; i++) {
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.base == ZYDIS_REGISTER_RIP)
			return 1;
	}
	return 0;
}

int
arch_plan(const uint8_t *text, size_t n, uintptr_t addr, arch_carry_t *c,
    int *needs_xol)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	ZyanU64 target;

	memset(c, 0, sizeof (*c));
	*needs_xol = 0;
	c->ac_kind = ARCH_CARRY_STEP;
	if (arch_decode(text, n, &in, ops) != 0)
		return -EINVAL;
	c->ac_len = in.length;

	switch (in.meta.category) {
	case ZYDIS_CATEGORY_NOP:
	case ZYDIS_CATEGORY_WIDENOP:		/* nopw/nopl, 0f 1f /0 */
		c->ac_kind = ARCH_CARRY_SKIP;	/* endbr64 is one of them */
		return 0;
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSTEM:
		return 0;
	default:
		break;
	}
	if (in.mnemonic == ZYDIS_MNEMONIC_ENDBR64) {
		c->ac_kind = ARCH_CARRY_SKIP;
		return 0;
	}
	if (in.mnemonic == ZYDIS_MNEMONIC_PUSH &&
	    ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    (c->ac_reg = arch_reg_offset(ops[0].reg.value)) >= 0) {
		c->ac_kind = ARCH_CARRY_PUSH;
		return 0;
	}
	if ((in.mnemonic == ZYDIS_MNEMONIC_JMP ||
	    in.mnemonic == ZYDIS_MNEMONIC_CALL) &&
	    ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
	    ops[0].imm.is_relative) {
		if (ZYAN_FAILED(ZydisCalcAbsoluteAddress(&in, &ops[0], addr,
		    &target)))
			return -EINVAL;
		c->ac_kind = in.mnemonic == ZYDIS_MNEMONIC_JMP ?
		    ARCH_CARRY_JMP : ARCH_CARRY_CALL;
		c->ac_target = (uintptr_t)target;
		return 0;
	}
	if (in.meta.category == ZYDIS_CATEGORY_CALL)
		return 0;			/* indirect call */
	/* a repeated string op takes a step per round: not in a slot */
	if (in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
	    ZYDIS_ATTRIB_HAS_REPNE) && in.meta.category == ZYDIS_CATEGORY_STRINGOP)
		return 0;
	if (in.meta.category == ZYDIS_CATEGORY_COND_BR && !arch_jcc(&in))
		return 0;			/* loop, jrcxz: short only */
	if ((in.attributes & ZYDIS_ATTRIB_IS_RELATIVE) &&
	    in.meta.category != ZYDIS_CATEGORY_COND_BR &&
	    !arch_riprel(&in, ops))
		return 0;			/* relative in some other way */
	c->ac_kind = ARCH_CARRY_XOL;
	*needs_xol = 1;
	return 0;
}

int
arch_jcc(const ZydisDecodedInstruction *in)
{
	if (in->meta.category != ZYDIS_CATEGORY_COND_BR)
		return 0;
	return (in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
	    (in->opcode & 0xf0) == 0x70) ||
	    (in->opcode_map == ZYDIS_OPCODE_MAP_0F &&
	    (in->opcode & 0xf0) == 0x80);
}

int
arch_fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

int
arch_copy(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
    const uint8_t *text, uintptr_t addr, uintptr_t at, uint8_t *out)
{
	memcpy(out, text, in->length);
	if (arch_riprel(in, ops)) {
		/* same length: the displacement moves by the distance */
		int64_t disp = in->raw.disp.value + (int64_t)(addr - at);
		int32_t d32;

		if (in->raw.disp.size != 32 || !arch_fits32(disp))
			return -ERANGE;
		d32 = (int32_t)disp;
		memcpy(&out[in->raw.disp.offset], &d32, 4);
	}
	return in->length;
}

size_t
arch_emit_jmp(uint8_t *out, uintptr_t at, uintptr_t to)
{
	static const uint8_t jmpabs[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	int64_t rel = (int64_t)(to - (at + 5));
	uint64_t abs = to;

	if (arch_fits32(rel)) {
		int32_t r32 = (int32_t)rel;

		out[0] = 0xe9;
		memcpy(&out[1], &r32, 4);
		return 5;
	}
	memcpy(out, jmpabs, 6);
	memcpy(&out[6], &abs, 8);
	return ARCH_JMP_ABS;
}

size_t
arch_emit_jcc(uint8_t *out, int cc, uintptr_t at, uintptr_t to)
{
	int64_t rel = (int64_t)(to - (at + 6));

	if (arch_fits32(rel)) {
		int32_t r32 = (int32_t)rel;

		out[0] = 0x0f;
		out[1] = 0x80 | cc;
		memcpy(&out[2], &r32, 4);
		return 6;
	}
	/* the opposite condition jumps over the absolute jump */
	out[0] = 0x70 | (cc ^ 1);
	out[1] = ARCH_JMP_ABS;
	return 2 + arch_emit_jmp(&out[2], at + 2, to);
}

/*
 * The copy of TEXT (the instruction at ADDR) to run at SLOT: at most
 * 6 + 14 bytes.  0 with *LEN set, or -ERANGE when a displacement or
 * branch cannot reach from the slot.
 */
int
arch_relocate(const uint8_t *text, size_t n, uintptr_t addr, uintptr_t slot,
    uint8_t *out, size_t *len)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	int k;

	if (arch_decode(text, n, &in, ops) != 0)
		return -EINVAL;
	if (in.meta.category == ZYDIS_CATEGORY_COND_BR) {
		ZyanU64 target;

		/* always the long form: jcc rel32 to the same target */
		if (!arch_jcc(&in) || ZYAN_FAILED(ZydisCalcAbsoluteAddress(&in,
		    &ops[0], addr, &target)))
			return -EINVAL;
		if (!arch_fits32((int64_t)(target - (slot + 6))))
			return -ERANGE;
		k = (int)arch_emit_jcc(out, in.opcode & 0x0f, slot, target);
	} else if ((k = arch_copy(&in, ops, text, addr, slot, out)) < 0) {
		return k;
	}
	/* and back to the instruction after the site */
	*len = k + arch_emit_jmp(&out[k], slot + k, addr + in.length);
	return 0;
}

/*
 * Offset probes: whole instructions are counted from the function's
 * first byte, as DTrace's pid provider does, since a byte in the middle
 * of one may well decode as something else.
 */
int
arch_insn_boundary(const uint8_t *text, size_t n, size_t off)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	size_t at = 0;

	if (off >= n)
		return -ERANGE;
	while (at < off) {
		if (arch_decode(text + at, n - at, &in, ops) != 0)
			return -EILSEQ;
		at += in.length;
	}
	return at == off ? 0 : -EINVAL;
}
