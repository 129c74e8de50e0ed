// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_sysmmu: the Samsung SysMMU backend on a register window
 * in memory.  QEMU has no SysMMU, so the tests check what the hardware
 * would see: every 4 KiB of a binding is translated by the page-table
 * walker, the bytes at the physical address it gives are compared with
 * what the CPU wrote into the memory (a device read) and written through
 * it to be read back by the CPU (a device write); the registers are read
 * back from the window; the counts of entries written and invalidations
 * issued are checked against the rule in drivers/iommu/vcm-sysmmu.c.
 */

#include <kunit/test.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_device.h>
#include <linux/of_irq.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/vcm-sysmmu.h>

#include "../../drivers/iommu/vcm-sysmmu-hw.h"
#include "vcm_kunit_sysmmu.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define CTX_START	((dma_addr_t)SZ_256M)
#define CTX_SIZE	((resource_size_t)SZ_256M)

#define V(major, minor)	SYSMMU_VERSION_MAKE(major, minor)
#define CTRL_ON		(SYSMMU_CTRL_ENABLE | SYSMMU_CTRL_IRQ)

/* A SysMMU context over a register window in memory. */
struct sysmmu_ctx {
	struct vcm *vcm;
	u32 *regs;
};

static u32 reg(const struct sysmmu_ctx *ctx, unsigned int offset)
{
	return READ_ONCE(ctx->regs[offset / 4]);
}

static void set_reg(struct sysmmu_ctx *ctx, unsigned int offset, u32 value)
{
	WRITE_ONCE(ctx->regs[offset / 4], value);
}

static void ctx_destroy(void *vcm)
{
	vcm_destroy(vcm);
}

static struct vcm *create(u32 *regs, dma_addr_t start, resource_size_t size)
{
	return vcm_sysmmu_create(NULL, (void __force __iomem *)regs, NULL,
				 start, size);
}

static struct sysmmu_ctx *ctx_make(struct kunit *test, u32 version)
{
	struct sysmmu_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->regs = sysmmu_window(test, version);
	ctx->vcm = create(ctx->regs, CTX_START, CTX_SIZE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, ctx->vcm), 0);
	return ctx;
}

static struct vcm_sysmmu_stats stats(struct kunit *test, struct sysmmu_ctx *ctx)
{
	struct vcm_sysmmu_stats s;

	KUNIT_EXPECT_EQ(test, vcm_sysmmu_stats(ctx->vcm, &s), 0);
	return s;
}

/* ---- the hardware's view: its registers ---- */

/* Returned by window_translate() where the SysMMU lets an access through. */
#define BYPASS	1

/*
 * What the SysMMU of @ctx would do with an access at @iova, from its
 * registers: BYPASS if MMU_CTRL does not enable it, else a walk of the
 * tables at PT_BASE_ADDR as vcm_sysmmu_translate() walks the context's:
 * the order of the page with *@paddr set, or -EFAULT.
 */
static int window_translate(struct sysmmu_ctx *ctx, u32 iova, phys_addr_t *paddr)
{
	phys_addr_t l1 = reg(ctx, SYSMMU_PT_BASE_ADDR) + (iova >> 20) * 4, l2;
	u32 *map, entry;

	if (!(reg(ctx, SYSMMU_MMU_CTRL) & SYSMMU_CTRL_ENABLE))
		return BYPASS;
	if (!pfn_valid(PHYS_PFN(l1)))
		return -EIO;
	map = kmap_local_pfn(PHYS_PFN(l1));
	entry = map[offset_in_page(l1) / 4];
	kunmap_local(map);
	switch (entry & 3) {
	case 2:
		*paddr = (entry & GENMASK(31, 20)) | (iova & ~GENMASK(31, 20));
		return 8;
	case 1:
		break;
	default:
		return -EFAULT;
	}
	l2 = (entry & GENMASK(31, 10)) + ((iova >> 12) & 0xff) * 4;
	if (!pfn_valid(PHYS_PFN(l2)))
		return -EIO;
	map = kmap_local_pfn(PHYS_PFN(l2));
	entry = map[offset_in_page(l2) / 4];
	kunmap_local(map);
	if (entry & 2) {
		*paddr = (entry & GENMASK(31, 12)) | (iova & ~GENMASK(31, 12));
		return 0;
	}
	if ((entry & 3) == 1) {
		*paddr = (entry & GENMASK(31, 16)) | (iova & ~GENMASK(31, 16));
		return 4;
	}
	return -EFAULT;
}

/*
 * The SysMMU is enabled and faults every access: each of the 4096 L1
 * entries of the table at PT_BASE_ADDR faults, or links to a table all of
 * whose 256 entries fault.
 */
static void expect_fenced(struct kunit *test, struct sysmmu_ctx *ctx)
{
	phys_addr_t base = reg(ctx, SYSMMU_PT_BASE_ADDR), l2;
	unsigned int mib, i, through = 0;
	u32 *map, entry;

	KUNIT_ASSERT_TRUE_MSG(test, reg(ctx, SYSMMU_MMU_CTRL) & SYSMMU_CTRL_ENABLE,
			      "MMU_CTRL %#x: accesses pass untranslated",
			      reg(ctx, SYSMMU_MMU_CTRL));
	KUNIT_EXPECT_FALSE(test, reg(ctx, SYSMMU_MMU_CTRL) & SYSMMU_CTRL_BLOCK);
	KUNIT_ASSERT_TRUE(test, pfn_valid(PHYS_PFN(base)));
	for (mib = 0; mib < SYSMMU_L1_ENTRIES; mib++) {
		map = kmap_local_pfn(PHYS_PFN(base + mib * 4));
		entry = map[offset_in_page(base + mib * 4) / 4];
		kunmap_local(map);
		if ((entry & 3) == 0 || (entry & 3) == 3)
			continue;
		l2 = entry & GENMASK(31, 10);
		if ((entry & 3) == 2 || !pfn_valid(PHYS_PFN(l2))) {
			through++;
			continue;
		}
		map = kmap_local_pfn(PHYS_PFN(l2));
		for (i = 0; i < SYSMMU_L2_ENTRIES; i++)
			if (map[offset_in_page(l2) / 4 + i] & 3) {
				through++;
				break;
			}
		kunmap_local(map);
	}
	KUNIT_EXPECT_EQ_MSG(test, through, 0, "MiBs not faulting from PT_BASE_ADDR %#x",
			    reg(ctx, SYSMMU_PT_BASE_ADDR));
}

/*
 * Power lost: the registers read as after a reset, but for the version
 * and the status of a SysMMU that blocks at once.
 */
static void power_off(struct sysmmu_ctx *ctx, u32 value)
{
	u32 version = reg(ctx, SYSMMU_VERSION);
	unsigned int offset;

	for (offset = 0; offset < SYSMMU_REGS_SIZE; offset += 4)
		set_reg(ctx, offset, value);
	set_reg(ctx, SYSMMU_VERSION, version);
	set_reg(ctx, SYSMMU_MMU_STATUS, SYSMMU_STATUS_BLOCKED);
}

/* Registers other than the version and the status that are not @value. */
static unsigned int regs_written(struct sysmmu_ctx *ctx, u32 value)
{
	unsigned int offset, n = 0;

	for (offset = 0; offset < SYSMMU_REGS_SIZE; offset += 4)
		if (offset != SYSMMU_VERSION && offset != SYSMMU_MMU_STATUS)
			n += reg(ctx, offset) != value;
	return n;
}

/* ---- physical memory of a given layout ---- */

/* @count parts, each @pages pages from @offset into a block of @order. */
struct part_spec {
	unsigned int order;
	unsigned int offset;
	unsigned int pages;
	unsigned int count;
};

struct test_blocks {
	unsigned int nr;
	struct page *page[];	/* each of order page_private() */
};

static void test_blocks_free(void *data)
{
	struct test_blocks *blocks = data;
	unsigned int i;

	for (i = 0; i < blocks->nr; i++)
		__free_pages(blocks->page[i], page_private(blocks->page[i]));
	kfree(blocks);
}

static struct vcm_phys *phys_layout(struct kunit *test,
				    const struct part_spec *spec)
{
	const unsigned int max = 128;
	struct vcm_phys_part *parts;
	struct test_blocks *blocks;
	struct page *page;
	unsigned int nr = 0, i, j;

	parts = kunit_kcalloc(test, max, sizeof(*parts), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, parts);
	blocks = kzalloc(struct_size(blocks, page, max), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, blocks);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_blocks_free, blocks), 0);
	for (i = 0; spec[i].pages; i++) {
		for (j = 0; j < spec[i].count; j++) {
			KUNIT_ASSERT_LT(test, nr, max);
			page = alloc_pages(GFP_KERNEL, spec[i].order);
			KUNIT_ASSERT_NOT_NULL(test, page);
			set_page_private(page, spec[i].order);
			blocks->page[blocks->nr++] = page;
			parts[nr].page = page + spec[i].offset;
			parts[nr].start = page_to_phys(parts[nr].page);
			parts[nr].size = (resource_size_t)spec[i].pages << PAGE_SHIFT;
			nr++;
		}
	}
	return phys_make(test, parts, nr);
}

/* The struct page of page @index of @phys, or NULL past its end. */
static struct page *phys_page(const struct vcm_phys *phys, unsigned long index)
{
	unsigned int i;

	for (i = 0; i < phys->count; i++) {
		unsigned long pages = phys->parts[i].size >> PAGE_SHIFT;

		if (index < pages)
			return phys->parts[i].page + index;
		index -= pages;
	}
	return NULL;
}

static u32 pattern(unsigned long page, unsigned int word, u32 seed)
{
	return seed ^ (page << 12) ^ word;
}

