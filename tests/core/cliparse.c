/*
 * cliparse.c - the CLI's parsers without a process: probe descriptions
 * (cli/desc.c) in both spellings and every error, and --where
 * (cli/where.c): precedence, arithmetic at its edges, strings read
 * through the environment, variables a firing lacks, and each error's
 * column.
 */
#include "harness.h"

#include "../../cli/desc.h"
#include "../../cli/where.h"

/* ---- descriptions ---- */

static desc_t
parse_ok(const char *spec)
{
	desc_t d;
	char why[256] = "";

	if (desc_parse(spec, &d, why, sizeof (why)) != 0)
		FAIL("'%s' rejected: %s", spec, why);
	return d;
}

static void
parse_bad(const char *spec, const char *needle)
{
	desc_t d;
	char why[256] = "";

	if (desc_parse(spec, &d, why, sizeof (why)) == 0)
		FAIL("'%s' accepted", spec);
	if (strstr(why, needle) == NULL)
		FAIL("'%s': '%s' does not say '%s'", spec, why, needle);
	CHECK(d.dd_func == NULL && d.dd_obj == NULL && d.dd_prov == NULL);
}

static void
check_desc(const char *spec, const char *obj, const char *func, int kinds,
    size_t off)
{
	desc_t d = parse_ok(spec);

	if (obj == NULL)
		CHECK_MSG(d.dd_obj == NULL, "%s: object %s", spec, d.dd_obj);
	else
		CHECK_MSG(d.dd_obj != NULL && strcmp(d.dd_obj, obj) == 0,
		    "%s: object %s", spec, d.dd_obj ? d.dd_obj : "(none)");
	CHECK_MSG(strcmp(d.dd_func, func) == 0, "%s: function %s", spec,
	    d.dd_func);
	CHECK_MSG(d.dd_kinds == kinds, "%s: kinds %#x", spec, d.dd_kinds);
	CHECK_MSG(d.dd_off == off, "%s: offset %zu", spec, d.dd_off);
	desc_free(&d);
}

#define E	DTPROC_FP_ENTRY
#define R	DTPROC_FP_RETURN
#define O	DTPROC_FP_OFFSET

TEST(desc_short_forms)
{
	check_desc("malloc", NULL, "malloc", E, 0);
	check_desc("libc.so.6`malloc", "libc.so.6", "malloc", E, 0);
	check_desc("libz*`inflate*", "libz*", "inflate*", E, 0);
	check_desc("malloc:entry", NULL, "malloc", E, 0);
	check_desc("a.out`main:return", "a.out", "main", R, 0);
	check_desc("strlen+0x1a", NULL, "strlen", O, 0x1a);
	check_desc("strlen+1a", NULL, "strlen", O, 0x1a);
	check_desc("libc.so.6`strlen+4", "libc.so.6", "strlen", O, 4);
	check_desc("main+0", NULL, "main", O, 0);
	/* a '+' in the object is no offset */
	check_desc("libstdc++.so.6`_Znwm", "libstdc++.so.6", "_Znwm", E, 0);
	check_desc("libstdc++.so.6`_Znwm+8", "libstdc++.so.6", "_Znwm", O, 8);
	check_desc("libstdc++.so.6`_Znwm:return", "libstdc++.so.6", "_Znwm",
	    R, 0);
	check_desc("pthread_cond_wait@GLIBC_2.2.5", NULL,
	    "pthread_cond_wait@GLIBC_2.2.5", E, 0);
	/* DTrace's short forms: FUNC:NAME with a hex offset, empty name */
	check_desc("strlen:4", NULL, "strlen", O, 4);
	check_desc("malloc:", NULL, "malloc", E | R, 0);
	check_desc("malloc:*", NULL, "malloc", E | R, 0);
	check_desc("malloc:ret*", NULL, "malloc", R, 0);
}

