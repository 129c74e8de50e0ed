// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): the Samsung SysMMU (v1-v3) backend.
 *
 * A SysMMU translates the 32-bit device addresses of one master device (a
 * camera, a codec, a display controller) through a two-level page table:
 *
 *  - the L1 table, 16 KiB, 4096 entries of 1 MiB each: a fault, a 1 MiB
 *    section, or a link to an L2 table;
 *  - L2 tables, 1 KiB, 256 entries of 4 KiB each: a fault, a 4 KiB small
 *    page, or a part of a 64 KiB large page, which takes 16 entries that
 *    are all written alike.
 *
 * The backend is built on the MMU wrapper (mm/vcm-mmu.c) with orders
 * {8, 4, 0}: the wrapper allocates device addresses and physical memory
 * and calls this file to map and unmap whole bound reservations, which it
 * divides into runs of pages with vcm_mmu_walk_runs() (a run of small
 * pages is written a table at a time, in one loop), and to start and stop
 * the hardware.
 *
 * Coding conventions in this file: @iova is a device address, @paddr a
 * physical one, @l1 an index into the L1 table, @l2 one into an L2 table;
 * "sm" is a struct sysmmu.
 *
 * Lifetimes
 * =========
 *
 * vcm_sysmmu_create() allocates the context, its L1 table and a fault-only
 * L2 table; the wrapper's cleanup frees them when the context is destroyed
 * and its last holder is gone.  An L2 table is allocated when the first
 * page in its 1 MiB is mapped, from a kmem_cache with GFP_KERNEL, and
 * freed when its last page is unmapped.  An L1 entry with nothing mapped
 * is not a fault entry but a link to the fault-only L2 table: a SysMMU
 * v3.3 caches faulting L1 entries, so the L1 entries are never faults, and
 * an entry that changes from that link is invalidated while the MMU is
 * enabled.
 * A platform device's context is destroyed when its driver unbinds, and
 * device links unbind the masters that looked it up first.  A master that
 * still holds reservations or activations then (it shared a buffer) finds
 * the context dead: vcm_destroy() fenced the SysMMU and
 * sysmmu_detach() unmapped the tables from the device, which may be gone;
 * the memory goes when the last holder lets go.  An L2 table that a
 * section replaced while the MMU might still walk it is retired: kept on
 * a list until the MMU reports a block or is suspended.
 *
 * Fencing
 * =======
 *
 * A SysMMU with MMU_CTRL 0 lets its master's accesses through
 * untranslated, so it is never left so while its master may run.  From
 * vcm_sysmmu_create() on, a SysMMU whose context is not active is fenced:
 * enabled on sysmmu_fault_l1, an L1 table of fault entries shared by all
 * SysMMUs and never freed, so every access faults (and is reported, see
 * vcm_sysmmu_irq()).  vcm_deactivate() and vcm_destroy() fence it before
 * unmapping anything, and the page tables are freed only once the MMU has
 * reported the block under which it was moved to the fault table.  Only
 * when its masters are known to be quiet is it turned off: a master is
 * quiet once its driver has unbound (a driver's remove stops its DMA) or
 * it is runtime suspended, so the SysMMU is turned off when the driver
 * that owns it unbinds (devm_vcm_sysmmu_create(), the platform driver:
 * device links unbound the masters first), and is left alone when it is
 * suspended.
 *
 * Power
 * =====
 *
 * A SysMMU is in its master's power domain and loses its registers with
 * it.  vcm_sysmmu_suspend() (the platform driver's runtime and system
 * sleep callbacks) marks it suspended: from then on nothing writes its
 * registers, page-table changes skip their invalidations and emptied
 * tables are freed at once (nothing walks them), until
 * vcm_sysmmu_resume() programs every register again and flushes the
 * whole TLB.  The SysMMU's clock runs while it is powered, from
 * vcm_sysmmu_create() to vcm_destroy(); the master's clock, which some
 * SysMMUs need for register accesses, runs around each of them.
 *
 * Locking
 * =======
 *
 * Two locks.  The context's mutex (vcm.lock), which the wrapper holds
 * around every map, unmap, enable, disable, detach and show (the driver
 * sets ->may_sleep), makes the page-table changes one at a time: only its
 * holder writes the tables, allocates and frees L2 tables (GFP_KERNEL, so
 * a bind does not fail where reclaim would have found memory), and
 * reads @l2, @l2_used and @l2_empty.  The spinlock mmu.lock, taken with
 * interrupts disabled, protects the registers, the statistics, the power
 * state and the retired tables, and is what the fault interrupt handler,
 * vcm_sysmmu_translate(), vcm_sysmmu_stats(), vcm_sysmmu_suspend() and
 * vcm_sysmmu_resume() take.  A mapping or unmapping writes its entries
 * under it in stretches of at most SYSMMU_BATCH_ENTRIES (256), dropping
 * it in between, and around each L2 table allocation; at its end it holds
 * it once more around the invalidation (one block, at most
 * SYSMMU_FLUSH_ENTRY_MAX register writes).  So a holder of mmu.lock sees
 * no entry half written, and interrupts are never off for more than 256
 * entries or one invalidation.  A table is freed only after it was
 * unlinked under mmu.lock, so a walker under it never reaches a freed
 * one.  Nothing under mmu.lock sleeps: the clocks are prepared beforehand
 * and only enabled here.
 *
 * Making page-table writes visible
 * ================================
 *
 * The SysMMU reads its page tables from memory.  With a struct device, each
 * table is mapped with dma_map_single() for the SysMMU, and the entries a
 * mapping or unmapping writes are synced with dma_sync_single_for_device()
 * once per run: the entries written in one L2 table when the batch moves
 * to another table or ends, and a contiguous run of L1 entries when a
 * write does not extend it or the batch ends; on a walker that does not
 * snoop the CPU caches this cleans them to memory, and on a coherent one
 * the DMA API makes it nothing.  Everything is synced before the batch's
 * invalidation, and before the bind or unbind returns.  The register
 * write that follows (writel() orders memory writes before it) then
 * starts the hardware or invalidates its TLB.  A context made without a
 * device, for bring-up or tests, has a walker as coherent as the CPU and
 * syncs nothing.
 * The SysMMU must see each table at its physical address, below 4 GiB.
 *
 * Invalidation
 * ============
 *
 * Mapping into empty entries needs no invalidation, except the v3.3 L1
 * entries above.  Unmapping while the MMU is enabled does.  What a bind,
 * an unbind or a failed activation of one reservation needs is gathered,
 * and at its end L2 tables that became empty are unlinked (they mapped
 * nothing already), the MMU is blocked once, the TLB invalidated and the
 * MMU unblocked, and the emptied tables are freed after.  If the MMU does
 * not report itself blocked within 100 us, the driver says so and
 * invalidates anyway, but keeps the emptied tables, unlinked, until they
 * are used again (linked anew), replaced by a section (then retired) or
 * the context is destroyed, since the MMU may still be walking them.
 * The rule: one MMU_FLUSH_ENTRY write per page unmapped (v2, whose TLB is
 * set-associative, needs one per 4 KiB of a 64 KiB page and 64 for a
 * section), unless that makes more than SYSMMU_FLUSH_ENTRY_MAX writes;
 * then one MMU_FLUSH of the whole TLB.  Each write costs a bus access with
 * the MMU blocked; past 64 of them, a few dozen TLB refills cost less than
 * keeping the master stalled, and the TLB, which holds a few dozen
 * entries, would be mostly emptied anyway.  Unmapping while the MMU is
 * fenced or suspended needs nothing: it walks none of the context's
 * tables, and enabling or resuming it flushes the whole TLB.
 */

#define pr_fmt(fmt) "vcm-sysmmu: " fmt

#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/clk.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/pm.h>
#include <linux/pm_runtime.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-sysmmu.h>

#include <kunit/visibility.h>

/* KUNIT_STATIC_STUB_REDIRECT(), also on Linux 6.1 (upstream: kunit/static_stub.h). */
#include "../../mm/vcm-internal.h"
#include "vcm-sysmmu-hw.h"

#define SYSMMU_SECTION_ORDER	(20 - PAGE_SHIFT)
#define SYSMMU_LARGE_ORDER	(16 - PAGE_SHIFT)
#define SYSMMU_SMALL_ORDER	0

/* Entry types: bits 1:0 of an L1 entry, bits 1:0 (or bit 1) of an L2 one. */
#define SYSMMU_L1_LINK		1
#define SYSMMU_L1_SECTION	2
#define SYSMMU_L1_LINK_MASK	GENMASK(31, 10)
#define SYSMMU_L1_SECTION_MASK	GENMASK(31, 20)
#define SYSMMU_L2_LARGE		1
#define SYSMMU_L2_SMALL		2
#define SYSMMU_L2_LARGE_MASK	GENMASK(31, 16)
#define SYSMMU_L2_SMALL_MASK	GENMASK(31, 12)
#define SYSMMU_TYPE_MASK	GENMASK(1, 0)

/* MMU_CFG, by version (no access-permission check: entries carry none). */
#define SYSMMU_CFG_LRU		BIT(0)
#define SYSMMU_CFG_QOS_15	(15 << 7)
#define SYSMMU_CFG_FLPDCACHE	BIT(20)		/* v3.2 and later */
#define SYSMMU_CFG_SYSSEL	BIT(22)		/* v3.2 only */
#define SYSMMU_CFG_ACGEN	BIT(24)		/* v3.3 only */

/* Some SoCs' SysMMUs report this for version 1.0. */
#define SYSMMU_VERSION_1_0_QUIRK	0x80000001

#define SYSMMU_FLUSH_ENTRY_MAX	64
#define SYSMMU_BATCH_ENTRIES	256
#define SYSMMU_BLOCK_TIMEOUT_US	100
#define SYSMMU_NAME_LEN		64

/* The context of a SysMMU platform device: [1 MiB, 4 GiB). */
#define SYSMMU_PLATFORM_START	SZ_1M
#define SYSMMU_PLATFORM_SIZE	((resource_size_t)(SZ_4G - SZ_1M))

/* A master's device-tree property: the phandles of its SysMMUs. */
#define SYSMMU_OF_PROPERTY	"samsung,vcm-sysmmus"

/**
 * struct sysmmu - a SysMMU and its VCM context.
 * @mmu:	the MMU wrapper's context.
 * @name:	the context's name: the device's, which may go before the
 *		context does.
 * @dev:	the SysMMU device, or NULL: the page tables are mapped for it
 *		and messages name it.  NULL once the context is destroyed.
 * @regs:	the register window; NULL once the context is destroyed.
 * @clk:	the SysMMU's gate clock, prepared, or NULL; enabled while the
 *		SysMMU is powered and its context not destroyed.
 * @clk_master:	its master's clock, prepared, or NULL; enabled around
 *		register accesses only, as the Exynos IOMMU driver does.
 * @major:	hardware version, major.
 * @minor:	hardware version, minor.
 * @ratelimit:	of the messages about this SysMMU.
 * @enabled:	the context is active: the MMU translates through @l1
 *		whenever it is powered.  Otherwise it is fenced: enabled
 *		on sysmmu_fault_l1, faulting every access.
 * @suspended:	the SysMMU is powered down, or about to be: its registers
 *		are not touched, and are programmed anew on resume.
 * @unconfirmed: the MMU did not report itself blocked the last time it
 *		was asked to, so it may still be walking tables it can no
 *		longer reach; cleared by the next block it reports, and on
 *		suspend.
 * @l1:		the L1 table.
 * @zero_l2:	the fault-only L2 table every unused L1 entry links to.
 * @zero_link:	that L1 entry.
 * @stats:	what the context did; @stats.pt_bytes is worked out on read.
 * @irqsoff_run: entries written since interrupts were last seen enabled,
 *		for @stats.irqsoff_entries_max.
 * @l2:		for each L1 entry, the L2 table it links to (or, after a
 *		block timeout, an emptied one kept unlinked), or NULL.
 * @l2_used:	for each L1 entry, the L2 entries in use in its table.
 * @l2_empty:	the L1 entries whose L2 tables the unmapping in progress
 *		emptied, to be unlinked and freed at its end.
 * @retired:	L2 tables unlinked while @unconfirmed, to be freed once the
 *		MMU reports a block or is suspended; struct sysmmu_retired.
 * @fault_mapped: sysmmu_fault_l1 is mapped for @dev.
 * @masters_quiet: the context is destroyed because the driver that owns
 *		the SysMMU unbinds: its masters are quiet, and it is turned
 *		off rather than left fenced.
 * @suspended, @unconfirmed, @stats and @retired are protected by
 * @mmu.lock; @l2, @l2_used, @l2_empty and @irqsoff_run by the context's
 * mutex; the tables and @enabled change under both (see "Locking").  The
 * rest does not change after creation, except that @dev, @regs, @clk and
 * @clk_master are cleared under @mmu.lock when it is destroyed.
 */
struct sysmmu {
	struct vcm_mmu mmu;
	char name[SYSMMU_NAME_LEN];
	struct device *dev;
	void __iomem *regs;
	struct clk *clk;
	struct clk *clk_master;
	unsigned int major;
	unsigned int minor;
	struct ratelimit_state ratelimit;
	bool enabled;
	bool suspended;
	bool unconfirmed;
	bool fault_mapped;
	bool masters_quiet;
	u32 *l1;
	u32 *zero_l2;
	u32 zero_link;
	struct vcm_sysmmu_stats stats;
	unsigned long irqsoff_run;
	u32 *l2[SYSMMU_L1_ENTRIES];
	u16 l2_used[SYSMMU_L1_ENTRIES];
	DECLARE_BITMAP(l2_empty, SYSMMU_L1_ENTRIES);
	struct list_head retired;
};

/* An L2 table that was unlinked and may still be walked. */
struct sysmmu_retired {
	struct list_head node;
	u32 *table;
};

/*
 * struct sysmmu_batch - a mapping or unmapping of one reservation: the
 * stretch of entries it is writing under @sm->mmu.lock, the entries it
 * wrote but did not sync yet, and the TLB invalidation it gathers, done
 * once at its end.
 * @sm:		the SysMMU.
 * @flags:	the interrupt state to restore when the lock is dropped.
 * @written:	entries written since the lock was taken, at most
 *		SYSMMU_BATCH_ENTRIES.
 * @dirty:	the L2 table holding entries written but not synced, or NULL.
 * @dirty_first: the first of those entries.
 * @dirty_end:	one past the last.
 * @l1_first:	the first of the L1 entries written but not synced.
 * @l1_end:	one past the last; equal to @l1_first when there are none.
 * @first:	the lowest L1 entry an unmapping touched.
 * @last:	the highest.
 * @nr:		MMU_FLUSH_ENTRY writes needed; above SYSMMU_FLUSH_ENTRY_MAX
 *		one MMU_FLUSH does instead.
 * @iova:	the addresses to write, while @nr is within the limit.
 */
struct sysmmu_batch {
	struct sysmmu *sm;
	unsigned long flags;
	unsigned int written;
	u32 *dirty;
	unsigned int dirty_first;
	unsigned int dirty_end;
	unsigned int l1_first;
	unsigned int l1_end;
	unsigned int first;
	unsigned int last;
	unsigned int nr;
	u32 iova[SYSMMU_FLUSH_ENTRY_MAX];
};

static const unsigned char sysmmu_orders[] = {
	SYSMMU_SECTION_ORDER, SYSMMU_LARGE_ORDER, SYSMMU_SMALL_ORDER
};

static struct kmem_cache *sysmmu_l2_cache;
/*
 * The L1 table of every fenced SysMMU: 4096 fault entries, never written
 * and never freed, so that a SysMMU may be left on it when its context is
 * gone.
 */
static u32 *sysmmu_fault_l1;
static struct platform_driver sysmmu_platform_driver;
static const struct vcm_mmu_driver sysmmu_driver;

/* Reports trouble, naming the SysMMU, at most as often as @sm->ratelimit. */
static __printf(2, 3) void sysmmu_err_ratelimited(struct sysmmu *sm,
						   const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	if (!__ratelimit(&sm->ratelimit))
		return;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (sm->dev)
		dev_err(sm->dev, "%pV", &vaf);
	else
		pr_err("%s: %pV", sm->mmu.vcm.name, &vaf);
	va_end(args);
}

static struct sysmmu *to_sysmmu(struct vcm_mmu *mmu)
{
	return container_of(mmu, struct sysmmu, mmu);
}

/* The SysMMU of @vcm, or NULL if @vcm is not a SysMMU context. */
static struct sysmmu *vcm_to_sysmmu(struct vcm *vcm)
{
	struct vcm_mmu *mmu = vcm_to_mmu(vcm);

	return mmu && mmu->driver == &sysmmu_driver ? to_sysmmu(mmu) : NULL;
}

static u32 sysmmu_read(struct sysmmu *sm, unsigned int reg)
{
	return readl(sm->regs + reg);
}

static void sysmmu_write(struct sysmmu *sm, unsigned int reg, u32 value)
{
	writel(value, sm->regs + reg);
}

/* The registers may be accessed: powered, and the context not destroyed. */
static bool sysmmu_powered(const struct sysmmu *sm)
{
	return sm->regs && !sm->suspended;
}

/* The MMU translates through the context's tables now. */
static bool sysmmu_translating(const struct sysmmu *sm)
{
	return sm->enabled && sysmmu_powered(sm);
}

/*
 * Register accesses are bracketed by these: the master's clock runs
 * around them, as in the Exynos IOMMU driver, since some SysMMUs are
 * clocked by their master's clock too.
 */
static int sysmmu_access_begin(struct sysmmu *sm)
{
	int ret = clk_enable(sm->clk_master);

	if (ret)
		sysmmu_err_ratelimited(sm, "master clock not enabled: %d\n", ret);
	return ret;
}

static void sysmmu_access_end(struct sysmmu *sm)
{
	clk_disable(sm->clk_master);
}

static bool sysmmu_version_at_least(const struct sysmmu *sm,
				    unsigned int major, unsigned int minor)
{
	return sm->major > major || (sm->major == major && sm->minor >= minor);
}

/* ---- page-table memory ---- */

/* Whether the SysMMU can reach @size bytes at @paddr: below 4 GiB. */
static bool sysmmu_reachable(phys_addr_t paddr, u64 size)
{
	return !upper_32_bits((u64)paddr + size - 1);
}

/*
 * Maps a table for the SysMMU, which must see it at its physical address;
 * without a device there is nothing to map.
 */
static bool sysmmu_map_table(struct sysmmu *sm, void *table, size_t size)
{
	phys_addr_t paddr = virt_to_phys(table);
	dma_addr_t dma;

	if (!sysmmu_reachable(paddr, size))
		return false;
	if (!sm->dev)
		return true;
	dma = dma_map_single(sm->dev, table, size, DMA_TO_DEVICE);
	if (dma_mapping_error(sm->dev, dma))
		return false;
	if (dma == paddr)
		return true;
	dma_unmap_single(sm->dev, dma, size, DMA_TO_DEVICE);
	sysmmu_err_ratelimited(sm, "page table at %pa is at %pad for the SysMMU\n",
			       &paddr, &dma);
	return false;
}

static void sysmmu_unmap_table(struct sysmmu *sm, void *table, size_t size)
{
	if (sm->dev)
		dma_unmap_single(sm->dev, virt_to_phys(table), size,
				 DMA_TO_DEVICE);
}

/* Makes @n entries from @entry on visible to the SysMMU. */
static void sysmmu_sync(struct sysmmu *sm, u32 *entry, unsigned int n)
{
	if (!sm->dev)
		return;
	dma_sync_single_for_device(sm->dev, virt_to_phys(entry),
				   n * sizeof(*entry), DMA_TO_DEVICE);
	sm->stats.pt_syncs++;
}

static u32 *sysmmu_alloc_l2(struct sysmmu *sm)
{
	u32 *table;

	if (vcm_should_fail_alloc())
		return NULL;
	table = kmem_cache_zalloc(sysmmu_l2_cache, GFP_KERNEL);
	if (!table)
		return NULL;
	if (!sysmmu_map_table(sm, table, SYSMMU_L2_SIZE)) {
		kmem_cache_free(sysmmu_l2_cache, table);
		return NULL;
	}
	return table;
}

/* Frees an L2 table nothing links to; the caller takes it off the count. */
static void sysmmu_free_l2(struct sysmmu *sm, u32 *table)
{
	sysmmu_unmap_table(sm, table, SYSMMU_L2_SIZE);
	kmem_cache_free(sysmmu_l2_cache, table);
}

/* ---- batches of entries ---- */

/*
 * Counts @n entries written, for @sm->stats.irqsoff_entries_max; every
 * entry is written under @mmu.lock, with interrupts off.  The stretch ends
 * where sysmmu_batch_unlock() sees them enabled again.
 */
static void sysmmu_count_irqsoff(struct sysmmu *sm, unsigned int n)
{
	lockdep_assert_irqs_disabled();
	sm->irqsoff_run += n;
	sm->stats.irqsoff_entries_max = max(sm->stats.irqsoff_entries_max,
					    sm->irqsoff_run);
}

/* Takes @mmu.lock, with interrupts off, for a new stretch of entries. */
static void sysmmu_batch_lock(struct sysmmu_batch *batch)
	__acquires(&batch->sm->mmu.lock)
{
	spin_lock_irqsave(&batch->sm->mmu.lock, batch->flags);
	batch->written = 0;
}

static void sysmmu_batch_unlock(struct sysmmu_batch *batch)
	__releases(&batch->sm->mmu.lock)
{
	spin_unlock_irqrestore(&batch->sm->mmu.lock, batch->flags);
	/* Ends the stretch written with interrupts off, if they are on. */
	if (!irqs_disabled())
		batch->sm->irqsoff_run = 0;
}

/*
 * Takes room for up to @n more entries, in whole pages of @per entries,
 * in this stretch under @mmu.lock; a stretch without room for one page
 * ends first, letting interrupts and other tasks in.  Returns the number
 * of entries taken, a multiple of @per (a power of two, at most
 * SYSMMU_BATCH_ENTRIES), at least @per if @n is.
 */
static unsigned int sysmmu_batch_take(struct sysmmu_batch *batch,
				      unsigned int n, unsigned int per)
	__must_hold(&batch->sm->mmu.lock)
{
	unsigned int room = round_down(SYSMMU_BATCH_ENTRIES - batch->written, per);

	if (!room) {
		sysmmu_batch_unlock(batch);
		cond_resched();
		sysmmu_batch_lock(batch);
		room = SYSMMU_BATCH_ENTRIES;
	}
	n = min(n, room);
	batch->written += n;
	return n;
}

/* Syncs the L2 entries written since the last sync: one run, one table. */
static void sysmmu_sync_l2(struct sysmmu_batch *batch)
{
	if (!batch->dirty)
		return;
	sysmmu_sync(batch->sm, &batch->dirty[batch->dirty_first],
		    batch->dirty_end - batch->dirty_first);
	batch->dirty = NULL;
}

/* Syncs the run of L1 entries written since the last sync. */
static void sysmmu_sync_l1(struct sysmmu_batch *batch)
{
	if (batch->l1_end == batch->l1_first)
		return;
	sysmmu_sync(batch->sm, &batch->sm->l1[batch->l1_first],
		    batch->l1_end - batch->l1_first);
	batch->l1_end = batch->l1_first;
}

/*
 * Writes L1 entry @l1; it is synced with the run of L1 entries it
 * extends, and a run it does not extend is synced first.
 */
static void sysmmu_set_l1(struct sysmmu_batch *batch, unsigned int l1, u32 entry)
{
	struct sysmmu *sm = batch->sm;

	sysmmu_batch_take(batch, 1, 1);
	WRITE_ONCE(sm->l1[l1], entry);
	sm->stats.l1_writes++;
	sysmmu_count_irqsoff(sm, 1);
	if (batch->l1_end != batch->l1_first &&
	    (l1 + 1 < batch->l1_first || l1 > batch->l1_end))
		sysmmu_sync_l1(batch);
	if (batch->l1_end == batch->l1_first) {
		batch->l1_first = l1;
		batch->l1_end = l1 + 1;
	} else {
		batch->l1_first = min(batch->l1_first, l1);
		batch->l1_end = max(batch->l1_end, l1 + 1);
	}
}

/*
 * Writes @n entries of @table from entry @l2, in stretches of at most
 * SYSMMU_BATCH_ENTRIES: pages of @per entries each (16 for a large page,
 * all written alike), the first @entry and each next one 4 KiB further
 * per entry; or, for @entry 0, faults.  They are synced with the others
 * written in @table, when the batch moves to another table or ends.
 */
static void sysmmu_set_l2(struct sysmmu_batch *batch, u32 *table,
			  unsigned int l2, u32 entry, unsigned int per,
			  unsigned int n)
{
	struct sysmmu *sm = batch->sm;
	unsigned int take;
	u32 *p, *end;

	if (batch->dirty != table) {
		sysmmu_sync_l2(batch);
		batch->dirty = table;
		batch->dirty_first = l2;
		batch->dirty_end = l2 + n;
	} else {
		batch->dirty_first = min(batch->dirty_first, l2);
		batch->dirty_end = max(batch->dirty_end, l2 + n);
	}
	sm->stats.l2_writes += n;
	for (; n; n -= take, l2 += take) {
		take = sysmmu_batch_take(batch, n, per);
		p = &table[l2];
		end = p + take;
		/* Word stores: the MMU never sees an entry half written. */
		if (!entry) {
			memset32(p, 0, take);
		} else if (per == 1) {
			for (; p < end; p++, entry += SZ_4K)
				WRITE_ONCE(*p, entry);
		} else {
			for (; p < end; p += per, entry += per * SZ_4K)
				memset32(p, entry, per);
		}
		sysmmu_count_irqsoff(sm, take);
	}
}

/* ---- page-table entries ---- */

/* Gathers one MMU_FLUSH_ENTRY write for @iova. */
static void sysmmu_gather_entry(struct sysmmu_batch *batch, u32 iova)
{
	if (batch->nr < SYSMMU_FLUSH_ENTRY_MAX)
		batch->iova[batch->nr] = iova & SYSMMU_L2_SMALL_MASK;
	batch->nr++;
}

/*
 * An L1 entry that linked to the fault-only table now maps: a v3.3 may
 * have cached the old entry, which must be invalidated.
 */
static void sysmmu_l1_changed(struct sysmmu_batch *batch, dma_addr_t iova)
{
	if (sysmmu_translating(batch->sm) && sysmmu_version_at_least(batch->sm, 3, 3))
		sysmmu_gather_entry(batch, lower_32_bits(iova));
}

/*
 * A section replaces the empty L2 table that a block timeout left behind
 * (see "Invalidation"): the table is forgotten, to be freed when the MMU
 * can no longer walk it, which the invalidation of the section's batch
 * may show.  The record of it is allocated with the lock off.
 */
static int sysmmu_retire_l2(struct sysmmu_batch *batch, unsigned int l1)
	__must_hold(&batch->sm->mmu.lock)
{
	struct sysmmu *sm = batch->sm;
	struct sysmmu_retired *retired;

	sysmmu_batch_unlock(batch);
	retired = vcm_should_fail_alloc() ? NULL :
		  kmalloc(sizeof(*retired), GFP_KERNEL);
	sysmmu_batch_lock(batch);
	if (!retired)
		return -ENOMEM;
	retired->table = sm->l2[l1];
	list_add_tail(&retired->node, &sm->retired);
	sm->l2[l1] = NULL;
	return 0;
}

/* Frees the retired L2 tables: the MMU can no longer walk them. */
static void sysmmu_free_retired(struct sysmmu *sm)
{
	struct sysmmu_retired *retired, *next;

	lockdep_assert_held(&sm->mmu.lock);
	list_for_each_entry_safe(retired, next, &sm->retired, node) {
		sysmmu_free_l2(sm, retired->table);
		sm->stats.l2_tables--;
		list_del(&retired->node);
		kfree(retired);
	}
}

/*
 * The L2 table for @iova, linked: allocated with the lock off (GFP_KERNEL)
 * if there is none, linked again if an unmapping emptied and unlinked it
 * but could not free it.
 */
static u32 *sysmmu_get_l2(struct sysmmu_batch *batch, dma_addr_t iova)
	__must_hold(&batch->sm->mmu.lock)
{
	struct sysmmu *sm = batch->sm;
	unsigned int l1 = iova >> 20;
	u32 *table = sm->l2[l1];

	if (!table) {
		if (VCM_WARN_ON_ONCE(sm->l1[l1] != sm->zero_link))
			return ERR_PTR(-EADDRINUSE);
		sysmmu_batch_unlock(batch);
		table = sysmmu_alloc_l2(sm);
		sysmmu_batch_lock(batch);
		if (!table)
			return ERR_PTR(-ENOMEM);
		sm->l2[l1] = table;
		sm->stats.l2_tables++;
		sm->stats.l2_allocs++;
	} else if (sm->l1[l1] != sm->zero_link) {
		return table;
	}
	sysmmu_set_l1(batch, l1, virt_to_phys(table) | SYSMMU_L1_LINK);
	sysmmu_l1_changed(batch, iova);
	return table;
}

/* The log2 of the number of 4 KiB entries of a page of @order. */
static unsigned int sysmmu_l2_shift(unsigned int order)
{
	return order + PAGE_SHIFT - 12;
}

/* Maps a section at @iova, over a fault or an emptied L2 table. */
static int sysmmu_map_section(struct sysmmu_batch *batch, dma_addr_t iova,
			      phys_addr_t paddr)
	__must_hold(&batch->sm->mmu.lock)
{
	struct sysmmu *sm = batch->sm;
	unsigned int l1 = iova >> 20;
	bool retire = sm->l2[l1] && !sm->l2_used[l1];

	if (retire) {
		int ret = sysmmu_retire_l2(batch, l1);

		if (ret)
			return ret;
	} else if (VCM_WARN_ON_ONCE(sm->l1[l1] != sm->zero_link)) {
		return -EADDRINUSE;
	}
	sysmmu_set_l1(batch, l1, lower_32_bits(paddr) | SYSMMU_L1_SECTION);
	/* Any version may have cached the link the section replaced. */
	if (retire && sysmmu_translating(sm))
		sysmmu_gather_entry(batch, lower_32_bits(iova));
	else
		sysmmu_l1_changed(batch, iova);
	return 0;
}

/*
 * Maps @nr L2 entries' worth of pages of @order from @iova and @paddr on,
 * table by table, each table's entries in one loop; returns the entries
 * mapped (all of them, or those before the table that failed, whose error
 * is in @err).
 */
static unsigned long sysmmu_map_l2(struct sysmmu_batch *batch, dma_addr_t iova,
				   phys_addr_t paddr, unsigned int order,
				   unsigned long nr, int *err)
	__must_hold(&batch->sm->mmu.lock)
{
	u32 type = order == SYSMMU_LARGE_ORDER ? SYSMMU_L2_LARGE : SYSMMU_L2_SMALL;
	unsigned int per = 1U << sysmmu_l2_shift(order), l1, l2, n;
	struct sysmmu *sm = batch->sm;
	unsigned long done;
	u32 *table;

	for (done = 0; done < nr; done += n) {
		l1 = iova >> 20;
		l2 = (iova >> 12) & (SYSMMU_L2_ENTRIES - 1);
		n = min_t(unsigned long, nr - done, SYSMMU_L2_ENTRIES - l2);
		table = sysmmu_get_l2(batch, iova);
		if (IS_ERR(table)) {
			*err = PTR_ERR(table);
			break;
		}
		if (VCM_WARN_ON_ONCE(memchr_inv(&table[l2], 0, n * sizeof(*table)))) {
			*err = -EADDRINUSE;
			break;
		}
		sysmmu_set_l2(batch, table, l2, lower_32_bits(paddr) | type, per, n);
		sm->l2_used[l1] += n;
		iova += (dma_addr_t)n * SZ_4K;
		paddr += (phys_addr_t)n * SZ_4K;
	}
	return done;
}

static int sysmmu_unmap_run(dma_addr_t iova, phys_addr_t paddr,
			    unsigned int order, unsigned long count, void *priv);

/*
 * vcm_phys_walk_runs() callback: maps a run of pages of the SysMMU's page
 * sizes, sections one by one, L2 entries a table at a time; on failure it
 * unmaps what it mapped of the run.  @priv is the struct sysmmu_batch of
 * the mapping, whose lock is held.
 */
static int sysmmu_map_run(dma_addr_t iova, phys_addr_t paddr,
			  unsigned int order, unsigned long count, void *priv)
{
	struct sysmmu_batch *batch = priv;
	/* As wide as the check: a run may be 4 GiB, past a 32-bit size_t. */
	u64 size = (u64)count << (PAGE_SHIFT + order);
	unsigned long done;
	int ret = 0;

	if (!sysmmu_reachable(paddr, size))
		return -EINVAL;
	if (order == SYSMMU_SECTION_ORDER) {
		for (done = 0; done < count; done++) {
			ret = sysmmu_map_section(batch, iova + done * SZ_1M,
						 paddr + done * SZ_1M);
			if (ret)
				break;
		}
	} else {
		done = sysmmu_map_l2(batch, iova, paddr, order,
				     count << sysmmu_l2_shift(order), &ret) >>
		       sysmmu_l2_shift(order);
	}
	if (ret && done)
		sysmmu_unmap_run(iova, paddr, order, done, priv);
	return ret;
}

/* Gathers the invalidation of @count pages of @order from @iova on. */
static void sysmmu_gather(struct sysmmu_batch *batch, dma_addr_t iova,
			  unsigned int order, unsigned long count)
{
	dma_addr_t size = (dma_addr_t)PAGE_SIZE << order;
	struct sysmmu *sm = batch->sm;
	unsigned int per = 1, i;
	unsigned long page;

	batch->first = min_t(unsigned int, batch->first, iova >> 20);
	batch->last = max_t(unsigned int, batch->last,
			    (iova + count * size - 1) >> 20);
	/* Powered down, it is flushed whole on resume. */
	if (!sysmmu_translating(sm))
		return;
	/* v2: one write per 4 KiB set the page may be cached in, up to 64. */
	if (sm->major == 2)
		per = min_t(unsigned int, 1U << order, 64);
	/* Past the limit only the number counts: the whole TLB goes. */
	for (page = 0; page < count && batch->nr < SYSMMU_FLUSH_ENTRY_MAX; page++)
		for (i = 0; i < per; i++)
			sysmmu_gather_entry(batch, lower_32_bits(iova + page * size) +
					    i * SZ_4K);
	batch->nr += (count - page) * per;
}

/*
 * vcm_phys_walk_runs() callback: unmaps a run of pages that
 * sysmmu_map_run() mapped.
 */
static int sysmmu_unmap_run(dma_addr_t iova, phys_addr_t paddr,
			    unsigned int order, unsigned long count, void *priv)
{
	struct sysmmu_batch *batch = priv;
	struct sysmmu *sm = batch->sm;
	unsigned int per = 1U << sysmmu_l2_shift(order), l1, l2, n;
	dma_addr_t addr = iova;
	unsigned long left;

	if (order == SYSMMU_SECTION_ORDER) {
		for (l1 = iova >> 20; l1 < (iova >> 20) + count; l1++)
			sysmmu_set_l1(batch, l1, sm->zero_link);
	} else {
		for (left = count * per; left; left -= n) {
			l1 = addr >> 20;
			l2 = (addr >> 12) & (SYSMMU_L2_ENTRIES - 1);
			n = min_t(unsigned long, left, SYSMMU_L2_ENTRIES - l2);
			sysmmu_set_l2(batch, sm->l2[l1], l2, 0, per, n);
			sm->l2_used[l1] -= n;
			if (!sm->l2_used[l1])
				__set_bit(l1, sm->l2_empty);
			addr += (dma_addr_t)n * SZ_4K;
		}
	}
	sysmmu_gather(batch, iova, order, count);
	return 0;
}

/*
 * Blocks the MMU; returns whether it said it did, and reports when not.
 * Either way @sm->unconfirmed says whether it may still be walking.
 */
static bool sysmmu_block(struct sysmmu *sm)
{
	u32 status;

	sysmmu_write(sm, SYSMMU_MMU_CTRL,
		     SYSMMU_CTRL_ENABLE | SYSMMU_CTRL_BLOCK | SYSMMU_CTRL_IRQ);
	sm->stats.blocks++;
	/* Most MMUs block at once: the poll, which reads the clock, is for the rest. */
	status = sysmmu_read(sm, SYSMMU_MMU_STATUS);
	sm->unconfirmed = !(status & SYSMMU_STATUS_BLOCKED) &&
			  readl_poll_timeout_atomic(sm->regs + SYSMMU_MMU_STATUS, status,
						    status & SYSMMU_STATUS_BLOCKED, 1,
						    SYSMMU_BLOCK_TIMEOUT_US);
	if (!sm->unconfirmed)
		return true;
	sm->stats.block_timeouts++;
	sysmmu_err_ratelimited(sm, "not blocked after %u us; invalidating anyway, keeping emptied L2 tables\n",
			       SYSMMU_BLOCK_TIMEOUT_US);
	return false;
}

/*
 * Lets the MMU go on, translating or fenced, and reads a register back, so
 * that the writes before, an invalidation, have reached the SysMMU when
 * this returns.
 */
static void sysmmu_unblock(struct sysmmu *sm)
{
	sysmmu_write(sm, SYSMMU_MMU_CTRL, SYSMMU_CTRL_ENABLE | SYSMMU_CTRL_IRQ);
	sysmmu_read(sm, SYSMMU_MMU_CTRL);
}

/*
 * Ends a mapping or unmapping: unlinks the L2 tables the unmapping
 * emptied, syncs what is left to sync, invalidates the TLB as the rule in
 * the header says with the MMU blocked, and drops the lock; then frees
 * the emptied tables, and the retired ones (with the lock held).  An MMU
 * that does not say it blocked may still be walking them: they stay,
 * unlinked and empty, to be linked again when used, or freed with the
 * context, and the retired ones stay on their list.  An MMU that is
 * fenced or powered down needs no invalidation: it walks none of the
 * context's tables, unless its last block was not confirmed.
 */
static void sysmmu_batch_finish(struct sysmmu_batch *batch)
	__releases(&batch->sm->mmu.lock)
{
	struct sysmmu *sm = batch->sm;
	unsigned int l1 = batch->first, i;
	bool flush, quiet;

	lockdep_assert_held(&sm->mmu.lock);
	/* An empty table maps nothing, as the fault-only one does. */
	for_each_set_bit_from(l1, sm->l2_empty, batch->last + 1)
		sysmmu_set_l1(batch, l1, sm->zero_link);
	sysmmu_sync_l2(batch);
	sysmmu_sync_l1(batch);

	flush = sysmmu_translating(sm) && batch->nr;
	if (flush && sysmmu_access_begin(sm)) {
		/* Not invalidated: the MMU may walk all it walked before. */
		flush = false;
		sm->unconfirmed = true;
	}
	quiet = flush ? sysmmu_block(sm) : !(sysmmu_powered(sm) && sm->unconfirmed);
	if (flush) {
		if (batch->nr <= SYSMMU_FLUSH_ENTRY_MAX) {
			for (i = 0; i < batch->nr; i++)
				sysmmu_write(sm, SYSMMU_MMU_FLUSH_ENTRY,
					     batch->iova[i] | 1);
			sm->stats.flush_entries += batch->nr;
		} else {
			sysmmu_write(sm, SYSMMU_MMU_FLUSH, 1);
			sm->stats.flush_alls++;
		}
		sysmmu_unblock(sm);
		sysmmu_access_end(sm);
	}
	if (quiet) {
		l1 = batch->first;
		for_each_set_bit_from(l1, sm->l2_empty, batch->last + 1)
			sm->stats.l2_tables--;
		sysmmu_free_retired(sm);
	}
	sysmmu_batch_unlock(batch);

	/* Unlinked above, the tables are out of every walker's reach. */
	l1 = batch->first;
	for_each_set_bit_from(l1, sm->l2_empty, batch->last + 1) {
		if (quiet) {
			sysmmu_free_l2(sm, sm->l2[l1]);
			sm->l2[l1] = NULL;
		}
		__clear_bit(l1, sm->l2_empty);
	}
}

/* ---- the MMU wrapper's operations ---- */

static struct sysmmu *res_to_sysmmu(struct vcm_res *res)
{
	return to_sysmmu(container_of(res->vcm, struct vcm_mmu, vcm));
}

/* Maps a bound reservation; on failure unmaps what it mapped. */
static int sysmmu_activate(struct vcm_res *res, struct vcm_phys *phys)
{
	struct sysmmu_batch batch = { .sm = res_to_sysmmu(res), .first = UINT_MAX };
	int ret;

	sysmmu_batch_lock(&batch);
	ret = vcm_mmu_walk_runs(res, phys, sysmmu_map_run, sysmmu_unmap_run,
				&batch);
	sysmmu_batch_finish(&batch);
	return ret;
}

static void sysmmu_deactivate(struct vcm_res *res, struct vcm_phys *phys)
{
	struct sysmmu_batch batch = { .sm = res_to_sysmmu(res), .first = UINT_MAX };

	sysmmu_batch_lock(&batch);
	vcm_mmu_walk_runs(res, phys, sysmmu_unmap_run, NULL, &batch);
	sysmmu_batch_finish(&batch);
}

static u32 sysmmu_cfg(const struct sysmmu *sm)
{
	if (!sysmmu_version_at_least(sm, 3, 2))
		return SYSMMU_CFG_LRU | SYSMMU_CFG_QOS_15;
	if (!sysmmu_version_at_least(sm, 3, 3))
		return SYSMMU_CFG_LRU | SYSMMU_CFG_QOS_15 | SYSMMU_CFG_FLPDCACHE |
		       SYSMMU_CFG_SYSSEL;
	return SYSMMU_CFG_QOS_15 | SYSMMU_CFG_FLPDCACHE | SYSMMU_CFG_ACGEN;
}

/*
 * Programs the registers for the context's state, all of them, since the
 * SysMMU may have lost them: with the MMU enabled and blocked, the
 * configuration and the L1 table, the context's if it is active and the
 * fault-only one if not, and the whole TLB flushed; then unblocked.  The
 * caller has the registers powered and the master's clock on.
 */
static void sysmmu_program(struct sysmmu *sm)
{
	phys_addr_t base = virt_to_phys(sm->enabled ? sm->l1 : sysmmu_fault_l1);

	sysmmu_block(sm);
	sysmmu_write(sm, SYSMMU_MMU_CFG, sysmmu_cfg(sm));
	sysmmu_write(sm, SYSMMU_PT_BASE_ADDR, base);
	sysmmu_write(sm, SYSMMU_MMU_FLUSH, 1);
	sm->stats.flush_alls++;
	sysmmu_unblock(sm);
}

/* Starts translation through the context's L1 table, if powered. */
static int sysmmu_enable(struct vcm_mmu *mmu)
{
	struct sysmmu *sm = to_sysmmu(mmu);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&mmu->lock, flags);
	sm->enabled = true;
	if (!sysmmu_powered(sm))
		goto out_unlock;
	ret = sysmmu_access_begin(sm);
	if (ret) {
		sm->enabled = false;
		goto out_unlock;
	}
	sysmmu_program(sm);
	sysmmu_access_end(sm);
out_unlock:
	spin_unlock_irqrestore(&mmu->lock, flags);
	return ret;
}