/* Writes pattern(page, word, @seed) into every word of every page of @phys. */
static void phys_fill(const struct vcm_phys *phys, u32 seed)
{
	unsigned long pages = phys->size >> PAGE_SHIFT, i;
	unsigned int w;
	u32 *map;

	for (i = 0; i < pages; i++) {
		map = kmap_local_page(phys_page(phys, i));
		for (w = 0; w < PAGE_SIZE / 4; w++)
			map[w] = pattern(i, w, seed);
		kunmap_local(map);
	}
}

/* Words of page @index of the memory at @paddr that differ from @seed's. */
static unsigned int page_mismatches(phys_addr_t paddr, unsigned long index,
				    u32 seed)
{
	unsigned int w, bad = 0;
	u32 *map = kmap_local_pfn(PHYS_PFN(paddr));

	for (w = 0; w < PAGE_SIZE / 4; w++)
		bad += map[w] != pattern(index, w, seed);
	kunmap_local(map);
	return bad;
}

/* ---- the device's view ---- */

/*
 * Translates every 4 KiB of [@res->start, + @phys->size) and checks that
 * it lands on the right page of @phys, that a device reads there what the
 * CPU wrote (@seed), and that the CPU reads what a device writes there
 * (@seed + 1).  Counts the 4 KiB translated by each page size into
 * @by_order[] (section, large, small).
 */
static void expect_device_view(struct kunit *test, struct sysmmu_ctx *ctx,
			       struct vcm_res *res, struct vcm_phys *phys,
			       u32 seed, unsigned int by_order[3])
{
	unsigned long pages = phys->size >> PAGE_SHIFT, i;
	unsigned int bad_read = 0, bad_write = 0, bad_paddr = 0, faults = 0;
	phys_addr_t paddr;
	u32 *map;
	int order;

	phys_fill(phys, seed);
	for (i = 0; i < pages; i++) {
		order = vcm_sysmmu_translate(ctx->vcm, res->start + i * SZ_4K, &paddr);
		if (order < 0) {
			faults++;
			continue;
		}
		by_order[order == 8 ? 0 : order == 4 ? 1 : 2]++;
		/* Never touch memory a wrong translation points at. */
		if (paddr != page_to_phys(phys_page(phys, i))) {
			bad_paddr++;
			continue;
		}
		/* The device reads the page... */
		bad_read += page_mismatches(paddr, i, seed) != 0;
		/* ... and writes it; the CPU reads it through the phys. */
		map = kmap_local_pfn(PHYS_PFN(paddr));
		map[i % (PAGE_SIZE / 4)] = pattern(i, 0, seed + 1);
		kunmap_local(map);
		map = kmap_local_page(phys_page(phys, i));
		bad_write += map[i % (PAGE_SIZE / 4)] != pattern(i, 0, seed + 1);
		kunmap_local(map);
	}
	KUNIT_EXPECT_EQ(test, faults, 0);
	KUNIT_EXPECT_EQ(test, bad_paddr, 0);
	KUNIT_EXPECT_EQ(test, bad_read, 0);
	KUNIT_EXPECT_EQ(test, bad_write, 0);
}

/* Every 4 KiB of [@start, @start + @size) faults. */
static void expect_faults(struct kunit *test, struct sysmmu_ctx *ctx,
			  dma_addr_t start, resource_size_t size)
{
	unsigned long translated = 0, i;
	phys_addr_t paddr;

	for (i = 0; i < size >> PAGE_SHIFT; i++)
		translated += vcm_sysmmu_translate(ctx->vcm, start + i * SZ_4K,
						   &paddr) != -EFAULT;
	KUNIT_EXPECT_EQ_MSG(test, translated, 0, "in %pad + %pa", &start, &size);
}

/*
 * Reserves room for @phys in an active context, binds and unbinds it, and
 * returns the reservation with the counts after binding and unbinding.
 */
static struct vcm_res *bind_unbind(struct kunit *test, struct sysmmu_ctx *ctx,
				   struct vcm_phys *phys,
				   struct vcm_sysmmu_stats *bound,
				   struct vcm_sysmmu_stats *after)
{
	struct vcm_res *res = vcm_reserve(ctx->vcm, phys->size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	*bound = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	*after = stats(test, ctx);
	return res;
}

/* ---- layouts ---- */

struct layout_case {
	const char *desc;
	struct part_spec parts[4];
	resource_size_t pad;		/* reserved first, to move the binding */
	dma_addr_t offset;		/* where the binding lands in the context */
	unsigned int by_order[3];	/* 4 KiB translated by each page size */
	unsigned int l1_writes;		/* by bind, and again by unbind */
	unsigned int l2_writes;
	unsigned int l2_tables;
	unsigned int flush_entries;	/* by unbind, per the rule */
	unsigned int flush_alls;
};

static const struct layout_case layout_cases[] = {
	{ "four 1 MiB sections", { { 8, 0, 256, 4 } }, 0, 0,
	  { 1024, 0, 0 }, 4, 0, 0, 4, 0 },
	{ "eight 64 KiB large pages", { { 4, 0, 16, 8 } }, 0, 0,
	  { 0, 128, 0 }, 1, 128, 1, 8, 0 },
	{ "80 small pages: a full flush", { { 0, 0, 1, 80 } }, 0, 0,
	  { 0, 0, 80 }, 1, 80, 1, 0, 1 },
	{ "mixed: 1 MiB, 3 x 64 KiB, 5 x 4 KiB",
	  { { 8, 0, 256, 1 }, { 4, 0, 16, 3 }, { 0, 0, 1, 5 } }, 0, 0,
	  { 256, 48, 5 }, 2, 53, 1, 9, 0 },
	{ "device address 64 KiB past 1 MiB", { { 8, 0, 256, 2 }, { 4, 0, 16, 1 } },
	  SZ_4K, SZ_64K, { 0, 528, 0 }, 3, 528, 3, 33, 0 },
	{ "physical address 64 KiB past 1 MiB", { { 9, 16, 256, 1 } }, 0, 0,
	  { 0, 256, 0 }, 1, 256, 1, 16, 0 },
	{ "64 KiB of memory at a 4 KiB device address", { { 4, 0, 16, 1 }, { 0, 0, 1, 1 } },
	  SZ_4K, SZ_4K, { 0, 0, 17 }, 1, 17, 1, 17, 0 },
};

static void layout_desc(const struct layout_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_sysmmu_layout, layout_cases, layout_desc);

/*
 * A binding into an active v3.3 context translates every 4 KiB to its
 * page with the largest pages both addresses allow; unbinding faults all
 * of it, frees the L2 tables and invalidates by the rule.
 */
static void vcm_sysmmu_layout_test(struct kunit *test)
{
	const struct layout_case *c = test->param_value;
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_sysmmu_stats before, bound, after;
	unsigned int by_order[3] = { 0, 0, 0 };
	struct vcm_res *pad = NULL, *res;
	struct vcm_phys *phys;

	phys = phys_layout(test, c->parts);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	if (c->pad) {
		pad = vcm_reserve(ctx->vcm, c->pad, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pad);
	}
	res = vcm_reserve(ctx->vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, CTX_START + c->offset);

	before = stats(test, ctx);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	bound = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, bound.l1_writes - before.l1_writes, c->l1_writes);
	KUNIT_EXPECT_EQ(test, bound.l2_writes - before.l2_writes, c->l2_writes);
	KUNIT_EXPECT_EQ(test, bound.l2_tables - before.l2_tables, c->l2_tables);
	KUNIT_EXPECT_EQ(test, bound.pt_bytes - before.pt_bytes, c->l2_tables * SZ_1K);
	/* v3.3: each L1 entry that stopped linking to the fault table. */
	KUNIT_EXPECT_EQ(test, bound.flush_entries - before.flush_entries, c->l1_writes);
	KUNIT_EXPECT_EQ(test, bound.blocks - before.blocks, 1);

	expect_device_view(test, ctx, res, phys, 0x5a000000, by_order);
	KUNIT_EXPECT_EQ(test, by_order[0], c->by_order[0]);
	KUNIT_EXPECT_EQ(test, by_order[1], c->by_order[1]);
	KUNIT_EXPECT_EQ(test, by_order[2], c->by_order[2]);
	/* Around it, nothing. */
	expect_faults(test, ctx, CTX_START, c->offset);
	expect_faults(test, ctx, res->start + phys->size, SZ_1M);

	KUNIT_ASSERT_EQ(test, vcm_unbind(res), 0);
	after = stats(test, ctx);
	expect_faults(test, ctx, res->start, phys->size);
	KUNIT_EXPECT_EQ(test, after.l1_writes - bound.l1_writes, c->l1_writes);
	KUNIT_EXPECT_EQ(test, after.l2_writes - bound.l2_writes, c->l2_writes);
	KUNIT_EXPECT_EQ(test, after.l2_tables, before.l2_tables);
	KUNIT_EXPECT_EQ(test, after.pt_bytes, before.pt_bytes);
	KUNIT_EXPECT_EQ(test, after.flush_entries - bound.flush_entries, c->flush_entries);
	KUNIT_EXPECT_EQ(test, after.flush_alls - bound.flush_alls, c->flush_alls);
	KUNIT_EXPECT_EQ(test, after.blocks - bound.blocks, 1);
	KUNIT_EXPECT_EQ(test, after.block_timeouts, 0);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);

	vcm_unreserve(res);
	if (pad)
		vcm_unreserve(pad);
	vcm_deactivate(ctx->vcm);
}

/*
 * A new context's SysMMU is fenced; binding it while inactive writes no
 * entry; activation maps it all and starts the MMU on its tables;
 * deactivation fences it first and unmaps without invalidating.
 */
