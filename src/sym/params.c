/*
 * params.c - a function's parameters and return type from DWARF (libdw).
 *
 * Where the DWARF comes from: the object's own .debug_info (a -g build),
 * else the debug file the symbol tables would use (build-id under
 * /usr/lib/debug/.build-id, then .gnu_debuglink: file.c), accepted only
 * if its build-id is the object's.  It is opened once per object, at the
 * first question, and kept with the object's table (sym_file_t, shared
 * by every process mapping the file), which frees it: what a lookup
 * returns lives exactly as long as a symbol name from that table.  libdw
 * parses lazily, so an open costs little until a CU is read.
 *
 * Which DIE: the DW_TAG_subprogram whose pc ranges (low_pc/high_pc or
 * DW_AT_ranges) cover the address, found in the CU .debug_aranges names
 * (dwarf_addrdie), else by a scan of every CU that covers it.  That is
 * the concrete out-of-line instance; an abstract instance (DW_AT_inline)
 * has no pc and is only reached through DW_AT_abstract_origin, whose
 * names and types dwarf_attr_integrate follows, as it follows
 * DW_AT_specification (C++ definitions outside their class).
 *
 * Where each parameter arrives (System V x86-64): integer-class values in
 * rdi, rsi, rdx, rcx, r8, r9 (arg0-5), then stack words (arg6 is the
 * word at the entry's rsp + 8); float and double in xmm registers; an
 * aggregate of at most 16 bytes classified by eightbyte (INTEGER if any
 * non-float field touches it, else SSE) and passed in registers if all
 * of them are free, else entirely on the stack; larger ones, long double
 * and C++ classes passed by reference (DW_CC_pass_by_reference) as the
 * ABI says.  A function returning a MEMORY aggregate receives its hidden
 * result pointer in rdi, so its parameters start at arg1.  Aggregates
 * are described (DTPROC_T_STRUCT, argN -1) and their slots skipped, so
 * the parameters after them are right.  A compiler clone (foo.isra.0,
 * foo.constprop.0, foo.part.0) has another calling convention than its
 * declaration: it is refused rather than described wrongly.
 *
 * Descriptions are cached per object, by address, in an arena freed with
 * it; a lookup that found nothing is cached too.  Each object's state has
 * its own mutex (libdw handles are not thread-safe); one global mutex
 * only guards creating that state.
 */
#include "sym_impl.h"
#include "err/err.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DW_NBUCKET	64	/* address hash */
#define DW_TNAME	256	/* a type's name, at most */
#define DW_DEPTH	12	/* type and scope nesting followed */
#define DW_ENUM_MAGIC	0x656e756dU

/* Classes of an eightbyte (System V 3.2.3). */
#define CL_NONE		0
#define CL_INT		1
#define CL_SSE		2
#define CL_MEM		3

typedef struct sym_chunk {
	struct sym_chunk *ch_next;
	size_t ch_used, ch_size;
	max_align_t ch_data[];
} sym_chunk_t;

/* One address asked about, and what it found (NULL: nothing). */
typedef struct sym_dwent {
	uint64_t de_rel;		/* unrelocated address */
	const sym_fn_t *de_fn;
	struct sym_dwent *de_next;
} sym_dwent_t;

/* One subprogram described (several addresses may lead to it). */
typedef struct sym_fnrec {
	Dwarf_Off fr_die;		/* its DIE's offset */
	sym_fn_t fr_fn;
	struct sym_fnrec *fr_next;
} sym_fnrec_t;

/* An enum's enumerators, values made canonical for its size and sign. */
typedef struct sym_enum {
	uint32_t en_magic;		/* DW_ENUM_MAGIC */
	int en_size;
	int en_signed;
	size_t en_n;
	struct {
		uint64_t ev_val;
		const char *ev_name;
	} en_v[];
} sym_enum_t;

struct sym_dw {
	pthread_mutex_t dw_lock;	/* everything below */
	bool dw_tried;			/* opened (or failed to) */
	int dw_fd, dw_dfd;		/* the object, its debug file (-1) */
	Elf *dw_elf, *dw_delf;
	Dwarf *dw_dbg;			/* NULL: no DWARF */
	const char *dw_why;		/* why none, for the message */
	sym_dwent_t *dw_hash[DW_NBUCKET];
	sym_fnrec_t *dw_fns;
	sym_chunk_t *dw_chunks;
};

static pthread_mutex_t sym_dw_create = PTHREAD_MUTEX_INITIALIZER;

/* ---- the arena ---- */

static void *
dw_alloc(struct sym_dw *D, size_t n)
{
	sym_chunk_t *c = D->dw_chunks;
	size_t al = sizeof (max_align_t);

	n = (n + al - 1) / al * al;
	if (c == NULL || c->ch_size - c->ch_used < n) {
		size_t sz = n > 4096 ? n : 4096;

		if ((c = malloc(sizeof (*c) + sz)) == NULL)
			return NULL;
		c->ch_used = 0;
		c->ch_size = sz;
		c->ch_next = D->dw_chunks;
		D->dw_chunks = c;
	}
	c->ch_used += n;
	return (char *)c->ch_data + c->ch_used - n;
}

static const char *
dw_strdup(struct sym_dw *D, const char *s)
{
	char *p;

	if (s == NULL || (p = dw_alloc(D, strlen(s) + 1)) == NULL)
		return NULL;
	return strcpy(p, s);
}