/*
 * Stops translation through the context's tables, but not the MMU: it is
 * fenced, on the fault-only L1 table, so that a master that is still
 * running faults instead of reaching memory untranslated.  The wrapper
 * unmaps the bound reservations next; their tables are freed at once if
 * the MMU confirmed the block.
 */
static void sysmmu_disable(struct vcm_mmu *mmu)
{
	struct sysmmu *sm = to_sysmmu(mmu);
	unsigned long flags;

	spin_lock_irqsave(&mmu->lock, flags);
	sm->enabled = false;
	if (!sysmmu_powered(sm))
		goto out_unlock;
	if (sysmmu_access_begin(sm)) {
		/* Still on the context's tables: none may be freed. */
		sm->unconfirmed = true;
		goto out_unlock;
	}
	sysmmu_program(sm);
	sysmmu_access_end(sm);
out_unlock:
	spin_unlock_irqrestore(&mmu->lock, flags);
}

static void sysmmu_free(struct sysmmu *sm)
{
	if (sm->fault_mapped)
		sysmmu_unmap_table(sm, sysmmu_fault_l1, SYSMMU_L1_SIZE);
	if (sm->zero_l2) {
		sysmmu_unmap_table(sm, sm->zero_l2, SYSMMU_L2_SIZE);
		kmem_cache_free(sysmmu_l2_cache, sm->zero_l2);
	}
	if (sm->l1) {
		sysmmu_unmap_table(sm, sm->l1, SYSMMU_L1_SIZE);
		free_pages((unsigned long)sm->l1, get_order(SYSMMU_L1_SIZE));
	}
	kvfree(sm);
}