static void vcm_sysmmu_registers_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 8, 0, 256, 1 }, { 0, 0, 1, 1 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *phys = phys_layout(test, spec);
	struct vcm_sysmmu_stats s = stats(test, ctx);
	unsigned int by_order[3] = { 0, 0, 0 };
	struct vcm_res *res;
	u32 *l1;

	KUNIT_EXPECT_EQ(test, s.major, 3);
	KUNIT_EXPECT_EQ(test, s.minor, 3);
	KUNIT_EXPECT_EQ(test, s.pt_bytes, SZ_16K + SZ_1K);
	expect_fenced(test, ctx);
	KUNIT_EXPECT_EQ(test, s.flush_alls, 1);
	KUNIT_EXPECT_EQ(test, s.blocks, 1);

	res = vcm_reserve(ctx->vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	expect_faults(test, ctx, res->start, phys->size);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l1_writes, 0);

	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	s = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_PT_BASE_ADDR), s.pt_base);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CFG), (15 << 7) | BIT(20) | BIT(24));
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_FLUSH), 1);
	KUNIT_EXPECT_EQ(test, s.flush_alls, 2);
	/* Mapped before the MMU started: no entry to invalidate. */
	KUNIT_EXPECT_EQ(test, s.flush_entries, 0);
	KUNIT_EXPECT_EQ(test, s.l1_writes, 2);

	/* The L1 table the hardware is pointed at holds the section. */
	l1 = kmap_local_pfn(PHYS_PFN(reg(ctx, SYSMMU_PT_BASE_ADDR)));
	KUNIT_EXPECT_EQ(test, l1[res->start >> 20],
			(u32)phys->parts[0].start | 2);
	KUNIT_EXPECT_EQ(test, l1[(res->start >> 20) + 1] & 3, 1);
	KUNIT_EXPECT_EQ(test, l1[(res->start >> 20) + 2] & 3, 1);
	kunmap_local(l1);
	expect_device_view(test, ctx, res, phys, 0x3c000000, by_order);
	KUNIT_EXPECT_EQ(test, by_order[0], 256);
	KUNIT_EXPECT_EQ(test, by_order[2], 1);

	vcm_deactivate(ctx->vcm);
	s = stats(test, ctx);
	expect_fenced(test, ctx);
	/* Creation, activation and deactivation: each flushed all. */
	KUNIT_EXPECT_EQ(test, s.blocks, 3);
	KUNIT_EXPECT_EQ(test, s.flush_alls, 3);
	KUNIT_EXPECT_EQ(test, s.flush_entries, 0);
	KUNIT_EXPECT_EQ(test, s.l2_tables, 0);
	expect_faults(test, ctx, res->start, phys->size);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
}

struct version_case {
	const char *desc;
	u32 raw;
	int err;
	u32 cfg;
	unsigned int bind_flushes;	/* FLUSH_ENTRY on binding 2 MiB + 4 KiB */
	unsigned int unbind_flushes;	/* and on unbinding it */
	unsigned int unbind_flush_alls;
};

static const struct version_case version_cases[] = {
	{ "1.0 as some SoCs report it", 0x80000001, 0, BIT(0) | (15 << 7), 0, 3, 0 },
	{ "2.1: 64 writes per section", V(2, 1), 0, BIT(0) | (15 << 7), 0, 0, 1 },
	{ "3.1", V(3, 1), 0, BIT(0) | (15 << 7), 0, 3, 0 },
	{ "3.2", V(3, 2), 0, BIT(0) | (15 << 7) | BIT(20) | BIT(22), 0, 3, 0 },
	{ "3.3: caches L1 faults", V(3, 3), 0, (15 << 7) | BIT(20) | BIT(24), 3, 3, 0 },
	{ "5.0: another page-table format", V(5, 0), -ENODEV },
	{ "0.0: no SysMMU", 0, -ENODEV },
};

static void version_desc(const struct version_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_sysmmu_version, version_cases, version_desc);

/* Each version gets its configuration and its invalidations. */
static void vcm_sysmmu_version_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 8, 0, 256, 2 }, { 0, 0, 1, 1 }, {} };
	const struct version_case *c = test->param_value;
	struct vcm_sysmmu_stats before, bound, after;
	struct sysmmu_ctx ctx = { .regs = sysmmu_window(test, c->raw) };
	struct vcm_phys *phys;
	struct vcm_res *res;

	ctx.vcm = create(ctx.regs, CTX_START, CTX_SIZE);
	if (c->err) {
		KUNIT_EXPECT_PTR_EQ(test, ctx.vcm, ERR_PTR(c->err));
		return;
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx.vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, ctx.vcm), 0);
	phys = phys_layout(test, spec);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx.vcm), 0);
	KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_MMU_CFG), c->cfg);

	res = vcm_reserve(ctx.vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	before = stats(test, &ctx);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	bound = stats(test, &ctx);
	KUNIT_EXPECT_EQ(test, bound.flush_entries - before.flush_entries, c->bind_flushes);
	KUNIT_EXPECT_EQ(test, bound.blocks - before.blocks, c->bind_flushes ? 1 : 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	after = stats(test, &ctx);
	KUNIT_EXPECT_EQ(test, after.flush_entries - bound.flush_entries, c->unbind_flushes);
	KUNIT_EXPECT_EQ(test, after.flush_alls - bound.flush_alls, c->unbind_flush_alls);
	/* The last page unmapped is the last entry flushed. */
	if (c->unbind_flushes)
		KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_MMU_FLUSH_ENTRY),
				(u32)(res->start + SZ_2M) | 1);
	vcm_unreserve(res);
	vcm_deactivate(ctx.vcm);
}

/*
 * v2 flushes a 64 KiB page 4 KiB by 4 KiB, and a section with 64 writes
 * (its TLB has 64 sets), while that stays within 64.
 */
static void vcm_sysmmu_v2_test(struct kunit *test)
{
	static const struct part_spec large[] = { { 4, 0, 16, 4 }, {} };
	static const struct part_spec section[] = { { 8, 0, 256, 1 }, {} };
	const struct part_spec *specs[] = { large, section };
	struct sysmmu_ctx *ctx = ctx_make(test, V(2, 1));
	struct vcm_sysmmu_stats bound, after;
	struct vcm_phys *phys;
	struct vcm_res *res;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	for (i = 0; i < ARRAY_SIZE(specs); i++) {
		phys = phys_layout(test, specs[i]);
		res = bind_unbind(test, ctx, phys, &bound, &after);
		KUNIT_EXPECT_EQ(test, after.flush_entries - bound.flush_entries, 64);
		KUNIT_EXPECT_EQ(test, after.flush_alls, bound.flush_alls);
		/* Both end at 252 KiB: 4 x 16 writes, or 64 for the section. */
		KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_FLUSH_ENTRY),
				(u32)(res->start + SZ_256K - SZ_4K) | 1);
		vcm_unreserve(res);
	}
	vcm_deactivate(ctx->vcm);
}

/* A SysMMU that does not say it blocked is invalidated all the same. */
static void vcm_sysmmu_block_timeout_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 0, 0, 1, 2 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *phys = phys_layout(test, spec);
	struct vcm_sysmmu_stats bound, after;
	struct vcm_res *res;

	set_reg(ctx, SYSMMU_MMU_STATUS, 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	res = bind_unbind(test, ctx, phys, &bound, &after);
	KUNIT_EXPECT_EQ(test, after.blocks - bound.blocks, 1);
	KUNIT_EXPECT_EQ(test, after.block_timeouts - bound.block_timeouts, 1);
	KUNIT_EXPECT_EQ(test, after.flush_entries - bound.flush_entries, 2);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	/* The emptied table is unlinked but kept, mapping nothing... */
	KUNIT_EXPECT_EQ(test, after.l2_tables, 1);
	expect_faults(test, ctx, res->start, SZ_1M);

	/*
	 * ... is used again, linked anew (which a v3.3, caching L1 entries,
	 * has invalidated: one more block that times out), and freed once
	 * the MMU blocks.
	 */
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_allocs, after.l2_allocs);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).block_timeouts, after.block_timeouts + 1);
	set_reg(ctx, SYSMMU_MMU_STATUS, SYSMMU_STATUS_BLOCKED);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).block_timeouts, after.block_timeouts + 1);
	vcm_unreserve(res);
	vcm_deactivate(ctx->vcm);
}

/*
 * With a device, the tables are mapped for it and every write synced
 * (CONFIG_DMA_API_DEBUG checks each sync against the mappings); the
 * SysMMU's view is the same.
 */

/* @ctx's context, for @dev, on @ctx's window; destroyed when the test ends. */
static void ctx_on_device(struct kunit *test, struct sysmmu_ctx *ctx,
			  struct device *dev)
{
	ctx->vcm = vcm_sysmmu_create(dev, (void __force __iomem *)ctx->regs, NULL,
				     CTX_START, CTX_SIZE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, ctx->vcm), 0);
}

static void vcm_sysmmu_dma_test(struct kunit *test)
{
	static const struct part_spec spec[] = {
		{ 8, 0, 256, 1 }, { 4, 0, 16, 3 }, { 0, 0, 1, 5 }, {}
	};
	struct device *dev = dma_device(test, "vcm-sysmmu-dma", 32);
	unsigned int by_order[3] = { 0, 0, 0 };
	struct sysmmu_ctx ctx = { .regs = sysmmu_window(test, V(3, 3)) };
	struct vcm_sysmmu_stats before, after;
	struct vcm_phys *phys;
	struct vcm_res *res;

	ctx_on_device(test, &ctx, dev);
	KUNIT_EXPECT_STREQ(test, ctx.vcm->name, dev_name(dev));

	phys = phys_layout(test, spec);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx.vcm), 0);
	res = vcm_reserve(ctx.vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	before = stats(test, &ctx);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	expect_device_view(test, &ctx, res, phys, 0x77000000, by_order);
	KUNIT_EXPECT_EQ(test, by_order[0], 256);
	KUNIT_EXPECT_EQ(test, by_order[1], 48);
	KUNIT_EXPECT_EQ(test, by_order[2], 5);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	after = stats(test, &ctx);
	KUNIT_EXPECT_EQ(test, after.pt_bytes, before.pt_bytes);
	KUNIT_EXPECT_EQ(test, after.flush_entries - before.flush_entries, 2 + 9);
	expect_faults(test, &ctx, res->start, phys->size);
	vcm_unreserve(res);
	vcm_deactivate(ctx.vcm);
}

