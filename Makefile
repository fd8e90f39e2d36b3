# The one test command (README, CI): formatting, vet, the whole suite under the race detector,
# and the built-in detection rules' own tests.
GO ?= go
PKGS ?= ./...

.PHONY: test fmt-check vet race rules-test build demo

test: fmt-check vet race rules-test

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
