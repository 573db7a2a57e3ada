/*
 * dwarf_impl.h - what params.c (a function's DWARF) and dwtype.c (its
 * types: names, kinds, their layout for the calling convention) share.
 */
#ifndef DTPROC_DWARF_IMPL_H
#define DTPROC_DWARF_IMPL_H

#include "sym_impl.h"

#include <elfutils/libdw.h>
#include <stdbool.h>

#define DW_TNAME	256	/* a type's name, at most */
#define DW_DEPTH	12	/* type and scope nesting followed */

typedef struct sym_dwctx {
	struct sym_dw *c_D;	/* the object's DWARF state (its arena) */
	bool c_cplus;		/* C++: "point", not "struct point" */
} sym_dwctx_t;

/* Attributes, through abstract_origin and specification. */
const char *sym_dw_name(Dwarf_Die *d);
bool sym_dw_type(Dwarf_Die *d, Dwarf_Die *out);	/* false: void */
bool sym_dw_flag(Dwarf_Die *d, int at);
Dwarf_Word sym_dw_udata(Dwarf_Die *d, int at, Dwarf_Word dflt);
/* T without typedefs and qualifiers, in place: false if that is void. */
bool sym_dw_strip(Dwarf_Die *t);

/* T as a declaration writes it (NULL: "void"), cut at LEN. */
void sym_dw_tname(const sym_dwctx_t *c, Dwarf_Die *t, char *buf,
    size_t len, int depth);
/* The SYM_T_* of T (stripped; NULL: void), its size in bytes. */
int sym_dw_kind(Dwarf_Die *t);
int sym_dw_size(Dwarf_Die *t);
/* Integer class: a kind that arrives in an integer register. */
bool sym_dw_intclass(int kind);
/* Class T (stripped) passed by invisible reference (C++). */
bool sym_dw_byref(Dwarf_Die *t, bool cplus, int depth);
/* T (stripped; NULL: none) described for arch_args_next (src/arch). */
void sym_dw_argtype(Dwarf_Die *t, int kind, int size, bool cplus,
    arch_argtype_t *at);

#endif /* DTPROC_DWARF_IMPL_H */