/* ---- faults ---- */

/*
 * The handler reads INT_STATUS and the fault address of each bit, counts
 * them, clears exactly those bits and unblocks the MMU; it leaves an idle
 * or suspended SysMMU alone.
 */
static void vcm_sysmmu_fault_test(struct kunit *test)
{
	static const u32 addr[8] = {
		0x10123456, 0x30000000, 0x20000000, 0x40000000,
		0x30000000, 0x30000000, 0x20000000, 0x20000000,
	};
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct fault_seen seen = { .ret = -EOPNOTSUPP };
	struct vcm_sysmmu_stats s;
	unsigned int bit;

	/* The master's handler declines: the backend reports them all. */
	KUNIT_ASSERT_EQ(test, vcm_set_fault_handler(ctx->vcm, record_fault, &seen), 0);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_suspend(ctx->vcm), 0);
	set_reg(ctx, SYSMMU_INT_STATUS, SYSMMU_INT_PAGE_FAULT);
	set_reg(ctx, SYSMMU_INT_CLEAR, 0xdead);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR), 0xdead);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_resume(ctx->vcm), 0);

	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	set_reg(ctx, SYSMMU_INT_STATUS, 0);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR), 0xdead);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).faults, 0);

	/* A page fault while blocked. */
	set_reg(ctx, SYSMMU_INT_STATUS, SYSMMU_INT_PAGE_FAULT);
	set_reg(ctx, SYSMMU_PAGE_FAULT_ADDR, 0x10123456);
	set_reg(ctx, SYSMMU_MMU_CTRL, CTRL_ON | SYSMMU_CTRL_BLOCK);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_HANDLED);
	s = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, s.faults, 1);
	KUNIT_EXPECT_EQ(test, s.last_fault_status, SYSMMU_INT_PAGE_FAULT);
	KUNIT_EXPECT_EQ(test, s.last_fault_addr, 0x10123456);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR), SYSMMU_INT_PAGE_FAULT);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	KUNIT_EXPECT_EQ(test, seen.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, seen.vcm, ctx->vcm);
	KUNIT_EXPECT_EQ(test, seen.addr, 0x10123456);
	KUNIT_EXPECT_EQ(test, seen.flags, 0);

	/* Each fault from its own address register. */
	set_reg(ctx, SYSMMU_AW_FAULT_ADDR, 0x20000000);
	set_reg(ctx, SYSMMU_AR_FAULT_ADDR, 0x30000000);
	set_reg(ctx, SYSMMU_DEFAULT_SLAVE_ADDR, 0x40000000);
	for (bit = 0; bit < 8; bit++) {
		set_reg(ctx, SYSMMU_INT_STATUS, BIT(bit));
		KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_HANDLED);
		KUNIT_EXPECT_EQ_MSG(test, stats(test, ctx).last_fault_addr, addr[bit],
				    "bit %u", bit);
		KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR), BIT(bit));
		/* Not for a bus error, at a physical address. */
		KUNIT_EXPECT_EQ_MSG(test, seen.calls, 1 + bit + (bit < 3), "bit %u", bit);
		if (BIT(bit) != SYSMMU_INT_BUS_ERROR)
			KUNIT_EXPECT_EQ_MSG(test, seen.flags,
					    addr[bit] == 0x20000000 ? VCM_FAULT_WRITE : 0,
					    "bit %u", bit);
	}

	/* A bus error, a write access fault and a bit the driver does not know. */
	set_reg(ctx, SYSMMU_INT_STATUS, SYSMMU_INT_BUS_ERROR | SYSMMU_INT_AW_ACCESS | BIT(9));
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_HANDLED);
	s = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, s.faults, 1 + 8 + 3);
	KUNIT_EXPECT_EQ(test, s.last_fault_addr, 0x20000000);
	KUNIT_EXPECT_EQ(test, s.last_fault_status,
			SYSMMU_INT_BUS_ERROR | SYSMMU_INT_AW_ACCESS | BIT(9));
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR),
			SYSMMU_INT_BUS_ERROR | SYSMMU_INT_AW_ACCESS | BIT(9));
	KUNIT_EXPECT_EQ(test, seen.calls, 1 + 7 + 1);
	KUNIT_EXPECT_EQ(test, seen.addr, 0x20000000);
	KUNIT_EXPECT_EQ(test, seen.flags, VCM_FAULT_WRITE);

	/* A handled fault is counted and cleared, and the MMU unblocked. */
	seen.ret = 0;
	set_reg(ctx, SYSMMU_INT_STATUS, SYSMMU_INT_PAGE_FAULT);
	set_reg(ctx, SYSMMU_MMU_CTRL, CTRL_ON | SYSMMU_CTRL_BLOCK);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_HANDLED);
	KUNIT_EXPECT_EQ(test, seen.calls, 1 + 7 + 1 + 1);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).faults, 1 + 8 + 3 + 1);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_INT_CLEAR), SYSMMU_INT_PAGE_FAULT);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	vcm_deactivate(ctx->vcm);
}

/* ---- failures and bad input ---- */

/*
 * Each allocation of vcm_sysmmu_create() can fail, with a device or
 * without: -ENOMEM, and nothing left mapped for the device
 * (CONFIG_DMA_API_DEBUG checks each unmapping against the mappings).
 */
static void vcm_sysmmu_create_fails_test(struct kunit *test)
{
	struct device *devs[] = { NULL, kunit_device_register(test, "vcm-sysmmu-fails") };
	struct test_alloc *ta = test_alloc_start(test);
	u32 *regs = sysmmu_window(test, V(3, 3));
	struct vcm *vcm;
	unsigned int n, i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, devs[1]);
	devs[1]->dma_mask = &devs[1]->coherent_dma_mask;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(devs[1], DMA_BIT_MASK(32)), 0);
	for (i = 0; i < ARRAY_SIZE(devs); i++) {
		for (n = 1; ; n++) {
			test_alloc_reset(ta);
			ta->fail_from = n;
			vcm = vcm_sysmmu_create(devs[i], (void __force __iomem *)regs, NULL,
						CTX_START, CTX_SIZE);
			if (!IS_ERR(vcm))
				break;
			KUNIT_EXPECT_PTR_EQ_MSG(test, vcm, ERR_PTR(-ENOMEM), "failing from %u", n);
			KUNIT_ASSERT_LT(test, n, 16);
		}
		vcm_destroy(vcm);
		/*
		 * The context, the fault table, the L1 table, the pool, its
		 * range, the depot, the range caches, the reservation counts.
		 */
		KUNIT_EXPECT_EQ(test, n, 9);
	}
}

/* Allocations the backend asked for where it could not sleep. */
static unsigned int atomic_allocs;

static bool count_atomic_alloc(void)
{
	if (IS_ENABLED(CONFIG_PREEMPT_COUNT) && !preemptible())
		atomic_allocs++;
	return test_should_fail_alloc();
}

/*
 * An L2 table that cannot be allocated fails the binding with -ENOMEM and
 * leaves nothing mapped and no table behind; so does an activation.  Each
 * table is allocated where the backend may sleep (GFP_KERNEL).
 */
static void vcm_sysmmu_bind_fails_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 8, 0, 256, 2 }, { 4, 0, 16, 1 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *phys = phys_layout(test, spec);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_sysmmu_stats before, after;
	struct vcm_res *pad, *res;
	unsigned int n;
	int ret;

	atomic_allocs = 0;
	kunit_activate_static_stub(test, vcm_should_fail_alloc, count_atomic_alloc);
	/* Binding 64 KiB past 1 MiB: three L2 tables. */
	pad = vcm_reserve(ctx->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pad);
	res = vcm_reserve(ctx->vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		before = stats(test, ctx);
		ret = vcm_bind(res, phys);
		if (!ret)
			break;
		after = stats(test, ctx);
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failing from %u", n);
		KUNIT_EXPECT_EQ(test, res->bound_size, 0);
		KUNIT_EXPECT_EQ(test, after.l2_tables, before.l2_tables);
		KUNIT_EXPECT_EQ(test, after.pt_bytes, before.pt_bytes);
		/* Failing at the first table there is nothing to take back. */
		KUNIT_EXPECT_EQ(test, after.blocks - before.blocks, n > 1);
		expect_faults(test, ctx, CTX_START, SZ_4M);
		KUNIT_ASSERT_LT(test, n, 16);
	}
	KUNIT_EXPECT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 3);
	vcm_deactivate(ctx->vcm);

	/* Activation replays the binding: the same, from inactive. */
	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		ret = vcm_activate(ctx->vcm);
		if (!ret)
			break;
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failing from %u", n);
		expect_fenced(test, ctx);
		KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);
		expect_faults(test, ctx, CTX_START, SZ_4M);
		KUNIT_ASSERT_LT(test, n, 16);
	}
	KUNIT_EXPECT_EQ(test, n, 4);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	KUNIT_EXPECT_EQ_MSG(test, atomic_allocs, 0,
			    "allocations made where the backend cannot sleep");
	vcm_deactivate(ctx->vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	vcm_unreserve(pad);
}

