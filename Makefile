# SPDX-License-Identifier: GPL-2.0
# The commands of this repository; the work is done by harness/.
# This file is not a kernel file and is never laid over a kernel tree.

.PHONY: test run bench help

help:
	@echo "make test   build Linux 6.12 and 6.1 with VCM for ARM and x86_64, run the VCM KUnit suites in QEMU"
	@echo "make run    build and boot that kernel in QEMU, show what VCM registered"
	@echo "make bench  measure VCM against iova.c, genalloc, io-pgtable-arm-v7s, kref"

test:
	@bash harness/test.sh

run:
	@bash harness/run.sh

bench:
	@bash harness/bench.sh