void
sym_dw_free(struct sym_dw *D)
{
	if (D == NULL)
		return;
	if (D->dw_dbg != NULL)
		dwarf_end(D->dw_dbg);
	if (D->dw_delf != NULL)
		elf_end(D->dw_delf);
	if (D->dw_elf != NULL)
		elf_end(D->dw_elf);
	if (D->dw_dfd >= 0)
		(void) close(D->dw_dfd);
	if (D->dw_fd >= 0)
		(void) close(D->dw_fd);
	while (D->dw_chunks != NULL) {
		sym_chunk_t *c = D->dw_chunks;

		D->dw_chunks = c->ch_next;
		free(c);
	}
	pthread_mutex_destroy(&D->dw_lock);
	free(D);
}

/* ---- opening ---- */

static bool
dw_has_info(Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS ||
		    sh.sh_size == 0 ||
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) == NULL)
			continue;
		if (strcmp(n, ".debug_info") == 0 ||
		    strcmp(n, ".zdebug_info") == 0)
			return true;
	}
	return false;
}

/* The file mapped as O, checked to be the mapped one; -1 if none. */
static int
dw_open_obj(pid_t pid, const sym_obj_t *o)
{
	char mf[96];
	struct stat st;
	int fd;

	snprintf(mf, sizeof (mf), "/proc/%d/map_files/%lx-%lx", (int)pid,
	    (unsigned long)o->so_mstart, (unsigned long)o->so_mend);
	if ((fd = open(mf, O_RDONLY | O_CLOEXEC)) >= 0)
		return fd;
	if (o->so_path[0] != '/' ||
	    (fd = open(o->so_path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_ino != o->so_ino ||
	    st.st_dev != o->so_dev) {
		(void) close(fd);	/* the path names another file now */
		return -1;
	}
	return fd;
}

/* Open D's DWARF for object O of table F; D->dw_why says why not. */
static void
dw_open(struct sym_dw *D, pid_t pid, const sym_obj_t *o, const sym_file_t *F)
{
	const void *id;
	ssize_t idlen;

	D->dw_tried = true;
	D->dw_why = "cannot open the object";
	if ((D->dw_fd = dw_open_obj(pid, o)) < 0 ||
	    (D->dw_elf = elf_begin(D->dw_fd, ELF_C_READ_MMAP, NULL)) == NULL ||
	    elf_kind(D->dw_elf) != ELF_K_ELF)
		return;
	if (dw_has_info(D->dw_elf)) {
		D->dw_why = "its DWARF is unreadable";
		D->dw_dbg = dwarf_begin_elf(D->dw_elf, DWARF_C_READ, NULL);
		return;
	}
	D->dw_why = "no .debug_info and no debug file (by build-id under "
	    "/usr/lib/debug/.build-id, or .gnu_debuglink)";
	if ((D->dw_dfd = sym_file_debug_open(D->dw_elf, F, o->so_path)) < 0 ||
	    (D->dw_delf = elf_begin(D->dw_dfd, ELF_C_READ_MMAP, NULL)) ==
	    NULL || !dw_has_info(D->dw_delf))
		return;
	/* a debuglink names a file; only a matching build-id proves it ours */
	idlen = dwelf_elf_gnu_build_id(D->dw_delf, &id);
	if (F->sf_buildid_len > 0 && idlen > 0 &&
	    ((size_t)idlen != F->sf_buildid_len ||
	    memcmp(id, F->sf_buildid, (size_t)idlen) != 0)) {
		D->dw_why = "its debug file is of another build";
		return;
	}
	D->dw_why = "its debug file's DWARF is unreadable";
	D->dw_dbg = dwarf_begin_elf(D->dw_delf, DWARF_C_READ, NULL);
}

static struct sym_dw *
dw_get(sym_file_t *F)
{
	struct sym_dw *D;

	pthread_mutex_lock(&sym_dw_create);
	if ((D = F->sf_dw) == NULL && (D = calloc(1, sizeof (*D))) != NULL) {
		pthread_mutex_init(&D->dw_lock, NULL);
		D->dw_fd = D->dw_dfd = -1;
		F->sf_dw = D;
	}
	pthread_mutex_unlock(&sym_dw_create);
	return D;
}

/* ---- finding the subprogram ---- */

/*
 * The innermost subprogram under PARENT whose ranges hold REL.  DEEP:
 * also look inside subprograms and lexical blocks that do not hold it
 * (GCC's nested functions live there, their code elsewhere).
 */
static bool
dw_find_in(Dwarf_Die *parent, Dwarf_Addr rel, bool deep, Dwarf_Die *out,
    int depth)
{
	Dwarf_Die c;

	if (depth > DW_DEPTH || dwarf_child(parent, &c) != 0)
		return false;
	do {
		switch (dwarf_tag(&c)) {
		case DW_TAG_subprogram:
			if (dwarf_haspc(&c, rel) > 0) {
				*out = c;
				(void) dw_find_in(&c, rel, true, out,
				    depth + 1);
				return true;
			}
			if (deep && dw_find_in(&c, rel, deep, out, depth + 1))
				return true;
			break;
		case DW_TAG_lexical_block:
			if (!deep)
				break;
			/* FALLTHROUGH */
		case DW_TAG_namespace:
		case DW_TAG_module:
		case DW_TAG_class_type:
		case DW_TAG_structure_type:
		case DW_TAG_union_type:
			if (dw_find_in(&c, rel, deep, out, depth + 1))
				return true;
			break;
		default:
			break;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
	return false;
}

static bool
dw_find_cu(Dwarf_Die *cu, Dwarf_Addr rel, Dwarf_Die *out)
{
	return dw_find_in(cu, rel, false, out, 0) ||
	    dw_find_in(cu, rel, true, out, 0);
}

static bool
dw_find(Dwarf *dbg, Dwarf_Addr rel, Dwarf_Die *out)
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Die cudie, sub;
	Dwarf_Half ver;
	uint8_t ut;

	if (dwarf_addrdie(dbg, rel, &cudie) != NULL &&
	    dw_find_cu(&cudie, rel, out))
		return true;
	/* no .debug_aranges, or it is incomplete: every CU that covers it */
	for (; dwarf_get_units(dbg, cu, &next, &ver, &ut, &cudie, &sub) == 0;
	    cu = next) {
		if ((ut == DW_UT_compile || ut == DW_UT_partial) &&
		    dwarf_haspc(&cudie, rel) > 0 && dw_find_cu(&cudie, rel, out))
			return true;
	}
	return false;
}

/* ---- types ---- */

typedef struct dw_ctx {
	struct sym_dw *c_D;
	bool c_cplus;		/* C++: "point", not "struct point" */
} dw_ctx_t;

static const char *
dw_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_name, &a) != NULL ?
	    dwarf_formstring(&a) : NULL;
}

/* D's DW_AT_type into OUT: false for none (void). */
static bool
dw_type(Dwarf_Die *d, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_type, &a) != NULL &&
	    dwarf_formref_die(&a, out) != NULL;
}

