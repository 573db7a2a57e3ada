/*
 * dl MODE ... - run-time loading: dlopen, dlmopen, deleted and
 * non-ELF objects, and dlopen/dlclose churn.
 *
 * open LIB:	ready <pid>; (go line); dlopen(LIB):
 *		opened fn=<dyn_fn> other=<dyn_other> counter=<&dyn_counter>;
 *		(go line); dlclose: closed; (go line); exits 0.
 * mopen LIB:	dlopen(LIB) in the base namespace and dlmopen(LM_ID_NEWLM,
 *		LIB) into a new one, then
 *		ready <pid> lm0_fn=<addr> lm1_fn=<addr> lmid=<n>
 *		    lm0_malloc=<addr> lm1_malloc=<addr>
 *		(go line); exits 0.
 * deleted LIB:	copies LIB to /tmp/dtproc-deleted-XXXXXX.so, dlopens the
 *		copy and unlinks it, then
 *		ready <pid> fn=<dyn_fn> path=<the copy's path>
 *		(go line); exits 0.
 * replaced LIB LIB2: copies LIB to /tmp/dtproc-replaced-XXXXXX.so,
 *		dlopens the copy, then puts a copy of LIB2 in its place (a
 *		new file renamed over the path, as a package upgrade does):
 *		ready <pid> fn=<dyn_fn> path=<the path>
 *		(go line); removes the path; exits 0.
 * churn N LIB:	ready <pid>; (go line); N times dlopen(LIB) + dlclose;
 *		done n=<N>; (go line); exits 0.  Each iteration maps and
 *		unmaps LIB (nothing else holds it open).
 * ldso PROG ARGS...: execs the run-time linker itself with PROG ARGS
 *		(/lib64/ld-linux-x86-64.so.2 PROG ARGS...), as one may run a
 *		program: the kernel then maps ld.so as the executable and
 *		ld.so maps PROG.  PROG speaks for itself from then on.
 * map FILE...:	mmaps each FILE (whole, PROT_READ|PROT_EXEC, private):
 *		ready <pid> map0=<addr> map1=<addr> ...
 *		(go line); exits 0.
 */
#include "victim.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

static void
ready_plain(void)
{
	printf("ready %d\n", (int)getpid());
	if (v_wait_go() < 0)
		exit(98);
}

static void
go(void)
{
	if (v_wait_go() < 0)
		exit(98);
}

static void *
sym_or_die(void *h, const char *name)
{
	void *p = dlsym(h, name);

	if (p == NULL) {
		fprintf(stderr, "victim: dlsym %s: %s\n", name, dlerror());
		exit(111);
	}
	return p;
}

static void *
open_or_die(Lmid_t lmid, const char *lib)
{
	void *h = lmid == LM_ID_BASE ? dlopen(lib, RTLD_NOW) :
	    dlmopen(lmid, lib, RTLD_NOW);

	if (h == NULL) {
		fprintf(stderr, "victim: dlopen %s: %s\n", lib, dlerror());
		exit(111);
	}
	return h;
}

static void
copy_file(const char *from, int tofd)
{
	char buf[65536];
	ssize_t n;
	int fd = open(from, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		v_die(from);
	while ((n = read(fd, buf, sizeof (buf))) > 0) {
		if (write(tofd, buf, (size_t)n) != n)
			v_die("write");
	}
	if (n < 0)
		v_die("read");
	close(fd);
}

/* Copy FROM to a new file from TEMPLATE (mkstemps, ".so" suffix) and
   dlopen that copy. */
static void *
open_copy(const char *from, char *template)
{
	int fd = mkstemps(template, 3);

	if (fd < 0)
		v_die("mkstemps");
	copy_file(from, fd);
	close(fd);
	return open_or_die(LM_ID_BASE, template);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	v_init();
	if (strcmp(mode, "open") == 0 && argc == 3) {
		ready_plain();
		void *h = open_or_die(LM_ID_BASE, argv[2]);
		printf("opened fn=%p other=%p counter=%p\n",
		    sym_or_die(h, "dyn_fn"), sym_or_die(h, "dyn_other"),
		    sym_or_die(h, "dyn_counter"));
		go();
		if (dlclose(h) != 0)
			v_die("dlclose");
		printf("closed\n");
		go();
		return 0;
	}
	if (strcmp(mode, "mopen") == 0 && argc == 3) {
		void *h0 = open_or_die(LM_ID_BASE, argv[2]);
		void *h1 = open_or_die(LM_ID_NEWLM, argv[2]);
		Lmid_t lmid = -1;

		if (dlinfo(h1, RTLD_DI_LMID, &lmid) != 0)
			v_die("dlinfo");
		printf("ready %d lm0_fn=%p lm1_fn=%p lmid=%ld lm0_malloc=%p "
		    "lm1_malloc=%p\n", (int)getpid(), sym_or_die(h0, "dyn_fn"),
		    sym_or_die(h1, "dyn_fn"), (long)lmid,
		    sym_or_die(h0, "malloc"), sym_or_die(h1, "malloc"));
		go();
		return 0;
	}
	if (strcmp(mode, "deleted") == 0 && argc == 3) {
		char path[] = "/tmp/dtproc-deleted-XXXXXX.so";
		void *h = open_copy(argv[2], path);

		if (unlink(path) != 0)
			v_die("unlink");
		printf("ready %d fn=%p path=%s\n", (int)getpid(),
		    sym_or_die(h, "dyn_fn"), path);
		go();
		return 0;
	}
	if (strcmp(mode, "replaced") == 0 && argc == 4) {
		char path[] = "/tmp/dtproc-replaced-XXXXXX.so", next[64];
		void *h = open_copy(argv[2], path);
		int fd;

		snprintf(next, sizeof (next), "%s.new", path);
		if ((fd = open(next, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644)) < 0)
			v_die(next);
		copy_file(argv[3], fd);
		close(fd);
		if (rename(next, path) != 0)
			v_die("rename");
		printf("ready %d fn=%p path=%s\n", (int)getpid(),
		    sym_or_die(h, "dyn_fn"), path);
		go();
		unlink(path);
		return 0;
	}
	if (strcmp(mode, "churn") == 0 && argc == 4) {
		int n = atoi(argv[2]);

		ready_plain();
		for (int i = 0; i < n; i++) {
			void *h = open_or_die(LM_ID_BASE, argv[3]);
			if (dlclose(h) != 0)
				v_die("dlclose");
		}
		printf("done n=%d\n", n);
		go();
		return 0;
	}
	if (strcmp(mode, "ldso") == 0 && argc >= 3) {
		static const char ldso[] = "/lib64/ld-linux-x86-64.so.2";

		argv[1] = (char *)ldso;
		execv(ldso, argv + 1);
		v_die(ldso);
	}
	if (strcmp(mode, "map") == 0 && argc >= 3) {
		printf("ready %d", (int)getpid());
		for (int i = 2; i < argc; i++) {
			struct stat st;
			void *p;
			int fd = open(argv[i], O_RDONLY | O_CLOEXEC);

			if (fd < 0 || fstat(fd, &st) != 0)
				v_die(argv[i]);
			p = mmap(NULL, st.st_size > 0 ? (size_t)st.st_size :
			    4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
			if (p == MAP_FAILED)
				v_die("mmap");
			close(fd);
			printf(" map%d=%p", i - 2, p);
		}
		printf("\n");
		go();
		return 0;
	}
	fprintf(stderr, "usage: dl open|mopen|deleted LIB | replaced LIB LIB2 "
	    "| churn N LIB | ldso PROG ARGS... | map FILE...\n");
	return 2;
}
