# soulpipe: one GNU Makefile. Flags and libraries come from pkg-config.
#
#   make              build the five binaries (and the fake) into bin/
#   make test         build and run the whole suite (starts its own redis-server)
#   make test SAN=1   the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench        run the benchmarks under bench/
#   make deps         install the Debian bookworm packages (apt-get)
#   make demo         run the built-in demo (fake upstreams, sample playlist)

.DEFAULT_GOAL := all
VERSION := 0.1.0
PKGS    := libczmq libzmq msgpack hiredis libcurl jansson taglib_c taglib libutf8proc libcrypto libavformat libavcodec libavutil
CC      ?= cc
CXX     ?= c++

ifeq ($(SAN),1)
BUILD   := build/san
BINDIR  := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1 -g
else
BUILD   := build/rel
BINDIR  := bin
SANFLAGS :=
OPT     := -O2 -g
endif

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Werror
# pkg-config runs at parse time; on a fresh machine (before `make deps` or
# `make demo` installed the packages) it would print a wall of "Package ...
# was not found" for targets that build nothing. Its errors are silenced here
# and a build says once what is missing (pkg-check below).
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
PKG_OK     := $(shell pkg-config --exists $(PKGS) libmicrohttpd 2>/dev/null && echo yes)
CPPFLAGS := -D_GNU_SOURCE -DSOULPIPE_VERSION='"$(VERSION)"' -Icommon/include $(PKG_CFLAGS)
CFLAGS   := -std=c11 $(OPT) $(WARN) -Wstrict-prototypes -Wmissing-prototypes $(SANFLAGS) -MMD -MP
CXXFLAGS := -std=c++17 $(OPT) $(WARN) $(SANFLAGS) -MMD -MP
LDLIBS   := $(PKG_LIBS) -lstdc++ -lpthread -lm
LDFLAGS  := $(SANFLAGS)

SERVICES := analyzer searcher downloader tagger

