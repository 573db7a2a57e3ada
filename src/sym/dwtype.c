/*
 * dwtype.c - a DWARF type as C writes it, its kind, and where System V
 * x86-64 passes a value of it (for params.c).
 *
 * Names: typedefs by name ("size_t"), tagged types with their keyword in
 * C ("struct point"; in C++ the bare name), qualifiers where C puts them
 * ("const char *", "char *const"), function pointers as declarators
 * ("void (*)(void *)"), GCC's base-type spellings made the usual ones
 * ("long unsigned int" is "unsigned long").
 *
 * Where a value arrives is the calling convention's (src/arch/abi.c):
 * this file describes a parameter's type to it as scalar pieces at byte
 * offsets (integer, floating, x87), its size and alignment, and whether
 * C++ passes it by invisible reference.
 */
#include "dwarf_impl.h"

#include <dwarf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
sym_dw_name(Dwarf_Die *d)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_name, &a) != NULL ?
	    dwarf_formstring(&a) : NULL;
}

/* D's DW_AT_type into OUT: false for none (void). */
bool
sym_dw_type(Dwarf_Die *d, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(d, DW_AT_type, &a) != NULL &&
	    dwarf_formref_die(&a, out) != NULL;
}

bool
sym_dw_flag(Dwarf_Die *d, int at)
{
	Dwarf_Attribute a;
	bool v = false;

	return dwarf_attr_integrate(d, at, &a) != NULL &&
	    dwarf_formflag(&a, &v) == 0 && v;
}

Dwarf_Word
sym_dw_udata(Dwarf_Die *d, int at, Dwarf_Word dflt)
{
	Dwarf_Attribute a;
	Dwarf_Word v;

	if (dwarf_attr_integrate(d, at, &a) == NULL ||
	    dwarf_formudata(&a, &v) != 0)
		return dflt;
	return v;
}

