/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM): the backend API.
 *
 * A backend (the driver of one kind of IOMMU) embeds a struct vcm in its
 * own context structure, fills in the address range and the operations,
 * and calls vcm_init().  The core validates every call before it reaches
 * the backend, keeps the reservation ownership and activation counts, and
 * serialises the operations of one context as the table below says.
 */
#ifndef _LINUX_VCM_DRV_H
#define _LINUX_VCM_DRV_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/vcm.h>

struct gen_pool;
struct page;
struct seq_file;
struct vcm_mmu_cache;
struct vcm_mmu_depot;

/**
 * struct vcm - a VCM context: one device address space.
 * @start:	first device address of the context; read only.
 * @size:	size of the context in bytes; read only.
 * @driver:	the backend's operations; read only.
 * @name:	what the context is for, shown in debugfs; optional, read
 *		only.  It must stay valid until the context is freed, which
 *		may be after the device it names is gone.
 * @lock:	serialises binding, unbinding, activation and deactivation
 *		in this context; internal.
 * @activations: number of vcm_activate() calls not yet balanced by
 *		vcm_deactivate(); protected by @lock; internal.
 * @users:	how many hold the context: its creator until vcm_destroy(),
 *		each activation, and, once the context is dead, one that
 *		stands for all its reservations while any is left.  The
 *		context is freed when it drops to 0; internal.
 * @live:	per CPU, the reservations made on that CPU minus those
 *		released on it while the context is live.  One CPU's count
 *		can go below 0; their sum cannot; internal.
 * @dead_res:	the number of reservations left once the context is dead,
 *		plus a large bias until vcm_destroy() has added up @live;
 *		internal.
 * @dead:	vcm_destroy() was called; written under @lock, read by
 *		reserve and release with preemption disabled; internal.
 * @reusable:	reservations that vcm_map() may reuse (VCM_MAP_REUSE);
 *		protected by @lock; internal.
 * @bound:	the bound reservations, for debugfs; protected by @lock;
 *		internal.
 * @node:	entry in the list of all contexts; internal.
 * @fault_handler: the driver's handler of the context's faults, or NULL;
 *		set while the context is inactive; internal.
 * @fault_priv:	what @fault_handler is given; internal.
 * @coherent:	the device sees the CPU caches: memory needs no cache
 *		maintenance for it; set by the backend, read only.
 * @phys_max:	the last physical address the hardware can reach, or 0 for
 *		any: vcm_bind() refuses memory past it; set by the backend,
 *		read only.
 * @res_flags:	the reservation flags the backend honours (VCM_READ_ONLY,
 *		flags of its own below bit 24); vcm_reserve() refuses the
 *		others; set by the backend, read only.
 *
 * A backend embeds this structure in its own context, fills in @start,
 * @size, @driver, @coherent, @phys_max, @res_flags and, if it likes, @name,
 * and calls vcm_init().  A driver that uses the context holds only a
 * pointer to it, which is why the structure is declared here and not in
 * <linux/vcm.h>.
 */
struct vcm {
	dma_addr_t start;
	resource_size_t size;
	const struct vcm_driver *driver;
	const char *name;
	vcm_fault_fn *fault_handler;
	void *fault_priv;
	bool coherent;
	phys_addr_t phys_max;
	unsigned int res_flags;

	/* Serialises binding and activation in this context. */
	struct mutex lock;
	unsigned int activations;
	refcount_t users;
	unsigned long __percpu *live;
	atomic_long_t dead_res;
	bool dead;
	struct list_head reusable;
	struct list_head bound;
	struct list_head node;
};

