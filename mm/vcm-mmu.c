// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): the MMU wrapper.
 *
 * Every IOMMU backend needs the same bookkeeping, so the wrapper does it
 * and leaves the backend only the writing of page-table entries.  It
 * implements struct vcm_driver for a struct vcm_mmu:
 *
 *  - device addresses come from a genalloc pool over the context, each
 *    reservation aligned to the largest page size of the MMU that divides
 *    its size, so that the reservation can be mapped with such pages, or
 *    to a page when no range so aligned is free, with per-CPU caches of
 *    freed small reservations in front of it (see "Range caches");
 *  - physical memory comes from vcm_phys_alloc() in the MMU's page sizes;
 *  - bound reservations are kept on a list: activating the context maps
 *    them all, deactivating unmaps them all, and binding or unbinding
 *    while the context is active maps or unmaps at once.
 *
 * The backend maps either a whole bound reservation at a time, or a page
 * at a time with the wrapper dividing each binding by vcm_phys_walk().
 *
 * Lifetimes: the backend embeds struct vcm_mmu in its context and calls
 * vcm_mmu_init().  vcm_destroy() deactivates the context and lets the
 * backend detach from the hardware; when the context's last user is gone
 * the wrapper frees the pool and hands the context to the backend's
 * ->cleanup.  A reservation is a struct vcm_mmu_res made
 * by vcm_mmu_reserve() or vcm_mmu_reserve_at() and freed by
 * vcm_mmu_unreserve().
 *
 * Locking
 * =======
 *
 * The core calls bind, unbind, activate, deactivate and detach with the
 * context's mutex held.  Inside them the wrapper calls the backend in one
 * of two ways, which the backend chooses with ->may_sleep:
 *
 *  - with it (vcm_mmu_sleeping_driver), under the context's mutex alone,
 *    which protects the list of bound reservations and the active flag.
 *    The backend's operations may sleep and allocate page tables with
 *    GFP_KERNEL, and disable interrupts only where their hardware needs
 *    it, taking mmu->lock (the wrapper leaves it to them) or a lock of
 *    their own around short stretches: the SysMMU backend writes at most
 *    256 entries, or does one invalidation, with interrupts off.  The
 *    IOMMU API backend and the SysMMU backend work so;
 *  - without it (vcm_mmu_driver), under mmu->lock as well, a spinlock
 *    taken with interrupts disabled around the list, the flag and every
 *    mapping operation, so that a simple backend's interrupt handler can
 *    take it to see a page table that is not changing.  Nothing may be
 *    allocated but atomically and nothing may sleep, and interrupts stay
 *    off for a whole reservation: for backends whose operations are
 *    short.
 *
 * Reserving and
 * unreserving take their CPU's cache's local lock (see "Range caches");
 * genalloc's own allocation is lock-free.  A reservation that finds no
 * range aligned as it needs, and a vcm_reserve_at() whose range the pool
 * refuses, drain the caches that hold some, which takes
 * vcm_mmu_drain_lock and the CPU hotplug lock and waits for work on those
 * CPUs: reserving is for process context, not for a CPU hotplug callback
 * nor under cpus_read_lock().
 *
 * Pool addresses
 * ==============
 *
 * genalloc returns 0 for "no space" and works in unsigned long, so the
 * pool does not hold device addresses but page numbers: device address D
 * is pool address (D - vcm.start) / PAGE_SIZE + pool_offset, where
 * pool_offset is the smallest positive number congruent to vcm.start /
 * PAGE_SIZE modulo the largest page's number of pages.  A context starting
 * at device address 0 never yields pool address 0, a pool address aligned
 * to a page's number of pages is a device address aligned to its size,
 * and a context of 4 GiB fits even where unsigned long is 32 bits and
 * dma_addr_t 64 (LPAE).
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/bug.h>
#include <linux/cpu.h>
#include <linux/export.h>
#include <linux/genalloc.h>
#include <linux/limits.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/local_lock.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vcm-drv.h>
#include <linux/workqueue.h>

#include <kunit/visibility.h>

#include "internal.h"
#include "vcm-internal.h"

/*
 * Range caches
 * ============
 *
 * genalloc finds room by scanning a bitmap, which gets slow with many
 * reservations live.  Drivers reserve and release small ranges of a few
 * sizes over and over (buffers of a pipeline, per-frame mappings), so each
 * CPU keeps, per context, a few released ranges of each small size: of 1
 * to VCM_MMU_CACHE_PAGES pages exactly, and of the largest page of the MMU
 * if that is larger, as iova.c keeps per-CPU magazines of sizes up to 32
 * pages.  Only a range aligned as a new one would be is kept, so that a
 * reservation from the cache maps with pages as large; and when genalloc
 * has no room so aligned, the caches are drained into it before a less
 * aligned range is taken.  Each CPU also keeps a few released reservation
 * structures, so that reserving from the cache allocates nothing; not
 * with KASAN, which should see a released reservation used again.
 *
 * Only its own CPU touches a cache, under a local lock (preemption off,
 * without PREEMPT_RT): reserving from a cache takes no atomic operation
 * and no barrier, which a spinlock would (it was a third of the time of a
 * reserve and release, measured by make bench).  A drain of the caches
 * is therefore work queued on mm_percpu_wq (which may run in reclaim) on
 * each online CPU whose cache holds something, and waited for, as
 * lru_add_drain_all() does; an offline CPU's cache, which nothing can
 * touch while the CPUs are held, is emptied in place.  A drain happens
 * when genalloc has no range aligned as a reservation needs, or refuses
 * the range of a vcm_reserve_at() (see "Claiming a given range"), and may
 * sleep, as reserving may; with nothing cached it costs a look at each
 * CPU's counts.  The context's end empties every cache in place: nothing
 * else can reach them by then.
 */
