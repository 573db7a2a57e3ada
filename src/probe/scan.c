/*
 * scan.c - the whole-object analysis behind the trampoline rules: which
 * addresses of an object some direct branch targets, and which of its
 * functions have an indirect jump.
 *
 * Why the whole object: a jump written over a window of instructions is
 * safe only if nothing lands inside the window.  Branches within one
 * function are not enough to look at: glibc's
 * `__mempcpy_avx_unaligned_erms` jumps 3 bytes into
 * `__memmove_avx_unaligned_erms`.  Direct branches leave an object only
 * through the PLT, so one object's code is the whole story.
 *
 * Every function the symbols layer knows (sym_iter: every name,
 * versioned or not) is decoded once with arch_scan over its original
 * text (pt_text_read: our int3s undone), and so is every gap between
 * two functions: an object with no .symtab keeps its local functions
 * there, and padding decodes harmlessly.  A misdecoded byte can only add
 * a target, that is refuse a site, never allow one.  The result is kept
 * per file, as offsets from the load bias, keyed by the file's device
 * and inode: the same analysis serves every process mapping the file,
 * and every dlopen cycle.  Files are kept in an LRU of PRB_SCAN_FILES
 * (a few MB at most: libc's targets are a few hundred KB), under one
 * mutex, since several control threads arm probes at once.  The decode
 * itself runs outside the lock; two threads analysing one file at once
 * both finish, and the second result is dropped.
 *
 * Left out: bounding switch tables.  A function with any indirect jump
 * (other than a rip-relative GOT slot, a tail call) is refused whole.
 */
#include "probe.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PRB_SCAN_FILES	32		/* files kept */
#define PRB_SCAN_CHUNK	(1UL << 20)	/* text read at once */
#define PRB_SCAN_GAP	(1UL << 20)	/* larger gaps are not code */
#define PRB_SCAN_UNSIZED (64UL << 10)	/* an unsized symbol's reach */

/* One function of a file: [pf_start, pf_start + pf_size) from the bias. */
typedef struct prb_func {
	uint32_t pf_start;
	uint32_t pf_size;	/* 0: not decoded (unreadable, unsized) */
	uint32_t pf_indirect;	/* has an indirect jump */
} prb_func_t;

/* One file's analysis, immutable once listed. */
typedef struct prb_scan {
	dev_t ps_dev;		/* key */
	ino_t ps_ino;
	uint32_t *ps_tgt;	/* branch targets, sorted, unique */
	size_t ps_ntgt;
	prb_func_t *ps_func;	/* functions, sorted by start */
	size_t ps_nfunc;
	struct prb_scan *ps_prev;	/* LRU, most recent first */
	struct prb_scan *ps_next;
} prb_scan_t;

static pthread_mutex_t prb_scan_lock = PTHREAD_MUTEX_INITIALIZER;
static prb_scan_t *prb_scan_head, *prb_scan_tail;	/* under the lock */
static size_t prb_scan_nfiles;

static void
prb_scan_free(prb_scan_t *ps)
{
	if (ps == NULL)
		return;
	free(ps->ps_tgt);
	free(ps->ps_func);
	free(ps);
}

static void
prb_scan_unlink(prb_scan_t *ps)
{
	if (ps->ps_prev != NULL)
		ps->ps_prev->ps_next = ps->ps_next;
	else
		prb_scan_head = ps->ps_next;
	if (ps->ps_next != NULL)
		ps->ps_next->ps_prev = ps->ps_prev;
	else
		prb_scan_tail = ps->ps_prev;
	ps->ps_prev = ps->ps_next = NULL;
	prb_scan_nfiles--;
}

static void
prb_scan_push(prb_scan_t *ps)
{
	ps->ps_prev = NULL;
	ps->ps_next = prb_scan_head;
	if (prb_scan_head != NULL)
		prb_scan_head->ps_prev = ps;
	else
		prb_scan_tail = ps;
	prb_scan_head = ps;
	prb_scan_nfiles++;
}

/* The analysis of (DEV, INO), made the most recent; under the lock. */
static prb_scan_t *
prb_scan_find(dev_t dev, ino_t ino)
{
	for (prb_scan_t *ps = prb_scan_head; ps != NULL; ps = ps->ps_next) {
		if (ps->ps_dev == dev && ps->ps_ino == ino) {
			prb_scan_unlink(ps);
			prb_scan_push(ps);
			return ps;
		}
	}
	return NULL;
}

