/*
 * regs.c - x86-64 registers as ptrace and the System V ABI see them:
 * the NT_PRSTATUS register set (PTRACE_GETREGSET, which every Linux
 * architecture has, unlike PTRACE_GETREGS), the accessors the layers
 * above use, the int3 trap, system calls run by the tracee, and the
 * DWARF register numbering the unwinder hands to libdw.
 */
#include "arch.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

int
arch_regs_read(pid_t tid, arch_regs_t *r)
{
	struct iovec iov = { r, sizeof (*r) };

	return ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ?
	    -errno : 0;
}

int
arch_regs_write(pid_t tid, const arch_regs_t *r)
{
	struct iovec iov = { (void *)r, sizeof (*r) };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_PRSTATUS, &iov) < 0 ?
	    -errno : 0;
}

int
arch_pc_write(pid_t tid, uintptr_t pc)
{
	size_t off = offsetof(struct user, regs) + offsetof(arch_regs_t, rip);

	return ptrace(PTRACE_POKEUSER, tid, (void *)off, (void *)pc) < 0 ?
	    -errno : 0;
}

uintptr_t arch_pc(const arch_regs_t *r) { return r->rip; }
void arch_set_pc(arch_regs_t *r, uintptr_t pc) { r->rip = pc; }
uintptr_t arch_sp(const arch_regs_t *r) { return r->rsp; }
void arch_set_sp(arch_regs_t *r, uintptr_t sp) { r->rsp = sp; }
uintptr_t arch_fp(const arch_regs_t *r) { return r->rbp; }
void arch_set_fp(arch_regs_t *r, uintptr_t fp) { r->rbp = fp; }
uint64_t arch_retval(const arch_regs_t *r) { return r->rax; }
void arch_set_retval(arch_regs_t *r, uint64_t v) { r->rax = v; }

uint64_t
arch_arg(const arch_regs_t *r, int n)
{
	switch (n) {
	case 0: return r->rdi;
	case 1: return r->rsi;
	case 2: return r->rdx;
	case 3: return r->rcx;
	case 4: return r->r8;
	case 5: return r->r9;
	default: return 0;
	}
}

/* System V: the return address at (%rsp), arg6 at 8(%rsp), arg7 above. */
void
arch_entry(const arch_regs_t *r, const uint64_t *words, uintptr_t *ra,
    uint64_t *args, int nargs)
{
	*ra = (uintptr_t)words[0];
	for (int i = 0; i < nargs; i++) {
		if (i < 6)
			args[i] = arch_arg(r, i);
		else if (i - 6 + 1 < ARCH_ENTRY_WORDS)
			args[i] = words[i - 6 + 1];
		else
			args[i] = 0;
	}
}

/* ret pops the return address. */
uintptr_t
arch_ret_sp(uintptr_t entry_sp)
{
	return entry_sp + 8;
}

static const struct {
	const char *rn_name;
	size_t rn_off;
} arch_reg_names[] = {
	{ "rax", offsetof(arch_regs_t, rax) },
	{ "rbx", offsetof(arch_regs_t, rbx) },
	{ "rcx", offsetof(arch_regs_t, rcx) },
	{ "rdx", offsetof(arch_regs_t, rdx) },
	{ "rsi", offsetof(arch_regs_t, rsi) },
	{ "rdi", offsetof(arch_regs_t, rdi) },
	{ "rbp", offsetof(arch_regs_t, rbp) },
	{ "rsp", offsetof(arch_regs_t, rsp) },
	{ "r8", offsetof(arch_regs_t, r8) },
	{ "r9", offsetof(arch_regs_t, r9) },
	{ "r10", offsetof(arch_regs_t, r10) },
	{ "r11", offsetof(arch_regs_t, r11) },
	{ "r12", offsetof(arch_regs_t, r12) },
	{ "r13", offsetof(arch_regs_t, r13) },
	{ "r14", offsetof(arch_regs_t, r14) },
	{ "r15", offsetof(arch_regs_t, r15) },
	{ "rip", offsetof(arch_regs_t, rip) },
	{ "eflags", offsetof(arch_regs_t, eflags) },
	{ "rflags", offsetof(arch_regs_t, eflags) },
	{ "fs_base", offsetof(arch_regs_t, fs_base) },
	{ "gs_base", offsetof(arch_regs_t, gs_base) },
	{ "orig_rax", offsetof(arch_regs_t, orig_rax) },
	{ "pc", offsetof(arch_regs_t, rip) },
	{ "sp", offsetof(arch_regs_t, rsp) },
	{ "fp", offsetof(arch_regs_t, rbp) },
};

/*
 * "eax" is rax's low half ("r8d" r8's): what a user reading a 32-bit
 * int argument means.
 */
