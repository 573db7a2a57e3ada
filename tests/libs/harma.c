/*
 * libharma.so - harm_fn(x) = 3x + 1, its first instruction a lea (8d):
 * dlopened, probed, closed and replaced by libharmb.so at the same
 * address, whose harm_fn starts with another byte, so that a stale
 * original byte written back shows as a wrong result or a fault.  Both
 * are written in assembly so that harm_fn has the same offset in each.
 */
__asm__(
	".text\n"
	".globl harm_fn\n"
	".type harm_fn, @function\n"
	".p2align 4\n"
	"harm_fn:\n"
	"	lea 0x1(%rdi,%rdi,2), %eax\n"	/* 8d 44 7f 01 */
	"	ret\n"
	"	nop\n"
	".size harm_fn, . - harm_fn\n");