#define VCM_MMU_CACHE_PAGES	32
#define VCM_MMU_CACHE_CLASSES	(VCM_MMU_CACHE_PAGES + 1)
#define VCM_MMU_CACHE_DEPTH	8
#define VCM_MMU_CACHE_SPARES	16

/**
 * struct vcm_mmu_res - a reservation in a struct vcm_mmu context.
 * @res:	the reservation.
 * @node:	entry in the context's list of bound reservations while
 *		bound; protected by the context's lock.
 */
struct vcm_mmu_res {
	struct vcm_res res;
	struct list_head node;
};

struct vcm_mmu_cache {
	/* Protects the rest but @drain and @mmu; taken by its CPU only. */
	local_lock_t lock;
	u8 count[VCM_MMU_CACHE_CLASSES];
	u8 spares;
	unsigned long addr[VCM_MMU_CACHE_CLASSES][VCM_MMU_CACHE_DEPTH];
	struct vcm_mmu_res *spare[VCM_MMU_CACHE_SPARES];
	/* Drains this cache on its CPU; under vcm_mmu_drain_lock. */
	struct work_struct drain;
	struct vcm_mmu *mmu;
};

/* Serialises drains, which use the caches' work items and this mask. */
static DEFINE_MUTEX(vcm_mmu_drain_lock);
static struct cpumask vcm_mmu_drain_cpus;

static struct vcm_mmu *to_vcm_mmu(struct vcm *vcm)
{
	return container_of(vcm, struct vcm_mmu, vcm);
}

static struct vcm_mmu_res *to_vcm_mmu_res(struct vcm_res *res)
{
	return container_of(res, struct vcm_mmu_res, res);
}

/*
 * The number of pages of a page of @order, if genalloc can align to it (it
 * takes the alignment as an int), else 0.
 */
static unsigned long vcm_mmu_page_pages(unsigned int order)
{
	return order <= ilog2(INT_MAX) ? 1UL << order : 0;
}

/* The number of pages of the largest page of @mmu dividing @nr_pages. */
static unsigned long vcm_mmu_res_align(const struct vcm_mmu *mmu,
				       unsigned long nr_pages)
{
	const unsigned char *order;
	unsigned long pages;

	for (order = mmu->orders; *order; order++) {
		pages = vcm_mmu_page_pages(*order);
		if (pages && IS_ALIGNED(nr_pages, pages))
			return pages;
	}
	return 1;
}

/*
 * First fit of @nr_pages aligned to @align pages: genalloc aligns pool
 * addresses, which aligns device addresses (see "Pool addresses").
 */
static unsigned long vcm_mmu_pool_alloc(struct vcm_mmu *mmu,
					unsigned long nr_pages,
					unsigned long align)
{
	struct genpool_data_align data = { .align = align };

	return gen_pool_alloc_algo(mmu->pool, nr_pages, gen_pool_first_fit_align,
				   &data);
}

/* The cache class of a range of @nr_pages, or -1 if it is not cached. */
static int vcm_mmu_cache_class(const struct vcm_mmu *mmu, unsigned long nr_pages)
{
	if (nr_pages <= VCM_MMU_CACHE_PAGES)
		return nr_pages - 1;
	if (nr_pages == vcm_mmu_page_pages(mmu->orders[0]))
		return VCM_MMU_CACHE_PAGES;
	return -1;
}

/* The pool address of a device address of @mmu. */
static unsigned long vcm_mmu_pool_addr(const struct vcm_mmu *mmu, dma_addr_t start)
{
	return ((start - mmu->vcm.start) >> PAGE_SHIFT) + mmu->pool_offset;
}

/*
 * Takes from this CPU's cache a range of @nr_pages (or 0) and a spare
 * reservation structure (or NULL).
 */
static unsigned long vcm_mmu_cache_get(struct vcm_mmu *mmu,
				       unsigned long nr_pages,
				       struct vcm_mmu_res **mres)
{
	int class = vcm_mmu_cache_class(mmu, nr_pages);
	struct vcm_mmu_cache *cache;
	unsigned long addr = 0;

