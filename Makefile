# Newcomer entry points: `make run` and `make test` install what is missing (Debian 12;
# python3 is for the command-line tests and benchmark scripts),
# configure, build and run. Everything else is plain CMake.
BUILD_DIR ?= build
ASAN_BUILD_DIR ?= build-asan
JOBS ?= $(shell nproc)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEB_PACKAGES := build-essential cmake pkg-config git python3 \
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libpcre2-dev libxxhash-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libboost-dev prometheus

.PHONY: deps js-deps configure build run test test-asan fuzz format clean

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# The server tests drive `pareto serve` with the official OpenAI Node client (pinned in
# tests/server/js/package-lock.json); Node.js comes from Debian when the machine has none.
js-deps:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	@[ -d tests/server/js/node_modules/openai ] || (cd tests/server/js && npm ci --no-audit --no-fund --loglevel=error)

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DPARETO_BUILD_BENCH=ON

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# Serves the bundled model on http://127.0.0.1:8080 (Ctrl-C stops it); the log prints a curl line.
run: build
	./$(BUILD_DIR)/pareto serve -m models/stories260K.gguf --served-model-name stories260K --port 8080

test: build js-deps
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

test-asan: deps js-deps
	cmake -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARETO_SANITIZE=ON
	cmake --build $(ASAN_BUILD_DIR) -j$(JOBS)
	cd $(ASAN_BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

fuzz: deps
	@command -v clang++ >/dev/null || $(SUDO) apt-get install -y -qq clang libclang-rt-14-dev
	CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARETO_FUZZ=ON -DPARETO_BUILD_TESTS=OFF
	cmake --build build-fuzz -j$(JOBS) --target gguf_fuzzer
	@# New inputs go to the first folder (work/); the seed corpus and models/ are only read.
	mkdir -p build-fuzz/fuzz/work
	./build-fuzz/fuzz/gguf_fuzzer build-fuzz/fuzz/work build-fuzz/fuzz/corpus models \
	  -dict=fuzz/gguf.dict -max_len=16384 -max_total_time=60

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) build-fuzz
