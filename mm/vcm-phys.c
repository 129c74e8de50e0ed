// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): physical memory in the pages an MMU
 * maps, and the division of bound memory into such pages.
 *
 * vcm_phys_alloc() gives a backend memory in the largest pages its MMU
 * supports, so that its page tables need few entries and its TLB few
 * slots.  The memory is a struct vcm_phys whose parts are separately
 * allocated blocks, each of one supported order and naturally aligned.
 * It lives until vcm_free(), which returns every block to the page
 * allocator and frees the structure.
 *
 * vcm_phys_walk() divides memory bound at a device address into as few
 * pages as possible, each of a supported order with both its device and
 * its physical address aligned to its size.  It keeps no state and takes
 * no lock: it may be called in any context, with whatever locks the
 * backend holds, as long as its callbacks may.
 *
 * Coding conventions in this file: a "page" is a naturally aligned block
 * of PAGE_SIZE << order bytes, of an order from the caller's orders
 * array; a page is "done" once the walk's callback returned 0 for it.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/bug.h>
#include <linux/export.h>
#include <linux/io.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>

#include <kunit/visibility.h>

#include "vcm-internal.h"

/* Physical memory is zeroed: a device must not see what was there before. */
#define VCM_PHYS_GFP	(GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO)
/*
 * Memory below 4 GiB: ZONE_DMA32 where there is one; else lowmem, which is
 * below 4 GiB on the 32-bit machines VCM runs on, checked block by block.
 */
#define VCM_PHYS_GFP_32BIT	(GFP_KERNEL | __GFP_ZERO | \
				 (IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0))

/* The largest order whose pages fit dma_addr_t, phys_addr_t and a long. */
static unsigned int vcm_max_order(void)
{
	return min3(BITS_PER_TYPE(dma_addr_t), BITS_PER_TYPE(phys_addr_t),
		    BITS_PER_LONG) - PAGE_SHIFT - 1;
}

/*
 * Checks an orders array: strictly decreasing, no order too large, and
 * terminated by order 0.  Strictly decreasing bytes reach 0 within 256
 * reads, so a valid array is never read past its end.
 */
bool vcm_orders_valid(const unsigned char *orders)
{
	unsigned int max = vcm_max_order();

	if (orders) {
		for (; *orders <= max; max = *orders++ - 1) {
			if (!*orders)
				return true;
		}
	}
	VCM_WARN_ONCE(1, "vcm: orders must decrease strictly from at most %u to a terminating 0\n",
		      vcm_max_order());
	return false;
}

struct page *vcm_phys_get_pages(gfp_t gfp, unsigned int order)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_phys_get_pages, gfp, order);
	return alloc_pages(gfp, order);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_phys_get_pages);

void vcm_phys_put_pages(struct page *page, unsigned int order)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_phys_put_pages, page, order);
	__free_pages(page, order);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_phys_put_pages);

/* vcm_phys->free of memory from vcm_phys_alloc(). */
static void vcm_phys_free_pages(struct vcm_phys *phys)
{
	unsigned int i;

	for (i = 0; i < phys->count; i++)
		vcm_phys_put_pages(phys->parts[i].page,
				   ilog2(phys->parts[i].size >> PAGE_SHIFT));
	kvfree(phys);
}

/*
 * Allocates @nr_pages pages of memory in blocks of the largest @orders
 * first, adds them to @blocks with their orders in page->private, and
 * returns how many blocks it allocated.  A failed order is not tried
 * again: memory too fragmented for one block of it now will not have one
 * a moment later.
 */
static long vcm_phys_get_blocks(unsigned long nr_pages,
				const unsigned char *orders, gfp_t base,
				struct list_head *blocks)
{
	long count = 0;

	while (nr_pages) {
		unsigned int order = *orders;
		struct page *page;
		gfp_t gfp;

		/* Order 0 ends the array and always fits. */
		if (order > MAX_PAGE_ORDER || nr_pages < 1UL << order) {
			orders++;
			continue;
		}

		/* Only the last resort may retry hard, and warn. */
		gfp = base;
		if (order)
			gfp |= __GFP_NORETRY | __GFP_NOWARN;
		page = vcm_phys_get_pages(gfp, order);
		if (page && !(base & __GFP_HIGHMEM) &&
		    upper_32_bits((u64)page_to_phys(page) + (PAGE_SIZE << order) - 1)) {
			vcm_phys_put_pages(page, order);
			return -ENOMEM;
		}
		if (!page) {
			if (!order)
				return -ENOMEM;
			orders++;
			continue;
		}

		set_page_private(page, order);
		list_add_tail(&page->lru, blocks);
		nr_pages -= 1UL << order;
		count++;
	}
	return count;
}