/**
 * struct vcm_driver - the operations of a VCM backend.
 * @cleanup:	frees the context and everything the backend allocated for
 *		it; called once, when the context is destroyed and its last
 *		reservation and activation are gone (from vcm_destroy() or
 *		from the holder's release).  Optional: without it the core
 *		kfree()s the struct vcm, which must then start a kmalloc()ed
 *		allocation.  May sleep.
 * @detach:	lets go of the hardware: called once by vcm_destroy(),
 *		with the context's lock held, after the context went dead and
 *		was deactivated.  Reservations may still be held; @unbind and
 *		@unreserve may still be called for them and must not touch
 *		the hardware then.  Optional.  May sleep.
 * @res:	reserves @size bytes (a multiple of PAGE_SIZE, at most the
 *		context's size) of device addresses and returns a
 *		reservation whose @start it has set; the core fills in the
 *		other fields.  Returns an ERR_PTR() on failure.  Optional:
 *		vcm_reserve() returns -EOPNOTSUPP without it.  May sleep.
 *		Like @phys and @unreserve it runs without the context's lock,
 *		so it may run after @detach when a holder races
 *		vcm_destroy(): it must not touch the hardware.
 * @res_at:	reserves exactly [@addr, @addr + @size) (page aligned,
 *		wholly inside the context) and returns a reservation whose
 *		@start it has set to @addr, as @res does, or ERR_PTR(-EBUSY)
 *		if any of the range is reserved already or is never handed
 *		out, or another ERR_PTR().  The range it returns to the
 *		context when @unreserve frees the reservation must be
 *		claimable by a later @res_at once free, wherever the backend
 *		keeps it.  Optional: vcm_reserve_at() returns -EOPNOTSUPP
 *		without it.  May sleep.  Runs without the context's lock,
 *		as @res.
 * @place:	for a context that cannot choose device addresses, because
 *		its device sees memory where it is (a one-to-one context):
 *		sets *@addr to the device address of @phys, where vcm_map()
 *		and vcm_make_binding() then reserve it with @res_at instead
 *		of calling @res.  Returns 0, or the error vcm_map() returns
 *		(-EOPNOTSUPP for memory the context cannot bind anywhere,
 *		-ERANGE for memory its device cannot reach).  Optional;
 *		needs @res_at.  May sleep.  Runs without the context's lock.
 * @phys:	allocates @size bytes (a multiple of PAGE_SIZE) of physical
 *		memory for this context and returns it with @free set.
 *		Optional: vcm_alloc() returns -EOPNOTSUPP without it.  May
 *		sleep.
 * @unreserve:	frees a reservation made by @res or @res_at; called once,
 *		after the last ownership is gone and the reservation is
 *		unbound.  Required.  May sleep.
 * @bind:	makes @res translate to @phys (whose size is at most the
 *		reservation's).  Called with the context's lock held.
 *		Optional: vcm_bind() returns -EOPNOTSUPP without it; required
 *		together with @unbind.  May sleep.
 * @unbind:	undoes @bind; @res->phys still points at the memory.  Called
 *		with the context's lock held.  May sleep.
 * @activate:	starts translation in the hardware; called on the first of
 *		nested vcm_activate() calls, with the context's lock held.
 *		Optional (a no-op without it); required together with
 *		@deactivate.  May sleep.
 * @deactivate:	stops translation; called on the last vcm_deactivate(),
 *		with the context's lock held.  May sleep.
 * @show:	appends the backend's statistics to the context's line in
 *		the debugfs file vcm/contexts: " key=value" pairs, no
 *		newline.  Called with the context's lock held, also after
 *		@detach.  Optional.  May sleep.
 *
 * Functions are never cast to these types: each operation has exactly
 * this prototype.
 */
struct vcm_driver {
	void (*cleanup)(struct vcm *vcm);
	void (*detach)(struct vcm *vcm);
	struct vcm_res *(*res)(struct vcm *vcm, resource_size_t size,
			       unsigned int flags);
	struct vcm_res *(*res_at)(struct vcm *vcm, dma_addr_t addr,
				  resource_size_t size, unsigned int flags);
	int (*place)(struct vcm *vcm, const struct vcm_phys *phys,
		     dma_addr_t *addr);
	struct vcm_phys *(*phys)(struct vcm *vcm, resource_size_t size,
				 unsigned int flags);
	void (*unreserve)(struct vcm_res *res);
	int (*bind)(struct vcm_res *res, struct vcm_phys *phys);
	void (*unbind)(struct vcm_res *res);
	int (*activate)(struct vcm *vcm);
	void (*deactivate)(struct vcm *vcm);
	void (*show)(struct vcm *vcm, struct seq_file *m);
};

/**
 * struct vcm_phys_part - one physically contiguous part of a vcm_phys.
 * @start:	physical address of the part.
 * @page:	the first page of the part, or NULL for memory that has no
 *		struct page (a carve-out).
 * @size:	size of the part in bytes, a multiple of PAGE_SIZE.
 */
struct vcm_phys_part {
	phys_addr_t start;
	struct page *page;
	resource_size_t size;
};

