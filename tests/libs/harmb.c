/*
 * libharmb.so - harm_fn(x) = 7x, its first instruction an imul (6b): the
 * object that replaces libharma.so at the same address (see harma.c).
 */
#include "harm.h"

HARM_FN("imul $7, %edi, %eax\n ret\n nop\n nop\n");	/* 6b c7 07 */
