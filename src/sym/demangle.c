/*
 * demangle.c - C++ and Rust names as their users write them.
 *
 * libiberty's cplus_demangle (Debian's libiberty-dev, a static archive
 * built -fPIC, linked into the library and hidden by the version script)
 * knows the Itanium C++ ABI (_Z...) and both of Rust's schemes: the
 * legacy one, Itanium-shaped with a hash (_ZN...17h<16 hex>E, escapes
 * such as $LT$ and $u7b$), and v0 (_R...).  libstdc++'s __cxa_demangle,
 * used before, is the same C++ code but knows no Rust: legacy names kept
 * their escapes and hash, v0 names stayed raw.  Rust is tried first, as
 * libiberty's own auto mode does, since legacy Rust names are valid C++
 * manglings too; C++ then.  Only names starting "_Z" or "_R" are tried.
 *
 * A table's demangled names are cached per entry (sf_dem, beside
 * sf_syms) and computed on first need: a table is shared by every process
 * that maps its file and read without a lock, so a slot is filled by
 * compare-and-swap (two threads may both demangle; one result is kept).
 * sym_nodem marks "tried, not mangled"; the strings live as long as the
 * table.
 */
#include "sym_impl.h"

#include <libiberty/demangle.h>
#include <stdlib.h>
#include <string.h>

static char sym_nodem[1];

static bool
sym_mangled(const char *name)
{
	return name != NULL && name[0] == '_' &&
	    (name[1] == 'Z' || name[1] == 'R');
}

char *
sym_demangle(const char *name)
{
	const int opts = DMGL_PARAMS | DMGL_ANSI | DMGL_RET_DROP;
	size_t bl;
	char *base, *d;

	if (!sym_mangled(name))
		return NULL;
	/* a versioned name ("f@@V1") is demangled without its version */
	bl = strcspn(name, "@");
	if ((base = strndup(name, bl)) == NULL)
		return NULL;
	if ((d = cplus_demangle(base, opts | DMGL_RUST)) == NULL &&
	    base[1] == 'Z')
		d = cplus_demangle(base, opts | DMGL_GNU_V3);
	free(base);
	return d;
}

int
sym_file_dem_init(sym_file_t *F)
{
	size_t n = 0;

	for (size_t i = 0; i < F->sf_nsyms; i++)
		n += sym_mangled(F->sf_strs + F->sf_syms[i].se_name);
	if (n == 0)
		return 0;	/* C: no slots at all */
	F->sf_dem = calloc(F->sf_nsyms, sizeof (*F->sf_dem));
	return F->sf_dem != NULL ? 0 : -ENOMEM;
}

void
sym_file_dem_free(sym_file_t *F)
{
	if (F->sf_dem == NULL)
		return;
	for (size_t i = 0; i < F->sf_nsyms; i++) {
		char *d = atomic_load(&F->sf_dem[i]);

		if (d != sym_nodem)
			free(d);
	}
	free(F->sf_dem);
	F->sf_dem = NULL;
}

const char *
sym_file_dname(const sym_file_t *F, const sym_entry_t *e)
{
	const char *n = F->sf_strs + e->se_name;
	_Atomic(char *) *slot;
	char *d, *want = NULL;

	if (F->sf_dem == NULL || !sym_mangled(n))
		return NULL;
	slot = &F->sf_dem[e - F->sf_syms];
	if ((d = atomic_load_explicit(slot, memory_order_acquire)) == NULL) {
		if ((d = sym_demangle(n)) == NULL)
			d = sym_nodem;
		if (!atomic_compare_exchange_strong(slot, &want, d)) {
			if (d != sym_nodem)
				free(d);
			d = want;	/* another thread's, the same */
		}
	}
	return d != sym_nodem ? d : NULL;
}
