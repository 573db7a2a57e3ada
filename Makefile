# Makefile - dtproc: DTrace's process-control layer for Linux.
#
#   make                    library (.so + .a) and the dtproc CLI
#   make check              + victims and test programs; tests/run.sh; ABI
#   make demo               watch and trace the bundled demo victim
#   make install/uninstall  PREFIX=/usr/local DESTDIR=
#   make clean
#
# Knobs: BUILD=dir  SAN=address,undefined|thread  WERROR=1  CC  CXX  CFLAGS
#        CPPFLAGS  LDFLAGS  LD  OBJCOPY  DTPROC_NO_DEPS=1 (skip mk/deps.sh)
# e.g.   make SAN=address,undefined BUILD=build-asan check

VERSION := 0.4.0
VERSION_MAJOR := $(word 1,$(subst ., ,$(VERSION)))

# the first rule below (a victim's) must not become the default goal
.DEFAULT_GOAL := all

# make's built-in default for CC is "cc"; prefer gcc unless the user chose.
ifeq ($(origin CC),default)
CC := gcc
endif
ifeq ($(origin CXX),default)
CXX := g++
endif
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=
WERROR  ?=
CFLAGS  ?= -O2 -g
CPPFLAGS ?=
LDFLAGS ?=
INSTALL ?= install
OBJCOPY ?= objcopy

# Libraries libdtproc needs; later -lelf -ldw -lZydis join here.  Also the
# Libs.private line of dtproc.pc.  libiberty (a static archive built
# -fPIC, hidden by the version script) demangles C++ and Rust names.
DEP_LIBS := -lelf -ldw -lZydis -liberty -lpthread

# ---------------------------------------------------------------- flags

WARNFLAGS := -Wall -Wextra $(if $(filter 1 yes,$(WERROR)),-Werror)
SANFLAGS  := $(if $(SAN),-fsanitize=$(SAN) -fno-omit-frame-pointer)
DEPFLAGS   = -MMD -MP

# Library, CLI and test programs: C11 plus GNU/POSIX interfaces.  Only
# the library and the tests see the internal headers (-Isrc): the CLI is
# built on include/dtproc.h alone, so it cannot reach past the public API.
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude $(CPPFLAGS) \
	$(WARNFLAGS) $(CFLAGS) $(SANFLAGS)
LIB_CFLAGS  := $(BASE_CFLAGS) -Isrc -fPIC -fvisibility=hidden
CLI_CFLAGS  := $(BASE_CFLAGS) -pthread
PROG_CFLAGS := $(BASE_CFLAGS) -Isrc -pthread
PROG_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread

# Victims are the traced targets, not code under test: -O0 -g, PIE, never
# sanitized (LeakSanitizer's exit-time ptrace would clash with our tracer).
# gnu11 so they may write asm().  Per victim extras: VICTIM_FLAGS_<name>,
# e.g. VICTIM_FLAGS_nopie := -fno-pie -no-pie
VICTIM_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Itests/victims $(CPPFLAGS) \
	$(WARNFLAGS) -O0 -g -pthread -fPIE -pie
VICTIM_CXXFLAGS := -std=gnu++17 -D_GNU_SOURCE -Itests/victims $(CPPFLAGS) \
	$(WARNFLAGS) -O0 -g -pthread -fPIE -pie

# ---------------------------------------------------------------- sources