TEST(desc_dtrace_forms)
{
	desc_t d;
	char why[256];

	check_desc("pid$target:libc.so.6:malloc:return", "libc.so.6",
	    "malloc", R, 0);
	check_desc("pid1234:libc.so.6:strlen:4", "libc.so.6", "strlen", O, 4);
	check_desc("pid$target:a.out:main:entry", "a.out", "main", E, 0);
	check_desc("pid$target::malloc:entry", NULL, "malloc", E, 0);
	check_desc("pid$target:libc.so.6::entry", "libc.so.6", "*", E, 0);
	check_desc(":::return", NULL, "*", R, 0);
	check_desc("pid*:libc*:mall*:", "libc*", "mall*", E | R, 0);
	check_desc("libc.so.6:malloc:return", "libc.so.6", "malloc", R, 0);
	check_desc("pid$target:libstdc++.so.6:_Znwm:1f", "libstdc++.so.6",
	    "_Znwm", O, 0x1f);

	/* the provider against the traced pid */
	d = parse_ok("pid$target:a.out:main:entry");
	CHECK(desc_pid_check(&d, 4321, why, sizeof (why)) == 0);
	desc_free(&d);
	d = parse_ok("pid4321:a.out:main:entry");
	CHECK(desc_pid_check(&d, 4321, why, sizeof (why)) == 0);
	CHECK(desc_pid_check(&d, 4322, why, sizeof (why)) == -1);
	CHECK_CONTAINS(why, "pid4321");
	CHECK_CONTAINS(why, "4322");
	desc_free(&d);
	d = parse_ok("pid43*:a.out:main:entry");
	CHECK(desc_pid_check(&d, 4321, why, sizeof (why)) == 0);
	CHECK(desc_pid_check(&d, 5321, why, sizeof (why)) == -1);
	desc_free(&d);
	d = parse_ok("main");
	CHECK(desc_pid_check(&d, 1, why, sizeof (why)) == 0);
	desc_free(&d);
	d = parse_ok(":a.out:main:entry");
	CHECK(desc_pid_check(&d, 1, why, sizeof (why)) == 0);
	desc_free(&d);
}

/* C++ and Rust names: "::" is a scope where DTrace's reading fails */
TEST(desc_scoped_names)
{
	check_desc("ns::Foo::bar*", NULL, "ns::Foo::bar*", E, 0);
	check_desc("ns::bar", NULL, "ns::bar", E, 0);
	check_desc("mycrate::foo", NULL, "mycrate::foo", E, 0);
	check_desc("ns::*", NULL, "ns::*", E, 0);
	check_desc("libc.so.6::*", "libc.so.6", "*", E | R, 0);
	parse_bad("ns::foo:entry", "provider 'ns'");
	check_desc("ns::Foo::bar:return", NULL, "ns::Foo::bar", R, 0);
	check_desc("a.out`ns::Foo::bar(int)", "a.out", "ns::Foo::bar(int)",
	    E, 0);
	check_desc("a.out`ns::foo:return", "a.out", "ns::foo", R, 0);
	check_desc("ns::foo+0x4", NULL, "ns::foo", O, 4);
	check_desc("pid$target:a.out:ns::Foo::bar:entry", "a.out",
	    "ns::Foo::bar", E, 0);
	/* DTrace's empty fields keep their meaning */
	check_desc("pid$target::malloc:entry", NULL, "malloc", E, 0);
	check_desc("libc.so.6::entry", "libc.so.6", "*", E, 0);
	parse_bad("ns::Foo::bar:exit", "unknown probe name 'exit'");
}

TEST(desc_errors)
{
	parse_bad("", "empty probe");
	parse_bad("a`b`c", "more than one '`'");
	parse_bad("`foo", "empty object");
	parse_bad("foo`", "empty function");
	parse_bad("`", "empty object");
	parse_bad("strlen+", "not a hex number");
	parse_bad("strlen+0x", "not a hex number");
	parse_bad("strlen+zz", "'zz' is not a hex number");
	parse_bad("strlen+1a:return", "both '+OFFSET' and ':NAME'");
	parse_bad("strlen+11112222333344445", "not a hex number");
	parse_bad("+4", "no function before '+'");
	parse_bad("libc.so.6`+4", "no function before '+'");
	parse_bad("malloc:exit", "unknown probe name 'exit'");
	parse_bad("malloc:4g", "unknown probe name '4g'");
	parse_bad("malloc:x*", "matches neither entry nor return");
	parse_bad("a:b:c:d:e", "more than four");
	parse_bad("syscall:libc.so.6:malloc:entry", "provider 'syscall'");
	parse_bad("pid:libc.so.6:malloc:entry", "provider 'pid'");
	parse_bad("pid0:libc.so.6:malloc:entry", "provider 'pid0'");
	parse_bad("pid12x:libc.so.6:malloc:entry", "provider 'pid12x'");
	parse_bad("pid$target:libc.so.6`x:malloc:entry", "'`' in DTrace's");
	parse_bad("libc`malloc:entry:x", "'`' in DTrace's");
	parse_bad("`malloc:return", "empty object");
}