/* ---- building one file's analysis ---- */

typedef struct prb_build {
	const char *pb_path;	/* the object, as the symbols layer has it */
	uintptr_t pb_bias;
	prb_func_t *pb_func;
	size_t pb_nfunc, pb_funcmax;
	uint32_t *pb_tgt;
	size_t pb_ntgt, pb_tgtmax;
	int pb_nomem;
	/* the text being decoded: [pb_bufat, pb_bufat + pb_buflen) */
	uint8_t *pb_buf;
	size_t pb_bufsz, pb_buflen;
	uintptr_t pb_bufat;
} prb_build_t;

static int
prb_build_func(const sym_info_t *si, void *arg)
{
	prb_build_t *b = arg;

	/* another object of the same path (a namespace) is not ours */
	if (si->sy_bias != b->pb_bias || si->sy_path == NULL ||
	    strcmp(si->sy_path, b->pb_path) != 0 || si->sy_addr < b->pb_bias ||
	    si->sy_addr - b->pb_bias > UINT32_MAX)
		return 0;
	if (b->pb_nfunc == b->pb_funcmax) {
		size_t nm = b->pb_funcmax ? 2 * b->pb_funcmax : 1024;
		prb_func_t *v = realloc(b->pb_func, nm * sizeof (*v));

		if (v == NULL) {
			b->pb_nomem = 1;
			return 1;
		}
		b->pb_func = v;
		b->pb_funcmax = nm;
	}
	b->pb_func[b->pb_nfunc].pf_start = (uint32_t)(si->sy_addr - b->pb_bias);
	b->pb_func[b->pb_nfunc].pf_size = si->sy_size > UINT32_MAX ? 0 :
	    (uint32_t)si->sy_size;
	b->pb_func[b->pb_nfunc].pf_indirect = 0;
	b->pb_nfunc++;
	return 0;
}

static void
prb_build_target(void *arg, uintptr_t to)
{
	prb_build_t *b = arg;

	if (to < b->pb_bias || to - b->pb_bias > UINT32_MAX)
		return;		/* not this object: nothing to patch there */
	if (b->pb_ntgt == b->pb_tgtmax) {
		size_t nm = b->pb_tgtmax ? 2 * b->pb_tgtmax : 4096;
		uint32_t *v = realloc(b->pb_tgt, nm * sizeof (*v));

		if (v == NULL) {
			b->pb_nomem = 1;
			return;
		}
		b->pb_tgt = v;
		b->pb_tgtmax = nm;
	}
	b->pb_tgt[b->pb_ntgt++] = (uint32_t)(to - b->pb_bias);
}

static int
prb_cmp_func(const void *a, const void *b)
{
	const prb_func_t *x = a, *y = b;

	if (x->pf_start != y->pf_start)
		return x->pf_start < y->pf_start ? -1 : 1;
	return x->pf_size > y->pf_size ? -1 : x->pf_size < y->pf_size;
}

