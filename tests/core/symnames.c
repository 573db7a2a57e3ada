/*
 * symnames.c - names that are not one symbol at one address, through the
 * public API on symnamesv (tests/victims/symnamesv.c), which prints the
 * addresses it calls itself:
 *   versions: a plain name is the default version (what the program
 *   calls), NAME@VERSION another, NAME@@VERSION the default only, globs
 *   take the default alone; and the same read from .dynsym's version
 *   sections (a copy of libc without its debug file);
 *   IFUNCs: strlen and memcpy are the implementations libc chose, and a
 *   breakpoint there counts every call the program makes;
 *   aliases: any alias's name finds the one function, once;
 *   namesakes: two local functions of one name are two functions.
 */
#include "symtest.h"
#include "sym/sym_impl.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <gnu/lib-names.h>
#include <sys/stat.h>

/* symnamesv running, grabbed (controlled), its ready line in LINE. */
static dtproc_proc_t *
names_grab(dtproc_t *dtp, struct victim *v, char *line, size_t n)
{
	dtproc_proc_t *pr;

	spawn_victim("symnamesv", NULL, v);
	victim_ready(v, line, n);
	pr = dtproc_grab(dtp, v->pid, 0);
	CHECK_MSG(pr != NULL, "dtproc_grab(%d): %s", (int)v->pid,
	    dtproc_errmsg(dtp));
	dtproc_continue(dtp, pr);
	return pr;
}

static void
names_lookup(dtproc_t *dtp, dtproc_proc_t *pr, const char *name,
    dtproc_sym_t *s)
{
	int rc;

	memset(s, 0, sizeof (*s));
	rc = dtproc_sym_lookup(dtp, pr, name, s);
	CHECK_MSG(rc == 0, "dtproc_sym_lookup(%s): %d: %s", name, rc,
	    dtproc_errmsg(dtp));
}

/* What a walk saw: how many calls, the addresses, flags and names. */
struct seen {
	int n;
	uintptr_t addr[16];
	int flags[16];
	char name[16][128];
};

static int
seen_one(const dtproc_sym_t *s, void *arg)
{
	struct seen *w = arg;

	if (w->n < 16) {
		w->addr[w->n] = s->ds_addr;
		w->flags[w->n] = s->ds_flags;
		snprintf(w->name[w->n], sizeof (w->name[0]), "%s",
		    s->ds_name != NULL ? s->ds_name : "?");
	}
	w->n++;
	return 0;
}

static void
names_walk(dtproc_t *dtp, dtproc_proc_t *pr, const char *obj,
    const char *glob, struct seen *w)
{
	int rc;

	memset(w, 0, sizeof (*w));
	rc = dtproc_sym_iter(dtp, pr, obj, glob, seen_one, w);
	CHECK_MSG(rc == 0, "dtproc_sym_iter(%s, %s): %d: %s", obj, glob, rc,
	    dtproc_errmsg(dtp));
}

static bool
seen_has(const struct seen *w, uintptr_t addr)
{
	for (int i = 0; i < w->n && i < 16; i++)
		if (w->addr[i] == addr)
			return true;
	return false;
}

static void
names_end(dtproc_t *dtp, dtproc_proc_t *pr, struct victim *v)
{
	int st;

	dtproc_release(dtp, pr);
	dtproc_close(dtp);
	victim_close(v);
	st = victim_wait(v);
	CHECK_EXITED(st, 0);
}

