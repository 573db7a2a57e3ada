/*
 * file.c - one ELF object's symbol table, loaded once and shared.
 *
 * Tables are keyed by (device, inode), so fifty processes mapping libc
 * share one table, and a profiler symbolizing them again and again reads
 * libc once.  The cache is the only state shared between threads: its
 * list and reference counts are under one mutex; a loaded table is never
 * modified, so lookups take no lock.
 *
 * Where the symbols come from, best first: the file's .symtab; a separate
 * debug file named by build-id (/usr/lib/debug/.build-id/xx/rest.debug)
 * or by .gnu_debuglink; the file's .dynsym.  Debug files carry the same
 * addresses as the object, so their .symtab serves as is.  Versioned
 * names ("memcpy@@GLIBC_2.14") are indexed under their base name, with
 * their version (from the name in .symtab, from .gnu.version in .dynsym)
 * and whether it is the default one kept beside; undefined symbols and
 * sections, files and TLS are left out.  The IRELATIVE relocations are
 * kept too: they say where the process keeps an IFUNC's choice.
 */
#include "sym_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t sym_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static sym_file_t *sym_cache;
static size_t sym_nfiles, sym_nloads;

/* A cache counter, read under the cache's lock. */
static size_t
sym_cache_count(const size_t *counter)
{
	size_t n;

	pthread_mutex_lock(&sym_cache_lock);
	n = *counter;
	pthread_mutex_unlock(&sym_cache_lock);
	return n;
}

size_t sym_cache_files(void) { return sym_cache_count(&sym_nfiles); }
size_t sym_cache_loads(void) { return sym_cache_count(&sym_nloads); }

static uint32_t
sym_hash_name(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0' && *s != '@'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* Same base name: "a" (N 1) equals "a" and "a@@V" but not "ab". */
static int
sym_base_eq(const char *symname, const char *name, size_t n)
{
	return strncmp(symname, name, n) == 0 &&
	    (symname[n] == '\0' || symname[n] == '@');
}

static Elf_Scn *
sym_find_section(Elf *elf, Elf64_Word type, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *n;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != type)
			continue;
		if (name == NULL)
			return scn;
		n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n != NULL && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

static void
sym_read_buildid(Elf *elf, sym_file_t *F)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		GElf_Nhdr nh;
		size_t off = 0, noff, doff;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE ||
		    (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((char *)d->d_buf + noff, "GNU", 4) == 0 &&
			    nh.n_descsz <= sizeof (F->sf_buildid)) {
				memcpy(F->sf_buildid, (char *)d->d_buf + doff,
				    nh.n_descsz);
				F->sf_buildid_len = nh.n_descsz;
				return;
			}
		}
	}
}

static void
sym_read_loads(Elf *elf, sym_file_t *F)
{
	size_t n;
	GElf_Ehdr eh;

	if (gelf_getehdr(elf, &eh) != NULL)
		F->sf_etype = eh.e_type;
	if (elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) == NULL ||
		    ph.p_type != PT_LOAD)
			continue;
		F->sf_load_vaddr = ph.p_vaddr;
		F->sf_load_offset = ph.p_offset;
		F->sf_has_load = 1;
		return;
	}
}

