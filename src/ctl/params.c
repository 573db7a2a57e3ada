/*
 * params.c - a function's parameters from DWARF, and an argument printed
 * as its type says (dtproc_fn_params, dtproc_arg_format).
 *
 * The DWARF work is the symbols layer's (sym/params.c): this file takes
 * the handle's lock around it, as the other symbol calls do, and copies
 * the description out.  The strings and dp_priv point into the object's
 * table, which lives until the process's objects change or the handle
 * goes, as a dtproc_sym_t's strings do.
 *
 * Formatting needs no lock but dtproc_read's (a char * is read from the
 * process): it works from any thread, from a probe's callback (whose
 * thread already holds the lock) and after the process is gone (a string
 * then shows as its pointer).
 */
#include "ctl.h"
#include "sym/sym.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CTL_STR_MAX	64	/* bytes of a string shown, then "..." */

_Static_assert(SYM_T_UNKNOWN == DTPROC_T_UNKNOWN &&
    SYM_T_VOID == DTPROC_T_VOID && SYM_T_INT == DTPROC_T_INT &&
    SYM_T_UINT == DTPROC_T_UINT && SYM_T_PTR == DTPROC_T_PTR &&
    SYM_T_STR == DTPROC_T_STR && SYM_T_ENUM == DTPROC_T_ENUM &&
    SYM_T_BOOL == DTPROC_T_BOOL && SYM_T_FLOAT == DTPROC_T_FLOAT &&
    SYM_T_STRUCT == DTPROC_T_STRUCT, "SYM_T_* are DTPROC_T_*");

static void
ctl_param_out(const sym_param_t *sp, dtproc_param_t *p)
{
	p->dp_name = sp->pa_name;
	p->dp_type = sp->pa_type;
	p->dp_kind = sp->pa_kind;
	p->dp_size = sp->pa_size;
	p->dp_arg = sp->pa_arg;
	p->dp_priv = sp->pa_enum;
}

DTPROC_API int
dtproc_fn_params(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t func,
    dtproc_param_t *params, int max, dtproc_param_t *ret)
{
	const sym_fn_t *fn;
	bool took;
	int rv;

	(void) dtp;
	if (max < 0 || (max > 0 && params == NULL))
		return err_set(EINVAL, "pid %d: no room for parameters",
		    (int)pr->dpr_pid);
	ctl_enter(pr, &took);
	if (pr->dpr_sym == NULL) {
		rv = ctl_gone(pr, 0);
	} else if ((rv = sym_fn_params(pr->dpr_sym, func, &fn)) == 0) {
		for (int i = 0; i < fn->fn_nparams && i < max; i++)
			ctl_param_out(&fn->fn_params[i], &params[i]);
		if (ret != NULL)
			ctl_param_out(&fn->fn_ret, ret);
		rv = fn->fn_nparams;
	}
	ctl_leave(pr, took);
	return rv;
}

/*
 * The string at ADDR, quoted and escaped, into OUT (room for the worst
 * case: CTL_STR_MAX bytes as \xNN, quotes, "..."); false if not even its
 * first byte can be read.  Read a page piece at a time, so a string that
 * ends just before an unmapped page still shows.
 */
static bool
ctl_str(dtproc_t *dtp, dtproc_proc_t *pr, uintptr_t addr, char *out,
    size_t outlen)
{
	unsigned char b[CTL_STR_MAX + 1];
	size_t n = 0, o = 0;
	bool end = false;

	while (n < sizeof (b)) {
		size_t want = 4096 - ((addr + n) & 4095);
		ssize_t got;

		if (want > sizeof (b) - n)
			want = sizeof (b) - n;
		if ((got = dtproc_read(dtp, pr, addr + n, b + n, want)) <= 0)
			break;
		if (memchr(b + n, '\0', (size_t)got) != NULL) {
			n += strnlen((char *)b + n, (size_t)got);
			end = true;
			break;
		}
		n += (size_t)got;
	}
	if (n == 0 && !end)
		return false;
	out[o++] = '"';
	for (size_t i = 0; i < n && i < CTL_STR_MAX && o + 8 < outlen; i++) {
		unsigned char c = b[i];

		if (c == '\n' || c == '\t' || c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	/* more than shown: longer than the bound, or unreadable before its
	   end */
	if (!end || n > CTL_STR_MAX)
		o += (size_t)snprintf(out + o, outlen - o, "...");
	out[o] = '\0';
	return true;
}

DTPROC_API int
dtproc_arg_format(dtproc_t *dtp, dtproc_proc_t *pr, const dtproc_param_t *p,
    uint64_t val, char *buf, size_t len)
{
	char s[4 * CTL_STR_MAX + 16];
	uint64_t v;

	if (p == NULL || (buf == NULL && len > 0))
		return err_set(EINVAL, "dtproc_arg_format: no parameter");
	switch (p->dp_kind) {
	case DTPROC_T_INT:
		v = sym_canon(val, p->dp_size, 1);
		return snprintf(buf, len, "%" PRId64, (int64_t)v);
	case DTPROC_T_UINT:
		v = sym_canon(val, p->dp_size, 0);
		return snprintf(buf, len, "%" PRIu64, v);
	case DTPROC_T_BOOL:
		v = sym_canon(val, p->dp_size > 0 ? p->dp_size : 1, 0);
		return snprintf(buf, len, "%s", v != 0 ? "true" : "false");
	case DTPROC_T_ENUM:
		return sym_enum_format(p->dp_priv, val, buf, len);
	case DTPROC_T_STR:
		if (val == 0)
			return snprintf(buf, len, "NULL");
		if (ctl_str(dtp, pr, (uintptr_t)val, s, sizeof (s)))
			return snprintf(buf, len, "%s", s);
		return snprintf(buf, len, "%#" PRIx64, val);
	case DTPROC_T_FLOAT:
	case DTPROC_T_STRUCT:
		return snprintf(buf, len, "<unsupported>");
	case DTPROC_T_PTR:
	default:
		/* a pointer, or a type we do not know: its 64 bits */
		return snprintf(buf, len, "0x%" PRIx64, val);
	}
}
