/*
 * page.c - the shared page and trampoline slots: the page made in the
 * tracee and seen by us, counters written by the tracee, the owner word,
 * both fd tables unchanged, the page gone after release, a dead tracer's
 * patched site restored by the next grab, a new page after exec; slots
 * reused (the areas do not grow) and within reach.
 */
#include "harness.h"
#include "ptrace/pt_impl.h"

#include <dirent.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define OWNER_DIED 0x40000000u
#define PATCH_LEN 6

/* pagev grabbed, stopped; page_target's address in *TARGET. */
static pt_proc_t *
pagev_grab(struct victim *v, uintptr_t *target, int flags)
{
	char line[256];
	pt_proc_t *P = spawn_grab("pagev", NULL, v, line, sizeof (line),
	    flags);

	if (target != NULL)
		*target = line_field(line, "target");
	return P;
}

/* Mappings of PID whose path starts with "/memfd:dtproc". */
static int
memfd_maps(pid_t pid)
{
	pt_map_t *maps;
	size_t n;
	int k = 0;

	CHECK_EQ_INT(pt_maps_read(pid, &maps, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(maps[i].pm_path, "/memfd:dtproc", 13) == 0)
			k++;
	}
	pt_maps_free(maps, n);
	return k;
}

static uint32_t
word_at(pid_t pid, uintptr_t addr)
{
	uint32_t w = 0;

	CHECK_EQ_INT(proc_mem_read(pid, addr, &w, sizeof (w)), sizeof (w));
	return w;
}

/* "fd -> target" of every descriptor of PID, sorted, one a line. */
static void
fd_table(pid_t pid, char *buf, size_t len)
{
	char dir[64], path[128], tgt[256];
	char names[256][16];
	int n = 0;
	struct dirent *d;
	DIR *D;

	snprintf(dir, sizeof (dir), "/proc/%d/fd", (int)pid);
	CHECK((D = opendir(dir)) != NULL);
	while ((d = readdir(D)) != NULL && n < 256) {
		if (d->d_name[0] != '.')
			snprintf(names[n++], sizeof (names[0]), "%.15s",
			    d->d_name);
	}
	closedir(D);
	qsort(names, n, sizeof (names[0]),
	    (int (*)(const void *, const void *))strcmp);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		ssize_t k;

		snprintf(path, sizeof (path), "%.63s/%.15s", dir, names[i]);
		if ((k = readlink(path, tgt, sizeof (tgt) - 1)) < 0)
			k = 0;
		tgt[k] = '\0';
		/* the directory we listed through is ours for a moment */
		if (strstr(tgt, "/fd") != NULL && pid == getpid())
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s->%s\n",
		    names[i], tgt);
	}
}

