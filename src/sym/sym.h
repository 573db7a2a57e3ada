/*
 * sym.h - symbols: the ELF objects of a process and their symbol tables.
 *
 * A sym_file_t is one ELF object's symbol table, read with libelf once per
 * (device, inode) and shared, reference-counted, by every process that
 * maps that object.  It prefers .symtab, then a separate debug file found
 * by build-id under /usr/lib/debug/.build-id or by .gnu_debuglink, then
 * .dynsym.  Files are opened through /proc/PID/map_files, so deleted files
 * and other mount namespaces work.
 *
 * A sym_proc_t is the list of objects one process has mapped, in load
 * order, each with its namespace and load bias: from the run-time linker's
 * link maps when the rtld agent provides them (sym_proc_set_objects), from
 * /proc/PID/maps otherwise.  Tables are loaded lazily, on first lookup.
 *
 * Lookups read no tracee state beyond /proc and an IFUNC's GOT slot
 * (process_vm_readv) and need no stop; a sym_proc_t is not locked: its
 * owner serializes calls (the control layer's lock).
 */
#ifndef DTPROC_SYM_H
#define DTPROC_SYM_H

#include "arch/arch.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct sym_file sym_file_t;
typedef struct sym_proc sym_proc_t;

/* What a lookup found. */
typedef struct sym_info {
	const char *sy_object;	/* object's name as printed: basename,
				   "a.out" never (the real basename) */
	const char *sy_path;	/* object's path */
	int sy_lmid;		/* link-map namespace (0: base) */
	const char *sy_name;	/* symbol name, NULL if none */
	uintptr_t sy_addr;	/* symbol's address in the process */
	uint64_t sy_size;	/* its size */
	uintptr_t sy_offset;	/* by address: addr - sy_addr (or - bias
				   when there is no symbol) */
	uintptr_t sy_bias;	/* object's load bias */
	int sy_type;		/* STT_FUNC, STT_OBJECT, ... */
	const char *sy_version;	/* symbol version ("GLIBC_2.3.2"), or NULL */
	const char *sy_impl;	/* SYM_IFUNC: the implementation's name, or
				   NULL when no symbol names it */
	int sy_flags;		/* SYM_* */
	const char *sy_dname;	/* sy_name demangled (C++, Rust), or NULL
				   when it is not mangled */
} sym_info_t;

/*
 * sy_flags.  An IFUNC (STT_GNU_IFUNC) is found by name as the function
 * its resolver chose in this process, read from the GOT slot its
 * IRELATIVE relocation names: sy_addr, sy_size are the implementation's,
 * sy_type STT_FUNC, sy_name the IFUNC's.  When the choice is not known
 * (not relocated yet, no IRELATIVE in the object) a lookup gives the
 * resolver itself, marked SYM_RESOLVER, and sym_iter leaves it out.
 */
#define SYM_IFUNC	0x1	/* sy_addr: the implementation chosen */
#define SYM_RESOLVER	0x2	/* an IFUNC's resolver: choice unknown */
#define SYM_COMPAT	0x4	/* not the default version of the name */

/* An object as the rtld agent or the maps describe it. */
typedef struct sym_objdesc {
	const char *sd_path;	/* file path ("" for the executable: the
				   maps name it) */
	uintptr_t sd_bias;	/* l_addr */
	uintptr_t sd_dyn;	/* l_ld, 0 if unknown */
	int sd_lmid;		/* namespace */
} sym_objdesc_t;

sym_proc_t *sym_proc_new(pid_t pid);
void sym_proc_free(sym_proc_t *S);

/* Rebuild the object list from /proc/PID/maps (keeps loaded tables). */
int sym_proc_update_maps(sym_proc_t *S);

/* Replace the object list with the link maps' (load order kept). */
int sym_proc_set_objects(sym_proc_t *S, const sym_objdesc_t *objs,
    size_t n);

/* A new image (exec): forget every object. */
void sym_proc_reset(sym_proc_t *S);

/*
 * A counter bumped each time the object list is rebuilt or reset, so that
 * a cache built from it (the unwinder's modules) knows when to rebuild.
 */
unsigned sym_proc_gen(const sym_proc_t *S);

/*
 * By address: 0 and *si filled (sy_name NULL inside an object without a
 * covering symbol; sy_object "[vdso]", "[stack]", "[heap]", "[anon]" for
 * mappings that are not files), -ENOENT when no mapping holds ADDR (and
 * err_msg() says so).
 */