static bool
dw_flag(Dwarf_Die *d, int at)
{
	Dwarf_Attribute a;
	bool v = false;

	return dwarf_attr_integrate(d, at, &a) != NULL &&
	    dwarf_formflag(&a, &v) == 0 && v;
}

static Dwarf_Word
dw_udata(Dwarf_Die *d, int at, Dwarf_Word dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (dwarf_attr_integrate(d, at, &a) == NULL ||
	    dwarf_formudata(&a, &v) != 0)
		return dflt;
	return v;
}

/* T without typedefs and qualifiers, in place: false if that is void. */
static bool
dw_strip(Dwarf_Die *t)
{
	for (int i = 0; i < DW_DEPTH; i++) {
		switch (dwarf_tag(t)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!dw_type(t, t))
				return false;
			break;
		default:
			return true;
		}
	}
	return false;
}

/* GCC spells base types its own way; the usual spelling instead. */
static const char *
dw_base_name(const char *n)
{
	static const char *const tab[][2] = {
		{ "long int", "long" },
		{ "long unsigned int", "unsigned long" },
		{ "short int", "short" },
		{ "short unsigned int", "unsigned short" },
		{ "long long int", "long long" },
		{ "long long unsigned int", "unsigned long long" },
		{ "__int128 unsigned", "unsigned __int128" },
	};

	if (n == NULL)
		return "?";
	for (size_t i = 0; i < sizeof (tab) / sizeof (tab[0]); i++) {
		if (strcmp(n, tab[i][0]) == 0)
			return tab[i][1];
	}
	return n;
}

static bool
dw_ends_ptr(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (s[n - 1] == '*' || s[n - 1] == '&');
}

/*
 * snprintf for type names, which are cut at DW_TNAME on purpose (a
 * function pointer's parameter list can be long).  Returns the length
 * written, not the length wanted.
 */
static size_t
dw_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (len == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

static void dw_tname(const dw_ctx_t *c, Dwarf_Die *t, char *buf, size_t len,
    int depth);

/* A function type as C writes it, with DECL ("(*)", "") for the name. */
static void
dw_fntype(const dw_ctx_t *c, Dwarf_Die *fn, const char *decl, char *buf,
    size_t len, int depth)
{
	char r[DW_TNAME], a[DW_TNAME];
	Dwarf_Die rt, p;
	size_t o = 0;
	int n = 0;

	dw_tname(c, dw_type(fn, &rt) ? &rt : NULL, r, sizeof (r), depth + 1);
	o = dw_fmt(buf, len, "%s %s(", r, decl);
	if (dwarf_child(fn, &p) == 0) {
		do {
			int tag = dwarf_tag(&p);

			if (tag == DW_TAG_formal_parameter) {
				Dwarf_Die pt;

				dw_tname(c, dw_type(&p, &pt) ? &pt : NULL, a,
				    sizeof (a), depth + 1);
			} else if (tag == DW_TAG_unspecified_parameters) {
				dw_fmt(a, sizeof (a), "...");
			} else {
				continue;
			}
			if (o < len)
				o += dw_fmt(buf + o, len - o, "%s%s",
				    n++ > 0 ? ", " : "", a);
		} while (dwarf_siblingof(&p, &p) == 0);
	}
	if (o < len)
		dw_fmt(buf + o, len - o, "%s)",
		    n == 0 && dw_flag(fn, DW_AT_prototyped) ? "void" : "");
}

/* T's name as a declaration would write it; NULL T: void. */
static void
dw_tname(const dw_ctx_t *c, Dwarf_Die *t, char *buf, size_t len, int depth)
{
	char in[DW_TNAME];
	const char *n, *kw;
	Dwarf_Die sub;
	bool has;

	if (t == NULL) {
		dw_fmt(buf, len, "void");
		return;
	}
	if (depth > DW_DEPTH) {
		dw_fmt(buf, len, "?");
		return;
	}
	has = dw_type(t, &sub);
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
		dw_fmt(buf, len, "%s", dw_base_name(dw_name(t)));
		return;
	case DW_TAG_typedef:
	case DW_TAG_unspecified_type:
		n = dw_name(t);
		dw_fmt(buf, len, "%s", n != NULL ? n : "?");
		return;
	case DW_TAG_structure_type:
		kw = "struct";
		goto tagged;
	case DW_TAG_class_type:
		kw = "class";
		goto tagged;
	case DW_TAG_union_type:
		kw = "union";
		goto tagged;
	case DW_TAG_enumeration_type:
		kw = "enum";
	tagged:
		if ((n = dw_name(t)) == NULL)
			dw_fmt(buf, len, "%s {...}", kw);
		else if (c->c_cplus)
			dw_fmt(buf, len, "%s", n);
		else
			dw_fmt(buf, len, "%s %s", kw, n);
		return;
	case DW_TAG_const_type:
		kw = "const";
		goto qual;
	case DW_TAG_volatile_type:
		kw = "volatile";
		goto qual;
	case DW_TAG_restrict_type:
		kw = "restrict";
		goto qual;
	case DW_TAG_atomic_type:
		kw = "_Atomic";
	qual:
		dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
		/* a qualified pointer is "char *const", anything else
		   "const char" */
		if (dw_ends_ptr(in))
			dw_fmt(buf, len, "%s%s", in, kw);
		else
			dw_fmt(buf, len, "%s %s", kw, in);
		return;
	case DW_TAG_pointer_type:
		kw = "*";
		goto ptr;
	case DW_TAG_reference_type:
		kw = "&";
		goto ptr;
	case DW_TAG_rvalue_reference_type:
		kw = "&&";
	ptr:
		if (has && dwarf_tag(&sub) == DW_TAG_subroutine_type) {
			dw_fmt(in, sizeof (in), "(%s)", kw);
			dw_fntype(c, &sub, in, buf, len, depth);
			return;
		}
		dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
		dw_fmt(buf, len, "%s%s%s", in, dw_ends_ptr(in) ? "" : " ",
		    kw);
		return;
	case DW_TAG_array_type:
		dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
		dw_fmt(buf, len, "%s[]", in);
		return;
	case DW_TAG_subroutine_type:
		dw_fntype(c, t, "", buf, len, depth);
		return;
	default:
		dw_fmt(buf, len, "?");
		return;
	}
}