/* Contexts must stay within 32 bits; bindings within their reservations. */
static void vcm_sysmmu_bad_input_test(struct kunit *test)
{
	const struct vcm_phys_part big = { .start = SZ_1G, .size = SZ_2M + SZ_4K };
	u32 *regs = sysmmu_window(test, V(3, 3));
	struct vcm_sysmmu_stats s;
	struct sysmmu_ctx ctx = { .regs = regs };
	struct vcm_res *res;
	phys_addr_t paddr;

	expect_warning(test, "");
	KUNIT_EXPECT_PTR_EQ(test, create(NULL, CTX_START, CTX_SIZE), ERR_PTR(-EINVAL));
	expect_warning_end(test, 1);
	KUNIT_EXPECT_PTR_EQ(test, create(regs, SZ_4G - SZ_1M, SZ_2M), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, create(regs, CTX_START, 0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(NULL, 0, &paddr), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ERR_PTR(-ENOMEM), 0, &paddr), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_stats(NULL, &s), -EINVAL);

	/* The last 2 MiB below 4 GiB work; 4 KiB more do not fit. */
	ctx.vcm = create(regs, SZ_4G - SZ_2M, SZ_2M);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx.vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, ctx.vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx.vcm), 0);
	res = vcm_reserve(ctx.vcm, SZ_2M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, SZ_4G - SZ_2M);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys_make(test, &big, 1)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, stats(test, &ctx).l1_writes, 0);
	vcm_unreserve(res);
	vcm_deactivate(ctx.vcm);
}

/*
 * Memory the SysMMU cannot address, above 4 GiB, is refused by vcm_bind(),
 * whether the context is active or not: an inactive context used to take
 * it and fail only at vcm_activate().
 */
static void vcm_sysmmu_high_memory_test(struct kunit *test)
{
#ifdef CONFIG_PHYS_ADDR_T_64BIT
	const struct vcm_phys_part high = { .start = SZ_4G, .size = SZ_1M };
	const struct vcm_phys_part across = { .start = SZ_4G - SZ_64K, .size = SZ_128K };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_res *res;

	res = vcm_reserve(ctx->vcm, SZ_1M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys_make(test, &high, 1)), -ERANGE);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys_make(test, &across, 1)), -ERANGE);
	KUNIT_EXPECT_NULL(test, res->phys);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys_make(test, &high, 1)), -ERANGE);
	expect_faults(test, ctx, res->start, SZ_1M);
	vcm_unreserve(res);
	vcm_deactivate(ctx->vcm);
#else
	kunit_skip(test, "phys_addr_t has 32 bits");
#endif
}

/*
 * A read-only mapping is refused: the v1-v3 page tables have no
 * permission bits, and the mapping must not be made writable.
 */
static void vcm_sysmmu_read_only_test(struct kunit *test)
{
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct test_alloc *ta = test_alloc_start(test);

	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(ctx->vcm, SZ_4K, VCM_READ_ONLY),
			    ERR_PTR(-EOPNOTSUPP));
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(ctx->vcm, SZ_4K, 0, VCM_READ_ONLY),
			    ERR_PTR(-EOPNOTSUPP));
	expect_no_live_pages(test, ta);
}

/*
 * Page tables changed behind the driver's back: it refuses to map over an
 * entry it did not write, and the walker reports a link to memory that is
 * not RAM as the bus error the hardware would get.
 */
static void vcm_sysmmu_corrupt_test(struct kunit *test)
{
	const struct vcm_phys_part part = { .start = SZ_1G, .size = SZ_4K };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_res *res;
	phys_addr_t paddr;
	u32 *l1, saved;

	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	res = vcm_reserve(ctx->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	l1 = phys_to_virt(stats(test, ctx).pt_base);
	saved = l1[res->start >> 20];

	l1[res->start >> 20] = SZ_2G | 2;
	expect_warning(test, "WARNING");
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys_make(test, &part, 1)), -EADDRINUSE);
	expect_warning_end(test, 1);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start, &paddr), 8);
	KUNIT_EXPECT_EQ(test, paddr, SZ_2G);

	l1[res->start >> 20] = 0xfec00000 | 1;
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start, &paddr), -EIO);
	l1[res->start >> 20] = saved;
	expect_faults(test, ctx, res->start, SZ_1M);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);
	vcm_unreserve(res);
	vcm_deactivate(ctx->vcm);
}

/* A master without a device-tree node has no SysMMU to follow. */
static void vcm_sysmmu_get_test(struct kunit *test)
{
	struct device *master = kunit_device_register(test, "vcm-sysmmu-master");

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, master);
	KUNIT_EXPECT_PTR_EQ(test, vcm_sysmmu_get(master, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_sysmmu_get(NULL, 0), ERR_PTR(-ENODEV));
}

/* ---- the platform driver, on a device-tree overlay ---- */

#if IS_ENABLED(CONFIG_OF_OVERLAY)
/*
 * A flattened device tree written token by token (Documentation/devicetree/
 * usage-model.rst; the format of scripts/dtc/libfdt/fdt.h), so that the
 * overlay can hold the address of a register window in RAM and the cells
 * of this machine's tree.  Big-endian words; the strings block after the
 * structure block.
 */
#define FDT_WORDS	256
#define FDT_STRINGS	256

struct fdt_writer {
	__be32 words[FDT_WORDS];
	unsigned int nr;
	char strings[FDT_STRINGS];
	unsigned int strings_len;
	bool overflow;
};

static void fdt_word(struct fdt_writer *w, u32 word)
{
	if (w->nr < FDT_WORDS)
		w->words[w->nr++] = cpu_to_be32(word);
	else
		w->overflow = true;
}

/* @len bytes of @data, zero-padded to whole words. */
static void fdt_bytes(struct fdt_writer *w, const void *data, unsigned int len)
{
	unsigned int words = DIV_ROUND_UP(len, 4);

	if (w->nr + words > FDT_WORDS) {
		w->overflow = true;
		return;
	}
	memset(&w->words[w->nr], 0, words * 4);
	memcpy(&w->words[w->nr], data, len);
	w->nr += words;
}

static void fdt_begin_node(struct fdt_writer *w, const char *name)
{
	fdt_word(w, 1);				/* FDT_BEGIN_NODE */
	fdt_bytes(w, name, strlen(name) + 1);
}

static void fdt_end_node(struct fdt_writer *w)
{
	fdt_word(w, 2);				/* FDT_END_NODE */
}

static void fdt_prop(struct fdt_writer *w, const char *name, const void *data,
		     unsigned int len)
{
	unsigned int size = strlen(name) + 1;

	if (w->strings_len + size > FDT_STRINGS) {
		w->overflow = true;
		return;
	}
	fdt_word(w, 3);				/* FDT_PROP */
	fdt_word(w, len);
	fdt_word(w, w->strings_len);
	memcpy(w->strings + w->strings_len, name, size);
	w->strings_len += size;
	fdt_bytes(w, data, len);
}

static void fdt_prop_string(struct fdt_writer *w, const char *name, const char *value)
{
	fdt_prop(w, name, value, strlen(value) + 1);
}

static void fdt_prop_cells(struct fdt_writer *w, const char *name,
			   const u32 *cells, unsigned int n)
{
	__be32 be[8];
	unsigned int i;

	for (i = 0; i < n && i < ARRAY_SIZE(be); i++)
		be[i] = cpu_to_be32(cells[i]);
	fdt_prop(w, name, be, i * 4);
}

/* The blob: header, an empty reservation map, the structure, the strings. */
static void *fdt_finish(struct kunit *test, struct fdt_writer *w, u32 *size)
{
	const u32 header = 40, rsvmap = 16;
	u32 struct_size, total;
	__be32 *fdt;

	fdt_word(w, 9);				/* FDT_END */
	KUNIT_ASSERT_FALSE(test, w->overflow);
	struct_size = w->nr * 4;
	total = header + rsvmap + struct_size + w->strings_len;
	fdt = kunit_kzalloc(test, total, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fdt);
	fdt[0] = cpu_to_be32(0xd00dfeed);	/* magic */
	fdt[1] = cpu_to_be32(total);
	fdt[2] = cpu_to_be32(header + rsvmap);	/* off_dt_struct */
	fdt[3] = cpu_to_be32(header + rsvmap + struct_size);	/* off_dt_strings */
	fdt[4] = cpu_to_be32(header);		/* off_mem_rsvmap */
	fdt[5] = cpu_to_be32(17);		/* version */
	fdt[6] = cpu_to_be32(16);		/* last_comp_version */
	fdt[8] = cpu_to_be32(w->strings_len);	/* size_dt_strings */
	fdt[9] = cpu_to_be32(struct_size);	/* size_dt_struct */
	memcpy((char *)fdt + header + rsvmap, w->words, struct_size);
	memcpy((char *)fdt + header + rsvmap + struct_size, w->strings, w->strings_len);
	*size = total;
	return fdt;
}

#define OF_SYSMMU	"vcm-kunit-sysmmu"
#define OF_MASTER	"vcm-kunit-master"
/* The test's own master: a compatible string of no binding. */
#define OF_MASTER_COMPATIBLE	"vcm-kunit,sysmmu-master"
#define OF_PROPERTY	"samsung,vcm-sysmmus"
/* A GIC shared peripheral interrupt that QEMU's virt board leaves unused. */
#define OF_SPI		250

/*
 * The overlay: at the root, a master that names its SysMMU, then the
 * SysMMU with @window as its registers.  The master's reference is to a
 * phandle of the overlay's own, which __local_fixups__ lets the kernel
 * move past the live tree's.
 */