int sym_lookup_addr(sym_proc_t *S, uintptr_t addr, sym_info_t *si);

/*
 * By name, DTrace's syntax: [LMn`][OBJECT`]NAME.  OBJECT is "a.out", a
 * basename, the basename up to its first dot, or a full path.  Without
 * OBJECT: the executable, then each object in load order.  NAME is the
 * default version of the name (a compat version where there is no
 * default), NAME@VERSION that version, NAME@@VERSION that version if it
 * is the default.  0, -ENOENT (no such symbol), -ESRCH (no such object),
 * -EINVAL; the message is the calling thread's last error (err_msg()).
 */
int sym_lookup_name(sym_proc_t *S, const char *spec, sym_info_t *si);

/*
 * Glob iteration: every defined function matching OBJGLOB`NAMEGLOB, one
 * call per address and name: a glob without '@' is matched against base
 * names and skips a compat version of a name that has a default; with
 * '@' against "name@VERSION" (and "name@@VERSION" for the default).
 * Aliases are given once, under the first matching name.  IFUNCs are
 * given as their chosen implementation, in the order of their resolvers;
 * resolvers whose choice is unknown are left out.
 */
typedef int sym_iter_f(const sym_info_t *si, void *arg);
int sym_iter(sym_proc_t *S, const char *objglob, const char *nameglob,
    sym_iter_f *fn, void *arg);

/*
 * NAME demangled (C++: Itanium; Rust: legacy and v0), without a symbol
 * version, in new memory; NULL if it is not a mangled name (demangle.c).
 */
char *sym_demangle(const char *name);

/* sym_iter over the ELF file PATH, no process (proc.c): file addresses. */
int sym_file_iter(const char *path, const char *nameglob, sym_iter_f *fn,
    void *arg);

/* Format "obj`name+0x12", "obj`0x1234" or "0x7fff..." into buf. */
char *sym_format(const sym_info_t *si, uintptr_t addr, char *buf,
    size_t len);

/* Objects, for ldd: index i of the current list, or NULL past the end. */
typedef struct sym_objinfo {
	const char *so_path;
	const char *so_name;
	uintptr_t so_bias;
	uintptr_t so_start;	/* lowest mapped address */
	int so_lmid;
	dev_t so_dev;		/* the mapped file (0, 0: unknown) */
	ino_t so_ino;
} sym_objinfo_t;
int sym_object(sym_proc_t *S, size_t i, sym_objinfo_t *oi);

/* Statistics of the shared table cache (for tests and bench). */
size_t sym_cache_files(void);
size_t sym_cache_loads(void);

/*
 * ---- A function's parameters from DWARF (params.c) ----
 *
 * The DW_TAG_subprogram covering an address (its concrete, out-of-line
 * instance; names and types through abstract_origin and specification),
 * from the object's own .debug_info or a debug file found by build-id or
 * .gnu_debuglink.  Each parameter's argN is where System V puts it: six
 * integer registers, then the stack (argN 6 + the stack word), floats in
 * SSE registers (-1), aggregates classified by eightbyte (-1, their slots
 * skipped).  Descriptions are kept with the object's table (sym_file_t),
 * shared like it, and stay valid as long as it does: as a sym_info_t's
 * strings.  Any thread; the per-object state has its own lock.
 */
#define SYM_T_UNKNOWN	0	/* the same values as dtproc.h's DTPROC_T_* */
#define SYM_T_VOID	1
#define SYM_T_INT	2
#define SYM_T_UINT	3
#define SYM_T_PTR	4
#define SYM_T_STR	5
#define SYM_T_ENUM	6
#define SYM_T_BOOL	7
#define SYM_T_FLOAT	8
#define SYM_T_STRUCT	9

typedef struct sym_param {
	const char *pa_name;	/* NULL if unnamed */
	const char *pa_type;	/* as written: "const char *", "size_t" */
	int pa_kind;		/* SYM_T_* */
	int pa_size;		/* bytes */
	int pa_arg;		/* argN, or -1 (float, aggregate, void); for
				   the return value 1 (DTrace's arg1 at a
				   return probe) when it comes back in the
				   integer return register */
	const void *pa_enum;	/* SYM_T_ENUM: its enumerators, for
				   sym_enum_format */
} sym_param_t;

