# flowrw — DeepFlow flow metrics to Prometheus remote write.
#
# Targets:
#   make            build bin/flowrw, bin/flowrw-ingest, bin/flowrw-encoder,
#                   bin/flowrw-sender and the tools (bin/flowrw-receiver)
#   make run        quick start: synthetic source -> flowrw -> demo receiver
#   make test       unit tests, end-to-end and fault tests (non-zero on failure)
#   make test-long  the fault tests that take more than a minute
#   make asan       the same tests built with ASan+UBSan (build-asan/)
#   make bench      the benchmarks of bench/ (figures go to docs/BENCHMARKS.md)
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
#   make deps       apt-get install what the build and tests need (as root)
#   make clean      remove build/, build-asan/ and bin/
#   make help       this text
#
# Variables: SANITIZE=address,undefined builds into build-asan/;
# O=DIR changes the build folder; V=1 shows commands.

CC       ?= cc
O        ?= build
BIN      ?= bin
SANITIZE ?=
VERSION  := 0.1.0

ifeq ($(SANITIZE),)
OPT := -O2
else ifeq ($(SANITIZE),address,undefined)
OPT := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -DDEBUG_ASSERTS
else ifeq ($(SANITIZE),thread)
OPT := -O1 -fsanitize=thread
else
$(error SANITIZE must be empty, address,undefined or thread)
endif

PKGS     := liburing yaml-0.1 libprotobuf-c
WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wvla \
            -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CPPFLAGS := -D_GNU_SOURCE -DFLOWRW_VERSION=\"$(VERSION)\" -I. -I$(O)/gen -MMD -MP
CFLAGS   := -std=gnu11 -g $(OPT) -fno-omit-frame-pointer $(WARN) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  := $(filter -fsanitize=%,$(OPT))
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lsnappy -lm
TEST_LDLIBS := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

ifneq ($(V),1)
Q := @
endif

# --- sources ---------------------------------------------------------------
# Every directory's .c files except main.c go into one static library that
# the four binaries, the tools and the tests link; a role's main.c is thin.
PROTOS    := $(wildcard proto/*.proto)
GEN_SRCS  := $(patsubst proto/%.proto,$(O)/gen/%.pb-c.c,$(PROTOS))
GEN_HDRS  := $(GEN_SRCS:.c=.h)
LIB_SRCS  := $(filter-out %/main.c,$(wildcard common/*.c ingest/*.c encoder/*.c sender/*.c supervisor/*.c))
LIB_OBJS  := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS)) $(GEN_SRCS:.c=.o)
LIB       := $(O)/libflowrw.a

ROLE_BINS := $(BIN)/flowrw $(BIN)/flowrw-ingest $(BIN)/flowrw-encoder $(BIN)/flowrw-sender
# tools/<name>/*.c -> bin/<name>
TOOL_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard tools/*/*.c))))
TOOL_BINS := $(patsubst tools/%,$(BIN)/%,$(TOOL_DIRS))
# tests/unit/test_<module>.c -> $(O)/tests/test_<module> (Criterion)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
# tests/tools/<name>/*.c -> $(O)/tests/<name> (test receivers, generators)
TTOOL_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard tests/tools/*/*.c))))
TTOOL_BINS := $(patsubst tests/tools/%,$(O)/tests/%,$(TTOOL_DIRS))
# bench/<name>.c -> $(O)/bench/<name>
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRCS))

ALL_OBJS := $(LIB_OBJS) $(patsubst %.c,$(O)/%.o,$(wildcard */main.c) \
            $(wildcard tools/*/*.c) $(UNIT_SRCS) $(wildcard tests/tools/*/*.c) $(BENCH_SRCS))

.SECONDARY: $(GEN_SRCS) $(GEN_HDRS)
.PHONY: all test test-unit test-long asan bench fuzz deps run clean help tests-build
all: $(ROLE_BINS) $(TOOL_BINS)

# A flags stamp: objects rebuild when the compile line changes.
$(O)/CFLAGS.stamp: FORCE
	@mkdir -p $(O)
	@echo '$(CC) $(CPPFLAGS) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CPPFLAGS) $(CFLAGS)' > $@
FORCE:

$(O)/gen/%.pb-c.c $(O)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(O)/gen
	@echo "  PROTOC  $<"
	$(Q)protoc-c --proto_path=proto --c_out=$(O)/gen $<

$(O)/gen/%.pb-c.o: $(O)/gen/%.pb-c.c $(O)/CFLAGS.stamp
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(O)/%.o: %.c $(O)/CFLAGS.stamp | $(GEN_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN)/flowrw: $(O)/supervisor/main.o $(LIB)
$(BIN)/flowrw-ingest: $(O)/ingest/main.o $(LIB)
$(BIN)/flowrw-encoder: $(O)/encoder/main.o $(LIB)
$(BIN)/flowrw-sender: $(O)/sender/main.o $(LIB)
$(ROLE_BINS):
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

.SECONDEXPANSION:
# (make substitutes the stem for every % here, so no patsubst patterns)
$(TOOL_BINS): $(BIN)/%: $$(addprefix $(O)/,$$(subst .c,.o,$$(wildcard tools/%/*.c))) $(LIB)
	@mkdir -p $(BIN)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TTOOL_BINS): $(O)/tests/%: $$(addprefix $(O)/,$$(subst .c,.o,$$(wildcard tests/tools/%/*.c))) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT_BINS): $(O)/tests/%: $(O)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LDLIBS)

$(BENCH_BINS): $(O)/bench/%: $(O)/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

tests-build: all $(UNIT_BINS) $(TTOOL_BINS) $(BENCH_BINS)

# --- running ---------------------------------------------------------------
test: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run --build $(O) --bin $(BIN)

test-unit: tests-build
	$(Q)tests/run --build $(O) --bin $(BIN) --only unit

test-long: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)tests/run --build $(O) --bin $(BIN) --long

asan: deps
	$(Q)$(MAKE) --no-print-directory SANITIZE=address,undefined O=build-asan BIN=build-asan/bin tests-build
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    tests/run --build build-asan --bin build-asan/bin

bench: deps
	$(Q)$(MAKE) --no-print-directory tests-build
	$(Q)bench/run

fuzz: deps
	$(Q)tests/fuzz/run

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/quickstart

deps:
	$(Q)tools/deps

clean:
	rm -rf build build-asan bin

help:
	@sed -n '2,/^$$/s/^# \{0,1\}//p' Makefile

-include $(ALL_OBJS:.o=.d)