/* The kind of T (stripped; NULL: void). */
static int
dw_kind(Dwarf_Die *t)
{
	Dwarf_Die p;

	if (t == NULL)
		return SYM_T_VOID;
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
		switch (dw_udata(t, DW_AT_encoding, 0)) {
		case DW_ATE_boolean:
			return SYM_T_BOOL;
		case DW_ATE_signed:
		case DW_ATE_signed_char:
			return SYM_T_INT;
		case DW_ATE_unsigned:
		case DW_ATE_unsigned_char:
		case DW_ATE_UTF:
			return SYM_T_UINT;
		case DW_ATE_float:
		case DW_ATE_complex_float:
			return SYM_T_FLOAT;
		default:
			return SYM_T_UNKNOWN;
		}
	case DW_TAG_pointer_type:
		/* char *, signed or unsigned, qualified or not: a string */
		if (dw_type(t, &p) && dw_strip(&p) &&
		    dwarf_tag(&p) == DW_TAG_base_type &&
		    dw_udata(&p, DW_AT_byte_size, 0) == 1) {
			Dwarf_Word e = dw_udata(&p, DW_AT_encoding, 0);

			if (e == DW_ATE_signed_char || e == DW_ATE_unsigned_char)
				return SYM_T_STR;
		}
		return SYM_T_PTR;
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type:
	case DW_TAG_ptr_to_member_type:
	case DW_TAG_unspecified_type:	/* nullptr_t */
		return SYM_T_PTR;
	case DW_TAG_enumeration_type:
		return SYM_T_ENUM;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		return SYM_T_STRUCT;
	default:
		return SYM_T_UNKNOWN;
	}
}

static int
dw_size(Dwarf_Die *t)
{
	Dwarf_Word sz;

	if (t == NULL || dwarf_aggregate_size(t, &sz) != 0 || sz > INT32_MAX)
		return 0;
	return (int)sz;
}

/* ---- System V classification ---- */

static void
dw_merge(int cls[2], uint64_t off, int cl)
{
	int *c;

	if (off >= 16) {
		cls[0] = CL_MEM;
		return;
	}
	c = &cls[off / 8];
	if (*c == CL_NONE || *c == CL_SSE)
		*c = cl == CL_NONE ? *c : cl;
	if (cl == CL_MEM)
		cls[0] = CL_MEM;
}

/* Is P's type a reference to class T (its copy or move constructor)? */
static bool
dw_refto(Dwarf_Die *p, Dwarf_Die *t)
{
	Dwarf_Die r;

	if (!dw_type(p, &r) || (dwarf_tag(&r) != DW_TAG_reference_type &&
	    dwarf_tag(&r) != DW_TAG_rvalue_reference_type) ||
	    !dw_type(&r, &r) || !dw_strip(&r))
		return false;
	return dwarf_dieoffset(&r) == dwarf_dieoffset(t);
}

/*
 * Is class T (stripped) passed by invisible reference: its address in
 * an integer register, the callee working on the caller's copy?  Clang
 * says so (DW_AT_calling_convention); GCC does not, so in C++ it is
 * inferred as the ABI defines it: a destructor or copy or move
 * constructor the user wrote (not artificial, not defaulted), in T or
 * in any base or member.  Not exact (a "= delete" copy is missed), but
 * right for the classes that hold resources, std::string's kind.
 */
