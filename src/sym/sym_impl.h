/*
 * sym_impl.h - private structures of the symbols layer.
 */
#ifndef DTPROC_SYM_IMPL_H
#define DTPROC_SYM_IMPL_H

#include "sym.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SYM_NOVER	UINT32_MAX	/* se_ver: no symbol version */

typedef struct sym_entry {
	uint64_t se_value;	/* st_value: unrelocated address */
	uint64_t se_size;	/* st_size */
	uint32_t se_name;	/* offset in sf_strs */
	uint32_t se_ver;	/* its version's name in sf_strs, or
				   SYM_NOVER */
	uint8_t se_type;	/* STT_* */
	uint8_t se_bind;	/* STB_* */
	uint8_t se_hidden;	/* a non-default version ("name@V", the
				   versym's hidden bit) */
} sym_entry_t;

/* An IRELATIVE relocation: the GOT slot an IFUNC's choice is kept in. */
typedef struct sym_irel {
	uint64_t ir_resolver;	/* r_addend: the resolver's st_value */
	uint64_t ir_slot;	/* r_offset: the slot, unrelocated */
	uint64_t ir_init;	/* the slot's content in the file (a PLT
				   entry): bias + this is "not chosen yet" */
} sym_irel_t;

struct sym_file {
	dev_t sf_dev;		/* cache key with sf_ino */
	ino_t sf_ino;
	int sf_refs;		/* under the cache lock */
	int sf_etype;		/* ET_EXEC, ET_DYN */
	int sf_has_load;	/* sf_load_* are valid */
	uint64_t sf_load_vaddr;	/* first PT_LOAD: for a bias from maps */
	uint64_t sf_load_offset;
	unsigned char sf_buildid[64];
	size_t sf_buildid_len;
	const char *sf_source;	/* "symtab", "debug", "dynsym", "none" */
	sym_entry_t *sf_syms;	/* sorted by address */
	size_t sf_nsyms;
	char *sf_strs;		/* names */
	size_t sf_strsz;
	uint32_t *sf_hash;	/* open addressing: index + 1, 0 empty */
	size_t sf_hashsz;	/* power of two */
	sym_irel_t *sf_irel;	/* sorted by ir_resolver */
	size_t sf_nirel;
	struct sym_file *sf_next; /* cache list */
	struct sym_dw *sf_dw;	/* its DWARF, opened at the first
				   sym_fn_params (params.c), or NULL */
	sym_usdt_t *sf_usdt;	/* its sys/sdt.h probes (usdt.c), by pc */
	size_t sf_nusdt;
	void *sf_ubuf;		/* their strings and arguments */
	unsigned sf_ubad;	/* notes that could not be read at all */
	const char *sf_ubad_why;	/* the first one's reason (static) */
	_Atomic(char *) *sf_dem; /* per entry of sf_syms: its demangled
				   name once asked (demangle.c), or NULL
				   when no name is mangled */
};

/* One object mapped in a process. */
typedef struct sym_obj {
	char *so_path;		/* file path as mapped */
	char *so_lname;		/* link-map name (l_name), or NULL */
	const char *so_base;	/* its basename (in so_path) */
	uintptr_t so_bias;	/* load bias */
	uintptr_t so_start;	/* first mapped byte */
	uintptr_t so_end;	/* past the last mapped byte */
	uintptr_t so_mstart;	/* one mapping of it, for map_files */
	uintptr_t so_mend;
	uint64_t so_moff;	/* that mapping's file offset */
	dev_t so_dev;
	ino_t so_ino;
	int so_lmid;		/* namespace */
	uintptr_t so_dyn;	/* l_ld, 0 if unknown */
	int so_exec;		/* the executable (a.out) */
	int so_tried;		/* table load attempted */
	sym_file_t *so_file;	/* loaded table, or NULL */
} sym_obj_t;

/* A mapping that is not an object: stack, heap, vdso, anonymous. */
typedef struct sym_region {
	uintptr_t sr_start, sr_end;
	const char *sr_name;	/* "[stack]", "[heap]", "[vdso]", "[anon]" */
} sym_region_t;

struct sym_proc {
	pid_t sp_pid;
	sym_obj_t *sp_obj;	/* in load order; sp_obj[0] is a.out */
	size_t sp_nobj;
	size_t *sp_byaddr;	/* indices of sp_obj sorted by so_start */
	sym_region_t *sp_reg;	/* sorted by address */
	size_t sp_nreg;
	unsigned sp_gen;	/* bumped whenever the object list is
				   rebuilt or reset (sym_proc_gen) */
};

sym_file_t *sym_file_get(pid_t pid, uintptr_t start, uintptr_t end,
    const char *path, dev_t dev, ino_t ino, int *errp);
void sym_file_rele(sym_file_t *F);
void sym_file_free(sym_file_t *F);
const sym_entry_t *sym_file_by_addr(const sym_file_t *F, uint64_t rel);
const sym_entry_t *sym_file_by_name(const sym_file_t *F, const char *name);
const sym_irel_t *sym_file_irel(const sym_file_t *F, uint64_t resolver);
uintptr_t sym_file_bias(const sym_file_t *F, uintptr_t start,
    uint64_t offset);
int sym_file_index(sym_file_t *F);
int sym_mem_read(pid_t pid, uintptr_t addr, void *buf, size_t len);
sym_file_t *sym_file_from_memory(pid_t pid, uintptr_t bias, uintptr_t dyn,
    int *errp);
struct Elf;
int sym_file_debug_open(struct Elf *elf, const sym_file_t *F,
    const char *path);
sym_obj_t *sym_obj_at(sym_proc_t *S, uintptr_t addr);
int sym_obj_glob(const sym_obj_t *o, const char *objglob);
int sym_obj_load(sym_proc_t *S, sym_obj_t *o);
void sym_dw_free(struct sym_dw *D);
void sym_usdt_read(struct Elf *elf, sym_file_t *F);
void sym_usdt_free(sym_file_t *F);
/* demangle.c: the per-entry cache of demangled names. */
int sym_file_dem_init(sym_file_t *F);
void sym_file_dem_free(sym_file_t *F);
const char *sym_file_dname(const sym_file_t *F, const sym_entry_t *e);

#endif /* DTPROC_SYM_IMPL_H */