static size_t
sym_underscores(const char *s)
{
	size_t n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

static int
sym_cmp_addr(const void *a, const void *b, void *strs)
{
	const sym_entry_t *x = a, *y = b;

	if (x->se_value != y->se_value)
		return x->se_value < y->se_value ? -1 : 1;
	/* at one address, the best name first: global, function, sized */
	if ((x->se_bind == STB_GLOBAL) != (y->se_bind == STB_GLOBAL))
		return x->se_bind == STB_GLOBAL ? -1 : 1;
	if ((x->se_size != 0) != (y->se_size != 0))
		return x->se_size != 0 ? -1 : 1;
	/* "malloc" before its alias "__libc_malloc" */
	size_t ux = sym_underscores((const char *)strs + x->se_name);
	size_t uy = sym_underscores((const char *)strs + y->se_name);
	return ux < uy ? -1 : ux > uy;
}

/*
 * The name of symbol I of table D if it is one we keep (defined, at an
 * address, a function, object, IFUNC or untyped label, named), else NULL.
 */
static const char *
sym_kept(Elf *elf, const GElf_Shdr *sh, Elf_Data *d, size_t i, GElf_Sym *s)
{
	const char *name;
	int type;

	if (gelf_getsym(d, (int)i, s) == NULL)
		return NULL;
	type = GELF_ST_TYPE(s->st_info);
	if (s->st_shndx == SHN_UNDEF || s->st_value == 0 ||
	    (type != STT_FUNC && type != STT_OBJECT &&
	    type != STT_GNU_IFUNC && type != STT_NOTYPE))
		return NULL;
	name = elf_strptr(elf, sh->sh_link, s->st_name);
	return name != NULL && *name != '\0' ? name : NULL;
}

/*
 * The versions of .dynsym's symbols: .gnu.version holds one index per
 * symbol (bit 15: hidden, a non-default version), .gnu.version_d names
 * the indices.  In .symtab the assembler wrote them into the names
 * instead ("a@V", "a@@V": the default), which sym_add_table reads there.
 */
typedef struct sym_vers {
	Elf_Data *sv_sym;	/* .gnu.version, or NULL */
	const char *sv_name[256];	/* by index (0, 1: none; a file
					   with more versions loses them) */
} sym_vers_t;

static void
sym_read_vers(Elf *elf, sym_vers_t *v)
{
	Elf_Scn *vs = sym_find_section(elf, SHT_GNU_versym, NULL);
	Elf_Scn *vd = sym_find_section(elf, SHT_GNU_verdef, NULL);
	GElf_Shdr sh;
	GElf_Verdef def;
	GElf_Verdaux aux;
	Elf_Data *d;
	size_t off = 0;

	memset(v, 0, sizeof (*v));
	if (vs == NULL || vd == NULL || gelf_getshdr(vd, &sh) == NULL ||
	    (d = elf_getdata(vd, NULL)) == NULL ||
	    (v->sv_sym = elf_getdata(vs, NULL)) == NULL)
		return;
	for (size_t k = 0; k < sh.sh_info && off < d->d_size; k++) {
		if (gelf_getverdef(d, (int)off, &def) == NULL ||
		    gelf_getverdaux(d, (int)(off + def.vd_aux), &aux) == NULL)
			break;
		if (def.vd_ndx >= 2 && def.vd_ndx < 256 &&
		    !(def.vd_flags & VER_FLG_BASE))
			v->sv_name[def.vd_ndx] = elf_strptr(elf, sh.sh_link,
			    aux.vda_name);
		if (def.vd_next == 0)
			break;
		off += def.vd_next;
	}
}

/* Symbol I's version from .gnu.version, or NULL; *hidden set. */
static const char *
sym_dyn_version(const sym_vers_t *v, size_t i, int *hidden)
{
	GElf_Versym x;

	*hidden = 0;
	if (v->sv_sym == NULL || gelf_getversym(v->sv_sym, (int)i, &x) == NULL)
		return NULL;
	*hidden = (x & 0x8000) != 0;
	x &= 0x7fff;
	return x < 256 ? v->sv_name[x] : NULL;
}

/* Set E's version from its name ("a@V", "a@@V") or from V. */
static void
sym_set_version(sym_file_t *F, sym_entry_t *e, const sym_vers_t *v, size_t i)
{
	const char *name = F->sf_strs + e->se_name;
	const char *at = strchr(name, '@');
	int hidden;

	e->se_ver = SYM_NOVER;
	e->se_hidden = 0;
	if (at != NULL) {
		e->se_hidden = at[1] != '@';
		e->se_ver = e->se_name + (uint32_t)(at - name) +
		    (e->se_hidden ? 1 : 2);
	} else if ((name = sym_dyn_version(v, i, &hidden)) != NULL) {
		e->se_hidden = (uint8_t)hidden;
		e->se_ver = (uint32_t)F->sf_strsz;
		memcpy(F->sf_strs + F->sf_strsz, name, strlen(name) + 1);
		F->sf_strsz += strlen(name) + 1;
	}
}

/* Append the defined symbols of one symbol table section. */
static int
sym_add_table(Elf *elf, Elf_Scn *scn, sym_file_t *F)
{
	GElf_Shdr sh;
	GElf_Sym s;
	Elf_Data *d;
	const char *name, *ver;
	size_t n, strsz = 0;
	sym_vers_t v;
	int hidden;

	if (gelf_getshdr(scn, &sh) == NULL || sh.sh_entsize == 0 ||
	    (d = elf_getdata(scn, NULL)) == NULL)
		return -EINVAL;
	memset(&v, 0, sizeof (v));
	if (sh.sh_type == SHT_DYNSYM)
		sym_read_vers(elf, &v);
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		if ((name = sym_kept(elf, &sh, d, i, &s)) == NULL)
			continue;
		strsz += strlen(name) + 1;
		if ((ver = sym_dyn_version(&v, i, &hidden)) != NULL)
			strsz += strlen(ver) + 1;
	}
	if (strsz == 0)
		return 0;
	char *strs = realloc(F->sf_strs, F->sf_strsz + strsz);
	sym_entry_t *syms = realloc(F->sf_syms,
	    (F->sf_nsyms + n) * sizeof (sym_entry_t));
	if (strs != NULL)
		F->sf_strs = strs;
	if (syms != NULL)
		F->sf_syms = syms;
	if (strs == NULL || syms == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		sym_entry_t *e;

		if ((name = sym_kept(elf, &sh, d, i, &s)) == NULL)
			continue;
		e = &F->sf_syms[F->sf_nsyms++];
		e->se_value = s.st_value;
		e->se_size = s.st_size;
		e->se_name = (uint32_t)F->sf_strsz;
		e->se_type = (uint8_t)GELF_ST_TYPE(s.st_info);
		e->se_bind = (uint8_t)GELF_ST_BIND(s.st_info);
		memcpy(F->sf_strs + F->sf_strsz, name, strlen(name) + 1);
		F->sf_strsz += strlen(name) + 1;
		sym_set_version(F, e, &v, i);
	}
	return 0;
}