static bool
dw_byref(Dwarf_Die *t, bool cplus, int depth)
{
	Dwarf_Word cc = dw_udata(t, DW_AT_calling_convention, 0);
	const char *name = dw_name(t);
	Dwarf_Die m, mt, p;

	if (cc == DW_CC_pass_by_reference || cc == DW_CC_pass_by_value)
		return cc == DW_CC_pass_by_reference;
	if (!cplus || depth > DW_DEPTH || dwarf_child(t, &m) != 0)
		return false;
	do {
		int tag = dwarf_tag(&m);
		const char *mn;

		if (tag == DW_TAG_subprogram) {
			if (dw_flag(&m, DW_AT_artificial) ||
			    dw_udata(&m, DW_AT_defaulted, 0) != 0 ||
			    (mn = dw_name(&m)) == NULL)
				continue;
			if (mn[0] == '~')
				return true;
			if (name == NULL || strcmp(mn, name) != 0 ||
			    dwarf_child(&m, &p) != 0)
				continue;
			/* the first parameter after "this" */
			do {
				if (dwarf_tag(&p) != DW_TAG_formal_parameter ||
				    dw_flag(&p, DW_AT_artificial))
					continue;
				if (dw_refto(&p, t))
					return true;
				break;
			} while (dwarf_siblingof(&p, &p) == 0);
			continue;
		}
		if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
		    dw_flag(&m, DW_AT_declaration) ||
		    dw_flag(&m, DW_AT_external) || !dw_type(&m, &mt) ||
		    !dw_strip(&mt))
			continue;
		while (dwarf_tag(&mt) == DW_TAG_array_type &&
		    dw_type(&mt, &mt) && dw_strip(&mt))
			;
		if ((dwarf_tag(&mt) == DW_TAG_structure_type ||
		    dwarf_tag(&mt) == DW_TAG_class_type ||
		    dwarf_tag(&mt) == DW_TAG_union_type) &&
		    dw_byref(&mt, cplus, depth + 1))
			return true;
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

/* A member's byte offset in its aggregate; false if not a constant. */
static bool
dw_member_off(Dwarf_Die *m, uint64_t *off)
{
	Dwarf_Attribute a;
	Dwarf_Word v;
	Dwarf_Op *ops;
	size_t nops;

	if (dwarf_attr_integrate(m, DW_AT_data_bit_offset, &a) != NULL &&
	    dwarf_formudata(&a, &v) == 0) {
		*off = v / 8;
		return true;
	}
	if (dwarf_attr_integrate(m, DW_AT_data_member_location, &a) == NULL) {
		*off = 0;	/* a union's members */
		return true;
	}
	if (dwarf_formudata(&a, &v) == 0) {
		*off = v;
		return true;
	}
	/* DWARF 2: an expression, DW_OP_plus_uconst N */
	if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
	    ops[0].atom == DW_OP_plus_uconst) {
		*off = ops[0].number;
		return true;
	}
	return false;
}

/* Classify T (stripped) at byte OFF of an argument into CLS. */
static void
dw_classify(Dwarf_Die *t, uint64_t off, int cls[2], int depth)
{
	int sz = dw_size(t), kind;
	Dwarf_Die m, mt;

	if (depth > DW_DEPTH) {
		cls[0] = CL_MEM;
		return;
	}
	switch (dwarf_tag(t)) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		/* (a class passed by reference was told apart before) */
		if (dwarf_child(t, &m) != 0)
			return;
		do {
			uint64_t moff;
			int tag = dwarf_tag(&m);

			if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
			    dw_flag(&m, DW_AT_declaration) ||
			    dw_flag(&m, DW_AT_external))
				continue;	/* static members take no room */
			if (!dw_member_off(&m, &moff) || !dw_type(&m, &mt) ||
			    !dw_strip(&mt)) {
				cls[0] = CL_MEM;
				return;
			}
			if (dwarf_hasattr(&m, DW_AT_bit_size))
				dw_merge(cls, off + moff, CL_INT);
			else
				dw_classify(&mt, off + moff, cls, depth + 1);
		} while (dwarf_siblingof(&m, &m) == 0);
		return;
	case DW_TAG_array_type: {
		int esz;

		if (!dw_type(t, &mt) || !dw_strip(&mt) ||
		    (esz = dw_size(&mt)) <= 0)
			return;
		for (int o = 0; o + esz <= sz && o < 16; o += esz)
			dw_classify(&mt, off + (uint64_t)o, cls, depth + 1);
		return;
	}
	default:
		break;
	}
	kind = dw_kind(t);
	if (kind == SYM_T_FLOAT) {
		const char *n = dw_name(t);

		/* long double is x87: memory; _Float128, complex double SSE */
		if (sz > 16 || (n != NULL && strstr(n, "long double") != NULL))
			dw_merge(cls, off, CL_MEM);
		for (int o = 0; o < sz && sz <= 16; o += 8)
			dw_merge(cls, off + (uint64_t)o, CL_SSE);
	} else {
		for (int o = 0; o < sz || o == 0; o += 8)
			dw_merge(cls, off + (uint64_t)o, CL_INT);
	}
}

/* T's alignment (stripped): what places it on the stack. */
static int
dw_align(Dwarf_Die *t, int depth)
{
	Dwarf_Die m, mt;
	int a = (int)dw_udata(t, DW_AT_alignment, 0), sz;

	if (a > 0 || depth > DW_DEPTH)
		return a > 0 ? a : 8;
	switch (dwarf_tag(t)) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		a = 1;
		if (dwarf_child(t, &m) != 0)
			return a;
		do {
			int ma;

			if ((dwarf_tag(&m) != DW_TAG_member &&
			    dwarf_tag(&m) != DW_TAG_inheritance) ||
			    dw_flag(&m, DW_AT_declaration) ||
			    dw_flag(&m, DW_AT_external) ||
			    !dw_type(&m, &mt) || !dw_strip(&mt))
				continue;
			if ((ma = dw_align(&mt, depth + 1)) > a)
				a = ma;
		} while (dwarf_siblingof(&m, &m) == 0);
		return a;
	case DW_TAG_array_type:
		return dw_type(t, &mt) && dw_strip(&mt) ?
		    dw_align(&mt, depth + 1) : 1;
	default:
		sz = dw_size(t);
		if (dwarf_tag(t) == DW_TAG_base_type &&
		    dw_udata(t, DW_AT_encoding, 0) == DW_ATE_complex_float)
			sz /= 2;
		return sz > 16 ? 16 : sz > 0 ? sz : 1;
	}
}

