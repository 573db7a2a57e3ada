/*
 * sym.c - the symbols layer on real processes, read-only (no stop): lookups
 * by name and by address in PIE, non-PIE, stripped and static executables,
 * in a DT_NEEDED library, an interposed symbol, dlopen'd and dlmopen'd
 * libraries, a library deleted after it was mapped, libc with its debug
 * file; the forms of object names; sym_format; errors; files that are not
 * ELF or are truncated; glob iteration; the shared table cache.
 *
 * The victims print the real addresses of their functions (%p), so every
 * lookup is compared with what the program itself sees.
 */
#include "symtest.h"

#include <gelf.h>
#include <grp.h>
#include <libelf.h>
#include <sys/stat.h>

/* ---- victims ---- */

/* Spawn symv-like victim NAME and read its ready line into LINE. */
static void
symv_start(const char *name, struct victim *v, char *line, size_t n)
{
	spawn_victim(name, NULL, v);
	victim_ready(v, line, n);
}

/* Let a symv-like victim finish; it must exit 0. */
static void
victim_finish(struct victim *v)
{
	int st;

	victim_go(v);
	st = victim_wait(v);
	CHECK_EXITED(st, 0);
}

/* The main/function checks shared by the PIE and non-PIE tests. */
static void
check_exe_by_name(const char *name, int pie)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si, s2;
	uintptr_t m, f, ehdr;

	symv_start(name, &v, line, sizeof (line));
	m = line_field(line, "main");
	f = line_field(line, "func");
	ehdr = line_field(line, "ehdr");
	insp_open_ok(v.pid, &in);

	LOOKUP_OK(in.S, "a.out`main", &si);
	CHECK_ADDR_EQ(si.sy_addr, m);
	CHECK_STR_EQ(si.sy_name, "main");
	CHECK_STR_EQ(si.sy_object, name);
	CHECK_EQ_INT(si.sy_type, STT_FUNC);
	CHECK(si.sy_size > 0);
	CHECK_EQ_INT(si.sy_lmid, 0);
	CHECK_ADDR_EQ(si.sy_bias, pie ? ehdr : 0);

	LOOKUP_OK(in.S, "a.out`symv_func", &si);
	CHECK_ADDR_EQ(si.sy_addr, f);
	CHECK(si.sy_size > 0x12);
	/* unqualified: the executable is searched first */
	LOOKUP_OK(in.S, "symv_func", &s2);
	CHECK_ADDR_EQ(s2.sy_addr, f);
	LOOKUP_OK(in.S, "main", &s2);
	CHECK_ADDR_EQ(s2.sy_addr, m);
	/* data: the flags */
	LOOKUP_OK(in.S, "a.out`ctor_ran", &s2);
	CHECK_ADDR_EQ(s2.sy_addr, line_field(line, "ctor_ran"));
	CHECK_EQ_INT(s2.sy_type, STT_OBJECT);
	CHECK_EQ_INT(s2.sy_size, sizeof (int));
	insp_close(&in);
	victim_finish(&v);
}

static void
check_exe_by_addr(const char *name, int pie)
{
	char line[2048], want[512];
	struct victim v;
	struct insp in;
	sym_info_t si, sm;
	uintptr_t m, f, ehdr;

	symv_start(name, &v, line, sizeof (line));
	m = line_field(line, "main");
	f = line_field(line, "func");
	ehdr = line_field(line, "ehdr");
	insp_open_ok(v.pid, &in);

	ADDR_OK(in.S, f, &si);
	CHECK_STR_EQ(si.sy_name, "symv_func");
	CHECK_STR_EQ(si.sy_object, name);
	CHECK_ADDR_EQ(si.sy_addr, f);
	CHECK_EQ_INT(si.sy_offset, 0);
	snprintf(want, sizeof (want), "%s`symv_func", name);
	CHECK_STR_EQ(fmt_addr(&si, f), want);

	ADDR_OK(in.S, f + 0x12, &si);
	CHECK_STR_EQ(si.sy_name, "symv_func");
	CHECK_EQ_INT(si.sy_offset, 0x12);
	snprintf(want, sizeof (want), "%s`symv_func+0x12", name);
	CHECK_STR_EQ(fmt_addr(&si, f + 0x12), want);

	/* the last byte of main is main's; the size agrees with by-name */
	LOOKUP_OK(in.S, "a.out`main", &sm);
	ADDR_OK(in.S, m + sm.sy_size - 1, &si);
	CHECK_STR_EQ(si.sy_name, "main");
	CHECK_EQ_INT(si.sy_offset, sm.sy_size - 1);

	/*
	 * Inside the executable but under no symbol: its ELF header.  (A
	 * non-PIE executable has __ehdr_start there, at a non-zero address,
	 * unsized: it covers the header.)
	 */
	ADDR_OK(in.S, ehdr + 0x10, &si);
	CHECK_STR_EQ(si.sy_object, name);
	if (pie) {
		CHECK_MSG(si.sy_name == NULL, "ELF header covered by %s",
		    si.sy_name);
		snprintf(want, sizeof (want), "%s`0x10", name);
	} else {
		CHECK_STR_EQ(si.sy_name, "__ehdr_start");
		snprintf(want, sizeof (want), "%s`__ehdr_start+0x10", name);
	}
	CHECK_STR_EQ(fmt_addr(&si, ehdr + 0x10), want);
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_pie_by_name)
{
	check_exe_by_name("symv", 1);
}

TEST(sym_pie_by_addr)
{
	check_exe_by_addr("symv", 1);
}

TEST(sym_nopie_by_name)
{
	check_exe_by_name("nopie", 0);
}

TEST(sym_nopie_by_addr)
{
	check_exe_by_addr("nopie", 0);
}

/* libsymlib.so, linked by the executable (DT_NEEDED). */
static void
check_needed_lib(const char *name)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si, s2;
	uintptr_t lf;

	symv_start(name, &v, line, sizeof (line));
	lf = line_field(line, "lib_fn");
	insp_open_ok(v.pid, &in);

	LOOKUP_OK(in.S, "libsymlib.so`symlib_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, lf);
	CHECK_STR_EQ(si.sy_object, "libsymlib.so");
	CHECK_STR_EQ(si.sy_path, testlib_path("symlib"));
	CHECK_EQ_INT(si.sy_type, STT_FUNC);
	CHECK(si.sy_size > 5);
	LOOKUP_OK(in.S, "symlib_fn", &s2);	/* not in a.out: the library */
	CHECK_ADDR_EQ(s2.sy_addr, lf);
	LOOKUP_OK(in.S, "libsymlib.so`symlib_data", &s2);
	CHECK_EQ_INT(s2.sy_type, STT_OBJECT);
	CHECK(s2.sy_addr > si.sy_bias);

	ADDR_OK(in.S, lf + 5, &s2);
	CHECK_STR_EQ(s2.sy_object, "libsymlib.so");
	CHECK_STR_EQ(s2.sy_name, "symlib_fn");	/* not its hidden alias */
	CHECK_EQ_INT(s2.sy_offset, 5);
	CHECK_STR_EQ(fmt_addr(&s2, lf + 5), "libsymlib.so`symlib_fn+0x5");
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_needed_library_pie)
{
	check_needed_lib("symv");
}