/**
 * struct vcm_phys - physical memory, possibly scattered.
 * @count:	number of entries in @parts.
 * @size:	sum of the parts' sizes in bytes.
 * @free:	frees the memory and this structure; called once, when the
 *		owner's vcm_free() and the last binding are gone.  It must
 *		not depend on the context that allocated the memory, which
 *		may be gone by then.
 * @users:	the owner's reference and one for each binding; internal.
 * @vmap_lock:	serialises vcm_vmap(), vcm_vunmap() and the first cleaning
 *		of the CPU caches; internal.
 * @vmap_count:	vcm_vmap() calls not yet undone; under @vmap_lock;
 *		internal.
 * @vaddr:	the kernel mapping while @vmap_count is not 0; internal.
 * @dirty:	the CPU caches may hold lines of the memory that were never
 *		cleaned: set by vcm_phys_init(), cleared when the first
 *		binding into a context that is not coherent cleans them;
 *		written under @vmap_lock, read without it when false;
 *		internal.
 * @parts:	the parts, in device-address order.
 *
 * A driver may build its own vcm_phys (from CMA or a carve-out) with its
 * own @free: it fills in @count, @size and @parts and calls
 * vcm_phys_init(), and binds it like memory from vcm_alloc().
 */
struct vcm_phys {
	unsigned int count;
	resource_size_t size;
	void (*free)(struct vcm_phys *phys);
	refcount_t users;
	/* Serialises the kernel mapping and the first cleaning. */
	struct mutex vmap_lock;
	unsigned int vmap_count;
	void *vaddr;
	bool dirty;
	struct vcm_phys_part parts[];
};

struct vcm *__must_check vcm_init(struct vcm *vcm);
void vcm_phys_init(struct vcm_phys *phys, void (*free)(struct vcm_phys *phys));

/*
 * Orders
 * ======
 *
 * An orders array lists the page sizes an MMU can map, as log2(size /
 * PAGE_SIZE), strictly decreasing and terminated by order 0, which every
 * MMU supports: { 8, 4, 0 } is 1 MiB, 64 KiB and 4 KiB pages.  No order
 * may make a page too large for dma_addr_t, phys_addr_t or unsigned long.
 */

/**
 * typedef vcm_phys_walk_fn - what vcm_phys_walk() calls for each page.
 * @vaddr:	device address of the page, aligned to its size.
 * @paddr:	physical address of the page, aligned to its size.
 * @order:	the page's order: its size is PAGE_SIZE << @order.
 * @priv:	the @priv given to vcm_phys_walk().
 *
 * Return: 0, or a negative errno that stops the walk.
 */
typedef int vcm_phys_walk_fn(dma_addr_t vaddr, phys_addr_t paddr,
			     unsigned int order, void *priv);

/**
 * typedef vcm_phys_run_fn - what vcm_phys_walk_runs() calls for each run.
 * @vaddr:	device address of the run's first page, aligned to its size.
 * @paddr:	physical address of that page, aligned to its size.
 * @order:	the order of the run's pages.
 * @count:	the number of pages in the run, at least 1; each follows the
 *		one before it, at the device and in memory.
 * @priv:	the @priv given to vcm_phys_walk_runs().
 *
 * Return: 0 with every page of the run done, or a negative errno that
 * stops the walk, with none of them done: a callback that fails half-way
 * through its run undoes the part it did.
 */
typedef int vcm_phys_run_fn(dma_addr_t vaddr, phys_addr_t paddr,
			    unsigned int order, unsigned long count, void *priv);

/* vcm_phys_alloc() flag: memory below 4 GiB. */
#define VCM_PHYS_32BIT	BIT(0)

struct vcm_phys *__must_check
vcm_phys_alloc(resource_size_t size, unsigned int flags,
	       const unsigned char *orders);
int vcm_phys_walk(dma_addr_t vaddr, const struct vcm_phys *phys,
		  const unsigned char *orders, vcm_phys_walk_fn *callback,
		  vcm_phys_walk_fn *recovery, void *priv);
int vcm_phys_walk_runs(dma_addr_t vaddr, const struct vcm_phys *phys,
		       const unsigned char *orders, vcm_phys_run_fn *callback,
		       vcm_phys_run_fn *recovery, void *priv);

struct vcm_mmu;

/**
 * struct vcm_mmu_driver - the operations of a backend built on the MMU
 * wrapper.
 * @orders:	the page sizes the MMU maps (see "Orders" above).  Required,
 *		unless every context of the backend sets its own in struct
 *		vcm_mmu's @orders.
 * @may_sleep:	the operations may sleep: the wrapper calls them under the
 *		context's mutex only, not under struct vcm_mmu's @lock (see
 *		below).  Set it unless every operation is short: it keeps
 *		interrupts on while a large reservation is mapped.
 * @cleanup:	frees the context (the structure embedding the struct
 *		vcm_mmu) and what the backend allocated for it; called once,
 *		from vcm_destroy(), after the wrapper freed its own state.
 *		Optional: without it the wrapper kfree()s the struct vcm_mmu.
 *		May sleep.
 * @activate:	maps one bound reservation: makes @res's device addresses
 *		translate to @phys.  On failure it must leave nothing of
 *		@phys mapped.
 * @deactivate:	unmaps what @activate mapped for @res and @phys.
 * @activate_page: maps one page: @vaddr to @paddr, both aligned to the
 *		page's size, PAGE_SIZE << @order, where @order is one of
 *		@orders.
 * @deactivate_page: unmaps one page that @activate_page mapped.
 * @enable:	starts the hardware translating through the context; called
 *		by vcm_activate() after every bound reservation is mapped.
 *		When it fails, the wrapper unmaps them again and vcm_activate()
 *		returns its error.  Optional; required together with
 *		@disable.
 * @disable:	stops the hardware translating; called by vcm_deactivate()
 *		before the bound reservations are unmapped.
 * @detach:	lets go of the hardware when the context is destroyed, as
 *		struct vcm_driver's @detach: the context is disabled and
 *		nothing is mapped; reservations may still be held, but
 *		nothing will be mapped again.  Optional.
 * @show:	appends a summary of the page tables to the context's line
 *		in the debugfs file vcm/contexts, as struct vcm_driver's
 *		@show, after the wrapper's own statistics.  Called with the
 *		context's mutex held but not @lock, which it takes to read
 *		the tables.  Optional.  May sleep.
 *
 * A backend provides @activate with @deactivate, or @activate_page with
 * @deactivate_page, or both pairs (then the whole-reservation pair is
 * used).  With the page pair, the wrapper splits each binding into pages
 * with vcm_phys_walk() and, when @activate_page fails, unmaps the pages it
 * already mapped, newest first.
 *
 * With @may_sleep the mapping operations, @enable, @disable and @detach run
 * under the context's mutex alone, which every caller of them already
 * holds, and may sleep: page tables come with GFP_KERNEL, and the backend
 * disables interrupts only where its hardware needs it, for short
 * stretches (the SysMMU backend: under @lock, at most 256 entries or one
 * invalidation at a time; the IOMMU API backend: as its IOMMU driver
 * does).  Without @may_sleep they run with the struct vcm_mmu's @lock
 * held, a spinlock taken with interrupts disabled, for a whole
 * reservation: they must not sleep, and page-table memory they need must
 * be preallocated or allocated with GFP_ATOMIC.  The mapping operations
 * are called to activate or deactivate the context (including undoing a
 * failed activation), and to bind to or unbind from an active context.
 */
struct vcm_mmu_driver {
	const unsigned char *orders;
	bool may_sleep;

	void (*cleanup)(struct vcm_mmu *mmu);
	int (*activate)(struct vcm_res *res, struct vcm_phys *phys);
	void (*deactivate)(struct vcm_res *res, struct vcm_phys *phys);
	int (*activate_page)(struct vcm_mmu *mmu, dma_addr_t vaddr,
			     phys_addr_t paddr, unsigned int order);
	void (*deactivate_page)(struct vcm_mmu *mmu, dma_addr_t vaddr,
				phys_addr_t paddr, unsigned int order);
	int (*enable)(struct vcm_mmu *mmu);
	void (*disable)(struct vcm_mmu *mmu);
	void (*detach)(struct vcm_mmu *mmu);
	void (*show)(struct vcm_mmu *mmu, struct seq_file *m);
};

/**
 * struct vcm_mmu_hole - device addresses a context never hands out.
 * @start:	first device address, a multiple of PAGE_SIZE.
 * @size:	size in bytes, a multiple of PAGE_SIZE, not 0.
 */
struct vcm_mmu_hole {
	dma_addr_t start;
	resource_size_t size;
};