/*
 * Called by vcm_destroy() when the context is disabled, so fenced, and
 * nothing is mapped: the device may go away now, so the tables are
 * unmapped from it, its clock stopped and it is forgotten.  Tables kept
 * after a block timeout are unmapped too.  The SysMMU stays fenced, on
 * sysmmu_fault_l1, which is never freed, unless its masters are quiet.
 */
static void sysmmu_detach(struct vcm_mmu *mmu)
{
	struct sysmmu *sm = to_sysmmu(mmu);
	struct sysmmu_retired *retired;
	unsigned long flags;
	unsigned int l1;

	lockdep_assert_held(&mmu->vcm.lock);
	/* The L2 tables change under the context's mutex only. */
	for (l1 = 0; l1 < SYSMMU_L1_ENTRIES; l1++)
		if (sm->l2[l1])
			sysmmu_unmap_table(sm, sm->l2[l1], SYSMMU_L2_SIZE);
	spin_lock_irqsave(&mmu->lock, flags);
	list_for_each_entry(retired, &sm->retired, node)
		sysmmu_unmap_table(sm, retired->table, SYSMMU_L2_SIZE);
	sysmmu_unmap_table(sm, sm->zero_l2, SYSMMU_L2_SIZE);
	sysmmu_unmap_table(sm, sm->l1, SYSMMU_L1_SIZE);
	sysmmu_unmap_table(sm, sysmmu_fault_l1, SYSMMU_L1_SIZE);
	sm->fault_mapped = false;
	if (sysmmu_powered(sm)) {
		if (sm->masters_quiet && !sysmmu_access_begin(sm)) {
			sysmmu_write(sm, SYSMMU_MMU_CTRL, 0);
			sysmmu_access_end(sm);
		}
		clk_disable(sm->clk);
	}
	sm->dev = NULL;
	sm->regs = NULL;
	sm->clk = NULL;
	sm->clk_master = NULL;
	spin_unlock_irqrestore(&mmu->lock, flags);
}

