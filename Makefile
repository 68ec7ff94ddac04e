# The README's commands. Each target installs the Debian packages it needs
# (scripts/deps.sh installs only what is missing), then builds with CMake.
#   make demo    set up, build, run the incident replay
#   make test    set up, build, run every test: normal, ASan+UBSan, TSan, fuzz
#   make bench   benchmarks against the peers (writes docs/benchmarks.md)
#   make fuzz    longer fuzzing runs (FUZZ_SECONDS per target)
#   make install PREFIX=/usr/local

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX  ?= /usr/local
FUZZ_SECONDS ?= 300
CMAKE_FLAGS ?=
CTEST   = ctest --output-on-failure --no-tests=error -j$(JOBS)

.PHONY: all build demo test test-normal test-asan test-tsan test-fuzz bench fuzz install clean

all: build

build:
	@scripts/deps.sh build
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j$(JOBS)

demo: build
	@scripts/deps.sh demo
	./build/oomkit demo

test:
	@scripts/deps.sh test
	$(MAKE) --no-print-directory test-normal test-asan test-tsan test-fuzz

test-normal:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMKIT_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j$(JOBS)
	cd build && $(CTEST) -LE 'fuzz'

# ASan+UBSan: everything but the LD_PRELOAD tests (label noasan), which
# cannot run with ASan's own interposed allocator.
test-asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DOOMKIT_SANITIZE=address -DOOMKIT_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(CTEST) -LE 'fuzz|noasan|bench'

# TSan: the concurrent tests (label concurrent).
test-tsan:
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMKIT_SANITIZE=thread -DOOMKIT_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-tsan -j$(JOBS) --target concurrent_tests
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $(CTEST) -L concurrent

# libFuzzer targets, briefly, from their seed corpora (clang).
test-fuzz:
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOOMKIT_FUZZ=ON -DOOMKIT_FUZZ_SECONDS=$(or $(TEST_FUZZ_SECONDS),10) -DOOMKIT_FUZZ_SEED=$(or $(TEST_FUZZ_SEED),1) $(CMAKE_FLAGS) >/dev/null
	cmake --build build-fuzz -j$(JOBS) --target fuzz_targets
	cd build-fuzz && $(CTEST) -L fuzz -j1

fuzz:
	@scripts/deps.sh test
	$(MAKE) --no-print-directory test-fuzz TEST_FUZZ_SECONDS=$(FUZZ_SECONDS) TEST_FUZZ_SEED=0

bench:
	@scripts/deps.sh bench
	$(MAKE) --no-print-directory build
	scripts/bench.sh

install: build
	cmake --install build --prefix $(PREFIX)

clean:
	rm -rf build build-asan build-tsan build-fuzz