COMMON_SRC := $(wildcard common/src/*.c)
COMMON_CXX := $(wildcard common/src/*.cpp)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o) $(COMMON_CXX:%.cpp=$(BUILD)/%.o)
LIBCOMMON  := $(BUILD)/libsoulpipe.a

# Each service: main.c makes the binary; every other .c file is a module that
# tests and benchmarks may link too (collected into a per-service archive).
define service_rules
$(1)_MODS := $$(filter-out services/$(1)/main.c,$$(wildcard services/$(1)/*.c))
$(1)_OBJ  := $$($(1)_MODS:%.c=$(BUILD)/%.o)
$(BUILD)/libsp_$(1).a: $$($(1)_OBJ)
	@mkdir -p $$(@D)
	@rm -f $$@ && ar rcs $$@ $$^
$(BINDIR)/soulpipe-$(1): $(BUILD)/services/$(1)/main.o $(BUILD)/libsp_$(1).a $(LIBCOMMON)
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	@$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rules,$(s))))

SERVICE_LIBS := $(foreach s,$(SERVICES),$(BUILD)/libsp_$(s).a)
CLI_SRC   := $(wildcard cli/*.c)
FAKE_SRC  := $(wildcard tests/fakes/*.c)
BINS := $(foreach s,$(SERVICES),$(BINDIR)/soulpipe-$(s)) $(BINDIR)/soulpipe
ifneq ($(FAKE_SRC),)
BINS += $(BINDIR)/soulpipe-fake
endif

all: $(BINS)

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(@D)
	@rm -f $@ && ar rcs $@ $^

# Every compile waits for this check: without the -dev packages it stops the
# build with one message instead of a compiler error per file.
pkg-check:
ifneq ($(PKG_OK),yes)
	@echo "soulpipe: the build packages are missing (pkg-config cannot find:$$(for p in $(PKGS) libmicrohttpd; do pkg-config --exists $$p 2>/dev/null || printf ' %s' $$p; done))." >&2
	@echo "soulpipe: install them with 'sudo make deps' (Debian bookworm), or run 'make demo', which installs them first." >&2
	@exit 2
endif

$(BUILD)/%.o: %.c | pkg-check
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.cpp | pkg-check
	@mkdir -p $(@D)
	@echo "  CXX     $<"
	@$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BINDIR)/soulpipe: $(CLI_SRC:%.c=$(BUILD)/%.o) $(LIBCOMMON)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

#  the fake's MP3 frames are .incbin'd from tests/fakes/seeds (scripts/make-fake-seeds.sh)
$(BUILD)/tests/fakes/audio.o $(BUILD)/tests/unit/test_fake_audio.o: $(wildcard tests/fakes/seeds/*.mp3)

$(BINDIR)/soulpipe-fake: $(FAKE_SRC:%.c=$(BUILD)/%.o) $(LIBCOMMON)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(MHD_LIBS) $(LDLIBS) -lcrypto

# ---------------------------------------------------------------- tests
# Two Criterion binaries: unit tests (no I/O beyond temp files, run in
# parallel) and integration tests (real redis-server, fake upstreams and
# service processes, run one at a time).
UNIT_SRC  := $(wildcard tests/unit/*.c)
INTEG_SRC := $(wildcard tests/integration/*.c tests/e2e/*.c)
TEST_LIBS := $(SERVICE_LIBS) $(LIBCOMMON)
TEST_LDLIBS := -lcriterion $(MHD_LIBS) $(LDLIBS) -lcrypto

$(BUILD)/tests/unit-tests: $(UNIT_SRC:%.c=$(BUILD)/%.o) $(TEST_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(UNIT_SRC:%.c=$(BUILD)/%.o) -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(TEST_LDLIBS)

$(BUILD)/tests/integration-tests: $(INTEG_SRC:%.c=$(BUILD)/%.o) $(TEST_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(INTEG_SRC:%.c=$(BUILD)/%.o) -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(TEST_LDLIBS)

# Small programs the integration tests start (workers with scripted handlers).
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOL_BINS := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)
$(BUILD)/tests/tools/%: $(BUILD)/tests/tools/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(LDLIBS)

TEST_BINS := $(BUILD)/tests/unit-tests $(TOOL_BINS)
ifneq ($(INTEG_SRC),)
TEST_BINS += $(BUILD)/tests/integration-tests
endif

test: all $(TEST_BINS)
	@BUILD=$(BUILD) BINDIR=$(BINDIR) SAN=$(SAN) bash scripts/run-tests.sh $(SUITE)

# The docker compose demo with scaled workers (skips, exit 0, when no Docker
# engine can be started; see scripts/test-docker.sh).
test-docker:
	@bash scripts/test-docker.sh

# The chaos test (tests/chaos, its own binary, a few minutes): a 300-track
# playlist while workers, the analyzer and redis-server are killed.
CHAOS_SRC := $(wildcard tests/chaos/*.c) tests/integration/harness.c
$(BUILD)/tests/chaos-tests: $(CHAOS_SRC:%.c=$(BUILD)/%.o) $(TEST_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $(CHAOS_SRC:%.c=$(BUILD)/%.o) -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(TEST_LDLIBS)

# Everything the test targets run, built in one go (CI builds it before it
# starts the docker test, so no compiler runs under the timed tests).
test-bins: all $(TEST_BINS) $(BUILD)/tests/chaos-tests

test-chaos: all $(BUILD)/tests/chaos-tests
	@BUILD=$(BUILD) BINDIR=$(BINDIR) SAN=$(SAN) bash scripts/test-chaos.sh

# ---------------------------------------------------------------- bench
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BINS := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $< -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(LDLIBS)

bench: all $(BENCH_BINS)
	@BUILD=$(BUILD) BINDIR=$(BINDIR) bash scripts/run-bench.sh $(BENCH_BINS)

# ---------------------------------------------------------------- fuzz
# libFuzzer targets (clang, libclang-rt-14-dev): fuzz/fuzz_<name>.c with seed
# corpus fuzz/corpus/<name>/. `make fuzz FUZZ_SECONDS=600` runs each in turn;
# findings land in build/fuzz/ and become regression tests.
FUZZ_SECONDS ?= 60
FUZZ_CC    := clang
FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
FUZZ_SRC   := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS  := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_SVC_SRC := $(foreach s,$(SERVICES),$($(s)_MODS))
FUZZ_LIBOBJ := $(COMMON_SRC:%.c=build/fuzz/obj/%.o) $(FUZZ_SVC_SRC:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(CPPFLAGS) -std=c11 $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/libfuzzcommon.a: $(FUZZ_LIBOBJ)
	@rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: build/fuzz/obj/fuzz/fuzz_%.o build/fuzz/libfuzzcommon.a
	@echo "  LD      $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for bin in $(FUZZ_BINS); do \
	    name=$${bin#build/fuzz/fuzz_}; \
	    mkdir -p build/fuzz/corpus-$$name build/fuzz/crashes-$$name; \
	    echo "==> fuzz $$name for $(FUZZ_SECONDS) s"; \
	    $$bin -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/crashes-$$name/ \
	        build/fuzz/corpus-$$name fuzz/corpus/$$name 2>&1 | \
	        grep -E '^(#[0-9]+.*DONE|stat::|INFO: -max_total_time|==[0-9]+==ERROR|SUMMARY)' ; \
	done

# ---------------------------------------------------------------- misc
DEB_PACKAGES := $(shell cat scripts/deb-packages.txt)

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(DEB_PACKAGES)

print-deps:
	@echo $(DEB_PACKAGES)

demo:
	bash scripts/demo.sh

run:
	bash scripts/run.sh $(ENV)

# clang-format check, cppcheck and clang-tidy (scripts/lint.sh, which says
# what each checks; LINT=format,cppcheck,tidy picks some).
lint:
	@LINT_PKGS="$(PKGS) libmicrohttpd" bash scripts/lint.sh

clean:
	rm -rf build bin

.PHONY: all test-bins test test-chaos test-docker bench fuzz deps print-deps demo run lint clean pkg-check
.DELETE_ON_ERROR:

-include $(shell find build -name '*.d' 2>/dev/null)
.SECONDARY:
