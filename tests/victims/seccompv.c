/*
 * seccompv - a program under a seccomp filter that kills it for mmap,
 * calling a probed function N times: dtproc must not inject the mmap of
 * its scratch area here (it steps over the site instead), so the program
 * survives, prints the sum and exits 0.  Usage: seccompv N [clock]
 * With "clock" the filter also answers the clock_gettime system call
 * with EPERM (the program's own clock reads go through the vDSO).
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* lea first: relocated out of line, were a scratch area allowed */
__attribute__((noinline, optimize("O2"))) int
seccomp_target(int x)
{
	return x * 3 + 1;
}

int
main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof (f) / sizeof (f[0]), f };
	int n = argc > 1 ? atoi(argv[1]) : 100;
	long s = 0;

	/* without "clock": past the clock rule's answer */
	if (argc <= 2 || strcmp(argv[2], "clock") != 0)
		f[3] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0, 0);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("seccompv: seccomp");
		return 77;
	}
	for (int i = 0; i < n; i++)
		s += seccomp_target(i);
	printf("sum %ld\n", s);
	return 0;
}