/* T without typedefs and qualifiers, in place: false if that is void. */
bool
sym_dw_strip(Dwarf_Die *t)
{
	for (int i = 0; i < DW_DEPTH; i++) {
		switch (dwarf_tag(t)) {
		case DW_TAG_typedef:
		case DW_TAG_const_type:
		case DW_TAG_volatile_type:
		case DW_TAG_restrict_type:
		case DW_TAG_atomic_type:
			if (!sym_dw_type(t, t))
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

/* A function type as C writes it, with DECL ("(*)", "") for the name. */
static void
dw_fntype(const sym_dwctx_t *c, Dwarf_Die *fn, const char *decl, char *buf,
    size_t len, int depth)
{
	char r[DW_TNAME], a[DW_TNAME];
	Dwarf_Die rt, p;
	size_t o = 0;
	int n = 0;

	sym_dw_tname(c, sym_dw_type(fn, &rt) ? &rt : NULL, r, sizeof (r), depth + 1);
	o = dw_fmt(buf, len, "%s %s(", r, decl);
	if (dwarf_child(fn, &p) == 0) {
		do {
			int tag = dwarf_tag(&p);

			if (tag == DW_TAG_formal_parameter) {
				Dwarf_Die pt;

				sym_dw_tname(c, sym_dw_type(&p, &pt) ? &pt : NULL, a,
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
		    n == 0 && sym_dw_flag(fn, DW_AT_prototyped) ? "void" : "");
}

/* T's name as a declaration would write it; NULL T: void. */
void
sym_dw_tname(const sym_dwctx_t *c, Dwarf_Die *t, char *buf, size_t len, int depth)
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
	has = sym_dw_type(t, &sub);
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
		dw_fmt(buf, len, "%s", dw_base_name(sym_dw_name(t)));
		return;
	case DW_TAG_typedef:
	case DW_TAG_unspecified_type:
		n = sym_dw_name(t);
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
		if ((n = sym_dw_name(t)) == NULL)
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
		sym_dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
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
		sym_dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
		dw_fmt(buf, len, "%s%s%s", in, dw_ends_ptr(in) ? "" : " ",
		    kw);
		return;
	case DW_TAG_array_type:
		sym_dw_tname(c, has ? &sub : NULL, in, sizeof (in), depth + 1);
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
int
sym_dw_kind(Dwarf_Die *t)
{
	Dwarf_Die p;

	if (t == NULL)
		return SYM_T_VOID;
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
		switch (sym_dw_udata(t, DW_AT_encoding, 0)) {
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
		if (sym_dw_type(t, &p) && sym_dw_strip(&p) &&
		    dwarf_tag(&p) == DW_TAG_base_type &&
		    sym_dw_udata(&p, DW_AT_byte_size, 0) == 1) {
			Dwarf_Word e = sym_dw_udata(&p, DW_AT_encoding, 0);

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

int
sym_dw_size(Dwarf_Die *t)
{
	Dwarf_Word sz;

	if (t == NULL || dwarf_aggregate_size(t, &sz) != 0 || sz > INT32_MAX)
		return 0;
	return (int)sz;
}

/* ---- what the calling convention needs to know ---- */

/* Is P's type a reference to class T (its copy or move constructor)? */
static bool
dw_refto(Dwarf_Die *p, Dwarf_Die *t)
{
	Dwarf_Die r;

	if (!sym_dw_type(p, &r) || (dwarf_tag(&r) != DW_TAG_reference_type &&
	    dwarf_tag(&r) != DW_TAG_rvalue_reference_type) ||
	    !sym_dw_type(&r, &r) || !sym_dw_strip(&r))
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
bool
sym_dw_byref(Dwarf_Die *t, bool cplus, int depth)
{
	Dwarf_Word cc = sym_dw_udata(t, DW_AT_calling_convention, 0);
	const char *name = sym_dw_name(t);
	Dwarf_Die m, mt, p;

	if (cc == DW_CC_pass_by_reference || cc == DW_CC_pass_by_value)
		return cc == DW_CC_pass_by_reference;
	if (!cplus || depth > DW_DEPTH || dwarf_child(t, &m) != 0)
		return false;
	do {
		int tag = dwarf_tag(&m);
		const char *mn;

		if (tag == DW_TAG_subprogram) {
			if (sym_dw_flag(&m, DW_AT_artificial) ||
			    sym_dw_udata(&m, DW_AT_defaulted, 0) != 0 ||
			    (mn = sym_dw_name(&m)) == NULL)
				continue;
			if (mn[0] == '~')
				return true;
			if (name == NULL || strcmp(mn, name) != 0 ||
			    dwarf_child(&m, &p) != 0)
				continue;
			/* the first parameter after "this" */
			do {
				if (dwarf_tag(&p) != DW_TAG_formal_parameter ||
				    sym_dw_flag(&p, DW_AT_artificial))
					continue;
				if (dw_refto(&p, t))
					return true;
				break;
			} while (dwarf_siblingof(&p, &p) == 0);
			continue;
		}
		if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
		    sym_dw_flag(&m, DW_AT_declaration) ||
		    sym_dw_flag(&m, DW_AT_external) || !sym_dw_type(&m, &mt) ||
		    !sym_dw_strip(&mt))
			continue;
		while (dwarf_tag(&mt) == DW_TAG_array_type &&
		    sym_dw_type(&mt, &mt) && sym_dw_strip(&mt))
			;
		if ((dwarf_tag(&mt) == DW_TAG_structure_type ||
		    dwarf_tag(&mt) == DW_TAG_class_type ||
		    dwarf_tag(&mt) == DW_TAG_union_type) &&
		    sym_dw_byref(&mt, cplus, depth + 1))
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

static void
dw_piece(arch_argtype_t *at, uint64_t off, int size, int cl)
{
	arch_argpiece_t *p;

	if (at->at_npiece == ARCH_ARG_PIECES || off > UINT32_MAX) {
		at->at_unknown = true;
		return;
	}
	p = &at->at_piece[at->at_npiece++];
	p->ap_off = (uint32_t)off;
	p->ap_size = size > 0 ? (uint32_t)size : 0;
	p->ap_class = cl;
}

/* T's (stripped) scalar pieces, at byte OFF of an argument, into AT. */
static void
dw_pieces(Dwarf_Die *t, uint64_t off, arch_argtype_t *at, int depth)
{
	int sz = sym_dw_size(t);
	Dwarf_Die m, mt;

	if (depth > DW_DEPTH) {
		at->at_unknown = true;
		return;
	}
	switch (dwarf_tag(t)) {
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
		if (dwarf_child(t, &m) != 0)
			return;
		do {
			uint64_t moff;
			int tag = dwarf_tag(&m);

			if ((tag != DW_TAG_member && tag != DW_TAG_inheritance) ||
			    sym_dw_flag(&m, DW_AT_declaration) ||
			    sym_dw_flag(&m, DW_AT_external))
				continue;	/* static members take no room */
			if (!dw_member_off(&m, &moff) || !sym_dw_type(&m, &mt) ||
			    !sym_dw_strip(&mt)) {
				at->at_unknown = true;
				return;
			}
			if (dwarf_hasattr(&m, DW_AT_bit_size))
				dw_piece(at, off + moff, 1, ARCH_PIECE_INT);
			else
				dw_pieces(&mt, off + moff, at, depth + 1);
		} while (dwarf_siblingof(&m, &m) == 0);
		return;
	case DW_TAG_array_type: {
		int esz;

		/* past 16 bytes a value is in memory whatever it holds */
		if (!sym_dw_type(t, &mt) || !sym_dw_strip(&mt) ||
		    (esz = sym_dw_size(&mt)) <= 0)
			return;
		for (int o = 0; o + esz <= sz && o < 16; o += esz)
			dw_pieces(&mt, off + (uint64_t)o, at, depth + 1);
		return;
	}
	default:
		break;
	}
	if (sym_dw_kind(t) == SYM_T_FLOAT) {
		const char *n = sym_dw_name(t);

		dw_piece(at, off, sz, n != NULL &&
		    strstr(n, "long double") != NULL ? ARCH_PIECE_X87 :
		    ARCH_PIECE_FLOAT);
	} else {
		dw_piece(at, off, sz, ARCH_PIECE_INT);
	}
}

/* T's alignment (stripped): what places it on the stack. */
static int
dw_align(Dwarf_Die *t, int depth)
{
	Dwarf_Die m, mt;
	int a = (int)sym_dw_udata(t, DW_AT_alignment, 0), sz;

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
			    sym_dw_flag(&m, DW_AT_declaration) ||
			    sym_dw_flag(&m, DW_AT_external) ||
			    !sym_dw_type(&m, &mt) || !sym_dw_strip(&mt))
				continue;
			if ((ma = dw_align(&mt, depth + 1)) > a)
				a = ma;
		} while (dwarf_siblingof(&m, &m) == 0);
		return a;
	case DW_TAG_array_type:
		return sym_dw_type(t, &mt) && sym_dw_strip(&mt) ?
		    dw_align(&mt, depth + 1) : 1;
	default:
		sz = sym_dw_size(t);
		if (dwarf_tag(t) == DW_TAG_base_type &&
		    sym_dw_udata(t, DW_AT_encoding, 0) == DW_ATE_complex_float)
			sz /= 2;
		return sz > 16 ? 16 : sz > 0 ? sz : 1;
	}
}

bool
sym_dw_intclass(int kind)
{
	return kind == SYM_T_INT || kind == SYM_T_UINT || kind == SYM_T_PTR ||
	    kind == SYM_T_STR || kind == SYM_T_ENUM || kind == SYM_T_BOOL;
}

/* Type T (stripped; KIND and SIZE as found) as abi.c needs to see it. */
void
sym_dw_argtype(Dwarf_Die *t, int kind, int size, bool cplus,
    arch_argtype_t *at)
{
	at->at_size = t != NULL ? size : 0;
	at->at_align = t != NULL ? dw_align(t, 0) : 1;
	at->at_aggregate = kind == SYM_T_STRUCT;
	at->at_byref = t != NULL && kind == SYM_T_STRUCT &&
	    sym_dw_byref(t, cplus, 0);
	at->at_intkind = sym_dw_intclass(kind);
	at->at_unknown = false;
	at->at_npiece = 0;
	if (t != NULL && size > 0 && size <= 16 && !at->at_byref)
		dw_pieces(t, 0, at, 0);
}