typedef struct dw_abi {
	int ab_int;		/* integer registers taken */
	int ab_sse;		/* vector registers taken */
	int ab_stack;		/* stack words taken */
} dw_abi_t;

static bool
dw_intclass(int kind)
{
	return kind == SYM_T_INT || kind == SYM_T_UINT || kind == SYM_T_PTR ||
	    kind == SYM_T_STR || kind == SYM_T_ENUM || kind == SYM_T_BOOL;
}

/*
 * Is a value of type T (stripped, of SIZE bytes) passed in memory?
 * CLS gets its eightbytes' classes otherwise.
 */
static bool
dw_in_memory(Dwarf_Die *t, int size, int cls[2])
{
	cls[0] = cls[1] = CL_NONE;
	if (size > 16)
		return true;
	dw_classify(t, 0, cls, 0);
	return cls[0] == CL_MEM || cls[1] == CL_MEM;
}

/* Take the registers or stack words of the next parameter: its argN. */
static int
dw_assign(dw_abi_t *ab, Dwarf_Die *t, int kind, int size, bool cplus)
{
	int cls[2], nint = 0, nsse = 0, arg = -1;

	if (t == NULL || size == 0)
		return -1;
	if (kind == SYM_T_STRUCT && dw_byref(t, cplus, 0)) {
		/* a C++ class with a non-trivial copy: its address */
		cls[0] = CL_INT;
		cls[1] = CL_NONE;
	} else if (dw_in_memory(t, size, cls)) {
		/* on the stack, at a 16-byte boundary if it needs one */
		if (dw_align(t, 0) >= 16)
			ab->ab_stack += ab->ab_stack & 1;
		ab->ab_stack += (size + 7) / 8;
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		nint += cls[i] == CL_INT;
		nsse += cls[i] == CL_SSE;
	}
	if (ab->ab_int + nint <= 6 && ab->ab_sse + nsse <= 8) {
		if (dw_intclass(kind) && nint > 0)
			arg = ab->ab_int;
		ab->ab_int += nint;
		ab->ab_sse += nsse;
		return arg;
	}
	/* not enough registers left: all of it on the stack */
	if (dw_align(t, 0) >= 16)
		ab->ab_stack += ab->ab_stack & 1;
	if (dw_intclass(kind))
		arg = 6 + ab->ab_stack;
	ab->ab_stack += (size + 7) / 8 > 0 ? (size + 7) / 8 : 1;
	return arg;
}

/* ---- enums ---- */

uint64_t
sym_canon(uint64_t val, int size, int sgn)
{
	int bits;

	if (size <= 0 || size >= 8)
		return val;
	bits = size * 8;
	val &= (UINT64_C(1) << bits) - 1;
	if (sgn && (val >> (bits - 1)) & 1)
		val |= ~UINT64_C(0) << bits;
	return val;
}

static bool
dw_signed(Dwarf_Die *t)
{
	Dwarf_Die u;
	Dwarf_Word e;

	if (!dw_type(t, &u) || !dw_strip(&u))
		return false;
	e = dw_udata(&u, DW_AT_encoding, 0);
	return e == DW_ATE_signed || e == DW_ATE_signed_char;
}

/* An enumerator's value; SGN: the enum is signed. */
static uint64_t
dw_enum_value(Dwarf_Die *e, bool sgn, bool *neg)
{
	Dwarf_Attribute a;
	Dwarf_Sword s;
	Dwarf_Word u = 0;
	int bits = 0;

	*neg = false;
	if (dwarf_attr(e, DW_AT_const_value, &a) == NULL)
		return 0;
	switch (dwarf_whatform(&a)) {
	case DW_FORM_sdata:
	case DW_FORM_implicit_const:
		if (dwarf_formsdata(&a, &s) != 0)
			return 0;
		*neg = s < 0;
		return (uint64_t)s;
	case DW_FORM_data1:
		bits = 8;
		break;
	case DW_FORM_data2:
		bits = 16;
		break;
	case DW_FORM_data4:
		bits = 32;
		break;
	default:
		break;
	}
	if (dwarf_formudata(&a, &u) != 0)
		return 0;
	if (sgn && bits > 0)
		u = sym_canon(u, bits / 8, 1);
	return u;
}

static const sym_enum_t *
dw_enum(struct sym_dw *D, Dwarf_Die *t, int size)
{
	Dwarf_Die e;
	size_t n = 0;
	sym_enum_t *en;
	bool neg, sgn = dw_signed(t);

	if (dwarf_child(t, &e) == 0) {
		do {
			if (dwarf_tag(&e) != DW_TAG_enumerator)
				continue;
			n++;
			(void) dw_enum_value(&e, sgn, &neg);
			sgn = sgn || neg;
		} while (dwarf_siblingof(&e, &e) == 0);
	}
	if ((en = dw_alloc(D, sizeof (*en) + n * sizeof (en->en_v[0]))) ==
	    NULL)
		return NULL;
	en->en_magic = DW_ENUM_MAGIC;
	en->en_size = size;
	en->en_signed = sgn;
	en->en_n = 0;
	if (n == 0 || dwarf_child(t, &e) != 0)
		return en;
	do {
		if (dwarf_tag(&e) != DW_TAG_enumerator || en->en_n == n)
			continue;
		en->en_v[en->en_n].ev_val = sym_canon(dw_enum_value(&e, sgn,
		    &neg), size, sgn);
		en->en_v[en->en_n++].ev_name = dw_strdup(D, dw_name(&e));
	} while (dwarf_siblingof(&e, &e) == 0);
	return en;
}

