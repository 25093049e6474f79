# Sluice: the two commands an operator needs are `make run` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
PYTHON ?= /usr/bin/python3
CMAKE_FLAGS ?=

.PHONY: all deps build run test unit asan fuzz fuzz-smoke e2e bench bench-checks bench-reload clean format tidy

all: build

deps:
	@bash tools/install-deps.sh

build: deps
	@echo "== build ($$(date +%T))"
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash tools/run-quickstart.sh $(BUILD)/sluice

unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# -g1 (line tables only) keeps stack traces readable and the build short.
asan: deps
	@cmake -S . -B build-asan -G Ninja -DSLUICE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
	  "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

# libFuzzer targets, built with clang. `make fuzz` runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 300
fuzz-build: deps
	@CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSLUICE_FUZZ=ON -DSLUICE_WERROR=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

fuzz: fuzz-build
	@bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	@bash fuzz/run.sh build-fuzz 15

e2e: build
	@$(PYTHON) -m pytest -q tests/e2e --sluice $(CURDIR)/$(BUILD)/sluice

test: build
	@echo "== unit tests ($$(date +%T))"; cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@echo "== unit tests under ASan+UBSan ($$(date +%T))"; $(MAKE) --no-print-directory asan
	@echo "== fuzz smoke run ($$(date +%T))"; $(MAKE) --no-print-directory fuzz-smoke
	@echo "== end-to-end tests ($$(date +%T))"; $(MAKE) --no-print-directory e2e
	@echo "== all tests passed ($$(date +%T))"

bench: build
	@$(PYTHON) bench/run.py --sluice $(CURDIR)/$(BUILD)/sluice --out bench/RESULTS.md

# The checks benchmark alone (about 3 minutes): bench/RESULTS-checks.md.
bench-checks: build
	@$(PYTHON) bench/run.py --scenario checks --sluice $(CURDIR)/$(BUILD)/sluice --out bench/RESULTS-checks.md

# Reloads under keep-alive load, Sluice -W against haproxy -W (bench/reload.py).
bench-reload: build
	@$(PYTHON) bench/reload.py --sluice $(CURDIR)/$(BUILD)/sluice --rounds 3 --out bench/RESULTS.md

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

tidy: build
	@clang-tidy -p $(BUILD) --quiet $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build build-asan build-fuzz
