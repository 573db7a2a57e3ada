/*
 * mem.c - memory, registers and mappings of a traced process.
 */
#include "harness.h"

#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

static const char magic[] = "dtproc-magic-0123456789";

/* The mapping of PATH at file offset 0 in PID (its ELF header). */
static uintptr_t
image_base(pid_t pid, const char *path)
{
	pt_map_t *maps;
	size_t n;
	uintptr_t base = 0;

	CHECK_PT(pt_maps_read(pid, &maps, &n));
	for (size_t i = 0; i < n && base == 0; i++) {
		if (maps[i].pm_offset == 0 && maps[i].pm_path != NULL &&
		    strcmp(maps[i].pm_path, path) == 0)
			base = maps[i].pm_start;
	}
	pt_maps_free(maps, n);
	CHECK_MSG(base != 0, "no mapping of %s in %d", path, (int)pid);
	return base;
}

/* Is ADDR in an executable mapping of PATH (NULL: "[stack]", rw)? */
static int
addr_in(pid_t pid, uintptr_t addr, const char *path)
{
	pt_map_t *maps;
	size_t n;
	int in = 0;

	CHECK_PT(pt_maps_read(pid, &maps, &n));
	for (size_t i = 0; i < n; i++) {
		if (addr < maps[i].pm_start || addr >= maps[i].pm_end)
			continue;
		if (path != NULL)
			in = strcmp(maps[i].pm_path, path) == 0 &&
			    (maps[i].pm_prot & PROT_EXEC);
		else
			in = strcmp(maps[i].pm_path, "[stack]") == 0;
	}
	pt_maps_free(maps, n);
	return in;
}