/*
 * Called when the context's last holder is gone, after vcm_destroy()
 * deactivated it, which unmapped everything.  L2 tables remain if an MMU
 * did not block for an unmapping (see "Invalidation").
 */
static void sysmmu_cleanup(struct vcm_mmu *mmu)
{
	struct sysmmu *sm = to_sysmmu(mmu);
	unsigned long flags;
	unsigned int l1;

	for (l1 = 0; l1 < SYSMMU_L1_ENTRIES; l1++) {
		if (sm->l2[l1]) {
			sysmmu_free_l2(sm, sm->l2[l1]);
			sm->l2[l1] = NULL;
		}
	}
	spin_lock_irqsave(&mmu->lock, flags);
	sysmmu_free_retired(sm);
	spin_unlock_irqrestore(&mmu->lock, flags);
	sysmmu_free(sm);
}

/*
 * debugfs: the version, whether translation is on, and what the tables
 * hold: L1 sections (1 MiB pages), L2 tables, and in them 64 KiB pages
 * (16 entries each) and 4 KiB pages.
 */
static void sysmmu_show(struct vcm_mmu *mmu, struct seq_file *m)
{
	struct sysmmu *sm = to_sysmmu(mmu);
	unsigned int l1, i, sections = 0, tables = 0, large = 0, small = 0;

	/* The context's mutex keeps the tables and @enabled still. */
	lockdep_assert_held(&mmu->vcm.lock);
	for (l1 = 0; l1 < SYSMMU_L1_ENTRIES; l1++) {
		const u32 *table = sm->l2[l1];

		if ((sm->l1[l1] & SYSMMU_TYPE_MASK) == SYSMMU_L1_SECTION)
			sections++;
		if (!table)
			continue;
		tables++;
		for (i = 0; i < SYSMMU_L2_ENTRIES; i++) {
			if (table[i] & SYSMMU_L2_SMALL)
				small++;
			else if ((table[i] & SYSMMU_TYPE_MASK) == SYSMMU_L2_LARGE)
				large++;
		}
	}
	seq_printf(m, " sysmmu=%u.%u enabled=%d sections=%u l2_tables=%u pages_64k=%u pages_4k=%u",
		   sm->major, sm->minor, sm->enabled, sections, tables,
		   large >> SYSMMU_LARGE_ORDER, small);
}

