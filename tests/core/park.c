/*
 * park.c - the park page (ptrace/follow.c, arch/park.c) on its own: a
 * process parked and let go, that nobody takes, comes out by itself
 * exactly as it was (every register it had at its stop, its flags, its
 * signal mask, a signal sent meanwhile delivered after); pt_park_undo
 * puts it back at once and unmaps the page.
 *
 * The child stops itself with regs_stop (harness_regs.c): known values
 * in every register, checked after in the same asm block, so a register
 * the park lost shows as a bit of the result.
 */
#include "harness.h"

#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

/*
 * The child: SIGUSR2 blocked, SIGUSR1 handled, traced by the test; it
 * stops, then reports what came back in its exit status (0: all), after
 * a byte on GO (the test may look at it first).
 */
static _Noreturn void
park_child(int go)
{
	int st = regs_child("park child");
	char b;

	if (read(go, &b, 1) < 0)
		st |= 8;
	_exit(st);
}

/* Fork the child and park it at its stop: *PK, its pid. */
static pid_t
park_start(pt_park_t *pk, int *go)
{
	int p[2], st;
	pid_t pid;

	CHECK(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[1]);
		park_child(p[0]);
	}
	close(p[0]);
	*go = p[1];
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_MSG(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "status %#x",
	    st);
	CHECK_MSG(pt_park(pid, false, 0, pk) == 0, "pt_park: %s", err_msg());
	CHECK(pk->pk_page != 0 && pk->pk_pid == pid);
	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	/* blocked: it waits for the park's end */
	CHECK(kill(pid, SIGUSR1) == 0);
	return pid;
}

static bool
park_mapped(pid_t pid, uintptr_t page)
{
	char path[64], line[256], want[32];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof (path), "/proc/%d/maps", (int)pid);
	snprintf(want, sizeof (want), "%lx-", (unsigned long)page);
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof (line), f) != NULL)
		if (strncmp(line, want, strlen(want)) == 0)
			found = true;
	fclose(f);
	return found;
}

/* Nobody takes it: it comes out by itself, whole (the page stays). */
TEST_TIMEOUT(park_alone_comes_out_whole, 30)
{
	pt_park_t pk;
	int go, st;
	pid_t pid = park_start(&pk, &go);

	CHECK(park_mapped(pid, pk.pk_page));
	CHECK(write(go, "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EXITED(st, 0);
	close(go);
}

/* pt_park_undo: put back at once, the page gone, whole. */
TEST_TIMEOUT(park_undo_puts_back, 30)
{
	pt_park_t pk;
	int go, st;
	pid_t pid = park_start(&pk, &go);

	pt_park_undo(&pk);
	CHECK(!park_mapped(pid, pk.pk_page));
	CHECK(write(go, "g", 1) == 1);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK_EXITED(st, 0);
	close(go);
}
