# labctl — see README.md. `make test` is the project's test command (unit + e2e).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)

GO       ?= go
BIN      := bin/labctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)
LDFLAGS  := -X github.com/labctl/labctl/internal/version.Version=$(VERSION) \
            -X github.com/labctl/labctl/internal/version.Commit=$(COMMIT)
LAB      ?= labs/lvs-nat-ha

.PHONY: build test deps unit lint e2e e2e-thesis demo fuzz bench clean

build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/labctl

## test: everything CI runs — host packages, lint, unit tests, then end-to-end tests on real VMs.
test: deps lint unit e2e

## deps: Debian packages and the sandbox (network namespace + libvirtd); needs root.
deps:
	sandbox/setup.sh

unit:
	$(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## e2e: installs host packages, starts libvirtd in the labctl-sandbox network namespace, builds
## the base image if needed, and runs the e2e tests inside the namespace under TCG.
e2e: build
	sandbox/e2e.sh

## e2e-thesis: the long drills kept out of `make test` (~30 min under TCG): the Pacemaker lab
## with the thesis' Prueba 4 (three ldirectord kills until the group moves).
e2e-thesis: build
	E2E_PACEMAKER_DRILLS=1 E2E_RUN='TestClusters/thesis-pacemaker' sandbox/e2e.sh

## demo: the main job — the thesis cluster up, verified and benchmarked, inside the sandbox.
demo: build
	sandbox/demo.sh $(LAB)

fuzz:
	$(GO) test ./topology -run '^$$' -fuzz=FuzzLoad -fuzztime=60s

bench:
	$(GO) test ./topology ./provision/... ./bench/... -run '^$$' -bench . -benchmem

clean:
	rm -rf bin
