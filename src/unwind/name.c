/*
 * name.c - a frame's name as DTrace's ustack() prints it.
 *
 * "object`function+0xoff", without "+0x0" at a function's first byte;
 * "object`0xADDR" (the absolute address, as ustack has it) inside an
 * object no symbol covers (a stripped executable's static functions);
 * "0xADDR" in anonymous memory (JIT code), the stack or the heap;
 * "[dtproc-tramp]" in our own scratch areas (a trampoline pc the walk
 * could not map back to its site: it should not happen).
 * A return address is looked up one byte back (the pc-1 rule): a call
 * that ends a function (to a noreturn callee) returns past its end, into
 * the next symbol.  The offset printed stays the return address's, as
 * ustack prints it.  C++ and Rust names are demangled (the symbols
 * layer's, cached per table entry) unless UNW_FRAME_MANGLED; symbol
 * versions ("@@GLIBC_2.34") are left out, as ustack has none.
 */
#include "unwind.h"

#include <stdio.h>
#include <errno.h>
#include <string.h>

int
unw_frame_name(sym_proc_t *S, uintptr_t pc, int caller, char *buf,
    size_t len)
{
	uintptr_t at = (caller & UNW_FRAME_CALLER) && pc > 0 ? pc - 1 : pc;
	sym_info_t si;

	/*
	 * A signal trampoline (__restore_rt) is "returned to" at its first
	 * byte, and glibc puts a nop before it so that pc-1 finds its CFI:
	 * a return address whose byte before has no symbol is named as is.
	 */
	int rv = S != NULL ? sym_lookup_addr(S, at, &si) : -ENOENT;

	if (rv == 0 && at != pc && si.sy_name == NULL)
		rv = sym_lookup_addr(S, at = pc, &si);
	/* the walk maps trampoline pcs to their sites: this one it did not */
	if (rv == 0 && si.sy_object != NULL &&
	    strncmp(si.sy_object, "[anon:dtproc-", 13) == 0)
		return snprintf(buf, len, "[dtproc-tramp]");
	if (rv != 0 || si.sy_object == NULL || (si.sy_object[0] == '[' &&
	    strcmp(si.sy_object, "[vdso]") != 0))
		return snprintf(buf, len, "0x%lx", (unsigned long)pc);
	if (si.sy_name == NULL)
		return snprintf(buf, len, "%s`0x%lx", si.sy_object,
		    (unsigned long)pc);
	const char *name = si.sy_dname != NULL &&
	    !(caller & UNW_FRAME_MANGLED) ? si.sy_dname : si.sy_name;
	/* ustack shows no symbol versions: "memcpy@@GLIBC_2.14" is memcpy */
	int nlen = name == si.sy_dname ? (int)strlen(name) :
	    (int)strcspn(name, "@");
	if (pc == si.sy_addr)
		return snprintf(buf, len, "%s`%.*s", si.sy_object, nlen, name);
	return snprintf(buf, len, "%s`%.*s+0x%lx", si.sy_object, nlen, name,
	    (unsigned long)(pc - si.sy_addr));
}
