/*
 * stackv_dbgframe - stackv whose CFI is in .debug_frame only (no
 * .eh_frame: -fno-asynchronous-unwind-tables -g), so the unwinder must
 * fall back from .eh_frame to .debug_frame for its own frames.
 */
#include "stackv.c"
