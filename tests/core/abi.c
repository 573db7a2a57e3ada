/*
 * abi.c - the promises of the public interface that no other behaviour
 * test covers: the version string is the header's, dtproc_open() refuses
 * flags it does not know (so that a flag added later is never silently
 * ignored by an older library), dtproc_obj_bias() (0.2) gives the load
 * bias the objects' symbols are offset by, and each version of the calls
 * that fill a caller's dtproc_sym_t writes what its callers allocated
 * (asked of build/lib's libdtproc.so with dlvsym, as an old binary's
 * versioned reference would bind).  Public API only.
 */
#include "harness.h"

#include "dtproc.h"

#include <dlfcn.h>
#include <limits.h>
#include <string.h>

TEST(version_is_the_header_macros)
{
	char want[64];

	snprintf(want, sizeof (want), "%d.%d.%d", DTPROC_VERSION_MAJOR,
	    DTPROC_VERSION_MINOR, DTPROC_VERSION_PATCH);
	CHECK_STR_EQ(dtproc_version(), want);
	/* a static string: the same pointer every time */
	CHECK(dtproc_version() == dtproc_version());
}

TEST(open_rejects_unknown_flags)
{
	static const int flags[] = { 1, 2, 0x100, INT_MIN, -1 };
	dtproc_t *dtp;
	int err;

	for (size_t i = 0; i < sizeof (flags) / sizeof (flags[0]); i++) {
		err = 0;
		CHECK(dtproc_open(flags[i], &err) == NULL);
		CHECK_EQ_INT(err, EINVAL);
	}
	CHECK(dtproc_open(1, NULL) == NULL);	/* no out-parameter: fine */
	err = -1;
	CHECK((dtp = dtproc_open(0, &err)) != NULL);
	CHECK_EQ_INT(err, -1);			/* untouched on success */
	dtproc_close(dtp);
}

struct first_obj {
	char path[4096];
	uintptr_t base;
	int n;
};

static int
first_obj(const char *path, uintptr_t base, int lmid, void *arg)
{
	struct first_obj *f = arg;

	(void) lmid;
	snprintf(f->path, sizeof (f->path), "%s", path);
	f->base = base;
	f->n++;
	return 1;	/* the executable is enough */
}

/*
 * VICTIM (symv or its non-PIE build) grabbed read-only: the executable's
 * bias is its base when it is PIE, 0 when not; a symbol's address minus
 * the bias is its ELF value, the same from any address of the object.
 */
static void
check_bias(const char *victim, int pie)
{
	struct first_obj f = { .n = 0 };
	struct victim v;
	char line[512];
	uintptr_t bias = 1, bias2 = 1, main_addr;
	dtproc_proc_t *pr;
	dtproc_sym_t sym;
	dtproc_t *dtp;
	int err;

	spawn_victim(victim, NULL, &v);
	main_addr = (uintptr_t)line_field(victim_ready(&v, line,
	    sizeof (line)), "main");
	CHECK((dtp = dtproc_open(0, &err)) != NULL);
	CHECK_MSG((pr = dtproc_grab(dtp, v.pid, DTPROC_GRAB_RDONLY)) != NULL,
	    "grab: %s", dtproc_errmsg(dtp));
	CHECK_EQ_INT(dtproc_obj_iter(dtp, pr, first_obj, &f), 1);
	CHECK_EQ_INT(f.n, 1);
	CHECK_EQ_INT(dtproc_obj_bias(dtp, pr, f.base, &bias), 0);
	if (pie)
		CHECK_EQ_INT(bias, f.base);
	else
		CHECK_EQ_INT(bias, 0);
	CHECK_EQ_INT(dtproc_obj_bias(dtp, pr, main_addr, &bias2), 0);
	CHECK_EQ_INT(bias2, bias);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "a.out`main", &sym), 0);
	CHECK_EQ_INT(sym.ds_addr, main_addr);
	CHECK(sym.ds_addr - bias < (pie ? 0x100000 : 0x800000));

	/* nowhere, and in a region with no file: no object */
	bias = 7;
	CHECK_EQ_INT(dtproc_obj_bias(dtp, pr, 0x10, &bias), -ENOENT);
	CHECK_EQ_INT(bias, 7);
	CHECK_EQ_INT(dtproc_errno(dtp), ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no object at 0x10");

	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
	victim_close(&v);
}

TEST(obj_bias_pie)
{
	check_bias("symv", 1);
}

TEST(obj_bias_nopie)
{
	check_bias("nopie", 0);
}

/*
 * dtproc_sym_t as the headers of 0.2 and 0.3 had it, the struct of every
 * program linked then (all bound to dtproc_sym_lookup@DTPROC_0.1).
 */
struct sym_0_3 {
	const char *ds_object;
	const char *ds_name;
	uintptr_t ds_addr;
	uint64_t ds_size;
	uintptr_t ds_offset;
	int ds_lmid;
	const char *ds_path;
	int ds_flags;
	const char *ds_version;
	const char *ds_impl;
	uintptr_t ds_bias;
};
_Static_assert(sizeof (struct sym_0_3) ==
    offsetof(dtproc_sym_t, ds_demangled), "the 0.3 layout is a prefix");

