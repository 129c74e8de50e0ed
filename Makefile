# SPDX-License-Identifier: GPL-2.0
# The commands of this repository; the work is done by harness/.
# This file is not a kernel file and is never laid over a kernel tree.

.PHONY: test run shell bench patches help

help:
	@echo "make test   build Linux 6.12 and 6.1 with VCM for ARM and x86_64, run the VCM KUnit suites in QEMU"
	@echo "make run    build Linux with VCM and its sample, boot it in QEMU, tell the pipeline"
	@echo "            (ARCH=arm64: on QEMU's SMMUv3, with two edu devices doing the DMA)"
	@echo "make shell  the same kernel with a shell on its console (leave: poweroff, Ctrl-A x)"
	@echo "make bench  measure VCM against iova.c, genalloc, io-pgtable (v7s, LPAE), kref"
	@echo "make patches  write the upstream patch series and check it (git am, build, checkpatch, sparse)"

test:
	@bash harness/test.sh

# ARCH=arm64 on make's command line; an ARCH of the environment (a kernel
# developer's) is not ours.
RUN_ARCH := $(if $(filter command line,$(origin ARCH)),$(ARCH))

run:
	@bash harness/run.sh story $(RUN_ARCH)

shell:
	@bash harness/run.sh shell $(RUN_ARCH)

bench:
	@bash harness/bench.sh

patches:
	@bash harness/patches.sh