static void *sysmmu_overlay(struct kunit *test, phys_addr_t window, u32 *size)
{
	struct fdt_writer *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	u32 addr_cells = 2, size_cells = 1, cells[4], n = 0;
	const u32 irq[3] = { 0, OF_SPI, 4 };	/* GIC_SPI, IRQ_TYPE_LEVEL_HIGH */
	const u32 phandle = 1, zero = 0;

	KUNIT_ASSERT_NOT_NULL(test, w);
	of_property_read_u32(of_root, "#address-cells", &addr_cells);
	of_property_read_u32(of_root, "#size-cells", &size_cells);
	KUNIT_ASSERT_LE(test, addr_cells + size_cells, 4);
	KUNIT_ASSERT_GE(test, addr_cells, 1);
	KUNIT_ASSERT_GE(test, size_cells, 1);
	if (addr_cells == 2)
		cells[n++] = upper_32_bits((u64)window);
	cells[n++] = lower_32_bits(window);
	if (size_cells == 2)
		cells[n++] = 0;
	cells[n++] = SYSMMU_REGS_SIZE;

	fdt_begin_node(w, "");
	fdt_begin_node(w, "fragment@0");
	fdt_prop_string(w, "target-path", "/");
	fdt_begin_node(w, "__overlay__");
	fdt_begin_node(w, OF_MASTER);
	fdt_prop_string(w, "compatible", OF_MASTER_COMPATIBLE);
	fdt_prop_cells(w, OF_PROPERTY, &phandle, 1);
	fdt_end_node(w);
	fdt_begin_node(w, OF_SYSMMU);
	fdt_prop_string(w, "compatible", "samsung,exynos-sysmmu");
	fdt_prop_cells(w, "reg", cells, n);
	fdt_prop_cells(w, "interrupts", irq, ARRAY_SIZE(irq));
	fdt_prop_cells(w, "phandle", &phandle, 1);
	fdt_end_node(w);
	fdt_end_node(w);
	fdt_end_node(w);
	fdt_begin_node(w, "__local_fixups__");
	fdt_begin_node(w, "fragment@0");
	fdt_begin_node(w, "__overlay__");
	fdt_begin_node(w, OF_MASTER);
	fdt_prop_cells(w, OF_PROPERTY, &zero, 1);	/* byte offsets of phandles */
	fdt_end_node(w);
	fdt_end_node(w);
	fdt_end_node(w);
	fdt_end_node(w);
	fdt_end_node(w);
	return fdt_finish(test, w, size);
}

/* What the master's driver saw, and the register window in RAM. */
static struct {
	u32 *window;
	struct vcm *vcm;		/* from vcm_sysmmu_get() in its probe */
	unsigned int probes;
	unsigned int releases;
	bool dead_at_release;		/* the context, when the master unbound */
	bool sysmmu_bound_at_release;
	struct device *sysmmu;
} of_seen;

/* vcm_sysmmu_ioremap() for the overlay's SysMMU: the window it names. */
static void __iomem *window_ioremap(struct platform_device *pdev)
{
	struct resource *res = platform_get_resource(pdev, IORESOURCE_MEM, 0);

	if (!res || res->start != virt_to_phys(of_seen.window) ||
	    resource_size(res) != SYSMMU_REGS_SIZE)
		return IOMEM_ERR_PTR(-EINVAL);
	return (void __force __iomem *)of_seen.window;
}

static void master_release(void *vcm)
{
	of_seen.releases++;
	of_seen.dead_at_release = READ_ONCE(((struct vcm *)vcm)->dead);
	of_seen.sysmmu_bound_at_release = of_seen.sysmmu && READ_ONCE(of_seen.sysmmu->driver);
	vcm_deactivate(vcm);
}

/* A master's driver: its context from its SysMMU, active while bound. */
static int master_probe(struct platform_device *pdev)
{
	struct vcm *vcm = vcm_sysmmu_get(&pdev->dev, 0);
	int ret;

	of_seen.probes++;
	if (IS_ERR(vcm))
		return PTR_ERR(vcm);
	ret = vcm_activate(vcm);
	if (ret)
		return ret;
	of_seen.vcm = vcm;
	return devm_add_action_or_reset(&pdev->dev, master_release, vcm);
}

static const struct of_device_id master_of_match[] = {
	{ .compatible = OF_MASTER_COMPATIBLE },
	{ }
};

static struct platform_driver master_driver = {
	.probe = master_probe,
	.driver = {
		.name = "vcm-kunit-sysmmu-master",
		.of_match_table = master_of_match,
	},
};

static void master_driver_unregister(void *driver)
{
	platform_driver_unregister(driver);
}

static void overlay_remove(void *ovcs_id)
{
	of_overlay_remove(ovcs_id);
}

static void put_device_action(void *dev)
{
	put_device(dev);
}

/* The platform device of node @path, held until the test ends. */
static struct platform_device *of_pdev(struct kunit *test, const char *path)
{
	struct device_node *np = of_find_node_by_path(path);
	struct platform_device *pdev;

	KUNIT_ASSERT_NOT_NULL_MSG(test, np, "no node %s", path);
	pdev = of_find_device_by_node(np);
	of_node_put(np);
	KUNIT_ASSERT_NOT_NULL_MSG(test, pdev, "no device for %s", path);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, put_device_action, &pdev->dev), 0);
	return pdev;
}

/*
 * A SysMMU and its master described in the device tree, as a board's
 * tree would: the SysMMU's platform driver binds its node, the master's
 * device is not held back by the driver core for the reference to its
 * SysMMU, and its driver gets the SysMMU's context with vcm_sysmmu_get()
 * (after deferring once: the master comes first in the tree).  Removing
 * the nodes unbinds the master before its SysMMU (the device link), and
 * the context with it.
 */
static void vcm_sysmmu_of_test(struct kunit *test)
{
	struct platform_device *sysmmu, *master;
	struct vcm_sysmmu_stats s;
	struct device_node *intc;
	u32 intc_cells = 0, size;
	int ovcs_id = 0, ret;
	void *fdt;

	if (!of_root)
		kunit_skip(test, "no device tree");
	intc = of_irq_find_parent(of_root);
	if (intc)
		of_property_read_u32(intc, "#interrupt-cells", &intc_cells);
	of_node_put(intc);
	if (intc_cells != 3)
		kunit_skip(test, "no GIC with 3 interrupt cells at the root");

	memset(&of_seen, 0, sizeof(of_seen));
	of_seen.window = sysmmu_window(test, V(3, 3));
	kunit_activate_static_stub(test, vcm_sysmmu_ioremap, window_ioremap);
	KUNIT_ASSERT_EQ(test, platform_driver_register(&master_driver), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, master_driver_unregister,
							&master_driver), 0);

	fdt = sysmmu_overlay(test, virt_to_phys(of_seen.window), &size);
#ifdef VCM_COMPAT_6_1
	ret = of_overlay_fdt_apply(fdt, size, &ovcs_id);
#else
	ret = of_overlay_fdt_apply(fdt, size, &ovcs_id, NULL);
#endif
	if (ret && ovcs_id)
		of_overlay_remove(&ovcs_id);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, overlay_remove, &ovcs_id), 0);
	/* The master deferred; its second probe runs from the driver core's work. */
	wait_for_device_probe();

	sysmmu = of_pdev(test, "/" OF_SYSMMU);
	master = of_pdev(test, "/" OF_MASTER);
	of_seen.sysmmu = &sysmmu->dev;
	KUNIT_ASSERT_NOT_NULL_MSG(test, READ_ONCE(sysmmu->dev.driver), "SysMMU not bound");
	KUNIT_ASSERT_NOT_NULL(test, platform_get_drvdata(sysmmu));
	/* Its master activated the context: it translates. */
	KUNIT_EXPECT_EQ(test, of_seen.window[SYSMMU_MMU_CTRL / 4], CTRL_ON);
	KUNIT_EXPECT_EQ(test, of_seen.window[SYSMMU_PT_BASE_ADDR / 4],
			vcm_sysmmu_stats(platform_get_drvdata(sysmmu), &s) ? 0 : s.pt_base);

	/* The driver core lets the master probe, and its probe gets the context. */
	KUNIT_EXPECT_EQ(test, of_dma_configure(&master->dev, master->dev.of_node, true), 0);
	KUNIT_EXPECT_PTR_EQ(test, READ_ONCE(master->dev.driver), &master_driver.driver);
	KUNIT_EXPECT_PTR_EQ(test, of_seen.vcm, platform_get_drvdata(sysmmu));
	KUNIT_EXPECT_EQ(test, of_seen.probes, 2);
	KUNIT_EXPECT_PTR_EQ(test, vcm_sysmmu_get(&master->dev, 0), of_seen.vcm);
	KUNIT_EXPECT_PTR_EQ(test, vcm_sysmmu_get(&master->dev, 1), ERR_PTR(-ENOENT));
	if (IS_ENABLED(CONFIG_PM))
		KUNIT_EXPECT_NOT_NULL(test, sysmmu->dev.driver->pm);
	/*
	 * Another device of the power domain keeps the SysMMU powered
	 * through its unbinding, as the driver core would let it suspend.
	 */
	pm_runtime_get_sync(&sysmmu->dev);
	kunit_release_action(test, put_device_action, &master->dev);
	kunit_release_action(test, put_device_action, &sysmmu->dev);

	/*
	 * Removed, the SysMMU first (the reverse of the tree's order): the
	 * device link unbinds the master before, its context still live.
	 */
	kunit_release_action(test, overlay_remove, &ovcs_id);
	KUNIT_EXPECT_EQ(test, of_seen.releases, 1);
	KUNIT_EXPECT_FALSE(test, of_seen.dead_at_release);
	KUNIT_EXPECT_TRUE(test, of_seen.sysmmu_bound_at_release);
	/* Then the SysMMU's driver, its masters quiet: it is turned off. */
	KUNIT_EXPECT_EQ(test, of_seen.window[SYSMMU_MMU_CTRL / 4], 0);
}
#else
static void vcm_sysmmu_of_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_OF_OVERLAY");
}
#endif

/* ---- power, teardown and reset ---- */

/*
 * The SysMMU loses its registers with its master's power domain: resuming
 * programs them again, and while it is suspended binding and unbinding
 * write the page tables and no register, the TLB being flushed whole on
 * resume.  A powered-down SysMMU cannot raise the interrupt it shares.
 */