static const struct vcm_mmu_driver sysmmu_driver = {
	.orders		= sysmmu_orders,
	.may_sleep	= true,
	.cleanup	= sysmmu_cleanup,
	.activate	= sysmmu_activate,
	.deactivate	= sysmmu_deactivate,
	.enable		= sysmmu_enable,
	.disable	= sysmmu_disable,
	.detach		= sysmmu_detach,
	.show		= sysmmu_show,
};

/* ---- contexts ---- */

/* Reads the version, with the clocks on; only v1-v3 have this format. */
static int sysmmu_read_version(struct sysmmu *sm)
{
	u32 version = sysmmu_read(sm, SYSMMU_VERSION);

	if (version == SYSMMU_VERSION_1_0_QUIRK)
		version = SYSMMU_VERSION_MAKE(1, 0);
	sm->major = version >> 28;
	sm->minor = (version >> 21) & 0x7f;
	if (sm->major < 1 || sm->major > 3) {
		sysmmu_err_ratelimited(sm, "version %u.%u: only v1-v3 page tables are supported\n",
				       sm->major, sm->minor);
		return -ENODEV;
	}
	return 0;
}

/* The fault-only L2 table, then the L1 table linking to it everywhere. */
static int sysmmu_alloc_tables(struct sysmmu *sm)
{
	unsigned int l1;

	if (!vcm_should_fail_alloc())
		sm->zero_l2 = kmem_cache_zalloc(sysmmu_l2_cache, GFP_KERNEL);
	if (!sm->zero_l2)
		return -ENOMEM;
	if (!sysmmu_map_table(sm, sm->zero_l2, SYSMMU_L2_SIZE)) {
		kmem_cache_free(sysmmu_l2_cache, sm->zero_l2);
		sm->zero_l2 = NULL;
		return -ENOMEM;
	}
	sm->zero_link = virt_to_phys(sm->zero_l2) | SYSMMU_L1_LINK;

	if (!vcm_should_fail_alloc())
		sm->l1 = (u32 *)__get_free_pages(GFP_KERNEL |
						 (IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0),
						 get_order(SYSMMU_L1_SIZE));
	if (!sm->l1)
		return -ENOMEM;
	for (l1 = 0; l1 < SYSMMU_L1_ENTRIES; l1++)
		sm->l1[l1] = sm->zero_link;
	if (!sysmmu_map_table(sm, sm->l1, SYSMMU_L1_SIZE)) {
		free_pages((unsigned long)sm->l1, get_order(SYSMMU_L1_SIZE));
		sm->l1 = NULL;
		return -ENOMEM;
	}
	sm->fault_mapped = sysmmu_map_table(sm, sysmmu_fault_l1, SYSMMU_L1_SIZE);
	return sm->fault_mapped ? 0 : -ENOMEM;
}

