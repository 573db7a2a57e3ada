/*
 * libstressa.so / libstressb.so - the plugins of the stress run
 * (tests/stress/run.sh): libstressb.c includes this file with
 * STRESS_LIB_B defined.  Both export stress_lib_fn at the same offset, in
 * files of the same layout, so that one unloaded and the other loaded
 * next take the same address: a breakpoint site that outlived the first
 * (issue 11, finding A) then sits on the second.  Their first
 * instructions are both "mov %edi,%eax" in two encodings, 89 f8 (A) and
 * 8b c7 (B): A's first byte written over B's makes "mov %eax,%edi", so
 * B computes from garbage instead of failing loudly, as in the finding.
 *	A: stress_lib_fn(x) = x + 3	B: stress_lib_fn(x) = 5 * x
 * Nothing else: no constructor, no libc call.
 */
#ifdef STRESS_LIB_B
#define STRESS_LIB_BODY \
	"	.byte 0x8b, 0xc7\n"	/* mov %edi,%eax */ \
	"	imull $5, %eax, %eax\n"
#else
#define STRESS_LIB_BODY \
	"	.byte 0x89, 0xf8\n"	/* mov %edi,%eax */ \
	"	addl $3, %eax\n"
#endif

asm(".text\n"
    ".p2align 4\n"
    ".globl stress_lib_fn\n"
    ".type stress_lib_fn, @function\n"
    "stress_lib_fn:\n"
    STRESS_LIB_BODY
    "	ret\n"
    ".size stress_lib_fn, .-stress_lib_fn\n"
    ".p2align 4\n");