/**
 * vcm_phys_alloc() - Allocate physical memory in the pages an MMU maps.
 * @size: Size in bytes; rounded up to a multiple of PAGE_SIZE.
 * @flags: VCM_PHYS_32BIT for memory below 4 GiB, or 0.
 * @orders: The page sizes the MMU maps, largest first, terminated by 0.
 *
 * The memory is allocated in blocks of the largest orders first, each a
 * part of the result, naturally aligned to its size; the parts are in the
 * order they were allocated, so largest first.  An order larger than the
 * page allocator's largest (MAX_PAGE_ORDER) is skipped.  Blocks above
 * order 0 are tried without retrying hard or warning, and when one fails
 * the next smaller order is used for the rest of the memory.  The memory
 * is zeroed and may be highmem, unless @flags asks for memory below 4 GiB
 * (then it is from ZONE_DMA32, or from lowmem where there is no such zone,
 * and each block is checked); free it with vcm_free().
 *
 * Context: Process context; may sleep (GFP_KERNEL).
 * Return: The memory, or ERR_PTR(-EINVAL) for a zero @size, unknown
 * @flags or invalid @orders (which also warns once), or -ENOMEM.
 */
struct vcm_phys *vcm_phys_alloc(resource_size_t size, unsigned int flags,
				const unsigned char *orders)
{
	struct page *page, *next;
	struct vcm_phys *phys;
	unsigned long nr_pages;
	LIST_HEAD(blocks);
	long count;
	long i;

	might_alloc(VCM_PHYS_GFP);
	if (!vcm_orders_valid(orders) || !size || (flags & ~VCM_PHYS_32BIT))
		return ERR_PTR(-EINVAL);

	/* More than all of RAM would only wake the OOM killer. */
	if ((size - 1) >> PAGE_SHIFT >= totalram_pages())
		return ERR_PTR(-ENOMEM);
	nr_pages = ((size - 1) >> PAGE_SHIFT) + 1;

	count = vcm_phys_get_blocks(nr_pages, orders,
				    flags & VCM_PHYS_32BIT ? VCM_PHYS_GFP_32BIT :
				    VCM_PHYS_GFP, &blocks);
	if (count < 0)
		goto out_put_blocks;

	phys = vcm_should_fail_alloc() ? NULL :
	       kvzalloc(struct_size(phys, parts, count), GFP_KERNEL);
	if (!phys)
		goto out_put_blocks;

	vcm_phys_init(phys, vcm_phys_free_pages);
	phys->count = count;
	phys->size = (resource_size_t)nr_pages << PAGE_SHIFT;
	i = 0;
	list_for_each_entry_safe(page, next, &blocks, lru) {
		struct vcm_phys_part *part = &phys->parts[i++];

		part->start = page_to_phys(page);
		part->page = page;
		part->size = (resource_size_t)PAGE_SIZE << page_private(page);
		list_del(&page->lru);
		set_page_private(page, 0);
	}
	return phys;

out_put_blocks:
	list_for_each_entry_safe(page, next, &blocks, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		vcm_phys_put_pages(page, order);
	}
	return ERR_PTR(-ENOMEM);
}
EXPORT_SYMBOL_GPL(vcm_phys_alloc);

/*
 * The order of the largest page of @orders that is at most @left bytes
 * and to whose size both @vaddr and @paddr are aligned.  Walking forward
 * they are the page's first addresses; walking back, the addresses just
 * past its end: both must be aligned either way.
 */
static unsigned int vcm_page_order(dma_addr_t vaddr, phys_addr_t paddr,
				   resource_size_t left,
				   const unsigned char *orders)
{
	for (; *orders; orders++) {
		resource_size_t size = (resource_size_t)PAGE_SIZE << *orders;

		if (size <= left && IS_ALIGNED(vaddr, size) &&
		    IS_ALIGNED(paddr, size))
			break;
	}
	return *orders;
}

/*
 * Runs of pages
 * =============
 *
 * Most pages of a large binding follow one another in runs of one order
 * (64 MiB of 4 KiB pages is one run of 16,384), which a backend writes as
 * a run of entries, one loop and one cache clean per table, rather than
 * one call per page.  A run ends where the part ends, where too little of
 * it is left for a page of its order, or at the first address aligned to
 * a larger order that both addresses can reach and the part can hold; at
 * each address it gives the pages vcm_page_order() would.
 */

