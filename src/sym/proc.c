/*
 * proc.c - the objects of one process, and lookups across them.
 *
 * The mappings say where each object is; the run-time linker's link maps,
 * when the rtld agent has them, say which objects there are, in what
 * order and namespace, and at what bias.  An object is matched to its
 * mappings by its dynamic section (l_ld): the run of consecutive mappings
 * of one file that holds it.  Without link maps (a static program, or no
 * agent) the executable comes first, then every other mapped file with
 * executable pages, by address, and biases come from the program headers.
 *
 * Symbol tables are attached lazily, at the first lookup that needs one.
 *
 * Names, as a user means them: a plain name is the default version (what
 * a program linked now calls), "name@V" another; an IFUNC is the
 * implementation its resolver chose in this process (the GOT slot of its
 * IRELATIVE relocation), never the resolver, which runs once.  Globs
 * match any alias's name, and each address is given once.
 */
#include "sym_impl.h"
#include "err/err.h"
#include "ptrace/pt.h"

#include <elf.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

sym_proc_t *
sym_proc_new(pid_t pid)
{
	sym_proc_t *S = malloc(sizeof (*S));

	if (S != NULL)	/* no object yet: the first update lists them */
		*S = (sym_proc_t){ .sp_pid = pid };
	return S;
}

static void
sym_proc_clear(sym_proc_t *S)
{
	for (size_t i = 0; i < S->sp_nobj; i++) {
		sym_file_rele(S->sp_obj[i].so_file);
		free(S->sp_obj[i].so_path);
		free(S->sp_obj[i].so_lname);
	}
	for (size_t i = 0; i < S->sp_nreg; i++)
		free((char *)S->sp_reg[i].sr_name);
	free(S->sp_obj);
	free(S->sp_byaddr);
	free(S->sp_reg);
	S->sp_obj = NULL;
	S->sp_byaddr = NULL;
	S->sp_reg = NULL;
	S->sp_nobj = S->sp_nreg = 0;
}

void
sym_proc_reset(sym_proc_t *S)
{
	sym_proc_clear(S);
	S->sp_gen++;
}

unsigned
sym_proc_gen(const sym_proc_t *S)
{
	return S->sp_gen;
}

void
sym_proc_free(sym_proc_t *S)
{
	if (S == NULL)
		return;
	sym_proc_clear(S);
	free(S);
}

/* A run of consecutive mappings of one file: one mapped instance. */
typedef struct sym_run {
	size_t r_first, r_last;	/* indices in the maps */
	int r_exec;		/* has executable pages */
	int r_used;		/* claimed by a link-map entry */
} sym_run_t;