	*mres = NULL;
	local_lock(&mmu->cache->lock);
	cache = this_cpu_ptr(mmu->cache);
	if (class >= 0 && cache->count[class])
		addr = cache->addr[class][--cache->count[class]];
	if (cache->spares)
		*mres = cache->spare[--cache->spares];
	local_unlock(&mmu->cache->lock);
	return addr;
}

/*
 * Keeps in this CPU's cache the range of @nr_pages at pool address @addr,
 * if it is as aligned as a new one, and the structure @mres (which may be
 * NULL); returns or frees what it does not keep.
 */
static void vcm_mmu_cache_put(struct vcm_mmu *mmu, unsigned long addr,
			      unsigned long nr_pages, struct vcm_mmu_res *mres)
{
	int class = vcm_mmu_cache_class(mmu, nr_pages);
	struct vcm_mmu_cache *cache;

	if (class >= 0 && !IS_ALIGNED(addr, vcm_mmu_res_align(mmu, nr_pages)))
		class = -1;
	local_lock(&mmu->cache->lock);
	cache = this_cpu_ptr(mmu->cache);
	if (addr && class >= 0 && cache->count[class] < VCM_MMU_CACHE_DEPTH) {
		cache->addr[class][cache->count[class]++] = addr;
		addr = 0;
	}
	if (mres && !IS_ENABLED(CONFIG_KASAN) &&
	    cache->spares < VCM_MMU_CACHE_SPARES) {
		cache->spare[cache->spares++] = mres;
		mres = NULL;
	}
	local_unlock(&mmu->cache->lock);
	if (addr)
		gen_pool_free(mmu->pool, addr, nr_pages);
	kfree(mres);
}

/*
 * Gives back to the pool every range in @cache and frees its spares; its
 * CPU's local lock held, or nothing else able to touch it.
 */
static void vcm_mmu_cache_empty(struct vcm_mmu *mmu, struct vcm_mmu_cache *cache)
{
	unsigned long big = vcm_mmu_page_pages(mmu->orders[0]);
	int class;

	for (class = 0; class < VCM_MMU_CACHE_CLASSES; class++) {
		unsigned long nr_pages = class < VCM_MMU_CACHE_PAGES ?
					 class + 1 : big;

		while (cache->count[class])
			gen_pool_free(mmu->pool,
				      cache->addr[class][--cache->count[class]],
				      nr_pages);
	}
	while (cache->spares)
		kfree(cache->spare[--cache->spares]);
}

/* A cache's drain work, run on the cache's CPU. */
static void vcm_mmu_cache_drain(struct work_struct *work)
{
	struct vcm_mmu_cache *cache = container_of(work, struct vcm_mmu_cache,
						   drain);
	struct vcm_mmu *mmu = cache->mmu;

	local_lock(&mmu->cache->lock);
	vcm_mmu_cache_empty(mmu, this_cpu_ptr(mmu->cache));
	local_unlock(&mmu->cache->lock);
}

/*
 * Whether @cache holds a range or a spare: a look from another CPU, which
 * its own CPU may make wrong at once (a drain only needs the ranges
 * released before it started).
 */
static bool vcm_mmu_cache_used(const struct vcm_mmu_cache *cache)
{
	int class;

	/* Racy: only the cache's CPU changes its counts. */
	if (data_race(cache->spares))
		return true;
	for (class = 0; class < VCM_MMU_CACHE_CLASSES; class++) {
		/* Racy, as above. */
		if (data_race(cache->count[class]))
			return true;
	}
	return false;
}

/* Whether any CPU's cache of @mmu holds something. */
static bool vcm_mmu_caches_used(struct vcm_mmu *mmu)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (vcm_mmu_cache_used(per_cpu_ptr(mmu->cache, cpu)))
			return true;
	return false;
}

/* Empties every CPU's cache into the pool; may sleep. */
VISIBLE_IF_KUNIT void vcm_mmu_drain(struct vcm_mmu *mmu)
{
	unsigned int cpu;

	might_sleep();
	if (!vcm_mmu_caches_used(mmu))
		return;
	mutex_lock(&vcm_mmu_drain_lock);
	cpus_read_lock();
	cpumask_clear(&vcm_mmu_drain_cpus);
	for_each_possible_cpu(cpu) {
		struct vcm_mmu_cache *cache = per_cpu_ptr(mmu->cache, cpu);

		if (!cpu_online(cpu)) {
			vcm_mmu_cache_empty(mmu, cache);
		} else if (vcm_mmu_cache_used(cache)) {
			queue_work_on(cpu, mm_percpu_wq, &cache->drain);
			__cpumask_set_cpu(cpu, &vcm_mmu_drain_cpus);
		}
	}
	for_each_cpu(cpu, &vcm_mmu_drain_cpus)
		flush_work(&per_cpu_ptr(mmu->cache, cpu)->drain);
	cpus_read_unlock();
	mutex_unlock(&vcm_mmu_drain_lock);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_mmu_drain);

/*
 * Room for large pages if there is some, in the pool or in the caches;
 * else room for the size; else 0.
 */