TEST(mem_read_write_data)
{
	char line[256], buf[64];
	uintptr_t maddr, daddr;
	struct victim v;
	pt_proc_t *P;

	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	maddr = line_field(line, "magic");
	daddr = line_field(line, "data");
	P = grab_ok(v.pid, 0);
	memset(buf, 0, sizeof (buf));
	CHECK_EQ_INT(pt_mem_read(P, maddr, buf, sizeof (magic)),
	    sizeof (magic));
	CHECK_STR_EQ(buf, magic);
	CHECK_EQ_INT(pt_mem_read(P, daddr, buf, 9), 9);
	CHECK_STR_EQ(buf, "original");
	CHECK_EQ_INT(pt_mem_write(P, daddr, "patched", 8), 8);
	memset(buf, 0, sizeof (buf));
	CHECK_EQ_INT(pt_mem_read(P, daddr, buf, 8), 8);
	CHECK_STR_EQ(buf, "patched");
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect_eq(&v, "data=", "data=patched");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(mem_write_text)
{
	VICTIM_LOCALS;
	static const unsigned char nops[4] = { 0x90, 0x90, 0x90, 0x90 };
	unsigned char orig[8], back[8];
	uintptr_t addr;

	spawn_ready("bp", (char *[]){ "1", "10", NULL }, &v, line,
	    sizeof (line));
	addr = line_field(line, "bp_target");
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(pt_mem_read(P, addr, orig, 8), 8);
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 8), 1);

	/* Text is read-only to the process; we write it anyway. */
	CHECK_EQ_INT(pt_mem_write(P, addr, nops, 4), 4);
	CHECK_EQ_INT(pt_mem_read(P, addr, back, 8), 8);
	CHECK(memcmp(back, nops, 4) == 0);
	CHECK(memcmp(back + 4, orig + 4, 4) == 0);
	CHECK_EQ_INT(proc_mem_read(v.pid, addr, back, 4), 4);
	CHECK(memcmp(back, nops, 4) == 0);
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 8), 0);

	CHECK_EQ_INT(pt_mem_write(P, addr, orig, 4), 4);
	CHECK_EQ_INT(text_matches_file(v.pid, addr, 16), 1);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect_eq(&v, "sum=", "sum=100");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(mem_read_unmapped)
{
	char line[256], buf[16];
	struct victim v;
	pt_proc_t *P;

	P = spawn_grab("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK(pt_mem_read(P, 0, buf, sizeof (buf)) < 0);
	CHECK(pt_mem_read(P, 4096, buf, sizeof (buf)) < 0);
	CHECK(pt_mem_write(P, 0, buf, sizeof (buf)) < 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "read ");
	CHECK_EXITED(victim_wait(&v), 0);
}

struct reader_arg {
	pt_proc_t *P;
	uintptr_t addr;
	int ok;
};

static void *
reader(void *p)
{
	struct reader_arg *a = p;
	char buf[64];

	for (int i = 0; i < 100; i++) {
		memset(buf, 0, sizeof (buf));
		if (pt_mem_read(a->P, a->addr, buf, sizeof (magic)) !=
		    (ssize_t)sizeof (magic) || strcmp(buf, magic) != 0)
			return NULL;
	}
	a->ok = 1;
	return NULL;
}

TEST(mem_read_other_thread)
{
	struct reader_arg a = { 0 };
	char line[256];
	struct victim v;
	pthread_t t;

	spawn_ready("blocked", (char *[]){ "read", NULL }, &v, line,
	    sizeof (line));
	a.addr = line_field(line, "magic");
	a.P = grab_ok(v.pid, 0);
	CHECK_PT(pt_resume(a.P));
	CHECK_EQ_INT(pthread_create(&t, NULL, reader, &a), 0);
	pthread_join(t, NULL);
	CHECK_MSG(a.ok, "pt_mem_read from another thread failed");
	CHECK_EQ_INT(pt_release(a.P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(mem_read_at_exec_stop)
{
	struct run_counts c;
	unsigned char hdr[4];
	struct victim v;
	pt_proc_t *P;
	int rc, st;

	rc = create_victim("spin", NULL, NULL, NULL, &v, &P);
	CHECK_MSG(rc == 0, "pt_create: %s", err_msg());
	CHECK_EQ_INT(pt_mem_read(P, image_base(v.pid, v.path), hdr, 4), 4);
	CHECK(memcmp(hdr, "\177ELF", 4) == 0);
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	st = run_checked(P, &c);
	CHECK_EXITED(st, 0);
	pt_release(P, PT_RELEASE_DEFAULT);
}

static int
exec_cb(pt_proc_t *P, const pt_event_t *ev, void *arg)
{
	int *nread = arg;
	unsigned char hdr[4];
	char path[PATH_MAX];

	if (ev->pe_kind != PT_EV_EXEC)
		return RUN_DEFAULT;
	/* The memory of the new image, through the same handle. */
	CHECK(realpath(pt_exe(P), path) != NULL);
	CHECK_EQ_INT(pt_mem_read(P, image_base(pt_pid(P), path), hdr, 4), 4);
	CHECK(memcmp(hdr, "\177ELF", 4) == 0);
	(*nread)++;
	return RUN_DEFAULT;
}

TEST(mem_read_after_exec)
{
	VICTIM_LOCALS;
	int nread = 0;

	P = spawn_grab("execer", (char *[]){ "self", "2", NULL }, &v, line,
	    sizeof (line), 0);
	CHECK_PT(pt_resume(P));
	victim_go(&v);
	st = run_events(P, &c, exec_cb, &nread);
	CHECK_RUN(st, &c);
	CHECK_EXITED(st, 0);
	CHECK_EQ_INT(nread, 2);
	pt_release(P, PT_RELEASE_DEFAULT);
}

TEST(regs_rip_in_executable)
{
	VICTIM_LOCALS;
	arch_regs_t regs, again;
	unsigned long count = 0;
	uintptr_t caddr;

	spawn_ready("spin", NULL, &v, line, sizeof (line));
	caddr = line_field(line, "counter");
	/* main() is in its loop once the counter moves. */
	while (count == 0)
		CHECK_EQ_INT(proc_mem_read(v.pid, caddr, &count,
		    sizeof (count)), sizeof (count));
	P = grab_ok(v.pid, 0);
	CHECK_PT(pt_regs_get(P, v.pid, &regs));
	CHECK_MSG(addr_in(v.pid, regs.rip, v.path),
	    "rip %#llx is not in %s's text", regs.rip, v.path);
	CHECK_MSG(addr_in(v.pid, regs.rsp, NULL),
	    "rsp %#llx is not in [stack]", regs.rsp);

	/* Setting what we got changes nothing. */
	CHECK_PT(pt_regs_set(P, v.pid, &regs));
	CHECK_PT(pt_regs_get(P, v.pid, &again));
	CHECK(memcmp(&regs, &again, sizeof (regs)) == 0);

	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "spun");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(regs_every_thread)
{
	VICTIM_LOCALS;
	arch_regs_t regs;
	pid_t tids[16];
	int n;

	P = spawn_grab("threads", (char *[]){ "4", NULL }, &v, line,
	    sizeof (line), 0);
	n = pt_threads(P, tids, 16);
	CHECK_EQ_INT(n, 5);
	for (int i = 0; i < n; i++) {
		memset(&regs, 0, sizeof (regs));
		CHECK_PT(pt_regs_get(P, tids[i], &regs));
		CHECK(regs.rip != 0 && regs.rsp != 0);
	}
	CHECK(pt_regs_get(P, 999999, &regs) < 0);
	CHECK_EQ_INT(pt_release(P, PT_RELEASE_RUN), 0);
	victim_go(&v);
	victim_expect(&v, line, sizeof (line), "result=");
	CHECK_EXITED(victim_wait(&v), 0);
}

TEST(maps_of_self)
{
	char exe[PATH_MAX];
	struct stat sb;
	pt_map_t *maps;
	size_t n;
	int found = 0, stack = 0;
	uintptr_t fn = (uintptr_t)&image_base;

	CHECK(realpath("/proc/self/exe", exe) != NULL);
	CHECK(stat(exe, &sb) == 0);
	CHECK_PT(pt_maps_read(getpid(), &maps, &n));
	CHECK(n > 5);
	for (size_t i = 0; i < n; i++) {
		CHECK(maps[i].pm_start < maps[i].pm_end);
		CHECK(maps[i].pm_path != NULL);
		if (i > 0)
			CHECK(maps[i - 1].pm_end <= maps[i].pm_start);
		if (strcmp(maps[i].pm_path, exe) == 0 &&
		    (maps[i].pm_prot & PROT_EXEC)) {
			CHECK_EQ_INT(maps[i].pm_inode, sb.st_ino);
			CHECK_EQ_INT(maps[i].pm_dev, sb.st_dev);
			CHECK(!maps[i].pm_shared);
			if (fn >= maps[i].pm_start && fn < maps[i].pm_end)
				found = 1;
		}
		if (strcmp(maps[i].pm_path, "[stack]") == 0) {
			stack = 1;
			CHECK_EQ_INT(maps[i].pm_prot & (PROT_READ | PROT_WRITE),
			    PROT_READ | PROT_WRITE);
		}
	}
	pt_maps_free(maps, n);
	CHECK_MSG(found, "our own code %#lx is not in an exec mapping of %s",
	    (unsigned long)fn, exe);
	CHECK(stack);
}