TEST(version_plain_name_is_the_default)
{
	dtproc_t *dtp = dt_open_ok();
	char line[1024];
	struct victim v;
	dtproc_proc_t *pr = names_grab(dtp, &v, line, sizeof (line));
	dtproc_sym_t s;
	struct seen w;

	names_lookup(dtp, pr, "libc.so.6`pthread_cond_wait", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "wait"));
	CHECK_STR_EQ(s.ds_version != NULL ? s.ds_version : "(none)",
	    "GLIBC_2.3.2");
	CHECK(!(s.ds_flags & DTPROC_SYM_COMPAT));
	names_lookup(dtp, pr, "pthread_cond_signal", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "signal"));

	/* NAME@VERSION: that version; NAME@@VERSION: only if the default */
	names_lookup(dtp, pr, "libc`pthread_cond_wait@GLIBC_2.2.5", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "wait_compat"));
	CHECK(s.ds_flags & DTPROC_SYM_COMPAT);
	names_lookup(dtp, pr, "pthread_cond_signal@GLIBC_2.2.5", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "signal_compat"));
	names_lookup(dtp, pr, "pthread_cond_wait@@GLIBC_2.3.2", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "wait"));
	names_lookup(dtp, pr, "pthread_cond_wait@GLIBC_2.3.2", &s);
	CHECK_ADDR_EQ(s.ds_addr, line_field(line, "wait"));
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr,
	    "pthread_cond_wait@@GLIBC_2.2.5", &s), -ENOENT);
	CHECK_EQ_INT(dtproc_sym_lookup(dtp, pr,
	    "pthread_cond_wait@GLIBC_9.9", &s), -ENOENT);

	/* a glob on the base name: the default alone */
	names_walk(dtp, pr, "libc.so.6", "pthread_cond_wait", &w);
	CHECK_EQ_INT(w.n, 1);
	CHECK_ADDR_EQ(w.addr[0], line_field(line, "wait"));
	names_walk(dtp, pr, "libc.so.6", "pthread_cond_[sw]*", &w);
	CHECK_EQ_INT(w.n, 2);
	CHECK(seen_has(&w, line_field(line, "wait")));
	CHECK(seen_has(&w, line_field(line, "signal")));
	/* with '@': the versioned names */
	names_walk(dtp, pr, "libc.so.6", "pthread_cond_wait@GLIBC_2.2.5", &w);
	CHECK_EQ_INT(w.n, 1);
	CHECK_ADDR_EQ(w.addr[0], line_field(line, "wait_compat"));
	CHECK(w.flags[0] & DTPROC_SYM_COMPAT);
	names_walk(dtp, pr, "libc.so.6", "pthread_cond_wait@*", &w);
	CHECK_EQ_INT(w.n, 2);
	CHECK(seen_has(&w, line_field(line, "wait_compat")));
	CHECK(seen_has(&w, line_field(line, "wait")));
	names_walk(dtp, pr, "libc.so.6", "pthread_cond_wait@@*", &w);
	CHECK_EQ_INT(w.n, 1);
	CHECK_ADDR_EQ(w.addr[0], line_field(line, "wait"));
	names_end(dtp, pr, &v);
}

/* LIBC's path, as this test program maps it. */
static const char *
libc_path(void)
{
	static char path[4096];
	Dl_info di;
	void *h = dlopen(LIBC_SO, RTLD_NOW | RTLD_NOLOAD);

	CHECK(h != NULL && dladdr(dlsym(h, "malloc"), &di) != 0);
	snprintf(path, sizeof (path), "%s", di.dli_fname);
	dlclose(h);
	return path;
}

/*
 * .dynsym names carry no version: .gnu.version and .gnu.version_d say it.
 * A copy of libc without build-id and debug link has only .dynsym; its
 * answers must be those of the real libc's best table.
 */
TEST(version_from_dynsym)
{
	char dir[] = "/tmp/dtproc-symnames.XXXXXX", copy[4200], cmd[9000];
	const char *objcopy = getenv("OBJCOPY");
	const char *libc = libc_path();
	sym_file_t *D, *F;
	const sym_entry_t *a, *b, *c;
	int err = 0;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(copy, sizeof (copy), "%s/libc.so", dir);
	snprintf(cmd, sizeof (cmd), "%s --remove-section=.note.gnu.build-id "
	    "--remove-section=.gnu_debuglink --strip-debug '%s' '%s' "
	    "2>/dev/null", objcopy != NULL ? objcopy : "objcopy", libc, copy);
	if (system(cmd) != 0 || stat(copy, &st) != 0) {
		snprintf(cmd, sizeof (cmd), "rm -rf '%s'", dir);
		(void) system(cmd);
		SKIP("objcopy cannot copy %s", libc);
	}
	D = sym_file_get(getpid(), 0, 0, copy, 0, 0, &err);
	F = sym_file_get(getpid(), 0, 0, libc, 0, 0, &err);
	snprintf(cmd, sizeof (cmd), "rm -rf '%s'", dir);
	(void) system(cmd);
	CHECK_MSG(D != NULL && F != NULL, "sym_file_get: %d", err);
	CHECK_STR_EQ(D->sf_source, "dynsym");

	a = sym_file_by_name(D, "pthread_cond_wait");
	b = sym_file_by_name(F, "pthread_cond_wait");
	CHECK(a != NULL && b != NULL);
	CHECK_ADDR_EQ(a->se_value, b->se_value);
	CHECK(!a->se_hidden && a->se_ver != SYM_NOVER);
	CHECK_STR_EQ(D->sf_strs + a->se_ver, "GLIBC_2.3.2");
	c = sym_file_by_name(D, "pthread_cond_wait@GLIBC_2.2.5");
	CHECK(c != NULL && c->se_hidden && c->se_value != a->se_value);
	CHECK_ADDR_EQ(c->se_value,
	    sym_file_by_name(F, "pthread_cond_wait@GLIBC_2.2.5")->se_value);
	CHECK(sym_file_by_name(D, "pthread_cond_wait@@GLIBC_2.2.5") == NULL);
	/* an IFUNC's slot comes from the object's relocations either way */
	a = sym_file_by_name(D, "strlen");
	CHECK(a != NULL && a->se_type == STT_GNU_IFUNC);
	CHECK(sym_file_irel(D, a->se_value) != NULL);
	CHECK(sym_file_irel(F, a->se_value) != NULL);
	CHECK_ADDR_EQ(sym_file_irel(D, a->se_value)->ir_slot,
	    sym_file_irel(F, a->se_value)->ir_slot);
	sym_file_rele(D);
	sym_file_rele(F);
}

