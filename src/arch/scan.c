/*
 * scan.c - what a whole function's code says about patching it: the
 * targets of its direct branches and calls (a branch from anywhere in an
 * object into a site's window rules the patch out), whether it jumps
 * through a register or a table (targets unknown), and whether the bytes
 * after a function are padding that nothing runs; and, for bounding
 * jump tables, the fixed addresses its instructions name.
 *
 * The sweep is linear: a function's bytes are decoded one instruction
 * after another, and a byte that does not decode (data in text, a jump
 * table) is skipped alone, so the decoder falls back in step with the
 * code after it.  A target found in data is a false one at worst, which
 * only refuses a site that might have been patched.
 */
#include "arch.h"
#include "insn.h"

#include <errno.h>
#include <string.h>

/* Is the jump (ff /4) through a register or memory other than a GOT slot? */
static int
scan_indirect(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
	if (in->meta.category != ZYDIS_CATEGORY_UNCOND_BR ||
	    ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		return 0;
	/* jmp *disp(%rip): a tail call through the GOT, one known target */
	return !(ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
	    ops[0].mem.base == ZYDIS_REGISTER_RIP &&
	    ops[0].mem.index == ZYDIS_REGISTER_NONE);
}

/*
 * The fixed addresses an instruction names, for REF: rip-relative
 * operands (a lea's is an address taken, perhaps a label's), and memory
 * operands with no base register (a non-PIC table, `jmp
 * *TABLE(,%rax,8)`).  fs and gs operands are thread-relative, not ours.
 */
static void
scan_refs(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
    uintptr_t pc, const arch_scan_cb_t *cb)
{
	for (int i = 0; i < in->operand_count_visible; i++) {
		const ZydisDecodedOperand *o = &ops[i];
		ZyanU64 at;

		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY ||
		    o->mem.segment == ZYDIS_REGISTER_FS ||
		    o->mem.segment == ZYDIS_REGISTER_GS)
			continue;
		if (o->mem.base == ZYDIS_REGISTER_RIP &&
		    ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(in, o, pc, &at)))
			cb->asc_ref(cb->asc_arg, (uintptr_t)at,
			    in->mnemonic == ZYDIS_MNEMONIC_LEA ?
			    ARCH_REF_LEA : ARCH_REF_RIP);
		else if (o->mem.base == ZYDIS_REGISTER_NONE &&
		    o->mem.disp.has_displacement &&
		    in->mnemonic != ZYDIS_MNEMONIC_LEA)	/* arithmetic */
			cb->asc_ref(cb->asc_arg,
			    (uintptr_t)(int64_t)o->mem.disp.value,
			    ARCH_REF_ABS);
	}
}

/*
 * Could the instruction have an operand the sweep looks at?  A relative
 * branch, an unconditional jump, or a displacement (a rip-relative or
 * base-less memory operand always has one): most have none, and their
 * operands are never decoded, which is most of a decode's cost.
 */
static int
scan_wanted(const ZydisDecodedInstruction *in)
{
	return (in->attributes & ZYDIS_ATTRIB_IS_RELATIVE) ||
	    in->meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
	    in->raw.disp.size != 0;
}

int
arch_scan_refs(const uint8_t *text, size_t n, uintptr_t addr,
    const arch_scan_cb_t *cb, int *indirect)
{
	ZydisDecoder dec;
	ZydisDecoderContext ctx;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	size_t off = 0;

	*indirect = 0;
	if (ZYAN_FAILED(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64,
	    ZYDIS_STACK_WIDTH_64)))
		return -EINVAL;
	while (off < n) {
		ZyanU64 to;

		if (ZYAN_FAILED(ZydisDecoderDecodeInstruction(&dec, &ctx,
		    text + off, n - off, &in))) {
			off++;
			continue;
		}
		if (!scan_wanted(&in)) {
			off += in.length;
			continue;
		}
		if (ZYAN_FAILED(ZydisDecoderDecodeOperands(&dec, &ctx, &in, ops,
		    in.operand_count_visible))) {
			off++;		/* as one that does not decode */
			continue;
		}
		/* jmp, jcc, call, loop, jrcxz, xbegin: a relative immediate */
		if (in.operand_count_visible > 0 &&
		    ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
		    ops[0].imm.is_relative &&
		    ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &ops[0],
		    addr + off, &to)))
			cb->asc_target(cb->asc_arg, (uintptr_t)to);
		else if (scan_indirect(&in, ops))
			*indirect = 1;
		if (cb->asc_ref != NULL)
			scan_refs(&in, ops, addr + off, cb);
		off += in.length;
	}
	return 0;
}

int
arch_scan(const uint8_t *text, size_t n, uintptr_t addr,
    void (*target)(void *arg, uintptr_t to), void *arg, int *indirect)
{
	arch_scan_cb_t cb = { target, NULL, arg };

	return arch_scan_refs(text, n, addr, &cb, indirect);
}

/*
 * Are TEXT's N bytes the start of a nop cut short by the range's end (a
 * jump's 5 bytes may end inside the padding's first long nop)?  Ended
 * with the bytes a long nop may go on with, they decode as one.
 */
static int
pad_cut(const uint8_t *text, size_t n)
{
	static const uint8_t go_on[3][2] = { { 0 }, { 0x1f }, { 0x0f, 0x1f } };
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint8_t buf[ARCH_INSN_MAX + 2];

	if (n >= ARCH_INSN_MAX)
		return 0;
	for (int i = 0; i < 3; i++) {
		memset(buf, 0, sizeof (buf));
		memcpy(buf, text, n);
		memcpy(buf + n, go_on[i], sizeof (go_on[i]));
		if (arch_decode(buf, sizeof (buf), &in, ops) == 0 &&
		    in.mnemonic == ZYDIS_MNEMONIC_NOP && in.length > n)
			return 1;
	}
	return 0;
}

int
arch_padding(const uint8_t *text, size_t n)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	size_t off = 0;

	while (off < n) {
		if (text[off] == 0x00 || text[off] == ARCH_TRAP_BYTE) {
			off++;
			continue;
		}
		/* 90, 66 90, 0f 1f /0 and its prefixed forms; not endbr64 */
		if (arch_decode(text + off, n - off, &in, ops) != 0)
			return pad_cut(text + off, n - off);
		if (in.mnemonic != ZYDIS_MNEMONIC_NOP)
			return 0;
		off += in.length;
	}
	return 1;
}