/*
 * Takes the SysMMU over, whatever a boot loader left in it: clears the
 * faults it latched and fences it.  The caller has the clocks on.
 */
static void sysmmu_reset(struct sysmmu *sm)
{
	u32 status = sysmmu_read(sm, SYSMMU_INT_STATUS);

	if (status)
		sysmmu_write(sm, SYSMMU_INT_CLEAR, status);
	sysmmu_program(sm);
}

/*
 * vcm_sysmmu_create() with the master's clock as well, @clk_master, which
 * runs around register accesses.
 */
static struct vcm *sysmmu_create(struct device *dev, void __iomem *regs,
				 struct clk *clk, struct clk *clk_master,
				 dma_addr_t start, resource_size_t size)
{
	struct sysmmu *sm;
	struct vcm *vcm;
	int ret;

	if (VCM_WARN_ON_ONCE(!regs))
		return ERR_PTR(-EINVAL);
	if (size > SZ_4G || start > SZ_4G - size) {
		pr_err("context at %pad of size %pa goes past 4 GiB\n",
		       &start, &size);
		return ERR_PTR(-EINVAL);
	}
	if (!sysmmu_l2_cache)
		return ERR_PTR(-ENOMEM);

	sm = vcm_should_fail_alloc() ? NULL : kvzalloc(sizeof(*sm), GFP_KERNEL);
	if (!sm)
		return ERR_PTR(-ENOMEM);
	sm->dev = dev;
	sm->regs = regs;
	sm->clk = clk;
	sm->clk_master = clk_master;
	INIT_LIST_HEAD(&sm->retired);
	sm->mmu.driver = &sysmmu_driver;
	sm->mmu.vcm.start = start;
	sm->mmu.vcm.size = size;
	strscpy(sm->name, dev ? dev_name(dev) : "sysmmu-window", sizeof(sm->name));
	sm->mmu.vcm.name = sm->name;
	/* Its masters' accesses snoop the CPU caches if the SysMMU's do. */
	sm->mmu.vcm.coherent = dev && dev_is_dma_coherent(dev);
	sm->mmu.vcm.phys_max = U32_MAX;
	ratelimit_state_init(&sm->ratelimit, DEFAULT_RATELIMIT_INTERVAL,
			     DEFAULT_RATELIMIT_BURST);

	/* The SysMMU's clock runs from here on, until vcm_destroy(). */
	ret = clk_enable(clk);
	if (ret)
		goto out_free;
	ret = sysmmu_access_begin(sm);
	if (ret)
		goto out_clk;
	ret = sysmmu_read_version(sm);
	sysmmu_access_end(sm);
	if (ret)
		goto out_clk;
	ret = sysmmu_alloc_tables(sm);
	if (ret)
		goto out_clk;
	ret = sysmmu_access_begin(sm);
	if (ret)
		goto out_clk;
	sysmmu_reset(sm);
	sysmmu_access_end(sm);
	vcm = vcm_mmu_init(&sm->mmu);
	if (IS_ERR(vcm)) {
		ret = PTR_ERR(vcm);
		goto out_clk;
	}
	return vcm;

out_clk:
	clk_disable(clk);
out_free:
	sysmmu_free(sm);
	return ERR_PTR(ret);
}

/**
 * vcm_sysmmu_create() - Make a VCM context on a SysMMU.
 * @dev: The SysMMU device, or NULL.  With a device, the page tables are
 *	 mapped for it with the DMA API, and messages and debugfs name the
 *	 context after it; without one, the SysMMU must see memory as the
 *	 CPU does (bring-up, tests) and the context is named
 *	 "sysmmu-window".
 * @regs: The SysMMU's register window (an ioremap(), or for tests memory).
 * @clk: Its gate clock, already prepared, or NULL.  It runs while the
 *	 SysMMU is powered (see vcm_sysmmu_suspend()), until vcm_destroy().
 * @start: First device address of the context, page aligned.
 * @size: Size of the context in bytes, page aligned; the context must
 *	  end at 4 GiB or below.
 *
 * Reads the VERSION register, allocates the page tables and makes a
 * context on the MMU wrapper with the SysMMU's page sizes (orders
 * {8, 4, 0}).  Whatever a boot loader left in the SysMMU is undone: the
 * faults it latched in INT_STATUS are cleared, and it is fenced, enabled
 * on a table that faults every access, until vcm_activate(), and again
 * after vcm_deactivate() and vcm_destroy() (see "Fencing" in the file's
 * header).  Destroy the context with vcm_destroy().  The fault interrupt
 * is the caller's to request, with vcm_sysmmu_irq() as handler and the
 * context as its data.
 *
 * Context: Process context; may sleep.
 * Return: the context, or ERR_PTR(-EINVAL) for a NULL @regs (which also
 * warns once) or a range outside 32 bits, -ENODEV for a SysMMU of
 * another version, an error of clk_enable(), or -ENOMEM.
 */
struct vcm *vcm_sysmmu_create(struct device *dev, void __iomem *regs,
			      struct clk *clk, dma_addr_t start,
			      resource_size_t size)
{
	return sysmmu_create(dev, regs, clk, NULL, start, size);
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_create);

/*
 * The driver of the device that owns the SysMMU unbinds: the masters are
 * quiet (see "Fencing"), so vcm_destroy() turns the SysMMU off.
 */
static void sysmmu_destroy_action(void *vcm)
{
	struct sysmmu *sm = vcm_to_sysmmu(vcm);
	unsigned long flags;

	spin_lock_irqsave(&sm->mmu.lock, flags);
	sm->masters_quiet = true;
	spin_unlock_irqrestore(&sm->mmu.lock, flags);
	vcm_destroy(vcm);
}

/* devm_vcm_sysmmu_create(), with the master's clock as well. */
static struct vcm *sysmmu_devm_create(struct device *dev, void __iomem *regs,
				      struct clk *clk, struct clk *clk_master,
				      dma_addr_t start, resource_size_t size)
{
	struct vcm *vcm;
	int ret;

	vcm = sysmmu_create(dev, regs, clk, clk_master, start, size);
	if (IS_ERR(vcm))
		return vcm;
	ret = vcm_should_fail_alloc() ? -ENOMEM :
	      devm_add_action(dev, sysmmu_destroy_action, vcm);
	if (ret) {
		vcm_destroy(vcm);
		return ERR_PTR(ret);
	}
	return vcm;
}

/**
 * devm_vcm_sysmmu_create() - Make a VCM context on a SysMMU, destroyed
 * when @dev's driver unbinds.
 * @dev: The device whose driver owns the SysMMU (the SysMMU itself, or a
 *	 device it is part of); the page tables are mapped for it.
 * @regs: As for vcm_sysmmu_create().
 * @clk: As for vcm_sysmmu_create().
 * @start: As for vcm_sysmmu_create().
 * @size: As for vcm_sysmmu_create().
 *
 * vcm_sysmmu_create() with a device-managed vcm_destroy(): when @dev's
 * driver unbinds, the SysMMU is disabled and let go of, and masters still
 * holding reservations find the context dead (see vcm_destroy()).  Request
 * the fault interrupt after this call, so that devm frees it before.
 *
 * Context: Process context; may sleep.
 * Return: the context, or an error of vcm_sysmmu_create(), or -EINVAL
 * for a NULL @dev, or -ENOMEM; nothing is left made then.
 */
struct vcm *devm_vcm_sysmmu_create(struct device *dev, void __iomem *regs,
				   struct clk *clk, dma_addr_t start,
				   resource_size_t size)
{
	if (VCM_WARN_ON_ONCE(!dev))
		return ERR_PTR(-EINVAL);
	return sysmmu_devm_create(dev, regs, clk, NULL, start, size);
}
EXPORT_SYMBOL_GPL(devm_vcm_sysmmu_create);

