/*
 * ctlv MODE ... - the control layer's victim: a constructor that leaves
 * a mark (or ends the process), a target function to break on, and a
 * line protocol to drive it step by step.
 *
 * The constructor looks at argv[1] first:
 *	ctor_exit	_exit(5) before main
 *	ctor_kill	SIGKILL itself before main
 *	ctor_term	raise(SIGTERM) (default action) before main
 *	anything else	ctor_mark = 0x1234
 * main sets main_mark = 1 first thing, then:
 *
 * exit [N]:	marks ctor=<ctor_mark> main=<main_mark>; exits N (0).
 * wait [N]:	ready <pid> ctor_mark=<addr> main_mark=<addr>
 *		    target=<ctl_target> data=<addr of data[]>
 *		(go line); exits N (default 0).
 * echo:	the same ready line, then for each line read:
 *		  q		bye; exits 0
 *		  c N		calls ctl_target(i) for i < N:
 *				called n=<N> sum=<sum of results>
 *		  d		data=<data[]>
 *		  other		echo <line>
 *		EOF exits 0 as well.
 * exec PROG [ARGS...]: the ready line; (go line); ctl_target(1);
 *		prints "exec"; execv(PROG, {PROG, ARGS...}).
 * fds:		fds=<open descriptors, e.g. 0,1,2> blocked=<blocked
 *		signals, or none>; exits 0.
 * dlopen LIB:	the ready line; (go line); dlopen(LIB), dyn_fn(3) twice:
 *		called fn=<dyn_fn> r=<dyn_fn(3)>; (go line); dlclose:
 *		closed; (go line); exits 0.
 *
 * ctl_target(x) = 2x + 1.  Never sleeps.
 */
#define V_SIGNALS
#include "victim.h"

#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>

int ctor_mark;
int main_mark;
char data[64] = "ctlv-data";

__attribute__((noinline)) int
ctl_target(int x)
{
	return 2 * x + 1;
}

__attribute__((constructor)) static void
ctlv_ctor(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc > 1 && strcmp(argv[1], "ctor_exit") == 0)
		_exit(5);
	if (argc > 1 && strcmp(argv[1], "ctor_kill") == 0)
		kill(getpid(), SIGKILL);
	if (argc > 1 && strcmp(argv[1], "ctor_term") == 0) {
		signal(SIGTERM, SIG_DFL);
		raise(SIGTERM);
	}
	ctor_mark = 0x1234;
}

static void
ready(void)
{
	printf("ready %d ctor_mark=%p main_mark=%p target=%p data=%p\n",
	    (int)getpid(), (void *)&ctor_mark, (void *)&main_mark,
	    (void *)ctl_target, (void *)data);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";
	char line[256];

	main_mark = 1;
	v_init();
	if (strcmp(mode, "exit") == 0) {
		printf("marks ctor=%d main=%d\n", ctor_mark, main_mark);
		return argc > 2 ? atoi(argv[2]) : 0;
	}
	if (strcmp(mode, "wait") == 0) {
		ready();
		if (v_wait_go() < 0)
			return 98;
		return argc > 2 ? atoi(argv[2]) : 0;
	}
	if (strcmp(mode, "echo") == 0) {
		ready();
		while (v_getline(line, sizeof (line)) >= 0) {
			if (strcmp(line, "q") == 0) {
				printf("bye\n");
				return 0;
			}
			if (line[0] == 'c' && line[1] == ' ') {
				int n = atoi(line + 2);
				long s = 0;

				for (int i = 0; i < n; i++)
					s += ctl_target(i);
				printf("called n=%d sum=%ld\n", n, s);
			} else if (strcmp(line, "d") == 0) {
				printf("data=%s\n", data);
			} else {
				printf("echo %s\n", line);
			}
		}
		return 0;
	}
	if (strcmp(mode, "exec") == 0 && argc > 2) {
		ready();
		if (v_wait_go() < 0)
			return 98;
		if (ctl_target(1) != 3)
			return 99;
		printf("exec\n");
		execv(argv[2], argv + 2);
		v_die("execv");
	}
	if (strcmp(mode, "dlopen") == 0 && argc > 2) {
		void *h;
		int (*fn)(int);
		int r;

		ready();
		if (v_wait_go() < 0)
			return 98;
		if ((h = dlopen(argv[2], RTLD_NOW)) == NULL ||
		    (fn = (int (*)(int))dlsym(h, "dyn_fn")) == NULL) {
			fprintf(stderr, "ctlv: %s\n", dlerror());
			return 111;
		}
		r = fn(3);
		if (fn(3) != r)
			return 99;
		printf("called fn=%p r=%d\n", (void *)fn, r);
		if (v_wait_go() < 0)
			return 98;
		if (dlclose(h) != 0)
			return 97;
		printf("closed\n");
		if (v_wait_go() < 0)
			return 98;
		return 0;
	}
	if (strcmp(mode, "fds") == 0) {
		DIR *d = opendir("/proc/self/fd");
		struct dirent *e;
		int fds[256], n = 0;

		if (d == NULL)
			v_die("opendir");
		while ((e = readdir(d)) != NULL && n < 256) {
			if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
			    atoi(e->d_name) != dirfd(d))
				fds[n++] = atoi(e->d_name);
		}
		closedir(d);
		for (int i = 1; i < n; i++) {	/* sort */
			for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
				int t = fds[j];
				fds[j] = fds[j - 1];
				fds[j - 1] = t;
			}
		}
		printf("fds=");
		for (int i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", fds[i]);
		v_print_blocked(" ");
		return 0;
	}
	fprintf(stderr, "ctlv: unknown mode %s\n", mode);
	return 2;
}
