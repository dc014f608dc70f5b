# Shelfline front door.  The Makefile only wraps the scripts and CMake:
#   make run     install what is missing, build, start PostgreSQL, migrate,
#                load demo data and run the four services
#   make test    install what is missing, build and run every test
#   make bench   benchmarks (tests/bench), figures for docs/BENCHMARKS.md
#   make test-sanitize   the tests under AddressSanitizer + UBSan
BUILD_DIR ?= build
SAN_BUILD_DIR ?= build-sanitize
RELEASE_BUILD_DIR ?= build-release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build deps deps-build run test test-sanitize fuzz bench pg-start pg-stop clean
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60

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

# The common library's tests also run under AddressSanitizer and
# UndefinedBehaviorSanitizer (leaks included) on every `make test`; the full
# suite under sanitizers is `make test-sanitize`.  The plain suite runs last
# so the output ends with its ctest summary.
SANITIZED_TESTS = ^(unit_(status|valid|config|arena_log|db_sqlstate)|integration_(server|events|db|db_restart|migrate|outbox|service_process)|fuzz_decode)$$

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

# libFuzzer runs of tests/fuzz/fuzz_*.c (clang), FUZZ_SECONDS each; new
# findings land in $(FUZZ_BUILD_DIR)/corpus-<target>/.
fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD_DIR) -DSHELFLINE_FUZZ=ON -DSHELFLINE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target $$(cd tests/fuzz && ls fuzz_*.c | grep -v driver | sed 's/\.c$$//')
	for t in $$(cd tests/fuzz && ls fuzz_*.c | grep -v driver | sed 's/\.c$$//'); do \
	  mkdir -p $(FUZZ_BUILD_DIR)/corpus-$$t && \
	  $(FUZZ_BUILD_DIR)/bin/$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZ_BUILD_DIR)/corpus-$$t tests/fuzz/corpus || exit 1; \
	done

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
