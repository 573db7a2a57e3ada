/*
 * usdt.c - an object's sys/sdt.h probes (USDT), read from its
 * .note.stapsdt with its symbol table and kept with it.
 *
 * Each probe is a note of type NT_STAPSDT (3), owner "stapsdt", whose
 * descriptor holds three addresses (the probe's nop, the link-time
 * address of .stapsdt.base, the semaphore or 0) and three strings
 * (provider, name, argument spec).  Prelinking or any later move of the
 * sections shows as .stapsdt.base being elsewhere than the note says:
 * the pc and the semaphore move by that difference (not by the load
 * bias, which the process adds).  A file without .stapsdt.base is taken
 * as it is.
 *
 * Everything is read once per file (the notes are few: python3.11 has
 * nine) and immutable afterwards, like the table it belongs to, so the
 * walks take no lock.  A probe's strings, parsed arguments and resolved
 * symbols live in one block, freed with the table.
 */
#include "sym_impl.h"

#include <errno.h>
#include <fnmatch.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYM_NT_STAPSDT	3
#define SYM_WHY_MAX	160	/* room for an argument's complaint */

/* One probe's block: arguments, symbols, then the strings. */
typedef struct sym_ublock {
	arch_sdt_arg_t ub_arg[SYM_USDT_ARGS];
	uint64_t ub_symval[SYM_USDT_ARGS];
	const char *ub_sym[SYM_USDT_ARGS];
	char ub_why[SYM_WHY_MAX];
	char ub_strs[];		/* provider, name, args, symbol names */
} sym_ublock_t;

static void
sym_usdt_bad(sym_file_t *F, const char *why)
{
	if (F->sf_ubad++ == 0)
		F->sf_ubad_why = why;
}

/*
 * Parse U's argument string into B.  A symbol an operand names is
 * resolved in F's table: a probe in a program without one (stripped to
 * .dynsym) cannot read a static variable's value.
 */
static void
sym_usdt_args(sym_file_t *F, sym_usdt_t *u, sym_ublock_t *b, char *symbuf)
{
	const char *p = u->su_args, *why;
	int n = 0;

	for (;;) {
		size_t len;

		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t");
		if (n == SYM_USDT_ARGS) {
			snprintf(b->ub_why, sizeof (b->ub_why), "more than %d "
			    "arguments", SYM_USDT_ARGS);
			u->su_nargs = -1;
			return;
		}
		if (arch_sdt_parse(p, len, &b->ub_arg[n], &why) != 0) {
			snprintf(b->ub_why, sizeof (b->ub_why), "argument %d "
			    "'%.*s': %s", n, (int)(len > 64 ? 64 : len), p, why);
			u->su_nargs = -1;
			return;
		}
		if (b->ub_arg[n].asa_symlen > 0) {
			const sym_entry_t *e;
			size_t sl = b->ub_arg[n].asa_symlen;

			memcpy(symbuf, p + b->ub_arg[n].asa_symoff, sl);
			symbuf[sl] = '\0';
			if ((e = sym_file_by_name(F, symbuf)) == NULL) {
				snprintf(b->ub_why, sizeof (b->ub_why),
				    "argument %d '%.*s': no symbol %s in the "
				    "object", n, (int)(len > 64 ? 64 : len), p,
				    symbuf);
				u->su_nargs = -1;
				return;
			}
			b->ub_sym[n] = symbuf;
			b->ub_symval[n] = e->se_value;
			symbuf += sl + 1;
		}
		n++;
		p += len;
	}
	u->su_nargs = n;
}