LIB_SRCS  := $(sort $(wildcard src/*.c src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB_MAP   := src/dtproc.map

CLI_SRCS  := $(sort $(wildcard cli/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)

VICTIM_SRCS := $(sort $(wildcard tests/victims/*.c))
VICTIMS     := $(VICTIM_SRCS:%.c=$(BUILD)/%)
# C++ victims (demangling, exceptions through probed frames):
# tests/victims/NAME.cc, built by g++
CXX_VICTIM_SRCS := $(sort $(wildcard tests/victims/*.cc))
VICTIMS     += $(CXX_VICTIM_SRCS:%.cc=$(BUILD)/%)

# Test libraries: tests/libs/NAME.c -> $(BUILD)/tests/libs/libNAME.so, for
# victims to link (VICTIM_LIBS_<victim>) or dlopen.
TESTLIB_SRCS := $(sort $(wildcard tests/libs/*.c))
TESTLIBS     := $(TESTLIB_SRCS:tests/libs/%.c=$(BUILD)/tests/libs/lib%.so)
TESTLIB_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(CPPFLAGS) $(WARNFLAGS) -O0 -g \
	-shared -fPIC

# Per-victim test libraries (VICTIM_LIBS_<name>, linked after the source
# as VICTIM_LDLIBS_<name>) and flags.  nopie is symv.c built non-PIE;
# staticv is linked statically; symv-stripped is a stripped copy of symv.
TESTLIB_LINK = -L$(BUILD)/tests/libs $(foreach l,$(1),-l$(l)) \
	-Wl,-rpath,$(abspath $(BUILD))/tests/libs
VICTIM_LIBS_symv    := symlib
VICTIM_LIBS_nopie   := symlib
VICTIM_LDLIBS_symv  := $(call TESTLIB_LINK,$(VICTIM_LIBS_symv))
VICTIM_LDLIBS_nopie := $(call TESTLIB_LINK,$(VICTIM_LIBS_nopie))
VICTIM_FLAGS_nopie  := -fno-pie -no-pie
VICTIM_FLAGS_staticv := -fno-pie -no-pie -static
STRIPPED_VICTIMS := $(BUILD)/tests/victims/symv-stripped \
	$(BUILD)/tests/victims/stackv-stripped
# stackv: call chains at -O2 without frame pointers, for the unwinder; the
# _dbgframe copy keeps its CFI in .debug_frame only.
STACKV_FLAGS := -O2 -fomit-frame-pointer -fno-optimize-sibling-calls
VICTIM_FLAGS_stackv := $(STACKV_FLAGS)
VICTIM_FLAGS_stackv_nopie := $(STACKV_FLAGS) -fno-pie -no-pie
VICTIM_FLAGS_stackv_dbgframe := $(STACKV_FLAGS) -fno-asynchronous-unwind-tables \
	-fno-unwind-tables
# The probe victim's builds vary the first instruction of probe_target:
# push %rbp (probev, -O0), imul (-O2), endbr64 (-fcf-protection=full).
VICTIM_FLAGS_probev_o2  := -O2 -fcf-protection=none
VICTIM_FLAGS_usdtv      := -O2
VICTIM_FLAGS_probev_cet := -O2 -fcf-protection=full
VICTIM_FLAGS_probev_nopie := -O2 -fcf-protection=none -fno-pie -no-pie
# symnamesv: two translation units (namesakes), every strlen a call
VICTIM_FLAGS_symnamesv := -fno-builtin -x c tests/victims/symnamesv_twin.inc \
	-x none
$(BUILD)/tests/victims/symnamesv: tests/victims/symnamesv_twin.inc

HARNESS_SRC := $(wildcard tests/core/harness.c tests/core/harness_*.c)
HARNESS_OBJ := $(HARNESS_SRC:%.c=$(BUILD)/obj/%.o)
# Helpers the ctl_* tests share: linked into each of them with the harness.
CTLSUP_OBJ  := $(BUILD)/obj/tests/core/ctlsupport.o
CORE_SRCS   := $(filter-out $(HARNESS_SRC) tests/core/ctlsupport.c,$(sort $(wildcard tests/core/*.c)))
CORE_TESTS  := $(CORE_SRCS:%.c=$(BUILD)/%)
# examples/: the programs of dtproc(3), built as a user would (the
# public header, the shared library) so that they keep compiling.
EXAMPLES    := $(patsubst %.c,$(BUILD)/%,$(sort $(wildcard examples/*.c)))
CTL_TESTS   := $(filter $(BUILD)/tests/core/ctl_% $(BUILD)/tests/core/fprobe \
	$(BUILD)/tests/core/fprobe_up $(BUILD)/tests/core/fprobe_nostop, \
	$(CORE_TESTS))
$(CTL_TESTS): $(CTLSUP_OBJ)
$(CTL_TESTS): HARNESS_OBJ += $(CTLSUP_OBJ)
# cliparse tests the CLI's parsers (probe descriptions, --where) alone.
CLIPARSE_OBJS := $(BUILD)/obj/cli/desc.o $(BUILD)/obj/cli/where.o
$(BUILD)/tests/core/cliparse: $(CLIPARSE_OBJS)
$(BUILD)/tests/core/cliparse: HARNESS_OBJ += $(CLIPARSE_OBJS)
# params (dtproc_fn_params) drives its victim through the public API too.
$(BUILD)/tests/core/params: $(CTLSUP_OBJ)
$(BUILD)/tests/core/params: HARNESS_OBJ += $(CTLSUP_OBJ)

SO_REAL  := libdtproc.so.$(VERSION)
SO_NAME  := libdtproc.so.$(VERSION_MAJOR)
LIB_SO   := $(BUILD)/lib/$(SO_REAL)
LIB_LINKS := $(BUILD)/lib/$(SO_NAME) $(BUILD)/lib/libdtproc.so
LIB_A    := $(BUILD)/lib/libdtproc.a
# Every library object, internals global: for the tests and bench/ that
# call the layers directly.  Never installed.
LIB_INT  := $(BUILD)/lib/libdtproc-internal.a
# The installed archive's one object: the library objects linked together
# (ld -r), their hidden symbols then made local, so that only the
# DTPROC_API names stay global, as in the .so.
LIB_REL  := $(BUILD)/obj/libdtproc.o
CLI_BIN  := $(if $(CLI_SRCS),$(BUILD)/bin/dtproc)

FLAGS_STAMP   := $(BUILD)/.flags
VERSION_STAMP := $(BUILD)/.version-ok

# ---------------------------------------------------------------- targets

.PHONY: all lib victims tests check check-exports check-abi demo deps install \
	uninstall clean FORCE

all: lib $(CLI_BIN)

lib: $(LIB_SO) $(LIB_LINKS) $(LIB_A) $(LIB_INT)

victims: $(VICTIMS) $(STRIPPED_VICTIMS) $(TESTLIBS)

tests: $(CORE_TESTS) $(EXAMPLES)

# Install missing build packages (mk/deps.sh).  When check or demo is
# asked for, every compile waits for it (it hangs off the flags stamp), so
# the order holds under -j too.
deps:
	@sh mk/deps.sh

ifneq ($(filter check demo deps,$(MAKECMDGOALS)),)
$(FLAGS_STAMP): | deps
endif

# Rewritten only when the compiler or flags change, so switching SAN or
# CFLAGS in one build dir rebuilds everything instead of mixing objects.
FLAGS_SIG := $(CC) $(LIB_CFLAGS) | $(CLI_CFLAGS) | $(PROG_CFLAGS) | \
	$(PROG_LDFLAGS) | \
	$(VICTIM_CFLAGS) | $(TESTLIB_CFLAGS) | $(DEP_LIBS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(FLAGS_SIG)' ]; then \
		echo '$(FLAGS_SIG)' > $@; fi

# VERSION above must agree with include/dtproc.h.
$(VERSION_STAMP): include/dtproc.h Makefile
	@mkdir -p $(@D)
	@v=$$(for p in MAJOR MINOR PATCH; do \
		sed -n "s/^#define[[:space:]]*DTPROC_VERSION_$$p[[:space:]]*\([0-9]*\).*/\1/p" $<; \
		done | paste -sd. -); \
	if [ "$$v" != "$(VERSION)" ]; then \
		echo "dtproc: Makefile VERSION $(VERSION) does not match include/dtproc.h ($$v)" >&2; \
		exit 1; fi
	@touch $@

# Library objects: PIC, hidden by default (DTPROC_API exports).
$(BUILD)/obj/src/%.o: src/%.c $(FLAGS_STAMP) | $(VERSION_STAMP)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) $(DEPFLAGS) -c -o $@ $<

# CLI objects: the public header only.  Test objects may use internal
# headers.
$(BUILD)/obj/cli/%.o: cli/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/core/%.o: tests/core/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(PROG_CFLAGS) -Itests/core $(DEPFLAGS) -c -o $@ $<

# Shared library: soname libdtproc.so.0, exports fixed by the version script.
$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(SO_NAME) -Wl,--version-script=$(LIB_MAP) \
		-Wl,-z,defs $(LDFLAGS) $(SANFLAGS) -o $@ $(LIB_OBJS) $(DEP_LIBS)

$(BUILD)/lib/$(SO_NAME): $(LIB_SO)
	ln -sf $(SO_REAL) $@

$(BUILD)/lib/libdtproc.so: $(BUILD)/lib/$(SO_NAME)
	ln -sf $(SO_NAME) $@

$(LIB_REL): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(LD) -r -o $@.tmp $(LIB_OBJS)
	$(OBJCOPY) --localize-hidden $@.tmp $@
	@rm -f $@.tmp

$(LIB_A): $(LIB_REL)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIB_INT): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	$(AR) rcs $@ $^

