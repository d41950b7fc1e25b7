# iiifd: a IIIF server. `make run` serves samples/, `make test` runs every test.
# Release objects go to build/release, sanitizer objects (used by `make test`) to build/asan.

PKGS      := vips libjpeg libopenjp2 libmicrohttpd jansson inih libtiff-4 yaml-0.1 zlib libavformat libavcodec libavutil libswscale libswresample libxml-2.0 sqlite3 yajl libcurl proj libcrypto libxcrypt libpq
CC        ?= cc
WARN      := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
BASEFLAGS := -std=gnu11 -g -Isrc $(WARN) -D_GNU_SOURCE
PKGCFLAGS  = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/geotiff
# libgeotiff (src/maps) has no pkg-config file in Debian 12
PKGLIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lgeotiff -lm -lpthread
# OpenJPH (HTJ2K encoder, src/image/htj2k_encode.cpp): Debian 12's openjph.pc has no Libs
PKGLIBS   += -lopenjph -lstdc++

SRC       := $(shell find src -name '*.c' ! -name main.c | sort)
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))

REL_DIR   := build/release
ASAN_DIR  := build/asan
REL_FLAGS := -O2
ASAN_FLAGS:= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

HOST      ?= 127.0.0.1
PORT      ?= 8182
SAMPLES   ?= samples

# keep unit test objects between runs
.SECONDARY:

.PHONY: all deps web run test fuzz bench bench-cluster soak clean format install uninstall man

all: deps $(REL_DIR)/iiifd

deps:
	@scripts/install-deps
	@scripts/install-web

# The viewers served under /viewer/ and the browser test tools, from npm (docs/viewers.md)
web:
	@scripts/install-web

