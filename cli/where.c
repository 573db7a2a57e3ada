/*
 * where.c - the --where filter: a recursive-descent parser into a tree,
 * and its evaluator.  No D compiler: integers, strings, C's operators.
 *
 * Grammar (C's precedence, lowest first; every binary operator is left
 * associative):
 *
 *	expr	:= or
 *	or	:= and ( "||" and )*
 *	and	:= bor ( "&&" bor )*
 *	bor	:= bxor ( "|" bxor )*
 *	bxor	:= band ( "^" band )*
 *	band	:= eq ( "&" eq )*
 *	eq	:= rel ( ( "==" | "!=" | "~" ) rel )*
 *	rel	:= shift ( ( "<" | "<=" | ">" | ">=" ) shift )*
 *	shift	:= add ( ( "<<" | ">>" ) add )*
 *	add	:= mul ( ( "+" | "-" ) mul )*
 *	mul	:= unary ( ( "*" | "/" | "%" ) unary )*
 *	unary	:= ( "-" | "~" | "!" ) unary | primary
 *	primary	:= NUMBER | STRING | NAME | "reg" "(" NAME ")" | "(" expr ")"
 *
 * Values are 64-bit signed integers (arithmetic wraps; >> is arithmetic;
 * a shift count is taken modulo 64) or strings.  A string is a literal,
 * the variable probe, or an integer used where a string is wanted: as
 * the other side of == or != against a string, or either side of the
 * glob match "~", an integer is a char * and the string it points at is
 * read from the process (at most WHERE_STRMAX - 1 bytes).  Anything else
 * done with a string is an error at compile time, as is a string
 * condition.  `~` is a binary operator only after an operand (else it is
 * bitwise not), and its right side is a glob(7) pattern.
 *
 * A firing without a value for the expression (a variable it lacks, an
 * unreadable string, division by zero) is neither true nor false: the
 * caller decides (trace counts it as filtered out, and says how many).
 * && and || decide from their left side when they can, as in C.
 */
#include "where.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WHERE_DEPTH	64	/* nesting: bounds the evaluator's stack */

enum {
	T_END, T_NUM, T_STR, T_NAME, T_LP, T_RP,
	T_OROR, T_ANDAND, T_OR, T_XOR, T_AND, T_EQ, T_NE, T_TILDE,
	T_LT, T_LE, T_GT, T_GE, T_SHL, T_SHR, T_PLUS, T_MINUS,
	T_MUL, T_DIV, T_MOD, T_NOT
};

static const struct {
	const char *op;
	int tok;
} where_ops[] = {		/* longest first */
	{ "||", T_OROR }, { "&&", T_ANDAND }, { "==", T_EQ }, { "!=", T_NE },
	{ "<=", T_LE }, { ">=", T_GE }, { "<<", T_SHL }, { ">>", T_SHR },
	{ "|", T_OR }, { "^", T_XOR }, { "&", T_AND }, { "~", T_TILDE },
	{ "<", T_LT }, { ">", T_GT }, { "+", T_PLUS }, { "-", T_MINUS },
	{ "*", T_MUL }, { "/", T_DIV }, { "%", T_MOD }, { "!", T_NOT },
	{ "(", T_LP }, { ")", T_RP },
};

/* Binding power of a binary operator, 0 if TOK is none. */
static int
where_prec(int tok)
{
	switch (tok) {
	case T_OROR:	return 1;
	case T_ANDAND:	return 2;
	case T_OR:	return 3;
	case T_XOR:	return 4;
	case T_AND:	return 5;
	case T_EQ: case T_NE: case T_TILDE:	return 6;
	case T_LT: case T_LE: case T_GT: case T_GE:	return 7;
	case T_SHL: case T_SHR:	return 8;
	case T_PLUS: case T_MINUS:	return 9;
	case T_MUL: case T_DIV: case T_MOD:	return 10;
	default:	return 0;
	}
}

enum { N_NUM, N_STR, N_PROBE, N_VAR, N_DEREF, N_UN, N_BIN };

typedef struct wnode {
	int wn_kind;		/* N_* */
	int wn_tok;		/* N_UN, N_BIN: the operator */
	bool wn_isstr;		/* the value is a string */
	size_t wn_col;		/* where it starts in the expression */
	uint64_t wn_num;	/* N_NUM */
	char *wn_text;		/* N_STR: the literal; N_VAR: a name */
	where_var_t wn_var;	/* N_VAR */
	struct wnode *wn_l, *wn_r;	/* operands (N_DEREF, N_UN: wn_l) */
} wnode_t;

struct where {
	wnode_t *w_root;
};