# The command links the shared library, so what ships exercises the ABI.
# $$ORIGIN/../lib finds it both in $(BUILD)/bin and in PREFIX/bin.
$(BUILD)/bin/dtproc: $(CLI_OBJS) $(LIB_SO) $(LIB_LINKS)
	@mkdir -p $(@D)
	$(CC) $(PROG_LDFLAGS) -Wl,-rpath,'$$ORIGIN/../lib' -o $@ $(CLI_OBJS) \
		$(LIB_SO) -lm

$(BUILD)/examples/%: examples/%.c $(LIB_SO) $(LIB_LINKS) $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CLI_CFLAGS) $(PROG_LDFLAGS) -Wl,-rpath,'$$ORIGIN/../lib' \
		-o $@ $< $(LIB_SO)

$(BUILD)/tests/victims/%: tests/victims/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(VICTIM_CFLAGS) $(VICTIM_FLAGS_$*) $(DEPFLAGS) -MF $@.d \
		-o $@ $< $(VICTIM_LDLIBS_$*) -ldl

$(BUILD)/tests/victims/%: tests/victims/%.cc $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CXX) $(VICTIM_CXXFLAGS) $(VICTIM_FLAGS_$*) $(DEPFLAGS) -MF $@.d \
		-o $@ $<

# A victim linked against test libraries needs them built first.
$(foreach v,$(patsubst tests/victims/%.c,%,$(VICTIM_SRCS)),$(if \
	$(VICTIM_LIBS_$(v)),$(eval $(BUILD)/tests/victims/$(v): \
	$(VICTIM_LIBS_$(v):%=$(BUILD)/tests/libs/lib%.so))))

