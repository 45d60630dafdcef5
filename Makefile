# zablab build. Sources are discovered by folder, so adding a file needs no
# edit here:
#   core/ net-model/ sim/ check/ reports/  -> build/libzablab.a
#   cli/*.c                                -> bin/zablab
#   server/*.c                             -> bin/zabd
#   tests/test_*.c                         -> one cmocka binary each
#   tests/bench_*.c                        -> one benchmark binary each
# `make test` runs every test binary twice: a normal build and an
# ASan+UBSan build (build-asan/); any failure or sanitizer report fails it.

CC      ?= cc
BUILD   ?= build
SAN     ?= 0
OPT     ?= -O2
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  := -std=c11 $(OPT) -g $(WARN) -D_GNU_SOURCE -I. $(EXTRA_CFLAGS)
# librsvg draws the report's diagram as PNG (reports/report_png.c). Evaluated in
# the sub-make that `make test`/`demo` start after `deps` installed it.
RSVG_CFLAGS := $(shell pkg-config --cflags librsvg-2.0 2>/dev/null)
RSVG_LIBS   := $(shell pkg-config --libs librsvg-2.0 2>/dev/null)
LDLIBS  := -lgsl -lgslcblas -lsqlite3 -ljansson -lxxhash -lm $(RSVG_LIBS)
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

DEBS := build-essential libcmocka-dev libgsl-dev libsqlite3-dev libjansson-dev \
        libxxhash-dev sqlite3 chromium zookeeper-bin libzookeeper-mt-dev python3-kazoo \
        pkg-config librsvg2-dev

LIB_SRC    := $(sort $(wildcard core/*.c net-model/*.c sim/*.c check/*.c reports/*.c))
CLI_SRC    := $(sort $(wildcard cli/*.c))
SRV_SRC    := $(sort $(wildcard server/*.c))
TEST_SRC   := $(sort $(wildcard tests/test_*.c))
BENCH_SRC  := $(sort $(wildcard tests/bench_*.c))
TEST_HELP  := $(sort $(wildcard tests/support/*.c))
SRV_MAIN   := $(wildcard server/main.c)

LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SRV_OBJ    := $(SRV_SRC:%.c=$(BUILD)/obj/%.o)
HELP_OBJ   := $(TEST_HELP:%.c=$(BUILD)/obj/%.o)
# server/ objects other than main() are linked into tests, so tests can
# drive zabd's pieces (config parser, loop, files) directly.
SRV_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out server/main.c,$(SRV_SRC)))
TEST_BIN   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN  := $(BENCH_SRC:tests/%.c=$(BUILD)/tests/%)
LIB        := $(BUILD)/libzablab.a
ZABLAB     := $(if $(filter build,$(BUILD)),bin/zablab,$(BUILD)/bin/zablab)
ZABD       := $(if $(filter build,$(BUILD)),bin/zabd,$(BUILD)/bin/zabd)

.PHONY: all deps test unit-tests demo bench bench-real clean layout-check soak fuzz report-browser
all: $(ZABLAB) $(if $(SRV_MAIN),$(ZABD)) $(TEST_BIN) $(BENCH_BIN)

# Installs what the build and tests need; skips packages already present.
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/reports/report_png.o: CFLAGS += $(RSVG_CFLAGS)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(ZABLAB): $(CLI_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(ZABD): $(SRV_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(SRV_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(HELP_OBJ) $(SRV_LIB_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -MMD -MP -o $@ $< $(HELP_OBJ) $(SRV_LIB_OBJ) $(LIB) -lcmocka $(LDLIBS)

# core/ must stay pure: no I/O, clocks, randomness or third-party headers.
layout-check:
	@bash tests/layout_check.sh

unit-tests: $(TEST_BIN) $(ZABLAB) $(if $(SRV_MAIN),$(ZABD))
	@ZABLAB_BIN=$(abspath $(ZABLAB)) bash tests/run_tests.sh $(TEST_BIN)

test: deps layout-check
	$(MAKE) --no-print-directory all
	$(MAKE) --no-print-directory unit-tests
	$(MAKE) --no-print-directory report-browser
	$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 unit-tests

# Every catalog scenario over 200 seeds (not in CI: tens of minutes).
SOAK_SEEDS ?= 1..200
soak: all
	@rc=0; for f in scenarios/*.scn; do \
	  case $$f in scenarios/bug-*) continue;; esac; \
	  ./$(ZABLAB) explore $$f --seeds $(SOAK_SEEDS) --jobs 2 || rc=1; \
	done; exit $$rc

# The HTML report in a real browser (headless Chromium): DOM and screenshot.
report-browser: all
	bash tests/report_browser.sh build/report-browser

bench: deps
	$(MAKE) --no-print-directory all
	@for b in $(BENCH_BIN); do echo "== $$b"; ./$$b || exit 1; done

# zabd vs Apache ZooKeeper side by side (installs `zookeeper`; not in CI).
bench-real: deps
	$(MAKE) --no-print-directory all
	bash tests/bench_real.sh

demo: deps
	$(MAKE) --no-print-directory $(ZABLAB)
	./$(ZABLAB) run scenarios/demo.scn --report out/demo --svg

# Coverage-guided fuzzing of the client-packet decoder and config parser
# (libFuzzer; needs clang). Not part of `make test`.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
fuzz: $(BUILD)/fuzz/fuzz_jute $(BUILD)/fuzz/fuzz_zk_wire
	./$(BUILD)/fuzz/fuzz_jute -max_total_time=$(FUZZ_SECONDS) -max_len=4096
	./$(BUILD)/fuzz/fuzz_zk_wire -max_total_time=$(FUZZ_SECONDS) -max_len=4096

$(BUILD)/fuzz/fuzz_jute: tests/fuzz_jute.c core/jute.c core/zk_proto.c server/config.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -o $@ $^

$(BUILD)/fuzz/fuzz_zk_wire: tests/fuzz_zk_wire.c core/jute.c core/zk_proto.c core/zk_wire.c core/zk_wire_client.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -o $@ $^

clean:
	rm -rf build build-asan bin out

-include $(shell find build build-asan -name '*.d' 2>/dev/null)