/* A USDT description: object, provider, name, function, pid. */
static void
check_usdt(const char *spec, const char *obj, const char *prov,
    const char *name, const char *func, pid_t pid)
{
	desc_t d = parse_ok(spec);

	CHECK_MSG(d.dd_kinds == DESC_USDT, "%s: kinds %#x", spec, d.dd_kinds);
	CHECK_MSG((obj == NULL && d.dd_obj == NULL) || (obj != NULL &&
	    d.dd_obj != NULL && strcmp(obj, d.dd_obj) == 0), "%s: object %s",
	    spec, d.dd_obj ? d.dd_obj : "(none)");
	CHECK_MSG((func == NULL && d.dd_func == NULL) || (func != NULL &&
	    d.dd_func != NULL && strcmp(func, d.dd_func) == 0),
	    "%s: function %s", spec, d.dd_func ? d.dd_func : "(none)");
	CHECK_MSG(strcmp(d.dd_uprov, prov) == 0, "%s: provider %s", spec,
	    d.dd_uprov);
	CHECK_MSG(strcmp(d.dd_uname, name) == 0, "%s: name %s", spec,
	    d.dd_uname);
	CHECK_MSG(d.dd_upid == pid, "%s: pid %d", spec, (int)d.dd_upid);
	desc_free(&d);
}

TEST(desc_usdt)
{
	char why[256];
	desc_t d;

	check_usdt("usdt:python:function__entry", NULL, "python",
	    "function__entry", NULL, 0);
	check_usdt("usdt:libpython*`py*:*entry", "libpython*", "py*",
	    "*entry", NULL, 0);
	check_usdt("usdt:*", NULL, "*", "*", NULL, 0);
	check_usdt("usdt:", NULL, "*", "*", NULL, 0);
	check_usdt("usdt:python:", NULL, "python", "*", NULL, 0);
	check_usdt("python$target:::function-entry", NULL, "python",
	    "function__entry", NULL, 0);
	check_usdt("python1234:python3.11:_PyEval*:gc-start", "python3.11",
	    "python", "gc__start", "_PyEval*", 1234);
	check_usdt("py*:::", NULL, "py*", "*", NULL, 0);
	/* the pid provider stays the pid provider */
	check_desc("pid$target:libc.so.6:malloc:entry", "libc.so.6", "malloc",
	    E, 0);
	check_desc("pid12::malloc:", NULL, "malloc", E | R, 0);
	check_desc("pid4*::malloc:entry", NULL, "malloc", E, 0);
	parse_bad("python:::entry", "provider 'python'");
	check_desc("*:libc.so.6:malloc:entry", "libc.so.6", "malloc", E, 0);
	parse_bad("usdt:a:b:c", "more than PROVIDER:NAME");
	parse_bad("usdt:`a:b", "bad object");
	parse_bad("usdt:x`y`a:b", "bad object");
	parse_bad("python$target:a`b::x", "'`'");
	d = parse_ok("python77:::x");
	CHECK(desc_pid_check(&d, 77, why, sizeof (why)) == 0);
	CHECK(desc_pid_check(&d, 78, why, sizeof (why)) != 0);
	CHECK_CONTAINS(why, "python77");
	desc_free(&d);
	CHECK(desc_label(why, sizeof (why), "python:gc__start", DESC_USDT, 0,
	    1) > 0);
	CHECK_STR_EQ(why, "python:gc__start");
}

TEST(desc_labels)
{
	char b[64];

	desc_label(b, sizeof (b), "malloc", E, 0, 0);
	CHECK_STR_EQ(b, "malloc");
	desc_label(b, sizeof (b), "malloc", E, 0, 1);
	CHECK_STR_EQ(b, "malloc:entry");
	desc_label(b, sizeof (b), "malloc", R, 0, 0);
	CHECK_STR_EQ(b, "malloc:return");
	desc_label(b, sizeof (b), "strlen", O, 4, 0);
	CHECK_STR_EQ(b, "strlen+0x4");
	desc_label(b, sizeof (b), "strlen", O, 0, 0);
	CHECK_STR_EQ(b, "strlen+0x0");
}