$(BUILD)/tests/libs/lib%.so: tests/libs/%.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(TESTLIB_CFLAGS) $(DEPFLAGS) -MF $@.d -o $@ $<

$(BUILD)/tests/victims/%-stripped: $(BUILD)/tests/victims/%
	strip -o $@ $<

$(BUILD)/tests/core/%: $(BUILD)/obj/tests/core/%.o $(HARNESS_OBJ) $(LIB_INT)
	@mkdir -p $(@D)
	$(CC) $(PROG_LDFLAGS) -o $@ $< $(HARNESS_OBJ) $(LIB_INT) $(DEP_LIBS)

# cli_view tests the CLI's summaries (cli/stats.c, hist.c, flame.c) alone.
VIEW_OBJS := $(addprefix $(BUILD)/obj/cli/,stats.o hist.o flame.o out.o)
$(BUILD)/tests/core/cli_view: $(VIEW_OBJS)
$(BUILD)/tests/core/cli_view: HARNESS_OBJ += $(VIEW_OBJS) -lm

# The .so may export dtproc_* names only (and must export some); the
# version nodes of the map show up as absolute symbols and are skipped.
check-exports: $(LIB_SO)
	@nm -D --defined-only $< | awk ' \
		$$2 == "A" && $$3 ~ /^DTPROC_[0-9.]+$$/ { next } \
		{ n = $$3; sub(/@.*/, "", n); \
		  if (n ~ /^dtproc_/) ok++; else { print "  " n; bad++ } } \
		END { if (bad) { print "check-exports: " bad " symbol(s) outside dtproc_*"; exit 1 } \
		      if (!ok) { print "check-exports: no dtproc_* symbol exported"; exit 1 } }' \
	|| { echo "check-exports: $< FAILED" >&2; exit 1; }
	@echo "check-exports: $(notdir $<) exports only dtproc_* symbols"

