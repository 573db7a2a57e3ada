/*
 * libharmb.so - harm_fn(x) = 7x, its first instruction an imul (6b): the
 * object that replaces libharma.so at the same address (see harma.c).
 */
__asm__(
	".text\n"
	".globl harm_fn\n"
	".type harm_fn, @function\n"
	".p2align 4\n"
	"harm_fn:\n"
	"	imul $7, %edi, %eax\n"		/* 6b c7 07 */
	"	ret\n"
	"	nop\n"
	"	nop\n"
	".size harm_fn, . - harm_fn\n");