#define CANARY		0xa5
#define CANARY_LEN	64

/* A caller's struct of LEN bytes, then the canary. */
struct sym_buf {
	union {
		struct sym_0_3 old;
		dtproc_sym_t now;
		unsigned char bytes[sizeof (dtproc_sym_t)];
	} u;
	unsigned char canary[CANARY_LEN];
};

typedef int sym_lookup_f(dtproc_t *, dtproc_proc_t *, const char *,
    dtproc_sym_t *);
typedef int sym_addr_f(dtproc_t *, dtproc_proc_t *, uintptr_t,
    dtproc_sym_t *);

/* The .so's calls this test makes. */
struct so_api {
	void *handle;
	dtproc_t *(*open)(int, int *);
	void (*close)(dtproc_t *);
	dtproc_proc_t *(*create)(dtproc_t *, const char *, char *const [],
	    int);
	void (*release)(dtproc_t *, dtproc_proc_t *);
	void (*cont)(dtproc_t *, dtproc_proc_t *);
	const char *(*errmsg)(dtproc_t *);
	sym_lookup_f *lookup_0_1, *lookup_0_4;
	sym_addr_f *addr_0_1, *addr_0_4;
	dtproc_t *dtp;
	dtproc_proc_t *pr;
};

static void *
so_sym(void *h, const char *name, const char *version)
{
	void *p = version != NULL ? dlvsym(h, name, version) : dlsym(h, name);

	CHECK_MSG(p != NULL, "libdtproc.so has no %s%s%s", name,
	    version != NULL ? "@" : "", version != NULL ? version : "");
	return p;
}

static void
so_open(struct so_api *a)
{
	const char *path = build_file("../lib/libdtproc.so.0", R_OK,
	    "libdtproc.so.0");

	CHECK_MSG((a->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) != NULL,
	    "dlopen %s: %s", path, dlerror());
	a->open = so_sym(a->handle, "dtproc_open", NULL);
	a->close = so_sym(a->handle, "dtproc_close", NULL);
	a->create = so_sym(a->handle, "dtproc_create", NULL);
	a->release = so_sym(a->handle, "dtproc_release", NULL);
	a->cont = so_sym(a->handle, "dtproc_continue", NULL);
	a->errmsg = so_sym(a->handle, "dtproc_errmsg", NULL);
	a->lookup_0_1 = so_sym(a->handle, "dtproc_sym_lookup", "DTPROC_0.1");
	a->lookup_0_4 = so_sym(a->handle, "dtproc_sym_lookup", "DTPROC_0.4");
	a->addr_0_1 = so_sym(a->handle, "dtproc_sym_addr", "DTPROC_0.1");
	a->addr_0_4 = so_sym(a->handle, "dtproc_sym_addr", "DTPROC_0.4");
}

static int
so_create_cb(const char *path, char **av, void *arg)
{
	struct so_api *a = arg;

	a->pr = a->create(a->dtp, path, av, DTPROC_STOP_MAIN);
	return a->pr != NULL ? 0 : -1;
}

/* BUF's canary untouched, and the LEN bytes before it written. */
static void
check_canary(const struct sym_buf *b, size_t len, const char *what)
{
	size_t untouched = 0;

	for (size_t i = 0; i < CANARY_LEN; i++)
		CHECK_MSG(b->canary[i] == CANARY,
		    "%s: byte %zu written (the caller's struct has %zu)",
		    what, sizeof (b->u) + i, len);
	for (size_t i = len; i < sizeof (b->u); i++)
		untouched += b->u.bytes[i] == CANARY;
	CHECK_MSG(untouched == sizeof (b->u) - len,
	    "%s: %zu byte(s) past the caller's %zu written",
	    what, sizeof (b->u) - len - untouched, len);
}

/* Every byte of B the canary's, to see which a call writes. */
static void
sym_fill(struct sym_buf *b)
{
	memset(b, CANARY, sizeof (*b));
}

/* The fields of 0.1 to 0.3 the same in OLD as in NOW. */
static void
check_same_0_3(const struct sym_0_3 *old, const dtproc_sym_t *now)
{
	CHECK_STR_EQ(old->ds_object, now->ds_object);
	CHECK(old->ds_name == now->ds_name);
	CHECK_EQ_INT(old->ds_addr, now->ds_addr);
	CHECK_EQ_INT(old->ds_size, now->ds_size);
	CHECK_EQ_INT(old->ds_offset, now->ds_offset);
	CHECK_EQ_INT(old->ds_lmid, now->ds_lmid);
	CHECK(old->ds_path == now->ds_path);
	CHECK_EQ_INT(old->ds_flags, now->ds_flags);
	CHECK(old->ds_version == now->ds_version);
	CHECK(old->ds_impl == now->ds_impl);
	CHECK_EQ_INT(old->ds_bias, now->ds_bias);
}