static unsigned long vcm_mmu_pool_get(struct vcm_mmu *mmu,
				      unsigned long nr_pages)
{
	unsigned long align = vcm_mmu_res_align(mmu, nr_pages);
	unsigned long addr;

	addr = vcm_mmu_pool_alloc(mmu, nr_pages, align);
	if (!addr) {
		vcm_mmu_drain(mmu);
		addr = vcm_mmu_pool_alloc(mmu, nr_pages, align);
	}
	if (!addr && align > 1)
		addr = vcm_mmu_pool_alloc(mmu, nr_pages, 1);
	return addr;
}

static struct vcm_res *vcm_mmu_reserve(struct vcm *vcm, resource_size_t size,
				       unsigned int flags)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned long nr_pages = size >> PAGE_SHIFT;
	struct vcm_mmu_res *mres;
	unsigned long addr;

	/* genalloc counts the bits it searches for in an unsigned int. */
	if (nr_pages > UINT_MAX)
		return ERR_PTR(-ENOSPC);
	addr = vcm_mmu_cache_get(mmu, nr_pages, &mres);
	if (!mres) {
		mres = vcm_should_fail_alloc() ? NULL :
		       kzalloc(sizeof(*mres), GFP_KERNEL);
		if (!mres) {
			vcm_mmu_cache_put(mmu, addr, nr_pages, NULL);
			return ERR_PTR(-ENOMEM);
		}
	}
	if (!addr)
		addr = vcm_mmu_pool_get(mmu, nr_pages);
	if (!addr) {
		vcm_mmu_cache_put(mmu, 0, nr_pages, mres);
		return ERR_PTR(-ENOSPC);
	}
	/* A spare comes unbound and off every list, as a new one. */
	INIT_LIST_HEAD(&mres->node);
	mres->res.start = vcm->start +
			  ((dma_addr_t)(addr - mmu->pool_offset) << PAGE_SHIFT);
	return &mres->res;
}

/*
 * Claiming a given range
 * ======================
 *
 * gen_pool_fixed_alloc() claims the range at an offset from the start of
 * the chunk genalloc tries, and genalloc tries every chunk in turn (the
 * pool has one for each run of pages between holes): alone it would claim
 * the same offset in an earlier chunk.  vcm_mmu_claim_algo() lets it try
 * only the chunk holding the range's first page; a range that runs out of
 * its chunk, into a hole, fails there as one that meets a live
 * reservation does.
 *
 * A released range may wait in a CPU's cache (see "Range caches"), and is
 * allocated in the pool while it does.  So when the pool refuses the
 * range, every cache is drained into it and the claim is tried once more:
 * a range the caches held is then free, and one that is still refused is
 * reserved, or a hole.  With the caches empty the drain costs a look at
 * each CPU's counts.  A range given back by the end of a vcm_reserve_at()
 * reservation goes to the caches as any other.
 */
struct vcm_mmu_claim {
	unsigned long addr;	/* pool address of the range's first page */
};

static unsigned long vcm_mmu_claim_algo(unsigned long *map, unsigned long size,
					unsigned long start, unsigned int nr,
					void *data, struct gen_pool *pool,
					unsigned long start_addr)
{
	const struct vcm_mmu_claim *claim = data;
	struct genpool_data_fixed fixed;

	/* @size is the chunk's number of pages: the pool's order is 0. */
	if (claim->addr < start_addr || claim->addr - start_addr >= size)
		return size;
	fixed.offset = claim->addr - start_addr;
	/*
	 * From the chunk's start, also when genalloc tries again after
	 * racing another allocation: the range is at one place.
	 */
	return gen_pool_fixed_alloc(map, size, 0, nr, &fixed, pool, start_addr);
}

static struct vcm_res *vcm_mmu_reserve_at(struct vcm *vcm, dma_addr_t start,
					  resource_size_t size,
					  unsigned int flags)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	struct vcm_mmu_claim claim = { .addr = vcm_mmu_pool_addr(mmu, start) };
	unsigned long nr_pages = size >> PAGE_SHIFT;
	struct vcm_mmu_res *mres;
	unsigned long addr;

	/* genalloc counts the bits it searches for in an unsigned int. */
	if (nr_pages > UINT_MAX)
		return ERR_PTR(-ENOSPC);
	mres = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*mres), GFP_KERNEL);
	if (!mres)
		return ERR_PTR(-ENOMEM);
	addr = gen_pool_alloc_algo(mmu->pool, nr_pages, vcm_mmu_claim_algo, &claim);
	if (!addr) {
		vcm_mmu_drain(mmu);
		addr = gen_pool_alloc_algo(mmu->pool, nr_pages,
					   vcm_mmu_claim_algo, &claim);
	}
	if (!addr) {
		kfree(mres);
		return ERR_PTR(-EBUSY);
	}
	INIT_LIST_HEAD(&mres->node);
	mres->res.start = vcm->start +
			  ((dma_addr_t)(addr - mmu->pool_offset) << PAGE_SHIFT);
	return &mres->res;
}

