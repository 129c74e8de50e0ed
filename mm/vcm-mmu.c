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
 * sizes over and over (buffers of a pipeline, per-frame mappings), in
 * bursts, in any order and on any CPU, so released ranges of each small
 * size are kept for the next reservation of that size, as iova.c keeps
 * them (Bonwick's magazines): of 1 to VCM_MMU_CACHE_PAGES pages exactly,
 * and of the largest page of the MMU if that is larger.  Only a range
 * aligned as a new one would be is kept, so that a reservation from the
 * cache maps with pages as large; and when genalloc has no room so
 * aligned, the caches are drained into it before a less aligned range is
 * taken.
 *
 * Each CPU has, per size, two magazines (arrays of VCM_MMU_MAG_SIZE
 * ranges): it reserves from and releases into the loaded one, swapping it
 * with the previous one when that is fuller (reserving) or emptier
 * (releasing).  When both are full, a release moves the previous one to
 * the context's depot and takes a new, empty one; when both are empty, a
 * reservation takes a full one from the depot and frees its empty one.  A
 * burst as deep as the two magazines stays on its CPU; deeper ones, and
 * ranges released on another CPU than the one that reserved them, go
 * through the depot, a magazine at a time.  The depot keeps at most
 * VCM_MMU_DEPOT_MAGS magazines of a size: a full magazine past that goes
 * back to the pool, so the memory the caches hold is bounded (by
 * vcm_mmu_cache_bytes()).  Magazines are allocated when a release needs
 * one, with GFP_KERNEL, outside the cache's lock; if that fails, the range
 * goes back to the pool.  Released reservation structures are kept the
 * same way, in magazines of a class of their own (VCM_MMU_SPARES), so
 * that reserving from the cache allocates nothing; not with KASAN, which
 * should see a released reservation used again.
 *
 * What the caches do not hold comes from genalloc by next fit: the search
 * starts where the last range it gave ended and wraps round, so that it
 * does not scan the live reservations at the start of the bitmap each
 * time, and finds any free range there is.
 *
 * Only its own CPU touches its magazines, under a local lock (preemption
 * off, without PREEMPT_RT): reserving from a cache takes no atomic
 * operation and no barrier, which a spinlock would (it was a third of the
 * time of a reserve and release, measured by make bench).  The depot is
 * under its own spinlock, taken once per magazine.  A drain of the caches
 * is therefore work queued on mm_percpu_wq (which may run in reclaim) on
 * each online CPU whose cache holds something, and waited for, as
 * lru_add_drain_all() does; an offline CPU's cache, which nothing can
 * touch while the CPUs are held, is emptied in place; then the depot is
 * emptied.  A drain happens when genalloc has no range aligned as a
 * reservation needs, or refuses the range of a vcm_reserve_at() (see
 * "Claiming a given range"), and may sleep, as reserving may; with
 * nothing cached it costs a look at each CPU's counts.  The context's end
 * empties every cache and the depot in place: nothing else can reach them
 * by then.
 */
#define VCM_MMU_CACHE_PAGES	32
#define VCM_MMU_CACHE_CLASSES	(VCM_MMU_CACHE_PAGES + 1)
#define VCM_MMU_SPARES		VCM_MMU_CACHE_CLASSES	/* magazines of structures */
#define VCM_MMU_MAG_CLASSES	(VCM_MMU_SPARES + 1)
#define VCM_MMU_MAG_SIZE	63	/* a magazine is 64 words */
#define VCM_MMU_DEPOT_MAGS	16	/* full magazines of a class in the depot */

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

/*
 * Released ranges of one size, as pool addresses, or (class
 * VCM_MMU_SPARES) released reservation structures: @count of them on a
 * CPU, or, full, on the depot's list through @next.
 */
struct vcm_mmu_mag {
	union {
		unsigned long count;
		struct vcm_mmu_mag *next;
	};
	unsigned long item[VCM_MMU_MAG_SIZE];
};

struct vcm_mmu_cache {
	/* Protects the rest but @drain and @mmu; taken by its CPU only. */
	local_lock_t lock;
	struct vcm_mmu_mag *loaded[VCM_MMU_MAG_CLASSES];
	struct vcm_mmu_mag *prev[VCM_MMU_MAG_CLASSES];
	/* Ranges, structures in the magazines above; read racily. */
	unsigned int cached[2];
	/* Drains this cache on its CPU; under vcm_mmu_drain_lock. */
	struct work_struct drain;
	struct vcm_mmu *mmu;
};

/* The context's depot of full magazines, and where genalloc looks first. */
struct vcm_mmu_depot {
	/* Protects the lists and their counts. */
	spinlock_t lock;
	unsigned int count[VCM_MMU_MAG_CLASSES];
	struct vcm_mmu_mag *full[VCM_MMU_MAG_CLASSES];
	/* The sum of @count, read racily. */
	unsigned int total;
	/* The pool address after the last range genalloc gave; racy. */
	unsigned long next_fit;
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

struct vcm_mmu_fit {
	struct genpool_data_align align;
	unsigned long from;	/* pool address to look from first */
};

/*
 * genalloc's first fit of an aligned range in a chunk, from @fit->from if
 * the chunk holds it, then from the start.
 */
static unsigned long vcm_mmu_next_fit(unsigned long *map, unsigned long size,
				      unsigned long start, unsigned int nr,
				      void *data, struct gen_pool *pool,
				      unsigned long start_addr)
{
	struct vcm_mmu_fit *fit = data;
	unsigned long from = start, bit;

	if (fit->from >= start_addr && fit->from - start_addr < size)
		from = max(start, fit->from - start_addr);
	bit = gen_pool_first_fit_align(map, size, from, nr, &fit->align, pool,
				       start_addr);
	if (bit >= size && from > start)
		bit = gen_pool_first_fit_align(map, size, start, nr, &fit->align,
					       pool, start_addr);
	return bit;
}

/*
 * Next fit of @nr_pages aligned to @align pages: genalloc aligns pool
 * addresses, which aligns device addresses (see "Pool addresses").  It
 * looks from where the last range it gave ended, as iova.c does from its
 * last allocation, so that with thousands of reservations live it does
 * not scan the bitmap from the start each time; it wraps round, so it
 * finds any range there is.
 */
static unsigned long vcm_mmu_pool_alloc(struct vcm_mmu *mmu,
					unsigned long nr_pages,
					unsigned long align)
{
	struct vcm_mmu_fit fit = {
		.align = { .align = align },
		.from = READ_ONCE(mmu->depot->next_fit),
	};
	unsigned long addr;

	addr = gen_pool_alloc_algo(mmu->pool, nr_pages, vcm_mmu_next_fit, &fit);
	if (addr)
		WRITE_ONCE(mmu->depot->next_fit, addr + nr_pages);
	return addr;
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

/* The number of pages of the ranges of cache class @class. */
static unsigned long vcm_mmu_class_pages(const struct vcm_mmu *mmu, int class)
{
	return class < VCM_MMU_CACHE_PAGES ? class + 1 :
	       vcm_mmu_page_pages(mmu->orders[0]);
}

/*
 * Gives back the first @count items of @mag, of @class (ranges to the
 * pool, structures to the slab), and frees it.
 */
static void vcm_mmu_mag_free(struct vcm_mmu *mmu, struct vcm_mmu_mag *mag,
			     int class, unsigned long count)
{
	unsigned long nr_pages = vcm_mmu_class_pages(mmu, class);

	while (count--) {
		if (class == VCM_MMU_SPARES)
			kfree((struct vcm_mmu_res *)mag->item[count]);
		else
			gen_pool_free(mmu->pool, mag->item[count], nr_pages);
	}
	kfree(mag);
}

/* Takes a full magazine of @class from the depot, or NULL. */
static struct vcm_mmu_mag *vcm_mmu_depot_get(struct vcm_mmu *mmu, int class)
{
	struct vcm_mmu_depot *depot = mmu->depot;
	struct vcm_mmu_mag *mag;

	/* Racy: a miss only sends the reservation to the pool. */
	if (!data_race(depot->count[class]))
		return NULL;
	spin_lock(&depot->lock);
	mag = depot->full[class];
	if (mag) {
		depot->full[class] = mag->next;
		depot->count[class]--;
		depot->total--;
		mag->count = VCM_MMU_MAG_SIZE;
	}
	spin_unlock(&depot->lock);
	return mag;
}

/* Puts the full magazine @mag of @class on the depot, if it has room. */
static bool vcm_mmu_depot_put(struct vcm_mmu *mmu, int class,
			      struct vcm_mmu_mag *mag)
{
	struct vcm_mmu_depot *depot = mmu->depot;
	bool kept = false;

	spin_lock(&depot->lock);
	if (depot->count[class] < VCM_MMU_DEPOT_MAGS) {
		mag->next = depot->full[class];
		depot->full[class] = mag;
		depot->count[class]++;
		depot->total++;
		kept = true;
	}
	spin_unlock(&depot->lock);
	return kept;
}

/*
 * The fast paths of vcm_mmu_mag_pop() and vcm_mmu_mag_push(), inlined
 * where a reservation is made and released: the loaded magazine has an
 * item, or room for one.  Each function call and return is a measurable
 * share of a cached reservation (see "Range caches"), so the rest, which
 * swaps magazines or goes to the depot, is called only when these fail.
 * An item is never 0: pool addresses start at @pool_offset, above 0.
 */
static __always_inline unsigned long vcm_mmu_mag_take(struct vcm_mmu_cache *cache,
						      int class)
{
	struct vcm_mmu_mag *mag = cache->loaded[class];

	if (unlikely(!mag || !mag->count))
		return 0;
	cache->cached[class == VCM_MMU_SPARES]--;
	return mag->item[--mag->count];
}

static __always_inline bool vcm_mmu_mag_add(struct vcm_mmu_cache *cache,
					    int class, unsigned long item)
{
	struct vcm_mmu_mag *mag = cache->loaded[class];

	if (unlikely(!mag || mag->count == VCM_MMU_MAG_SIZE))
		return false;
	mag->item[mag->count++] = item;
	cache->cached[class == VCM_MMU_SPARES]++;
	return true;
}

/*
 * Takes an item of @class from @cache's magazines, or from the depot, or
 * returns 0; the cache's lock held.  An empty magazine the depot's full
 * one replaces is returned in @unused.
 */
static noinline unsigned long vcm_mmu_mag_pop(struct vcm_mmu *mmu,
					      struct vcm_mmu_cache *cache,
					      int class,
					      struct vcm_mmu_mag **unused)
{
	struct vcm_mmu_mag *mag = cache->loaded[class];

	if (!mag || !mag->count) {
		if (cache->prev[class] && cache->prev[class]->count) {
			swap(cache->loaded[class], cache->prev[class]);
		} else {
			mag = vcm_mmu_depot_get(mmu, class);
			if (!mag)
				return 0;
			*unused = cache->loaded[class];
			cache->loaded[class] = mag;
			cache->cached[class == VCM_MMU_SPARES] += VCM_MMU_MAG_SIZE;
		}
		mag = cache->loaded[class];
	}
	cache->cached[class == VCM_MMU_SPARES]--;
	return mag->item[--mag->count];
}

/*
 * Keeps @item of @class in @cache's magazines; the cache's lock held.
 * Returns false if that needs an empty magazine and @empty holds none: the
 * caller allocates one and tries again.  A full magazine the depot has no
 * room for is returned in @overflow.
 */
static noinline bool vcm_mmu_mag_push(struct vcm_mmu *mmu,
				      struct vcm_mmu_cache *cache,
			     int class, unsigned long item,
			     struct vcm_mmu_mag **empty,
			     struct vcm_mmu_mag **overflow)
{
	struct vcm_mmu_mag *mag = cache->loaded[class];
	struct vcm_mmu_mag *prev = cache->prev[class];

	if (!mag || mag->count == VCM_MMU_MAG_SIZE) {
		if (prev && prev->count < VCM_MMU_MAG_SIZE) {
			swap(cache->loaded[class], cache->prev[class]);
		} else {
			if (!*empty)
				return false;
			/* The previous one, full, to the depot or back. */
			if (prev) {
				cache->cached[class == VCM_MMU_SPARES] -= VCM_MMU_MAG_SIZE;
				if (!vcm_mmu_depot_put(mmu, class, prev))
					*overflow = prev;
			}
			cache->prev[class] = mag;
			cache->loaded[class] = *empty;
			(*empty)->count = 0;
			*empty = NULL;
		}
		mag = cache->loaded[class];
	}
	mag->item[mag->count++] = item;
	cache->cached[class == VCM_MMU_SPARES]++;
	return true;
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
	struct vcm_mmu_mag *unused = NULL, *unused_spares = NULL;
	struct vcm_mmu_cache *cache;
	unsigned long addr = 0, spare;

	local_lock(&mmu->cache->lock);
	cache = this_cpu_ptr(mmu->cache);
	if (class >= 0) {
		addr = vcm_mmu_mag_take(cache, class);
		if (!addr)
			addr = vcm_mmu_mag_pop(mmu, cache, class, &unused);
	}
	spare = vcm_mmu_mag_take(cache, VCM_MMU_SPARES);
	if (!spare)
		spare = vcm_mmu_mag_pop(mmu, cache, VCM_MMU_SPARES, &unused_spares);
	local_unlock(&mmu->cache->lock);
	if (unlikely(unused || unused_spares)) {
		kfree(unused);
		kfree(unused_spares);
	}
	*mres = (struct vcm_mmu_res *)spare;
	return addr;
}

/*
 * Keeps @item of @class in this CPU's magazines, allocating a magazine if
 * it needs one; false if it could not.
 */
static bool vcm_mmu_cache_keep(struct vcm_mmu *mmu, int class,
			       unsigned long item)
{
	struct vcm_mmu_mag *empty = NULL, *overflow = NULL;
	bool kept;

	for (;;) {
		local_lock(&mmu->cache->lock);
		kept = vcm_mmu_mag_push(mmu, this_cpu_ptr(mmu->cache), class,
					item, &empty, &overflow);
		local_unlock(&mmu->cache->lock);
		if (kept)
			break;
		/* A new magazine, allocated where it may sleep. */
		empty = vcm_should_fail_alloc() ? NULL :
			kmalloc(sizeof(*empty), GFP_KERNEL);
		if (!empty)
			break;
	}
	/* Another CPU's magazines, after a migration, may not have needed it. */
	kfree(empty);
	if (overflow)
		vcm_mmu_mag_free(mmu, overflow, class, VCM_MMU_MAG_SIZE);
	return kept;
}

/*
 * What vcm_mmu_cache_put() could not keep with the magazines it had: the
 * range at @addr (0 for none) and the structure @mres (NULL for none),
 * each kept with a new magazine if @keep_addr or @keep_mres says it may
 * be, else given back.
 */
static noinline void vcm_mmu_cache_put_rest(struct vcm_mmu *mmu, int class,
					    unsigned long addr,
					    unsigned long nr_pages,
					    bool keep_addr,
					    struct vcm_mmu_res *mres,
					    bool keep_mres)
{
	if (keep_addr && vcm_mmu_cache_keep(mmu, class, addr))
		addr = 0;
	if (keep_mres && vcm_mmu_cache_keep(mmu, VCM_MMU_SPARES, (unsigned long)mres))
		mres = NULL;
	if (addr)
		gen_pool_free(mmu->pool, addr, nr_pages);
	kfree(mres);
}

/*
 * Keeps in this CPU's cache the range of @nr_pages at pool address @addr,
 * if it is as aligned as a new one, and the structure @mres (which may be
 * NULL); returns or frees what it does not keep.  Inlined: it is most of
 * a release (see vcm_mmu_mag_take()).
 */
static __always_inline void vcm_mmu_cache_put(struct vcm_mmu *mmu,
					      unsigned long addr,
					      unsigned long nr_pages,
					      struct vcm_mmu_res *mres)
{
	int class = vcm_mmu_cache_class(mmu, nr_pages);
	struct vcm_mmu_mag *none = NULL, *overflow = NULL;
	struct vcm_mmu_cache *cache;
	bool keep_mres = mres && !IS_ENABLED(CONFIG_KASAN);
	bool keep_addr = addr && class >= 0 &&
			 IS_ALIGNED(addr, vcm_mmu_res_align(mmu, nr_pages));

	/* Without a new magazine (so without an overflow) if it can. */
	local_lock(&mmu->cache->lock);
	cache = this_cpu_ptr(mmu->cache);
	if (keep_addr &&
	    (vcm_mmu_mag_add(cache, class, addr) ||
	     vcm_mmu_mag_push(mmu, cache, class, addr, &none, &overflow))) {
		keep_addr = false;
		addr = 0;
	}
	if (keep_mres &&
	    (vcm_mmu_mag_add(cache, VCM_MMU_SPARES, (unsigned long)mres) ||
	     vcm_mmu_mag_push(mmu, cache, VCM_MMU_SPARES, (unsigned long)mres,
			      &none, &overflow))) {
		keep_mres = false;
		mres = NULL;
	}
	local_unlock(&mmu->cache->lock);
	if (likely(!addr && !mres))
		return;
	vcm_mmu_cache_put_rest(mmu, class, addr, nr_pages, keep_addr, mres,
			       keep_mres);
}

/*
 * Gives back every item in @cache and frees its magazines; its CPU's
 * local lock held, or nothing else able to touch it.
 */
static void vcm_mmu_cache_empty(struct vcm_mmu *mmu, struct vcm_mmu_cache *cache)
{
	int class;

	for (class = 0; class < VCM_MMU_MAG_CLASSES; class++) {
		if (cache->loaded[class])
			vcm_mmu_mag_free(mmu, cache->loaded[class], class,
					 cache->loaded[class]->count);
		if (cache->prev[class])
			vcm_mmu_mag_free(mmu, cache->prev[class], class,
					 cache->prev[class]->count);
		cache->loaded[class] = NULL;
		cache->prev[class] = NULL;
	}
	cache->cached[0] = 0;
	cache->cached[1] = 0;
}

/* Gives back every item in the depot of @mmu. */
static void vcm_mmu_depot_empty(struct vcm_mmu *mmu)
{
	struct vcm_mmu_depot *depot = mmu->depot;
	struct vcm_mmu_mag *list[VCM_MMU_MAG_CLASSES], *mag;
	int class;

	spin_lock(&depot->lock);
	for (class = 0; class < VCM_MMU_MAG_CLASSES; class++) {
		list[class] = depot->full[class];
		depot->full[class] = NULL;
		depot->count[class] = 0;
	}
	depot->total = 0;
	spin_unlock(&depot->lock);
	for (class = 0; class < VCM_MMU_MAG_CLASSES; class++) {
		while (list[class]) {
			mag = list[class];
			list[class] = mag->next;
			vcm_mmu_mag_free(mmu, mag, class, VCM_MMU_MAG_SIZE);
		}
	}
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
	/* Racy: only the cache's CPU changes its counts. */
	return data_race(cache->cached[0]) || data_race(cache->cached[1]);
}

/* Whether the depot or any CPU's cache of @mmu holds something. */
static bool vcm_mmu_caches_used(struct vcm_mmu *mmu)
{
	unsigned int cpu;

	/* Racy, as above: the depot is read again under its lock. */
	if (data_race(mmu->depot->total))
		return true;
	for_each_possible_cpu(cpu)
		if (vcm_mmu_cache_used(per_cpu_ptr(mmu->cache, cpu)))
			return true;
	return false;
}

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * The bytes of memory the range caches of @mmu hold: magazines and the
 * reservation structures in them.  A snapshot, for statistics.
 */
VISIBLE_IF_KUNIT size_t vcm_mmu_cache_bytes(struct vcm_mmu *mmu)
{
	size_t mags, spares;
	unsigned int cpu;
	int class;

	/* Racy: a snapshot of counts and of whether pointers are set. */
	mags = data_race(mmu->depot->total);
	/* Racy, as above. */
	spares = data_race(mmu->depot->count[VCM_MMU_SPARES]) * VCM_MMU_MAG_SIZE;
	for_each_possible_cpu(cpu) {
		struct vcm_mmu_cache *cache = per_cpu_ptr(mmu->cache, cpu);

		for (class = 0; class < VCM_MMU_MAG_CLASSES; class++) {
			/* Racy, as above. */
			mags += !!data_race(cache->loaded[class]);
			/* Racy, as above. */
			mags += !!data_race(cache->prev[class]);
		}
		/* Racy, as above. */
		spares += data_race(cache->cached[1]);
	}
	return mags * sizeof(struct vcm_mmu_mag) +
	       spares * sizeof(struct vcm_mmu_res);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_mmu_cache_bytes);
#endif

/* Empties every CPU's cache and the depot into the pool; may sleep. */
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
	vcm_mmu_depot_empty(mmu);
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
	vcm_mmu_depot_empty(mmu);
	kfree(mmu->depot);
	mmu->depot = NULL;
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

	for (class = 0; class < VCM_MMU_SPARES; class++)
		/* A snapshot: the CPUs may be using their caches and the depot. */
		cached += data_race(mmu->depot->count[class]) * VCM_MMU_MAG_SIZE;
	for_each_possible_cpu(cpu)
		/* Racy, as above. */
		cached += data_race(per_cpu_ptr(mmu->cache, cpu)->cached[0]);
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
 * vcm_mmu_walk_runs() - Divide a binding of a wrapper context into runs.
 * @res: A reservation of a wrapper context, being mapped or unmapped.
 * @phys: The memory bound to it.
 * @callback: Called for each run of pages, as by vcm_phys_walk_runs().
 * @recovery: Called for the runs done when @callback fails, or NULL.
 * @priv: Passed to both.
 *
 * vcm_mmu_walk() in runs: for a backend that writes a run of entries in
 * one loop (see "Runs of pages" in mm/vcm-phys.c).
 *
 * Context: With the context's lock held, as @activate and @deactivate are.
 * Return: 0, or the error of @callback.
 */
int vcm_mmu_walk_runs(struct vcm_res *res, const struct vcm_phys *phys,
		      vcm_phys_run_fn *callback, vcm_phys_run_fn *recovery,
		      void *priv)
{
	struct vcm_mmu *mmu = to_vcm_mmu(res->vcm);

	vcm_mmu_assert_locked(mmu);
	return __vcm_phys_walk_runs(res->start, phys, mmu->orders, callback,
				    recovery, priv);
}
EXPORT_SYMBOL_GPL(vcm_mmu_walk_runs);

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
	mmu->cache = NULL;
	mmu->depot = vcm_should_fail_alloc() ? NULL :
		     kzalloc(sizeof(*mmu->depot), GFP_KERNEL);
	if (mmu->depot)
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
	spin_lock_init(&mmu->depot->lock);

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
	kfree(mmu->depot);
	mmu->depot = NULL;
	gen_pool_destroy(mmu->pool);
	mmu->pool = NULL;
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vcm_mmu_init);
