/*
 * harm.h - harm_fn(x) in assembly, so that libharma.so and libharmb.so
 * (harma.c, harmb.c) have it at the same offset, with different first
 * bytes: BODY is its instructions, padded to the same length.
 */
#define HARM_FN(body)							\
	__asm__(".text\n.globl harm_fn\n.type harm_fn, @function\n"	\
	    ".p2align 4\nharm_fn:\n" body				\
	    ".size harm_fn, . - harm_fn\n")
