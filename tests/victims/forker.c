/*
 * forker fork | vfork | spawn | spawn_true - create a child, report how
 * it ended.  Both parent and child call bp_target(), so a breakpoint test
 * can check that the parent's hits are reported and the child is left
 * unharmed.
 *
 *	ready <pid> bp_target=<addr>
 *	(go line)			parent calls bp_target(1), then:
 *   fork:	child waits for a go line, calls bp_target(2), exits 42
 *   vfork:	child calls bp_target(2), _exits 43
 *   spawn:	posix_spawn of ourselves as "forker child 44": it waits for
 *		a go line, calls bp_target(2), exits 44
 *   spawn_true: posix_spawn of /bin/true (exits 0)
 *	child=<pid>
 *	child_exit=<status> | child_signal=<signo>
 *	parent_ok=<1 if every bp_target() result was right>
 * A child whose bp_target() result is wrong exits 99.  Exits 0.
 */
#define V_CHILDREN
#include "victim.h"

#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

__attribute__((noinline)) int
bp_target(int x)
{
	return 3 * x + 1;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fork";
	int ok;
	pid_t c = -1;

	v_init();
	if (strcmp(mode, "child") == 0) {
		int code = argc > 2 ? atoi(argv[2]) : 0;

		if (v_wait_go() < 0)
			return 98;
		return bp_target(2) == 7 ? code : 99;
	}

	printf("ready %d bp_target=%p\n", (int)getpid(), (void *)bp_target);
	if (v_wait_go() < 0)
		return 98;
	ok = bp_target(1) == 4;

	if (strcmp(mode, "fork") == 0) {
		c = fork();
		if (c == 0) {
			if (v_wait_go() < 0)
				_exit(98);
			_exit(bp_target(2) == 7 ? 42 : 99);
		}
	} else if (strcmp(mode, "vfork") == 0) {
		c = vfork();
		if (c == 0)
			_exit(bp_target(2) == 7 ? 43 : 99);
	} else if (strcmp(mode, "spawn") == 0) {
		char *av[] = { "forker", "child", "44", NULL };

		if ((errno = posix_spawn(&c, "/proc/self/exe", NULL, NULL,
		    av, environ)) != 0)
			v_die("posix_spawn");
	} else if (strcmp(mode, "spawn_true") == 0) {
		char *av[] = { "true", NULL };

		if ((errno = posix_spawn(&c, "/bin/true", NULL, NULL, av,
		    environ)) != 0)
			v_die("posix_spawn");
	} else {
		fprintf(stderr, "forker: unknown mode %s\n", mode);
		return 2;
	}
	if (c < 0)
		v_die(mode);

	v_report_child(c);
	ok &= bp_target(3) == 10;
	printf("parent_ok=%d\n", ok);
	return 0;
}
