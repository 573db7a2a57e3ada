/*
 * sdt.c - the argument specs of sys/sdt.h probes (USDT) on x86-64.
 *
 * Each argument of a probe is described in its note as SIZE@OPERAND:
 * SIZE the bytes of the value, negative for a signed one ("-4@" is an
 * int), OPERAND what the compiler's "nor" constraint gave, in the
 * assembler's AT&T syntax: a register ("%edi"), a constant ("$5"), or
 * memory ("-16(%rbp)", "8(%rsp,%rax,4)", "counter(%rip)",
 * "tab+8(,%rax,8)").  The operand is the machine's syntax, so it is
 * parsed here; the symbols layer reads the notes and resolves a
 * symbol an operand names, the control layer reads the values.
 *
 * A register operand names part of a register as often as all of it
 * (%edi, %ax, %sil, %ah): the table keeps each name's register, width
 * and shift, and a value is cut to the width the operand names, then to
 * the argument's size, sign-extended when the size is negative.  A
 * symbol with %rip as base is the symbol's address (the assembler made
 * it pc-relative); %rip with a bare number is refused, since that
 * displacement is from the end of an instruction the note does not name.
 */
#include "arch.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct arch_sdt_reg {
	const char *sr_name;	/* as written, without '%' */
	uint16_t sr_off;	/* of its register in arch_regs_t */
	uint8_t sr_width;	/* bytes the name covers */
	uint8_t sr_shift;	/* bits below them (8: %ah) */
} arch_sdt_reg_t;

#define R(n, f, w, s)	{ n, offsetof(arch_regs_t, f), w, s }
static const arch_sdt_reg_t arch_sdt_regs[] = {
	R("rax", rax, 8, 0), R("eax", rax, 4, 0), R("ax", rax, 2, 0),
	R("al", rax, 1, 0), R("ah", rax, 1, 8),
	R("rbx", rbx, 8, 0), R("ebx", rbx, 4, 0), R("bx", rbx, 2, 0),
	R("bl", rbx, 1, 0), R("bh", rbx, 1, 8),
	R("rcx", rcx, 8, 0), R("ecx", rcx, 4, 0), R("cx", rcx, 2, 0),
	R("cl", rcx, 1, 0), R("ch", rcx, 1, 8),
	R("rdx", rdx, 8, 0), R("edx", rdx, 4, 0), R("dx", rdx, 2, 0),
	R("dl", rdx, 1, 0), R("dh", rdx, 1, 8),
	R("rsi", rsi, 8, 0), R("esi", rsi, 4, 0), R("si", rsi, 2, 0),
	R("sil", rsi, 1, 0),
	R("rdi", rdi, 8, 0), R("edi", rdi, 4, 0), R("di", rdi, 2, 0),
	R("dil", rdi, 1, 0),
	R("rbp", rbp, 8, 0), R("ebp", rbp, 4, 0), R("bp", rbp, 2, 0),
	R("bpl", rbp, 1, 0),
	R("rsp", rsp, 8, 0), R("esp", rsp, 4, 0), R("sp", rsp, 2, 0),
	R("spl", rsp, 1, 0),
	R("r8", r8, 8, 0), R("r8d", r8, 4, 0), R("r8w", r8, 2, 0),
	R("r8b", r8, 1, 0),
	R("r9", r9, 8, 0), R("r9d", r9, 4, 0), R("r9w", r9, 2, 0),
	R("r9b", r9, 1, 0),
	R("r10", r10, 8, 0), R("r10d", r10, 4, 0), R("r10w", r10, 2, 0),
	R("r10b", r10, 1, 0),
	R("r11", r11, 8, 0), R("r11d", r11, 4, 0), R("r11w", r11, 2, 0),
	R("r11b", r11, 1, 0),
	R("r12", r12, 8, 0), R("r12d", r12, 4, 0), R("r12w", r12, 2, 0),
	R("r12b", r12, 1, 0),
	R("r13", r13, 8, 0), R("r13d", r13, 4, 0), R("r13w", r13, 2, 0),
	R("r13b", r13, 1, 0),
	R("r14", r14, 8, 0), R("r14d", r14, 4, 0), R("r14w", r14, 2, 0),
	R("r14b", r14, 1, 0),
	R("r15", r15, 8, 0), R("r15d", r15, 4, 0), R("r15w", r15, 2, 0),
	R("r15b", r15, 1, 0),
	R("rip", rip, 8, 0),
};
#undef R
#define ARCH_SDT_NREGS	((int)(sizeof (arch_sdt_regs) / sizeof (arch_sdt_regs[0])))
#define ARCH_SDT_RIP	(ARCH_SDT_NREGS - 1)

const char *
arch_sdt_regname(int reg)
{
	return reg >= 0 && reg < ARCH_SDT_NREGS ? arch_sdt_regs[reg].sr_name :
	    NULL;
}

/* "%name" at *P (advanced past it): the register's index, or -1. */
static int
arch_sdt_regparse(const char **p, const char *end)
{
	const char *s = *p + 1;
	size_t n = 0;

	if (*p >= end || **p != '%')
		return -1;
	while (s + n < end && ((s[n] >= 'a' && s[n] <= 'z') ||
	    (s[n] >= '0' && s[n] <= '9')))
		n++;
	for (int i = 0; i < ARCH_SDT_NREGS; i++) {
		if (strlen(arch_sdt_regs[i].sr_name) == n &&
		    memcmp(arch_sdt_regs[i].sr_name, s, n) == 0) {
			*p = s + n;
			return i;
		}
	}
	return -1;
}

/* A decimal or 0x number, signed, at *P: 0 (advanced), or -1. */
static int
arch_sdt_num(const char **p, const char *end, int64_t *v)
{
	char buf[32], *e;
	size_t n = 0;

	while (*p + n < end && n < sizeof (buf) - 1 &&
	    strchr("+-0123456789abcdefxABCDEFX", (*p)[n]) != NULL)
		n++;
	if (n == 0)
		return -1;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	errno = 0;
	*v = strtoll(buf, &e, 0);
	if (errno != 0 || e == buf)
		return -1;
	*p += e - buf;
	return 0;
}