static void vcm_sysmmu_suspend_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 0, 0, 1, 2 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *phys = phys_layout(test, spec);
	const u32 poison = 0x5a5a5a5a;
	struct vcm_sysmmu_stats s;
	struct vcm_res *res;
	phys_addr_t paddr;

	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	res = vcm_reserve(ctx->vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);

	KUNIT_ASSERT_EQ(test, vcm_sysmmu_suspend(ctx->vcm), 0);
	power_off(ctx, 0);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_resume(ctx->vcm), 0);
	s = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CFG), (15 << 7) | BIT(20) | BIT(24));
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_PT_BASE_ADDR), s.pt_base);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_FLUSH), 1);
	KUNIT_EXPECT_EQ(test, window_translate(ctx, res->start + SZ_4K, &paddr), 0);
	KUNIT_EXPECT_EQ(test, paddr, phys->parts[1].start);

	/* Suspended: unbinding and binding write no register. */
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_suspend(ctx->vcm), 0);
	power_off(ctx, poison);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	/* Nothing walks the emptied table: it is freed at once. */
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start + SZ_4K, &paddr), 0);
	KUNIT_EXPECT_EQ(test, paddr, phys->parts[1].start);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx->vcm), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, regs_written(ctx, poison), 0);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).blocks, s.blocks);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).flush_entries, s.flush_entries);

	/* Resumed: all of it again, with the whole TLB flushed. */
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_resume(ctx->vcm), 0);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CTRL), CTRL_ON);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_CFG), (15 << 7) | BIT(20) | BIT(24));
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_PT_BASE_ADDR), s.pt_base);
	KUNIT_EXPECT_EQ(test, reg(ctx, SYSMMU_MMU_FLUSH), 1);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).flush_alls, s.flush_alls + 1);
	KUNIT_EXPECT_EQ(test, window_translate(ctx, res->start + SZ_4K, &paddr), 0);
	KUNIT_EXPECT_EQ(test, paddr, phys->parts[1].start);

	/* Deactivated while suspended: resuming fences the SysMMU. */
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_suspend(ctx->vcm), 0);
	power_off(ctx, poison);
	vcm_deactivate(ctx->vcm);
	KUNIT_EXPECT_EQ(test, regs_written(ctx, poison), 0);
	power_off(ctx, 0);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_resume(ctx->vcm), 0);
	expect_fenced(test, ctx);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
}

/*
 * A context that is deactivated, or destroyed while a master still holds
 * it, leaves its SysMMU enabled on a table that faults every access: a
 * master still running must not reach memory untranslated.  The SysMMU
 * stays so after the context is freed.
 */
static void vcm_sysmmu_teardown_test(struct kunit *test)
{
	static const struct part_spec spec[] = { { 8, 0, 256, 1 }, { 0, 0, 1, 1 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *phys = phys_layout(test, spec);
	struct vcm_res *res;
	phys_addr_t paddr;

	res = vcm_reserve(ctx->vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	KUNIT_EXPECT_EQ(test, window_translate(ctx, res->start, &paddr), 8);
	KUNIT_EXPECT_EQ(test, paddr, phys->parts[0].start);

	vcm_deactivate(ctx->vcm);
	expect_fenced(test, ctx);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start, &paddr), -EFAULT);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start + SZ_1M, &paddr),
			-EFAULT);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);

	/* Destroyed while active, with the reservation held. */
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	KUNIT_EXPECT_EQ(test, window_translate(ctx, res->start + SZ_1M, &paddr), 0);
	kunit_release_action(test, ctx_destroy, ctx->vcm);
	expect_fenced(test, ctx);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start, &paddr), -EFAULT);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start + SZ_1M, &paddr),
			-EFAULT);
	vcm_deactivate(ctx->vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	/* Freed: the table the SysMMU is left on is not. */
	expect_fenced(test, ctx);
}

/*
 * A SysMMU that the boot loader left translating, with a fault latched,
 * is fenced when its context is made and the fault cleared.  An inactive
 * SysMMU's interrupt is handled and cleared, so that a shared line does
 * not stay asserted.
 */
static void vcm_sysmmu_reset_test(struct kunit *test)
{
	const u32 latched = SYSMMU_INT_PAGE_FAULT | SYSMMU_INT_BUS_ERROR;
	struct sysmmu_ctx ctx = { .regs = sysmmu_window(test, V(3, 2)) };

	set_reg(&ctx, SYSMMU_MMU_CTRL, CTRL_ON);
	set_reg(&ctx, SYSMMU_PT_BASE_ADDR, SZ_1G);
	set_reg(&ctx, SYSMMU_INT_STATUS, latched);
	ctx.vcm = create(ctx.regs, CTX_START, CTX_SIZE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx.vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, ctx.vcm), 0);
	KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_INT_CLEAR), latched);
	KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_MMU_CFG),
			BIT(0) | (15 << 7) | BIT(20) | BIT(22));
	KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_MMU_FLUSH), 1);
	expect_fenced(test, &ctx);
	KUNIT_EXPECT_EQ(test, stats(test, &ctx).faults, 0);

	/* A master's access while the context is inactive. */
	set_reg(&ctx, SYSMMU_INT_STATUS, SYSMMU_INT_PAGE_FAULT);
	set_reg(&ctx, SYSMMU_INT_CLEAR, 0);
	set_reg(&ctx, SYSMMU_PAGE_FAULT_ADDR, CTX_START);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_irq(0, ctx.vcm), IRQ_HANDLED);
	KUNIT_EXPECT_EQ(test, reg(&ctx, SYSMMU_INT_CLEAR), SYSMMU_INT_PAGE_FAULT);
	KUNIT_EXPECT_EQ(test, stats(test, &ctx).faults, 1);
	KUNIT_EXPECT_EQ(test, stats(test, &ctx).last_fault_addr, CTX_START);
	expect_fenced(test, &ctx);

	/* Destroyed: nothing of it is read. */
	kunit_release_action(test, ctx_destroy, ctx.vcm);
}

/*
 * After a block timeout an emptied L2 table stays, unlinked; a 1 MiB section
 * in its MiB replaces it, and the table is freed after the next
 * invalidation the MMU blocked for.  Keeping it costs an allocation,
 * which can fail.
 */
static void vcm_sysmmu_section_over_table_test(struct kunit *test)
{
	static const struct part_spec small[] = { { 0, 0, 1, 1 }, {} };
	static const struct part_spec section[] = { { 8, 0, 256, 1 }, {} };
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_phys *page = phys_layout(test, small);
	struct vcm_phys *mib = phys_layout(test, section);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_sysmmu_stats s;
	struct vcm_res *res;
	phys_addr_t paddr;

	set_reg(ctx, SYSMMU_MMU_STATUS, 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	res = vcm_reserve(ctx->vcm, SZ_1M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, page), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	s = stats(test, ctx);
	KUNIT_EXPECT_EQ(test, s.l2_tables, 1);
	KUNIT_EXPECT_GE(test, s.block_timeouts, 1);

	test_alloc_reset(ta);
	ta->fail_from = 1;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, mib), -ENOMEM);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start, &paddr), -EFAULT);
	test_alloc_reset(ta);

	KUNIT_ASSERT_EQ(test, vcm_bind(res, mib), 0);
	KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(ctx->vcm, res->start + SZ_4K, &paddr), 8);
	KUNIT_EXPECT_EQ(test, paddr, mib->parts[0].start + SZ_4K);
	KUNIT_EXPECT_EQ(test, window_translate(ctx, res->start + SZ_4K, &paddr), 8);
	/* The MMU never blocked: the table may still be walked. */
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 1);

	/* It blocks for the next unbinding: the table goes. */
	set_reg(ctx, SYSMMU_MMU_STATUS, SYSMMU_STATUS_BLOCKED);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, stats(test, ctx).l2_tables, 0);
	expect_faults(test, ctx, res->start, SZ_1M);
	vcm_unreserve(res);
	vcm_deactivate(ctx->vcm);
}

/* ---- debugfs ---- */

#if IS_ENABLED(CONFIG_DEBUG_FS)
/* That line is @prefix followed by @fmt. */
static __printf(4, 5) void expect_line(struct kunit *test,
				       int (*show)(struct seq_file *m, void *unused),
				       const char *prefix, const char *fmt, ...)
{
	const char *line;
	char want[512];
	va_list args;
	int len;

	len = strscpy(want, prefix, sizeof(want));
	KUNIT_ASSERT_GT(test, len, 0);
	va_start(args, fmt);
	vsnprintf(want + len, sizeof(want) - len, fmt, args);
	va_end(args);
	line = debugfs_line(test, show, prefix);
	KUNIT_ASSERT_NOT_NULL_MSG(test, line, "no line %s", prefix);
	KUNIT_EXPECT_STREQ(test, line, want);
}

/*
 * vcm/contexts and vcm/reservations show one line for a context and for
 * each of its bound reservations, with the SysMMU's page-table summary,
 * while the context is live, after it is destroyed, and not once it is
 * freed.
 */