static void vcm_mmu_unreserve(struct vcm_res *res)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);

	vcm_mmu_cache_put(mmu, vcm_mmu_pool_addr(mmu, res->start),
			  res->res_size >> PAGE_SHIFT, to_vcm_mmu_res(res));
}

/*
 * Memory in the MMU's page sizes, that its hardware reaches: below 4 GiB
 * if that is its limit; memory past a lower limit is given back.
 */
static struct vcm_phys *vcm_mmu_phys(struct vcm *vcm, resource_size_t size,
				     unsigned int flags)
{
	struct vcm_phys *phys;

	/* A limit at the last physical address is none: highmem is fine. */
	if (vcm->phys_max && vcm->phys_max <= U32_MAX &&
	    vcm->phys_max != (phys_addr_t)~(phys_addr_t)0)
		flags |= VCM_PHYS_32BIT;
	phys = vcm_phys_alloc(size, flags, to_vcm_mmu(vcm)->orders);
	if (!IS_ERR(phys) && !vcm_phys_reachable(vcm, phys)) {
		vcm_free(phys);
		return ERR_PTR(-ENOMEM);
	}
	return phys;
}

/* vcm_phys_walk() callbacks for a backend that maps page by page. */
static int vcm_mmu_map_page(dma_addr_t vaddr, phys_addr_t paddr,
			    unsigned int order, void *priv)
{
	struct vcm_mmu *mmu = priv;

	return mmu->driver->activate_page(mmu, vaddr, paddr, order);
}

static int vcm_mmu_unmap_page(dma_addr_t vaddr, phys_addr_t paddr,
			      unsigned int order, void *priv)
{
	struct vcm_mmu *mmu = priv;

	mmu->driver->deactivate_page(mmu, vaddr, paddr, order);
	return 0;
}

/* What protects the bound list, the active flag and the mapping operations. */
static void vcm_mmu_assert_locked(struct vcm_mmu *mmu)
{
	if (mmu->driver->may_sleep)
		lockdep_assert_held(&mmu->vcm.lock);
	else
		lockdep_assert_held(&mmu->lock);
}

/* Maps @res to @phys; on failure nothing of it stays mapped. */
static int vcm_mmu_map(struct vcm_mmu *mmu, struct vcm_res *res,
		       struct vcm_phys *phys)
{
	vcm_mmu_assert_locked(mmu);
	if (mmu->driver->activate)
		return mmu->driver->activate(res, phys);
	return __vcm_phys_walk(res->start, phys, mmu->orders,
			       vcm_mmu_map_page, vcm_mmu_unmap_page, mmu);
}

static void vcm_mmu_unmap(struct vcm_mmu *mmu, struct vcm_res *res,
			  struct vcm_phys *phys)
{
	vcm_mmu_assert_locked(mmu);
	if (mmu->driver->deactivate)
		mmu->driver->deactivate(res, phys);
	else
		__vcm_phys_walk(res->start, phys, mmu->orders,
				vcm_mmu_unmap_page, NULL, mmu);
}

/*
 * Each operation comes in two: __vcm_mmu_*() does the work under whatever
 * protects the context (see "Locking"), vcm_mmu_*() takes mmu->lock around
 * it, and vcm_mmu_sleeping_*() only checks that the context's mutex is
 * held.
 */
static int __vcm_mmu_bind(struct vcm_mmu *mmu, struct vcm_res *res,
			  struct vcm_phys *phys)
{
	int ret = 0;

	if (mmu->active)
		ret = vcm_mmu_map(mmu, res, phys);
	if (!ret)
		list_add_tail(&to_vcm_mmu_res(res)->node, &mmu->bound);
	return ret;
}

static void __vcm_mmu_unbind(struct vcm_mmu *mmu, struct vcm_res *res)
{
	if (mmu->active)
		vcm_mmu_unmap(mmu, res, res->phys);
	list_del_init(&to_vcm_mmu_res(res)->node);
}

/*
 * Maps every bound reservation, then enables the hardware; on failure
 * unmaps those it mapped.
 */
static int __vcm_mmu_activate(struct vcm_mmu *mmu)
{
	struct vcm_mmu_res *mres;
	int ret = 0;

	list_for_each_entry(mres, &mmu->bound, node) {
		ret = vcm_mmu_map(mmu, &mres->res, mres->res.phys);
		if (ret)
			break;
	}
	if (!ret && mmu->driver->enable)
		ret = mmu->driver->enable(mmu);
	if (ret) {
		/*
		 * Those before the one that failed, newest first: after a
		 * failed enable the loop above ended at the list head, so
		 * that is all of them.
		 */
		list_for_each_entry_continue_reverse(mres, &mmu->bound, node)
			vcm_mmu_unmap(mmu, &mres->res, mres->res.phys);
	} else {
		mmu->active = true;
	}
	return ret;
}

