/*
 * symtest.h - helpers shared by the symbol and rtld tests (sym.c, rtld.c):
 * test library paths, a read-only view of a process (grab + symbols +
 * agent), lookups that must succeed, and the fields of victim lines.
 * Header only: every .c file in tests/core but harness.c is a test program.
 */
#ifndef DTPROC_TEST_SYMTEST_H
#define DTPROC_TEST_SYMTEST_H

#include "harness.h"
#include "rtld/rtld.h"
#include "sym/sym.h"

#include <elf.h>
#include <limits.h>

/* $DTPROC_BUILD/tests/libs/libNAME.so, made absolute; fails if missing. */
static inline const char *
testlib_path(const char *name)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof (rel), "libs/lib%s.so", name);
	return build_file(rel, R_OK, name);
}

static inline const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* A read-only view: no stop, no tracing. */
struct insp {
	pt_proc_t *P;
	sym_proc_t *S;
	rtld_t *R;
	int refresh;	/* rtld_refresh's last result */
};

/*
 * rtld_refresh; its result.  The victims are inspected at rest (after a
 * line they print), never while a namespace is changing: no -EAGAIN.
 */
static inline int
insp_refresh(struct insp *in)
{
	in->refresh = rtld_refresh(in->R);
	return in->refresh;
}

static inline void
insp_open(pid_t pid, struct insp *in)
{
	int rc;

	memset(in, 0, sizeof (*in));
	err_clear();
	rc = pt_grab(pid, PT_GRAB_RDONLY, &in->P);
	CHECK_MSG(rc == 0, "pt_grab(%d, RDONLY): %d: %s", (int)pid, rc,
	    err_msg());
	CHECK((in->S = sym_proc_new(pid)) != NULL);
	CHECK((in->R = rtld_new(in->P, in->S)) != NULL);
	(void) insp_refresh(in);
}

/* Open and require a successful walk of the link maps. */
static inline void
insp_open_ok(pid_t pid, struct insp *in)
{
	insp_open(pid, in);
	CHECK_MSG(in->refresh == 0, "rtld_refresh(%d): %d (%s)", (int)pid,
	    in->refresh, strerror(-in->refresh));
}

static inline void
insp_close(struct insp *in)
{
	rtld_free(in->R);
	sym_proc_free(in->S);
	if (in->P != NULL)
		(void) pt_release(in->P, PT_RELEASE_DEFAULT);
	memset(in, 0, sizeof (*in));
}

/* A name lookup that must succeed. */
#define LOOKUP_OK(S, spec, si) do {					\
	int r_ = sym_lookup_name((S), (spec), (si));			\
	if (r_ != 0)							\
		FAIL("sym_lookup_name(\"%s\"): %d: %s", (spec), r_,	\
		    err_msg());						\
} while (0)

/* A name lookup that must fail with RC, its message naming WHAT. */
#define LOOKUP_FAILS(S, spec, rc, what) do {				\
	sym_info_t si_;							\
	int r_ = sym_lookup_name((S), (spec), &si_);			\
	if (r_ != (rc))							\
		FAIL("sym_lookup_name(\"%s\"): %d, not %d (%s)",	\
		    (spec), r_, (rc), r_ == 0 ? "found" : err_msg());	\
	CHECK_CONTAINS(err_msg(), (what));				\
} while (0)

/* An address lookup that must succeed. */
#define ADDR_OK(S, addr, si) do {					\
	int r_ = sym_lookup_addr((S), (uintptr_t)(addr), (si));	\
	if (r_ != 0)							\
		FAIL("sym_lookup_addr(%#lx): %d", (unsigned long)(addr), r_); \
} while (0)

#define CHECK_ADDR_EQ(a, b) CHECK_EQ_AS(unsigned long, "%#lx", a, b)

/* sym_format into a per-call buffer. */
static inline const char *
fmt_addr(const sym_info_t *si, uintptr_t addr)
{
	static __thread char bufs[4][1024];
	static __thread int next;
	char *buf = bufs[next++ % 4];

	return sym_format(si, addr, buf, 1024);
}

/* The string value of "KEY=value" in LINE (to the next space). */
static inline const char *
line_str(const char *line, const char *key, char *buf, size_t n)
{
	size_t klen = strlen(key);

	for (const char *p = line; (p = strstr(p, key)) != NULL; p++) {
		if ((p == line || p[-1] == ' ') && p[klen] == '=') {
			size_t l = strcspn(p + klen + 1, " ");

			if (l >= n)
				l = n - 1;
			memcpy(buf, p + klen + 1, l);
			buf[l] = '\0';
			return buf;
		}
	}
	FAIL("no %s= in \"%s\"", key, line);
}

/* Index of the first object named NAME (basename) in LMID (-1: any). */
static inline int
find_object(sym_proc_t *S, const char *name, int lmid, sym_objinfo_t *oi)
{
	for (size_t i = 0; sym_object(S, i, oi) == 0; i++) {
		if (strcmp(oi->so_name, name) == 0 &&
		    (lmid < 0 || oi->so_lmid == lmid))
			return (int)i;
	}
	return -1;
}

/* The file mapped at ADDR in PID, or "" (pt_maps_read). */
static inline const char *
mapped_path(pid_t pid, uintptr_t addr, char *buf, size_t n)
{
	pt_map_t *maps = NULL;
	size_t nm = 0;

	buf[0] = '\0';
	if (pt_maps_read(pid, &maps, &nm) != 0)
		return buf;
	for (size_t i = 0; i < nm; i++) {
		if (addr >= maps[i].pm_start && addr < maps[i].pm_end) {
			snprintf(buf, n, "%s", maps[i].pm_path);
			break;
		}
	}
	pt_maps_free(maps, nm);
	return buf;
}

#endif /* DTPROC_TEST_SYMTEST_H */