int
sym_enum_format(const void *p, uint64_t val, char *buf, size_t len)
{
	const sym_enum_t *en = p;

	if (en == NULL || en->en_magic != DW_ENUM_MAGIC)
		return snprintf(buf, len, "%" PRIu64, val);
	val = sym_canon(val, en->en_size, en->en_signed);
	for (size_t i = 0; i < en->en_n; i++) {
		if (en->en_v[i].ev_val == val && en->en_v[i].ev_name != NULL)
			return snprintf(buf, len, "%s", en->en_v[i].ev_name);
	}
	if (en->en_signed)
		return snprintf(buf, len, "%" PRId64, (int64_t)val);
	return snprintf(buf, len, "%" PRIu64, val);
}

/* ---- describing a subprogram ---- */

/* Fill P from type T (NULL: none) of a parameter or the return. */
static int
dw_param(const dw_ctx_t *c, Dwarf_Die *t, const char *name, sym_param_t *p)
{
	char tn[DW_TNAME];
	Dwarf_Die s;
	bool has = t != NULL;

	if (has) {
		s = *t;
		has = dw_strip(&s);
	}
	dw_tname(c, t, tn, sizeof (tn), 0);
	memset(p, 0, sizeof (*p));
	p->pa_kind = dw_kind(has ? &s : NULL);
	p->pa_size = has ? dw_size(&s) : 0;
	p->pa_arg = -1;
	if ((p->pa_type = dw_strdup(c->c_D, tn)) == NULL ||
	    (name != NULL && (p->pa_name = dw_strdup(c->c_D, name)) == NULL))
		return -ENOMEM;
	if (p->pa_kind == SYM_T_ENUM &&
	    (p->pa_enum = dw_enum(c->c_D, &s, p->pa_size)) == NULL)
		return -ENOMEM;
	return 0;
}