static const char *
sym_basename(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static int
sym_is_file(const pt_map_t *m)
{
	return m->pm_path[0] == '/' && m->pm_inode != 0;
}

static int
sym_add_obj(sym_proc_t *S, const pt_map_t *maps, const sym_run_t *r,
    const char *path, const char *lname, int lmid, int known_bias,
    uintptr_t bias, int exec)
{
	sym_obj_t *v = realloc(S->sp_obj, (S->sp_nobj + 1) * sizeof (*v));
	const pt_map_t *f = &maps[r->r_first];
	sym_obj_t *o;
	size_t xm = r->r_first;

	if (v == NULL)
		return -ENOMEM;
	S->sp_obj = v;
	o = &v[S->sp_nobj];
	memset(o, 0, sizeof (*o));
	/* a deleted file shows " (deleted)": keep the name it had */
	o->so_path = strdup(path);
	if (o->so_path == NULL)
		return -ENOMEM;
	if (lname != NULL && *lname == '/' && strcmp(lname, path) != 0 &&
	    (o->so_lname = strdup(lname)) == NULL) {
		free(o->so_path);
		return -ENOMEM;
	}
	char *del = strstr(o->so_path, " (deleted)");
	if (del != NULL && del[10] == '\0')
		*del = '\0';
	o->so_base = sym_basename(o->so_path);
	o->so_start = f->pm_start;
	o->so_end = maps[r->r_last].pm_end;
	for (size_t i = r->r_first; i <= r->r_last; i++) {
		if (maps[i].pm_offset == 0) {
			xm = i;
			break;
		}
	}
	o->so_mstart = maps[xm].pm_start;
	o->so_mend = maps[xm].pm_end;
	o->so_moff = maps[xm].pm_offset;
	o->so_dev = f->pm_dev;
	o->so_ino = f->pm_inode;
	o->so_lmid = lmid;
	o->so_exec = exec;
	o->so_bias = bias;
	o->so_tried = 0;
	if (!known_bias)
		o->so_bias = (uintptr_t)-1;	/* from the headers, on load */
	S->sp_nobj++;
	return 0;
}

static int
sym_cmp_start(const void *a, const void *b, void *arg)
{
	const sym_obj_t *o = arg;
	uintptr_t x = o[*(const size_t *)a].so_start;
	uintptr_t y = o[*(const size_t *)b].so_start;

	return x < y ? -1 : x > y;
}

static int
sym_add_region(sym_proc_t *S, const pt_map_t *m)
{
	const char *name = m->pm_path[0] == '[' ? m->pm_path : "[anon]";
	sym_region_t *v;

	if (strcmp(name, "[vvar]") == 0 || strcmp(name, "[vsyscall]") == 0)
		return 0;
	if (S->sp_nreg > 0 && strcmp(S->sp_reg[S->sp_nreg - 1].sr_name,
	    name) == 0 && S->sp_reg[S->sp_nreg - 1].sr_end == m->pm_start) {
		S->sp_reg[S->sp_nreg - 1].sr_end = m->pm_end;
		return 0;
	}
	if ((v = realloc(S->sp_reg, (S->sp_nreg + 1) * sizeof (*v))) == NULL)
		return -ENOMEM;
	S->sp_reg = v;
	v[S->sp_nreg].sr_start = m->pm_start;
	v[S->sp_nreg].sr_end = m->pm_end;
	if ((v[S->sp_nreg].sr_name = strdup(name)) == NULL)
		return -ENOMEM;
	S->sp_nreg++;
	return 0;
}

/*
 * Rebuild from the maps, in the order and with the biases of DESC when
 * given.  Tables already loaded stay attached to the same files.
 */
static int
sym_build(sym_proc_t *S, const sym_objdesc_t *desc, size_t ndesc)
{
	char path[64], exe[4096];
	pt_map_t *maps = NULL;
	size_t nmaps = 0, nruns = 0;
	sym_run_t *runs;
	sym_proc_t old = *S;
	ssize_t n;
	int rv;

	if ((rv = pt_maps_read(S->sp_pid, &maps, &nmaps)) != 0)
		return rv;
	if (nmaps == 0) {
		/* a zombie: no address space left to describe */
		pt_maps_free(maps, nmaps);
		return err_set(ESRCH, "pid %d: process has exited",
		    (int)S->sp_pid);
	}
	snprintf(path, sizeof (path), "/proc/%d/exe", (int)S->sp_pid);
	exe[0] = '\0';
	if ((n = readlink(path, exe, sizeof (exe) - 1)) > 0)
		exe[n] = '\0';
	if ((runs = calloc(nmaps + 1, sizeof (*runs))) == NULL) {
		pt_maps_free(maps, nmaps);
		return -ENOMEM;
	}
	S->sp_obj = NULL;
	S->sp_byaddr = NULL;
	S->sp_reg = NULL;
	S->sp_nobj = S->sp_nreg = 0;

	for (size_t i = 0; i < nmaps; i++) {
		if (!sym_is_file(&maps[i])) {
			if ((rv = sym_add_region(S, &maps[i])) != 0)
				goto out;
			continue;
		}
		/* a second copy of the file (dlmopen) starts at offset 0 */
		if (nruns > 0 && runs[nruns - 1].r_last == i - 1 &&
		    maps[i - 1].pm_inode == maps[i].pm_inode &&
		    maps[i - 1].pm_dev == maps[i].pm_dev &&
		    maps[i].pm_offset != 0) {
			runs[nruns - 1].r_last = i;
		} else {
			runs[nruns].r_first = runs[nruns].r_last = i;
			nruns++;
		}
		if (maps[i].pm_prot & PROT_EXEC)
			runs[nruns - 1].r_exec = 1;
	}

	/* The link maps' objects, in their order. */
	for (size_t d = 0; d < ndesc; d++) {
		for (size_t r = 0; r < nruns; r++) {
			uintptr_t lo = maps[runs[r].r_first].pm_start;
			uintptr_t hi = maps[runs[r].r_last].pm_end;

			if (runs[r].r_used || desc[d].sd_dyn < lo ||
			    desc[d].sd_dyn >= hi)
				continue;
			runs[r].r_used = 1;
			const char *p = maps[runs[r].r_first].pm_path;
			int isexe = S->sp_nobj == 0 && d == 0;
			if ((rv = sym_add_obj(S, maps, &runs[r], p,
			    desc[d].sd_path, desc[d].sd_lmid, 1,
			    desc[d].sd_bias, isexe)) != 0)
				goto out;
			S->sp_obj[S->sp_nobj - 1].so_dyn = desc[d].sd_dyn;
			break;
		}
	}
	/* Without link maps: the executable first, then the rest. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < nruns; r++) {
			const char *p = maps[runs[r].r_first].pm_path;
			int isexe = strcmp(p, exe) == 0 && S->sp_nobj == 0;

			if (runs[r].r_used || (pass == 0) != isexe ||
			    (!runs[r].r_exec && !isexe))
				continue;
			runs[r].r_used = 1;
			if ((rv = sym_add_obj(S, maps, &runs[r], p, NULL, 0,
			    0, 0, isexe)) != 0)
				goto out;
		}
	}
	if (S->sp_nobj > 0 && (S->sp_byaddr = malloc(S->sp_nobj *
	    sizeof (size_t))) == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < S->sp_nobj; i++)
		S->sp_byaddr[i] = i;
	qsort_r(S->sp_byaddr, S->sp_nobj, sizeof (size_t), sym_cmp_start,
	    S->sp_obj);

	/* keep the tables of files still mapped at the same place */
	for (size_t i = 0; i < S->sp_nobj; i++) {
		for (size_t j = 0; j < old.sp_nobj; j++) {
			sym_obj_t *o = &S->sp_obj[i], *p = &old.sp_obj[j];

			if (p->so_file == NULL || o->so_ino != p->so_ino ||
			    o->so_dev != p->so_dev ||
			    o->so_start != p->so_start)
				continue;
			o->so_file = p->so_file;
			o->so_tried = 1;
			if (o->so_bias == (uintptr_t)-1)
				o->so_bias = p->so_bias;
			p->so_file = NULL;
			break;
		}
	}
	rv = 0;
out:
	free(runs);
	pt_maps_free(maps, nmaps);
	if (rv != 0) {
		sym_proc_clear(S);
		*S = old;
	} else {
		sym_proc_clear(&old);
	}
	return rv;
}

int
sym_proc_update_maps(sym_proc_t *S)
{
	int rv = sym_build(S, NULL, 0);

	if (rv == 0)
		S->sp_gen++;	/* a failed build kept the old list */
	return rv;
}

int
sym_proc_set_objects(sym_proc_t *S, const sym_objdesc_t *objs, size_t n)
{
	int rv = sym_build(S, objs, n);

	if (rv == 0)
		S->sp_gen++;	/* a failed build kept the old list */
	return rv;
}

/* Attach the table; 0 or -errno.  Sets the bias of a maps-only object. */
int
sym_obj_load(sym_proc_t *S, sym_obj_t *o)
{
	int err = 0;

	if (!o->so_tried) {
		o->so_tried = 1;
		o->so_file = sym_file_get(S->sp_pid, o->so_mstart, o->so_mend,
		    o->so_path, o->so_dev, o->so_ino, &err);
		/* a file we may not open: its dynamic symbols from memory */
		if (o->so_file == NULL && o->so_dyn != 0 &&
		    o->so_bias != (uintptr_t)-1 && err != -ENOEXEC) {
			o->so_file = sym_file_from_memory(S->sp_pid,
			    o->so_bias, o->so_dyn, &err);
			if (o->so_file != NULL)
				o->so_file->sf_refs = 1;
		}
		if (o->so_file != NULL && o->so_bias == (uintptr_t)-1)
			o->so_bias = sym_file_bias(o->so_file, o->so_mstart,
			    o->so_moff);
	}
	if (o->so_bias == (uintptr_t)-1)
		o->so_bias = o->so_start;
	return o->so_file != NULL ? 0 : (err ? err : -ENOEXEC);
}

static void
sym_fill(sym_info_t *si, const sym_obj_t *o, const sym_file_t *F,
    const sym_entry_t *e)
{
	memset(si, 0, sizeof (*si));
	si->sy_object = o->so_base;
	si->sy_path = o->so_path;
	si->sy_lmid = o->so_lmid;
	si->sy_bias = o->so_bias;
	if (e != NULL) {
		si->sy_name = F->sf_strs + e->se_name;
		si->sy_addr = o->so_bias + e->se_value;
		si->sy_size = e->se_size;
		si->sy_type = e->se_type;
		if (e->se_ver != SYM_NOVER)
			si->sy_version = F->sf_strs + e->se_ver;
		if (e->se_hidden)
			si->sy_flags |= SYM_COMPAT;
		si->sy_dname = sym_file_dname(F, e);
	}
}

/*
 * An IFUNC as the function its resolver chose here: the slot its
 * IRELATIVE relocation names holds the choice once the run-time linker
 * has relocated the object (a dlopen's link maps are consistent before
 * that).  The file's value relocated (a PLT entry), or a value outside the
 * object, is no choice.  0 and SI turned into the choice, or -1 and SI as
 * it was.
 */
static int
sym_ifunc_chosen(sym_proc_t *S, const sym_obj_t *o, const sym_entry_t *e,
    sym_info_t *si)
{
	const sym_file_t *F = o->so_file;
	const sym_irel_t *ir = sym_file_irel(F, e->se_value);
	const sym_entry_t *impl;
	uint64_t v;

	if (ir == NULL || sym_mem_read(S->sp_pid, o->so_bias + ir->ir_slot,
	    &v, sizeof (v)) != 0 || v < o->so_start || v >= o->so_end ||
	    v == o->so_bias + ir->ir_init)
		return -1;
	si->sy_addr = v;
	si->sy_size = 0;
	si->sy_type = STT_FUNC;
	si->sy_flags |= SYM_IFUNC;
	if ((impl = sym_file_by_addr(F, v - o->so_bias)) != NULL &&
	    impl->se_value == v - o->so_bias) {
		si->sy_impl = F->sf_strs + impl->se_name;
		si->sy_size = impl->se_size;
	}
	return 0;
}

/* The object whose mappings hold ADDR, or NULL. */
sym_obj_t *
sym_obj_at(sym_proc_t *S, uintptr_t addr)
{
	size_t lo = 0, hi = S->sp_nobj;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (S->sp_obj[S->sp_byaddr[mid]].so_start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr >= S->sp_obj[S->sp_byaddr[lo - 1]].so_end)
		return NULL;
	return &S->sp_obj[S->sp_byaddr[lo - 1]];
}

int
sym_lookup_addr(sym_proc_t *S, uintptr_t addr, sym_info_t *si)
{
	sym_obj_t *o = sym_obj_at(S, addr);

	if (o != NULL) {
		const sym_entry_t *e = NULL;

		if (sym_obj_load(S, o) == 0)
			e = sym_file_by_addr(o->so_file, addr - o->so_bias);
		sym_fill(si, o, o->so_file, e);
		si->sy_offset = addr - (e != NULL ? si->sy_addr : o->so_bias);
		return 0;
	}
	for (size_t i = 0; i < S->sp_nreg; i++) {
		sym_region_t *r = &S->sp_reg[i];

		if (addr >= r->sr_start && addr < r->sr_end) {
			memset(si, 0, sizeof (*si));
			si->sy_object = r->sr_name;
			si->sy_path = r->sr_name;
			si->sy_bias = r->sr_start;
			si->sy_offset = addr - r->sr_start;
			return 0;
		}
	}
	return err_set(ENOENT, "pid %d: address %#lx is not mapped",
	    (int)S->sp_pid, (unsigned long)addr);
}

/* OBJECT as DTrace names it: a.out, basename, basename to its first dot,
 * or a path. */
static int
sym_obj_matches(const sym_obj_t *o, const char *q, size_t qlen)
{
	if (qlen == 5 && strncmp(q, "a.out", 5) == 0)
		return o->so_exec;
	if (memchr(q, '/', qlen) != NULL)
		return (strlen(o->so_path) == qlen &&
		    strncmp(o->so_path, q, qlen) == 0) ||
		    (o->so_lname != NULL && strlen(o->so_lname) == qlen &&
		    strncmp(o->so_lname, q, qlen) == 0);
	if (strlen(o->so_base) == qlen && strncmp(o->so_base, q, qlen) == 0)
		return 1;
	return strncmp(o->so_base, q, qlen) == 0 && o->so_base[qlen] == '.';
}

int
sym_lookup_name(sym_proc_t *S, const char *spec, sym_info_t *si)
{
	const char *name = spec, *obj = NULL, *tick;
	size_t objlen = 0;
	int lmid = -1, found_obj = 0;

	if (strncmp(spec, "LM", 2) == 0 && (tick = strchr(spec, '`')) != NULL) {
		char *end;
		long v = strtol(spec + 2, &end, 10);

		if (end == tick && end != spec + 2) {
			lmid = (int)v;
			name = tick + 1;
		}
	}
	if ((tick = strchr(name, '`')) != NULL) {
		obj = name;
		objlen = (size_t)(tick - name);
		name = tick + 1;
	}
	if (*name == '\0' || strchr(name, '`') != NULL) {
		return err_set(EINVAL, "invalid symbol '%s'", spec);
	}
	/* the executable first (sp_obj[0] when it is a.out), then load order */
	for (size_t i = 0; i < S->sp_nobj; i++) {
		sym_obj_t *o = &S->sp_obj[i];
		const sym_entry_t *e;

		if (lmid >= 0 && o->so_lmid != lmid)
			continue;
		if (obj != NULL && !sym_obj_matches(o, obj, objlen))
			continue;
		found_obj = 1;
		if (sym_obj_load(S, o) != 0)
			continue;
		if ((e = sym_file_by_name(o->so_file, name)) != NULL) {
			sym_fill(si, o, o->so_file, e);
			if (e->se_type == STT_GNU_IFUNC &&
			    sym_ifunc_chosen(S, o, e, si) != 0)
				si->sy_flags |= SYM_RESOLVER;
			return 0;
		}
	}
	if (obj != NULL && !found_obj) {
		return err_set(ESRCH, "pid %d: no object '%.*s'%s",
		    (int)S->sp_pid, (int)objlen, obj,
		    lmid >= 0 ? " in that namespace" : "");
	}
	return err_set(ENOENT, "pid %d: no symbol '%s'%s%.*s", (int)S->sp_pid,
	    name, obj != NULL ? " in " : "", (int)objlen,
	    obj != NULL ? obj : "");
}

/*
 * Whether NAMEGLOB names E by its demangled name: "ns::Foo::bar(int)",
 * or, for a glob without '(', its name without the parameters: the
 * glob with "(*" appended ("ns::Foo::bar" is every overload).
 */
static bool
sym_glob_demangled(const sym_file_t *F, const sym_entry_t *e,
    const char *nameglob)
{
	const char *d = sym_file_dname(F, e);
	char g[512];

	if (d == NULL)
		return false;
	if (fnmatch(nameglob, d, 0) == 0)
		return true;
	if (strchr(nameglob, '(') != NULL ||
	    (size_t)snprintf(g, sizeof (g), "%s(*", nameglob) >= sizeof (g))
		return false;
	return fnmatch(g, d, 0) == 0;
}

/*
 * Whether entry E of F is named by NAMEGLOB: with '@', its versioned
 * name, "name@V" (the default also as "name@@V"); without, its base name
 * unless E is a compat version of a name that has a default.
 */
static int
sym_glob_matches(const sym_file_t *F, const sym_entry_t *e,
    const char *nameglob)
{
	const char *n = F->sf_strs + e->se_name, *ver;
	size_t bl = strcspn(n, "@");
	char buf[512];

	if (bl >= sizeof (buf) / 2)
		return 0;
	memcpy(buf, n, bl);
	buf[bl] = '\0';
	if (strchr(nameglob, '@') == NULL) {
		const sym_entry_t *d;

		if (fnmatch(nameglob, buf, 0) != 0 &&
		    !sym_glob_demangled(F, e, nameglob))
			return 0;
		return !e->se_hidden || (d = sym_file_by_name(F, buf)) == NULL ||
		    d->se_hidden;
	}
	if (e->se_ver == SYM_NOVER)
		return 0;
	ver = F->sf_strs + e->se_ver;
	snprintf(buf + bl, sizeof (buf) - bl, "@%s", ver);
	if (fnmatch(nameglob, buf, 0) == 0)
		return 1;
	snprintf(buf + bl, sizeof (buf) - bl, "@@%s", ver);
	return !e->se_hidden && fnmatch(nameglob, buf, 0) == 0;
}

/* sym_iter in one object, whose table is loaded. */
static int
sym_iter_obj(sym_proc_t *S, const sym_obj_t *o, const char *nameglob,
    sym_iter_f *fn, void *arg)
{
	const sym_file_t *F = o->so_file;
	uint64_t last = 0;
	int rv;

	for (size_t j = 0; j < F->sf_nsyms; j++) {
		const sym_entry_t *e = &F->sf_syms[j];
		sym_info_t si;

		if ((e->se_type != STT_FUNC && e->se_type != STT_GNU_IFUNC) ||
		    e->se_value == last || !sym_glob_matches(F, e, nameglob))
			continue;
		last = e->se_value;	/* aliases: the first name */
		sym_fill(&si, o, F, e);
		if (e->se_type == STT_GNU_IFUNC &&
		    sym_ifunc_chosen(S, o, e, &si) != 0)
			continue;	/* a resolver: calling it is no call */
		if ((rv = fn(&si, arg)) != 0)
			return rv;
	}
	return 0;
}

/*
 * Does O match OBJGLOB: a plain name in DTrace's forms (sym_obj_matches),
 * else a glob on the basename, or on the path when it has a '/'.
 */
int
sym_obj_glob(const sym_obj_t *o, const char *objglob)
{
	if (strpbrk(objglob, "*?[") == NULL)
		return sym_obj_matches(o, objglob, strlen(objglob));
	if (strchr(objglob, '/') != NULL)
		return fnmatch(objglob, o->so_path, 0) == 0 ||
		    (o->so_lname != NULL &&
		    fnmatch(objglob, o->so_lname, 0) == 0);
	return fnmatch(objglob, o->so_base, 0) == 0;
}

int
sym_iter(sym_proc_t *S, const char *objglob, const char *nameglob,
    sym_iter_f *fn, void *arg)
{
	int rv;

	for (size_t i = 0; i < S->sp_nobj; i++) {
		sym_obj_t *o = &S->sp_obj[i];

		if (!sym_obj_glob(o, objglob) || sym_obj_load(S, o) != 0)
			continue;
		if ((rv = sym_iter_obj(S, o, nameglob, fn, arg)) != 0)
			return rv;
	}
	return 0;
}

char *
sym_format(const sym_info_t *si, uintptr_t addr, char *buf, size_t len)
{
	if (si == NULL || si->sy_object == NULL)
		snprintf(buf, len, "%#lx", (unsigned long)addr);
	else if (si->sy_name != NULL && si->sy_offset != 0)
		snprintf(buf, len, "%s`%s+%#lx", si->sy_object, si->sy_name,
		    (unsigned long)si->sy_offset);
	else if (si->sy_name != NULL)
		snprintf(buf, len, "%s`%s", si->sy_object, si->sy_name);
	else
		snprintf(buf, len, "%s`%#lx", si->sy_object,
		    (unsigned long)si->sy_offset);
	return buf;
}

int
sym_object(sym_proc_t *S, size_t i, sym_objinfo_t *oi)
{
	if (i >= S->sp_nobj)
		return -ENOENT;
	sym_obj_t *o = &S->sp_obj[i];
	if (o->so_bias == (uintptr_t)-1)
		(void) sym_obj_load(S, o);
	oi->so_path = o->so_path;
	oi->so_name = o->so_base;
	oi->so_bias = o->so_bias;
	oi->so_start = o->so_start;
	oi->so_lmid = o->so_lmid;
	oi->so_dev = o->so_dev;
	oi->so_ino = o->so_ino;
	return 0;
}

/*
 * sym_iter over one ELF file, with no process: symbol values as the file
 * has them (bias 0).  An IFUNC has no chosen implementation without a
 * process and is left out, as an unresolved one is in a process.  The
 * table comes from the shared cache and is let go before returning: the
 * strings FN sees are valid during the call only.
 */
int
sym_file_iter(const char *path, const char *nameglob, sym_iter_f *fn,
    void *arg)
{
	sym_proc_t S = { .sp_pid = 0 };
	sym_obj_t o;
	char *rp = realpath(path, NULL);
	const char *b;
	int err = 0, rv;

	if (rp == NULL)
		return err_set(errno, "%s: %s", path, strerror(errno));
	memset(&o, 0, sizeof (o));
	o.so_path = rp;
	o.so_base = (b = strrchr(rp, '/')) != NULL ? b + 1 : rp;
	o.so_end = UINTPTR_MAX;
	if ((o.so_file = sym_file_get(0, 0, 0, rp, 0, 0, &err)) == NULL) {
		if (err == 0)
			err = -ENOEXEC;
		rv = err_set(-err, "%s: cannot read its symbols: %s", path,
		    err == -ENOEXEC ? "not an ELF object" : strerror(-err));
		free(rp);
		return rv;
	}
	rv = sym_iter_obj(&S, &o, nameglob, fn, arg);
	sym_file_rele(o.so_file);
	free(rp);
	return rv;
}