TEST(sym_needed_library_nopie)
{
	check_needed_lib("nopie");
}

/*
 * interposed_fn is defined by the executable and by libsymlib.so: the
 * executable's wins (the program itself says so: via_lib), and
 * libsymlib.so`interposed_fn is the library's own.
 */
static void
check_interposed(const char *name)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si, sl, sa;
	uintptr_t exe_copy, lib_copy;

	symv_start(name, &v, line, sizeof (line));
	exe_copy = line_field(line, "interposed");
	lib_copy = line_field(line, "lib_interposed");
	CHECK_EQ_INT(line_field(line, "via_lib"),
	    line_field(line, "want_via_lib"));
	CHECK(exe_copy != lib_copy);
	insp_open_ok(v.pid, &in);

	LOOKUP_OK(in.S, "interposed_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, exe_copy);
	CHECK_STR_EQ(si.sy_object, name);
	LOOKUP_OK(in.S, "a.out`interposed_fn", &sa);
	CHECK_ADDR_EQ(sa.sy_addr, exe_copy);
	LOOKUP_OK(in.S, "libsymlib.so`interposed_fn", &sl);
	CHECK_ADDR_EQ(sl.sy_addr, lib_copy);
	CHECK_STR_EQ(sl.sy_object, "libsymlib.so");
	LOOKUP_OK(in.S, "libsymlib`interposed_fn", &sl);
	CHECK_ADDR_EQ(sl.sy_addr, lib_copy);

	ADDR_OK(in.S, lib_copy, &sl);
	CHECK_STR_EQ(sl.sy_object, "libsymlib.so");
	CHECK_STR_EQ(sl.sy_name, "interposed_fn");
	ADDR_OK(in.S, exe_copy, &sa);
	CHECK_STR_EQ(sa.sy_object, name);
	CHECK_STR_EQ(sa.sy_name, "interposed_fn");
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_interposed_pie)
{
	check_interposed("symv");
}

TEST(sym_interposed_nopie)
{
	check_interposed("nopie");
}

/* a.out, basename, basename to its first dot, full paths: one object. */
TEST(sym_object_name_forms)
{
	char line[2048], spec[4200], exe[PATH_MAX];
	const rtld_obj_t *objs;
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t si;
	uintptr_t m, mal;
	size_t n;
	int found_lname = 0;

	symv_start("symv", &v, line, sizeof (line));
	m = line_field(line, "main");
	mal = line_field(line, "malloc");
	CHECK(realpath(v.path, exe) != NULL);
	insp_open_ok(v.pid, &in);

	const char *mains[] = { "a.out`main", "symv`main", NULL };
	for (int i = 0; mains[i] != NULL; i++) {
		LOOKUP_OK(in.S, mains[i], &si);
		CHECK_ADDR_EQ(si.sy_addr, m);
	}
	snprintf(spec, sizeof (spec), "%s`main", exe);
	LOOKUP_OK(in.S, spec, &si);
	CHECK_ADDR_EQ(si.sy_addr, m);
	CHECK_STR_EQ(si.sy_path, exe);

	const char *mallocs[] = { "libc.so.6`malloc", "libc`malloc",
	    "libc.so`malloc", "LM0`libc`malloc", "malloc", NULL };
	for (int i = 0; mallocs[i] != NULL; i++) {
		LOOKUP_OK(in.S, mallocs[i], &si);
		CHECK_ADDR_EQ(si.sy_addr, mal);
		CHECK_STR_EQ(si.sy_object, "libc.so.6");
	}
	/* the path as mapped */
	CHECK(find_object(in.S, "libc.so.6", 0, &oi) >= 0);
	CHECK(oi.so_path[0] == '/');
	snprintf(spec, sizeof (spec), "%s`malloc", oi.so_path);
	LOOKUP_OK(in.S, spec, &si);
	CHECK_ADDR_EQ(si.sy_addr, mal);
	/* the path as the link map (and ldd(1), and watch) names it */
	objs = rtld_objects(in.R, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(base_name(objs[i].ro_path), "libc.so.6") != 0)
			continue;
		snprintf(spec, sizeof (spec), "%s`malloc", objs[i].ro_path);
		LOOKUP_OK(in.S, spec, &si);
		CHECK_ADDR_EQ(si.sy_addr, mal);
		found_lname = 1;
	}
	CHECK_MSG(found_lname, "no libc.so.6 in the link maps");
	/* neither a prefix that stops short of a dot nor a wrong path */
	LOOKUP_FAILS(in.S, "lib`malloc", -ESRCH, "lib");
	LOOKUP_FAILS(in.S, "libc.s`malloc", -ESRCH, "libc.s");
	LOOKUP_FAILS(in.S, "/nonexistent/libc.so.6`malloc", -ESRCH,
	    "/nonexistent/libc.so.6");
	insp_close(&in);
	victim_finish(&v);
}

/* Objects in load order: the executable, its library, libc, ld.so. */
TEST(sym_objects_in_load_order)
{
	char line[2048], exe[PATH_MAX];
	int isym, ilibc, ild;
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	uintptr_t ehdr;

	symv_start("symv", &v, line, sizeof (line));
	ehdr = line_field(line, "ehdr");
	CHECK(realpath(v.path, exe) != NULL);
	insp_open_ok(v.pid, &in);
	CHECK_PT(sym_object(in.S, 0, &oi));
	CHECK_STR_EQ(oi.so_path, exe);
	CHECK_STR_EQ(oi.so_name, "symv");
	CHECK_ADDR_EQ(oi.so_start, ehdr);
	CHECK_ADDR_EQ(oi.so_bias, ehdr);
	CHECK_EQ_INT(oi.so_lmid, 0);
	isym = find_object(in.S, "libsymlib.so", 0, &oi);
	ilibc = find_object(in.S, "libc.so.6", 0, &oi);
	ild = find_object(in.S, "ld-linux-x86-64.so.2", 0, &oi);
	CHECK_MSG(isym > 0 && ilibc > 0 && ild > 0, "libsymlib %d libc %d "
	    "ld.so %d", isym, ilibc, ild);
	CHECK_MSG(isym < ilibc, "libsymlib.so (%d) after libc (%d)", isym,
	    ilibc);
	CHECK(find_object(in.S, "libdyn.so", -1, &oi) < 0);
	CHECK(sym_object(in.S, 1000, &oi) != 0);
	/* the vdso is a region, not an object with a file */
	CHECK(find_object(in.S, "linux-vdso.so.1", -1, &oi) < 0);
	insp_close(&in);
	victim_finish(&v);
}

