# Thin wrapper around CMake so the README's commands stay short.
#   make check   build everything and run all tests (installs deps, fetches assets)
#   make demo    the main job on the bundled default data
#   make asan    the test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz    build the libFuzzer targets (clang)
#   make bench   run the benchmarks with their anchors
#   make install PREFIX=/usr/local
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build check demo asan fuzz bench install clean assets

all: build

deps:
	@scripts/install-deps.sh build

assets:
	@scripts/fetch-assets.sh models samples coco-train80 coco-train1600 wordvecs

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

check: build assets
	@scripts/install-deps.sh test
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

demo: build assets
	@scripts/demo.sh $(BUILD)/searchlite

asan:
	@scripts/install-deps.sh test
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DSL_SANITIZE=ON -DSL_BUILD_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build-asan --output-on-failure -j $(JOBS)

fuzz:
	@scripts/install-deps.sh test
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DSL_FUZZ=ON -DSL_BUILD_TESTS=OFF -DSL_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)

bench: build assets
	@scripts/bench.sh $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