/* One note's descriptor DESC (LEN bytes) into F's list. */
static int
sym_usdt_note(sym_file_t *F, const char *desc, size_t len, int64_t adjust)
{
	const char *prov, *name, *args, *end = desc + len;
	sym_usdt_t *u;
	sym_ublock_t *b;
	uint64_t a[3];
	size_t sl;

	if (len < sizeof (a) + 3) {
		sym_usdt_bad(F, "note shorter than its three addresses");
		return 0;
	}
	memcpy(a, desc, sizeof (a));
	prov = desc + sizeof (a);
	if ((name = memchr(prov, '\0', (size_t)(end - prov))) == NULL ||
	    ++name >= end ||
	    (args = memchr(name, '\0', (size_t)(end - name))) == NULL ||
	    ++args >= end || memchr(args, '\0', (size_t)(end - args)) == NULL) {
		sym_usdt_bad(F, "note's strings are not terminated");
		return 0;
	}
	if (*prov == '\0' || *name == '\0') {
		sym_usdt_bad(F, "note without a provider or a name");
		return 0;
	}
	/* the strings twice: as read, then room for the symbols' names */
	sl = (size_t)(end - prov);
	if ((b = calloc(1, sizeof (*b) + 2 * sl + 1)) == NULL)
		return -ENOMEM;
	u = realloc(F->sf_usdt, (F->sf_nusdt + 1) * sizeof (*u));
	if (u == NULL) {
		free(b);
		return -ENOMEM;
	}
	F->sf_usdt = u;
	u += F->sf_nusdt++;
	memset(u, 0, sizeof (*u));
	memcpy(b->ub_strs, prov, sl);
	u->su_prov = b->ub_strs;
	u->su_name = b->ub_strs + (name - prov);
	u->su_args = b->ub_strs + (args - prov);
	u->su_pc = a[0] + (uint64_t)adjust;
	u->su_sema = a[2] != 0 ? a[2] + (uint64_t)adjust : 0;
	u->su_arg = b->ub_arg;
	u->su_symval = b->ub_symval;
	u->su_sym = b->ub_sym;
	sym_usdt_args(F, u, b, b->ub_strs + sl);
	if (u->su_nargs < 0)
		u->su_why = b->ub_why;
	return 0;
}

static int
sym_usdt_cmp(const void *x, const void *y)
{
	const sym_usdt_t *a = x, *b = y;

	return a->su_pc < b->su_pc ? -1 : a->su_pc > b->su_pc;
}

/* The address of the section NAME, or 0 (none). */
static uint64_t
sym_usdt_secaddr(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *n;

		if (gelf_getshdr(scn, &sh) != NULL &&
		    (n = elf_strptr(elf, shstrndx, sh.sh_name)) != NULL &&
		    strcmp(n, name) == 0)
			return sh.sh_addr;
	}
	return 0;
}

void
sym_usdt_read(Elf *elf, sym_file_t *F)
{
	uint64_t base = sym_usdt_secaddr(elf, ".stapsdt.base");
	Elf_Scn *scn = NULL;

	if (gelf_getclass(elf) != ELFCLASS64)
		return;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const char *desc = (const char *)d->d_buf + doff;
			int64_t adjust = 0;
			uint64_t nbase;

			if (nh.n_type != SYM_NT_STAPSDT || nh.n_namesz != 8 ||
			    memcmp((char *)d->d_buf + noff, "stapsdt", 8) != 0)
				continue;
			if (nh.n_descsz >= 16) {
				memcpy(&nbase, desc + 8, sizeof (nbase));
				if (base != 0 && nbase != 0)
					adjust = (int64_t)(base - nbase);
			}
			if (sym_usdt_note(F, desc, nh.n_descsz, adjust) != 0) {
				sym_usdt_bad(F, "out of memory");
				return;
			}
		}
	}
	if (F->sf_nusdt > 1)
		qsort(F->sf_usdt, F->sf_nusdt, sizeof (sym_usdt_t),
		    sym_usdt_cmp);
}

void
sym_usdt_free(sym_file_t *F)
{
	for (size_t i = 0; i < F->sf_nusdt; i++)
		free((void *)F->sf_usdt[i].su_arg);	/* the block */
	free(F->sf_usdt);
	F->sf_usdt = NULL;
	F->sf_nusdt = 0;
}