typedef struct sym_fn {
	const char *fn_name;	/* the subprogram's name, or NULL */
	uint64_t fn_low;	/* its entry, unrelocated */
	int fn_nparams;
	const sym_param_t *fn_params;
	sym_param_t fn_ret;	/* pa_kind SYM_T_VOID for none */
	int fn_variadic;	/* ends in "..." */
	const char *fn_none;	/* why it cannot be described (assembly),
				   or NULL */
} sym_fn_t;

/*
 * The function covering ADDR in S: 0 and *FNP, or -ENOENT (no object
 * there, no DWARF for it, no subprogram covers ADDR, a compiler clone
 * whose parameters are not the declared ones, an assembly function) with
 * the reason as the calling thread's last error.
 */
int sym_fn_params(sym_proc_t *S, uintptr_t addr, const sym_fn_t **fnp);
/* VAL (a register's 64 bits) cut to SIZE bytes, sign-extended if SGN. */
uint64_t sym_canon(uint64_t val, int size, int sgn);
/* An enum parameter's value by its enumerator's name, else the number. */
int sym_enum_format(const void *en, uint64_t val, char *buf, size_t len);

/*
 * ---- sys/sdt.h probes (usdt.c) ----
 *
 * The notes of an object's .note.stapsdt (type 3, owner "stapsdt"),
 * read with its table and shared like it: each probe's pc and
 * semaphore adjusted by the object's .stapsdt.base (where the section
 * is now, less where the note says it was), unrelocated; its provider,
 * name, argument string, and the arguments parsed (the operands by the
 * arch seam, a symbol an operand names resolved in the object's table).
 * A probe whose arguments cannot be parsed is kept, su_nargs -1 and
 * su_why saying which and why: it can still be counted.  A note too
 * short for its fields is skipped and counted (sf_ubad).
 */
#define SYM_USDT_ARGS	12	/* arguments a note may have (sys/sdt.h) */

typedef struct sym_usdt {
	uint64_t su_pc;		/* the probe's nop, unrelocated */
	uint64_t su_sema;	/* its semaphore, unrelocated, or 0 */
	const char *su_prov;	/* provider ("python") */
	const char *su_name;	/* name ("function__entry") */
	const char *su_args;	/* the spec as written ("-4@%edi 8@$5") */
	int su_nargs;		/* parsed arguments, or -1 (su_why) */
	const char *su_why;	/* su_nargs -1: which and why */
	const arch_sdt_arg_t *su_arg;	/* su_nargs of them */
	const uint64_t *su_symval;	/* per argument: its symbol's
					   value, unrelocated (0: none) */
	const char *const *su_sym;	/* per argument: the symbol, or NULL */
} sym_usdt_t;

/* A probe as one process has it. */
typedef struct sym_usdt_info {
	const sym_usdt_t *ui_note;
	const char *ui_object;	/* basename */
	const char *ui_path;
	int ui_lmid;
	uintptr_t ui_bias;
	uintptr_t ui_addr;	/* the probe's address in the process */
	uintptr_t ui_sema;	/* its semaphore's, or 0 */
	dev_t ui_dev;		/* the object's file */
	ino_t ui_ino;
} sym_usdt_info_t;

/*
 * Every probe of the objects matching OBJGLOB (as sym_iter's), in load
 * order then by address, whose provider and name match PROVGLOB and
 * NAMEGLOB (NULL: any).  FN's nonzero return stops the walk and is
 * returned.  An object whose notes could not all be read is passed to
 * BAD (if not NULL) once per walk, with the count and the reason.
 */
typedef int sym_usdt_f(const sym_usdt_info_t *ui, void *arg);
typedef void sym_usdt_bad_f(const char *path, unsigned n, const char *why,
    void *arg);
int sym_usdt_iter(sym_proc_t *S, const char *objglob, const char *provglob,
    const char *nameglob, sym_usdt_f *fn, sym_usdt_bad_f *bad, void *arg);
/* The probe at ADDR: 0 and *UI, or -ENOENT. */
int sym_usdt_at(sym_proc_t *S, uintptr_t addr, sym_usdt_info_t *ui);
/*
 * The probes of the ELF file at PATH, as sym_usdt_iter's (ui_addr and
 * ui_sema unrelocated, ui_bias 0): 0, FN's nonzero return, or -errno.
 */
int sym_usdt_file_iter(const char *path, const char *provglob,
    const char *nameglob, sym_usdt_f *fn, sym_usdt_bad_f *bad, void *arg);

#endif /* DTPROC_SYM_H */