/*
 * Programs linked against 0.1 to 0.3 call dtproc_sym_lookup@DTPROC_0.1
 * and dtproc_sym_addr@DTPROC_0.1 with the 11-field struct of 0.3 (or
 * smaller): those write no byte past it (no ds_demangled), and give what
 * the default versions give.  The defaults, @@DTPROC_0.4, the symbols a
 * program links against now, fill ds_demangled.  No other version
 * exists: a program can only be bound to one its library defined.
 */
TEST(sym_versions_fill_the_callers_struct)
{
	const size_t len_0_3 = sizeof (struct sym_0_3);
	struct so_api a = { 0 };
	struct sym_buf b0, b1, b4;
	char line[256];
	struct victim v;
	int err;

	so_open(&a);
	CHECK(dlsym(a.handle, "dtproc_sym_lookup") == (void *)a.lookup_0_4);
	CHECK(dlsym(a.handle, "dtproc_sym_addr") == (void *)a.addr_0_4);
	CHECK(dlvsym(a.handle, "dtproc_sym_lookup", "DTPROC_0.2") == NULL);
	CHECK(dlvsym(a.handle, "dtproc_sym_lookup", "DTPROC_0.3") == NULL);
	CHECK((void *)a.lookup_0_1 != (void *)a.lookup_0_4);
	CHECK((void *)a.addr_0_1 != (void *)a.addr_0_4);

	CHECK((a.dtp = a.open(0, &err)) != NULL);
	(void) start_on_pipes("cxxv", NULL, &v, so_create_cb, &a);
	CHECK_MSG(a.pr != NULL, "dtproc_create cxxv: %s", a.errmsg(a.dtp));

	/* a C++ function: mangled, demangled only for the default */
	sym_fill(&b1);
	sym_fill(&b4);
	CHECK_EQ_INT(a.lookup_0_1(a.dtp, a.pr, "a.out`_ZN2ns3Foo3bazEv",
	    &b1.u.now), 0);
	check_canary(&b1, len_0_3, "lookup@DTPROC_0.1");
	CHECK_EQ_INT(a.lookup_0_4(a.dtp, a.pr, "a.out`_ZN2ns3Foo3bazEv",
	    &b4.u.now), 0);
	check_canary(&b4, sizeof (dtproc_sym_t), "lookup@@DTPROC_0.4");
	CHECK_STR_EQ(b4.u.now.ds_name, "_ZN2ns3Foo3bazEv");
	CHECK_STR_EQ(b4.u.now.ds_object, "cxxv");
	CHECK_STR_EQ(b4.u.now.ds_demangled, "ns::Foo::baz()");
	CHECK(b4.u.now.ds_bias != 0 && b4.u.now.ds_addr > b4.u.now.ds_bias);
	check_same_0_3(&b1.u.old, &b4.u.now);

	/* by its address, and its second byte */
	for (uintptr_t off = 0; off < 2; off++) {
		uintptr_t at = b4.u.now.ds_addr + off;

		sym_fill(&b0);
		sym_fill(&b1);
		CHECK_EQ_INT(a.addr_0_1(a.dtp, a.pr, at, &b1.u.now), 0);
		check_canary(&b1, len_0_3, "addr@DTPROC_0.1");
		CHECK_EQ_INT(a.addr_0_4(a.dtp, a.pr, at, &b0.u.now), 0);
		check_canary(&b0, sizeof (dtproc_sym_t), "addr@@DTPROC_0.4");
		CHECK_STR_EQ(b0.u.now.ds_demangled, "ns::Foo::baz()");
		CHECK_EQ_INT(b0.u.now.ds_offset, off);
		check_same_0_3(&b1.u.old, &b0.u.now);
	}

	/* the 0.2 fields: a versioned libc name, its version and bias */
	sym_fill(&b1);
	sym_fill(&b4);
	CHECK_EQ_INT(a.lookup_0_1(a.dtp, a.pr,
	    "libc.so.6`pthread_cond_wait", &b1.u.now), 0);
	check_canary(&b1, len_0_3, "lookup@DTPROC_0.1");
	CHECK_EQ_INT(a.lookup_0_4(a.dtp, a.pr,
	    "libc.so.6`pthread_cond_wait", &b4.u.now), 0);
	check_canary(&b4, sizeof (dtproc_sym_t), "lookup@@DTPROC_0.4");
	CHECK_STR_EQ(b1.u.old.ds_version, "GLIBC_2.3.2");
	CHECK(b1.u.old.ds_bias != 0);
	CHECK_EQ_INT(b1.u.old.ds_flags & DTPROC_SYM_COMPAT, 0);
	CHECK(b4.u.now.ds_demangled == NULL);
	check_same_0_3(&b1.u.old, &b4.u.now);

	/* failures write nothing */
	sym_fill(&b1);
	CHECK(a.lookup_0_1(a.dtp, a.pr, "a.out`no_such_fn", &b1.u.now) < 0);
	check_canary(&b1, 0, "failed lookup@DTPROC_0.1");

	a.cont(a.dtp, a.pr);
	CHECK_PREFIX(victim_expect(&v, line, sizeof (line), "cxx "), "cxx 1 ");
	a.release(a.dtp, a.pr);
	a.close(a.dtp);
	victim_close(&v);
	dlclose(a.handle);
}