static int
arch_reg_find(const char *name, size_t *off, int *half)
{
	char wide[8];
	size_t len = strlen(name);

	*half = 0;

	if (len >= 2 && len < sizeof (wide) && name[0] == 'e' &&
	    name[1] != 'f') {
		wide[0] = 'r';
		memcpy(wide + 1, name + 1, len);
		name = wide;
		*half = 1;
	} else if (len >= 3 && len < sizeof (wide) && name[0] == 'r' &&
	    name[len - 1] == 'd' && name[1] >= '0' && name[1] <= '9') {
		memcpy(wide, name, len - 1);
		wide[len - 1] = '\0';
		name = wide;
		*half = 1;
	}
	for (size_t i = 0; i < sizeof (arch_reg_names) /
	    sizeof (arch_reg_names[0]); i++) {
		if (strcmp(arch_reg_names[i].rn_name, name) == 0) {
			*off = arch_reg_names[i].rn_off;
			return 0;
		}
	}
	return -ENOENT;
}

int
arch_reg_named(const arch_regs_t *r, const char *name, uint64_t *val)
{
	size_t off;
	int half;

	if (arch_reg_find(name, &off, &half) != 0)
		return -ENOENT;
	memcpy(val, (const char *)r + off, sizeof (*val));
	if (half)
		*val &= 0xffffffffULL;
	return 0;
}

int
arch_reg_at_return(const char *name)
{
	size_t off;
	int half;

	if (arch_reg_find(name, &off, &half) != 0)
		return -ENOENT;
	return off == offsetof(arch_regs_t, rip) ||
	    off == offsetof(arch_regs_t, rsp) ||
	    off == offsetof(arch_regs_t, rax) ? 0 : -ENODATA;
}

/* int3 leaves the pc one past itself. */
uintptr_t
arch_trap_site(const arch_regs_t *r)
{
	return r->rip - 1;
}

/* int3 traps with SI_KERNEL; a single step (TF) with TRAP_TRACE. */
int
arch_si_is_trap(const siginfo_t *si)
{
	return si->si_signo == SIGTRAP && si->si_code == SI_KERNEL;
}

int
arch_si_is_step(const siginfo_t *si)
{
	return si->si_signo == SIGTRAP && si->si_code > 0 &&
	    si->si_code != SI_KERNEL;
}

#define ARCH_TF	0x100UL

int
arch_step_flag(const arch_regs_t *r)
{
	return (r->eflags & ARCH_TF) != 0;
}

void
arch_step_flag_clear(arch_regs_t *r)
{
	r->eflags &= ~ARCH_TF;
}

/*
 * pushf (0x9c), maybe after an operand-size prefix (a 2-byte image) or
 * a REX prefix (REX.W makes it 8 bytes again).
 */
size_t
arch_flags_push(const uint8_t *text, size_t n)
{
	bool half = false, rexw = false;

	for (size_t i = 0; i < n; i++) {
		if (text[i] == 0x9c)
			return half && !rexw ? 2 : 8;
		if (text[i] == 0x66 && !rexw)
			half = true;
		else if ((text[i] & 0xf0) == 0x40)
			rexw = (text[i] & 0x08) != 0;
		else
			return 0;
	}
	return 0;
}

const uint8_t arch_syscall_code[ARCH_SYSCALL_LEN] = {
	0x0f, 0x05,	/* syscall */
	0xcc		/* int3 */
};

void
arch_syscall_setup(arch_regs_t *r, uintptr_t at, long nr, const long args[6])
{
	r->rip = at;
	r->rax = (unsigned long)nr;
	r->rdi = (unsigned long)args[0];
	r->rsi = (unsigned long)args[1];
	r->rdx = (unsigned long)args[2];
	r->r10 = (unsigned long)args[3];
	r->r8 = (unsigned long)args[4];
	r->r9 = (unsigned long)args[5];
	/*
	 * -1: not in a system call, so a call the thread was blocked in is
	 * not restarted (pc moved back onto our code) when it runs ours.
	 */
	r->orig_rax = (unsigned long)-1;
}

uintptr_t
arch_syscall_done(uintptr_t at)
{
	return at + ARCH_SYSCALL_LEN;
}

int
arch_in_syscall(const arch_regs_t *r)
{
	return (long)r->orig_rax >= 0;
}

long
arch_syscall_ret(const arch_regs_t *r)
{
	return (long)r->rax;
}

/* The x86-64 psABI's DWARF numbers 0-16: rax rdx rcx rbx rsi rdi rbp
   rsp r8-r15, then the return address column (rip). */
void
arch_dwarf_regs(const arch_regs_t *r, uint64_t out[ARCH_DWARF_NREGS])
{
	const uint64_t v[ARCH_DWARF_NREGS] = {
		r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
		r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15,
		r->rip
	};

	memcpy(out, v, sizeof (v));
}

/* "x86_Thread_features: shstk wrss" names the features in use. */
int
arch_shstk(const char *features)
{
	return strstr(features, "shstk") != NULL;
}
