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
 * Each parameter's type is named, kinded and placed (its argN under
 * System V) by dwtype.c; a function returning a MEMORY aggregate gets
 * its result's address in rdi, so its parameters start at arg1.  Two
 * kinds of subprogram are refused rather than described wrongly: a
 * compiler clone (foo.isra.0, foo.constprop.0, foo.part.0), whose calling
 * convention is not its declaration's, and the assembler's (glibc's
 * string functions), whose DWARF lists no parameters.
 *
 * Descriptions are cached per object, by address, in an arena freed with
 * it; a lookup that found nothing is cached too.  Each object's state has
 * its own mutex (libdw handles are not thread-safe); one global mutex
 * only guards creating that state.
 */
#include "dwarf_impl.h"
#include "err/err.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DW_NBUCKET	64	/* address hash */
#define DW_ENUM_MAGIC	0x656e756dU

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

	if (!sym_dw_type(t, &u) || !sym_dw_strip(&u))
		return false;
	e = sym_dw_udata(&u, DW_AT_encoding, 0);
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
		en->en_v[en->en_n++].ev_name = dw_strdup(D, sym_dw_name(&e));
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
dw_param(const sym_dwctx_t *c, Dwarf_Die *t, const char *name, sym_param_t *p)
{
	char tn[DW_TNAME];
	Dwarf_Die s;
	bool has = t != NULL;

	if (has) {
		s = *t;
		has = sym_dw_strip(&s);
	}
	sym_dw_tname(c, t, tn, sizeof (tn), 0);
	memset(p, 0, sizeof (*p));
	p->pa_kind = sym_dw_kind(has ? &s : NULL);
	p->pa_size = has ? sym_dw_size(&s) : 0;
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
	sym_dwctx_t c = { D, false };
	Dwarf_Die cu, owner, p, t, s;
	sym_param_t *v;
	arch_args_t ab;
	arch_argtype_t at;
	int n = 0, lang, rv;

	memset(out, 0, sizeof (*out));
	out->fn_name = dw_strdup(D, sym_dw_name(fn));
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
	if ((rv = dw_param(&c, sym_dw_type(fn, &t) ? &t : NULL, NULL,
	    &out->fn_ret)) != 0)
		return rv;
	/* the result: in memory, it takes a register for its address */
	s = t;
	sym_dw_argtype(out->fn_ret.pa_kind != SYM_T_VOID && sym_dw_strip(&s) ?
	    &s : NULL, out->fn_ret.pa_kind, out->fn_ret.pa_size, c.c_cplus,
	    &at);
	arch_args_begin(&ab, &at);
	if (sym_dw_intclass(out->fn_ret.pa_kind))
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
		bool has = sym_dw_type(&p, &t);
		if ((rv = dw_param(&c, has ? &t : NULL, sym_dw_name(&p), q)) != 0)
			return rv;
		s = t;
		if (has && sym_dw_strip(&s)) {
			sym_dw_argtype(&s, q->pa_kind, q->pa_size, c.c_cplus,
			    &at);
			q->pa_arg = arch_args_next(&ab, &at);
		}
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
