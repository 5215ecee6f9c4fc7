# The front door. `make run` and `make test` set everything up on a fresh Debian 12 machine.
# Build directories: build/ (RelWithDebInfo), build-asan/ (ASan+UBSan), build-fuzz/ (clang).
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 60
# ccache: paths are made relative to the checkout so clones in other folders share the cache
# (the default cache directory of the user).
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= true

.PHONY: all bootstrap configure build run test bench asan fuzz format clean e2e-deps mutate \
  mutate-sample soak bench-compare races-long

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD)/build.ninja: | bootstrap
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

configure: bootstrap $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

e2e-deps: bootstrap
	@scripts/e2e-deps

# The main job: every quickstart scenario against the embedded reference service, with reports.
run: build
	@scripts/run-main $(BUILD)

test: build e2e-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	@scripts/run-bench $(BUILD)

# wpsim serve vs Debian's Mosquitto, driven by the same external load driver (bench/load) in one
# run; prints the ratios and p99 at half of each one's maximum (docs/performance.md). Installs
# mosquitto on first use. Not part of `make test` (minutes, and measures the machine).
bench-compare: build
	@scripts/bootstrap --bench
	@scripts/bench-compare $(BUILD)

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DWPSIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug -DWPSIM_BENCH=OFF"

fuzz: bootstrap
	cmake -S . -B build-fuzz -G Ninja -DWPSIM_FUZZ=ON -DWPSIM_BENCH=OFF \
	  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS)
	@scripts/run-fuzz build-fuzz $(FUZZ_SECONDS)

# Source-mutation testing of the scenario suite (docs/mutation.md): every mutant of service/ and
# protocol/auth/ compiled into one schemata build (build-mutate/), each run against the scenarios
# that reach it; report in build-mutate/report/. MUTATE_FLAGS adds options (--files, --sample).
MUTATE_FLAGS ?=
mutate: bootstrap
	/usr/bin/python3 tools/mutate/mutate.py $(MUTATE_FLAGS)

# The CI-sized sample (docs/mutation.md "CI sample"): a fixed draw of 40 mutants of
# protocol/auth/ and service/permissions.cc; under 3 minutes on 2 cores with a warm ccache.
mutate-sample: bootstrap
	/usr/bin/python3 tools/mutate/mutate.py --files 'protocol/auth/*' \
	  --files service/permissions.cc --sample 40 --seed 1 --build-dir build-mutate-sample \
	  $(MUTATE_FLAGS)

# Long run of `wpsim serve` over loopback (churn, abrupt kills, slow readers, reliable-client
# recoveries; RSS, heap in use and fds sampled; every acked message must reach every stable and
# reliable member). Not part of `make test`. scripts/soak-heap.c samples the heap in the service.
SOAK_SECONDS ?= 1800
soak: build e2e-deps
	cc -O2 -Wall -Werror -shared -fPIC -o $(BUILD)/soak-heap.so scripts/soak-heap.c -lpthread
	cd tests/e2e && WPSIM_BIN=$(CURDIR)/$(BUILD)/bin/wpsim SOAK_SECONDS=$(SOAK_SECONDS) \
	  WPSIM_SOAK_HEAP_PRELOAD=$(CURDIR)/$(BUILD)/soak-heap.so node soak.js

# Every race of scenarios/races/ under 10,000 seeds with swarm faults on the correct service
# (scripts/races-long; docs/scenarios.md "Races" has the last run). Not part of `make test`,
# which runs 200 seeds of each (races.*).
RACES_SEEDS ?= 10000
races-long: build
	scripts/races-long --wpsim $(BUILD)/bin/wpsim --seeds $(RACES_SEEDS)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-asan build-fuzz build-mutate build-mutate-sample