/* The non-PIE executable sits at its link-time address, bias 0. */
TEST(sym_nopie_objects)
{
	char line[2048];
	const rtld_obj_t *objs;
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	size_t n;

	symv_start("nopie", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	CHECK_PT(sym_object(in.S, 0, &oi));
	CHECK_STR_EQ(oi.so_name, "nopie");
	CHECK_ADDR_EQ(oi.so_start, line_field(line, "ehdr"));
	CHECK_ADDR_EQ(oi.so_bias, 0);
	objs = rtld_objects(in.R, &n);
	CHECK(n >= 4);
	CHECK_STR_EQ(objs[0].ro_path, "");
	CHECK_ADDR_EQ(objs[0].ro_bias, 0);
	insp_close(&in);
	victim_finish(&v);
}

/* ---- libc and its debug file ---- */

/* libc's build-id as hex, read with libelf; 0 or -1. */
static int
build_id_hex(const char *path, char *hex, size_t n)
{
	Elf_Scn *scn = NULL;
	int fd, rc = -1;
	Elf *e;

	(void) elf_version(EV_CURRENT);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((e = elf_begin(fd, ELF_C_READ, NULL)) == NULL) {
		close(fd);
		return -1;
	}
	while (rc != 0 && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz < 2 ||
			    nh.n_descsz * 2 + 1 > n)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(hex + 2 * i, "%02x",
				    ((unsigned char *)d->d_buf)[doff + i]);
			rc = 0;
			break;
		}
	}
	elf_end(e);
	close(fd);
	return rc;
}

/* st_value of NAME in PATH's .symtab; 0 if none. */
static uint64_t
symtab_value(const char *path, const char *name)
{
	Elf_Scn *scn = NULL;
	uint64_t v = 0;
	int fd;
	Elf *e;

	(void) elf_version(EV_CURRENT);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if ((e = elf_begin(fd, ELF_C_READ, NULL)) == NULL) {
		close(fd);
		return 0;
	}
	while (v == 0 && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL ||
		    sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0 ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *nm;

			if (gelf_getsym(d, (int)i, &s) == NULL)
				continue;
			nm = elf_strptr(e, sh.sh_link, s.st_name);
			if (nm != NULL && strcmp(nm, name) == 0 &&
			    s.st_shndx != SHN_UNDEF) {
				v = s.st_value;
				break;
			}
		}
	}
	elf_end(e);
	close(fd);
	return v;
}