static void __vcm_mmu_deactivate(struct vcm_mmu *mmu)
{
	struct vcm_mmu_res *mres;

	mmu->active = false;
	if (mmu->driver->disable)
		mmu->driver->disable(mmu);
	list_for_each_entry_reverse(mres, &mmu->bound, node)
		vcm_mmu_unmap(mmu, &mres->res, mres->res.phys);
}

static int vcm_mmu_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&mmu->lock, flags);
	ret = __vcm_mmu_bind(mmu, res, phys);
	spin_unlock_irqrestore(&mmu->lock, flags);
	return ret;
}

static void vcm_mmu_unbind(struct vcm_res *res)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);
	unsigned long flags;

	spin_lock_irqsave(&mmu->lock, flags);
	__vcm_mmu_unbind(mmu, res);
	spin_unlock_irqrestore(&mmu->lock, flags);
}

static int vcm_mmu_activate(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&mmu->lock, flags);
	ret = __vcm_mmu_activate(mmu);
	spin_unlock_irqrestore(&mmu->lock, flags);
	return ret;
}

static void vcm_mmu_deactivate(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned long flags;

	spin_lock_irqsave(&mmu->lock, flags);
	__vcm_mmu_deactivate(mmu);
	spin_unlock_irqrestore(&mmu->lock, flags);
}

/* The context is dead and disabled: the backend lets go of the hardware. */
static void vcm_mmu_detach(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned long flags;

	if (!mmu->driver->detach)
		return;
	spin_lock_irqsave(&mmu->lock, flags);
	mmu->driver->detach(mmu);
	spin_unlock_irqrestore(&mmu->lock, flags);
}

static int vcm_mmu_sleeping_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);

	vcm_mmu_assert_locked(mmu);
	return __vcm_mmu_bind(mmu, res, phys);
}

static void vcm_mmu_sleeping_unbind(struct vcm_res *res)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);

	vcm_mmu_assert_locked(mmu);
	__vcm_mmu_unbind(mmu, res);
}

static int vcm_mmu_sleeping_activate(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);

	vcm_mmu_assert_locked(mmu);
	return __vcm_mmu_activate(mmu);
}

static void vcm_mmu_sleeping_deactivate(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);

	vcm_mmu_assert_locked(mmu);
	__vcm_mmu_deactivate(mmu);
}

static void vcm_mmu_sleeping_detach(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);

	vcm_mmu_assert_locked(mmu);
	if (mmu->driver->detach)
		mmu->driver->detach(mmu);
}

static void vcm_mmu_cleanup(struct vcm *vcm)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned int cpu;
	bool live;

	/* No reservation is left to use the caches, nor a drain. */
	for_each_possible_cpu(cpu)
		vcm_mmu_cache_empty(mmu, per_cpu_ptr(mmu->cache, cpu));
	free_percpu(mmu->cache);
	mmu->cache = NULL;
	live = gen_pool_avail(mmu->pool) != gen_pool_size(mmu->pool);

	/*
	 * The core calls this after the last reservation ended, so this is a
	 * backend bug.  gen_pool_destroy() would BUG() on the addresses still
	 * allocated, so the pool is leaked instead.
	 */
	if (!VCM_WARN_ONCE(live, "vcm: freeing a context with live reservations\n"))
		gen_pool_destroy(mmu->pool);
	mmu->pool = NULL;

	if (mmu->driver->cleanup)
		mmu->driver->cleanup(mmu);
	else
		kfree(mmu);
}

/*
 * debugfs: the pool's size and free bytes (cached ranges count as
 * allocated), the ranges cached, then the backend's summary.
 */
static void vcm_mmu_show(struct vcm *vcm, struct seq_file *m)
{
	struct vcm_mmu *mmu = to_vcm_mmu(vcm);
	unsigned long cached = 0;
	unsigned int cpu;
	int class;

	for_each_possible_cpu(cpu) {
		struct vcm_mmu_cache *cache = per_cpu_ptr(mmu->cache, cpu);

		for (class = 0; class < VCM_MMU_CACHE_CLASSES; class++)
			/* A snapshot: its CPU may be using the cache. */
			cached += data_race(cache->count[class]);
	}
	seq_printf(m, " pool_bytes=%llu pool_free=%llu cached_ranges=%lu",
		   (u64)gen_pool_size(mmu->pool) << PAGE_SHIFT,
		   (u64)gen_pool_avail(mmu->pool) << PAGE_SHIFT, cached);
	if (mmu->driver->show)
		mmu->driver->show(mmu, m);
}

static const struct vcm_driver vcm_mmu_driver = {
	.cleanup	= vcm_mmu_cleanup,
	.detach		= vcm_mmu_detach,
	.res		= vcm_mmu_reserve,
	.res_at		= vcm_mmu_reserve_at,
	.phys		= vcm_mmu_phys,
	.unreserve	= vcm_mmu_unreserve,
	.bind		= vcm_mmu_bind,
	.unbind		= vcm_mmu_unbind,
	.activate	= vcm_mmu_activate,
	.deactivate	= vcm_mmu_deactivate,
	.show		= vcm_mmu_show,
};

