# RoomKey build. `make` builds build/roomkey; `make test` installs what the
# tests need, builds a normal and an ASan+UBSan variant and runs every test;
# `make run` starts the demo; `make bench` runs the benchmarks (`make
# bench-scale` the large-store ones).

CC      ?= cc
# libcurl, libpq and libmicrohttpd are loaded at run time, by the first
# outbound request, the first PostgreSQL store and `roomkey serve`
# (src/util/dynlib.h): their headers only.
PKGS    := jansson libcrypto sqlite3 yaml-0.1
DL_PKGS := libcurl libpq libmicrohttpd
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -fno-strict-aliasing
CFLAGS  += $(shell pkg-config --cflags $(PKGS) $(DL_PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lcrypto) -lm -lpthread -ldl

# The version is written once, in VERSION; the commit is baked in when the
# tree is a git checkout ("unknown" otherwise, e.g. an exported tarball).
# build/commit.txt changes only when the commit does, so only version.o is
# rebuilt.
VERSION := $(shell cat VERSION)
COMMIT  := $(shell [ -e .git ] && git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
$(shell mkdir -p build && [ "$$(cat build/commit.txt 2>/dev/null)" = "$(COMMIT)" ] || \
        echo "$(COMMIT)" > build/commit.txt)
VERSION_FLAGS := -DRK_VERSION='"$(VERSION)"' -DRK_COMMIT='"$(COMMIT)"'

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

LIB_SRC  := $(sort $(wildcard src/util/*.c src/token/*.c src/auth/*.c src/policy/*.c src/config/*.c \
                             src/store/*.c src/http/*.c src/livekit/*.c src/api/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
# The admin console's static files, compiled in as a generated C file.
CONSOLE_DIR   := src/api/console
CONSOLE_FILES := $(sort $(wildcard $(CONSOLE_DIR)/*))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

B  := build
BA := build/asan
BF := build/fuzz

# Generated at build time: the console's files, and docs/openapi.yaml as JSON
# (GET /openapi.json).
GEN_SRC := $(B)/gen/console_files.c $(B)/gen/openapi_json.c

LIB_OBJ   := $(LIB_SRC:%.c=$(B)/obj/%.o) $(GEN_SRC:%.c=$(B)/obj/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/obj/%.o)
LIB_OBJ_A := $(LIB_SRC:%.c=$(BA)/obj/%.o) $(GEN_SRC:%.c=$(BA)/obj/%.o)
CLI_OBJ_A := $(CLI_SRC:%.c=$(BA)/obj/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
UNIT_BIN_A := $(UNIT_SRC:tests/unit/%.c=$(BA)/tests/%)

.PHONY: all asan test unit unit-asan interop deps run bench bench-scale format format-check clean install deb fuzz fuzz-smoke soak

all: $(B)/roomkey

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BA)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

# The folder is a prerequisite too (a file removed changes its time); its
# empty rule keeps make's built-in rules from building it from console.c.
$(CONSOLE_DIR): ;
$(B)/gen/console_files.c: scripts/embed-files.sh $(CONSOLE_DIR) $(CONSOLE_FILES)
	@mkdir -p $(dir $@)
	scripts/embed-files.sh $@ $(CONSOLE_DIR)

$(B)/obj/$(B)/gen/%.o $(BA)/obj/$(B)/gen/%.o: CFLAGS += -Isrc

$(B)/tools/embed_yaml: tools/embed_yaml.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDLIBS)

$(B)/gen/openapi_json.c: docs/openapi.yaml $(B)/tools/embed_yaml
	@mkdir -p $(dir $@)
	$(B)/tools/embed_yaml $< api_openapi_json > $@.tmp && mv $@.tmp $@

$(B)/obj/src/util/version.o $(BA)/obj/src/util/version.o $(BF)/obj/src/util/version.o: VERSION build/commit.txt
$(B)/obj/src/util/version.o $(BA)/obj/src/util/version.o $(BF)/obj/src/util/version.o: CFLAGS += $(VERSION_FLAGS)

$(B)/libroomkey.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BA)/libroomkey.a: $(LIB_OBJ_A)
	@rm -f $@
	ar rcs $@ $^

$(B)/roomkey: $(CLI_OBJ) $(B)/libroomkey.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BA)/roomkey: $(CLI_OBJ_A) $(BA)/libroomkey.a
	$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c tests/unit/check.h $(B)/libroomkey.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(B)/libroomkey.a $(LDLIBS)

$(BA)/tests/%: tests/unit/%.c tests/unit/check.h $(BA)/libroomkey.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -Isrc -o $@ $< $(BA)/libroomkey.a $(LDLIBS)

asan: $(BA)/roomkey $(UNIT_BIN_A)

# Fuzz targets (tests/fuzz/fuzz_*.c): clang's libFuzzer with ASan+UBSan, over
# the library built the same way. `make fuzz FUZZ_SECONDS=N` runs each target
# N seconds (new inputs kept in build/fuzz/work/, crashes in build/fuzz/);
# `make fuzz-smoke` (part of `make test`) runs each a few seconds on its
# committed corpus (tests/fuzz/corpus/<target>/).
FUZZ_CC     ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(BF)/%)
LIB_OBJ_F   := $(LIB_SRC:%.c=$(BF)/obj/%.o)

$(BF)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(BF)/libroomkey.a: $(LIB_OBJ_F)
	@rm -f $@
	ar rcs $@ $^

$(BF)/fuzz_%: tests/fuzz/fuzz_%.c $(BF)/libroomkey.a
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -Isrc -o $@ $< $(BF)/libroomkey.a $(LDLIBS)

fuzz: $(FUZZ_BIN)
	@scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@scripts/fuzz.sh run 3 $(FUZZ_BIN)

# Installs missing Debian and npm packages (idempotent; quiet when present).
deps:
	@scripts/deps.sh

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

unit-asan: $(UNIT_BIN_A)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		scripts/run-unit.sh $(UNIT_BIN_A)

interop: $(B)/roomkey $(BA)/roomkey
	@cd tests/interop && ROOMKEY_BIN=$(CURDIR)/$(B)/roomkey node --test --test-concurrency=1 *.test.mjs
	@cd tests/interop && ROOMKEY_BIN=$(CURDIR)/$(BA)/roomkey ASAN_OPTIONS=detect_leaks=1 \
		node --test --test-concurrency=1 cli.test.mjs token-claims.test.mjs service.test.mjs voice-agent.test.mjs token-source.test.mjs \
			supabase.test.mjs meetings.test.mjs ops.test.mjs admin.test.mjs multi.test.mjs console.test.mjs operator.test.mjs \
			livekit-api.test.mjs live-rooms.test.mjs hardening.test.mjs room-rules.test.mjs identity.test.mjs

# The suites run with a throw-away PostgreSQL server (scripts/pg-test-server.sh
# installs, starts and always stops it; ROOMKEY_TEST_PG_URL names it).
test: deps
	@$(MAKE) --no-print-directory all asan
	@scripts/pg-test-server.sh run $(MAKE) --no-print-directory unit unit-asan interop fuzz-smoke

# Not in CI: SOAK_SECONDS (default 600) at full load on PostgreSQL with
# reloads and a database restart; see tests/interop/soak.mjs.
soak: deps
	@$(MAKE) --no-print-directory all
	@scripts/pg-test-server.sh run sh -c 'cd tests/interop && ROOMKEY_BIN=$(CURDIR)/$(B)/roomkey node soak.mjs'

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench:
	@ROOMKEY_BENCH_DEPS=1 scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -C bench

# Large stores (100k rooms, 1M memberships, 10M audit records) on SQLite and
# PostgreSQL: token throughput, audit query, bytes per record, retention.
# Takes many minutes and several GB in /tmp; never part of `make test`.
bench-scale:
	@ROOMKEY_BENCH_DEPS=1 scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@bench/scale.sh

# `make install` (PREFIX, DESTDIR): the binary, the man pages, the example
# config and docs, the systemd unit, and /etc/roomkey/roomkey.yaml unless one
# exists (docs/install.md). `make deb` builds build/roomkey_VERSION_ARCH.deb.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/roomkey
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL_DOCS := README.md docs/install.md docs/config.md docs/operations.md docs/openapi.yaml \
                docs/reverse-proxy.md docs/first-token.md

install: $(B)/roomkey
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/roomkey
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/roomkey/credentials
	install -m 0755 $(B)/roomkey $(DESTDIR)$(BINDIR)/roomkey
	install -m 0644 man/roomkey.1 $(DESTDIR)$(MANDIR)/man1/roomkey.1
	install -m 0644 man/roomkey.yaml.5 $(DESTDIR)$(MANDIR)/man5/roomkey.yaml.5
	install -m 0644 config/roomkey.example.yaml $(wildcard $(INSTALL_DOCS)) $(DESTDIR)$(DOCDIR)/
	sed -e 's#@BINDIR@#$(BINDIR)#g' -e 's#@SYSCONFDIR@#$(SYSCONFDIR)#g' \
		deploy/systemd/roomkey.service.in > $(DESTDIR)$(UNITDIR)/roomkey.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/roomkey.service
	[ -e $(DESTDIR)$(SYSCONFDIR)/roomkey/roomkey.yaml ] || \
		install -m 0644 deploy/roomkey.yaml $(DESTDIR)$(SYSCONFDIR)/roomkey/roomkey.yaml

deb: $(B)/roomkey
	@scripts/mkdeb.sh $(B)

FORMAT_FILES := $(LIB_SRC) $(CLI_SRC) $(wildcard src/*/*.h) $(UNIT_SRC) tests/unit/check.h $(FUZZ_SRC) \
                $(wildcard bench/*.c) $(wildcard tools/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

clean:
	rm -rf $(B)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(LIB_OBJ_A:.o=.d) $(CLI_OBJ_A:.o=.d) $(LIB_OBJ_F:.o=.d)
