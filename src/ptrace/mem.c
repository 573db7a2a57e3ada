/*
 * mem.c - tracee memory.
 *
 * Reads need no ptrace stop and may come from any thread: they try
 * process_vm_readv (one copy, no /proc round trip) and fall back to
 * /proc/PID/mem, which also reads pages mapped without PROT_READ.
 * Writes go through /proc/PID/mem, which forces them into read-only
 * text (copy-on-write, as a debugger's must).
 */
#include "pt_impl.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t
pt_mem_read(pt_proc_t *P, uintptr_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = process_vm_readv(P->pp_pid, &local, 1, &remote, 1, 0);
	if (n == (ssize_t)len)
		return n;
	if (P->pp_memfd < 0)
		return n;
	n = pread(P->pp_memfd, buf, len, (off_t)addr);
	if (n == 0) {
		/* end of an address space: it exec'd or exited under us */
		errno = ESRCH;
		return -1;
	}
	return n;
}

ssize_t
pt_mem_write(pt_proc_t *P, uintptr_t addr, const void *buf, size_t len)
{
	ssize_t n;

	if (P->pp_rdonly || P->pp_memfd < 0) {
		errno = EPERM;
		return -1;
	}
	P->pp_memgen++;		/* a trap's words read before may be stale */
	do {
		n = pwrite(P->pp_memfd, buf, len, (off_t)addr);
	} while (n < 0 && errno == EINTR);
	if (n == 0 && len > 0) {
		/* nothing written: no page there (unmapped, or exit) */
		errno = EIO;
		return -1;
	}
	return n;
}