/* The DIE whose children list FN's parameters. */
static void
dw_param_owner(Dwarf_Die *fn, Dwarf_Die *owner)
{
	Dwarf_Attribute a;
	Dwarf_Die c, o;

	*owner = *fn;
	if (dwarf_child(fn, &c) == 0) {
		do {
			if (dwarf_tag(&c) == DW_TAG_formal_parameter ||
			    dwarf_tag(&c) == DW_TAG_unspecified_parameters)
				return;
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	/* a concrete instance listing none: its origin's list */
	if ((dwarf_attr(fn, DW_AT_abstract_origin, &a) != NULL ||
	    dwarf_attr(fn, DW_AT_specification, &a) != NULL) &&
	    dwarf_formref_die(&a, &o) != NULL)
		*owner = o;
}

static int
dw_describe(struct sym_dw *D, Dwarf_Die *fn, sym_fn_t *out)
{
	dw_ctx_t c = { D, false };
	Dwarf_Die cu, owner, p, t, s;
	sym_param_t *v;
	dw_abi_t ab = { 0, 0, 0 };
	int n = 0, lang, rv, cls[2];

	memset(out, 0, sizeof (*out));
	out->fn_name = dw_strdup(D, dw_name(fn));
	(void) dwarf_lowpc(fn, &out->fn_low);
	if (dwarf_diecu(fn, &cu, NULL, NULL) != NULL) {
		lang = dwarf_srclang(&cu);
		c.c_cplus = lang == DW_LANG_C_plus_plus ||
		    lang == DW_LANG_C_plus_plus_03 ||
		    lang == DW_LANG_C_plus_plus_11 ||
		    lang == DW_LANG_C_plus_plus_14;
		/* the assembler's subprograms say nothing of parameters */
		if (lang == DW_LANG_Mips_Assembler) {
			out->fn_none = "it is written in assembly: its DWARF "
			    "has no parameters";
			return 0;
		}
	}
	if ((rv = dw_param(&c, dw_type(fn, &t) ? &t : NULL, NULL,
	    &out->fn_ret)) != 0)
		return rv;
	/* a result returned in memory: its address comes in rdi */
	s = t;
	if (out->fn_ret.pa_kind == SYM_T_STRUCT && dw_strip(&s) &&
	    (dw_byref(&s, c.c_cplus, 0) ||
	    dw_in_memory(&s, out->fn_ret.pa_size, cls)))
		ab.ab_int = 1;
	else if (dw_intclass(out->fn_ret.pa_kind))
		out->fn_ret.pa_arg = 1;

	dw_param_owner(fn, &owner);
	if (dwarf_child(&owner, &p) == 0) {
		do {
			n += dwarf_tag(&p) == DW_TAG_formal_parameter;
		} while (dwarf_siblingof(&p, &p) == 0);
	}
	if ((v = dw_alloc(D, (size_t)(n + 1) * sizeof (*v))) == NULL)
		return -ENOMEM;
	out->fn_params = v;
	if (n == 0 || dwarf_child(&owner, &p) != 0)
		goto variadic;
	do {
		sym_param_t *q = &v[out->fn_nparams];

		if (dwarf_tag(&p) == DW_TAG_unspecified_parameters)
			out->fn_variadic = 1;
		if (dwarf_tag(&p) != DW_TAG_formal_parameter ||
		    out->fn_nparams == n)
			continue;
		bool has = dw_type(&p, &t);
		if ((rv = dw_param(&c, has ? &t : NULL, dw_name(&p), q)) != 0)
			return rv;
		s = t;
		if (has && dw_strip(&s))
			q->pa_arg = dw_assign(&ab, &s, q->pa_kind, q->pa_size,
			    c.c_cplus);
		out->fn_nparams++;
	} while (dwarf_siblingof(&p, &p) == 0);
	return 0;
variadic:
	if (dwarf_child(&owner, &p) == 0) {
		do {
			if (dwarf_tag(&p) == DW_TAG_unspecified_parameters)
				out->fn_variadic = 1;
		} while (dwarf_siblingof(&p, &p) == 0);
	}
	return 0;
}

/* ---- lookups ---- */

static const sym_fn_t *
dw_cached(struct sym_dw *D, uint64_t rel, bool *hit)
{
	for (sym_dwent_t *e = D->dw_hash[(rel >> 4) % DW_NBUCKET]; e != NULL;
	    e = e->de_next) {
		if (e->de_rel == rel) {
			*hit = true;
			return e->de_fn;
		}
	}
	*hit = false;
	return NULL;
}

static void
dw_remember(struct sym_dw *D, uint64_t rel, const sym_fn_t *fn)
{
	sym_dwent_t *e = dw_alloc(D, sizeof (*e));

	if (e == NULL)
		return;		/* only not cached */
	e->de_rel = rel;
	e->de_fn = fn;
	e->de_next = D->dw_hash[(rel >> 4) % DW_NBUCKET];
	D->dw_hash[(rel >> 4) % DW_NBUCKET] = e;
}

/* The subprogram covering REL, described (once per DIE); -errno. */
static int
dw_lookup(struct sym_dw *D, uint64_t rel, const sym_fn_t **fnp)
{
	Dwarf_Die fn;
	Dwarf_Off off;
	sym_fnrec_t *r;
	int rv;

	*fnp = NULL;
	if (!dw_find(D->dw_dbg, rel, &fn))
		return 0;
	off = dwarf_dieoffset(&fn);
	for (r = D->dw_fns; r != NULL; r = r->fr_next) {
		if (r->fr_die == off) {
			*fnp = &r->fr_fn;
			return 0;
		}
	}
	if ((r = dw_alloc(D, sizeof (*r))) == NULL)
		return -ENOMEM;
	if ((rv = dw_describe(D, &fn, &r->fr_fn)) != 0)
		return rv;
	r->fr_die = off;
	r->fr_next = D->dw_fns;
	D->dw_fns = r;
	*fnp = &r->fr_fn;
	return 0;
}

/* GCC's clones change the calling convention: foo.isra.0, foo.part.1 */
static const char *
dw_clone(const sym_file_t *F, uint64_t rel)
{
	const sym_entry_t *e = sym_file_by_addr(F, rel);
	const char *n;

	if (e == NULL)
		return NULL;
	n = F->sf_strs + e->se_name;
	if (strstr(n, ".isra.") != NULL || strstr(n, ".constprop.") != NULL ||
	    strstr(n, ".part.") != NULL || strstr(n, ".cold") != NULL)
		return n;
	return NULL;
}

int
sym_fn_params(sym_proc_t *S, uintptr_t addr, const sym_fn_t **fnp)
{
	sym_obj_t *o = sym_obj_at(S, addr);
	const char *clone;
	struct sym_dw *D;
	uint64_t rel;
	bool hit;
	int rv;

	if (o == NULL)
		return err_set(ENOENT, "pid %d: %#lx is in no object",
		    (int)S->sp_pid, (unsigned long)addr);
	if (sym_obj_load(S, o) != 0 || o->so_file == NULL)
		return err_set(ENOENT, "pid %d: %s: no DWARF: cannot read "
		    "the object", (int)S->sp_pid, o->so_path);
	rel = addr - o->so_bias;
	if ((clone = dw_clone(o->so_file, rel)) != NULL)
		return err_set(ENOENT, "pid %d: %s is a compiler clone: its "
		    "parameters are not the declared ones", (int)S->sp_pid,
		    clone);
	if ((D = dw_get(o->so_file)) == NULL)
		return err_set(ENOMEM, "pid %d: out of memory", (int)S->sp_pid);
	pthread_mutex_lock(&D->dw_lock);
	if (!D->dw_tried)
		dw_open(D, S->sp_pid, o, o->so_file);
	if (D->dw_dbg == NULL) {
		rv = err_set(ENOENT, "pid %d: %s: no DWARF: %s",
		    (int)S->sp_pid, o->so_path, D->dw_why);
	} else if ((*fnp = dw_cached(D, rel, &hit)) == NULL && !hit &&
	    (rv = dw_lookup(D, rel, fnp)) != 0) {
		rv = err_set(-rv, "pid %d: %s: reading its DWARF: %s",
		    (int)S->sp_pid, o->so_path, strerror(-rv));
	} else {
		if (!hit)
			dw_remember(D, rel, *fnp);
		if (*fnp == NULL)
			rv = err_set(ENOENT, "pid %d: no function in the DWARF "
			    "of %s covers %#lx", (int)S->sp_pid, o->so_path,
			    (unsigned long)addr);
		else if ((*fnp)->fn_none != NULL)
			rv = err_set(ENOENT, "pid %d: %s in %s: %s",
			    (int)S->sp_pid, (*fnp)->fn_name != NULL ?
			    (*fnp)->fn_name : "function", o->so_path,
			    (*fnp)->fn_none);
		else
			rv = 0;
	}
	pthread_mutex_unlock(&D->dw_lock);
	return rv;
}