/*
 * The number of pages of order @order from @vaddr and @paddr on, @left
 * bytes being left in the part, before a larger order of @orders takes
 * over; walking @back, @vaddr and @paddr are the addresses just past the
 * last page, @left the bytes before it, and the run is counted backwards.
 */
static unsigned long vcm_run_pages(dma_addr_t vaddr, phys_addr_t paddr,
				   resource_size_t left, unsigned int order,
				   const unsigned char *orders, bool back)
{
	resource_size_t size = (resource_size_t)PAGE_SIZE << order;
	resource_size_t run = left & ~(size - 1), big, to;

	for (; *orders > order; orders++) {
		big = (resource_size_t)PAGE_SIZE << *orders;
		/* Never both aligned to it at once, or not even one fits. */
		if ((vaddr ^ paddr) & (big - 1) || big > left)
			continue;
		to = back ? vaddr & (big - 1) : -vaddr & (big - 1);
		if (to + big <= left)
			run = min(run, to);
	}
	return run >> (PAGE_SHIFT + order);
}

/*
 * Calls @recovery for the runs done before the device address @vaddr,
 * which lies @done bytes into part @index, newest first.  Dividing a range
 * from its end gives the same pages as from its start: at each size, both
 * take every aligned block of it that the range holds; so the runs counted
 * back are those the walk gave.
 */
static void vcm_phys_unwalk_runs(dma_addr_t vaddr, const struct vcm_phys *phys,
				 unsigned int index, resource_size_t done,
				 const unsigned char *orders,
				 vcm_phys_run_fn *recovery, void *priv)
{
	for (;;) {
		phys_addr_t paddr = phys->parts[index].start + done;

		while (done) {
			unsigned int order = vcm_page_order(vaddr, paddr, done,
							    orders);
			unsigned long count = vcm_run_pages(vaddr, paddr, done,
							    order, orders, true);
			resource_size_t size = (resource_size_t)count <<
					       (PAGE_SHIFT + order);

			vaddr -= size;
			paddr -= size;
			done -= size;
			recovery(vaddr, paddr, order, count, priv);
		}
		if (!index--)
			return;
		done = phys->parts[index].size;
	}
}

/*
 * vcm_phys_walk_runs() for arguments already checked: the MMU wrapper
 * checked its orders at vcm_mmu_init() and the core the memory at
 * vcm_bind(), so its walks under the spinlock do not check them again.
 */
int __vcm_phys_walk_runs(dma_addr_t vaddr, const struct vcm_phys *phys,
			 const unsigned char *orders, vcm_phys_run_fn *callback,
			 vcm_phys_run_fn *recovery, void *priv)
{
	unsigned int i;

	for (i = 0; i < phys->count; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		phys_addr_t paddr = part->start;
		resource_size_t done, size;

		for (done = 0; done < part->size; done += size) {
			resource_size_t left = part->size - done;
			unsigned int order = vcm_page_order(vaddr, paddr, left,
							    orders);
			unsigned long count = vcm_run_pages(vaddr, paddr, left,
							    order, orders, false);
			int ret = callback(vaddr, paddr, order, count, priv);

			if (ret) {
				if (recovery)
					vcm_phys_unwalk_runs(vaddr, phys, i, done,
							     orders, recovery,
							     priv);
				return ret;
			}
			size = (resource_size_t)count << (PAGE_SHIFT + order);
			vaddr += size;
			paddr += size;
		}
	}
	return 0;
}

/* The page walk's callbacks, for its runs. */
struct vcm_phys_pages {
	vcm_phys_walk_fn *callback;
	vcm_phys_walk_fn *recovery;
	void *priv;
};

/* Recovers the first @count pages of a run, newest first. */
static int vcm_phys_unrun_pages(dma_addr_t vaddr, phys_addr_t paddr,
				unsigned int order, unsigned long count,
				void *data)
{
	struct vcm_phys_pages *w = data;
	resource_size_t size = (resource_size_t)PAGE_SIZE << order;

	while (count--)
		w->recovery(vaddr + count * size, paddr + count * size, order,
			    w->priv);
	return 0;
}

/*
 * Calls the page walk's callback for each page of a run; when one fails,
 * recovers those of the run done before it (a run's callback leaves none
 * of its run done).
 */