#if defined(__x86_64__)
#define SYM_R_IRELATIVE	R_X86_64_IRELATIVE
#elif defined(__aarch64__)
#define SYM_R_IRELATIVE	R_AARCH64_IRELATIVE
#endif

static int
sym_cmp_irel(const void *a, const void *b)
{
	const sym_irel_t *x = a, *y = b;

	return x->ir_resolver < y->ir_resolver ? -1 :
	    x->ir_resolver > y->ir_resolver;
}

/* The 8 bytes at VADDR in ELF's sections, 0 where none holds them. */
static uint64_t
sym_file_word(Elf *elf, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf_Data *d;
	uint64_t v = 0;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type == SHT_NOBITS ||
		    !(sh.sh_flags & SHF_ALLOC) || vaddr < sh.sh_addr ||
		    vaddr + 8 > sh.sh_addr + sh.sh_size)
			continue;
		if ((d = elf_getdata(scn, NULL)) != NULL &&
		    vaddr - sh.sh_addr + 8 <= d->d_size)
			memcpy(&v, (char *)d->d_buf + (vaddr - sh.sh_addr), 8);
		break;
	}
	return v;
}

/*
 * The IRELATIVE relocations of the object (never of a debug file, whose
 * sections are empty): which GOT slot the run-time linker stores each
 * resolver's choice in.  The object's own calls go through these slots,
 * and the choice is the same for every caller.
 */
static int
sym_read_irel(Elf *elf, sym_file_t *F)
{
#ifdef SYM_R_IRELATIVE
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		GElf_Rela r;
		Elf_Data *d;

		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_RELA ||
		    sh.sh_entsize == 0 || (d = elf_getdata(scn, NULL)) == NULL)
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			sym_irel_t *v;

			if (gelf_getrela(d, (int)i, &r) == NULL ||
			    GELF_R_TYPE(r.r_info) != SYM_R_IRELATIVE)
				continue;
			v = realloc(F->sf_irel, (F->sf_nirel + 1) * sizeof (*v));
			if (v == NULL)
				return -ENOMEM;
			F->sf_irel = v;
			v[F->sf_nirel].ir_resolver = (uint64_t)r.r_addend;
			v[F->sf_nirel].ir_init = sym_file_word(elf, r.r_offset);
			v[F->sf_nirel++].ir_slot = r.r_offset;
		}
	}
	if (F->sf_nirel > 1)
		qsort(F->sf_irel, F->sf_nirel, sizeof (sym_irel_t),
		    sym_cmp_irel);
#else
	(void) elf;
	(void) F;
#endif
	return 0;
}

/* The IRELATIVE slot of the IFUNC whose resolver is at RESOLVER, or NULL. */
const sym_irel_t *
sym_file_irel(const sym_file_t *F, uint64_t resolver)
{
	sym_irel_t key = { .ir_resolver = resolver };

	if (F->sf_nirel == 0)
		return NULL;
	return bsearch(&key, F->sf_irel, F->sf_nirel, sizeof (sym_irel_t),
	    sym_cmp_irel);
}