/* _int_malloc is local to libc: only its debug file (libc6-dbg) has it. */
TEST(sym_libc_debug_file)
{
	char line[2048], hex[130], dbg[PATH_MAX];
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t sm, si, sa;
	uint64_t val;

	symv_start("symv", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	CHECK(find_object(in.S, "libc.so.6", 0, &oi) >= 0);
	if (build_id_hex(oi.so_path, hex, sizeof (hex)) != 0)
		SKIP("%s has no build-id", oi.so_path);
	snprintf(dbg, sizeof (dbg), "/usr/lib/debug/.build-id/%.2s/%s.debug",
	    hex, hex + 2);
	if (access(dbg, R_OK) != 0)
		SKIP("no debug file for libc (%s: %s); install libc6-dbg",
		    dbg, strerror(errno));
	val = symtab_value(dbg, "_int_malloc");
	if (val == 0)
		SKIP("%s has no _int_malloc", dbg);

	LOOKUP_OK(in.S, "libc.so.6`malloc", &sm);
	CHECK_ADDR_EQ(sm.sy_addr, line_field(line, "malloc"));
	LOOKUP_OK(in.S, "libc.so.6`_int_malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, sm.sy_bias + val);
	CHECK_EQ_INT(si.sy_type, STT_FUNC);
	CHECK(si.sy_size > 0);
	LOOKUP_OK(in.S, "_int_malloc", &sa);	/* unqualified too */
	CHECK_ADDR_EQ(sa.sy_addr, si.sy_addr);
	ADDR_OK(in.S, si.sy_addr + 1, &sa);
	CHECK_STR_EQ(sa.sy_name, "_int_malloc");
	CHECK_STR_EQ(fmt_addr(&sa, si.sy_addr + 1),
	    "libc.so.6`_int_malloc+0x1");
	insp_close(&in);
	victim_finish(&v);
}

/* ---- run-time loading ---- */

TEST(sym_dlopen_library)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si;
	uintptr_t fn, counter;
	int rc;

	spawn_ready("dl", (char *[]){ "open", (char *)lib, NULL }, &v, line,
	    sizeof (line));
	insp_open_ok(v.pid, &in);
	LOOKUP_FAILS(in.S, "libdyn.so`dyn_fn", -ESRCH, "libdyn.so");
	insp_close(&in);

	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "opened ");
	fn = line_field(line, "fn");
	counter = line_field(line, "counter");
	insp_open_ok(v.pid, &in);
	LOOKUP_OK(in.S, "libdyn.so`dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, fn);
	CHECK_STR_EQ(si.sy_path, lib);
	LOOKUP_OK(in.S, "libdyn`dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, fn);
	LOOKUP_OK(in.S, "dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, fn);
	LOOKUP_OK(in.S, "libdyn.so`dyn_other", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "other"));
	LOOKUP_OK(in.S, "libdyn.so`dyn_counter", &si);
	CHECK_ADDR_EQ(si.sy_addr, counter);
	CHECK_EQ_INT(si.sy_type, STT_OBJECT);
	ADDR_OK(in.S, fn + 3, &si);
	CHECK_STR_EQ(fmt_addr(&si, fn + 3), "libdyn.so`dyn_fn+0x3");
	ADDR_OK(in.S, counter, &si);
	CHECK_STR_EQ(fmt_addr(&si, counter), "libdyn.so`dyn_counter");

	/* dlclose: a refresh forgets it */
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "closed");
	CHECK_PT(insp_refresh(&in));
	LOOKUP_FAILS(in.S, "libdyn.so`dyn_fn", -ESRCH, "libdyn.so");
	rc = sym_lookup_addr(in.S, fn, &si);
	CHECK_MSG(rc == -ENOENT || strcmp(si.sy_object, "libdyn.so") != 0,
	    "%#lx still in libdyn.so after dlclose", (unsigned long)fn);
	insp_close(&in);
	victim_finish(&v);
}

/* dlmopen(LM_ID_NEWLM): a second copy of libdyn.so and of libc in LM1. */
TEST(sym_dlmopen_lm1_by_name)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si;
	uintptr_t lm0, lm1, m0, m1;

	spawn_ready("dl", (char *[]){ "mopen", (char *)lib, NULL }, &v, line,
	    sizeof (line));
	CHECK_EQ_INT(line_field(line, "lmid"), 1);
	lm0 = line_field(line, "lm0_fn");
	lm1 = line_field(line, "lm1_fn");
	m0 = line_field(line, "lm0_malloc");
	m1 = line_field(line, "lm1_malloc");
	CHECK(lm0 != lm1 && m0 != m1);
	insp_open_ok(v.pid, &in);

	LOOKUP_OK(in.S, "LM0`libdyn.so`dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, lm0);
	CHECK_EQ_INT(si.sy_lmid, 0);
	LOOKUP_OK(in.S, "libdyn.so`dyn_fn", &si);	/* LM0 comes first */
	CHECK_ADDR_EQ(si.sy_addr, lm0);
	LOOKUP_OK(in.S, "LM1`libc`malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, m1);
	CHECK_EQ_INT(si.sy_lmid, 1);
	LOOKUP_OK(in.S, "LM0`libc`malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, m0);
	LOOKUP_OK(in.S, "LM1`libdyn.so`dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, lm1);
	CHECK_EQ_INT(si.sy_lmid, 1);
	CHECK_STR_EQ(si.sy_object, "libdyn.so");
	LOOKUP_FAILS(in.S, "LM2`libdyn.so`dyn_fn", -ESRCH, "libdyn.so");
	/* a namespace without an object: its own objects, in load order */
	LOOKUP_OK(in.S, "LM1`dyn_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, lm1);
	LOOKUP_OK(in.S, "LM1`malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, m1);
	LOOKUP_OK(in.S, "LM0`malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, m0);
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_dlmopen_lm1_by_addr)
{
	const char *lib = testlib_path("dyn");
	char line[2048];
	struct victim v;
	struct insp in;
	sym_objinfo_t o0, o1;
	sym_info_t si;
	uintptr_t lm0, lm1;

	spawn_ready("dl", (char *[]){ "mopen", (char *)lib, NULL }, &v, line,
	    sizeof (line));
	lm0 = line_field(line, "lm0_fn");
	lm1 = line_field(line, "lm1_fn");
	insp_open_ok(v.pid, &in);

	ADDR_OK(in.S, lm0 + 1, &si);
	CHECK_STR_EQ(si.sy_name, "dyn_fn");
	CHECK_EQ_INT(si.sy_lmid, 0);
	CHECK_EQ_INT(si.sy_offset, 1);
	ADDR_OK(in.S, lm1 + 1, &si);
	CHECK_STR_EQ(si.sy_object, "libdyn.so");
	CHECK_STR_EQ(si.sy_name, "dyn_fn");
	CHECK_EQ_INT(si.sy_offset, 1);
	CHECK_EQ_INT(si.sy_lmid, 1);

	/* two objects, one per namespace, each mapped below its code */
	CHECK_MSG(find_object(in.S, "libdyn.so", 0, &o0) >= 0,
	    "no libdyn.so in LM0");
	CHECK_MSG(find_object(in.S, "libdyn.so", 1, &o1) >= 0,
	    "no libdyn.so in LM1");
	CHECK(o0.so_start <= lm0 && o0.so_bias <= lm0);
	CHECK(o1.so_start <= lm1 && o1.so_bias <= lm1);
	CHECK(o0.so_start != o1.so_start);
	CHECK_MSG(find_object(in.S, "libc.so.6", 1, &o1) >= 0,
	    "no libc.so.6 in LM1");
	insp_close(&in);
	victim_finish(&v);
}

/* A library unlinked after dlopen: read through /proc/PID/map_files. */
static void
check_deleted(struct victim *v, const char *line)
{
	char path[512], spec[1024], stem[512];
	struct insp in;
	sym_info_t si;
	uintptr_t fn = line_field(line, "fn");

	line_str(line, "path", path, sizeof (path));
	CHECK_MSG(access(path, F_OK) != 0, "%s not deleted", path);
	insp_open_ok(v->pid, &in);
	snprintf(spec, sizeof (spec), "%s`dyn_fn", base_name(path));
	LOOKUP_OK(in.S, spec, &si);
	CHECK_ADDR_EQ(si.sy_addr, fn);
	CHECK_STR_EQ(si.sy_object, base_name(path));
	CHECK_STR_EQ(si.sy_path, path);		/* no " (deleted)" */
	snprintf(stem, sizeof (stem), "%s", base_name(path));
	stem[strcspn(stem, ".")] = '\0';
	snprintf(spec, sizeof (spec), "%s`dyn_fn", stem);
	LOOKUP_OK(in.S, spec, &si);
	CHECK_ADDR_EQ(si.sy_addr, fn);
	ADDR_OK(in.S, fn + 2, &si);
	CHECK_STR_EQ(si.sy_name, "dyn_fn");
	CHECK_EQ_INT(si.sy_offset, 2);
	insp_close(&in);
}

TEST(sym_deleted_library)
{
	char line[2048];
	struct victim v;

	spawn_ready("dl", (char *[]){ "deleted", (char *)testlib_path("dyn"),
	    NULL }, &v, line, sizeof (line));
	check_deleted(&v, line);
	victim_finish(&v);
}

/* Copy build file REL into DIR/tests/REL, readable and runnable by all. */
static void
nobody_copy(const char *dir, const char *rel, int mode)
{
	char to[PATH_MAX], cmd[3 * PATH_MAX];
	const char *from = build_file(rel, mode, rel);

	snprintf(to, sizeof (to), "%s/tests/%s", dir, rel);
	snprintf(cmd, sizeof (cmd), "mkdir -p \"$(dirname '%s')\" && "
	    "cp '%s' '%s' && chmod -R a+rX '%s'", to, from, to, dir);
	CHECK_MSG(system(cmd) == 0, "cannot copy %s for nobody", rel);
}

/*
 * Run FN as an ordinary user (nobody, uid 65534) in a helper process: a
 * process of that user is read without privileges, as README promises
 * dtproc works.  FN returns 0 or writes why into MSG and returns 1 (77:
 * skip).  Skips when we are not root (the other tests are then the
 * unprivileged case).  The build tree may lie where nobody cannot enter
 * (a checkout in a 0700 directory): what FN runs is copied to a
 * directory of its own under /tmp first, and DTPROC_BUILD names it.
 */
typedef int nobody_fn_t(char *msg, size_t n, void *arg);

static void
as_nobody(nobody_fn_t *fn, void *arg)
{
	char msg[1024] = "", dir[] = "/tmp/dtproc-nobody.XXXXXX";
	char cmd[PATH_MAX + 16];
	int p[2], st;
	ssize_t n;
	pid_t h;

	if (geteuid() != 0)
		SKIP("not root: the other tests are the unprivileged case");
	CHECK(mkdtemp(dir) != NULL);
	CHECK(chmod(dir, 0755) == 0);
	nobody_copy(dir, "victims/dl", X_OK);
	nobody_copy(dir, "libs/libdyn.so", R_OK);
	nobody_copy(dir, "libs/libsymlib.so", R_OK);
	CHECK(pipe2(p, O_CLOEXEC) == 0);
	fflush(NULL);
	if ((h = fork()) < 0)
		FAIL("fork: %s", strerror(errno));
	if (h == 0) {
		char m[1024] = "";
		int rc;

		close(p[0]);
		setenv("DTPROC_BUILD", dir, 1);
		if (setgroups(0, NULL) != 0 || setresgid(65534, 65534,
		    65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
			dprintf(p[1], "cannot become nobody: %s",
			    strerror(errno));
			_exit(77);
		}
		if (access("/tmp", W_OK) != 0) {
			dprintf(p[1], "nobody cannot write /tmp");
			_exit(77);
		}
		rc = fn(m, sizeof (m), arg);
		dprintf(p[1], "%s", m);
		_exit(rc);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof (msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	while (waitpid(h, &st, 0) < 0 && errno == EINTR)
		;
	snprintf(cmd, sizeof (cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
		SKIP("%s", msg);
	CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as uid 65534: "
	    "%s: %s", wstatus_str(st), msg[0] ? msg : "(no message)");
}

/*
 * The dl victim in MODE (deleted, replaced): dyn_fn of the library it
 * opened, whose path is gone or now holds another file, must be found by
 * name and by address, as the program sees it.  0, or 1 and MSG.
 */
static int
check_gone_file(const char *mode, char *msg, size_t n)
{
	char *args[] = { (char *)mode, (char *)testlib_path("dyn"),
	    (char *)testlib_path("symlib"), NULL };
	char line[2048], path[512], spec[1024];
	struct victim v;
	struct insp in;
	sym_info_t si;
	uintptr_t fn;
	int rc, st;

	if (strcmp(mode, "deleted") == 0)
		args[2] = NULL;
	spawn_ready("dl", args, &v, line, sizeof (line));
	line_str(line, "path", path, sizeof (path));
	fn = line_field(line, "fn");
	insp_open(v.pid, &in);
	rc = 1;
	if (in.refresh != 0) {
		snprintf(msg, n, "rtld_refresh: %d", in.refresh);
		goto out;
	}
	snprintf(spec, sizeof (spec), "%s`dyn_fn", base_name(path));
	if ((st = sym_lookup_name(in.S, spec, &si)) != 0) {
		snprintf(msg, n, "%s library: sym_lookup_name(\"%s\"): %d: %s",
		    mode, spec, st, err_msg());
		goto out;
	}
	if (si.sy_addr != fn) {
		snprintf(msg, n, "%s library: %s at %#lx, not %#lx", mode,
		    spec, (unsigned long)si.sy_addr, (unsigned long)fn);
		goto out;
	}
	st = sym_lookup_addr(in.S, fn + 2, &si);
	if (st != 0 || si.sy_name == NULL ||
	    strcmp(si.sy_name, "dyn_fn") != 0 || si.sy_offset != 2) {
		snprintf(msg, n, "%s library: %#lx is %s, not dyn_fn+0x2",
		    mode, (unsigned long)fn + 2, st == 0 ? fmt_addr(&si,
		    fn + 2) : "not mapped");
		goto out;
	}
	rc = 0;
out:
	insp_close(&in);
	victim_go(&v);
	st = victim_wait(&v);
	if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
		snprintf(msg, n, "victim: %s", wstatus_str(st));
		rc = 1;
	}
	return rc;
}

static int
nobody_deleted(char *msg, size_t n, void *arg)
{
	(void)arg;
	return check_gone_file("deleted", msg, n);
}

static int
nobody_replaced(char *msg, size_t n, void *arg)
{
	(void)arg;
	return check_gone_file("replaced", msg, n);
}

TEST(sym_deleted_library_unprivileged)
{
	as_nobody(nobody_deleted, NULL);
}

/*
 * A library replaced on disk while mapped (a new file renamed over its
 * path, as package upgrades do): the path now names another file, so
 * the symbols must come from what is mapped, not from the path.
 */
TEST(sym_replaced_library)
{
	char msg[1024] = "";

	CHECK_MSG(check_gone_file("replaced", msg, sizeof (msg)) == 0, "%s",
	    msg);
}

TEST(sym_replaced_library_unprivileged)
{
	as_nobody(nobody_replaced, NULL);
}

/* ---- stripped and static executables ---- */

TEST(sym_stripped_executable)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si;
	uintptr_t m, bias;

	symv_start("symv-stripped", &v, line, sizeof (line));
	m = line_field(line, "main");
	bias = line_field(line, "ehdr");
	insp_open_ok(v.pid, &in);
	LOOKUP_FAILS(in.S, "a.out`main", -ENOENT, "main");
	LOOKUP_FAILS(in.S, "a.out`symv_func", -ENOENT, "symv_func");
	ADDR_OK(in.S, m, &si);
	CHECK_STR_EQ(si.sy_object, "symv-stripped");
	CHECK_MSG(si.sy_name == NULL, "main of a stripped program named %s",
	    si.sy_name);
	CHECK_EQ_INT(si.sy_offset, m - bias);
	/* its libraries keep their symbols */
	LOOKUP_OK(in.S, "libsymlib.so`symlib_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "lib_fn"));
	LOOKUP_OK(in.S, "libc`malloc", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "malloc"));
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_static_executable)
{
	char line[2048], exe[PATH_MAX];
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t si;
	uintptr_t m, f;

	symv_start("staticv", &v, line, sizeof (line));
	m = line_field(line, "main");
	f = line_field(line, "func");
	CHECK(realpath(v.path, exe) != NULL);
	insp_open(v.pid, &in);
	CHECK_EQ_INT(rtld_dynamic(in.R), 0);
	CHECK_EQ_INT(in.refresh, -ENOENT);
	/* the objects of the maps: the executable alone, first */
	CHECK_PT(sym_object(in.S, 0, &oi));
	CHECK_STR_EQ(oi.so_path, exe);
	CHECK(find_object(in.S, "libc.so.6", -1, &oi) < 0);
	LOOKUP_OK(in.S, "a.out`main", &si);
	CHECK_ADDR_EQ(si.sy_addr, m);
	LOOKUP_OK(in.S, "staticv`staticv_func", &si);
	CHECK_ADDR_EQ(si.sy_addr, f);
	LOOKUP_OK(in.S, "malloc", &si);		/* libc is inside */
	CHECK_STR_EQ(si.sy_object, "staticv");
	ADDR_OK(in.S, f + 1, &si);
	CHECK_STR_EQ(fmt_addr(&si, f + 1), "staticv`staticv_func+0x1");
	insp_close(&in);
	victim_finish(&v);
}

/*
 * A program run by invoking the run-time linker (ld.so PROG): the kernel
 * maps ld.so as the executable, ld.so maps PROG.  a.out is still PROG,
 * the first object of the link maps, and the objects are in load order.
 */
TEST(sym_program_run_by_ldso)
{
	char line[2048];
	int isym, ilibc, ild;
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t si;

	spawn_ready("dl", (char *[]){ "ldso", (char *)victim_path("symv"),
	    NULL }, &v, line, sizeof (line));
	insp_open(v.pid, &in);
	CHECK_MSG(in.refresh == 0, "rtld_refresh: %d (%s): no link maps",
	    in.refresh, strerror(-in.refresh));
	CHECK_PT(sym_object(in.S, 0, &oi));
	CHECK_STR_EQ(oi.so_name, "symv");
	LOOKUP_OK(in.S, "a.out`main", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "main"));
	LOOKUP_OK(in.S, "a.out`interposed_fn", &si);
	CHECK_ADDR_EQ(si.sy_addr, line_field(line, "interposed"));
	isym = find_object(in.S, "libsymlib.so", 0, &oi);
	ilibc = find_object(in.S, "libc.so.6", 0, &oi);
	ild = find_object(in.S, "ld-linux-x86-64.so.2", 0, &oi);
	CHECK_MSG(isym > 0 && ilibc > isym && ild > 0, "libsymlib %d libc %d "
	    "ld.so %d", isym, ilibc, ild);
	insp_close(&in);
	victim_finish(&v);
}

/* ---- sym_format and regions ---- */

TEST(sym_format_regions)
{
	char line[2048], want[256];
	struct victim v;
	struct insp in;
	sym_info_t si;
	uintptr_t heap, stack, anon, vdso;

	symv_start("symv", &v, line, sizeof (line));
	heap = line_field(line, "heap");
	stack = line_field(line, "stack");
	anon = line_field(line, "anon");
	vdso = line_field(line, "vdso");
	insp_open_ok(v.pid, &in);

	ADDR_OK(in.S, heap, &si);
	CHECK_STR_EQ(si.sy_object, "[heap]");
	CHECK(si.sy_name == NULL);
	CHECK_ADDR_EQ(si.sy_bias + si.sy_offset, heap);
	snprintf(want, sizeof (want), "[heap]`%#lx",
	    (unsigned long)si.sy_offset);
	CHECK_STR_EQ(fmt_addr(&si, heap), want);

	ADDR_OK(in.S, stack, &si);
	CHECK_STR_EQ(si.sy_object, "[stack]");
	CHECK_ADDR_EQ(si.sy_bias + si.sy_offset, stack);
	snprintf(want, sizeof (want), "[stack]`%#lx",
	    (unsigned long)si.sy_offset);
	CHECK_STR_EQ(fmt_addr(&si, stack), want);

	ADDR_OK(in.S, anon + 8, &si);
	CHECK_STR_EQ(si.sy_object, "[anon]");
	CHECK_ADDR_EQ(si.sy_bias + si.sy_offset, anon + 8);
	CHECK_PREFIX(fmt_addr(&si, anon + 8), "[anon]`0x");

	ADDR_OK(in.S, vdso, &si);
	CHECK_STR_EQ(si.sy_object, "[vdso]");

	/* no lookup: the bare address */
	CHECK_STR_EQ(sym_format(NULL, 0x1234, want, sizeof (want)), "0x1234");
	memset(&si, 0, sizeof (si));
	CHECK_STR_EQ(sym_format(&si, 0x1234, want, sizeof (want)), "0x1234");
	/* a short buffer is cut, not overrun */
	ADDR_OK(in.S, line_field(line, "func") + 0x12, &si);
	memset(want, 'X', sizeof (want));
	sym_format(&si, 0, want, 8);
	CHECK_EQ_INT(strlen(want), 7);
	CHECK_EQ_INT(want[9], 'X');
	insp_close(&in);
	victim_finish(&v);
}

/* ---- bad input ---- */

TEST(sym_errors_name)
{
	char line[2048], pidstr[32];
	struct victim v;
	struct insp in;

	symv_start("symv", &v, line, sizeof (line));
	snprintf(pidstr, sizeof (pidstr), "pid %d", (int)v.pid);
	insp_open_ok(v.pid, &in);
	LOOKUP_FAILS(in.S, "nosuchobj`malloc", -ESRCH, "nosuchobj");
	LOOKUP_FAILS(in.S, "nosuchobj`malloc", -ESRCH, pidstr);
	LOOKUP_FAILS(in.S, "libc`no_such_symbol_xyz", -ENOENT,
	    "no_such_symbol_xyz");
	LOOKUP_FAILS(in.S, "libc`no_such_symbol_xyz", -ENOENT, pidstr);
	LOOKUP_FAILS(in.S, "no_such_symbol_xyz", -ENOENT,
	    "no_such_symbol_xyz");
	LOOKUP_FAILS(in.S, "LM7`libc`malloc", -ESRCH, "libc");
	/* a symbol of another object is not found under this one */
	LOOKUP_FAILS(in.S, "libsymlib.so`malloc", -ENOENT, "malloc");
	/* an undefined reference is no definition */
	LOOKUP_FAILS(in.S, "a.out`malloc", -ENOENT, "malloc");
	/* malformed */
	LOOKUP_FAILS(in.S, "libc`", -EINVAL, "libc`");
	LOOKUP_FAILS(in.S, "", -EINVAL, "");
	LOOKUP_FAILS(in.S, "a`b`c", -EINVAL, "a`b`c");
	insp_close(&in);
	victim_finish(&v);
}

TEST(sym_errors_addr)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_info_t si;

	symv_start("symv", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	CHECK_EQ_INT(sym_lookup_addr(in.S, 0, &si), -ENOENT);
	CHECK_EQ_INT(sym_lookup_addr(in.S, 0x10, &si), -ENOENT);
	CHECK_EQ_INT(sym_lookup_addr(in.S, 0x1000, &si), -ENOENT);
	CHECK_EQ_INT(sym_lookup_addr(in.S, (uintptr_t)1 << 46, &si),
	    -ENOENT);
	insp_close(&in);
	victim_finish(&v);
}

/* An empty sym_proc_t (nothing read yet) finds nothing, quietly. */
TEST(sym_errors_empty)
{
	sym_proc_t *S = sym_proc_new(getpid());
	sym_objinfo_t oi;
	sym_info_t si;

	CHECK(S != NULL);
	CHECK_EQ_INT(sym_lookup_addr(S, (uintptr_t)&si, &si), -ENOENT);
	CHECK(sym_lookup_name(S, "malloc", &si) < 0);
	CHECK(err_msg()[0] != '\0');
	CHECK(sym_object(S, 0, &oi) != 0);
	sym_proc_free(S);
	sym_proc_free(NULL);
}

/* Files for the "not ELF / truncated" victim, in a temporary directory. */
static void
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK_MSG(fd >= 0, "%s: %s", path, strerror(errno));
	CHECK_EQ_INT(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static size_t
read_whole(const char *path, unsigned char **buf)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	CHECK_MSG(fd >= 0 && fstat(fd, &st) == 0, "%s: %s", path,
	    strerror(errno));
	CHECK((*buf = malloc(st.st_size)) != NULL);
	CHECK_EQ_INT(read(fd, *buf, st.st_size), st.st_size);
	close(fd);
	return st.st_size;
}

/* A copy of LIB whose .symtab (section TYPE) is damaged by HOW. */
static void
write_damaged(const char *path, const unsigned char *lib, size_t len,
    int how)
{
	unsigned char *c = malloc(len);
	Elf64_Ehdr eh;
	int done = 0;

	CHECK(c != NULL);
	memcpy(c, lib, len);
	memcpy(&eh, c, sizeof (eh));
	CHECK(eh.e_shoff + (uint64_t)eh.e_shnum * sizeof (Elf64_Shdr) <= len);
	for (int i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		size_t o = eh.e_shoff + i * sizeof (sh);

		memcpy(&sh, c + o, sizeof (sh));
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (how == 0) {		/* data past the end of the file */
			sh.sh_offset = len - 8;
			sh.sh_size = (uint64_t)1 << 30;
		} else {		/* names in a section that is not */
			sh.sh_link = eh.e_shnum + 100;
		}
		memcpy(c + o, &sh, sizeof (sh));
		done = 1;
	}
	CHECK_MSG(done, "no .symtab in the test library");
	write_file(path, c, len);
	free(c);
}

/*
 * Files mapped PROT_EXEC that are not good ELF: lookups by address there
 * name the object and no symbol; by name they find nothing; nothing
 * crashes.
 */
TEST(sym_not_elf_and_truncated)
{
	static const char *names[] = { "notelf.bin", "libtrunc.so",
	    "libhdr.so", "libbadsym.so", "libbadlink.so" };
	enum { NFILES = 5 };
	char dir[] = "/tmp/dtproc-symtest-XXXXXX";
	char paths[NFILES][PATH_MAX], key[16], line[4096], want[512];
	char *args[NFILES + 2];
	unsigned char *lib, text[8192];
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t si;
	size_t len;
	int nobj = 0;

	CHECK(mkdtemp(dir) != NULL);
	for (int i = 0; i < NFILES; i++)
		snprintf(paths[i], sizeof (paths[i]), "%s/%s", dir, names[i]);
	for (size_t i = 0; i < sizeof (text); i++)
		text[i] = "just some text, not ELF\n"[i % 24];
	len = read_whole(testlib_path("symlib"), &lib);
	write_file(paths[0], text, sizeof (text));
	write_file(paths[1], lib, len / 2);
	write_file(paths[2], lib, sizeof (Elf64_Ehdr));
	write_damaged(paths[3], lib, len, 0);
	write_damaged(paths[4], lib, len, 1);
	free(lib);

	args[0] = "map";
	for (int i = 0; i < NFILES; i++)
		args[i + 1] = paths[i];
	args[NFILES + 1] = NULL;
	spawn_ready("dl", args, &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);

	for (int i = 0; i < NFILES; i++) {
		char spec[600];
		uintptr_t a;

		snprintf(key, sizeof (key), "map%d", i);
		a = line_field(line, key);
		ADDR_OK(in.S, a + 0x10, &si);
		CHECK_STR_EQ(si.sy_object, names[i]);
		CHECK_STR_EQ(si.sy_path, paths[i]);
		CHECK_MSG(si.sy_name == NULL, "%s+0x10 named %s", names[i],
		    si.sy_name);
		snprintf(want, sizeof (want), "%s`0x10", names[i]);
		CHECK_STR_EQ(fmt_addr(&si, a + 0x10), want);
		snprintf(spec, sizeof (spec), "%s`no_such_fn", names[i]);
		LOOKUP_FAILS(in.S, spec, -ENOENT, "no_such_fn");
		CHECK(find_object(in.S, names[i], 0, &oi) >= 0);
	}
	/* and every object can be walked */
	for (size_t i = 0; sym_object(in.S, i, &oi) == 0; i++)
		nobj++;
	CHECK(nobj >= 3 + NFILES);
	insp_close(&in);
	victim_finish(&v);
	for (int i = 0; i < NFILES; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* ---- glob iteration ---- */

struct iter_ctx {
	char names[64][64];
	int n;
	int stop_after;
	int objects;	/* non-function symbols seen */
};

static int
iter_cb(const sym_info_t *si, void *arg)
{
	struct iter_ctx *x = arg;

	if (si->sy_type != STT_FUNC && si->sy_type != STT_GNU_IFUNC)
		x->objects++;
	if (x->n < 64)
		snprintf(x->names[x->n], sizeof (x->names[0]), "%s`%s",
		    si->sy_object, si->sy_name);
	x->n++;
	return x->stop_after > 0 && x->n == x->stop_after ? 42 : 0;
}

static int
iter_has(const struct iter_ctx *x, const char *s)
{
	for (int i = 0; i < x->n && i < 64; i++) {
		if (strcmp(x->names[i], s) == 0)
			return 1;
	}
	return 0;
}

TEST(sym_iter_globs)
{
	char line[2048];
	struct iter_ctx x;
	struct victim v;
	struct insp in;

	symv_start("symv", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);

	memset(&x, 0, sizeof (x));
	CHECK_EQ_INT(sym_iter(in.S, "libsymlib.so", "symlib_*", iter_cb, &x),
	    0);
	CHECK_EQ_INT(x.objects, 0);
	CHECK(iter_has(&x, "libsymlib.so`symlib_fn"));
	CHECK(iter_has(&x, "libsymlib.so`symlib_fn_addr"));
	CHECK(iter_has(&x, "libsymlib.so`symlib_call_interposed"));
	/* functions only, aliases once */
	CHECK(!iter_has(&x, "libsymlib.so`symlib_data"));
	CHECK(!iter_has(&x, "libsymlib.so`symlib_ctor_ran"));
	CHECK(!iter_has(&x, "libsymlib.so`symlib_fn_self"));
	CHECK_EQ_INT(x.n, 5);	/* fn, fn_addr, interposed_addr,
				   call_interposed, ctor */

	memset(&x, 0, sizeof (x));
	CHECK_EQ_INT(sym_iter(in.S, "a.out", "symv_*", iter_cb, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	CHECK(iter_has(&x, "symv`symv_func"));
	CHECK(iter_has(&x, "symv`symv_ctor"));

	memset(&x, 0, sizeof (x));
	CHECK_EQ_INT(sym_iter(in.S, "*", "interposed_fn", iter_cb, &x), 0);
	CHECK_EQ_INT(x.n, 2);
	CHECK_STR_EQ(x.names[0], "symv`interposed_fn");	/* load order */
	CHECK_STR_EQ(x.names[1], "libsymlib.so`interposed_fn");

	/* the callback stops it, and its value comes back */
	memset(&x, 0, sizeof (x));
	x.stop_after = 3;
	CHECK_EQ_INT(sym_iter(in.S, "libc.so.6", "*", iter_cb, &x), 42);
	CHECK_EQ_INT(x.n, 3);

	memset(&x, 0, sizeof (x));
	CHECK_EQ_INT(sym_iter(in.S, "nosuch*", "*", iter_cb, &x), 0);
	CHECK_EQ_INT(x.n, 0);
	insp_close(&in);
	victim_finish(&v);
}

/*
 * OBJGLOB names objects as lookups do (and DTrace's pid provider: module
 * "libc" is libc.so.6): basename, basename to its first dot, either path,
 * or a glob of those.
 */
TEST(sym_iter_object_name_forms)
{
	char line[2048], lname[PATH_MAX] = "";
	const rtld_obj_t *objs;
	struct iter_ctx x;
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	size_t n;

	symv_start("symv", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	CHECK(find_object(in.S, "libc.so.6", 0, &oi) >= 0);
	objs = rtld_objects(in.R, &n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(base_name(objs[i].ro_path), "libc.so.6") == 0)
			snprintf(lname, sizeof (lname), "%s", objs[i].ro_path);
	}
	CHECK(lname[0] == '/');
	const char *globs[] = { "libc.so.6", "libc*", "*/libc.so.6",
	    oi.so_path, "libc", lname, NULL };
	char bad[2048] = "";
	for (int i = 0; globs[i] != NULL; i++) {
		memset(&x, 0, sizeof (x));
		CHECK_EQ_INT(sym_iter(in.S, globs[i], "malloc", iter_cb, &x),
		    0);
		if (x.n != 1 || strcmp(x.names[0], "libc.so.6`malloc") != 0)
			snprintf(bad + strlen(bad), sizeof (bad) - strlen(bad),
			    "%s\"%s\" finds %d", bad[0] ? ", " : "",
			    globs[i], x.n);
	}
	CHECK_MSG(bad[0] == 0, "sym_iter(OBJGLOB, \"malloc\"): %s, not 1 "
	    "(libc.so.6`malloc)", bad);
	insp_close(&in);
	victim_finish(&v);
}

/* ---- a process that is gone ---- */

/*
 * Once the process has exited (a zombie: /proc/PID/maps is empty), a
 * rebuild must not pass for a success that leaves no object: the
 * lookups that worked a moment ago would all fail silently.
 */
TEST(sym_update_maps_after_exit)
{
	char line[2048];
	struct victim v;
	struct insp in;
	sym_objinfo_t oi;
	sym_info_t si;
	int rc, st;

	symv_start("symv", &v, line, sizeof (line));
	insp_open_ok(v.pid, &in);
	LOOKUP_OK(in.S, "a.out`main", &si);
	victim_go(&v);
	/* exited, not yet reaped */
	CHECK_EQ_INT(waitid(P_PID, v.pid, NULL, WEXITED | WNOWAIT), 0);
	CHECK_EQ_INT(proc_state(v.pid, 0), 'Z');
	rc = sym_proc_update_maps(in.S);
	CHECK_MSG(rc != 0 || sym_object(in.S, 0, &oi) == 0,
	    "sym_proc_update_maps of an exited process: 0, and no object "
	    "left");
	rc = rtld_refresh(in.R);
	CHECK_MSG(rc != 0 || sym_object(in.S, 0, &oi) == 0,
	    "rtld_refresh of an exited process: 0, and no object left");
	insp_close(&in);
	st = victim_wait(&v);
	CHECK_EXITED(st, 0);
}

/* ---- the shared table cache ---- */

TEST(sym_cache_shared_between_processes)
{
	char l1[2048], l2[2048];
	struct victim v1, v2;
	struct insp a, b;
	sym_info_t s1, s2;
	size_t loads, files;

	symv_start("symv", &v1, l1, sizeof (l1));
	symv_start("symv", &v2, l2, sizeof (l2));
	insp_open_ok(v1.pid, &a);
	insp_open_ok(v2.pid, &b);

	LOOKUP_OK(a.S, "libc.so.6`malloc", &s1);
	CHECK_ADDR_EQ(s1.sy_addr, line_field(l1, "malloc"));
	loads = sym_cache_loads();
	files = sym_cache_files();
	CHECK(loads >= 1 && files >= 1);
	/* again in the same process, then in the other: no new load */
	LOOKUP_OK(a.S, "libc.so.6`free", &s1);
	CHECK_EQ_INT(sym_cache_loads(), loads);
	LOOKUP_OK(b.S, "libc.so.6`malloc", &s2);
	CHECK_ADDR_EQ(s2.sy_addr, line_field(l2, "malloc"));
	CHECK_EQ_INT(sym_cache_loads(), loads);
	CHECK_EQ_INT(sym_cache_files(), files);
	ADDR_OK(b.S, s2.sy_addr, &s2);
	CHECK_EQ_INT(sym_cache_loads(), loads);
	/* the executable is one file too: loaded once for both */
	LOOKUP_OK(a.S, "a.out`main", &s1);
	CHECK_EQ_INT(sym_cache_loads(), loads + 1);
	LOOKUP_OK(b.S, "a.out`main", &s2);
	CHECK_EQ_INT(sym_cache_loads(), loads + 1);
	CHECK_ADDR_EQ(s1.sy_addr - s1.sy_bias, s2.sy_addr - s2.sy_bias);
	CHECK_EQ_INT(s1.sy_size, s2.sy_size);
	files = sym_cache_files();

	/* a refresh keeps the tables it has */
	CHECK_PT(insp_refresh(&a));
	LOOKUP_OK(a.S, "libc.so.6`malloc", &s1);
	CHECK_EQ_INT(sym_cache_loads(), loads + 1);

	/* released with the last process that used them */
	insp_close(&a);
	CHECK_EQ_INT(sym_cache_files(), files);
	insp_close(&b);
	CHECK_EQ_INT(sym_cache_files(), 0);
	victim_finish(&v1);
	victim_finish(&v2);
}