TEST(page_made)
{
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	uintptr_t ow, pw;

	CHECK_EQ_INT(pt_page_owner_word(P), 0);
	CHECK_PT(pt_page_get(P, 0));
	ow = pt_page_owner_word(P);
	pw = pt_page_pid_word(P);
	CHECK(ow != 0 && pw != 0);
	CHECK_EQ_INT(word_at(v.pid, ow), gettid());
	CHECK_EQ_INT(word_at(v.pid, pw), v.pid);
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	/* once per image */
	CHECK_PT(pt_page_get(P, 0));
	CHECK_EQ_INT(pt_page_owner_word(P), ow);
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	check_threads_stopped(P);
	/* released without unmapping: the word is 0, the mapping stays */
	pt_page_release(P, false);
	CHECK_EQ_INT(word_at(v.pid, ow), 0);
	CHECK_EQ_INT(pt_page_owner_word(P), 0);
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	/* a page of ours that was let go is no dead run's: nothing to do */
	CHECK_EQ_INT(pt_page_adopt(P), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

TEST(page_counters)
{
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	const _Atomic uint64_t *c;
	uint64_t five = 5, seven = 7;
	uint32_t idx, idx2;
	uintptr_t a;
	char cmd[96], line[256];

	CHECK_EQ_INT(pt_page_counter(P, &idx), -ENOENT);
	CHECK_PT(pt_page_get(P, 0));
	CHECK_PT(pt_page_counter(P, &idx));
	CHECK_PT(pt_page_counter(P, &idx2));
	CHECK(idx != idx2);
	a = pt_page_counter_addr(P, idx);
	c = pt_page_counter_local(P, idx);
	CHECK(a != 0 && c != NULL);
	CHECK_EQ_INT(a % 16, 0);
	CHECK_EQ_INT(pt_page_counter_addr(P, idx2) - a,
	    ((long)idx2 - (long)idx) * 16);
	CHECK_EQ_INT(atomic_load(&c[0]), 0);
	/* the tracee's side, as a trampoline writes it */
	CHECK_EQ_INT(pt_mem_write(P, a, &five, 8), 8);
	CHECK_EQ_INT(pt_mem_write(P, a + 8, &seven, 8), 8);
	CHECK_EQ_INT(atomic_load(&c[0]), 5);
	CHECK_EQ_INT(atomic_load(&c[1]), 7);
	/* the real thing: lock incq by the running tracee */
	CHECK_PT(pt_resume(P));
	snprintf(cmd, sizeof (cmd), "inc %lx 100000\n", (unsigned long)a);
	victim_send(&v, cmd);
	victim_expect(&v, line, sizeof (line), "inc done");
	CHECK_EQ_INT(atomic_load(&c[0]), 100005);
	CHECK_EQ_INT(atomic_load(&c[1]), 7);
	/* freed, then reused zeroed */
	pt_page_counter_free(P, idx);
	CHECK_PT(pt_page_counter(P, &idx2));
	CHECK_EQ_INT(idx2, idx);
	CHECK_EQ_INT(atomic_load(&c[0]), 0);
	CHECK_EQ_INT(atomic_load(&c[1]), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	victim_quit(&v);
}

/* Every pair handed out: ENOSPC; one freed: one more. */
TEST(page_counters_full)
{
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	uint32_t idx, last = 0;
	int n = 0;

	CHECK_PT(pt_page_get(P, 0));
	while (pt_page_counter(P, &idx) == 0)
		last = idx, n++;
	CHECK_EQ_INT(err_code(), ENOSPC);
	CHECK(n >= 4096);
	pt_page_counter_free(P, last);
	CHECK_PT(pt_page_counter(P, &idx));
	CHECK_EQ_INT(idx, last);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_quit(&v);
}

/* The table of sites: full at its size; an entry unrecorded is reused. */
TEST(page_record_full)
{
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	uint8_t orig[PATCH_LEN] = { 1, 2, 3, 4, 5, 6 };
	int n = 0, rc;

	CHECK_EQ_INT(pt_page_record(P, 0x1000, orig, PATCH_LEN, 0x2000),
	    -ENOENT);
	CHECK_PT(pt_page_get(P, 0));
	CHECK_EQ_INT(pt_page_record(P, 0x1000, orig, 17, 0x2000), -EINVAL);
	while ((rc = pt_page_record(P, 0x10000 + n * 16, orig, PATCH_LEN,
	    0x2000)) == 0)
		n++;
	CHECK_EQ_INT(rc, -ENOSPC);
	CHECK(n >= 1024);
	/* the same patch again takes no new entry */
	CHECK_PT(pt_page_record(P, 0x10000, orig, PATCH_LEN, 0x3000));
	pt_page_unrecord(P, 0x10000 + 5 * 16);
	CHECK_PT(pt_page_record(P, 0x1000, orig, PATCH_LEN, 0x2000));
	CHECK_EQ_INT(pt_page_record(P, 0x1010, orig, PATCH_LEN, 0x2000),
	    -ENOSPC);
	/* the table's patches are not jumps in this text: none restored */
	CHECK_EQ_INT(pt_page_adopt(P), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_quit(&v);
}

/* Both fd tables as they were after get and release; no memfd left. */
TEST(page_fd_tables)
{
	char before[8192], after[8192], mine[8192], mine2[8192];
	struct victim v;
	char line[256];
	pt_proc_t *P;

	spawn_ready("pagev", NULL, &v, line, sizeof (line));
	fd_table(v.pid, before, sizeof (before));
	fd_table(getpid(), mine, sizeof (mine));
	P = grab_ok(v.pid, 0);
	CHECK_PT(pt_page_get(P, 0));
	fd_table(v.pid, after, sizeof (after));
	CHECK_STR_EQ(after, before);
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	fd_table(v.pid, after, sizeof (after));
	fd_table(getpid(), mine2, sizeof (mine2));
	CHECK_STR_EQ(after, before);
	CHECK_STR_EQ(mine2, mine);
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/* The victim's address space limited: mmap fails, the fd is closed again. */
TEST(page_undo_mmap)
{
	char before[8192], after[8192], st[4096], *p;
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	struct rlimit lim, old;
	unsigned long kb;

	fd_table(v.pid, before, sizeof (before));
	snprintf(st, sizeof (st), "/proc/%d/status", (int)v.pid);
	CHECK(read_file(st, st, sizeof (st)) > 0);
	CHECK((p = strstr(st, "VmSize:")) != NULL);
	kb = strtoul(p + 7, NULL, 10);
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_AS, NULL, &old), 0);
	lim.rlim_cur = kb * 1024 + 256 * 1024;
	lim.rlim_max = old.rlim_max;	/* (lowered, it stays so) */
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_AS, &lim, NULL), 0);
	CHECK_EQ_INT(pt_page_get(P, 0), -ENOMEM);
	CHECK_CONTAINS(err_msg(), "mmap");
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_AS, &old, NULL), 0);
	fd_table(v.pid, after, sizeof (after));
	CHECK_STR_EQ(after, before);
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	CHECK_EQ_INT(pt_page_owner_word(P), 0);
	check_threads_stopped(P);
	/* and then it can be made */
	CHECK_PT(pt_page_get(P, 0));
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/* No descriptor to spare: memfd_create fails, nothing to undo. */
TEST(page_undo_memfd)
{
	char before[8192], after[8192], path[64];
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	struct rlimit lim, old;
	int lowest = 0;

	fd_table(v.pid, before, sizeof (before));
	for (;; lowest++) {
		snprintf(path, sizeof (path), "/proc/%d/fd/%d", (int)v.pid,
		    lowest);
		if (access(path, F_OK) != 0)
			break;
	}
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_NOFILE, NULL, &old), 0);
	lim.rlim_cur = (rlim_t)lowest;
	lim.rlim_max = old.rlim_max;
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_NOFILE, &lim, NULL), 0);
	CHECK_EQ_INT(pt_page_get(P, 0), -EMFILE);
	CHECK_CONTAINS(err_msg(), "memfd_create");
	CHECK_CONTAINS(err_msg(), "pid");
	CHECK_EQ_INT(prlimit(v.pid, RLIMIT_NOFILE, &old, NULL), 0);
	fd_table(v.pid, after, sizeof (after));
	CHECK_STR_EQ(after, before);
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/*
 * A tracer process grabs the victim, makes the page, patches
 * page_target with a jump (to nowhere: the victim never runs it) and
 * records it, tells us the owner word and its tid, and is killed.
 */
static void
dead_tracer(struct victim *v, uintptr_t target, int flags, uintptr_t *ow,
    pid_t *otid)
{
	int pfd[2], gfd[2], st;
	struct { uintptr_t ow; pid_t tid; int err; } msg = { 0 };
	static int runs;	/* each run's trampoline is another */
	uintptr_t tramp = target + 0x40 * ++runs;
	pid_t tr;

	CHECK_EQ_INT(pipe(pfd), 0);
	CHECK_EQ_INT(pipe(gfd), 0);
	if ((tr = fork()) == 0) {
		uint8_t orig[PATCH_LEN], jmp[PATCH_LEN];
		pt_proc_t *P = NULL;
		char c;

		close(pfd[0]);
		close(gfd[1]);
		msg.tid = gettid();
		if ((msg.err = -pt_grab(v->pid, flags, &P)) == 0 &&
		    (msg.err = -pt_stop(P, PT_WHY_REQUESTED)) == 0 &&
		    (msg.err = -pt_page_get(P, 0)) == 0) {
			arch_patch(target, tramp, PATCH_LEN, jmp);
			if (pt_mem_read(P, target, orig, PATCH_LEN) !=
			    PATCH_LEN ||
			    pt_mem_write(P, target, jmp, PATCH_LEN) !=
			    PATCH_LEN)
				msg.err = EIO;
			else
				msg.err = -pt_page_record(P, target, orig,
				    PATCH_LEN, tramp);
			msg.ow = pt_page_owner_word(P);
		}
		(void) !write(pfd[1], &msg, sizeof (msg));
		(void) !read(gfd[0], &c, 1);	/* until killed */
		_exit(0);
	}
	CHECK(tr > 0);
	close(pfd[1]);
	close(gfd[0]);
	CHECK_EQ_INT(read(pfd[0], &msg, sizeof (msg)), sizeof (msg));
	CHECK_MSG(msg.err == 0, "tracer: %s", strerror(msg.err));
	CHECK_EQ_INT(kill(tr, SIGKILL), 0);
	CHECK_EQ_INT(waitpid(tr, &st, 0), tr);
	CHECK_KILLED(st, SIGKILL);
	close(pfd[0]);
	close(gfd[1]);
	*ow = msg.ow;
	*otid = msg.tid;
}

TEST(page_tracer_death)
{
	struct victim v;
	char line[256];
	uintptr_t target, ow;
	uint8_t jmp[PATCH_LEN], cur[PATCH_LEN];
	pt_proc_t *P;
	uint32_t w;
	pid_t otid;

	spawn_ready("pagev", NULL, &v, line, sizeof (line));
	target = line_field(line, "target");
	dead_tracer(&v, target, 0, &ow, &otid);
	/* the kernel marked the dead owner's word */
	w = word_at(v.pid, ow);
	CHECK_MSG((w & OWNER_DIED) != 0, "owner word %#x", w);
	/* (the kernel clears the tid: 0x40000000 plus the waiters bit) */
	CHECK_MSG(otid > 0 && (w & 0x3fffffff) == 0, "owner word %#x", w);
	arch_patch(target, target + 0x40, PATCH_LEN, jmp);
	CHECK_EQ_INT(proc_mem_read(v.pid, target, cur, PATCH_LEN),
	    PATCH_LEN);
	CHECK(memcmp(cur, jmp, PATCH_LEN) == 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 0);
	/* a grab that does not adopt by itself, then everything stopped */
	P = grab_ok(v.pid, PT_GRAB_NOSTOP);
	CHECK_PT(pt_stop(P, PT_WHY_REQUESTED));
	CHECK_EQ_INT(pt_page_adopt(P), 1);
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 1);
	CHECK_EQ_INT(pt_page_adopt(P), 0);
	/* its page stays: an old trampoline may read it */
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/*
 * The same through pt_grab alone, twice: the second dead run's grab
 * restored the first's site before patching it again.
 */