/*
 * Sort by address: a stable LSD radix sort on se_value (only the bytes
 * that differ), then each run of equal addresses by sym_cmp_addr, by
 * insertion (runs are a few aliases).  The same order as a stable
 * comparison sort, at a fraction of qsort_r's cost on libc's thousands of
 * symbols: this is most of a cold table load, paid by every new process
 * (dtproc stack, sym) for every object it names.
 */
static int
sym_sort(sym_file_t *F)
{
	size_t n = F->sf_nsyms, cnt[256];
	sym_entry_t *a = F->sf_syms, *b, *t;
	uint64_t diff = 0;

	if (n < 2)
		return 0;
	if ((b = malloc(n * sizeof (*b))) == NULL)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++)
		diff |= a[i].se_value ^ a[0].se_value;
	for (int sh = 0; sh < 64; sh += 8) {
		size_t pos = 0;

		if (((diff >> sh) & 0xff) == 0)
			continue;	/* this byte is the same everywhere */
		memset(cnt, 0, sizeof (cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(a[i].se_value >> sh) & 0xff]++;
		for (int k = 0; k < 256; k++) {
			size_t c = cnt[k];

			cnt[k] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			b[cnt[(a[i].se_value >> sh) & 0xff]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	if (a != F->sf_syms) {
		memcpy(F->sf_syms, a, n * sizeof (*a));
		b = a;
	}
	free(b);
	a = F->sf_syms;
	for (size_t i = 1; i < n; i++) {
		sym_entry_t e = a[i];
		size_t j = i;

		if (a[i - 1].se_value != e.se_value)
			continue;
		while (j > 0 && a[j - 1].se_value == e.se_value &&
		    sym_cmp_addr(&a[j - 1], &e, F->sf_strs) > 0) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = e;
	}
	return 0;
}

int
sym_file_index(sym_file_t *F)
{
	size_t sz = 16;

	if (sym_sort(F) != 0)
		return -ENOMEM;
	while (sz < F->sf_nsyms * 2)
		sz *= 2;
	F->sf_hash = calloc(sz, sizeof (uint32_t));
	if (F->sf_hash == NULL)
		return -ENOMEM;
	F->sf_hashsz = sz;
	for (size_t i = 0; i < F->sf_nsyms; i++) {
		size_t h = sym_hash_name(F->sf_strs + F->sf_syms[i].se_name) &
		    (sz - 1);

		while (F->sf_hash[h] != 0)
			h = (h + 1) & (sz - 1);
		F->sf_hash[h] = (uint32_t)i + 1;
	}
	return sym_file_dem_init(F);
}

/*
 * Open a separate debug file for F: by build-id, then .gnu_debuglink
 * (beside PATH, in its .debug/, under /usr/lib/debug).  Also params.c's,
 * for the DWARF.
 */
int
sym_file_debug_open(Elf *elf, const sym_file_t *F, const char *path)
{
	char dpath[4096];
	Elf_Scn *scn;
	int fd;

	if (F->sf_buildid_len > 1) {
		int o = snprintf(dpath, sizeof (dpath),
		    "/usr/lib/debug/.build-id/%02x/", F->sf_buildid[0]);
		for (size_t i = 1; i < F->sf_buildid_len; i++)
			o += snprintf(dpath + o, sizeof (dpath) - o, "%02x",
			    F->sf_buildid[i]);
		snprintf(dpath + o, sizeof (dpath) - o, ".debug");
		if ((fd = open(dpath, O_RDONLY | O_CLOEXEC)) >= 0)
			return fd;
	}
	if ((scn = sym_find_section(elf, SHT_PROGBITS, ".gnu_debuglink"))
	    != NULL && path != NULL && *path == '/') {
		Elf_Data *d = elf_getdata(scn, NULL);
		const char *link = d != NULL ? d->d_buf : NULL;
		const char *slash = strrchr(path, '/');
		int dl = (int)(slash - path);

		if (link == NULL || memchr(link, '\0', d->d_size) == NULL ||
		    strchr(link, '/') != NULL)
			return -1;
		const char *fmts[] = { "%.*s/%s", "%.*s/.debug/%s",
		    "/usr/lib/debug%.*s/%s" };
		for (size_t i = 0; i < 3; i++) {
			snprintf(dpath, sizeof (dpath), fmts[i], dl, path, link);
			if (strcmp(dpath, path) == 0)
				continue;
			if ((fd = open(dpath, O_RDONLY | O_CLOEXEC)) >= 0)
				return fd;
		}
	}
	return -1;
}

static int
sym_load(sym_file_t *F, int fd, const char *path)
{
	Elf *elf, *delf = NULL;
	Elf_Scn *scn;
	int dfd = -1, rv = 0;

	if ((elf = elf_begin(fd, ELF_C_READ_MMAP, NULL)) == NULL ||
	    elf_kind(elf) != ELF_K_ELF) {
		if (elf != NULL)
			elf_end(elf);
		return -ENOEXEC;
	}
	sym_read_buildid(elf, F);
	sym_read_loads(elf, F);
	if ((rv = sym_read_irel(elf, F)) != 0) {
		elf_end(elf);
		return rv;
	}
	if ((scn = sym_find_section(elf, SHT_SYMTAB, NULL)) != NULL) {
		rv = sym_add_table(elf, scn, F);
		F->sf_source = "symtab";
	} else if ((dfd = sym_file_debug_open(elf, F, path)) >= 0 &&
	    (delf = elf_begin(dfd, ELF_C_READ_MMAP, NULL)) != NULL &&
	    (scn = sym_find_section(delf, SHT_SYMTAB, NULL)) != NULL) {
		rv = sym_add_table(delf, scn, F);
		F->sf_source = "debug";
	} else if ((scn = sym_find_section(elf, SHT_DYNSYM, NULL)) != NULL) {
		rv = sym_add_table(elf, scn, F);
		F->sf_source = "dynsym";
	} else {
		F->sf_source = "none";
	}
	if (rv == 0)
		rv = sym_file_index(F);
	if (rv == 0)
		sym_usdt_read(elf, F);	/* its symbols resolve operands */
	if (delf != NULL)
		elf_end(delf);
	if (dfd >= 0)
		close(dfd);
	elf_end(elf);
	return rv;
}

/*
 * The table of the file mapped at [start, end) in PID (or at PATH), from
 * the cache or loaded now.  NULL with *errp set when it is not ELF or
 * cannot be opened.
 */
sym_file_t *
sym_file_get(pid_t pid, uintptr_t start, uintptr_t end, const char *path,
    dev_t dev, ino_t ino, int *errp)
{
	char mf[96];
	sym_file_t *F;
	struct stat st;
	int fd, rv;

	pthread_mutex_lock(&sym_cache_lock);
	for (F = sym_cache; F != NULL; F = F->sf_next) {
		if (F->sf_dev == dev && F->sf_ino == ino && ino != 0) {
			F->sf_refs++;
			pthread_mutex_unlock(&sym_cache_lock);
			return F;
		}
	}
	pthread_mutex_unlock(&sym_cache_lock);

	snprintf(mf, sizeof (mf), "/proc/%d/map_files/%lx-%lx", (int)pid,
	    (unsigned long)start, (unsigned long)end);
	if ((fd = open(mf, O_RDONLY | O_CLOEXEC)) < 0 &&
	    (path == NULL || *path != '/' ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)) {
		*errp = -errno;
		return NULL;
	}
	if (fstat(fd, &st) == 0) {
		if (ino == 0) {
			dev = st.st_dev;
			ino = st.st_ino;
		} else if (st.st_ino != ino || st.st_dev != dev) {
			/* the path now names another file than the mapped one */
			close(fd);
			*errp = -ESTALE;
			return NULL;
		}
	}
	if ((F = calloc(1, sizeof (*F))) == NULL) {
		close(fd);
		*errp = -ENOMEM;
		return NULL;
	}
	(void) elf_version(EV_CURRENT);
	rv = sym_load(F, fd, path);
	close(fd);
	if (rv != 0) {
		sym_file_free(F);
		*errp = rv;
		return NULL;
	}
	F->sf_dev = dev;
	F->sf_ino = ino;
	F->sf_refs = 1;

	pthread_mutex_lock(&sym_cache_lock);
	for (sym_file_t *G = sym_cache; G != NULL; G = G->sf_next) {
		if (G->sf_dev == dev && G->sf_ino == ino && ino != 0) {
			/* another thread loaded it meanwhile: use theirs */
			G->sf_refs++;
			pthread_mutex_unlock(&sym_cache_lock);
			sym_file_free(F);
			return G;
		}
	}
	F->sf_next = sym_cache;
	sym_cache = F;
	sym_nfiles++;
	sym_nloads++;
	pthread_mutex_unlock(&sym_cache_lock);
	return F;
}

void
sym_file_free(sym_file_t *F)
{
	if (F == NULL)
		return;
	sym_dw_free(F->sf_dw);
	sym_usdt_free(F);
	sym_file_dem_free(F);
	void *bufs[] = { F->sf_syms, F->sf_strs, F->sf_hash, F->sf_irel, F };
	for (size_t i = 0; i < sizeof (bufs) / sizeof (bufs[0]); i++)
		free(bufs[i]);
}

void
sym_file_rele(sym_file_t *F)
{
	sym_file_t **pp;

	if (F == NULL)
		return;
	pthread_mutex_lock(&sym_cache_lock);
	if (--F->sf_refs > 0) {
		pthread_mutex_unlock(&sym_cache_lock);
		return;
	}
	for (pp = &sym_cache; *pp != NULL; pp = &(*pp)->sf_next) {
		if (*pp == F) {
			*pp = F->sf_next;
			sym_nfiles--;
			break;
		}
	}
	pthread_mutex_unlock(&sym_cache_lock);
	sym_file_free(F);
}

/* The entry covering REL (an unrelocated address), or NULL. */
const sym_entry_t *
sym_file_by_addr(const sym_file_t *F, uint64_t rel)
{
	size_t lo = 0, hi = F->sf_nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (F->sf_syms[mid].se_value <= rel)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* lo - 1 is the last entry at or below rel; take its address's best */
	uint64_t v = F->sf_syms[lo - 1].se_value;
	size_t i = lo - 1;
	while (i > 0 && F->sf_syms[i - 1].se_value == v)
		i--;
	for (size_t j = i; j < lo; j++) {
		const sym_entry_t *e = &F->sf_syms[j];

		/* an unsized symbol (assembly) covers up to the next one */
		if (e->se_size == 0 || rel < e->se_value + e->se_size)
			return e;
	}
	return NULL;
}

/*
 * How good a candidate for a name is: the default version beats another
 * (what a program linked now calls), then global beats weak beats local,
 * then functions beat the rest.
 */
static int
sym_rank(const sym_entry_t *e)
{
	return (e->se_hidden ? 0 : 8) + (e->se_bind == STB_GLOBAL ? 4 :
	    e->se_bind == STB_WEAK ? 2 : 0) + (e->se_type == STT_FUNC ||
	    e->se_type == STT_GNU_IFUNC);
}

/*
 * The best defined entry named NAME, or NULL.  A plain name takes the
 * default version (a compat one only when there is no default);
 * "NAME@V" version V, default or not; "NAME@@V" V only if the default.
 */
const sym_entry_t *
sym_file_by_name(const sym_file_t *F, const char *name)
{
	const sym_entry_t *best = NULL;
	size_t h, n = strcspn(name, "@");
	const char *want = name[n] == '@' ? name + n + 1 : NULL;
	int dflt = want != NULL && *want == '@';

	if (F->sf_hashsz == 0)
		return NULL;
	want += dflt;
	h = sym_hash_name(name) & (F->sf_hashsz - 1);
	for (; F->sf_hash[h] != 0; h = (h + 1) & (F->sf_hashsz - 1)) {
		const sym_entry_t *e = &F->sf_syms[F->sf_hash[h] - 1];

		if (!sym_base_eq(F->sf_strs + e->se_name, name, n))
			continue;
		if (want != NULL && (e->se_ver == SYM_NOVER ||
		    strcmp(F->sf_strs + e->se_ver, want) != 0 ||
		    (dflt && e->se_hidden)))
			continue;
		if (best == NULL || sym_rank(e) > sym_rank(best))
			best = e;
	}
	return best;
}

/* Load bias of this file mapped at START from file offset OFFSET. */
uintptr_t
sym_file_bias(const sym_file_t *F, uintptr_t start, uint64_t offset)
{
	const uint64_t pg = 4096;

	if (!F->sf_has_load)
		return start - offset;
	return start - ((F->sf_load_vaddr & ~(pg - 1)) +
	    (offset - (F->sf_load_offset & ~(pg - 1))));
}