# The map against the header and the .so, and the installed archive's
# globals (mk/abi.sh).
check-abi: $(LIB_SO) $(LIB_A)
	@sh mk/abi.sh include/dtproc.h $(LIB_MAP) $(LIB_SO) $(LIB_A) $(VERSION)

check: deps all victims tests check-exports check-abi
	DTPROC_SAN='$(SAN)' bash tests/run.sh $(BUILD)

demo: deps all $(BUILD)/tests/victims/demo
	$(BUILD)/bin/dtproc watch -- $(BUILD)/tests/victims/demo
	$(BUILD)/bin/dtproc trace -f 'demo`*' -f 'libc.so.6`pthread_create' \
		-f 'libc.so.6`fork' -f 'libc.so.6`malloc' \
		-- $(BUILD)/tests/victims/demo

# ---------------------------------------------------------------- install

BINDIR := $(DESTDIR)$(PREFIX)/bin
LIBDIR := $(DESTDIR)$(PREFIX)/lib
INCDIR := $(DESTDIR)$(PREFIX)/include
PCDIR  := $(LIBDIR)/pkgconfig
MANDIR := $(DESTDIR)$(PREFIX)/share/man
MAN1   := $(wildcard man/*.1)
MAN3   := $(wildcard man/*.3)

install: all
	$(INSTALL) -d $(BINDIR) $(LIBDIR) $(INCDIR) $(PCDIR)
	$(if $(CLI_BIN),$(INSTALL) -m 755 $(CLI_BIN) $(BINDIR)/dtproc)
	$(INSTALL) -m 755 $(LIB_SO) $(LIBDIR)/$(SO_REAL)
	ln -sf $(SO_REAL) $(LIBDIR)/$(SO_NAME)
	ln -sf $(SO_NAME) $(LIBDIR)/libdtproc.so
	$(INSTALL) -m 644 $(LIB_A) $(LIBDIR)/libdtproc.a
	$(INSTALL) -m 644 include/dtproc.h $(INCDIR)/dtproc.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@LIBS_PRIVATE@|$(DEP_LIBS)|g' dtproc.pc.in > $(PCDIR)/dtproc.pc
	chmod 644 $(PCDIR)/dtproc.pc
	$(if $(MAN1),$(INSTALL) -d $(MANDIR)/man1 && $(INSTALL) -m 644 $(MAN1) $(MANDIR)/man1)
	$(if $(MAN3),$(INSTALL) -d $(MANDIR)/man3 && $(INSTALL) -m 644 $(MAN3) $(MANDIR)/man3)

uninstall:
	rm -f $(BINDIR)/dtproc $(LIBDIR)/$(SO_REAL) $(LIBDIR)/$(SO_NAME) \
		$(LIBDIR)/libdtproc.so $(LIBDIR)/libdtproc.a \
		$(INCDIR)/dtproc.h $(PCDIR)/dtproc.pc \
		$(addprefix $(MANDIR)/man1/,$(notdir $(MAN1))) \
		$(addprefix $(MANDIR)/man3/,$(notdir $(MAN3)))

# ---------------------------------------------------------------- misc

clean:
	rm -rf build build-* $(BUILD)

-include $(wildcard $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(HARNESS_OBJ:.o=.d) \
	$(CORE_SRCS:%.c=$(BUILD)/obj/%.d) $(VICTIMS:=.d) $(TESTLIBS:=.d))
-include $(wildcard $(CTLSUP_OBJ:.o=.d))

# Don't delete test objects as intermediates.
.SECONDARY:
