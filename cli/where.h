/*
 * where.h - `dtproc trace --where EXPR` (where.c): a filter expression
 * compiled once and evaluated at each firing.  The evaluator knows no
 * process: the caller hands it the firing's values through where_env_t,
 * so the unit test drives it with made-up ones.
 */
#ifndef DTPROC_CLI_WHERE_H
#define DTPROC_CLI_WHERE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The integer variables a firing is asked for. */
#define WHERE_V_PID	1
#define WHERE_V_TID	2
#define WHERE_V_ARG	3	/* wv_index: 0..7 */
#define WHERE_V_RETVAL	4
#define WHERE_V_PARAM	5	/* wv_name: a parameter by name (DWARF) */
#define WHERE_V_REG	6	/* wv_name: reg(NAME), a register */

#define WHERE_NARGS	8	/* arg0..arg7 */
#define WHERE_STRMAX	512	/* a string read is bounded: 511 bytes */

typedef struct where_var {
	int wv_kind;		/* WHERE_V_* */
	int wv_index;		/* WHERE_V_ARG */
	const char *wv_name;	/* WHERE_V_PARAM, WHERE_V_REG */
} where_var_t;

typedef struct where_env {
	/* V's value at this firing: 0, or -1 if it has none here. */
	int (*we_int)(void *arg, const where_var_t *v, uint64_t *val);
	/* The NUL-terminated string at ADDR (at most LEN - 1 bytes, cut
	 * there) into BUF: 0, or -1 if unreadable. */
	int (*we_str)(void *arg, uint64_t addr, char *buf, size_t len);
	const char *we_probe;	/* the variable probe */
	void *we_arg;
} where_env_t;

typedef struct where where_t;

/*
 * Compile EXPR: the filter, or NULL with *MSG (static text) and *COL
 * (the byte offset in EXPR it points at) set.
 */
where_t *where_compile(const char *expr, const char **msg, size_t *col);
void where_free(where_t *w);
/*
 * Does W read what only a stopped thread shows: memory (a string, a
 * dereference) or a register?
 */
bool where_needs_stop(const where_t *w);

/*
 * W at one firing: 1 true, 0 false, -1 when it has no value (a variable
 * the firing lacks, a string that cannot be read, a division by zero),
 * with *WHY (static text, may be NULL) saying which.
 */
int where_eval(const where_t *w, const where_env_t *env, const char **why);

/*
 * The error of where_compile on F: "PREFIX: MSG at column N", then EXPR
 * and a caret under column N, each indented by two spaces.
 */
void where_perror(FILE *f, const char *prefix, const char *expr,
    const char *msg, size_t col);

#endif /* DTPROC_CLI_WHERE_H */