static const struct vcm_driver vcm_mmu_sleeping_driver = {
	.cleanup	= vcm_mmu_cleanup,
	.detach		= vcm_mmu_sleeping_detach,
	.res		= vcm_mmu_reserve,
	.res_at		= vcm_mmu_reserve_at,
	.phys		= vcm_mmu_phys,
	.unreserve	= vcm_mmu_unreserve,
	.bind		= vcm_mmu_sleeping_bind,
	.unbind		= vcm_mmu_sleeping_unbind,
	.activate	= vcm_mmu_sleeping_activate,
	.deactivate	= vcm_mmu_sleeping_deactivate,
	.show		= vcm_mmu_show,
};

/**
 * vcm_mmu_walk() - Divide a binding of a wrapper context into pages.
 * @res: A reservation of a wrapper context, being mapped or unmapped.
 * @phys: The memory bound to it.
 * @callback: Called for each page, as by vcm_phys_walk().
 * @recovery: Called for the pages done when @callback fails, or NULL.
 * @priv: Passed to both.
 *
 * vcm_phys_walk() from @res->start with the MMU's orders, for a backend's
 * whole-reservation @activate and @deactivate.  The wrapper checked the
 * orders when the context was made and the memory when it was bound, so
 * this does not check them again under the lock.
 *
 * Context: With the context's lock held, as @activate and @deactivate are.
 * Return: 0, or the error of @callback.
 */
int vcm_mmu_walk(struct vcm_res *res, const struct vcm_phys *phys,
		 vcm_phys_walk_fn *callback, vcm_phys_walk_fn *recovery,
		 void *priv)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);

	vcm_mmu_assert_locked(mmu);
	return __vcm_phys_walk(res->start, phys, mmu->orders, callback,
			       recovery, priv);
}
EXPORT_SYMBOL_GPL(vcm_mmu_walk);

/**
 * vcm_to_mmu() - The MMU wrapper's context of a VCM context.
 * @vcm: A context.
 *
 * Lets a backend built on the wrapper check that a struct vcm it is handed
 * is one of the wrapper's, before it looks at its own driver in it.
 *
 * Context: Any context.
 * Return: the struct vcm_mmu embedding @vcm, or NULL if @vcm is NULL, an
 * error pointer, or a context of another backend.
 */
struct vcm_mmu *vcm_to_mmu(struct vcm *vcm)
{
	if (IS_ERR_OR_NULL(vcm))
		return NULL;
	if (vcm->driver != &vcm_mmu_driver && vcm->driver != &vcm_mmu_sleeping_driver)
		return NULL;
	return to_vcm_mmu(vcm);
}
EXPORT_SYMBOL_GPL(vcm_to_mmu);

/* Whether @driver can map and unmap: each pair complete, one at least. */
static bool vcm_mmu_driver_valid(const struct vcm_mmu_driver *driver)
{
	return driver &&
	       !driver->activate == !driver->deactivate &&
	       !driver->activate_page == !driver->deactivate_page &&
	       !driver->enable == !driver->disable &&
	       (driver->activate || driver->activate_page);
}

/* Whether @mmu's holes are page aligned, sorted, apart and inside it. */
static bool vcm_mmu_holes_valid(const struct vcm_mmu *mmu)
{
	resource_size_t next = 0, offset;
	unsigned int i;

	if (mmu->nr_holes && !mmu->holes)
		return false;
	for (i = 0; i < mmu->nr_holes; i++) {
		const struct vcm_mmu_hole *hole = &mmu->holes[i];

		offset = hole->start - mmu->vcm.start;
		if (!PAGE_ALIGNED(hole->start) || !PAGE_ALIGNED(hole->size) ||
		    !hole->size || hole->start < mmu->vcm.start || offset < next ||
		    offset >= mmu->vcm.size || hole->size > mmu->vcm.size - offset)
			return false;
		next = offset + hole->size;
	}
	return true;
}

/*
 * Whether genalloc can hold @nr_pages from a pool address of at most
 * @largest on, where @largest is also the largest alignment asked.  It
 * works in unsigned long: its bitmap's size in longs, a chunk's end and,
 * while searching, a bit index aligned up plus a count of bits (which may
 * reach twice the chunk's size) must not overflow.  Only a context of 2^31
 * pages or more where unsigned long is 32 bits (with LPAE's 64-bit
 * resource_size_t) comes near.
 */
VISIBLE_IF_KUNIT bool vcm_mmu_pool_fits(resource_size_t nr_pages,
					unsigned long largest)
{
	return largest <= ULONG_MAX / 2 && nr_pages <= ULONG_MAX / 2 - largest;
}
EXPORT_SYMBOL_IF_KUNIT(vcm_mmu_pool_fits);

/*
 * Gives the pool the context's pages less its holes, one chunk for each
 * run of pages between them, at the pool addresses "Pool addresses" says.
 */