static int
arch_sdt_symchar(char c, int first)
{
	return c == '_' || c == '.' || c == '$' || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

/* The memory operand at P: [SYM][+-DISP](BASE[,INDEX[,SCALE]]). */
static int
arch_sdt_mem(const char *start, const char *p, const char *end,
    arch_sdt_arg_t *a, const char **why)
{
	a->asa_kind = ARCH_SDT_MEM;
	if (p < end && arch_sdt_symchar(*p, 1)) {
		const char *s = p;

		while (p < end && arch_sdt_symchar(*p, 0))
			p++;
		a->asa_symoff = (uint16_t)(s - start);
		a->asa_symlen = (uint16_t)(p - s);
	}
	if (p < end && *p != '(' && arch_sdt_num(&p, end, &a->asa_disp) != 0) {
		*why = "bad displacement";
		return -EINVAL;
	}
	if (p == end || *p != '(') {
		*why = "operand is not a register, a $constant or memory";
		return -EINVAL;
	}
	p++;
	if (p < end && *p == '%' && (a->asa_reg = arch_sdt_regparse(&p,
	    end)) < 0) {
		*why = "unknown base register";
		return -EINVAL;
	}
	if (p < end && *p == ',') {
		int64_t scale = 1;

		p++;
		if ((a->asa_index = arch_sdt_regparse(&p, end)) < 0) {
			*why = "unknown index register";
			return -EINVAL;
		}
		if (p < end && *p == ',' && (p++, arch_sdt_num(&p, end,
		    &scale) != 0 || (scale != 1 && scale != 2 && scale != 4 &&
		    scale != 8))) {
			*why = "bad scale";
			return -EINVAL;
		}
		a->asa_scale = (int8_t)scale;
	}
	if (p + 1 != end || *p != ')') {
		*why = "memory operand not closed by ')'";
		return -EINVAL;
	}
	if (a->asa_reg == ARCH_SDT_RIP || a->asa_index == ARCH_SDT_RIP) {
		if (a->asa_symlen == 0 || a->asa_index == ARCH_SDT_RIP) {
			*why = "%rip-relative operand without a symbol";
			return -EINVAL;
		}
		a->asa_reg = -1;	/* sym(%rip) is the symbol's address */
	}
	if (a->asa_reg < 0 && a->asa_index < 0 && a->asa_symlen == 0) {
		*why = "memory operand without a register or a symbol";
		return -EINVAL;
	}
	return 0;
}

int
arch_sdt_parse(const char *text, size_t len, arch_sdt_arg_t *a,
    const char **why)
{
	const char *p = text, *end = text + len, *at;
	int64_t size = 8;

	memset(a, 0, sizeof (*a));
	a->asa_reg = a->asa_index = -1;
	a->asa_scale = 1;
	*why = NULL;
	/* SIZE@ may be missing (old notes): then a long, unsigned */
	if ((at = memchr(text, '@', len)) != NULL) {
		if (arch_sdt_num(&p, at, &size) != 0 || p != at) {
			*why = "bad size before '@'";
			return -EINVAL;
		}
		p = at + 1;
	}
	a->asa_signed = size < 0;
	size = size < 0 ? -size : size;
	if (size != 1 && size != 2 && size != 4 && size != 8) {
		*why = "size is not 1, 2, 4 or 8";
		return -EINVAL;
	}
	a->asa_size = (int8_t)size;
	if (p == end) {
		*why = "empty operand";
		return -EINVAL;
	}
	if (*p == '%') {
		a->asa_kind = ARCH_SDT_REG;
		if ((a->asa_reg = arch_sdt_regparse(&p, end)) < 0 || p != end ||
		    a->asa_reg == ARCH_SDT_RIP) {
			*why = "unknown register";
			return -EINVAL;
		}
		return 0;
	}
	if (*p == '$') {
		p++;
		a->asa_kind = ARCH_SDT_CONST;
		if (arch_sdt_num(&p, end, &a->asa_disp) != 0 || p != end) {
			*why = "constant is not a number";
			return -EINVAL;
		}
		return 0;
	}
	return arch_sdt_mem(text, p, end, a, why);
}

/* VAL cut to SIZE bytes, sign-extended if SGN. */
static uint64_t
arch_sdt_cut(uint64_t val, int size, int sgn)
{
	int sh;

	if (size >= 8)
		return val;
	sh = 64 - 8 * size;
	return sgn ? (uint64_t)((int64_t)(val << sh) >> sh) :
	    (val << sh) >> sh;
}

/* Register REG's part as the operand names it, zero-extended. */
static uint64_t
arch_sdt_regval(const arch_regs_t *r, int reg)
{
	const arch_sdt_reg_t *d = &arch_sdt_regs[reg];
	uint64_t v;

	memcpy(&v, (const char *)r + d->sr_off, sizeof (v));
	return arch_sdt_cut(v >> d->sr_shift, d->sr_width, 0);
}

int
arch_sdt_value(const arch_sdt_arg_t *a, const arch_regs_t *r,
    uint64_t symaddr, arch_sdt_read_f *rd, void *rarg, uint64_t *val)
{
	uint64_t v = 0, addr;

	switch (a->asa_kind) {
	case ARCH_SDT_CONST:
		v = (uint64_t)a->asa_disp;
		break;
	case ARCH_SDT_REG:
		v = arch_sdt_regval(r, a->asa_reg);
		break;
	case ARCH_SDT_MEM:
		addr = symaddr + (uint64_t)a->asa_disp;
		if (a->asa_reg >= 0)
			addr += arch_sdt_regval(r, a->asa_reg);
		if (a->asa_index >= 0)
			addr += arch_sdt_regval(r, a->asa_index) *
			    (uint64_t)a->asa_scale;
		if (rd(rarg, (uintptr_t)addr, &v, (size_t)a->asa_size) != 0)
			return -EFAULT;
		break;
	default:
		return -EINVAL;
	}
	*val = arch_sdt_cut(v, a->asa_size, a->asa_signed);
	return 0;
}