/* ---- --where ---- */

/* A made-up firing: pid 100, tid 101, argN = N * 10 (arg7 missing),
 * retval -1, parameter size = 24, strings at 0x1000 and 0x2000. */
static int
env_int(void *arg, const where_var_t *v, uint64_t *val)
{
	(void) arg;
	switch (v->wv_kind) {
	case WHERE_V_PID:	*val = 100;	return 0;
	case WHERE_V_TID:	*val = 101;	return 0;
	case WHERE_V_RETVAL:	*val = (uint64_t)-1;	return 0;
	case WHERE_V_ARG:
		if (v->wv_index == 7)
			return -1;
		*val = (uint64_t)v->wv_index * 10;
		if (v->wv_index == 1)
			*val = 0x1000;
		if (v->wv_index == 2)
			*val = 0x2000;
		return 0;
	case WHERE_V_PARAM:
		if (strcmp(v->wv_name, "size") != 0)
			return -1;
		*val = 24;
		return 0;
	case WHERE_V_REG:
		if (strcmp(v->wv_name, "rdi") != 0)
			return -1;
		*val = 7;
		return 0;
	}
	return -1;
}

static int
env_str(void *arg, uint64_t addr, char *buf, size_t len)
{
	(void) arg;
	if (addr == 0x1000)
		snprintf(buf, len, "/etc/passwd");
	else if (addr == 0x2000)
		snprintf(buf, len, "hello");
	else
		return -1;
	return 0;
}

static const where_env_t env = { env_int, env_str, "malloc:return", NULL };

/* EXPR's value at the made-up firing: 1, 0, -1. */
static int
ev(const char *expr)
{
	const char *msg = NULL;
	size_t col = 0;
	where_t *w = where_compile(expr, &msg, &col);
	int r;

	if (w == NULL)
		FAIL("'%s' rejected: %s at %zu", expr, msg, col);
	r = where_eval(w, &env, NULL);
	where_free(w);
	return r;
}

#define TRUE_(e)	CHECK_MSG(ev(e) == 1, "'%s' is not true", e)
#define FALSE_(e)	CHECK_MSG(ev(e) == 0, "'%s' is not false", e)
#define NOVAL(e)	CHECK_MSG(ev(e) == -1, "'%s' has a value", e)

TEST(where_arith)
{
	TRUE_("1");
	FALSE_("0");
	TRUE_("1 + 2 * 3 == 7");
	TRUE_("(1 + 2) * 3 == 9");
	TRUE_("10 - 3 - 2 == 5");		/* left associative */
	TRUE_("100 / 10 / 5 == 2");
	TRUE_("17 % 5 == 2");
	TRUE_("-7 / 2 == -3 && -7 % 2 == -1");	/* C's truncation */
	TRUE_("1 << 4 == 16 && 256 >> 4 == 16");
	TRUE_("-16 >> 2 == -4");		/* arithmetic shift */
	TRUE_("1 << 64 == 1");			/* count modulo 64 */
	TRUE_("(6 & 3) == 2 && (6 | 3) == 7 && (6 ^ 3) == 5");
	TRUE_("5 & 3 == 3");			/* == binds tighter: 5 & 1 */
	FALSE_("5 & 3 == 1");			/* 5 & 0; (5 & 3) == 1 is true */
	TRUE_("~0 == -1 && -(-5) == 5 && !0 && !!7 == 1");
	TRUE_("0x1f == 31 && 0XFF == 255");
	TRUE_("18446744073709551615 == -1");
	TRUE_("-9223372036854775807 - 1 < 0");
	TRUE_("(-9223372036854775807 - 1) / -1 == -9223372036854775807 - 1");
	TRUE_("(-9223372036854775807 - 1) % -1 == 0");
	TRUE_("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 3 && 1 != 2");
	TRUE_("-1 < 0");			/* signed */
	TRUE_("1 || 0 && 0");			/* && binds tighter */
	FALSE_("(1 || 0) && 0");
	NOVAL("1 / 0");
	NOVAL("1 % (2 - 2)");
}

