# Shelfline front door.  The Makefile only wraps the scripts and CMake:
#   make run     install what is missing, build, start PostgreSQL, migrate,
#                load demo data and run the four services
#   make test    install what is missing, build and run every test
#   make bench   benchmarks (tests/bench), figures for docs/BENCHMARKS.md
#   make test-sanitize   the tests under AddressSanitizer + UBSan
#   make fuzz    each libFuzzer target for FUZZ_SECONDS (300) in turn
#   make peak    the whole suite, two replicas each, under a peak-day load
#                with faults (tests/peak), report in peak-report/
BUILD_DIR ?= build
SAN_BUILD_DIR ?= build-sanitize
RELEASE_BUILD_DIR ?= build-release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build deps deps-build run test test-sanitize fuzz bench peak pg-start pg-stop clean
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_TARGETS ?= $(sort $(basename $(notdir $(filter-out %/fuzz_driver.c,$(wildcard tests/fuzz/fuzz_*.c)))))

all: build

deps:
	@deploy/local/deps.sh test

deps-build:
	@deploy/local/deps.sh build

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps-build $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: deps build
	deploy/local/run.sh

# The common library's tests and the fuzz targets' replays also run under
# AddressSanitizer and UndefinedBehaviorSanitizer (leaks included) on every
# `make test`; the full suite under sanitizers is `make test-sanitize`.
# The plain suite runs last so the output ends with its ctest summary.
# integration_torture (docs/TESTING.md "Allocation failures") runs here, so
# a leak on an out-of-memory path fails the services' exit.
SANITIZED_TESTS = ^(unit_(status|valid|config|arena_log|db_sqlstate|json)|integration_(server|events|db|db_restart|db_row|migrate|outbox|service_process|torture)|fuzz_[a-z_]+)$$

# Before the tests: the container image's own build (Release, tests off,
# -Werror; the script its Dockerfile runs), so a warning only -O2 finds
# fails here and not at the next image build.  Then the unit and
# integration tests once more with the clock moved (tests/timeshift/run.sh: a
# Friday evening a year ahead, a daylight-saving change), so a test bound
# to the date it was written fails the day it is written.
test: deps build
	deploy/docker/build-release.sh $(RELEASE_BUILD_DIR)
	cmake -S . -B $(SAN_BUILD_DIR) -DSHELFLINE_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(SAN_BUILD_DIR) -j $(JOBS)
	cd $(SAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -R '$(SANITIZED_TESTS)'
	tests/timeshift/run.sh $(BUILD_DIR)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps
	cmake -S . -B $(SAN_BUILD_DIR) -DSHELFLINE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(SAN_BUILD_DIR) -j $(JOBS)
	cd $(SAN_BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE interop

# libFuzzer runs of tests/fuzz/fuzz_*.c (clang), FUZZ_SECONDS each (five
# minutes), one target after the other, all of them even when one fails
# (the failures are listed at the end); FUZZ_TARGETS picks some.  A target's
# seeds are the files in tests/fuzz/corpus/<target>/, or those directly in
# tests/fuzz/corpus/ when it has no directory (fuzz_decode).  New inputs
# land in $(FUZZ_BUILD_DIR)/corpus-<target>/, a failing input in
# $(FUZZ_BUILD_DIR)/crash-* (or leak-*, timeout-*), each run's output in
# $(FUZZ_BUILD_DIR)/fuzz-<target>.log; its final statistics are printed.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD_DIR) -DSHELFLINE_FUZZ=ON -DSHELFLINE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target $(FUZZ_TARGETS)
	@failed=; for t in $(FUZZ_TARGETS); do \
	  seeds=tests/fuzz/corpus; [ -d $$seeds/$$t ] && seeds=$$seeds/$$t; \
	  mkdir -p $(FUZZ_BUILD_DIR)/corpus-$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (seeds: $$seeds)"; \
	  $(FUZZ_BUILD_DIR)/bin/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=30 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD_DIR)/ \
	    -seed_inputs=$$(find $$seeds -maxdepth 1 -type f | sort | paste -sd, -) \
	    $(FUZZ_BUILD_DIR)/corpus-$$t >$(FUZZ_BUILD_DIR)/fuzz-$$t.log 2>&1; rc=$$?; \
	  grep -E '^#[0-9]+[[:space:]]+DONE|^stat::|ERROR|SUMMARY|Test unit written' $(FUZZ_BUILD_DIR)/fuzz-$$t.log; \
	  if [ $$rc -ne 0 ]; then echo "fuzz: $$t failed (see $(FUZZ_BUILD_DIR)/fuzz-$$t.log)"; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

# The peak day (tests/peak/peak.sh): two replicas of each service under a
# Black Friday load with faults, then the audit, the SLO gates and the
# report in peak-report/.  PEAK_PROFILE=full (about 20 minutes, the default
# here) or short (about 4 minutes; `make test` runs it); see the script for
# the knobs.
peak: deps build
	PEAK_PROFILE=$${PEAK_PROFILE:-full} tests/peak/peak.sh $(BUILD_DIR)

bench:
	@deploy/local/deps.sh bench
	$(MAKE) build
	tests/bench/run.sh $(BUILD_DIR)

pg-start:
	@deploy/local/pg.sh start

pg-stop:
	@deploy/local/pg.sh stop

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR) $(RELEASE_BUILD_DIR)