TEST(page_grab_adopts)
{
	struct victim v;
	char line[256];
	uintptr_t target, ow, ow2;
	pt_proc_t *P;
	pid_t otid;

	spawn_ready("pagev", NULL, &v, line, sizeof (line));
	target = line_field(line, "target");
	dead_tracer(&v, target, 0, &ow, &otid);
	dead_tracer(&v, target, 0, &ow2, &otid);
	CHECK(ow2 != ow);
	CHECK_EQ_INT(memfd_maps(v.pid), 2);
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 0);
	P = grab_ok(v.pid, 0);
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 1);
	CHECK_EQ_INT(pt_page_adopt(P), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/*
 * Stacked: the second dead run grabbed without adopting and patched over
 * the first's jump (recorded as its original).  One adopt undoes both.
 */
TEST(page_adopt_stacked)
{
	struct victim v;
	char line[256];
	uintptr_t target, ow, ow2;
	pt_proc_t *P;
	pid_t otid;

	spawn_ready("pagev", NULL, &v, line, sizeof (line));
	target = line_field(line, "target");
	dead_tracer(&v, target, PT_GRAB_NOSTOP, &ow, &otid);
	dead_tracer(&v, target, PT_GRAB_NOSTOP, &ow2, &otid);
	CHECK_EQ_INT(memfd_maps(v.pid), 2);
	P = grab_ok(v.pid, PT_GRAB_NOSTOP);
	CHECK_PT(pt_stop(P, PT_WHY_REQUESTED));
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 0);
	CHECK_EQ_INT(pt_page_adopt(P), 2);
	CHECK_EQ_INT(text_matches_file(v.pid, target, PATCH_LEN), 1);
	CHECK_EQ_INT(pt_page_adopt(P), 0);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

TEST(page_exec)
{
	struct victim v;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	char line[256];
	pt_event_t ev;
	uintptr_t ow;

	CHECK_PT(pt_page_get(P, 0));
	CHECK(pt_page_owner_word(P) != 0);
	CHECK_PT(pt_resume(P));
	victim_send(&v, "exec\n");
	wait_for_event(P, PT_EV_EXEC, &ev, NULL, 10);
	CHECK(ev.pe_stopped);
	/* the old image's page went with it */
	CHECK_EQ_INT(pt_page_owner_word(P), 0);
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	/* (not at the exec stop: the thread is still in execve there) */
	CHECK_PT(pt_resume_thread(P, ev.pe_tid));
	victim_expect(&v, line, sizeof (line), "ready");
	CHECK_EQ_INT(line_field(line, "exec"), 1);
	CHECK_PT(pt_page_get(P, 0));
	CHECK((ow = pt_page_owner_word(P)) != 0);
	CHECK_EQ_INT(word_at(v.pid, ow), gettid());
	CHECK_EQ_INT(memfd_maps(v.pid), 1);
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	CHECK_EQ_INT(memfd_maps(v.pid), 0);
	victim_quit(&v);
}

/* Two processes of one owner thread, let go out of order (robust list). */
TEST(page_two_processes)
{
	struct victim a, b;
	pt_proc_t *A = pagev_grab(&a, NULL, 0);
	pt_proc_t *B = pagev_grab(&b, NULL, 0);
	uintptr_t owb;

	CHECK_PT(pt_page_get(A, 0));
	CHECK_PT(pt_page_get(B, 0));
	owb = pt_page_owner_word(B);
	CHECK_EQ_INT(word_at(a.pid, pt_page_owner_word(A)), gettid());
	CHECK_EQ_INT(word_at(b.pid, owb), gettid());
	CHECK_PT(pt_release(A, PT_RELEASE_RUN));
	CHECK_EQ_INT(memfd_maps(a.pid), 0);
	/* B's mutex is still held, and still listed */
	CHECK_EQ_INT(word_at(b.pid, owb), gettid());
	pt_page_release(B, false);
	CHECK_EQ_INT(word_at(b.pid, owb), 0);
	CHECK_PT(pt_release(B, PT_RELEASE_RUN));
	victim_quit(&a);
	victim_quit(&b);
}

/* The victim killed while its page is held: our side goes with it. */
TEST(page_victim_dies)
{
	struct victim v, w;
	struct run_counts c;
	pt_proc_t *P = pagev_grab(&v, NULL, 0);
	int st;

	CHECK_PT(pt_page_get(P, 0));
	CHECK_PT(pt_resume(P));
	CHECK_EQ_INT(kill(v.pid, SIGKILL), 0);
	st = run_until_exit(P, &c);
	CHECK_RUN(st, &c);
	CHECK_KILLED(st, SIGKILL);
	CHECK_PT(pt_release(P, PT_RELEASE_DEFAULT));
	/* the owner's robust list is sound: another page, held and let go */
	P = pagev_grab(&w, NULL, 0);
	CHECK_PT(pt_page_get(P, 0));
	CHECK_EQ_INT(word_at(w.pid, pt_page_owner_word(P)), gettid());
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_quit(&w);
}

static int
nareas(const pt_proc_t *P)
{
	return P->pp_nxol;
}

TEST(tramp_slots)
{
	struct victim v;
	uintptr_t target, s, x, held[3][40];
	const size_t lens[3] = { 40, 100, ARCH_TRAMP_MAX };
	pt_proc_t *P = pagev_grab(&v, &target, 0);

	CHECK_EQ_INT(pt_tramp_slot(P, target, ARCH_TRAMP_MAX + 1, 0), 0);
	CHECK_EQ_INT(pt_tramp_slot(P, target, 0, 0), 0);
	s = pt_tramp_slot(P, target, 100, 0);
	CHECK(s != 0);
	CHECK_EQ_INT(nareas(P), 1);
	CHECK(pt_xol_contains(P, s) && pt_xol_contains(P, s + 99));
	for (int i = 0; i < 10000; i++) {
		pt_tramp_slot_free(P, s, 100);
		x = pt_tramp_slot(P, target, 100, 0);
		CHECK_EQ_INT(x, s);
	}
	pt_tramp_slot_free(P, s, 100);
	pt_tramp_slot_free(P, s, 100);	/* twice: ignored */
	/* classes mixed, held at once, freed, many times */
	for (int round = 0; round < 300; round++) {
		for (int c = 0; c < 3; c++) {
			for (int i = 0; i < 40; i++) {
				x = held[c][i] = pt_tramp_slot(P, target,
				    lens[c], 0);
				CHECK(x != 0);
				CHECK(x > target ? x + lens[c] - target <
				    0x7fff0000UL : target - x < 0x7fff0000UL);
				CHECK(pt_xol_contains(P, x) &&
				    pt_xol_contains(P, x + lens[c] - 1));
			}
		}
		/* no two overlap */
		if (round == 0) {
			for (int c = 0; c < 3; c++)
				for (int i = 0; i < 40; i++)
					for (int d = 0; d < 3; d++)
						for (int j = 0; j < 40; j++)
							CHECK((c == d &&
							    i == j) ||
							    held[c][i] +
							    lens[c] <=
							    held[d][j] ||
							    held[d][j] +
							    lens[d] <=
							    held[c][i]);
		}
		for (int c = 0; c < 3; c++)
			for (int i = 0; i < 40; i++)
				pt_tramp_slot_free(P, held[c][i], lens[c]);
	}
	CHECK_EQ_INT(nareas(P), 1);
	/* the 32-byte copies' slots still come from the same area */
	x = pt_xol_slot(P, target, 16, 0);
	CHECK(x != 0 && pt_xol_contains(P, x));
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < 40; i++)
			CHECK(x + 32 <= held[c][i] || held[c][i] + lens[c] <= x);
	CHECK_EQ_INT(nareas(P), 1);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_send(&v, "call\n");
	victim_expect_eq(&v, "call", "call ret=42");
	victim_quit(&v);
}

/* Slots near two far-apart addresses: each within reach of its own. */
TEST(tramp_slots_reach)
{
	struct victim v;
	uintptr_t target, libc, s1, s2;
	pt_proc_t *P = pagev_grab(&v, &target, 0);
	pt_map_t *maps;
	size_t n;

	libc = 0;
	CHECK_EQ_INT(pt_maps_read(v.pid, &maps, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strstr(maps[i].pm_path, "libc") != NULL &&
		    (maps[i].pm_prot & PROT_EXEC))
			libc = maps[i].pm_start;
	}
	pt_maps_free(maps, n);
	CHECK(libc != 0);
	s1 = pt_tramp_slot(P, target, 64, 0);
	s2 = pt_tramp_slot(P, libc, 64, 0);
	CHECK(s1 != 0 && s2 != 0);
	CHECK((s1 > target ? s1 - target : target - s1) < 0x7fff0000UL);
	CHECK((s2 > libc ? s2 - libc : libc - s2) < 0x7fff0000UL);
	if ((libc > target ? libc - target : target - libc) > 0x100000000UL)
		CHECK_EQ_INT(nareas(P), 2);
	CHECK_PT(pt_release(P, PT_RELEASE_RUN));
	victim_quit(&v);
}
