/*
 * follow.c - handing a child to an owner thread of its own.
 *
 * The kernel attaches a fork child to the thread that traces its parent,
 * and only that thread may use ptrace on it; each controlled process has
 * an owner thread of its own.  A tracee cannot change tracer thread
 * while attached, so the child is detached and seized again by its new
 * owner, and it must run nothing of its own in between: its first calls
 * would go unseen, a handler could run, and our sites would not be set
 * yet.  So before the detach it is parked: every signal blocked
 * (PTRACE_SETSIGMASK: pending ones wait), and the two bytes at its pc
 * replaced, in its own copy of the memory, by a jump to itself.  It
 * spins on that one instruction, untraced and invisible to its parent (a
 * SIGSTOP would stop it, which its parent may hear: the stop was sent
 * to it), until the new owner seizes it, whose stop finds it at that pc
 * and gives back the bytes and the mask (pt_unpark).  A SIGKILL kills it
 * as ever.  Only private memory is written: a pc in a shared mapping
 * (or one we cannot read) is not parked, and the child goes as before.
 */
#include "pt_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

void
pt_set_follow(pt_proc_t *P, bool on)
{
	PT_ASSERT_OWNER(P);
	P->pp_follow = on;
}

void
pt_set_fork_hook(pt_proc_t *P, pt_fork_f *fn, void *arg)
{
	PT_ASSERT_OWNER(P);
	P->pp_fork_fn = fn;
	P->pp_fork_arg = arg;
}

/* Does PC lie in a private mapping of PID's (written there, ours alone)? */
static bool
pt_park_private(pid_t pid, uintptr_t pc)
{
	pt_map_t *maps;
	size_t n;
	bool ok = false;

	if (pt_maps_read(pid, &maps, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (pc >= maps[i].pm_start &&
		    pc + ARCH_SPIN_LEN <= maps[i].pm_end) {
			ok = !maps[i].pm_shared;
			break;
		}
	}
	pt_maps_free(maps, n);
	return ok;
}

static int
pt_park_mem(pid_t pid, uintptr_t pc, const void *put, void *old)
{
	char path[64];
	int fd, rv = 0;

	snprintf(path, sizeof (path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return -errno;
	if ((old != NULL && pread(fd, old, ARCH_SPIN_LEN, (off_t)pc) !=
	    ARCH_SPIN_LEN) ||
	    pwrite(fd, put, ARCH_SPIN_LEN, (off_t)pc) != ARCH_SPIN_LEN)
		rv = errno ? -errno : -EIO;
	close(fd);
	return rv;
}

/*
 * Park CHILD, in a ptrace stop of ours, before it is detached: 0 with
 * *PK filled, or -errno with nothing changed.
 */
int
pt_park(pid_t child, pt_park_t *pk)
{
	uint64_t all = ~0ULL;
	arch_regs_t r;
	int rv;

	memset(pk, 0, sizeof (*pk));
	if (arch_regs_read(child, &r) != 0)
		return err_set(ESRCH, "pid %d: cannot read its registers",
		    (int)child);
	pk->pk_pc = arch_pc(&r);
	if (!pt_park_private(child, pk->pk_pc))
		return err_set(EPERM, "pid %d: its pc %#lx is not in private "
		    "memory: not followed", (int)child,
		    (unsigned long)pk->pk_pc);
	if (ptrace(PTRACE_GETSIGMASK, child, sizeof (pk->pk_mask),
	    &pk->pk_mask) != 0 ||
	    ptrace(PTRACE_SETSIGMASK, child, sizeof (all), &all) != 0)
		return err_set(errno, "pid %d: cannot block its signals: %s",
		    (int)child, strerror(errno));
	if ((rv = pt_park_mem(child, pk->pk_pc, ARCH_SPIN_INSN,
	    pk->pk_orig)) != 0) {
		(void) ptrace(PTRACE_SETSIGMASK, child, sizeof (pk->pk_mask),
		    &pk->pk_mask);
		return err_set(-rv, "pid %d: cannot park it: %s", (int)child,
		    strerror(-rv));
	}
	pk->pk_pid = child;
	pt_dprintf("pid %d: parked at %#lx\n", (int)child,
	    (unsigned long)pk->pk_pc);
	return 0;
}

/*
 * The new owner, right after pt_grab (every thread stopped): the bytes
 * and the mask back.  The thread stays where it is: at the spin's pc,
 * which is the pc it was parked with.
 */
int
pt_unpark(pt_proc_t *P, const pt_park_t *pk)
{
	uint8_t cur[ARCH_SPIN_LEN];

	PT_ASSERT_OWNER(P);
	if (pt_mem_read(P, pk->pk_pc, cur, sizeof (cur)) == sizeof (cur) &&
	    memcmp(cur, ARCH_SPIN_INSN, ARCH_SPIN_LEN) == 0 &&
	    pt_mem_write(P, pk->pk_pc, pk->pk_orig, ARCH_SPIN_LEN) !=
	    ARCH_SPIN_LEN)
		return err_set(errno ? errno : EIO, "pid %d: cannot unpark "
		    "it at %#lx", (int)P->pp_pid, (unsigned long)pk->pk_pc);
	if (ptrace(PTRACE_SETSIGMASK, P->pp_pid, sizeof (pk->pk_mask),
	    &pk->pk_mask) != 0)
		return err_set(errno, "pid %d: cannot give back its signal "
		    "mask: %s", (int)P->pp_pid, strerror(errno));
	pt_dprintf("pid %d: unparked\n", (int)P->pp_pid);
	return 0;
}

/*
 * Nobody took the parked child: seize it here, give it back its bytes
 * and mask, and let it go.  If even that fails it is killed: spinning
 * with every signal blocked it could never do anything else.
 */
void
pt_park_undo(const pt_park_t *pk)
{
	pid_t pid = pk->pk_pid;
	int status = 0;
	pid_t r;

	if (pid == 0)
		return;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 &&
	    ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0) {
		do {
			r = waitpid(pid, &status, __WALL);
		} while (r < 0 && errno == EINTR);
		if (r == pid && WIFSTOPPED(status) &&
		    pt_park_mem(pid, pk->pk_pc, pk->pk_orig, NULL) == 0 &&
		    ptrace(PTRACE_SETSIGMASK, pid, sizeof (pk->pk_mask),
		    &pk->pk_mask) == 0 &&
		    ptrace(PTRACE_DETACH, pid, 0, 0) == 0)
			return;
		if (r == pid && !WIFSTOPPED(status))
			return;		/* gone */
	}
	pt_dprintf("pid %d: parked and not taken: killed\n", (int)pid);
	(void) kill(pid, SIGKILL);
}
