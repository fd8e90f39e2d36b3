# The one test command (README, CI): formatting, vet, the whole suite under the race detector,
# the built-in detection rules' own tests, and Okta's own Go SDK against oktasim.
GO ?= go
PKGS ?= ./...

.PHONY: test fmt-check vet race rules-test sdkcompat build demo

test: fmt-check vet race rules-test sdkcompat

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

build:
	$(GO) build -o bin/idwatch ./cmd/idwatch

demo:
	$(GO) run ./cmd/idwatch demo

# The built-in rules' own tests, as a user runs them.
rules-test:
	$(GO) run ./cmd/idwatch rules test rules/

# Okta's Go SDK (okta-sdk-golang v5) pages the System Log and reads the directory of an in-process
# oktasim; a module of its own (test/sdkcompat) keeps the SDK out of idwatch's dependencies.
sdkcompat:
	cd test/sdkcompat && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 10m ./...
