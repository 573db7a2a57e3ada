/*
 * page.c - the shared page: trampoline counters and the owner's mark.
 *
 * A trampoline counts its hits in memory the tracee can write without a
 * system call and we can read without stopping it: a memfd that both
 * sides map MAP_SHARED.  Only the tracee can map memory into itself, so
 * the file is made there by injected calls (memfd_create, ftruncate,
 * mmap), every thread stopped; we reach the same file through
 * /proc/PID/fd before the tracee's descriptor is closed again, so its fd
 * table ends as it began.  One page per image: an exec takes the
 * tracee's mapping with the old image (pt_page_retire), and the next
 * pt_page_get makes another.  Our view of the old one stays mapped until
 * the next exec: the control layer reads the old image's final counts
 * at the exec event, through pointers it took before.
 *
 * The header says who the page belongs to.  Its pid word is the process's
 * own pid as getpid() returns it there (a fork child inherits the mapping
 * and must not trap).  Its owner mutex is a process-shared robust mutex
 * locked by the owner thread, the tracer thread ptrace ties the tracees
 * to: glibc puts it on that thread's robust list, and if the thread dies
 * the kernel sets FUTEX_OWNER_DIED in the word (exit_robust_list) before
 * it detaches the tracees.  A trampoline traps only while the word holds
 * a tid with that bit clear; after pt_page_release the word is 0.  We
 * never call set_robust_list ourselves: the list head is glibc's.
 *
 * The table of patched sites is for a later run: a tracer that died
 * (SIGKILL, crash) leaves jumps into trampolines in the text.  At a grab,
 * pt_page_adopt finds pages left by dead runs in the maps, and puts the
 * original bytes back wherever the text still holds the recorded jump.
 * The old trampolines and the page stay mapped: a thread may be inside
 * one (it jumps back to the same text, and reads the page's owner word).
 * An entry is written with its patch address last (0 marks a free
 * entry), so a run killed while recording leaves nothing half-made.
 * A site patched through a pad has two entries: the pad's jmp rel32 to
 * the trampoline, and the site's jmp rel8 to the pad (PT_PAGE_SHORT),
 * whose expected bytes are the short jump's: the short jumps are undone
 * first.  Version 2 pages have the kind; version 1 pages read as before
 * (an older run never leaves short jumps), and an older dtproc ignores
 * version 2 pages, rather than undo a pad under a short jump.
 *
 * The returns table (arch_quick_t, arch.h) follows the counters: return
 * sites' trampolines record a return there, without a stop, where the
 * control layer left a bucket pending (pt_page_quick).
 *
 * Counters come in pairs (hits, missed), 16 bytes each.  The pairs and
 * the table are handed out by the owner thread only (pg_free,
 * pg_sfree, ph_nctr, ph_nsite); the counts themselves are read by any
 * thread, atomically, through pt_page_counter_local.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PT_PAGE_MAGIC	0x67707464u	/* "dtpg" */
#define PT_PAGE_VERSION	2	/* 2: short jumps (pps_kind); 1 read too */
#define PT_PAGE_NSITE	8192		/* patched sites recorded */
#define PT_PAGE_ORIG	16		/* original bytes kept per site */
#define PT_PAGE_NCTR	65536		/* counter pairs */
#define PT_PAGE_CTROFF	(512 * 1024)	/* counters start past the header */
#define PT_PAGE_PAIR	16
#define PT_PAGE_QOFF	(PT_PAGE_CTROFF + PT_PAGE_NCTR * PT_PAGE_PAIR)
#define PT_PAGE_SIZE	(PT_PAGE_QOFF + ARCH_QUICK_N * sizeof (arch_quick_t))
#define PT_PAGE_NAME	"dtproc"
#define PT_PAGE_PATH	"/memfd:" PT_PAGE_NAME

#define PT_OWNER_DIED	0x40000000u	/* FUTEX_OWNER_DIED */
#define PT_OWNER_TID	0x3fffffffu	/* FUTEX_TID_MASK */

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC	0x0001U
#endif

