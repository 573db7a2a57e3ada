/*
 * arm.c - arming a probe: a trampoline where the site allows one, else
 * the one-stop int3 (see probe.h for the rules).
 *
 * The decision reads only the original text (pt_text_read) and the
 * symbols: the function holding the site bounds the window, the
 * architecture decodes the window (arch_window), and the object's
 * analysis (scan.c) says whether anything branches into it.  Every
 * refusal is a short static sentence, what `trace -l` and the bench's
 * census print; an int3 is always a correct fallback, only slower, so
 * whatever we are unsure of is refused.
 *
 * The padding rule: a function shorter than the jump (ld.so's
 * `_dl_debug_state` is a lone `ret`, the rtld agent's own site) may
 * still be patched when what follows it up to the jump's end is padding
 * that no symbol starts in and no branch targets: nothing runs those
 * bytes, so the jump may cover them.
 *
 * On the owner thread (pt_tramp_set, pt_bkpt_set stop the process).
 */
#include "probe.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

/* Text read at a site: an endbr64, the window, and room to decode. */
#define PRB_TEXT	(4 + ARCH_JMP_LEN + ARCH_WIN_MAX * ARCH_INSN_MAX)

static const char prb_past_end[] = "window runs past the function's end";

/*
 * Are TEXT's first LEN bytes padding?  A long nop may run past them
 * (ld.so pads `_dl_debug_state` with an 11-byte one): then the first
 * whole run of padding that covers them answers, up to AVAIL bytes.
 */
static int
prb_padding(const uint8_t *text, size_t len, size_t avail)
{
	for (size_t l = len; l <= avail; l++) {
		if (arch_padding(text, l))
			return 1;
	}
	return 0;
}

/*
 * The rules for ADDR: NULL with *W the window to patch (*ENTRY: ADDR is
 * its function's first byte), or the reason it cannot be patched.
 */
static const char *
prb_decide(pt_proc_t *P, sym_proc_t *S, uintptr_t addr, arch_window_t *w,
    int *entry)
{
	uint8_t text[PRB_TEXT];
	uintptr_t patch, end, fend, need;
	sym_info_t fn, next;
	ssize_t n;

	if (sym_lookup_addr(S, addr, &fn) != 0 || fn.sy_name == NULL ||
	    (fn.sy_type != STT_FUNC && fn.sy_type != STT_GNU_IFUNC))
		return "no function symbol";
	if (fn.sy_size == 0)
		return "function size unknown";
	*entry = addr == fn.sy_addr;
	fend = fn.sy_addr + fn.sy_size;
	if ((n = pt_text_read(P, addr, text, sizeof (text))) <= 0)
		return "text unreadable";
	memset(w, 0, sizeof (*w));
	if (arch_window(text, (size_t)n, addr, *entry, w) != 0)
		return "cannot decode the window";
	if (w->aw_refuse != NULL)
		return w->aw_refuse;
	patch = addr + w->aw_skip;
	end = patch + w->aw_len;
	if (end > fend)
		return prb_past_end;
	if (w->aw_len < ARCH_JMP_LEN) {
		/*
		 * The window ends in ret or jmp short of the jump's length:
		 * the bytes up to it must be padding, and beyond the
		 * function no symbol may start in them.  Branches into them
		 * are the object's analysis's to see (the window grows).
		 */
		need = patch + ARCH_JMP_LEN;
		if (!w->aw_last || need > addr + (size_t)n ||
		    !prb_padding(text + (end - addr), need - end,
		    (size_t)n - (end - addr)))
			return prb_past_end;
		for (uintptr_t a = end > fend ? end : fend; a < need; a++) {
			if (sym_lookup_addr(S, a, &next) != 0 ||
			    next.sy_bias != fn.sy_bias ||
			    (next.sy_name != NULL && next.sy_addr == a))
				return prb_past_end;
		}
		w->aw_len = ARCH_JMP_LEN;
	}
	return prb_scan_check(P, S, &fn, patch, w->aw_len);
}

/* Why the core would not patch: its code as a reason. */
static const char *
prb_core_refusal(int rv)
{
	switch (rv) {
	case -EBUSY:
		return "a thread is inside the window";
	case -EEXIST:
		return "int3 site in use";
	case -ERANGE:
		return "out of reach";
	case -ENOSPC:
		return "page full";
	case -ENOMEM:
		return "out of memory";
	default:
		return "trampoline failed";
	}
}

int
prb_arm(pt_proc_t *P, sym_proc_t *S, uintptr_t addr, int flags, int *how,
    const char **why)
{
	arch_window_t w;
	const char *no;
	int entry = 0, rv;

	if (flags & PRB_INT3) {
		no = "int3 asked";
	} else if ((no = prb_decide(P, S, addr, &w, &entry)) == NULL) {
		rv = pt_tramp_set(P, addr, &w,
		    ((flags & PRB_TRAP) ? PT_TRAMP_TRAP : 0) |
		    (entry ? PT_TRAMP_ENTRY : 0));
		if (rv == 0) {
			*how = PRB_HOW_TRAMP;
			*why = NULL;
			return 0;
		}
		if (rv == -EAGAIN)	/* an untraced vfork child runs */
			return rv;
		if (rv == -ESRCH)	/* gone: an int3 would fail too */
			return rv;
		no = prb_core_refusal(rv);
		pt_dprintf("pid %d: %#lx: int3, not patched: %s\n",
		    (int)pt_pid(P), (unsigned long)addr, no);
	}
	if ((rv = pt_bkpt_set(P, addr)) < 0)
		return rv;		/* the core's reason stands */
	*how = PRB_HOW_INT3;
	*why = no;
	return 0;
}

int
prb_disarm(pt_proc_t *P, uintptr_t addr, int flags)
{
	int kind = pt_site_kind(P, addr);

	if (kind < 0) {
		return err_set(ENOENT, "pid %d: no probe at %#lx",
		    (int)pt_pid(P), (unsigned long)addr);
	}
	if (kind == 1)
		return pt_tramp_del(P, addr,
		    (flags & PRB_TRAP) ? PT_TRAMP_TRAP : 0);
	return pt_bkpt_del(P, addr);
}

const char *
prb_refusal(pt_proc_t *P, sym_proc_t *S, uintptr_t addr)
{
	arch_window_t w;
	int entry;

	return prb_decide(P, S, addr, &w, &entry);
}