static int
sym_usdt_matches(const sym_usdt_t *u, const char *provglob,
    const char *nameglob)
{
	return (provglob == NULL || fnmatch(provglob, u->su_prov, 0) == 0) &&
	    (nameglob == NULL || fnmatch(nameglob, u->su_name, 0) == 0);
}

static void
sym_usdt_fill(sym_usdt_info_t *ui, const sym_obj_t *o, const sym_usdt_t *u)
{
	ui->ui_note = u;
	ui->ui_object = o->so_base;
	ui->ui_path = o->so_path;
	ui->ui_lmid = o->so_lmid;
	ui->ui_bias = o->so_bias;
	ui->ui_addr = o->so_bias + u->su_pc;
	ui->ui_sema = u->su_sema != 0 ? o->so_bias + u->su_sema : 0;
	ui->ui_dev = o->so_dev;
	ui->ui_ino = o->so_ino;
}

int
sym_usdt_iter(sym_proc_t *S, const char *objglob, const char *provglob,
    const char *nameglob, sym_usdt_f *fn, sym_usdt_bad_f *bad, void *arg)
{
	int rv;

	for (size_t i = 0; i < S->sp_nobj; i++) {
		sym_obj_t *o = &S->sp_obj[i];
		const sym_file_t *F;

		if ((objglob != NULL && !sym_obj_glob(o, objglob)) ||
		    sym_obj_load(S, o) != 0)
			continue;
		F = o->so_file;
		if (F->sf_ubad > 0 && bad != NULL)
			bad(o->so_path, F->sf_ubad, F->sf_ubad_why, arg);
		for (size_t j = 0; j < F->sf_nusdt; j++) {
			sym_usdt_info_t ui;

			if (!sym_usdt_matches(&F->sf_usdt[j], provglob,
			    nameglob))
				continue;
			sym_usdt_fill(&ui, o, &F->sf_usdt[j]);
			if ((rv = fn(&ui, arg)) != 0)
				return rv;
		}
	}
	return 0;
}

int
sym_usdt_at(sym_proc_t *S, uintptr_t addr, sym_usdt_info_t *ui)
{
	sym_obj_t *o = sym_obj_at(S, addr);
	const sym_file_t *F;
	size_t lo = 0, hi;

	if (o == NULL || sym_obj_load(S, o) != 0)
		return -ENOENT;
	F = o->so_file;
	hi = F->sf_nusdt;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (F->sf_usdt[mid].su_pc < addr - o->so_bias)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == F->sf_nusdt || F->sf_usdt[lo].su_pc != addr - o->so_bias)
		return -ENOENT;
	sym_usdt_fill(ui, o, &F->sf_usdt[lo]);
	return 0;
}

int
sym_usdt_file_iter(const char *path, const char *provglob,
    const char *nameglob, sym_usdt_f *fn, sym_usdt_bad_f *bad, void *arg)
{
	char *real = realpath(path, NULL);
	sym_file_t *F;
	sym_obj_t o;
	int err = 0, rv = 0;

	if (real == NULL)
		return -errno;
	/* no mapping to open: sym_file_get falls back to the path */
	if ((F = sym_file_get(0, 0, 0, real, 0, 0, &err)) == NULL) {
		free(real);
		return err != 0 ? err : -ENOEXEC;
	}
	memset(&o, 0, sizeof (o));
	o.so_path = real;
	o.so_base = strrchr(real, '/') + 1;
	o.so_dev = F->sf_dev;
	o.so_ino = F->sf_ino;
	if (F->sf_ubad > 0 && bad != NULL)
		bad(real, F->sf_ubad, F->sf_ubad_why, arg);
	for (size_t j = 0; rv == 0 && j < F->sf_nusdt; j++) {
		sym_usdt_info_t ui;

		if (!sym_usdt_matches(&F->sf_usdt[j], provglob, nameglob))
			continue;
		sym_usdt_fill(&ui, &o, &F->sf_usdt[j]);
		rv = fn(&ui, arg);
	}
	sym_file_rele(F);
	free(real);
	return rv;
}