/* One patched site, as a later run reads it. */
typedef struct pt_page_site {
	uint64_t pps_patch;	/* where the jump is; 0: a free entry */
	uint64_t pps_tramp;	/* the trampoline it jumps to */
	uint8_t pps_len;	/* bytes the patch covers */
	uint8_t pps_orig[PT_PAGE_ORIG];	/* what they were */
	uint8_t pps_kind;	/* PT_PAGE_JMP: jmp rel32 to pps_tramp;
				   PT_PAGE_SHORT: jmp rel8 to the pad
				   pps_tramp (version 1: always 0) */
	uint8_t pps_pad[6];
} pt_page_site_t;

#define PT_PAGE_JMP	0
#define PT_PAGE_SHORT	1

/* The start of the file.  Its layout is what PT_PAGE_VERSION names. */
typedef struct pt_page_hdr {
	uint32_t ph_magic;	/* PT_PAGE_MAGIC, written last */
	uint32_t ph_version;	/* PT_PAGE_VERSION */
	int32_t ph_pid;		/* the process's getpid() (trampolines) */
	uint32_t ph_size;	/* bytes of the file */
	uint32_t ph_ctroff;	/* offset of counter pair 0 */
	uint32_t ph_nctr;	/* pairs handed out so far (owner) */
	uint32_t ph_nsite;	/* entries of ph_site ever used (owner) */
	uint32_t ph_pad;
	pthread_mutex_t ph_owner; /* robust, shared: the owner thread's */
	pt_page_site_t ph_site[PT_PAGE_NSITE];
} pt_page_hdr_t;

static_assert(sizeof (pt_page_hdr_t) <= PT_PAGE_CTROFF,
    "the site table runs into the counters");
/* the kernel and trampolines read the mutex as its first 4-byte word */
static_assert(offsetof(pthread_mutex_t, __data.__lock) == 0,
    "pthread_mutex_t does not start with its lock word");
static_assert(sizeof (((pthread_mutex_t *)0)->__data.__lock) == 4,
    "the lock word is not 4 bytes");
static_assert(sizeof (_Atomic uint64_t) == 8, "atomic counters");

/* Our side of the page (owner thread only, but for the getters). */
struct pt_page {
	pt_page_hdr_t *pg_hdr;	/* our MAP_SHARED view */
	uintptr_t pg_at;	/* the tracee's mapping */
	unsigned pg_execs;	/* P->pp_execs when it was made */
	bool pg_locked;		/* we hold ph_owner */
	uint32_t *pg_free;	/* counter pairs freed, to reuse */
	uint32_t pg_nfree, pg_afree;
	uint32_t *pg_sfree;	/* site entries freed, to reuse */
	uint32_t pg_nsfree, pg_asfree;
};