/* A breakpoint callback: one more hit (control thread, handle locked). */
static void
names_count(dtproc_t *dtp, dtproc_proc_t *pr, pid_t tid, uintptr_t addr,
    void *arg)
{
	(void) dtp;
	(void) pr;
	(void) tid;
	(void) addr;
	(*(long *)arg)++;
}

/* Hits counted under the handle's lock, where the callbacks run. */
static long
names_hits(dtproc_t *dtp, dtproc_proc_t *pr, const long *n)
{
	long v;

	dtproc_lock(dtp, pr);
	v = *n;
	dtproc_unlock(dtp, pr);
	return v;
}

TEST(ifunc_is_the_chosen_implementation)
{
	dtproc_t *dtp = dt_open_ok();
	char line[1024], buf[64];
	struct victim v;
	dtproc_proc_t *pr = names_grab(dtp, &v, line, sizeof (line));
	const char *names[] = { "libc.so.6`strlen", "libc.so.6`memcpy" };
	const char *keys[] = { "strlen", "memcpy" };
	long hits[2] = { 0, 0 };
	dtproc_sym_t s;
	struct seen w;

	for (int i = 0; i < 2; i++) {
		names_lookup(dtp, pr, names[i], &s);
		CHECK_ADDR_EQ(s.ds_addr, line_field(line, keys[i]));
		CHECK(s.ds_flags & DTPROC_SYM_IFUNC);
		CHECK(!(s.ds_flags & DTPROC_SYM_RESOLVER));
		/* named as asked (.symtab's name may carry "@@VERSION") */
		CHECK(strncmp(s.ds_name, keys[i], strlen(keys[i])) == 0 &&
		    strchr("@", s.ds_name[strlen(keys[i])]) != NULL);
		CHECK(s.ds_size > 0);
		tinfo("%s: %s at %#lx", names[i], s.ds_impl != NULL ?
		    s.ds_impl : "(no name)", (unsigned long)s.ds_addr);
		/* a walk gives the implementation too, never the resolver */
		names_walk(dtp, pr, "libc.so.6", keys[i], &w);
		CHECK_EQ_INT(w.n, 1);
		CHECK_ADDR_EQ(w.addr[0], s.ds_addr);
		CHECK(w.flags[0] & DTPROC_SYM_IFUNC);
		CHECK_EQ_INT(dtproc_bkpt_add(dtp, pr, s.ds_addr, names_count,
		    &hits[i]), 0);
	}
	/* every call the program makes reaches the site */
	victim_send(&v, "c 100\n");
	victim_expect(&v, buf, sizeof (buf), "done");
	CHECK_EQ_INT(names_hits(dtp, pr, &hits[0]), 100);
	CHECK_EQ_INT(names_hits(dtp, pr, &hits[1]), 100);
	names_end(dtp, pr, &v);
}

TEST(alias_found_by_any_name_once)
{
	dtproc_t *dtp = dt_open_ok();
	char line[1024];
	struct victim v;
	dtproc_proc_t *pr = names_grab(dtp, &v, line, sizeof (line));
	uintptr_t target = line_field(line, "target");
	dtproc_sym_t s;
	struct seen w;

	names_lookup(dtp, pr, "a.out`names_alias", &s);
	CHECK_ADDR_EQ(s.ds_addr, target);
	names_walk(dtp, pr, "a.out", "names_alias", &w);
	CHECK_EQ_INT(w.n, 1);
	CHECK_ADDR_EQ(w.addr[0], target);
	CHECK_STR_EQ(w.name[0], "names_alias");
	names_walk(dtp, pr, "a.out", "names_*", &w);
	CHECK_EQ_INT(w.n, 2);	/* names_target (= names_alias), names_calls */
	CHECK(seen_has(&w, target));
	names_end(dtp, pr, &v);
}

TEST(namesakes_are_two_functions)
{
	dtproc_t *dtp = dt_open_ok();
	char line[1024];
	struct victim v;
	dtproc_proc_t *pr = names_grab(dtp, &v, line, sizeof (line));
	struct seen w;

	names_walk(dtp, pr, "a.out", "twin", &w);
	CHECK_EQ_INT(w.n, 2);
	CHECK(seen_has(&w, line_field(line, "twin_a")));
	CHECK(seen_has(&w, line_field(line, "twin_b")));
	CHECK_STR_EQ(w.name[0], "twin");
	CHECK_STR_EQ(w.name[1], "twin");
	names_end(dtp, pr, &v);
}