/* Walks the tables for @iova as the hardware does; see below. */
static int sysmmu_walk(struct sysmmu *sm, u32 iova, phys_addr_t *paddr)
{
	u32 entry = READ_ONCE(sm->l1[iova >> 20]);
	phys_addr_t table;
	u32 *map;

	switch (entry & SYSMMU_TYPE_MASK) {
	case SYSMMU_L1_SECTION:
		*paddr = (entry & SYSMMU_L1_SECTION_MASK) | (iova & ~SYSMMU_L1_SECTION_MASK);
		return SYSMMU_SECTION_ORDER;
	case SYSMMU_L1_LINK:
		break;
	default:
		return -EFAULT;
	}

	table = entry & SYSMMU_L1_LINK_MASK;
	if (!pfn_valid(PHYS_PFN(table)))
		return -EIO;
	map = kmap_local_pfn(PHYS_PFN(table));
	entry = READ_ONCE(map[(offset_in_page(table) + ((iova >> 12) & 0xff) * 4) / 4]);
	kunmap_local(map);

	if (entry & SYSMMU_L2_SMALL) {
		*paddr = (entry & SYSMMU_L2_SMALL_MASK) | (iova & ~SYSMMU_L2_SMALL_MASK);
		return SYSMMU_SMALL_ORDER;
	}
	if ((entry & SYSMMU_TYPE_MASK) == SYSMMU_L2_LARGE) {
		*paddr = (entry & SYSMMU_L2_LARGE_MASK) | (iova & ~SYSMMU_L2_LARGE_MASK);
		return SYSMMU_LARGE_ORDER;
	}
	return -EFAULT;
}

/**
 * vcm_sysmmu_translate() - Translate a device address as the SysMMU would.
 * @vcm: A context made by vcm_sysmmu_create() or a SysMMU device.
 * @iova: The device address.
 * @paddr: Where to store the physical address it translates to.
 *
 * Walks the page tables in memory the way the hardware does: the L1
 * entry for @iova, then, for a link, the L2 entry in the table at the
 * physical address the link holds.  Whether the MMU is enabled does not
 * matter; a context maps its bound reservations only while active.  For
 * tests and debugging.
 *
 * Context: Any context; takes the context's spinlock.
 * Return: the order of the page that maps @iova (8: 1 MiB section, 4:
 * 64 KiB large page, 0: 4 KiB small page), with *@paddr set; -EFAULT where
 * the SysMMU would raise a page fault; -EIO if an L1 entry links to
 * memory that is not RAM (the SysMMU would see a bus error); -EINVAL if
 * @vcm is not a SysMMU context or @iova is above 32 bits.
 */
int vcm_sysmmu_translate(struct vcm *vcm, dma_addr_t iova, phys_addr_t *paddr)
{
	struct sysmmu *sm = vcm_to_sysmmu(vcm);
	unsigned long flags;
	int ret;

	if (!sm || upper_32_bits((u64)iova))
		return -EINVAL;
	spin_lock_irqsave(&sm->mmu.lock, flags);
	ret = sysmmu_walk(sm, lower_32_bits(iova), paddr);
	spin_unlock_irqrestore(&sm->mmu.lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_translate);

/**
 * vcm_sysmmu_stats() - What a SysMMU context did and has.
 * @vcm: A context made by vcm_sysmmu_create() or a SysMMU device.
 * @stats: Where to copy them.
 *
 * Context: Any context; takes the context's spinlock.
 * Return: 0, or -EINVAL if @vcm is not a SysMMU context.
 */
int vcm_sysmmu_stats(struct vcm *vcm, struct vcm_sysmmu_stats *stats)
{
	struct sysmmu *sm = vcm_to_sysmmu(vcm);
	unsigned long flags;

	if (!sm)
		return -EINVAL;
	spin_lock_irqsave(&sm->mmu.lock, flags);
	*stats = sm->stats;
	spin_unlock_irqrestore(&sm->mmu.lock, flags);
	stats->major = sm->major;
	stats->minor = sm->minor;
	stats->pt_base = virt_to_phys(sm->l1);
	stats->pt_bytes = SYSMMU_L1_SIZE + (stats->l2_tables + 1) * SYSMMU_L2_SIZE;
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_stats);

/* ---- power ---- */

/**
 * vcm_sysmmu_suspend() - The SysMMU is about to lose power.
 * @vcm: A context made by vcm_sysmmu_create() or a SysMMU device.
 *
 * A SysMMU shares its master's power domain and loses its registers with
 * it.  From this call on its registers are left alone: binding and
 * unbinding write the page tables only, and what the TLB would need is
 * done by vcm_sysmmu_resume(), which programs everything anew.  Nothing is
 * saved.  The SysMMU's clock is stopped.  Its master must be quiet
 * already (its driver's runtime suspend, which device links order before
 * the SysMMU's): the SysMMU is not disabled, so that a master that is not
 * faults rather than reaching memory untranslated.  The platform driver
 * calls this from its runtime and system-sleep callbacks; code that made
 * a context with vcm_sysmmu_create() calls it itself.  Calls do not nest.
 *
 * Context: Any context; takes the context's spinlock.
 * Return: 0, or -EINVAL if @vcm is not a SysMMU context.
 */
int vcm_sysmmu_suspend(struct vcm *vcm)
{
	struct sysmmu *sm = vcm_to_sysmmu(vcm);
	unsigned long flags;

	if (!sm)
		return -EINVAL;
	spin_lock_irqsave(&sm->mmu.lock, flags);
	if (sysmmu_powered(sm)) {
		sm->suspended = true;
		/* Powered down, it walks nothing. */
		sm->unconfirmed = false;
		sysmmu_free_retired(sm);
		clk_disable(sm->clk);
	}
	spin_unlock_irqrestore(&sm->mmu.lock, flags);
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_suspend);

/**
 * vcm_sysmmu_resume() - The SysMMU has power again.
 * @vcm: A context made by vcm_sysmmu_create() or a SysMMU device.
 *
 * Starts the SysMMU's clock and programs all its registers, as its state
 * is now: translating through the context's tables if it is active,
 * fenced if not, with the whole TLB flushed, which stands for every
 * invalidation skipped while it was suspended.  Call it before the master
 * runs again.  Nothing happens if it was not suspended, or if the context
 * was destroyed meanwhile.
 *
 * Context: Any context; takes the context's spinlock.
 * Return: 0, -EINVAL if @vcm is not a SysMMU context, or an error of
 * clk_enable() (the SysMMU stays suspended then).
 */
int vcm_sysmmu_resume(struct vcm *vcm)
{
	struct sysmmu *sm = vcm_to_sysmmu(vcm);
	unsigned long flags;
	int ret = 0;

	if (!sm)
		return -EINVAL;
	spin_lock_irqsave(&sm->mmu.lock, flags);
	if (!sm->regs || !sm->suspended)
		goto out_unlock;
	ret = clk_enable(sm->clk);
	if (ret)
		goto out_unlock;
	ret = sysmmu_access_begin(sm);
	if (ret) {
		clk_disable(sm->clk);
		goto out_unlock;
	}
	sm->suspended = false;
	sysmmu_program(sm);
	sysmmu_access_end(sm);
out_unlock:
	spin_unlock_irqrestore(&sm->mmu.lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_resume);

/* ---- faults ---- */

struct sysmmu_fault {
	unsigned int addr_reg;
	const char *name;
};

/* By bit of INT_STATUS: where the address is, and what happened. */
static const struct sysmmu_fault sysmmu_faults[] = {
	{ SYSMMU_PAGE_FAULT_ADDR, "page fault" },
	{ SYSMMU_AR_FAULT_ADDR, "multiple TLB hits on read" },
	{ SYSMMU_AW_FAULT_ADDR, "multiple TLB hits on write" },
	{ SYSMMU_DEFAULT_SLAVE_ADDR, "bus error" },
	{ SYSMMU_AR_FAULT_ADDR, "security fault on read" },
	{ SYSMMU_AR_FAULT_ADDR, "access fault on read" },
	{ SYSMMU_AW_FAULT_ADDR, "security fault on write" },
	{ SYSMMU_AW_FAULT_ADDR, "access fault on write" },
};

/**
 * vcm_sysmmu_irq() - The fault interrupt handler of a SysMMU.
 * @irq: The interrupt.
 * @vcm: The context (a struct vcm *) of the SysMMU, as given to
 *	 request_irq().
 *
 * Hands each fault at a device address in INT_STATUS to the master's
 * handler (vcm_set_fault_handler()), and reports it if there is none or
 * it did not handle it, with its address (rate limited; the
 * device address with its L1 entry for a page fault, the physical address
 * of the slave for a bus error), counts it, keeps the last address of a
 * known fault, clears the bits it read and unblocks the MMU, which stops
 * on a fault.  The platform driver requests it; code
 * that made a context with vcm_sysmmu_create() requests it itself.
 *
 * The line may be shared, and a level-triggered line stays asserted until
 * every device on it is cleared, so whenever the SysMMU's registers can be
 * read (its clock runs from vcm_sysmmu_create() to vcm_destroy() while it
 * is powered) a fault it latched is cleared: while its context is active,
 * and while it is fenced, when it reports a master's access outside an
 * active context.  A SysMMU that is suspended (powered down, so asserting
 * nothing) or whose context is destroyed (its clock stopped) is not
 * asked.
 *
 * Context: Hard interrupt context; takes the context's spinlock.
 * Return: IRQ_HANDLED, or IRQ_NONE if the SysMMU raised no fault or its
 * registers cannot be read.
 */
irqreturn_t vcm_sysmmu_irq(int irq, void *vcm)
{
	struct sysmmu *sm = to_sysmmu(container_of(vcm, struct vcm_mmu, vcm));
	irqreturn_t ret = IRQ_NONE;
	unsigned long status;
	unsigned int bit;
	u32 addr;

	spin_lock(&sm->mmu.lock);
	/* Its registers cannot be read with the clock or the power off. */
	if (!sysmmu_powered(sm) || sysmmu_access_begin(sm))
		goto out_unlock;
	status = sysmmu_read(sm, SYSMMU_INT_STATUS);
	if (!status)
		goto out_access;

	for_each_set_bit(bit, &status, 32) {
		sm->stats.faults++;
		if (bit >= ARRAY_SIZE(sysmmu_faults)) {
			sysmmu_err_ratelimited(sm, "unknown interrupt, INT_STATUS bit %u\n", bit);
			continue;
		}
		addr = sysmmu_read(sm, sysmmu_faults[bit].addr_reg);
		sm->stats.last_fault_addr = addr;
		/* The master's driver hears of faults at device addresses. */
		if (BIT(bit) != SYSMMU_INT_BUS_ERROR &&
		    !vcm_report_fault(&sm->mmu.vcm, addr,
				      sysmmu_faults[bit].addr_reg == SYSMMU_AW_FAULT_ADDR ?
				      VCM_FAULT_WRITE : 0))
			continue;
		if (BIT(bit) == SYSMMU_INT_PAGE_FAULT)
			sysmmu_err_ratelimited(sm, "page fault at device address %#010x (L1 entry %#010x)\n",
					       addr, READ_ONCE(sm->l1[addr >> 20]));
		else if (BIT(bit) == SYSMMU_INT_BUS_ERROR)
			sysmmu_err_ratelimited(sm, "bus error at physical address %#010x\n", addr);
		else
			sysmmu_err_ratelimited(sm, "%s at device address %#010x\n",
					       sysmmu_faults[bit].name, addr);
	}
	sm->stats.last_fault_status = status;
	sysmmu_write(sm, SYSMMU_INT_CLEAR, status);
	sysmmu_unblock(sm);
	ret = IRQ_HANDLED;
out_access:
	sysmmu_access_end(sm);
out_unlock:
	spin_unlock(&sm->mmu.lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_irq);

/* ---- the platform driver ---- */

/*
 * The register window of a SysMMU platform device.  A KUnit test replaces
 * it with a window in RAM, which ioremap() refuses.
 */
VISIBLE_IF_KUNIT void __iomem *vcm_sysmmu_ioremap(struct platform_device *pdev)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_sysmmu_ioremap, pdev);
	return devm_platform_ioremap_resource(pdev, 0);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_sysmmu_ioremap);

static void sysmmu_clear_drvdata(void *pdev)
{
	platform_set_drvdata(pdev, NULL);
}

/* Before the context is made and after it is destroyed, there is none. */
static int sysmmu_runtime_suspend(struct device *dev)
{
	struct vcm *vcm = dev_get_drvdata(dev);

	return vcm ? vcm_sysmmu_suspend(vcm) : 0;
}

static int sysmmu_runtime_resume(struct device *dev)
{
	struct vcm *vcm = dev_get_drvdata(dev);

	return vcm ? vcm_sysmmu_resume(vcm) : 0;
}

/* System sleep goes through the runtime callbacks, as in exynos-iommu.c. */
static const struct dev_pm_ops sysmmu_pm_ops = {
	RUNTIME_PM_OPS(sysmmu_runtime_suspend, sysmmu_runtime_resume, NULL)
	LATE_SYSTEM_SLEEP_PM_OPS(pm_runtime_force_suspend, pm_runtime_force_resume)
};

static int sysmmu_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct clk *clk, *clk_master;
	void __iomem *regs;
	struct vcm *vcm;
	int irq, ret;

	regs = vcm_sysmmu_ioremap(pdev);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;
	clk = devm_clk_get_optional_prepared(dev, "sysmmu");
	if (IS_ERR(clk))
		return dev_err_probe(dev, PTR_ERR(clk), "no sysmmu clock\n");
	clk_master = devm_clk_get_optional_prepared(dev, "master");
	if (IS_ERR(clk_master))
		return dev_err_probe(dev, PTR_ERR(clk_master), "no master clock\n");
	ret = dma_set_mask(dev, DMA_BIT_MASK(32));
	if (ret)
		return dev_err_probe(dev, ret, "no 32-bit DMA for the page tables\n");

	/* Destroyed after the interrupt is freed: devm undoes in reverse. */
	vcm = sysmmu_devm_create(dev, regs, clk, clk_master, SYSMMU_PLATFORM_START,
				 SYSMMU_PLATFORM_SIZE);
	if (IS_ERR(vcm))
		return dev_err_probe(dev, PTR_ERR(vcm), "cannot make a VCM context\n");
	ret = devm_request_irq(dev, irq, vcm_sysmmu_irq, IRQF_SHARED,
			       dev_name(dev), vcm);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request interrupt %d\n", irq);

	/* Cleared before the context is destroyed, for vcm_sysmmu_get(). */
	platform_set_drvdata(pdev, vcm);
	ret = devm_add_action_or_reset(dev, sysmmu_clear_drvdata, pdev);
	if (ret)
		return ret;
	/*
	 * Powered, as the registers just written show; from now on runtime
	 * PM follows the masters' (device links), and it ends first.
	 */
	ret = pm_runtime_set_active(dev);
	if (ret)
		return ret;
	ret = devm_pm_runtime_enable(dev);
	if (ret)
		return ret;
	dev_info(dev, "SysMMU v%u.%u, VCM context at %pad, %pa bytes\n",
		 vcm_to_sysmmu(vcm)->major, vcm_to_sysmmu(vcm)->minor,
		 &vcm->start, &vcm->size);
	return 0;
}

