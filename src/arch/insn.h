/*
 * insn.h - decoding and re-encoding helpers shared by the files of
 * src/arch (insn.c, tramp.c, scan.c).  Private to the architecture: it
 * names Zydis types, which no file outside src/arch may see.
 */
#ifndef DTPROC_ARCH_INSN_H
#define DTPROC_ARCH_INSN_H

#include <Zydis/Zydis.h>
#include <stddef.h>
#include <stdint.h>

/* Decode one instruction of TEXT (N bytes): 0 or -EINVAL. */
int arch_decode(const uint8_t *text, size_t n, ZydisDecodedInstruction *in,
    ZydisDecodedOperand *ops);
/* Has the instruction a memory operand addressed from rip? */
int arch_riprel(const ZydisDecodedInstruction *in,
    const ZydisDecodedOperand *ops);
/* Is it a conditional jump with a rel32 form (not loop, jrcxz)? */
int arch_jcc(const ZydisDecodedInstruction *in);
int arch_fits32(int64_t v);
/*
 * The instruction IN (TEXT, at ADDR) copied to OUT to run at AT, a
 * rip-relative operand rewritten to reach the same byte: its length, or
 * -ERANGE when that byte is out of reach from AT.
 */
int arch_copy(const ZydisDecodedInstruction *in,
    const ZydisDecodedOperand *ops, const uint8_t *text, uintptr_t addr,
    uintptr_t at, uint8_t *out);
/*
 * A jump at AT to TO into OUT: jmp rel32 (5 bytes) when TO is in reach,
 * else jmp *0(%rip) and the address (ARCH_JMP_ABS bytes).  Its length.
 */
#define ARCH_JMP_ABS	14
size_t arch_emit_jmp(uint8_t *out, uintptr_t at, uintptr_t to);
/*
 * A conditional jump (condition CC, 0-15) at AT to TO: jcc rel32
 * (6 bytes), or the opposite condition over an absolute jump (16).
 */
#define ARCH_JCC_ABS	(2 + ARCH_JMP_ABS)
size_t arch_emit_jcc(uint8_t *out, int cc, uintptr_t at, uintptr_t to);

#endif /* DTPROC_ARCH_INSN_H */