/* The parser: the expression, the current token, the first error. */
typedef struct wparse {
	const char *wp_expr;
	size_t wp_pos;		/* after the current token */
	int wp_tok;
	size_t wp_col;		/* where the current token starts */
	uint64_t wp_num;	/* T_NUM */
	char *wp_text;		/* T_STR (unescaped), T_NAME */
	const char *wp_msg;	/* the first error, or NULL */
	size_t wp_errcol;
	int wp_depth;
} wparse_t;

static void
where_node_free(wnode_t *n)
{
	if (n == NULL)
		return;
	where_node_free(n->wn_l);
	where_node_free(n->wn_r);
	free(n->wn_text);
	free(n);
}

void
where_free(where_t *w)
{
	if (w != NULL) {
		where_node_free(w->w_root);
		free(w);
	}
}

static bool
where_node_stopped(const wnode_t *n)
{
	return n != NULL && (n->wn_kind == N_STR || n->wn_kind == N_DEREF ||
	    (n->wn_kind == N_VAR && n->wn_var.wv_kind == WHERE_V_REG) ||
	    where_node_stopped(n->wn_l) || where_node_stopped(n->wn_r));
}

bool
where_needs_stop(const where_t *w)
{
	return w != NULL && where_node_stopped(w->w_root);
}

/* Record an error (the first one wins): NULL, for the callers' return. */
static void *
where_err(wparse_t *p, const char *msg, size_t col)
{
	if (p->wp_msg == NULL) {
		p->wp_msg = msg;
		p->wp_errcol = col;
	}
	return NULL;
}

static int
where_lex_num(wparse_t *p, const char *s)
{
	const char *q = s;
	uint64_t v = 0;
	int base = 10;

	if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		base = 16;
		q += 2;
	} else if (q[0] == '0' && isdigit((unsigned char)q[1])) {
		where_err(p, "a number with a leading 0 (octal is not taken: "
		    "write decimal or 0x hex)", p->wp_col);
		return -1;
	}
	const char *digits = q;
	for (; isxdigit((unsigned char)*q); q++) {
		int d = isdigit((unsigned char)*q) ? *q - '0' :
		    tolower((unsigned char)*q) - 'a' + 10;

		if (d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
			where_err(p, "number too large for 64 bits",
			    p->wp_col);
			return -1;
		}
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (q == digits || isalnum((unsigned char)*q) || *q == '_') {
		where_err(p, "bad number", p->wp_col);
		return -1;
	}
	p->wp_num = v;
	p->wp_pos += (size_t)(q - s);
	return T_NUM;
}

static int
where_lex_str(wparse_t *p, const char *s)
{
	const char *q = s + 1;
	size_t n = 0;
	char *t = malloc(strlen(s));

	if (t == NULL) {
		where_err(p, "out of memory", p->wp_col);
		return -1;
	}
	for (; *q != '"'; q++) {
		if (*q == '\0') {
			free(t);
			where_err(p, "string not closed (no '\"')", p->wp_col);
			return -1;
		}
		if (*q != '\\') {
			t[n++] = *q;
			continue;
		}
		switch (*++q) {
		case '\\': case '"':	t[n++] = *q;	break;
		case 'n':		t[n++] = '\n';	break;
		case 't':		t[n++] = '\t';	break;
		default:
			free(t);
			where_err(p, "unknown escape (\\\\ \\\" \\n \\t are)",
			    (size_t)(q - 1 - p->wp_expr));
			return -1;
		}
	}
	t[n] = '\0';
	p->wp_text = t;
	p->wp_pos += (size_t)(q + 1 - s);
	return T_STR;
}

/* The next token into P: its kind (T_END at the end), or -1 on error. */
static int
where_next(wparse_t *p)
{
	const char *s;

	free(p->wp_text);
	p->wp_text = NULL;
	while (isspace((unsigned char)p->wp_expr[p->wp_pos]))
		p->wp_pos++;
	s = p->wp_expr + p->wp_pos;
	p->wp_col = p->wp_pos;
	if (*s == '\0')
		return p->wp_tok = T_END;
	if (isdigit((unsigned char)*s))
		return p->wp_tok = where_lex_num(p, s);
	if (*s == '"')
		return p->wp_tok = where_lex_str(p, s);
	if (isalpha((unsigned char)*s) || *s == '_') {
		size_t n = 1;

		while (isalnum((unsigned char)s[n]) || s[n] == '_')
			n++;
		if ((p->wp_text = strndup(s, n)) == NULL)
			return where_err(p, "out of memory", p->wp_col), -1;
		p->wp_pos += n;
		return p->wp_tok = T_NAME;
	}
	for (size_t i = 0; i < sizeof (where_ops) / sizeof (where_ops[0]);
	    i++) {
		size_t n = strlen(where_ops[i].op);

		if (strncmp(s, where_ops[i].op, n) == 0) {
			p->wp_pos += n;
			return p->wp_tok = where_ops[i].tok;
		}
	}
	if (*s == '=')
		where_err(p, "'=' is no operator ('==' compares)", p->wp_col);
	else
		where_err(p, "unexpected character", p->wp_col);
	return p->wp_tok = -1;
}

static wnode_t *
where_node(wparse_t *p, int kind, size_t col)
{
	wnode_t *n = calloc(1, sizeof (*n));

	if (n == NULL)
		return where_err(p, "out of memory", col);
	n->wn_kind = kind;
	n->wn_col = col;
	return n;
}

/* An integer read as a char * where a string is wanted. */
static wnode_t *
where_deref(wparse_t *p, wnode_t *n)
{
	wnode_t *d;

	if (n->wn_isstr)
		return n;
	if ((d = where_node(p, N_DEREF, n->wn_col)) == NULL) {
		where_node_free(n);
		return NULL;
	}
	d->wn_l = n;
	d->wn_isstr = true;
	return d;
}

static wnode_t *where_expr(wparse_t *p, int minprec);

/* A name: a variable, probe, or reg(NAME). */
static wnode_t *
where_name(wparse_t *p)
{
	size_t col = p->wp_col;
	char *name = p->wp_text;
	wnode_t *n;
	const char *d;

	p->wp_text = NULL;
	if ((n = where_node(p, N_VAR, col)) == NULL) {
		free(name);
		return NULL;
	}
	n->wn_text = name;
	n->wn_var.wv_name = name;
	d = name + 3;
	if (strcmp(name, "probe") == 0) {
		n->wn_kind = N_PROBE;
		n->wn_isstr = true;
	} else if (strcmp(name, "pid") == 0) {
		n->wn_var.wv_kind = WHERE_V_PID;
	} else if (strcmp(name, "tid") == 0) {
		n->wn_var.wv_kind = WHERE_V_TID;
	} else if (strcmp(name, "retval") == 0) {
		n->wn_var.wv_kind = WHERE_V_RETVAL;
	} else if (strncmp(name, "arg", 3) == 0 && isdigit((unsigned char)*d) &&
	    d[strspn(d, "0123456789")] == '\0') {
		if (strlen(d) > 1 || *d - '0' >= WHERE_NARGS) {
			where_node_free(n);
			return where_err(p, "no such argument (arg0 to arg7 are)",
			    col);
		}
		n->wn_var.wv_kind = WHERE_V_ARG;
		n->wn_var.wv_index = *d - '0';
	} else {
		n->wn_var.wv_kind = WHERE_V_PARAM;
	}
	if (where_next(p) < 0) {
		where_node_free(n);
		return NULL;
	}
	if (p->wp_tok != T_LP)
		return n;
	/* NAME( : reg(NAME) is the one function */
	if (strcmp(name, "reg") != 0) {
		where_node_free(n);
		return where_err(p, "unknown function (reg(NAME) is the only "
		    "one)", col);
	}
	if (where_next(p) != T_NAME) {
		where_node_free(n);
		return where_err(p, "expected a register name", p->wp_col);
	}
	free(n->wn_text);
	n->wn_text = p->wp_text;
	p->wp_text = NULL;
	n->wn_var.wv_kind = WHERE_V_REG;
	n->wn_var.wv_name = n->wn_text;
	if (where_next(p) != T_RP) {
		where_node_free(n);
		return where_err(p, "expected ')'", p->wp_col);
	}
	if (where_next(p) < 0) {
		where_node_free(n);
		return NULL;
	}
	return n;
}

static wnode_t *
where_primary(wparse_t *p)
{
	size_t col = p->wp_col;
	wnode_t *n;

	switch (p->wp_tok) {
	case T_NUM:
		if ((n = where_node(p, N_NUM, col)) == NULL)
			return NULL;
		n->wn_num = p->wp_num;
		break;
	case T_STR:
		if ((n = where_node(p, N_STR, col)) == NULL)
			return NULL;
		n->wn_text = p->wp_text;
		n->wn_isstr = true;
		p->wp_text = NULL;
		break;
	case T_NAME:
		return where_name(p);
	case T_LP:
		if (++p->wp_depth > WHERE_DEPTH)
			return where_err(p, "nested too deep", col);
		if (where_next(p) < 0 || (n = where_expr(p, 1)) == NULL)
			return NULL;
		p->wp_depth--;
		if (p->wp_tok != T_RP) {
			where_node_free(n);
			return where_err(p, p->wp_tok == T_END ? "expected ')' "
			    "before the end" : "expected ')'", p->wp_col);
		}
		break;
	case T_END:
		return where_err(p, "expected a value before the end", col);
	default:
		return where_err(p, "expected a value", col);
	}
	if (where_next(p) < 0) {
		where_node_free(n);
		return NULL;
	}
	return n;
}

static wnode_t *
where_unary(wparse_t *p)
{
	size_t col = p->wp_col;
	int tok = p->wp_tok;
	wnode_t *n, *u;

	if (tok != T_MINUS && tok != T_TILDE && tok != T_NOT)
		return where_primary(p);
	if (++p->wp_depth > WHERE_DEPTH)
		return where_err(p, "nested too deep", col);
	if (where_next(p) < 0 || (n = where_unary(p)) == NULL)
		return NULL;
	p->wp_depth--;
	if (n->wn_isstr) {
		where_node_free(n);
		return where_err(p, "a string cannot be an operand here", col);
	}
	if ((u = where_node(p, N_UN, col)) == NULL) {
		where_node_free(n);
		return NULL;
	}
	u->wn_tok = tok;
	u->wn_l = n;
	return u;
}

/* L OP R, typed: strings compared or matched, integers otherwise. */
static wnode_t *
where_bin(wparse_t *p, int tok, size_t col, wnode_t *l, wnode_t *r)
{
	wnode_t *b;

	if (tok == T_TILDE || ((tok == T_EQ || tok == T_NE) &&
	    (l->wn_isstr || r->wn_isstr))) {
		l = where_deref(p, l);
		r = l == NULL ? r : where_deref(p, r);
		if (l == NULL || r == NULL) {
			where_node_free(l);
			where_node_free(r);
			return NULL;
		}
	} else if (l->wn_isstr || r->wn_isstr) {
		size_t c = l->wn_isstr ? l->wn_col : r->wn_col;

		where_node_free(l);
		where_node_free(r);
		return where_err(p, "a string cannot be an operand here "
		    "(only of ==, != and ~)", c);
	}
	if ((b = where_node(p, N_BIN, col)) == NULL) {
		where_node_free(l);
		where_node_free(r);
		return NULL;
	}
	b->wn_tok = tok;
	b->wn_l = l;
	b->wn_r = r;
	return b;
}

/* Precedence climbing over the binary operators of MINPREC and up. */
static wnode_t *
where_expr(wparse_t *p, int minprec)
{
	wnode_t *l = where_unary(p);
	int prec;

	while (l != NULL && (prec = where_prec(p->wp_tok)) >= minprec &&
	    prec > 0) {
		int tok = p->wp_tok;
		size_t col = p->wp_col;
		wnode_t *r;

		if (where_next(p) < 0 || (r = where_expr(p, prec + 1)) ==
		    NULL) {
			where_node_free(l);
			return NULL;
		}
		l = where_bin(p, tok, col, l, r);
	}
	return l;
}

where_t *
where_compile(const char *expr, const char **msg, size_t *col)
{
	wparse_t p = { .wp_expr = expr };
	wnode_t *root = NULL;
	where_t *w;

	if (where_next(&p) >= 0) {
		if (p.wp_tok == T_END)
			where_err(&p, "empty expression", 0);
		else if ((root = where_expr(&p, 1)) != NULL &&
		    p.wp_tok != T_END)
			where_err(&p, p.wp_tok == T_RP ? "')' without '('" :
			    "expected an operator or the end", p.wp_col);
		else if (root != NULL && root->wn_isstr)
			where_err(&p, "a string is no condition (compare it: "
			    "==, != or ~)", root->wn_col);
	}
	free(p.wp_text);
	if (p.wp_msg == NULL && (w = calloc(1, sizeof (*w))) != NULL) {
		w->w_root = root;
		return w;
	}
	where_node_free(root);
	*msg = p.wp_msg != NULL ? p.wp_msg : "out of memory";
	*col = p.wp_msg != NULL ? p.wp_errcol : 0;
	return NULL;
}

/* ---- evaluation ---- */

static int where_int(const wnode_t *n, const where_env_t *env, uint64_t *v,
    const char **why);

/* A string node's value: the literal, probe, or read into BUF. */
static const char *
where_str(const wnode_t *n, const where_env_t *env, char *buf,
    const char **why)
{
	uint64_t addr;

	if (n->wn_kind == N_STR)
		return n->wn_text;
	if (n->wn_kind == N_PROBE)
		return env->we_probe != NULL ? env->we_probe : "";
	/* N_DEREF */
	if (where_int(n->wn_l, env, &addr, why) != 0)
		return NULL;
	if (addr == 0 || env->we_str == NULL ||
	    env->we_str(env->we_arg, addr, buf, WHERE_STRMAX) != 0) {
		*why = "a string that cannot be read";
		return NULL;
	}
	return buf;
}

static int
where_strop(const wnode_t *n, const where_env_t *env, uint64_t *v,
    const char **why)
{
	char lb[WHERE_STRMAX], rb[WHERE_STRMAX];
	const char *l = where_str(n->wn_l, env, lb, why), *r;

	if (l == NULL || (r = where_str(n->wn_r, env, rb, why)) == NULL)
		return -1;
	if (n->wn_tok == T_TILDE)
		*v = fnmatch(r, l, 0) == 0;
	else
		*v = (strcmp(l, r) == 0) == (n->wn_tok == T_EQ);
	return 0;
}

static int
where_arith(int tok, uint64_t a, uint64_t b, uint64_t *v, const char **why)
{
	int64_t x = (int64_t)a, y = (int64_t)b;

	switch (tok) {
	case T_OR:	*v = a | b;	break;
	case T_XOR:	*v = a ^ b;	break;
	case T_AND:	*v = a & b;	break;
	case T_EQ:	*v = a == b;	break;
	case T_NE:	*v = a != b;	break;
	case T_LT:	*v = x < y;	break;
	case T_LE:	*v = x <= y;	break;
	case T_GT:	*v = x > y;	break;
	case T_GE:	*v = x >= y;	break;
	case T_SHL:	*v = a << (b & 63);	break;
	case T_SHR:	*v = (uint64_t)(x >> (b & 63));	break;
	case T_PLUS:	*v = a + b;	break;
	case T_MINUS:	*v = a - b;	break;
	case T_MUL:	*v = a * b;	break;
	case T_DIV:
	case T_MOD:
		if (y == 0) {
			*why = "a division by zero";
			return -1;
		}
		/* INT64_MIN / -1 overflows in C: it wraps here */
		if (y == -1)
			*v = tok == T_DIV ? 0 - a : 0;
		else
			*v = (uint64_t)(tok == T_DIV ? x / y : x % y);
		break;
	default:
		*why = "an unknown operator";
		return -1;
	}
	return 0;
}

static int
where_int(const wnode_t *n, const where_env_t *env, uint64_t *v,
    const char **why)
{
	uint64_t a, b;

	switch (n->wn_kind) {
	case N_NUM:
		*v = n->wn_num;
		return 0;
	case N_VAR:
		if (env->we_int == NULL ||
		    env->we_int(env->we_arg, &n->wn_var, v) != 0) {
			*why = "a variable without a value at this probe";
			return -1;
		}
		return 0;
	case N_UN:
		if (where_int(n->wn_l, env, &a, why) != 0)
			return -1;
		*v = n->wn_tok == T_MINUS ? 0 - a : n->wn_tok == T_TILDE ? ~a :
		    a == 0;
		return 0;
	case N_BIN:
		break;
	default:
		*why = "a string where a number is wanted";
		return -1;
	}
	if (n->wn_l->wn_isstr)
		return where_strop(n, env, v, why);
	if (where_int(n->wn_l, env, &a, why) != 0)
		return -1;
	if (n->wn_tok == T_ANDAND || n->wn_tok == T_OROR) {
		if ((a != 0) == (n->wn_tok == T_OROR)) {
			*v = a != 0;
			return 0;
		}
		if (where_int(n->wn_r, env, &b, why) != 0)
			return -1;
		*v = b != 0;
		return 0;
	}
	if (where_int(n->wn_r, env, &b, why) != 0)
		return -1;
	return where_arith(n->wn_tok, a, b, v, why);
}

int
where_eval(const where_t *w, const where_env_t *env, const char **why)
{
	const char *dummy;
	uint64_t v;

	if (why == NULL)
		why = &dummy;
	if (where_int(w->w_root, env, &v, why) != 0)
		return -1;
	return v != 0;
}

void
where_perror(FILE *f, const char *prefix, const char *expr, const char *msg,
    size_t col)
{
	fprintf(f, "%s: %s at column %zu\n  %s\n  ", prefix, msg, col + 1,
	    expr);
	/* tabs kept, so the caret lines up under them */
	for (size_t i = 0; i < col && expr[i] != '\0'; i++)
		fputc(expr[i] == '\t' ? '\t' : ' ', f);
	fputs("^\n", f);
}