static const struct of_device_id sysmmu_of_match[] = {
	{ .compatible = "samsung,exynos-sysmmu" },
	{ }
};
MODULE_DEVICE_TABLE(of, sysmmu_of_match);

static struct platform_driver sysmmu_platform_driver = {
	.probe = sysmmu_probe,
	.driver = {
		.name = "vcm-sysmmu",
		.of_match_table = sysmmu_of_match,
		.pm = pm_ptr(&sysmmu_pm_ops),
	},
};

/**
 * vcm_sysmmu_get() - The VCM context of a master device's SysMMU.
 * @master: The master device: a camera, a codec, a display controller.
 * @index: Which of its SysMMUs: the index into its "samsung,vcm-sysmmus"
 *	   property.
 *
 * Follows entry @index of @master's device-tree property
 * "samsung,vcm-sysmmus", a list of phandles of "samsung,exynos-sysmmu"
 * nodes, to the SysMMU's platform device, and returns its context::
 *
 *	sysmmu_fimc0: sysmmu@11a20000 {
 *		compatible = "samsung,exynos-sysmmu";
 *		reg = <0x11a20000 0x1000>;
 *		interrupts = <GIC_SPI 94 IRQ_TYPE_LEVEL_HIGH>;
 *		clocks = <&clock CLK_SMMU_FIMC0>, <&clock CLK_FIMC0>;
 *		clock-names = "sysmmu", "master";
 *	};
 *
 *	fimc@11800000 {
 *		...
 *		samsung,vcm-sysmmus = <&sysmmu_fimc0>;
 *	};
 *
 * Not the standard "iommus": the driver core hands that to the IOMMU core,
 * with which VCM's SysMMUs are not registered, and would hold the master's
 * probe back until the deferred-probe timeout.  A device link makes
 * @master's driver unbind before the SysMMU's, and carries runtime PM: the
 * SysMMU is resumed now and stays so until @master runtime-suspends (for
 * good, if @master does not use runtime PM), and resumes before it.  The
 * context stays valid while @master's driver is bound, and the link goes
 * away when it unbinds.  Call it from @master's probe, and return
 * -EPROBE_DEFER when it does.
 *
 * Context: Process context; may sleep.
 * Return: the context, or ERR_PTR(-ENODEV) if @master has no device-tree
 * node or entry @index is not a SysMMU, -ENOENT if it has no such entry,
 * or -EPROBE_DEFER if the SysMMU has no driver bound: not yet, or it is
 * being unbound, or its probe failed (then the deferral lasts, and the
 * SysMMU's probe said why).
 */
struct vcm *vcm_sysmmu_get(struct device *master, unsigned int index)
{
	struct platform_device *pdev;
	struct device_link *link;
	struct vcm *vcm = ERR_PTR(-EPROBE_DEFER);
	struct device_node *np;
	bool compatible;

	if (!master || !master->of_node)
		return ERR_PTR(-ENODEV);
	np = of_parse_phandle(master->of_node, SYSMMU_OF_PROPERTY, index);
	if (!np)
		return ERR_PTR(-ENOENT);
	compatible = of_device_is_compatible(np, "samsung,exynos-sysmmu");
	pdev = compatible ? of_find_device_by_node(np) : NULL;
	of_node_put(np);
	if (!compatible)
		return ERR_PTR(-ENODEV);
	if (!pdev)
		return ERR_PTR(-EPROBE_DEFER);

	/*
	 * Link first: once linked, the SysMMU's driver cannot unbind before
	 * @master's, unless it had started to, which the link then says.
	 */
	link = device_link_add(master, &pdev->dev, DL_FLAG_AUTOREMOVE_CONSUMER |
			       DL_FLAG_PM_RUNTIME | DL_FLAG_RPM_ACTIVE);
	if (link && READ_ONCE(link->status) != DL_STATE_SUPPLIER_UNBIND &&
	    READ_ONCE(pdev->dev.driver) == &sysmmu_platform_driver.driver)
		vcm = platform_get_drvdata(pdev) ?: ERR_PTR(-EPROBE_DEFER);
	put_device(&pdev->dev);
	return vcm;
}
EXPORT_SYMBOL_GPL(vcm_sysmmu_get);

static int __init sysmmu_init(void)
{
	int ret = -ENOMEM;

	sysmmu_fault_l1 = (u32 *)__get_free_pages(GFP_KERNEL | __GFP_ZERO |
						  (IS_ENABLED(CONFIG_ZONE_DMA32) ?
						   __GFP_DMA32 : 0),
						  get_order(SYSMMU_L1_SIZE));
	if (!sysmmu_fault_l1)
		return -ENOMEM;
	if (!sysmmu_reachable(virt_to_phys(sysmmu_fault_l1), SYSMMU_L1_SIZE))
		goto out_free_fault_l1;
	sysmmu_l2_cache = kmem_cache_create("vcm-sysmmu-l2", SYSMMU_L2_SIZE,
					    SYSMMU_L2_SIZE,
					    IS_ENABLED(CONFIG_ZONE_DMA32) ?
					    SLAB_CACHE_DMA32 : 0, NULL);
	if (!sysmmu_l2_cache)
		goto out_free_fault_l1;
	ret = platform_driver_register(&sysmmu_platform_driver);
	if (ret)
		goto out_destroy_cache;
	return 0;

out_destroy_cache:
	kmem_cache_destroy(sysmmu_l2_cache);
	sysmmu_l2_cache = NULL;
out_free_fault_l1:
	free_pages((unsigned long)sysmmu_fault_l1, get_order(SYSMMU_L1_SIZE));
	sysmmu_fault_l1 = NULL;
	return ret;
}
subsys_initcall(sysmmu_init);
