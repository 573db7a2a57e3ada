/*
 * desc.c - probe descriptions of `dtproc trace -f`.
 *
 * Two spellings reach the same (object, function, kind, offset):
 *
 *	[OBJ`]FUNC		entry (what -f always took)
 *	[OBJ`]FUNC:NAME		NAME: entry, return, a hex offset, a glob
 *	[OBJ`]FUNC+OFF		offset probe, OFF hex (+0x1a or +1a)
 *	MOD:FUNC:NAME		DTrace's fields, filled from the right
 *	PROV:MOD:FUNC:NAME	PROV: pid$target, pidPID, a glob, or empty
 *
 * and C++ and Rust names, demangled, in FUNC: ns::Foo::bar (desc_parse).
 *
 * DTrace's fields fill from the right, so FUNC:NAME is both forms at
 * once.  An empty field matches anything, as in DTrace: an empty module
 * every object, an empty function every function, an empty provider
 * every traced process.  An empty NAME is where we part from DTrace:
 * there it is every probe of the function, every instruction's offset
 * probe included; here it is entry and return, since a probe per
 * instruction of every match is never what a counting user means, and
 * a NAME glob likewise matches only "entry" and "return".
 *
 * USDT probes (sys/sdt.h) have their own two spellings, judged first
 * (desc_usdt below):
 *
 *	usdt:[OBJ`]PROVIDER:NAME	globs in each part; an empty part,
 *					or a missing NAME, matches any
 *	PROV:MOD:FUNC:NAME		DTrace's, PROV not pid: python$target,
 *					python1234, python*; NAME's '-' is
 *					'__' (function-entry is the note's
 *					function__entry), as in DTrace
 *
 * Only the syntax is judged here.  Whether an offset falls on an
 * instruction boundary needs the function's code (the library decodes
 * it when the probe is armed), and whether pidPID is being traced needs
 * the process (desc_pid_check, once its pid is known).
 */
#include "desc.h"
#include "dtproc.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
desc_isglob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Hex digits (after an optional 0x) filling all of S: 0, or -1. */
static int
desc_hex(const char *s, size_t *off)
{
	size_t n = 0;
	int digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++, digits++) {
		int v;

		if (!isxdigit((unsigned char)*s) || digits >= 16)
			return -1;
		v = isdigit((unsigned char)*s) ? *s - '0' :
		    tolower((unsigned char)*s) - 'a' + 10;
		n = n * 16 + (size_t)v;
	}
	if (digits == 0)
		return -1;
	*off = n;
	return 0;
}

/* DTrace's NAME field into D's kind: 0, or -1 with WHY. */
static int
desc_name(const char *name, desc_t *d, char *why, size_t len)
{
	if (*name == '\0') {
		d->dd_kinds = DTPROC_FP_ENTRY | DTPROC_FP_RETURN;
		return 0;
	}
	if (strcmp(name, "entry") == 0) {
		d->dd_kinds = DTPROC_FP_ENTRY;
		return 0;
	}
	if (strcmp(name, "return") == 0) {
		d->dd_kinds = DTPROC_FP_RETURN;
		return 0;
	}
	if (desc_isglob(name)) {
		if (fnmatch(name, "entry", 0) == 0)
			d->dd_kinds |= DTPROC_FP_ENTRY;
		if (fnmatch(name, "return", 0) == 0)
			d->dd_kinds |= DTPROC_FP_RETURN;
		if (d->dd_kinds != 0)
			return 0;
		snprintf(why, len, "name '%s' matches neither entry nor return "
		    "(offsets are not globbed)", name);
		return -1;
	}
	if (desc_hex(name, &d->dd_off) == 0) {
		d->dd_kinds = DTPROC_FP_OFFSET;
		return 0;
	}
	snprintf(why, len, "unknown probe name '%s' (entry, return or a hex "
	    "offset)", name);
	return -1;
}

/*
 * The provider field: empty, or pid followed by $target, a decimal pid
 * or anything with a glob in it (judged against the pid later).
 */
static int
desc_prov(const char *prov, char *why, size_t len)
{
	const char *p = prov + 3;

	if (*prov == '\0' || desc_isglob(prov))
		return 0;
	if (strncmp(prov, "pid", 3) == 0 && (strcmp(p, "$target") == 0 ||
	    (*p >= '1' && *p <= '9' && p[strspn(p, "0123456789")] == '\0')))
		return 0;
	snprintf(why, len, "provider '%s' is not pid$target or pidPID", prov);
	return -1;
}

/* [OBJ`]FUNC into D: 0, or -1 with WHY. */
static int
desc_objfunc(const char *s, size_t n, desc_t *d, char *why, size_t len)
{
	const char *tick = memchr(s, '`', n);

	if (n == 0) {
		snprintf(why, len, "empty probe");
		return -1;
	}
	if (tick == NULL) {
		if ((d->dd_func = strndup(s, n)) == NULL)
			goto nomem;
		return 0;
	}
	if (memchr(tick + 1, '`', n - (size_t)(tick + 1 - s)) != NULL) {
		snprintf(why, len, "more than one '`' (the form is "
		    "[OBJECT`]FUNCTION)");
		return -1;
	}
	if (tick == s) {
		snprintf(why, len, "empty object before '`'");
		return -1;
	}
	if (tick + 1 == s + n) {
		snprintf(why, len, "empty function after '`'");
		return -1;
	}
	d->dd_obj = strndup(s, (size_t)(tick - s));
	d->dd_func = strndup(tick + 1, n - (size_t)(tick + 1 - s));
	if (d->dd_obj != NULL && d->dd_func != NULL)
		return 0;
nomem:
	snprintf(why, len, "out of memory");
	return -1;
}

/* The form without ':': [OBJ`]FUNC[+OFF]. */
static int
desc_short(const char *spec, desc_t *d, char *why, size_t len)
{
	const char *tick = strchr(spec, '`');
	/* libstdc++.so.6`f: a '+' in the object is no offset */
	const char *plus = strchr(tick != NULL ? tick + 1 : spec, '+');

	if (plus == NULL) {
		d->dd_kinds = DTPROC_FP_ENTRY;
		d->dd_plain = 1;
		return desc_objfunc(spec, strlen(spec), d, why, len);
	}
	if (desc_hex(plus + 1, &d->dd_off) != 0) {
		snprintf(why, len, "offset '%s' is not a hex number (FUNC+0x1a "
		    "or FUNC+1a)", plus + 1);
		return -1;
	}
	if (plus == spec || plus[-1] == '`') {
		snprintf(why, len, "no function before '+'");
		return -1;
	}
	d->dd_kinds = DTPROC_FP_OFFSET;
	return desc_objfunc(spec, (size_t)(plus - spec), d, why, len);
}

/* The forms with ':': FUNC:NAME (FUNC may be OBJ`FUNC), MOD:FUNC:NAME,
 * PROV:MOD:FUNC:NAME. */
