# ckpt: one non-recursive Makefile.
#
#   make                 build/ckpt and build/libckpt.a
#   make check           every test; the last line is "N passed, N failed"
#   make bench           the benchmarks
#   make install PREFIX=/usr/local [DESTDIR=...]
#
# Switches: ASAN=1 (address and undefined-behaviour sanitizers), UBSAN=1,
# CC=clang, V=1 (show commands), FUZZ_SECONDS=N (fuzzing time in check).
# Sanitized and clang builds go to build-asan/, build-ubsan/, build-clang/.

CC ?= cc
CLANG ?= clang
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 20

# Each kind of build has a directory of its own, so they never mix.
ifeq ($(ASAN),1)
BUILD ?= build-asan
else ifeq ($(UBSAN),1)
BUILD ?= build-ubsan
else ifneq (,$(findstring clang,$(CC)))
BUILD ?= build-clang
endif
BUILD ?= build

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers -Werror
CPPFLAGS := -D_GNU_SOURCE -Iinclude -Isrc
CFLAGS := -std=gnu11 -g -O2 $(WARN)
SAN :=
ifeq ($(ASAN),1)
SAN += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(UBSAN),1)
SAN += -fsanitize=undefined -fno-sanitize-recover=all
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(wildcard src/*/*.c src/arch/x86_64/*.c)
LIB_ASM := $(wildcard src/arch/x86_64/*.S)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(LIB_ASM:%.S=$(BUILD)/obj/%.o)
CLI_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard cli/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
SCEN_SRCS := $(wildcard tests/scenarios/*.c)
SCEN_BINS := $(SCEN_SRCS:tests/scenarios/%.c=$(BUILD)/tests/scenarios/%)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
FUZZ_BIN := $(BUILD)/tests/fuzz/fuzz_image

all: $(BUILD)/ckpt

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  AS      $<")
	$(Q)$(CC) $(CPPFLAGS) -c $< -o $@

$(BUILD)/libckpt.a: $(LIB_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/ckpt: $(CLI_OBJS) $(BUILD)/libckpt.a
	$(if $(Q),@echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) $(SAN) -o $@ $^

$(BUILD)/tests/unit/%: tests/unit/%.c tests/lib/unit.h $(BUILD)/libckpt.a
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(SAN) -o $@ $< $(BUILD)/libckpt.a

# Scenario programs are the targets of checkpoints: plain builds, never
# sanitized (a sanitizer's runtime is state of its own).
$(BUILD)/tests/scenarios/%: tests/scenarios/%.c tests/lib/scen.c tests/lib/scen.h
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -D_GNU_SOURCE -Itests $(CFLAGS) -mavx2 -o $@ $< tests/lib/scen.c

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -D_GNU_SOURCE $(CFLAGS) -o $@ $<

# The fuzzer needs clang's libFuzzer; its own copy of the library sources.
$(FUZZ_BIN): tests/fuzz/fuzz_image.c $(LIB_SRCS) $(LIB_ASM)
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  FUZZ    $@")
	$(Q)$(CLANG) $(CPPFLAGS) -DCKPT_FUZZING -std=gnu11 -g -O1 \
		-fsanitize=fuzzer,address,undefined \
		-o $@ tests/fuzz/fuzz_image.c $(LIB_SRCS) $(LIB_ASM)

$(BUILD)/tests/subreaper: tests/lib/subreaper.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -D_GNU_SOURCE $(CFLAGS) -o $@ $<

$(BUILD)/tests/holdpid: tests/lib/holdpid.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC      $<")
	$(Q)$(CC) -D_GNU_SOURCE $(CFLAGS) -o $@ $<

tests: $(BUILD)/ckpt $(UNIT_BINS) $(SCEN_BINS) $(BUILD)/tests/subreaper $(BUILD)/tests/holdpid

check: tests $(FUZZ_BIN)
	$(Q)BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/run-all.sh

bench: $(BUILD)/ckpt $(BENCH_BINS) $(BUILD)/tests/subreaper
	$(Q)BUILD=$(BUILD) bench/run.sh

install: $(BUILD)/ckpt
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/ckpt $(DESTDIR)$(PREFIX)/bin/ckpt
	install -m 644 man/ckpt.1 $(DESTDIR)$(PREFIX)/share/man/man1/ckpt.1
	install -m 644 $(BUILD)/libckpt.a $(DESTDIR)$(PREFIX)/lib/libckpt.a
	install -m 644 include/ckpt.h include/ckpt_image.h $(DESTDIR)$(PREFIX)/include/

format:
	clang-format -i $(LIB_SRCS) $(wildcard src/*/*.h src/arch/x86_64/*.h) cli/*.c \
		include/*.h tests/*/*.c tests/lib/*.h bench/*.c

clean:
	rm -rf $(BUILD)

.PHONY: all tests check bench install format clean

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
