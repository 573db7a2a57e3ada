/*
 * params.c - dtproc_fn_params and dtproc_arg_format through the public
 * API: the parameters of argsv's functions (built -g) with their names,
 * types as written, kinds, sizes and the argN System V puts them in
 * (a struct by value skipping its register, the stack past six, a
 * hidden result pointer shifting the rest); the values argsv received,
 * formatted, equal their text; libc's malloc from libc6-dbg's debug
 * file; errors: no DWARF (a stripped program), no function there.
 */
#include "ctlsupport.h"

#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#define GARBAGE	UINT64_C(0xdead000000000000)

/* "argsv" created and running up to its "strs" line: its lines in L. */
struct argsv {
	char ready[512], mixed[512], many[512], sret[512], strs[512];
};

static dtproc_proc_t *
argsv(dtproc_t *dtp, struct victim *v, struct argsv *l)
{
	dtproc_proc_t *pr = create_ok(dtp, "argsv", NULL, DTPROC_STOP_MAIN,
	    v);

	dtproc_continue(dtp, pr);
	victim_ready(v, l->ready, sizeof (l->ready));
	victim_expect(v, l->mixed, sizeof (l->mixed), "mixed ");
	victim_expect(v, l->many, sizeof (l->many), "many ");
	victim_expect(v, l->sret, sizeof (l->sret), "sret ");
	victim_expect(v, l->strs, sizeof (l->strs), "strs ");
	return pr;
}

/* dtproc_fn_params of NAME that must succeed with WANT parameters. */
static uintptr_t
params_ok(dtproc_t *dtp, dtproc_proc_t *pr, const char *name,
    dtproc_param_t *p, int max, dtproc_param_t *ret, int want)
{
	uintptr_t fn = sym_addr(dtp, pr, name);
	int n = dtproc_fn_params(dtp, pr, fn, p, max, ret);

	CHECK_MSG(n == want, "dtproc_fn_params(%s): %d, not %d: %s", name, n,
	    want, n < 0 ? dtproc_errmsg(dtp) : "");
	return fn;
}

#define CHECK_PARAM(p, name, type, kind, size, arg) do {		\
	const dtproc_param_t *q_ = (p);					\
	if ((name) == NULL)						\
		CHECK(q_->dp_name == NULL);				\
	else								\
		CHECK_STR_EQ(q_->dp_name, (const char *)(name));	\
	CHECK_STR_EQ(q_->dp_type, (type));				\
	CHECK_EQ_INT(q_->dp_kind, (kind));				\
	CHECK_EQ_INT(q_->dp_size, (size));				\
	CHECK_EQ_INT(q_->dp_arg, (arg));				\
} while (0)

/* dtproc_arg_format of VAL as P gives WANT (and its length). */
#define CHECK_FMT(dtp, pr, p, val, want) do {				\
	char b_[512];							\
	int n_ = dtproc_arg_format((dtp), (pr), (p), (val), b_,		\
	    sizeof (b_));						\
	CHECK_MSG(n_ == (int)strlen(want), "format %s: %d: %s", #val,	\
	    n_, n_ < 0 ? dtproc_errmsg(dtp) : b_);			\
	CHECK_STR_EQ(b_, (want));					\
} while (0)

TEST(params_mixed)
{
	CTL_LOCALS;
	struct argsv l;
	dtproc_param_t p[12], ret;

	pr = argsv(dtp, &v, &l);
	memset(p, 0xa5, sizeof (p));
	params_ok(dtp, pr, "a.out`argsv_mixed", p, 12, &ret, 9);
	CHECK_PARAM(&p[0], "i", "int", DTPROC_T_INT, 4, 0);
	/* an 8-byte struct of ints takes one integer register */
	CHECK_PARAM(&p[1], "pt", "struct point", DTPROC_T_STRUCT, 8, -1);
	CHECK_PARAM(&p[2], "ul", "unsigned long", DTPROC_T_UINT, 8, 2);
	CHECK_PARAM(&p[3], "d", "double", DTPROC_T_FLOAT, 8, -1);
	CHECK_PARAM(&p[4], "c", "char", DTPROC_T_INT, 1, 3);
	CHECK_PARAM(&p[5], "b", "_Bool", DTPROC_T_BOOL, 1, 4);
	CHECK_PARAM(&p[6], "col", "enum color", DTPROC_T_ENUM, 4, 5);
	CHECK(p[6].dp_priv != NULL);
	/* the registers are used up: the stack */
	CHECK_PARAM(&p[7], "s", "const char *", DTPROC_T_STR, 8, 6);
	CHECK_PARAM(&p[8], "p", "void *", DTPROC_T_PTR, 8, 7);
	CHECK_PARAM(&ret, NULL, "long", DTPROC_T_INT, 8, 1);

	/* fewer slots than parameters: the count, MAX filled */
	memset(p, 0xa5, sizeof (p));
	params_ok(dtp, pr, "a.out`argsv_mixed", p, 2, NULL, 9);
	CHECK_STR_EQ(p[1].dp_name, "pt");
	CHECK_EQ_INT(p[2].dp_kind, (int)0xa5a5a5a5);
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, sym_addr(dtp, pr,
	    "a.out`argsv_mixed"), NULL, 0, NULL), 9);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(params_stack_and_sret)
{
	CTL_LOCALS;
	struct argsv l;
	dtproc_param_t p[12], ret;
	const char *ln[] = { "a", "b", "c", "d", "e", "f", "g" };

	pr = argsv(dtp, &v, &l);
	params_ok(dtp, pr, "a.out`argsv_many", p, 12, &ret, 9);
	for (int i = 0; i < 7; i++)
		CHECK_PARAM(&p[i], ln[i], "long", DTPROC_T_INT, 8, i);
	/* 24 bytes: in memory, three stack words after g's */
	CHECK_PARAM(&p[7], "bg", "struct big", DTPROC_T_STRUCT, 24, -1);
	CHECK_PARAM(&p[8], "h", "unsigned short", DTPROC_T_UINT, 2, 10);

	/* a result in memory: its address in rdi, the parameters after */
	params_ok(dtp, pr, "a.out`argsv_sret", p, 12, &ret, 2);
	CHECK_PARAM(&p[0], "x", "int", DTPROC_T_INT, 4, 1);
	CHECK_PARAM(&p[1], "name", "const char *", DTPROC_T_STR, 8, 2);
	CHECK_PARAM(&ret, NULL, "struct big", DTPROC_T_STRUCT, 24, -1);

	/* aggregates by eightbyte: doubles in xmm, a long beside a double in
	   an integer register */
	params_ok(dtp, pr, "a.out`argsv_sse", p, 12, &ret, 4);
	CHECK_PARAM(&p[0], "v", "struct vec", DTPROC_T_STRUCT, 16, -1);
	CHECK_PARAM(&p[1], "a", "long", DTPROC_T_INT, 8, 0);
	CHECK_PARAM(&p[2], "m", "struct mix", DTPROC_T_STRUCT, 16, -1);
	CHECK_PARAM(&p[3], "b", "long", DTPROC_T_INT, 8, 2);
	/* two registers needed, one left: the struct on the stack, the next
	   long in the register */
	params_ok(dtp, pr, "a.out`argsv_spill", p, 12, &ret, 7);
	CHECK_PARAM(&p[4], "e", "long", DTPROC_T_INT, 8, 4);
	CHECK_PARAM(&p[5], "t", "struct two", DTPROC_T_STRUCT, 16, -1);
	CHECK_PARAM(&p[6], "f", "long", DTPROC_T_INT, 8, 5);

	params_ok(dtp, pr, "a.out`argsv_void", p, 12, &ret, 0);
	CHECK_PARAM(&ret, NULL, "void", DTPROC_T_VOID, 0, -1);
	/* any address inside the function names it */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, sym_addr(dtp, pr,
	    "a.out`argsv_many") + 4, p, 12, NULL), 9);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(params_format)
{
	CTL_LOCALS;
	struct argsv l;
	dtproc_param_t p[12], ret;
	char want[128];
	uint64_t s, ptr;

	pr = argsv(dtp, &v, &l);
	params_ok(dtp, pr, "a.out`argsv_mixed", p, 12, &ret, 9);
	/* what the registers held, their upper bits garbage where the ABI
	   leaves them undefined */
	CHECK_FMT(dtp, pr, &p[0], (line_field(l.mixed, "i") & 0xffffffff) |
	    GARBAGE, "-42");
	CHECK_FMT(dtp, pr, &p[2], line_field(l.mixed, "ul"),
	    "18446744073709551615");
	CHECK_FMT(dtp, pr, &p[4], (line_field(l.mixed, "c") & 0xff) | GARBAGE,
	    "65");
	CHECK_FMT(dtp, pr, &p[5], line_field(l.mixed, "b") | GARBAGE, "true");
	CHECK_FMT(dtp, pr, &p[5], GARBAGE, "false");
	CHECK_FMT(dtp, pr, &p[6], (line_field(l.mixed, "col") & 0xffffffff) |
	    GARBAGE, "BLUE");
	CHECK_FMT(dtp, pr, &p[6], 5, "GREEN");
	CHECK_FMT(dtp, pr, &p[6], 7, "7");
	CHECK_FMT(dtp, pr, &p[6], (uint64_t)-7, "-7");
	s = line_field(l.mixed, "s");
	CHECK_FMT(dtp, pr, &p[7], s,
	    "\"tab\\there \\\"q\\\" back\\\\ nl\\n\\x01\"");
	CHECK_FMT(dtp, pr, &p[7], 0, "NULL");
	CHECK_FMT(dtp, pr, &p[7], line_field(l.strs, "long"),
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef\"...");
	CHECK_FMT(dtp, pr, &p[7], line_field(l.strs, "exact"),
	    "\"0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef\"");
	CHECK_FMT(dtp, pr, &p[7], line_field(l.strs, "ustr"), "\"u\\xff\"");
	ptr = line_field(l.strs, "bad");
	snprintf(want, sizeof (want), "%#llx", (unsigned long long)ptr);
	CHECK_FMT(dtp, pr, &p[7], ptr, want);
	ptr = line_field(l.mixed, "p");
	snprintf(want, sizeof (want), "%#llx", (unsigned long long)ptr);
	CHECK_FMT(dtp, pr, &p[8], ptr, want);
	CHECK_FMT(dtp, pr, &p[8], 0, "0x0");
	CHECK_FMT(dtp, pr, &p[3], 0x4004000000000000, "<unsupported>");
	CHECK_FMT(dtp, pr, &p[1], 0xfffffffc00000003, "<unsupported>");
	CHECK_FMT(dtp, pr, &ret, (uint64_t)-1, "-1");

	/* as snprintf: the length it needed, the text cut to LEN */
	char small[4];
	CHECK_EQ_INT(dtproc_arg_format(dtp, pr, &p[6], 5, small,
	    sizeof (small)), 5);
	CHECK_STR_EQ(small, "GRE");
	CHECK_EQ_INT(dtproc_arg_format(dtp, pr, NULL, 5, small,
	    sizeof (small)), -EINVAL);

	/* once the process is gone: a string is its pointer, the rest as
	   before (the descriptions live until the handle goes) */
	victim_send(&v, "q\n");
	CHECK_EXITED(wait_dead(dtp, pr, &ns, 10000), 0);
	snprintf(want, sizeof (want), "%#llx", (unsigned long long)s);
	CHECK_FMT(dtp, pr, &p[7], s, want);
	CHECK_FMT(dtp, pr, &p[6], 0, "RED");
	CHECK_STR_EQ(p[7].dp_type, "const char *");
	/* and described still, from the objects it had */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, sym_addr(dtp, pr,
	    "a.out`argsv_sret"), p, 12, &ret), 2);
	CHECK_PARAM(&p[1], "name", "const char *", DTPROC_T_STR, 8, 2);
	dtproc_close(dtp);
}

TEST(params_errors)
{
	CTL_LOCALS;
	struct argsv l;
	dtproc_param_t p[4];
	uintptr_t g;

	pr = argsv(dtp, &v, &l);
	/* in the object, in no function: a variable */
	g = line_field(l.ready, "global");
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, g, p, 4, NULL), -ENOENT);
	CHECK_EQ_INT(dtproc_errno(dtp), ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no function");
	/* in no object */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, 0x1000, p, 4, NULL), -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "in no object");
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, g, p, -1, NULL), -EINVAL);
	quit_dead(dtp, pr, &v, &ns);
}

TEST(params_stripped)
{
	CTL_LOCALS;
	dtproc_param_t p[4];
	uintptr_t func;

	pr = create_ok(dtp, "symv-stripped", NULL, DTPROC_STOP_MAIN, &v);
	dtproc_continue(dtp, pr);
	victim_ready(&v, line, sizeof (line));
	func = line_field(line, "func");
	CHECK(func != 0);
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, func, p, 4, NULL), -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no DWARF");
	CHECK_CONTAINS(dtproc_errmsg(dtp), "symv-stripped");
	/* and again, from what was cached */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, func, p, 4, NULL), -ENOENT);
	CHECK_CONTAINS(dtproc_errmsg(dtp), "no DWARF");
	quit_dead(dtp, pr, &v, &ns);
}

/* The build-id debug file of the ELF file at PATH: 1 if it exists. */
static int
has_debug_file(const char *path, char *dpath, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	Elf_Scn *scn = NULL;
	struct stat st;
	Elf *e;

	if (fd < 0)
		return 0;
	(void) elf_version(EV_CURRENT);
	if ((e = elf_begin(fd, ELF_C_READ, NULL)) == NULL) {
		close(fd);
		return 0;
	}
	while (!found && (scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, no, dof;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &no, &dof)) > 0) {
			const unsigned char *id = (unsigned char *)d->d_buf +
			    dof;
			size_t o;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz < 2)
				continue;
			o = (size_t)snprintf(dpath, len,
			    "/usr/lib/debug/.build-id/%02x/", id[0]);
			for (size_t i = 1; i < nh.n_descsz && o < len; i++)
				o += (size_t)snprintf(dpath + o, len - o,
				    "%02x", id[i]);
			if (o < len)
				snprintf(dpath + o, len - o, ".debug");
			found = stat(dpath, &st) == 0;
			break;
		}
	}
	elf_end(e);
	close(fd);
	return found;
}

TEST(params_libc_malloc)
{
	CTL_LOCALS;
	struct argsv l;
	dtproc_param_t p[4], ret, again;
	dtproc_sym_t s;
	char dpath[512];

	pr = argsv(dtp, &v, &l);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr, "libc.so.6`malloc", &s), 0);
	if (!has_debug_file(s.ds_path, dpath, sizeof (dpath))) {
		quit_dead(dtp, pr, &v, &ns);
		SKIP("no debug file for %s under /usr/lib/debug/.build-id "
		    "(libc6-dbg)", s.ds_path);
	}
	tinfo("libc's debug file: %s\n", dpath);
	CHECK_MSG(dtproc_fn_params(dtp, pr, s.ds_addr, p, 4, &ret) == 1,
	    "malloc: %s", dtproc_errmsg(dtp));
	CHECK_PARAM(&p[0], "bytes", "size_t", DTPROC_T_UINT, 8, 0);
	CHECK_PARAM(&ret, NULL, "void *", DTPROC_T_PTR, 8, 1);
	CHECK_FMT(dtp, pr, &p[0], 24, "24");
	/* asked again: the same description, from the cache */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, s.ds_addr, &again, 1, NULL), 1);
	CHECK(again.dp_name == p[0].dp_name);
	CHECK(again.dp_type == p[0].dp_type);
	/* free(void *mem) */
	CHECK_EQ_INT(dtproc_fn_params(dtp, pr, sym_addr(dtp, pr,
	    "libc.so.6`free"), p, 4, &ret), 1);
	CHECK_PARAM(&p[0], "mem", "void *", DTPROC_T_PTR, 8, 0);
	CHECK_PARAM(&ret, NULL, "void", DTPROC_T_VOID, 0, -1);
	quit_dead(dtp, pr, &v, &ns);
}
