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
 * The short form: a window refused because a branch targets its inside
 * (glibc's mempcpy jumps 3 bytes into memmove) or because it runs past
 * a short function's end may shrink to the instructions before the
 * first such target, or before the end, if they are 2 bytes or more.
 * They get a 2-byte jmp rel8 to a pad: 5 bytes of the padding between
 * two functions within the rel8's reach (all of that run of bytes
 * padding, nothing branching into it), which gets the jmp rel32.  The
 * core refuses a pad another site has claimed, or one that a thread's
 * stack names; the next one is tried.
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
static const char prb_no_pad[] = "no free padding in reach";

#define PRB_PADS	16		/* pads tried for a site */
#define PRB_GAPS	8		/* runs of padding looked at */
#define PRB_GAP_MAX	4096		/* longer runs are not padding */

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
 * The padding rule for window W at ADDR of FN (TEXT, N bytes from ADDR),
 * a window that ends in ret or jmp short of the jump's length: the bytes
 * up to it must be padding, and beyond the function no symbol may start
 * in them.  Branches into them are the object's analysis's to see (the
 * window grows).  NULL with aw_len made ARCH_JMP_LEN, or why not.
 */
static const char *
prb_padding_rule(sym_proc_t *S, const sym_info_t *fn, const uint8_t *text,
    size_t n, uintptr_t addr, arch_window_t *w)
{
	uintptr_t patch = addr + w->aw_skip, end = patch + w->aw_len;
	uintptr_t fend = fn->sy_addr + fn->sy_size;
	uintptr_t need = patch + ARCH_JMP_LEN;
	sym_info_t next;

	if (!w->aw_last || need > addr + n ||
	    !prb_padding(text + (end - addr), need - end, n - (end - addr)))
		return prb_past_end;
	for (uintptr_t a = end > fend ? end : fend; a < need; a++) {
		if (sym_lookup_addr(S, a, &next) != 0 ||
		    next.sy_bias != fn->sy_bias ||
		    (next.sy_name != NULL && next.sy_addr == a))
			return prb_past_end;
	}
	w->aw_len = ARCH_JMP_LEN;
	return NULL;
}

/*
 * Pads for a short jump at PATCH (function FN): up to PRB_PADS
 * addresses, the nearest to the end of each run of padding first (its
 * first byte may be the return address of a call that never returns).
 */
static size_t
prb_pads(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn, uintptr_t patch,
    uintptr_t *pads)
{
	uintptr_t from = patch + ARCH_SHORT_LEN, gaps[PRB_GAPS][2];
	uintptr_t lo = from + ARCH_SHORT_MIN, hi = from + ARCH_SHORT_MAX;
	uint8_t buf[PRB_GAP_MAX];
	size_t ng, np = 0;

	ng = prb_scan_gaps(P, S, fn, lo, hi + ARCH_JMP_LEN, gaps, PRB_GAPS);
	for (size_t g = 0; g < ng && np < PRB_PADS; g++) {
		uintptr_t a = gaps[g][0], z = gaps[g][1], p;
		size_t len = z - a;

		if (len < ARCH_JMP_LEN || len > sizeof (buf) ||
		    pt_text_read(P, a, buf, len) != (ssize_t)len ||
		    !arch_padding(buf, len))
			continue;
		p = z - ARCH_JMP_LEN < hi ? z - ARCH_JMP_LEN : hi;
		for (; p >= a && p >= lo && np < PRB_PADS; p -= ARCH_JMP_LEN)
			pads[np++] = p;
	}
	return np;
}

/*
 * The short form for ADDR in FN, whose usual window was refused for WHY:
 * NULL with *W and *NPAD candidate PADS, or WHY.
 */
static const char *
prb_short(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn, uintptr_t addr,
    const uint8_t *text, size_t n, int entry, arch_window_t *w,
    const char *why, uintptr_t *pads, size_t *npad)
{
	uintptr_t fend = fn->sy_addr + fn->sy_size, patch;
	arch_window_t sw;

	for (size_t limit = ARCH_JMP_LEN - 1; limit >= ARCH_SHORT_LEN;
	    limit--) {
		if (arch_window_short(text, n, addr, entry, limit, &sw) != 0 ||
		    sw.aw_refuse != NULL)
			return why;
		limit = sw.aw_len;	/* the next try is shorter */
		patch = addr + sw.aw_skip;
		if (patch + sw.aw_len > fend ||
		    prb_scan_check(P, S, fn, patch, sw.aw_len) != NULL)
			continue;
		/* a shorter window would have the same pads */
		if ((*npad = prb_pads(P, S, fn, patch, pads)) == 0)
			return why;
		*w = sw;
		return NULL;
	}
	return why;
}

/*
 * The rules for ADDR: NULL with *W the window to patch (*ENTRY: ADDR is
 * its function's first byte) and, for the short form, *NPAD pads to try
 * (PRB_PADS room), or the reason it cannot be patched.
 */
static const char *
prb_decide(pt_proc_t *P, sym_proc_t *S, uintptr_t addr, arch_window_t *w,
    int *entry, uintptr_t *pads, size_t *npad)
{
	uint8_t text[PRB_TEXT];
	uintptr_t patch, end, fend;
	sym_info_t fn;
	const char *why = NULL;
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
	*npad = 0;
	if (w->aw_refuse != NULL)
		return w->aw_refuse;
	patch = addr + w->aw_skip;
	end = patch + w->aw_len;
	if (end > fend)
		why = prb_past_end;
	else if (w->aw_len < ARCH_JMP_LEN)
		why = prb_padding_rule(S, &fn, text, (size_t)n, addr, w);
	if (why == NULL &&
	    (why = prb_scan_check(P, S, &fn, patch, w->aw_len)) == NULL)
		return NULL;
	if (why != prb_past_end &&
	    strcmp(why, "a branch targets the window") != 0)
		return why;
	return prb_short(P, S, &fn, addr, text, (size_t)n, *entry, w, why,
	    pads, npad);
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
	case -EADDRINUSE:
		return prb_no_pad;
	default:
		return "trampoline failed";
	}
}

int
prb_arm(pt_proc_t *P, sym_proc_t *S, uintptr_t addr, int flags, int *how,
    const char **why)
{
	uintptr_t pads[PRB_PADS];
	arch_window_t w;
	const char *no;
	size_t npad = 0;
	int entry = 0, rv, f;

	if (flags & PRB_INT3) {
		no = "int3 asked";
	} else if ((no = prb_decide(P, S, addr, &w, &entry, pads,
	    &npad)) == NULL) {
		f = ((flags & PRB_TRAP) ? PT_TRAMP_TRAP : 0) |
		    ((flags & PRB_TAKE) ? PT_TRAMP_TAKE : 0) |
		    (entry ? PT_TRAMP_ENTRY : 0);
		if (npad == 0)
			rv = pt_tramp_set(P, addr, &w, f);
		else
			rv = -EADDRINUSE;
		/* a pad claimed by another site, or named by a stack */
		for (size_t i = 0; i < npad && rv == -EADDRINUSE; i++)
			rv = pt_tramp_set_pad(P, addr, &w, pads[i], f);
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
	/* every int3 said once, with its reason (return sites have no -l) */
	pt_dprintf("pid %d: %#lx: int3: %s\n", (int)pt_pid(P),
	    (unsigned long)addr, no);
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
	uintptr_t pads[PRB_PADS];
	arch_window_t w;
	size_t npad;
	int entry;

	return prb_decide(P, S, addr, &w, &entry, pads, &npad);
}