static int
desc_fields(const char *spec, int nf, desc_t *d, char *why, size_t len)
{
	const char *f[4];
	size_t fl[4];
	const char *p = spec;
	int i;

	for (i = 0; i < nf; i++) {
		const char *c = strchr(p, ':');

		f[i] = p;
		fl[i] = c != NULL ? (size_t)(c - p) : strlen(p);
		p = c != NULL ? c + 1 : p + fl[i];
	}
	const char *name = f[nf - 1], *func = f[nf - 2];
	size_t funcl = fl[nf - 2];
	const char *tick = memchr(func, '`', funcl);
	const char *fn = tick != NULL ? tick + 1 : func;

	if (memchr(fn, '+', funcl - (size_t)(fn - func)) != NULL) {
		snprintf(why, len, "both '+OFFSET' and ':NAME' (use FUNC+OFF or "
		    "FUNC:OFF)");
		return -1;
	}
	if (nf > 2 && memchr(spec, '`', strlen(spec)) != NULL) {
		snprintf(why, len, "'`' in DTrace's form (PROVIDER:MODULE:"
		    "FUNCTION:NAME)");
		return -1;
	}
	if (desc_name(name, d, why, len) != 0)
		return -1;
	if (nf == 4) {
		if ((d->dd_prov = strndup(f[0], fl[0])) == NULL)
			goto nomem;
		if (desc_prov(d->dd_prov, why, len) != 0)
			return -1;
	}
	if (nf >= 3 && fl[nf - 3] > 0 &&
	    (d->dd_obj = strndup(f[nf - 3], fl[nf - 3])) == NULL)
		goto nomem;
	if (funcl > 0)
		return desc_objfunc(func, funcl, d, why, len);
	if ((d->dd_func = strdup("*")) == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(why, len, "out of memory");
	return -1;
}

/* S (N bytes) with each '-' made "__", or "*" when empty; NULL: no memory. */
static char *
desc_usdt_name(const char *s, size_t n)
{
	char *out = malloc(2 * n + 2), *o = out;

	if (out == NULL)
		return NULL;
	if (n == 0)
		*o++ = '*';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-') {
			*o++ = '_';
			*o++ = '_';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/*
 * The provider field F (N bytes) of DTrace's form: its base (*BLEN
 * bytes) without a "$target" or pid suffix, that pid in *PID (0: none).
 * Whether it is the pid provider's: a USDT provider is named as DTrace
 * names them, with "$target", a pid or a glob (python$target,
 * python1234, py*); anything else (empty, pid..., a glob matching
 * "pid", another word) is left to the pid provider's rules.
 */
static bool
desc_prov_pid(const char *f, size_t n, size_t *blen, pid_t *pid)
{
	size_t d = n;
	bool named = false;
	char base[256];

	*pid = 0;
	if (n >= 7 && strncmp(f + n - 7, "$target", 7) == 0) {
		n -= 7;
		named = true;
	} else {
		while (d > 0 && isdigit((unsigned char)f[d - 1]))
			d--;
		if (d < n && f[d] != '0' && d > 0 && n - d < 10) {
			*pid = (pid_t)atoi(f + d);
			n = d;
			named = true;
		}
	}
	*blen = n;
	if (n == 0 || n >= sizeof (base) || strncmp(f, "pid", 3) == 0)
		return true;
	memcpy(base, f, n);
	base[n] = '\0';
	if (!named && strpbrk(base, "*?[") == NULL)
		return true;
	return fnmatch(base, "pid", 0) == 0;
}

/*
 * A USDT description into D: 0, -1 with WHY, or 1 when SPEC is not one
 * (a pid provider's, for the rest of desc_parse).
 */
static int
desc_usdt(const char *spec, desc_t *d, char *why, size_t len)
{
	const char *f[4], *p = spec, *c;
	size_t fl[4], blen;
	int nf = 0;

	if (strncmp(spec, "usdt:", 5) == 0) {
		const char *rest = spec + 5, *tick = strchr(rest, '`');
		const char *pn = tick != NULL ? tick + 1 : rest;

		if (tick != NULL && (tick == rest || strchr(pn, '`') != NULL)) {
			snprintf(why, len, "bad object in usdt:[OBJECT`]"
			    "PROVIDER:NAME");
			return -1;
		}
		if ((c = strchr(pn, ':')) != NULL && strchr(c + 1, ':') != NULL) {
			snprintf(why, len, "more than PROVIDER:NAME after "
			    "'usdt:'");
			return -1;
		}
		d->dd_kinds = DESC_USDT;
		if (tick != NULL && (d->dd_obj = strndup(rest,
		    (size_t)(tick - rest))) == NULL)
			goto nomem;
		if ((d->dd_uprov = desc_usdt_name(pn, c != NULL ?
		    (size_t)(c - pn) : strlen(pn))) == NULL ||
		    (d->dd_uname = desc_usdt_name(c != NULL ? c + 1 : "",
		    c != NULL ? strlen(c + 1) : 0)) == NULL)
			goto nomem;
		return 0;
	}
	for (nf = 0; nf < 4; nf++) {
		f[nf] = p;
		c = strchr(p, ':');
		fl[nf] = c != NULL ? (size_t)(c - p) : strlen(p);
		if (c == NULL)
			break;
		p = c + 1;
	}
	if (nf != 3 || desc_prov_pid(f[0], fl[0], &blen, &d->dd_upid)) {
		d->dd_upid = 0;
		return 1;	/* not four fields, or the pid provider */
	}
	if (memchr(spec, '`', strlen(spec)) != NULL) {
		snprintf(why, len, "'`' in DTrace's form (PROVIDER:MODULE:"
		    "FUNCTION:NAME)");
		return -1;
	}
	d->dd_kinds = DESC_USDT;
	if ((d->dd_uprov = strndup(f[0], blen)) == NULL ||
	    (fl[1] > 0 && (d->dd_obj = strndup(f[1], fl[1])) == NULL) ||
	    (fl[2] > 0 && (d->dd_func = strndup(f[2], fl[2])) == NULL) ||
	    (d->dd_uname = desc_usdt_name(f[3], fl[3])) == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(why, len, "out of memory");
	return -1;
}

/* SPEC's form chosen by its colons (none, or DTrace's fields). */
static int
desc_parse_form(const char *spec, desc_t *d, char *why, size_t len)
{
	int colons = 0, rv;

	memset(d, 0, sizeof (*d));
	if ((rv = desc_usdt(spec, d, why, len)) != 1) {
		if (rv != 0)
			desc_free(d);
		return rv;
	}
	for (const char *p = spec; *p != '\0'; p++)
		colons += *p == ':';
	if (*spec == '\0') {
		snprintf(why, len, "empty probe");
		return -1;
	}
	if (colons > 3) {
		snprintf(why, len, "more than four ':' fields (the form is "
		    "PROVIDER:MODULE:FUNCTION:NAME)");
		return -1;
	}
	rv = colons == 0 ? desc_short(spec, d, why, len) :
	    desc_fields(spec, colons + 1, d, why, len);
	if (rv != 0)
		desc_free(d);
	return rv;
}

/* The scope separators put back in S (DESC_SCOPE bytes to ':'). */
#define DESC_SCOPE	'\x01'

static void
desc_unscope(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s == DESC_SCOPE)
			*s = ':';
}

/*
 * "ns::*" reads in DTrace's form as module ns, any function, entry and
 * return; a user writing it means the functions of namespace ns.  An
 * empty function between "::" whose module has no '.' (objects have
 * one: libc.so.6, a.out) and whose name is a glob is taken as a scope.
 */
static bool
desc_scope_likely(const char *spec, const desc_t *d)
{
	const char *name = strrchr(spec, ':') + 1;
	const char *sc = strstr(spec, "::");

	return d->dd_kinds != DESC_USDT && d->dd_prov == NULL &&
	    d->dd_obj != NULL && strchr(d->dd_obj, '.') == NULL &&
	    strcmp(d->dd_func, "*") == 0 &&
	    sc != NULL && sc + 2 == name && desc_isglob(name);
}

/*
 * C++ and Rust names have "::" in them (ns::Foo::bar, mycrate::foo),
 * and so has DTrace's form with an empty field (pid$target::malloc:
 * entry).  DTrace's reading comes first, as it always did; where it
 * fails, but for a wrong provider ("syscall::f:entry" is DTrace's form:
 * "ns::f:entry" must name its object), each "::" between two other
 * characters is read as a scope separator
 * and the rest parsed again: "ns::Foo::bar*", "a.out`ns::f:return",
 * "pid$target:a.out:ns::f:entry".
 */
int
desc_parse(const char *spec, desc_t *d, char *why, size_t len)
{
	char why2[256], *sc;
	bool scoped = false;
	int rv;

	if ((rv = desc_parse_form(spec, d, why, len)) == 0 &&
	    !desc_scope_likely(spec, d))
		return 0;
	if (rv == 0)
		desc_free(d);
	rv = -1;
	/* PROV::FUNC:NAME is DTrace's: a wrong provider is said so */
	if (strncmp(why, "provider '", 10) == 0) {
		size_t n = strlen(why);

		if (n < len)
			snprintf(why + n, len - n, " (a C++ or Rust name in this "
			    "form: give its object, a.out`ns::f:entry)");
		return rv;
	}
	if ((sc = strdup(spec)) == NULL)
		return rv;
	for (char *p = sc; p[0] != '\0'; p++) {
		if (p > sc && p[-1] != ':' && p[0] == ':' && p[1] == ':' &&
		    p[2] != ':' && p[2] != '\0') {
			p[0] = p[1] = DESC_SCOPE;
			scoped = true;
		}
	}
	if (scoped && (rv = desc_parse_form(sc, d, why2, sizeof (why2))) ==
	    0) {
		desc_unscope(d->dd_obj);
		desc_unscope(d->dd_func);
	} else if (scoped && strstr(why, "more than four") != NULL) {
		/* the scoped reading's complaint: what the user meant */
		desc_unscope(why2);
		snprintf(why, len, "%s", why2);
	}
	free(sc);
	return rv;
}

void
desc_free(desc_t *d)
{
	free(d->dd_prov);
	free(d->dd_obj);
	free(d->dd_func);
	free(d->dd_uprov);
	free(d->dd_uname);
	memset(d, 0, sizeof (*d));
}

int
desc_pid_check(const desc_t *d, pid_t pid, char *why, size_t len)
{
	char want[32], got[64];
	const char *prov = d->dd_prov;
	const char *t;

	if (d->dd_upid != 0 && d->dd_upid != pid) {
		snprintf(why, len, "provider '%s%d' names no traced process "
		    "(tracing pid %d)", d->dd_uprov, (int)d->dd_upid, (int)pid);
		return -1;
	}
	if (prov == NULL || *prov == '\0')
		return 0;
	snprintf(want, sizeof (want), "pid%d", (int)pid);
	/* $target is every traced process: this one */
	if ((t = strstr(prov, "$target")) != NULL) {
		snprintf(got, sizeof (got), "%.*s%d%s", (int)(t - prov), prov,
		    (int)pid, t + 7);
		prov = got;
	}
	if (fnmatch(prov, want, 0) == 0)
		return 0;
	snprintf(why, len, "provider '%s' names no traced process (tracing "
	    "pid %d)", d->dd_prov, (int)pid);
	return -1;
}

int
desc_label(char *buf, size_t len, const char *func, int kind, size_t off,
    int entry_named)
{
	if (kind == DTPROC_FP_RETURN)
		return snprintf(buf, len, "%s:return", func);
	if (kind == DESC_USDT)
		return snprintf(buf, len, "%s", func);	/* PROVIDER:NAME */
	if (kind == DTPROC_FP_OFFSET)
		return snprintf(buf, len, "%s+0x%zx", func, off);
	return snprintf(buf, len, "%s%s", func, entry_named ? ":entry" : "");
}