# --- objects -------------------------------------------------------------------------------
$(REL_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(BASEFLAGS) $(REL_FLAGS) $(PKGCFLAGS) -MMD -MP -c $< -o $@

$(ASAN_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/asan $<"
	@$(CC) $(BASEFLAGS) $(ASAN_FLAGS) $(PKGCFLAGS) -MMD -MP -c $< -o $@

REL_OBJ   := $(SRC:%.c=$(REL_DIR)/%.o)
ASAN_OBJ  := $(SRC:%.c=$(ASAN_DIR)/%.o)

# The one C++ file (a shim over OpenJPH's C++ API, behind a C header)
CXX       ?= c++
CXX_SRC   := $(shell find src -name '*.cpp' | sort)
CXXFLAGS_ := -std=c++17 -g -Isrc $(WARN) -D_GNU_SOURCE
REL_OBJ   += $(CXX_SRC:%.cpp=$(REL_DIR)/%.o)
ASAN_OBJ  += $(CXX_SRC:%.cpp=$(ASAN_DIR)/%.o)

$(REL_DIR)/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX     $<"
	@$(CXX) $(CXXFLAGS_) $(REL_FLAGS) -MMD -MP -c $< -o $@

$(ASAN_DIR)/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX/asan $<"
	@$(CXX) $(CXXFLAGS_) $(ASAN_FLAGS) -MMD -MP -c $< -o $@

$(REL_DIR)/iiifd: $(REL_OBJ) $(REL_DIR)/src/main.o
	@echo "  LD      $@"
	@$(CC) $(REL_FLAGS) $^ -o $@ $(PKGLIBS)

$(ASAN_DIR)/iiifd: $(ASAN_OBJ) $(ASAN_DIR)/src/main.o
	@echo "  LD      $@"
	@$(CC) $(ASAN_FLAGS) $^ -o $@ $(PKGLIBS)

$(ASAN_DIR)/tests/unit/%: $(ASAN_DIR)/tests/unit/%.o $(ASAN_OBJ)
	@echo "  LD      $@"
	@$(CC) $(ASAN_FLAGS) $^ -o $@ $(PKGLIBS)

UNIT_BIN  := $(UNIT_SRC:%.c=$(ASAN_DIR)/%)

# --- fuzzing (docs/internals/fuzzing.md): libFuzzer targets fuzz/fuzz_*.c, built with clang ----
FUZZ_CC     ?= clang
FUZZ_DIR    := build/fuzz
FUZZ_FLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_SRC    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_OBJ    := $(SRC:%.c=$(FUZZ_DIR)/%.o) $(CXX_SRC:%.cpp=$(FUZZ_DIR)/%.o)
FUZZ_SECONDS ?= 60
FUZZ_BUDGET  ?= 240
# seconds for all browser tests together (tests/browser, docs/internals/browser-tests.md)
BROWSER_BUDGET ?= 480

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/fuzz $<"
	@$(FUZZ_CC) $(BASEFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(PKGCFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/%.o: %.cpp
	@mkdir -p $(dir $@)
	@echo "  CXX/fuzz $<"
	@clang++ $(CXXFLAGS_) $(FUZZ_FLAGS) -fno-sanitize=vptr -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/fuzz/fuzz_%.o $(FUZZ_OBJ)
	@echo "  LD/fuzz $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $^ -o $@ $(PKGLIBS)

# (not those of baseline builds that `make bench BASELINE=...` makes in build/baseline-*)
-include $(shell find build -path 'build/baseline-*' -prune -o -name '*.d' -print 2>/dev/null)

# --- the two commands ----------------------------------------------------------------------
run: all
	@scripts/make-samples $(SAMPLES)
	@# the OCR, tags and captions now, so that a search from the home page finds them at once
	@# (the server would import each folder's files only when its Manifest is first asked for)
	@$(REL_DIR)/iiifd import --root $(SAMPLES) $(SAMPLES) >/dev/null || \
	  echo "iiifd: importing the annotations failed; the server will import them as it goes"
	@echo
	@echo "iiifd: serving $(SAMPLES)/ (Ctrl-C to stop). Open the home page:"
	@echo "  http://$(HOST):$(PORT)/"
	@echo "The book (search it for \"narwhal\", printed on page 2; docs/samples.md):"
	@echo "  http://$(HOST):$(PORT)/view/books/keeper-log/manifest"
	@echo "IIIF: the root Collection (Presentation 3), and the book's Manifest:"
	@echo "  http://$(HOST):$(PORT)/iiif/presentation/collection"
	@echo "  http://$(HOST):$(PORT)/iiif/presentation/books/keeper-log/manifest"
	@echo
	$(REL_DIR)/iiifd serve --host $(HOST) --port $(PORT) $(SAMPLES)

test: deps
	@scripts/install-test-services
	$(MAKE) --no-print-directory $(ASAN_DIR)/iiifd $(UNIT_BIN) $(FUZZ_BIN)
	@BROWSER_TESTS=1 BROWSER_BUDGET=$(BROWSER_BUDGET) FUZZ_TARGETS="$(FUZZ_BIN)" FUZZ_BUDGET=$(FUZZ_BUDGET) \
	  scripts/run-tests $(ASAN_DIR)/iiifd $(UNIT_BIN)

# Each libFuzzer target for FUZZ_SECONDS (default 60); crashes land in build/fuzz/crashes/
fuzz: deps
	$(MAKE) --no-print-directory $(FUZZ_BIN)
	@scripts/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

# Speed against IIPImage on generated images; writes bench/RESULTS.md (see docs/benchmarks.md).
# BASELINE=<commit> also builds that commit and compares its tile throughput with this build's.
bench: all
	@BENCH_BASELINE=$(BASELINE) bench/run
	@bench/presentation
	@bench/annotations
	@bench/annopage build/release/iiifd bench/RESULTS.md
	@bench/hostile build/release/iiifd bench/RESULTS.md
	@bench/store

# Annotation store and nodes at scale: 1, 2, 3 nodes behind HAProxy on one PostgreSQL
# (docs/scaling.md); bench/store alone: SQLite and PostgreSQL side by side at 10 M OCR words
bench-cluster: all
	@bench/cluster
	@bench/storage

# Steady mixed load for SOAK_SECONDS (default 600): RSS must stay flat, errors zero
soak: all
	@bench/soak

# --- installing (docs/deployment.md) -------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=/staging]: the release binary, man pages, systemd
# unit, example config, and the viewer assets (build/web/assets, from scripts/install-web) when
# they were built.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/iiifd
DATADIR    ?= $(PREFIX)/share/iiifd
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc/iiifd
WEB_DIR    ?= build/web/assets
# the binary to install (the tests install the one they test)
BIN        ?= $(REL_DIR)/iiifd

# The man page's OPTIONS section is rendered from the binary's own --help (scripts/man-page).
build/man/%: docs/% $(BIN) scripts/man-page
	@mkdir -p $(dir $@)
	@scripts/man-page $< $(BIN) > $@.tmp && mv $@.tmp $@

# rewritten every time (phony): PREFIX may differ from the last run
.PHONY: build/dist/iiifd.service
build/dist/iiifd.service: dist/iiifd.service.in
	@mkdir -p $(dir $@)
	@sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

man: build/man/iiifd.1 build/man/iiifd.conf.5

install: $(BIN) man build/dist/iiifd.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/iiifd
	install -m 644 build/man/iiifd.1 $(DESTDIR)$(MANDIR)/man1/iiifd.1
	install -m 644 build/man/iiifd.conf.5 $(DESTDIR)$(MANDIR)/man5/iiifd.conf.5
	install -m 644 docs/iiifd.conf.example $(DESTDIR)$(DOCDIR)/iiifd.conf.example
	install -m 644 build/dist/iiifd.service $(DESTDIR)$(UNITDIR)/iiifd.service
	@if [ -d $(WEB_DIR) ]; then \
		echo "install $(WEB_DIR) -> $(DESTDIR)$(DATADIR)/web"; \
		install -d $(DESTDIR)$(DATADIR)/web && cp -R $(WEB_DIR)/. $(DESTDIR)$(DATADIR)/web/ && \
		chmod -R u=rwX,go=rX $(DESTDIR)$(DATADIR)/web; \
	else \
		echo "no $(WEB_DIR) (no viewer bundles built): web assets not installed"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/iiifd $(DESTDIR)$(MANDIR)/man1/iiifd.1 \
		$(DESTDIR)$(MANDIR)/man5/iiifd.conf.5 $(DESTDIR)$(DOCDIR)/iiifd.conf.example \
		$(DESTDIR)$(UNITDIR)/iiifd.service
	rm -rf $(DESTDIR)$(DATADIR)/web
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR) 2>/dev/null

clean:
	rm -rf build

format:
	clang-format -i $$(find src tests/unit -name '*.[ch]')
