/*
 * libharma.so - harm_fn(x) = 3x + 1, its first instruction a lea (8d):
 * dlopened, probed, closed and replaced by libharmb.so at the same
 * address, whose harm_fn starts with another byte, so that a stale
 * original byte written back shows as a wrong result or a fault.
 */
#include "harm.h"

HARM_FN("lea 0x1(%rdi,%rdi,2), %eax\n ret\n nop\n");	/* 8d 44 7f 01 */