static int
pt_page_push(uint32_t **v, uint32_t *n, uint32_t *a, uint32_t x)
{
	if (*n == *a) {
		uint32_t na = *a ? *a * 2 : 64;
		uint32_t *nv = realloc(*v, na * sizeof (*nv));

		if (nv == NULL)
			return -ENOMEM;
		*v = nv;
		*a = na;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* The page of the current image, or NULL. */
static struct pt_page *
pt_page_cur(const pt_proc_t *P)
{
	struct pt_page *pg = P->pp_page;

	return pg != NULL && pg->pg_execs == P->pp_execs ? pg : NULL;
}

/*
 * The id thread TID has in the process's own pid namespace (what getpid
 * and gettid return there): TID where /proc says nothing.
 */
pid_t
pt_nsid(const pt_proc_t *P, pid_t tid)
{
	char buf[256], *p;

	if (pt_status_text(P->pp_pid, tid, "NSpid", buf,
	    sizeof (buf)) != 0 || buf[0] == '\0')
		return tid;
	/* the innermost namespace's pid comes last */
	buf[strcspn(buf, "\n")] = '\0';
	while ((p = strrchr(buf, '\t')) != NULL && p[1] == '\0')
		*p = '\0';
	if ((p = strrchr(buf, '\t')) == NULL)
		p = strrchr(buf, ' ');
	return (pid_t)strtol(p != NULL ? p + 1 : buf, NULL, 10);
}

/* A call run by the tracee: 0 with *RET >= 0, or -errno (its or ours). */
static int
pt_page_call(pt_proc_t *P, pid_t keep, long nr, long a0, long a1, long a2,
    long a3, long a4, long *ret)
{
	long args[6] = { a0, a1, a2, a3, a4, 0 };
	int rv;

	if ((rv = pt_syscall(P, keep, nr, args, ret)) != 0)
		return rv;
	return *ret < 0 && *ret > -4096 ? (int)*ret : 0;
}

/* Undo the tracee's side: its mapping (AT, if not 0) and descriptor. */
static void
pt_page_undo(pt_proc_t *P, pid_t keep, long fd, uintptr_t at)
{
	long ret;

	if (at != 0)
		(void) pt_page_call(P, keep, SYS_munmap, (long)at,
		    PT_PAGE_SIZE, 0, 0, 0, &ret);
	if (fd >= 0)
		(void) pt_page_call(P, keep, SYS_close, fd, 0, 0, 0, 0, &ret);
}

/*
 * The steps, every thread stopped by the caller.  STEP names the one
 * that failed, for the message.
 */
static int
pt_page_make(pt_proc_t *P, pid_t keep, struct pt_page *pg, const char **step)
{
	char name[] = PT_PAGE_NAME, path[64];
	long args[6] = { 0, MFD_CLOEXEC }, fd, at, ret;
	pt_page_hdr_t *h;
	pthread_mutexattr_t ma;
	struct stat st;
	int rv, lfd;
	void *local;

	*step = "memfd_create";
	if ((rv = pt_syscall_mem(P, keep, SYS_memfd_create, args, 0, name,
	    sizeof (name), &fd)) != 0)
		return rv;
	if (fd < 0)
		return fd > -4096 ? (int)fd : -EIO;
	*step = "ftruncate";
	if ((rv = pt_page_call(P, keep, SYS_ftruncate, fd, PT_PAGE_SIZE,
	    0, 0, 0, &ret)) != 0) {
		pt_page_undo(P, keep, fd, 0);
		return rv;
	}
	*step = "mmap";
	if ((rv = pt_page_call(P, keep, SYS_mmap, 0, PT_PAGE_SIZE,
	    PROT_READ | PROT_WRITE, MAP_SHARED, fd, &at)) != 0) {
		pt_page_undo(P, keep, fd, 0);
		return rv;
	}
	/* the file is still in its fd table: open our own description */
	*step = "open of its descriptor";
	snprintf(path, sizeof (path), "/proc/%d/fd/%ld", (int)P->pp_pid, fd);
	if ((lfd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		rv = -errno;
		pt_page_undo(P, keep, fd, (uintptr_t)at);
		return rv;
	}
	if (fstat(lfd, &st) != 0 || st.st_size != PT_PAGE_SIZE) {
		close(lfd);
		pt_page_undo(P, keep, fd, (uintptr_t)at);
		return -EIO;
	}
	*step = "mmap of our side";
	local = mmap(NULL, PT_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    lfd, 0);
	rv = local == MAP_FAILED ? -errno : 0;
	close(lfd);
	if (rv != 0) {
		pt_page_undo(P, keep, fd, (uintptr_t)at);
		return rv;
	}
	/* our children (pt_create's, a test's fork) have no use for it */
	(void) madvise(local, PT_PAGE_SIZE, MADV_DONTFORK);
	*step = "close";
	if ((rv = pt_page_call(P, keep, SYS_close, fd, 0, 0, 0, 0,
	    &ret)) != 0) {
		munmap(local, PT_PAGE_SIZE);
		pt_page_undo(P, keep, -1, (uintptr_t)at);
		return rv;
	}

	h = local;
	h->ph_version = PT_PAGE_VERSION;
	h->ph_pid = (int32_t)pt_nsid(P, P->pp_pid);
	h->ph_size = PT_PAGE_SIZE;
	h->ph_ctroff = PT_PAGE_CTROFF;
	/*
	 * Taken with trylock: a fresh mutex, so it cannot fail, and held
	 * for the image's life it orders no other lock (a lock that never
	 * waits; ThreadSanitizer would see an inversion with the handle's
	 * lock otherwise).
	 */
	*step = "owner mutex";
	if ((rv = pthread_mutexattr_init(&ma)) != 0 ||
	    (rv = pthread_mutexattr_setpshared(&ma,
	    PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rv = pthread_mutexattr_setrobust(&ma,
	    PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rv = pthread_mutex_init(&h->ph_owner, &ma)) != 0 ||
	    (rv = pthread_mutex_trylock(&h->ph_owner)) != 0) {
		munmap(local, PT_PAGE_SIZE);
		pt_page_undo(P, keep, -1, (uintptr_t)at);
		return -rv;
	}
	(void) pthread_mutexattr_destroy(&ma);
	atomic_store_explicit((_Atomic uint32_t *)&h->ph_magic,
	    PT_PAGE_MAGIC, memory_order_release);
	pg->pg_hdr = h;
	pg->pg_at = (uintptr_t)at;
	pg->pg_execs = P->pp_execs;
	pg->pg_locked = true;
	return 0;
}

int
pt_page_get(pt_proc_t *P, pid_t keep)
{
	struct pt_page *pg;
	const char *step = "stop";
	int outer, rv;

	PT_ASSERT_OWNER(P);
	if (pt_page_cur(P) != NULL)
		return 0;
	pt_page_retire(P);	/* an old image's */
	if (P->pp_rdonly)
		return err_set(EPERM, "pid %d: no shared page: grabbed "
		    "read-only", (int)P->pp_pid);
	if ((pg = calloc(1, sizeof (*pg))) == NULL)
		return err_set(ENOMEM, "pid %d: cannot make the shared page: "
		    "%s", (int)P->pp_pid, strerror(ENOMEM));
	outer = P->pp_stopping;
	if ((rv = pt_gather(P, P->pp_why)) != 0) {
		free(pg);
		return rv;
	}
	P->pp_stopping++;	/* our calls must not restart anybody */
	rv = pt_page_make(P, keep, pg, &step);
	P->pp_stopping--;
	if (outer == 0)
		pt_resume_internal(P, keep);
	if (rv != 0) {
		free(pg);
		return err_set(-rv, "pid %d: cannot make the shared page: "
		    "%s: %s", (int)P->pp_pid, step, strerror(-rv));
	}
	P->pp_page = pg;
	pt_dprintf("pid %d: shared page at %#lx (owner word %#lx)\n",
	    (int)P->pp_pid, (unsigned long)pg->pg_at,
	    (unsigned long)pt_page_owner_word(P));
	return 0;
}

int
pt_page_counter(pt_proc_t *P, uint32_t *idx)
{
	struct pt_page *pg = pt_page_cur(P);
	_Atomic uint64_t *c;
	uint32_t i;

	PT_ASSERT_OWNER(P);
	if (pg == NULL)
		return err_set(ENOENT, "pid %d: no shared page",
		    (int)P->pp_pid);
	if (pg->pg_nfree > 0) {
		i = pg->pg_free[--pg->pg_nfree];
	} else if (pg->pg_hdr->ph_nctr < PT_PAGE_NCTR) {
		i = pg->pg_hdr->ph_nctr++;
	} else {
		return err_set(ENOSPC, "pid %d: all %d counters of the "
		    "shared page are in use", (int)P->pp_pid, PT_PAGE_NCTR);
	}
	/* a straggler may have counted into it after it was freed */
	c = (_Atomic uint64_t *)pt_page_counter_local(P, i);
	atomic_store(&c[0], 0);
	atomic_store(&c[1], 0);
	*idx = i;
	return 0;
}

void
pt_page_counter_free(pt_proc_t *P, uint32_t idx)
{
	struct pt_page *pg = pt_page_cur(P);

	PT_ASSERT_OWNER(P);
	if (pg == NULL || idx >= pg->pg_hdr->ph_nctr)
		return;
	/* lost on ENOMEM: a pair is leaked, nothing breaks */
	(void) pt_page_push(&pg->pg_free, &pg->pg_nfree, &pg->pg_afree, idx);
}

uintptr_t
pt_page_counter_addr(const pt_proc_t *P, uint32_t idx)
{
	struct pt_page *pg = pt_page_cur(P);

	if (pg == NULL || idx >= PT_PAGE_NCTR)
		return 0;
	return pg->pg_at + PT_PAGE_CTROFF + (uintptr_t)idx * PT_PAGE_PAIR;
}

const _Atomic uint64_t *
pt_page_counter_local(const pt_proc_t *P, uint32_t idx)
{
	struct pt_page *pg = pt_page_cur(P);

	if (pg == NULL || idx >= PT_PAGE_NCTR)
		return NULL;
	return (const _Atomic uint64_t *)((char *)pg->pg_hdr +
	    PT_PAGE_CTROFF + (size_t)idx * PT_PAGE_PAIR);
}

arch_quick_t *
pt_page_quick(const pt_proc_t *P, uintptr_t *at)
{
	struct pt_page *pg = pt_page_cur(P);

	if (pg == NULL)
		return NULL;
	if (at != NULL)
		*at = pg->pg_at + PT_PAGE_QOFF;
	return (arch_quick_t *)((char *)pg->pg_hdr + PT_PAGE_QOFF);
}

uintptr_t
pt_page_owner_word(const pt_proc_t *P)
{
	struct pt_page *pg = pt_page_cur(P);

	return pg == NULL ? 0 : pg->pg_at + offsetof(pt_page_hdr_t,
	    ph_owner.__data.__lock);
}

uintptr_t
pt_page_pid_word(const pt_proc_t *P)
{
	struct pt_page *pg = pt_page_cur(P);

	return pg == NULL ? 0 : pg->pg_at + offsetof(pt_page_hdr_t, ph_pid);
}

pid_t
pt_page_pid(const pt_proc_t *P)
{
	struct pt_page *pg = pt_page_cur(P);

	return pg == NULL ? 0 : (pid_t)pg->pg_hdr->ph_pid;
}

/* The entry of PATCH in the table, or -1. */
static int
pt_page_site_find(const pt_page_hdr_t *h, uintptr_t patch)
{
	for (uint32_t i = 0; i < h->ph_nsite; i++) {
		if (h->ph_site[i].pps_patch == patch)
			return (int)i;
	}
	return -1;
}

static int
pt_page_put(pt_proc_t *P, uintptr_t patch, const uint8_t *orig, size_t len,
    uintptr_t tramp, uint8_t kind)
{
	struct pt_page *pg = pt_page_cur(P);
	pt_page_site_t *s;
	int i;

	PT_ASSERT_OWNER(P);
	if (pg == NULL)
		return err_set(ENOENT, "pid %d: no shared page",
		    (int)P->pp_pid);
	if (patch == 0 || len == 0 || len > PT_PAGE_ORIG)
		return err_set(EINVAL, "pid %d: cannot record a patch of %zu "
		    "bytes at %#lx", (int)P->pp_pid, len,
		    (unsigned long)patch);
	if ((i = pt_page_site_find(pg->pg_hdr, patch)) < 0) {
		if (pg->pg_nsfree > 0)
			i = (int)pg->pg_sfree[--pg->pg_nsfree];
		else if (pg->pg_hdr->ph_nsite < PT_PAGE_NSITE)
			i = (int)pg->pg_hdr->ph_nsite++;
		else
			return err_set(ENOSPC, "pid %d: the table of patched "
			    "sites is full (%d)", (int)P->pp_pid,
			    PT_PAGE_NSITE);
	}
	s = &pg->pg_hdr->ph_site[i];
	/* a reader sees the entry whole or free, never half-written */
	atomic_store((_Atomic uint64_t *)&s->pps_patch, 0);
	s->pps_tramp = tramp;
	s->pps_len = (uint8_t)len;
	s->pps_kind = kind;
	memset(s->pps_orig, 0, sizeof (s->pps_orig));
	memcpy(s->pps_orig, orig, len);
	atomic_store_explicit((_Atomic uint64_t *)&s->pps_patch, patch,
	    memory_order_release);
	return 0;
}

int
pt_page_record(pt_proc_t *P, uintptr_t patch, const uint8_t *orig,
    size_t len, uintptr_t tramp)
{
	return pt_page_put(P, patch, orig, len, tramp, PT_PAGE_JMP);
}

int
pt_page_record_short(pt_proc_t *P, uintptr_t patch, const uint8_t *orig,
    size_t len, uintptr_t pad)
{
	return pt_page_put(P, patch, orig, len, pad, PT_PAGE_SHORT);
}

void
pt_page_unrecord(pt_proc_t *P, uintptr_t patch)
{
	struct pt_page *pg = pt_page_cur(P);
	int i;

	PT_ASSERT_OWNER(P);
	if (pg == NULL || patch == 0 ||
	    (i = pt_page_site_find(pg->pg_hdr, patch)) < 0)
		return;
	atomic_store((_Atomic uint64_t *)&pg->pg_hdr->ph_site[i].pps_patch,
	    0);
	/* lost on ENOMEM: the entry is not reused, nothing breaks */
	(void) pt_page_push(&pg->pg_sfree, &pg->pg_nsfree, &pg->pg_asfree,
	    (uint32_t)i);
}

static void
pt_page_let(pt_proc_t *P, bool keep)
{
	struct pt_page *pg = P->pp_page;
	bool unmap = true;

	if (pg == NULL)
		return;
	P->pp_page = NULL;
	if (pg->pg_locked) {
		/*
		 * The locked mutex is linked into the owner thread's robust
		 * list, through the page: unmapped while listed, glibc and
		 * the kernel would follow the list into nothing.  Only the
		 * owner can unlink it; anyone else leaves the mapping.
		 */
		if (pthread_mutex_unlock(&pg->pg_hdr->ph_owner) != 0) {
			unmap = false;
			pt_dprintf("pid %d: shared page left mapped: owner "
			    "mutex not ours\n", (int)P->pp_pid);
		}
	}
	if (unmap) {
		(void) pthread_mutex_destroy(&pg->pg_hdr->ph_owner);
		if (keep) {
			if (P->pp_page_kept != NULL)
				(void) munmap(P->pp_page_kept, PT_PAGE_SIZE);
			P->pp_page_kept = pg->pg_hdr;
		} else {
			(void) munmap(pg->pg_hdr, PT_PAGE_SIZE);
		}
	}
	free(pg->pg_free);
	free(pg->pg_sfree);
	free(pg);
}

void
pt_page_drop(pt_proc_t *P)
{
	pt_page_let(P, false);
	if (P->pp_page_kept != NULL)
		(void) munmap(P->pp_page_kept, PT_PAGE_SIZE);
	P->pp_page_kept = NULL;
}

void
pt_page_retire(pt_proc_t *P)
{
	pt_page_let(P, true);
}

void
pt_page_release(pt_proc_t *P, bool unmap)
{
	struct pt_page *pg = pt_page_cur(P);
	uintptr_t at = pg != NULL ? pg->pg_at : 0;
	long ret;

	PT_ASSERT_OWNER(P);
	pt_page_drop(P);	/* unlocked: the word reads 0 from now on */
	if (!unmap || at == 0 || P->pp_state == PT_DEAD ||
	    P->pp_state == PT_LOST || pt_gather(P, P->pp_why) != 0)
		return;
	/* every thread stays stopped, as pt_xol_fini leaves them */
	P->pp_stopping++;
	if (pt_page_call(P, 0, SYS_munmap, (long)at, PT_PAGE_SIZE, 0, 0, 0,
	    &ret) != 0)
		pt_dprintf("pid %d: cannot unmap the shared page: %s\n",
		    (int)P->pp_pid, err_msg());
	P->pp_stopping--;
}

/*
 * Is a page's owner gone?  Its word has the owner-died bit, or is 0
 * (released, or never locked), or names a thread that no longer lives.
 * A live tid is either a run still tracing (then our grab had failed:
 * this is an inherited page, a fork child's) or a reused tid: skipped
 * either way, rather than pull text from under a live run.
 */
static bool
pt_page_owner_dead(uint32_t word)
{
	pid_t tid = (pid_t)(word & PT_OWNER_TID);
	char state;

	if ((word & PT_OWNER_DIED) || tid == 0)
		return true;
	if (pt_proc_stat(tid, &state, NULL) != 0)
		return true;
	return state == 'Z' || state == 'X' || state == 'x';
}

/* The bytes entry S expects in the text, in WANT: false if none. */
static bool
pt_page_want(const pt_page_site_t *s, uint32_t version, uint8_t *want)
{
	uint8_t kind = version >= 2 ? s->pps_kind : PT_PAGE_JMP;

	if (s->pps_patch == 0 || s->pps_len > PT_PAGE_ORIG)
		return false;
	if (kind == PT_PAGE_JMP && s->pps_len >= ARCH_JMP_LEN) {
		arch_patch(s->pps_patch, s->pps_tramp, s->pps_len, want);
		return true;
	}
	return kind == PT_PAGE_SHORT && s->pps_len < ARCH_JMP_LEN &&
	    arch_patch_short(s->pps_patch, s->pps_tramp, s->pps_len,
	    want) == 0;
}

/*
 * Restore the sites of the dead run's page at AT (VERSION): how many.
 * Short jumps first, then whatever else (pads among them).
 */
static int
pt_page_restore(pt_proc_t *P, uintptr_t at, uint32_t version, uint32_t nsite)
{
	size_t sz = (size_t)nsite * sizeof (pt_page_site_t);
	pt_page_site_t *tab;
	int n = 0;

	if (nsite == 0)
		return 0;
	if ((tab = malloc(sz)) == NULL)
		return -ENOMEM;
	if (pt_mem_read(P, at + offsetof(pt_page_hdr_t, ph_site), tab, sz) !=
	    (ssize_t)sz) {
		free(tab);
		return -EIO;
	}
	for (uint32_t k = 0; k < 2 * nsite; k++) {
		uint32_t i = k % nsite;
		pt_page_site_t *s = &tab[i];
		uint8_t want[PT_PAGE_ORIG], cur[PT_PAGE_ORIG];
		uint64_t zero = 0;
		bool shrt = version >= 2 && s->pps_kind == PT_PAGE_SHORT;

		if (shrt != (k < nsite) || !pt_page_want(s, version, want))
			continue;
		if (pt_mem_read(P, s->pps_patch, cur, s->pps_len) !=
		    (ssize_t)s->pps_len ||
		    memcmp(cur, want, s->pps_len) != 0)
			continue;	/* not our jump (any more) */
		if (pt_mem_write(P, s->pps_patch, s->pps_orig, s->pps_len) !=
		    (ssize_t)s->pps_len) {
			pt_dprintf("pid %d: cannot restore the site at %#lx: "
			    "%s\n", (int)P->pp_pid,
			    (unsigned long)s->pps_patch, strerror(errno));
			continue;
		}
		pt_dprintf("pid %d: restored %u bytes at %#lx (trampoline "
		    "%#lx of a dead run)\n", (int)P->pp_pid, s->pps_len,
		    (unsigned long)s->pps_patch, (unsigned long)s->pps_tramp);
		n++;
		s->pps_patch = 0;
		/* done: the entry goes, for whoever looks next */
		(void) pt_mem_write(P, at + offsetof(pt_page_hdr_t, ph_site) +
		    i * sizeof (*s), &zero, sizeof (zero));
	}
	free(tab);
	return n;
}

/*
 * Is mapping M a page a dead run left?  Its table's length in *NSITE.
 */
static bool
pt_page_dead_at(pt_proc_t *P, const pt_map_t *m, uint32_t *version,
    uint32_t *nsite)
{
	const size_t plen = strlen(PT_PAGE_PATH);
	const size_t fixed = offsetof(pt_page_hdr_t, ph_site);
	struct pt_page *ours = pt_page_cur(P);
	pt_page_hdr_t h;
	uint32_t word;

	if (strncmp(m->pm_path, PT_PAGE_PATH, plen) != 0 ||
	    (m->pm_path[plen] != '\0' && m->pm_path[plen] != ' ') ||
	    m->pm_offset != 0 || m->pm_end - m->pm_start < fixed ||
	    (ours != NULL && m->pm_start == ours->pg_at))
		return false;
	if (pt_mem_read(P, m->pm_start, &h, fixed) != (ssize_t)fixed ||
	    h.ph_magic != PT_PAGE_MAGIC || h.ph_version < 1 ||
	    h.ph_version > PT_PAGE_VERSION)
		return false;
	memcpy(&word, &h.ph_owner, sizeof (word));
	if (!pt_page_owner_dead(word)) {
		pt_dprintf("pid %d: page at %#lx is held by live thread %u: "
		    "left alone\n", (int)P->pp_pid,
		    (unsigned long)m->pm_start, word & PT_OWNER_TID);
		return false;
	}
	if (h.ph_nsite > PT_PAGE_NSITE || m->pm_end - m->pm_start <
	    fixed + h.ph_nsite * sizeof (pt_page_site_t))
		return false;
	pt_dprintf("pid %d: page of a dead run at %#lx (owner word %#x, "
	    "%u entries)\n", (int)P->pp_pid, (unsigned long)m->pm_start,
	    word, h.ph_nsite);
	*version = h.ph_version;
	*nsite = h.ph_nsite;
	return true;
}

/*
 * Pages of several dead runs may stack: a run that grabbed without
 * adopting patched over an older run's jump, and recorded that jump as
 * the original.  Its entry gives the older jump back, which the older
 * page's entry then matches: so passes go on while one restores
 * anything, whatever the order of the pages in the maps.
 */
int
pt_page_adopt(pt_proc_t *P)
{
	struct { uintptr_t at; uint32_t version, nsite; } *dead = NULL;
	pt_map_t *maps;
	size_t nmaps, ndead = 0;
	int rv, total = 0;

	PT_ASSERT_OWNER(P);
	if (P->pp_rdonly)
		return 0;
	if ((rv = pt_maps_read(P->pp_pid, &maps, &nmaps)) != 0)
		return err_set(rv < 0 ? -rv : EIO, "pid %d: cannot read its "
		    "maps for pages of dead runs", (int)P->pp_pid);
	for (size_t i = 0; i < nmaps; i++) {
		uint32_t version, nsite;

		if (!pt_page_dead_at(P, &maps[i], &version, &nsite) ||
		    nsite == 0)
			continue;
		if (dead == NULL && (dead = calloc(nmaps,
		    sizeof (*dead))) == NULL) {
			pt_maps_free(maps, nmaps);
			return err_set(ENOMEM, "pid %d: cannot adopt pages of "
			    "dead runs: %s", (int)P->pp_pid, strerror(ENOMEM));
		}
		dead[ndead].at = maps[i].pm_start;
		dead[ndead].version = version;
		dead[ndead++].nsite = nsite;
	}
	pt_maps_free(maps, nmaps);
	for (size_t pass = 0; pass <= ndead; pass++) {
		int n = 0;

		for (size_t i = 0; i < ndead; i++) {
			int k = pt_page_restore(P, dead[i].at,
			    dead[i].version, dead[i].nsite);

			if (k > 0)
				n += k;
		}
		total += n;
		if (n == 0)
			break;
	}
	free(dead);
	if (total > 0)
		pt_dprintf("pid %d: %d sites of dead runs restored\n",
		    (int)P->pp_pid, total);
	return total;
}