static int vcm_phys_run_pages(dma_addr_t vaddr, phys_addr_t paddr,
			      unsigned int order, unsigned long count,
			      void *data)
{
	struct vcm_phys_pages *w = data;
	resource_size_t size = (resource_size_t)PAGE_SIZE << order;
	unsigned long i;
	int ret;

	for (i = 0; i < count; i++) {
		ret = w->callback(vaddr + i * size, paddr + i * size, order,
				  w->priv);
		if (ret) {
			if (w->recovery)
				vcm_phys_unrun_pages(vaddr, paddr, order, i, w);
			return ret;
		}
	}
	return 0;
}

/* vcm_phys_walk() for arguments already checked: its runs, page by page. */
int __vcm_phys_walk(dma_addr_t vaddr, const struct vcm_phys *phys,
		    const unsigned char *orders, vcm_phys_walk_fn *callback,
		    vcm_phys_walk_fn *recovery, void *priv)
{
	struct vcm_phys_pages w = { callback, recovery, priv };

	return __vcm_phys_walk_runs(vaddr, phys, orders, vcm_phys_run_pages,
				    recovery ? vcm_phys_unrun_pages : NULL, &w);
}

/*
 * Whether a walk of @phys from @vaddr with @orders may start: valid orders
 * (invalid ones warn once), memory and an address whose pages fit below
 * the last device address.
 */
static bool vcm_phys_walk_valid(dma_addr_t vaddr, const struct vcm_phys *phys,
				const unsigned char *orders)
{
	return vcm_orders_valid(orders) && !IS_ERR_OR_NULL(phys) &&
	       PAGE_ALIGNED(vaddr) && vcm_phys_valid(phys) &&
	       phys->size - 1 <= (dma_addr_t)~(dma_addr_t)0 - vaddr;
}

/**
 * vcm_phys_walk() - Divide bound memory into the pages an MMU maps.
 * @vaddr: Device address of the start of @phys.
 * @phys: The memory; its parts follow each other at the device.
 * @orders: The page sizes the MMU maps, largest first, terminated by 0.
 * @callback: Called for each page, in device-address order.
 * @recovery: Called when @callback fails, for each page done before, the
 *	      newest first; its return value is ignored.  May be NULL.
 * @priv: Passed to @callback and @recovery.
 *
 * Each part is divided into as few pages as possible: at each address the
 * largest order whose size is left in the part and to which both the
 * device and the physical address are aligned.  Parts are not merged, and
 * a page never spans two.
 *
 * Context: Any context; sleeps only if the callbacks do.
 * Return: 0, or the first error @callback returned; or -EINVAL, before any
 * call, if @vaddr is not page aligned, @phys is malformed, its device
 * addresses would run past the last one, @callback is NULL, or @orders is
 * invalid (which also warns once).
 */
int vcm_phys_walk(dma_addr_t vaddr, const struct vcm_phys *phys,
		  const unsigned char *orders, vcm_phys_walk_fn *callback,
		  vcm_phys_walk_fn *recovery, void *priv)
{
	if (!vcm_phys_walk_valid(vaddr, phys, orders) || !callback)
		return -EINVAL;
	return __vcm_phys_walk(vaddr, phys, orders, callback, recovery, priv);
}
EXPORT_SYMBOL_GPL(vcm_phys_walk);

/**
 * vcm_phys_walk_runs() - Divide bound memory into runs of pages.
 * @vaddr: Device address of the start of @phys.
 * @phys: The memory; its parts follow each other at the device.
 * @orders: The page sizes the MMU maps, largest first, terminated by 0.
 * @callback: Called for each run, in device-address order.
 * @recovery: Called when @callback fails, for each run done before, the
 *	      newest first; its return value is ignored.  May be NULL.
 * @priv: Passed to @callback and @recovery.
 *
 * The pages are those of vcm_phys_walk(), in the same order; each call
 * gives a run of them, the longest stretch of pages of one order that
 * follow one another in a part (see "Runs of pages").  A callback that
 * fails must leave none of its run done.
 *
 * Context: Any context; sleeps only if the callbacks do.
 * Return: 0, or the first error @callback returned; or -EINVAL, before any
 * call, for the arguments vcm_phys_walk() refuses.
 */
int vcm_phys_walk_runs(dma_addr_t vaddr, const struct vcm_phys *phys,
		       const unsigned char *orders, vcm_phys_run_fn *callback,
		       vcm_phys_run_fn *recovery, void *priv)
{
	if (!vcm_phys_walk_valid(vaddr, phys, orders) || !callback)
		return -EINVAL;
	return __vcm_phys_walk_runs(vaddr, phys, orders, callback, recovery,
				    priv);
}
EXPORT_SYMBOL_GPL(vcm_phys_walk_runs);
