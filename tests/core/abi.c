/*
 * abi.c - the promises of the public interface that no other behaviour
 * test covers: the version string is the header's, dtproc_open() refuses
 * flags it does not know (so that a flag added later is never silently
 * ignored by an older library), and dtproc_obj_bias() (0.2) gives the
 * load bias the objects' symbols are offset by.  Public API only.
 */
#include "harness.h"

#include "dtproc.h"

#include <limits.h>

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
