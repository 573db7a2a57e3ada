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

/* symnamesv running and grabbed (controlled): the test's context. */
struct names {
	dtproc_t *dtp;
	dtproc_proc_t *pr;
	struct victim v;
	char line[1024];	/* its ready line */
};

static void
names_grab(struct names *c)
{
	c->dtp = open_ok();
	spawn_victim("symnamesv", NULL, &c->v);
	victim_ready(&c->v, c->line, sizeof (c->line));
	c->pr = dtproc_grab(c->dtp, c->v.pid, 0);
	CHECK_MSG(c->pr != NULL, "dtproc_grab(%d): %s", (int)c->v.pid,
	    dtproc_errmsg(c->dtp));
	dtproc_continue(c->dtp, c->pr);
}

/* The address the victim printed for KEY. */
static uintptr_t
names_field(const struct names *c, const char *key)
{
	return line_field(c->line, key);
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
names_end(struct names *c)
{
	int st;

	dtproc_release(c->dtp, c->pr);
	dtproc_close(c->dtp);
	victim_close(&c->v);
	st = victim_wait(&c->v);
	CHECK_EXITED(st, 0);
}

TEST(version_plain_name_is_the_default)
{
	struct names c;
	dtproc_sym_t s;
	struct seen w;

	names_grab(&c);

	names_lookup(c.dtp, c.pr, "libc.so.6`pthread_cond_wait", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "wait"));
	CHECK_STR_EQ(s.ds_version != NULL ? s.ds_version : "(none)",
	    "GLIBC_2.3.2");
	CHECK(!(s.ds_flags & DTPROC_SYM_COMPAT));
	names_lookup(c.dtp, c.pr, "pthread_cond_signal", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "signal"));

	/* NAME@VERSION: that version; NAME@@VERSION: only if the default */
	names_lookup(c.dtp, c.pr, "libc`pthread_cond_wait@GLIBC_2.2.5", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "wait_compat"));
	CHECK(s.ds_flags & DTPROC_SYM_COMPAT);
	names_lookup(c.dtp, c.pr, "pthread_cond_signal@GLIBC_2.2.5", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "signal_compat"));
	names_lookup(c.dtp, c.pr, "pthread_cond_wait@@GLIBC_2.3.2", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "wait"));
	names_lookup(c.dtp, c.pr, "pthread_cond_wait@GLIBC_2.3.2", &s);
	CHECK_ADDR_EQ(s.ds_addr, names_field(&c, "wait"));
	CHECK_EQ_INT(dtproc_sym_lookup(c.dtp, c.pr,
	    "pthread_cond_wait@@GLIBC_2.2.5", &s), -ENOENT);
	CHECK_EQ_INT(dtproc_sym_lookup(c.dtp, c.pr,
	    "pthread_cond_wait@GLIBC_9.9", &s), -ENOENT);

	/* a glob on the base name: the default alone; with '@' versions */
	static const struct {
		const char *glob;
		const char *want[2];	/* the victim's keys, NULL: none */
	} walks[] = {
		{ "pthread_cond_wait", { "wait", NULL } },
		{ "pthread_cond_[sw]*", { "wait", "signal" } },
		{ "pthread_cond_wait@GLIBC_2.2.5", { "wait_compat", NULL } },
		{ "pthread_cond_wait@*", { "wait_compat", "wait" } },
		{ "pthread_cond_wait@@*", { "wait", NULL } },
	};
	for (size_t i = 0; i < sizeof (walks) / sizeof (walks[0]); i++) {
		names_walk(c.dtp, c.pr, "libc.so.6", walks[i].glob, &w);
		CHECK_EQ_INT(w.n, walks[i].want[1] != NULL ? 2 : 1);
		for (int k = 0; k < 2 && walks[i].want[k] != NULL; k++)
			CHECK_MSG(seen_has(&w, names_field(&c,
			    walks[i].want[k])), "%s: not %s", walks[i].glob,
			    walks[i].want[k]);
	}
	names_walk(c.dtp, c.pr, "libc.so.6", "pthread_cond_wait@GLIBC_2.2.5",
	    &w);
	CHECK(w.flags[0] & DTPROC_SYM_COMPAT);
	names_end(&c);
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
	struct names c;
	char buf[64];
	const char *names[] = { "libc.so.6`strlen", "libc.so.6`memcpy" };
	const char *keys[] = { "strlen", "memcpy" };
	long hits[2] = { 0, 0 };
	dtproc_sym_t s;
	struct seen w;

	names_grab(&c);

	for (int i = 0; i < 2; i++) {
		names_lookup(c.dtp, c.pr, names[i], &s);
		CHECK_ADDR_EQ(s.ds_addr, names_field(&c, keys[i]));
		CHECK(s.ds_flags & DTPROC_SYM_IFUNC);
		CHECK(!(s.ds_flags & DTPROC_SYM_RESOLVER));
		/* named as asked (.symtab's name may carry "@@VERSION") */
		CHECK(strncmp(s.ds_name, keys[i], strlen(keys[i])) == 0 &&
		    strchr("@", s.ds_name[strlen(keys[i])]) != NULL);
		CHECK(s.ds_size > 0);
		tinfo("%s: %s at %#lx", names[i], s.ds_impl != NULL ?
		    s.ds_impl : "(no name)", (unsigned long)s.ds_addr);
		/* a walk gives the implementation too, never the resolver */
		names_walk(c.dtp, c.pr, "libc.so.6", keys[i], &w);
		CHECK_EQ_INT(w.n, 1);
		CHECK_ADDR_EQ(w.addr[0], s.ds_addr);
		CHECK(w.flags[0] & DTPROC_SYM_IFUNC);
		CHECK_EQ_INT(dtproc_bkpt_add(c.dtp, c.pr, s.ds_addr, names_count,
		    &hits[i]), 0);
	}
	/* every call the program makes reaches the site */
	victim_send(&c.v, "c 100\n");
	victim_expect(&c.v, buf, sizeof (buf), "done");
	CHECK_EQ_INT(names_hits(c.dtp, c.pr, &hits[0]), 100);
	CHECK_EQ_INT(names_hits(c.dtp, c.pr, &hits[1]), 100);
	names_end(&c);
}

TEST(alias_found_by_any_name_once)
{
	struct names c;
	uintptr_t target;
	dtproc_sym_t s;
	struct seen w;

	names_grab(&c);
	target = names_field(&c, "target");

	names_lookup(c.dtp, c.pr, "a.out`names_alias", &s);
	CHECK_ADDR_EQ(s.ds_addr, target);
	names_walk(c.dtp, c.pr, "a.out", "names_alias", &w);
	CHECK_EQ_INT(w.n, 1);
	CHECK_ADDR_EQ(w.addr[0], target);
	CHECK_STR_EQ(w.name[0], "names_alias");
	names_walk(c.dtp, c.pr, "a.out", "names_*", &w);
	CHECK_EQ_INT(w.n, 2);	/* names_target (= names_alias), names_calls */
	CHECK(seen_has(&w, target));
	names_end(&c);
}

TEST(namesakes_are_two_functions)
{
	struct names c;
	struct seen w;

	names_grab(&c);

	names_walk(c.dtp, c.pr, "a.out", "twin", &w);
	CHECK_EQ_INT(w.n, 2);
	CHECK(seen_has(&w, names_field(&c, "twin_a")));
	CHECK(seen_has(&w, names_field(&c, "twin_b")));
	CHECK_STR_EQ(w.name[0], "twin");
	CHECK_STR_EQ(w.name[1], "twin");
	names_end(&c);
}