static int vcm_mmu_pool_fill(struct vcm_mmu *mmu)
{
	resource_size_t nr_pages = mmu->vcm.size >> PAGE_SHIFT;
	resource_size_t first, next = 0;
	unsigned int i;
	int ret;

	for (i = 0; i <= mmu->nr_holes; i++) {
		first = i < mmu->nr_holes ?
			(mmu->holes[i].start - mmu->vcm.start) >> PAGE_SHIFT : nr_pages;
		if (first > next) {
			ret = vcm_should_fail_alloc() ? -ENOMEM :
			      gen_pool_add(mmu->pool, mmu->pool_offset + next,
					   first - next, NUMA_NO_NODE);
			if (ret)
				return ret;
		}
		if (i < mmu->nr_holes)
			next = first + (mmu->holes[i].size >> PAGE_SHIFT);
	}
	return 0;
}

/**
 * vcm_mmu_init() - Check and initialise a context of the MMU wrapper.
 * @mmu: The context, with @vcm.start, @vcm.size and @driver set, and
 *	 @vcm.name, @orders and @holes if the backend likes.
 *
 * Checks the driver (see struct vcm_mmu_driver), the orders and the holes,
 * sets up the address pool over [@vcm.start, @vcm.start + @vcm.size) less
 * the holes, and calls vcm_init().  The pool counts pages in unsigned
 * long: a context of ULONG_MAX / 2 pages or more (possible only with a
 * 64-bit resource_size_t and a 32-bit unsigned long) is refused.  On
 * failure nothing stays allocated and @mmu is the caller's again.
 *
 * Context: Process context; may sleep.
 * Return: &@mmu->vcm, or ERR_PTR(-EINVAL) for a bad @mmu, driver, orders
 * (these three also warn once), holes or range, or -ENOMEM.
 */
struct vcm *vcm_mmu_init(struct vcm_mmu *mmu)
{
	const struct vcm_mmu_driver *driver;
	unsigned long largest, offset;
	const unsigned char *order;
	resource_size_t nr_pages;
	unsigned int cpu;
	struct vcm *vcm;
	int ret;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(mmu)))
		return ERR_PTR(-EINVAL);
	driver = mmu->driver;
	if (VCM_WARN_ON_ONCE(!vcm_mmu_driver_valid(driver)))
		return ERR_PTR(-EINVAL);
	if (!mmu->orders)
		mmu->orders = driver->orders;
	if (!vcm_orders_valid(mmu->orders))
		return ERR_PTR(-EINVAL);
	if (!vcm_mmu_holes_valid(mmu)) {
		pr_err("context at %pad of size %pa: holes not sorted, apart, page aligned and inside it\n",
		       &mmu->vcm.start, &mmu->vcm.size);
		return ERR_PTR(-EINVAL);
	}

	for (order = mmu->orders; !vcm_mmu_page_pages(*order); order++)
		;
	largest = vcm_mmu_page_pages(*order);
	offset = (unsigned long)(mmu->vcm.start >> PAGE_SHIFT) & (largest - 1) ?: largest;
	nr_pages = mmu->vcm.size >> PAGE_SHIFT;
	if (!vcm_mmu_pool_fits(nr_pages, largest)) {
		pr_err("context at %pad of size %pa is too large for its address pool\n",
		       &mmu->vcm.start, &mmu->vcm.size);
		return ERR_PTR(-EINVAL);
	}

	mmu->pool_offset = offset;
	mmu->pool = vcm_should_fail_alloc() ? NULL :
		    gen_pool_create(0, NUMA_NO_NODE);
	if (!mmu->pool)
		return ERR_PTR(-ENOMEM);
	ret = vcm_mmu_pool_fill(mmu);
	if (ret)
		goto out_destroy_pool;
	mmu->cache = vcm_should_fail_alloc() ? NULL :
		     alloc_percpu(struct vcm_mmu_cache);
	if (!mmu->cache) {
		ret = -ENOMEM;
		goto out_destroy_pool;
	}
	for_each_possible_cpu(cpu) {
		struct vcm_mmu_cache *cache = per_cpu_ptr(mmu->cache, cpu);

		local_lock_init(&cache->lock);
		INIT_WORK(&cache->drain, vcm_mmu_cache_drain);
		cache->mmu = mmu;
	}

	spin_lock_init(&mmu->lock);
	INIT_LIST_HEAD(&mmu->bound);
	mmu->active = false;
	mmu->vcm.driver = driver->may_sleep ? &vcm_mmu_sleeping_driver :
					      &vcm_mmu_driver;
	vcm = vcm_init(&mmu->vcm);
	if (IS_ERR(vcm)) {
		ret = PTR_ERR(vcm);
		goto out_destroy_pool;
	}
	return vcm;

out_destroy_pool:
	free_percpu(mmu->cache);
	mmu->cache = NULL;
	gen_pool_destroy(mmu->pool);
	mmu->pool = NULL;
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vcm_mmu_init);