static void vcm_sysmmu_debugfs_test(struct kunit *test)
{
	static const struct part_spec spec[] = {
		{ .order = 8, .pages = 256, .count = 1 },
		{ .order = 4, .pages = 16, .count = 1 },
		{ .order = 0, .pages = 1, .count = 1 },
		{ }
	};
	const dma_addr_t start = SZ_512M + SZ_256M;
	const resource_size_t size = SZ_16M, bound = SZ_1M + SZ_64K + SZ_4K;
	struct vcm_phys *phys = phys_layout(test, spec);
	char range[64], res_range[64];
	struct vcm_res *res, *spare;
	dma_addr_t last;
	struct vcm *vcm;

	vcm = create(sysmmu_window(test, V(3, 3)), start, size);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	/* Destroyed below while held; earlier if an assertion fails. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy, vcm), 0);
	last = start + size - 1;
	snprintf(range, sizeof(range), "%pad-%pad ", &start, &last);
	res = vcm_reserve(vcm, bound, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	last = res->start + bound - 1;
	snprintf(res_range, sizeof(res_range), "%pad-%pad ", &res->start, &last);
	spare = vcm_reserve(vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, spare);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_EQ(test, res->start, start);

	expect_line(test, vcm_contexts_show, range,
		    "16777216 name=sysmmu-window state=live activations=1 reservations=2 bound=1 bound_bytes=1118208 pool_bytes=16777216 pool_free=%lu cached_ranges=0 sysmmu=3.3 enabled=1 sections=1 l2_tables=1 pages_64k=1 pages_4k=1",
		    SZ_16M - 274 * PAGE_SIZE);
	if (IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
	expect_line(test, vcm_reservations_show, res_range,
		    "1118208 context=sysmmu-window owners=%d flags=0x0 kind=bind bound_bytes=1118208 parts=3 phys=%pa+0x100000,%pa+0x10000,%pa+0x1000",
		    IS_ENABLED(CONFIG_VCM_RES_REFCNT) ? 2 : 1, &phys->parts[0].start,
		    &phys->parts[1].start, &phys->parts[2].start);
	if (IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		vcm_unreserve(res);
	vcm_unreserve(spare);

	/* Destroyed, with its holders left: dead, disabled, unmapped. */
	kunit_release_action(test, ctx_destroy, vcm);
	expect_line(test, vcm_contexts_show, range,
		    "16777216 name=sysmmu-window state=dead activations=1 reservations=1 bound=1 bound_bytes=1118208 pool_bytes=16777216 pool_free=%lu cached_ranges=1 sysmmu=3.3 enabled=0 sections=0 l2_tables=0 pages_64k=0 pages_4k=0",
		    SZ_16M - 274 * PAGE_SIZE);

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_NULL(test, debugfs_line(test, vcm_reservations_show, res_range));
	vcm_unreserve(res);
	KUNIT_EXPECT_NULL(test, debugfs_line(test, vcm_contexts_show, range));
}
#else
static void vcm_sysmmu_debugfs_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DEBUG_FS");
}
#endif

/* ---- 64 MiB: what the closing note reports ---- */

static void sysmmu_64m(struct kunit *test, const unsigned char *orders,
		       const char *what, const unsigned long want[7])
{
	struct sysmmu_ctx *ctx = ctx_make(test, V(3, 3));
	struct vcm_sysmmu_stats before, bound, after;
	struct vcm_phys *phys;
	struct vcm_res *res;

	phys = vcm_phys_alloc(SZ_64M, 0, orders);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, phys->count, SZ_64M >> (PAGE_SHIFT + orders[0]));
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	before = stats(test, ctx);
	res = bind_unbind(test, ctx, phys, &bound, &after);
	kunit_info(test, "64 MiB of %s: bind wrote %lu L1 and %lu L2 entries, allocated %lu L2 tables; unbind issued %lu FLUSH_ENTRY and %lu MMU_FLUSH in %lu block(s), freed %lu L2 tables\n",
		   what, bound.l1_writes - before.l1_writes,
		   bound.l2_writes - before.l2_writes,
		   bound.l2_allocs - before.l2_allocs,
		   after.flush_entries - bound.flush_entries,
		   after.flush_alls - bound.flush_alls,
		   after.blocks - bound.blocks,
		   bound.l2_tables - after.l2_tables);
	KUNIT_EXPECT_EQ(test, bound.l1_writes - before.l1_writes, want[0]);
	KUNIT_EXPECT_EQ(test, bound.l2_writes - before.l2_writes, want[1]);
	KUNIT_EXPECT_EQ(test, bound.l2_allocs - before.l2_allocs, want[2]);
	KUNIT_EXPECT_EQ(test, after.flush_entries - bound.flush_entries, want[3]);
	KUNIT_EXPECT_EQ(test, after.flush_alls - bound.flush_alls, want[4]);
	KUNIT_EXPECT_EQ(test, after.blocks - bound.blocks, want[5]);
	KUNIT_EXPECT_EQ(test, bound.l2_tables - after.l2_tables, want[6]);
	KUNIT_EXPECT_EQ(test, after.pt_bytes, before.pt_bytes);
	vcm_unreserve(res);
	vcm_free(phys);
	vcm_deactivate(ctx->vcm);
}

static void vcm_sysmmu_64m_test(struct kunit *test)
{
	static const unsigned char sections[] = { 8, 0 }, small[] = { 0 };
	static const unsigned long want_sections[7] = { 64, 0, 0, 64, 0, 1, 0 };
	static const unsigned long want_small[7] = { 64, 16384, 64, 0, 1, 1, 64 };

	sysmmu_64m(test, sections, "1 MiB chunks", want_sections);
	sysmmu_64m(test, small, "4 KiB pages", want_small);
}

/* Fails allocation number alloc_fail_at, and no other. */
static unsigned int alloc_calls, alloc_fail_at;

static bool fail_one_alloc(void)
{
	return ++alloc_calls == alloc_fail_at;
}

/*
 * Interrupts off: binding and unbinding 64 MiB of 4 KiB pages, with a
 * device, writes 64 L1 and 16384 L2 entries each way.  The backend
 * disables interrupts for one batch of entries at a time, and syncs each
 * table it touched once, not each entry.  A binding whose 33rd table
 * cannot be allocated, thousands of entries and many batches in, is
 * undone whole.
 */
static void vcm_sysmmu_latency_test(struct kunit *test)
{
	static const unsigned char small[] = { 0 };
	struct device *dev = dma_device(test, "vcm-sysmmu-latency", 32);
	struct sysmmu_ctx ctx = { .regs = sysmmu_window(test, V(3, 3)) };
	struct vcm_sysmmu_stats before, bound, after;
	unsigned long tables;
	struct vcm_phys *phys;
	struct vcm_res *res;

	ctx_on_device(test, &ctx, dev);
	phys = vcm_phys_alloc(SZ_64M, 0, small);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx.vcm), 0);

	res = vcm_reserve(ctx.vcm, SZ_64M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	before = stats(test, &ctx);
	alloc_calls = 0;
	alloc_fail_at = 33;
	kunit_activate_static_stub(test, vcm_should_fail_alloc, fail_one_alloc);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -ENOMEM);
	kunit_deactivate_static_stub(test, vcm_should_fail_alloc);
	after = stats(test, &ctx);
	KUNIT_EXPECT_EQ(test, alloc_calls, 33);
	KUNIT_EXPECT_EQ(test, after.l2_allocs - before.l2_allocs, 32);
	KUNIT_EXPECT_EQ(test, after.l2_tables, 0);
	KUNIT_EXPECT_EQ(test, after.blocks - before.blocks, 1);
	expect_faults(test, &ctx, res->start, SZ_64M);
	vcm_unreserve(res);

	before = stats(test, &ctx);
	res = bind_unbind(test, &ctx, phys, &bound, &after);
	tables = bound.l2_allocs - before.l2_allocs;
	kunit_info(test, "64 MiB of 4 KiB pages: at most %lu entries written with interrupts off in a row; bind synced the tables %lu times and unbind %lu times, touching %lu L2 tables and the L1 table\n",
		   after.irqsoff_entries_max, bound.pt_syncs - before.pt_syncs,
		   after.pt_syncs - bound.pt_syncs, tables);
	KUNIT_EXPECT_EQ(test, tables, 64);
	KUNIT_EXPECT_EQ(test, bound.l2_writes - before.l2_writes, 16384);
	KUNIT_EXPECT_LE(test, after.irqsoff_entries_max, 256);
	KUNIT_EXPECT_EQ(test, bound.pt_syncs - before.pt_syncs, tables + 1);
	KUNIT_EXPECT_EQ(test, after.pt_syncs - bound.pt_syncs, tables + 1);
	KUNIT_EXPECT_EQ(test, after.blocks - bound.blocks, 1);
	KUNIT_EXPECT_EQ(test, after.l2_tables, 0);
	expect_faults(test, &ctx, res->start, SZ_64M);
	vcm_unreserve(res);
	vcm_free(phys);
	vcm_deactivate(ctx.vcm);
}

static struct kunit_case vcm_sysmmu_cases[] = {
	KUNIT_CASE_PARAM(vcm_sysmmu_layout_test, vcm_sysmmu_layout_gen_params),
	KUNIT_CASE(vcm_sysmmu_registers_test),
	KUNIT_CASE_PARAM(vcm_sysmmu_version_test, vcm_sysmmu_version_gen_params),
	KUNIT_CASE(vcm_sysmmu_v2_test),
	KUNIT_CASE(vcm_sysmmu_block_timeout_test),
	KUNIT_CASE(vcm_sysmmu_dma_test),
	KUNIT_CASE(vcm_sysmmu_fault_test),
	KUNIT_CASE(vcm_sysmmu_create_fails_test),
	KUNIT_CASE(vcm_sysmmu_bind_fails_test),
	KUNIT_CASE(vcm_sysmmu_bad_input_test),
	KUNIT_CASE(vcm_sysmmu_high_memory_test),
	KUNIT_CASE(vcm_sysmmu_read_only_test),
	KUNIT_CASE(vcm_sysmmu_corrupt_test),
	KUNIT_CASE(vcm_sysmmu_get_test),
	KUNIT_CASE(vcm_sysmmu_of_test),
	KUNIT_CASE(vcm_sysmmu_suspend_test),
	KUNIT_CASE(vcm_sysmmu_teardown_test),
	KUNIT_CASE(vcm_sysmmu_reset_test),
	KUNIT_CASE(vcm_sysmmu_section_over_table_test),
	KUNIT_CASE(vcm_sysmmu_64m_test),
	KUNIT_CASE(vcm_sysmmu_latency_test),
	KUNIT_CASE(vcm_sysmmu_debugfs_test),
	{}
};

static struct kunit_suite vcm_sysmmu_suite = {
	.name = "vcm_sysmmu",
	.test_cases = vcm_sysmmu_cases,
};

kunit_test_suite(vcm_sysmmu_suite);

MODULE_DESCRIPTION("KUnit tests for the VCM SysMMU backend");
MODULE_LICENSE("GPL");