/**
 * struct vcm_mmu - a VCM context managed by the MMU wrapper.
 * @vcm:	the context; the backend sets @vcm.start, @vcm.size and, if
 *		it likes, @vcm.name.  The wrapper sets @vcm.driver.
 * @driver:	the backend's operations; set by the backend.
 * @orders:	this context's page sizes, where they are a property of the
 *		context rather than of the driver (an IOMMU domain's); set
 *		by the backend, or NULL for @driver's.  It must stay valid
 *		until the context is freed.
 * @holes:	ranges of the context never to hand out (an IOMMU's
 *		reserved regions), sorted, apart and inside the context;
 *		read by vcm_mmu_init() only; optional.
 * @nr_holes:	number of entries in @holes.
 * @pool:	allocator of the context's device addresses; internal.
 * @pool_offset: @pool's address (a page number) of the device address
 *		@vcm.start; internal.
 * @depot:	the full magazines of freed ranges that @cache's CPUs
 *		share, and where @pool's next fit starts; internal.
 * @cache:	per-CPU caches of freed small ranges, in front of @pool;
 *		internal.
 * @lock:	without @driver's @may_sleep, protects @bound and @active,
 *		and is held around every mapping operation of @driver; a
 *		backend's interrupt handler may take it to see a page table
 *		that is not being changed.  With @may_sleep the context's
 *		mutex protects them, and the wrapper leaves @lock to the
 *		backend, to take around its own short stretches.
 * @bound:	the context's bound reservations, oldest first; internal.
 * @active:	the hardware translates through the context; internal.
 */
struct vcm_mmu {
	struct vcm vcm;
	const struct vcm_mmu_driver *driver;
	const unsigned char *orders;
	const struct vcm_mmu_hole *holes;
	unsigned int nr_holes;

	struct gen_pool *pool;
	unsigned long pool_offset;
	struct vcm_mmu_depot *depot;
	struct vcm_mmu_cache __percpu *cache;
	/* See above: the wrapper's or, with @may_sleep, the backend's. */
	spinlock_t lock;
	struct list_head bound;
	bool active;
};

struct vcm *__must_check vcm_mmu_init(struct vcm_mmu *mmu);
struct vcm_mmu *vcm_to_mmu(struct vcm *vcm);
int vcm_mmu_walk(struct vcm_res *res, const struct vcm_phys *phys,
		 vcm_phys_walk_fn *callback, vcm_phys_walk_fn *recovery,
		 void *priv);
int vcm_mmu_walk_runs(struct vcm_res *res, const struct vcm_phys *phys,
		      vcm_phys_run_fn *callback, vcm_phys_run_fn *recovery,
		      void *priv);

int vcm_report_fault(struct vcm *vcm, dma_addr_t addr, unsigned int flags);

/*
 * Fault injection for the KUnit tests: VCM and its backends ask
 * vcm_should_fail_alloc() before every allocation they make, so that a
 * test can fail each allocation of an operation in turn.  A test redirects
 * it with kunit_activate_static_stub(); in any other thread, and without
 * CONFIG_KUNIT, it is false.
 */
#if IS_ENABLED(CONFIG_KUNIT)
bool vcm_should_fail_alloc(void);
#else
static inline bool vcm_should_fail_alloc(void)
{
	return false;
}
#endif

/*
 * Warnings: VCM and its backends warn about caller bugs through
 * VCM_WARN_ON_ONCE() and VCM_WARN_ONCE(), which also tell
 * vcm_warned().  A KUnit test redirects that with
 * kunit_activate_static_stub() to count the warnings it provokes (every
 * one, not only the first at each site); in a test that did not, a
 * warning fails the test.  Outside KUnit tests it does nothing.
 */
#if IS_ENABLED(CONFIG_KUNIT)
void vcm_warned(void);
#else
static inline void vcm_warned(void)
{
}
#endif

#define VCM_WARN_ON_ONCE(condition) ({					\
	bool __vcm_warn = !!(condition);				\
									\
	if (unlikely(__vcm_warn)) {					\
		vcm_warned();						\
		WARN_ON_ONCE(1);					\
	}								\
	unlikely(__vcm_warn);						\
})

#define VCM_WARN_ONCE(condition, format...) ({				\
	bool __vcm_warn = !!(condition);				\
									\
	if (unlikely(__vcm_warn)) {					\
		vcm_warned();						\
		WARN_ONCE(1, format);					\
	}								\
	unlikely(__vcm_warn);						\
})

#endif /* _LINUX_VCM_DRV_H */