static int
prb_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The original text [AT, AT+LEN), from the buffer, refilled when it does
 * not hold it (a chunk read at once: libc's text is a few reads).  NULL
 * when unreadable.
 */
static const uint8_t *
prb_build_text(pt_proc_t *P, prb_build_t *b, uintptr_t at, size_t len)
{
	size_t want;
	ssize_t n;

	if (at >= b->pb_bufat && at + len <= b->pb_bufat + b->pb_buflen)
		return b->pb_buf + (at - b->pb_bufat);
	want = len > PRB_SCAN_CHUNK ? len : PRB_SCAN_CHUNK;
	if (want > b->pb_bufsz) {
		uint8_t *v = realloc(b->pb_buf, want);

		if (v == NULL) {
			b->pb_nomem = 1;
			return NULL;
		}
		b->pb_buf = v;
		b->pb_bufsz = want;
	}
	n = pt_text_read(P, at, b->pb_buf, want);
	b->pb_bufat = at;
	b->pb_buflen = n > 0 ? (size_t)n : 0;
	if (b->pb_buflen < len) {
		/* a chunk running into a hole: the range asked alone */
		n = pt_text_read(P, at, b->pb_buf, len);
		b->pb_buflen = n > 0 ? (size_t)n : 0;
		if (b->pb_buflen < len)
			return NULL;
	}
	return b->pb_buf;
}

/* Decode [START, START+SIZE) of the object; its indirect flag. */
static int
prb_build_decode(pt_proc_t *P, prb_build_t *b, uint32_t start,
    uint32_t size)
{
	uintptr_t at = b->pb_bias + start;
	const uint8_t *text = prb_build_text(P, b, at, size);
	int indirect = 0;

	if (text == NULL)
		return -EFAULT;
	if (arch_scan(text, size, at, prb_build_target, b, &indirect) < 0)
		return -EINVAL;
	return indirect;
}

/* Analyse the object of FN (a function of it) in P: a new prb_scan_t. */
static prb_scan_t *
prb_scan_build(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn)
{
	prb_build_t b;
	prb_scan_t *ps;
	prb_func_t *vf;
	uint32_t *v32;
	size_t i, j;
	uint32_t end = 0;

	memset(&b, 0, sizeof (b));
	b.pb_path = fn->sy_path;
	b.pb_bias = fn->sy_bias;
	/* every name: the plain ones, then the versioned (compat) ones */
	if (sym_iter(S, fn->sy_path, "*", prb_build_func, &b) != 0 ||
	    sym_iter(S, fn->sy_path, "*@*", prb_build_func, &b) != 0 ||
	    b.pb_nomem || b.pb_nfunc == 0)
		goto fail;
	qsort(b.pb_func, b.pb_nfunc, sizeof (*b.pb_func), prb_cmp_func);
	for (i = j = 0; i < b.pb_nfunc; i++) {	/* one per start */
		if (j > 0 && b.pb_func[j - 1].pf_start == b.pb_func[i].pf_start)
			continue;
		b.pb_func[j++] = b.pb_func[i];
	}
	b.pb_nfunc = j;
	for (i = 0; i < b.pb_nfunc; i++) {
		prb_func_t *f = &b.pb_func[i];
		uint32_t next = i + 1 < b.pb_nfunc ? f[1].pf_start : 0;
		int rv;

		/* an unsized symbol (assembly) runs to the next one */
		if (f->pf_size == 0 && next > f->pf_start &&
		    next - f->pf_start <= PRB_SCAN_UNSIZED)
			f->pf_size = next - f->pf_start;
		/* the gap before it: local functions of a .dynsym object */
		if (end != 0 && end < f->pf_start &&
		    f->pf_start - end <= PRB_SCAN_GAP)
			(void) prb_build_decode(P, &b, end, f->pf_start - end);
		if (f->pf_size == 0)
			continue;
		if ((rv = prb_build_decode(P, &b, f->pf_start, f->pf_size)) < 0)
			f->pf_size = 0;		/* not analysed: refused */
		else
			f->pf_indirect = (uint32_t)rv;
		if (f->pf_start + f->pf_size > end)
			end = f->pf_start + f->pf_size;
	}
	if (b.pb_nomem)
		goto fail;
	qsort(b.pb_tgt, b.pb_ntgt, sizeof (*b.pb_tgt), prb_cmp_u32);
	for (i = j = 0; i < b.pb_ntgt; i++) {
		if (j == 0 || b.pb_tgt[j - 1] != b.pb_tgt[i])
			b.pb_tgt[j++] = b.pb_tgt[i];
	}
	b.pb_ntgt = j;
	if ((ps = calloc(1, sizeof (*ps))) == NULL)
		goto fail;
	free(b.pb_buf);
	/* shrink to what is kept: the LRU's memory is the sum of these */
	if (j == 0) {
		free(b.pb_tgt);
		b.pb_tgt = NULL;
	} else if ((v32 = realloc(b.pb_tgt, j * sizeof (*v32))) != NULL) {
		b.pb_tgt = v32;
	}
	ps->ps_tgt = b.pb_tgt;
	ps->ps_ntgt = j;
	if ((vf = realloc(b.pb_func, b.pb_nfunc * sizeof (*vf))) != NULL)
		b.pb_func = vf;
	ps->ps_func = b.pb_func;
	ps->ps_nfunc = b.pb_nfunc;
	return ps;
fail:
	free(b.pb_buf);
	free(b.pb_tgt);
	free(b.pb_func);
	return NULL;
}

/* ---- questions ---- */

/* The file under FN's object: (dev, inode), from the maps, else stat. */
static int
prb_scan_key(sym_proc_t *S, pid_t pid, const sym_info_t *fn, dev_t *dev,
    ino_t *ino)
{
	sym_objinfo_t oi;
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; sym_object(S, i, &oi) == 0; i++) {
		if (oi.so_bias != fn->sy_bias || oi.so_path == NULL ||
		    strcmp(oi.so_path, fn->sy_path) != 0)
			continue;
		if (oi.so_dev != 0 || oi.so_ino != 0) {
			*dev = oi.so_dev;
			*ino = oi.so_ino;
			return 0;
		}
		break;
	}
	/* the process's view of the path (its mount namespace) */
	if (snprintf(path, sizeof (path), "/proc/%d/root%s", (int)pid,
	    fn->sy_path) >= (int)sizeof (path) || stat(path, &st) != 0)
		return -ENOENT;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

/* The function of PS starting at OFF, or NULL. */
static const prb_func_t *
prb_scan_func(const prb_scan_t *ps, uint32_t off)
{
	size_t lo = 0, hi = ps->ps_nfunc;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ps->ps_func[mid].pf_start < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ps->ps_nfunc && ps->ps_func[lo].pf_start == off ?
	    &ps->ps_func[lo] : NULL;
}

/* Does some target T have LO < T < HI? */
static int
prb_scan_targeted(const prb_scan_t *ps, uint32_t lo, uint32_t hi)
{
	size_t a = 0, z = ps->ps_ntgt;

	while (a < z) {		/* first target > LO */
		size_t mid = (a + z) / 2;

		if (ps->ps_tgt[mid] <= lo)
			a = mid + 1;
		else
			z = mid;
	}
	return a < ps->ps_ntgt && ps->ps_tgt[a] < hi;
}

/* The rules of one window on an analysis; under the lock. */
static const char *
prb_scan_rules(const prb_scan_t *ps, const sym_info_t *fn, uintptr_t patch,
    size_t len)
{
	uint32_t start = (uint32_t)(fn->sy_addr - fn->sy_bias);
	uint32_t lo = (uint32_t)(patch - fn->sy_bias);
	const prb_func_t *f = prb_scan_func(ps, start);

	if (f == NULL || f->pf_size == 0)
		return "function not analysed";
	if (prb_scan_targeted(ps, lo, lo + (uint32_t)len))
		return "a branch targets the window";
	/* a function nested in another one shares its jump tables */
	for (size_t i = 0; i < ps->ps_nfunc; i++) {
		const prb_func_t *g = &ps->ps_func[i];

		if (g->pf_start > start)
			break;
		if (g->pf_indirect && start < g->pf_start + g->pf_size)
			return "indirect jump in the function";
	}
	return NULL;
}

const char *
prb_scan_check(pt_proc_t *P, sym_proc_t *S, const sym_info_t *fn,
    uintptr_t patch, size_t len)
{
	prb_scan_t *ps, *old;
	const char *why;
	dev_t dev;
	ino_t ino;

	if (fn->sy_path == NULL || fn->sy_path[0] != '/' ||
	    fn->sy_addr < fn->sy_bias || patch + len - fn->sy_bias >
	    UINT32_MAX)
		return "object not analysed";
	if (prb_scan_key(S, pt_pid(P), fn, &dev, &ino) != 0)
		return "object not analysed";
	(void) pthread_mutex_lock(&prb_scan_lock);
	if ((ps = prb_scan_find(dev, ino)) != NULL) {
		why = prb_scan_rules(ps, fn, patch, len);
		(void) pthread_mutex_unlock(&prb_scan_lock);
		return why;
	}
	(void) pthread_mutex_unlock(&prb_scan_lock);

	/* the decode, unlocked: other control threads go on meanwhile */
	if ((ps = prb_scan_build(P, S, fn)) == NULL)
		return "object not analysed";
	ps->ps_dev = dev;
	ps->ps_ino = ino;
	(void) pthread_mutex_lock(&prb_scan_lock);
	if ((old = prb_scan_find(dev, ino)) != NULL) {
		prb_scan_free(ps);	/* another thread was first */
		ps = old;
	} else {
		prb_scan_push(ps);
		while (prb_scan_nfiles > PRB_SCAN_FILES) {
			old = prb_scan_tail;
			prb_scan_unlink(old);
			prb_scan_free(old);
		}
	}
	why = prb_scan_rules(ps, fn, patch, len);
	(void) pthread_mutex_unlock(&prb_scan_lock);
	return why;
}

size_t
prb_scan_files(void)
{
	size_t n;

	(void) pthread_mutex_lock(&prb_scan_lock);
	n = prb_scan_nfiles;
	(void) pthread_mutex_unlock(&prb_scan_lock);
	return n;
}