TEST(where_vars)
{
	TRUE_("pid == 100 && tid == 101");
	TRUE_("arg0 == 0 && arg3 == 30 && arg6 == 60");
	TRUE_("retval == -1 && retval < 0");
	TRUE_("size == 24 && size > 16");
	TRUE_("reg(rdi) == 7");
	TRUE_("reg( rdi ) == 7");
	/* a variable the firing lacks: no value, unless short-circuited */
	NOVAL("arg7 == 0");
	NOVAL("bytes == 3");
	NOVAL("reg(xmm0) == 0");
	TRUE_("1 || arg7 == 0");
	FALSE_("0 && arg7 == 0");
	NOVAL("arg7 == 0 || 1");
}

TEST(where_strings)
{
	TRUE_("probe == \"malloc:return\"");
	TRUE_("\"malloc:return\" == probe");
	FALSE_("probe != \"malloc:return\"");
	TRUE_("probe ~ \"malloc:*\"");
	TRUE_("probe ~ \"*:return\" && !(probe ~ \"*:entry\")");
	TRUE_("arg1 == \"/etc/passwd\"");
	TRUE_("arg1 ~ \"/etc/*\"");
	FALSE_("arg1 ~ \"/usr/*\"");
	TRUE_("arg2 != \"hell\" && arg2 == \"hello\"");
	TRUE_("arg1 != arg2");
	TRUE_("\"a\\\"b\" == \"a\\\"b\"");
	TRUE_("\"x\" ~ \"[xy]\"");
	/* a pointer that cannot be read, or NULL: no value */
	NOVAL("arg3 == \"x\"");
	NOVAL("arg0 ~ \"*\"");
	/* ~ after an operand is the match, at the start bitwise not */
	TRUE_("~1 == -2 && probe ~ \"m*\"");
}

/* EXPR is rejected with a message containing NEEDLE at column COL. */
static void
bad(const char *expr, const char *needle, size_t col)
{
	const char *msg = NULL;
	size_t c = 999;
	where_t *w = where_compile(expr, &msg, &c);

	if (w != NULL) {
		where_free(w);
		FAIL("'%s' accepted", expr);
	}
	CHECK_MSG(strstr(msg, needle) != NULL, "'%s': '%s' lacks '%s'", expr,
	    msg, needle);
	CHECK_MSG(c == col, "'%s': column %zu, want %zu (%s)", expr, c, col,
	    msg);
}

TEST(where_errors)
{
	bad("", "empty expression", 0);
	bad("   ", "empty expression", 0);
	bad("arg0 >", "expected a value before the end", 6);
	bad("arg0 > (3 + 4", "expected ')' before the end", 13);
	bad("arg0 3", "expected an operator", 5);
	bad("arg0 == 3)", "')' without '('", 9);
	bad("arg0 = 3", "'=' is no operator", 5);
	bad("arg0 == 3 @", "unexpected character", 10);
	bad("arg8 == 0", "arg0 to arg7", 0);
	bad("arg12 == 0", "arg0 to arg7", 0);
	bad("probe", "a string is no condition", 0);
	bad("probe + 1", "a string cannot be an operand", 0);
	bad("1 + \"x\"", "a string cannot be an operand", 4);
	bad("-probe == 1", "a string cannot be an operand", 0);
	bad("probe == \"x", "string not closed", 9);
	bad("probe == \"a\\qb\"", "unknown escape", 11);
	bad("010 == 8", "leading 0", 0);
	bad("0x == 0", "bad number", 0);
	bad("12ab == 0", "bad number", 0);
	bad("99999999999999999999 == 0", "too large", 0);
	bad("glob(arg0, \"x\")", "unknown function", 0);
	bad("reg(1)", "expected a register name", 4);
	bad("reg(rdi", "expected ')'", 7);
	bad("( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( "
	    "( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( "
	    "( 1", "nested too deep", 128);
}

TEST(where_caret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	where_perror(f, "dtproc: trace: bad --where", "arg0 >\t(3", "x", 7);
	fclose(f);
	CHECK_STR_EQ(buf, "dtproc: trace: bad --where: x at column 8\n"
	    "  arg0 >\t(3\n"
	    "        \t^\n");
	free(buf);
}
