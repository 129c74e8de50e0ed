// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): the core.
 *
 * The core owns the generic half of each VCM object; the backend owns the
 * memory and the hardware half.
 *
 *  - struct vcm is embedded in the backend's context.  The backend creates
 *    it and vcm_init() checks it.  It counts its users: its creator until
 *    vcm_destroy(), each activation and each live reservation.  The last
 *    one hands it to the backend's ->cleanup (or kfree()).  Reservations
 *    are counted per CPU while the context is live, so that CPUs
 *    reserving at once do not share a counter; vcm_destroy() moves their
 *    sum into one counter, whose last release drops the one user that
 *    stands for them (see vcm_count_dead()).  vcm_destroy()
 *    with users left makes it dead: deactivated, detached from the
 *    hardware, refusing new work with -ENODEV.
 *  - struct vcm_res is allocated by ->res, or by ->res_at at a given
 *    address.  The core counts its owners; when the last one is gone the
 *    core unbinds it, passes it to ->unreserve, which frees it, and drops
 *    its context's count.
 *  - struct vcm_phys is allocated by ->phys or built by a driver.  It
 *    counts its owner (until vcm_free()) and its bindings; the last one
 *    frees it with its own ->free.  Memory made by vcm_make_binding() has
 *    no owner: its binding's reference stands for one (res->owns_phys).
 *
 * Locking
 * =======
 *
 * vcm->lock, a mutex, serialises the state changes of one context: binding
 * and unbinding of its reservations (res->phys, res->bound_size), the list
 * of reusable reservations, the activation count and the dead flag.  The
 * backend's ->bind, ->unbind, ->activate, ->deactivate and ->detach run
 * under it and may sleep.  ->res, ->res_at, ->phys, ->unreserve and
 * ->cleanup run without it: a backend's address allocator has its own
 * locking.  The ownership count of a reservation and the user counts of a
 * context and of a vcm_phys are refcount_t and need no lock; a live
 * context's count of reservations is per CPU and needs none either: RCU
 * orders it against vcm_destroy() (see vcm_res_hold()).  A reusable
 * reservation is found and given another owner with
 * refcount_inc_not_zero() under vcm->lock, and its last owner removes it
 * from the list under vcm->lock, so a lookup never hands out a reservation
 * whose end has begun.
 * phys->vmap_lock, a mutex, serialises the kernel mapping of one vcm_phys
 * and its first cleaning, which a binding does under vcm->lock: it nests
 * inside vcm->lock, and no lock is taken under it.  Every function of this
 * file may sleep, except __vcm_ref_reserve_invalid() (the out-of-line part
 * of vcm_ref_reserve(), inline in <linux/vcm.h>), vcm_sync_for_device()
 * and vcm_sync_for_cpu().
 *
 * vcm_contexts_lock, a mutex, protects the list of all contexts, which
 * exists for the debugfs file vcm/contexts.  It nests outside vcm->lock.
 * A context stays on it until it is freed, dead or not.
 *
 * Coding conventions in this file: an "owner" holds one ownership of a
 * reservation; to "release" is to drop one ownership.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/align.h>
#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/io.h>
#include <linux/lockdep.h>
#include <linux/memblock.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>
#include <linux/vmalloc.h>

#include <kunit/test.h>
#include <kunit/visibility.h>

#include "vcm-internal.h"

/* See "Counting the reservations of a live context". */
#define VCM_DEAD_BIAS	(LONG_MAX / 2)

static LIST_HEAD(vcm_contexts);
/* Protects vcm_contexts. */
static DEFINE_MUTEX(vcm_contexts_lock);

/**
 * vcm_init() - Check and initialise a context a backend has filled in.
 * @vcm: The context, with @start, @size and @driver set.
 *
 * The range must be non-empty, page aligned and end within dma_addr_t.
 * The driver must implement ->unreserve, ->bind together with ->unbind,
 * ->activate together with ->deactivate, and ->res_at if it has ->place.
 *
 * Context: Process context.  Takes and releases vcm_contexts_lock.
 * Return: @vcm, or ERR_PTR(-EINVAL) if a field is invalid, or -ENOMEM.
 */
struct vcm *vcm_init(struct vcm *vcm)
{
	const struct vcm_driver *driver;
	dma_addr_t room;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);

	driver = vcm->driver;
	if (VCM_WARN_ON_ONCE(!driver || !driver->unreserve ||
			     !driver->bind != !driver->unbind ||
			     !driver->activate != !driver->deactivate ||
			     (driver->place && !driver->res_at)))
		return ERR_PTR(-EINVAL);

	/* Device addresses left from @start up to the last one, minus one. */
	room = (dma_addr_t)~(dma_addr_t)0 - vcm->start;
	if (!vcm->size || !PAGE_ALIGNED(vcm->start) ||
	    !PAGE_ALIGNED(vcm->size) || vcm->size - 1 > room) {
		pr_err("invalid context: start %pad, size %pa\n",
		       &vcm->start, &vcm->size);
		return ERR_PTR(-EINVAL);
	}

	vcm->live = vcm_should_fail_alloc() ? NULL : alloc_percpu(unsigned long);
	if (!vcm->live)
		return ERR_PTR(-ENOMEM);
	atomic_long_set(&vcm->dead_res, VCM_DEAD_BIAS);
	mutex_init(&vcm->lock);
	vcm->activations = 0;
	refcount_set(&vcm->users, 1);
	vcm->dead = false;
	INIT_LIST_HEAD(&vcm->reusable);
	INIT_LIST_HEAD(&vcm->bound);

	mutex_lock(&vcm_contexts_lock);
	list_add_tail(&vcm->node, &vcm_contexts);
	mutex_unlock(&vcm_contexts_lock);
	/* Nobody can report a fault before vcm_init() returns. */
	vcm->fault_handler = NULL;
	vcm->fault_priv = NULL;
	return vcm;
}
EXPORT_SYMBOL_GPL(vcm_init);

/* Drops one user of @vcm; the last frees it through the backend. */
static void vcm_put(struct vcm *vcm)
{
	if (!refcount_dec_and_test(&vcm->users))
		return;

	mutex_lock(&vcm_contexts_lock);
	list_del(&vcm->node);
	mutex_unlock(&vcm_contexts_lock);
	mutex_destroy(&vcm->lock);
	free_percpu(vcm->live);

	if (vcm->driver->cleanup)
		vcm->driver->cleanup(vcm);
	else
		kfree(vcm);
}

/*
 * Counting the reservations of a live context
 * ===========================================
 *
 * This is what percpu_ref does, without disabling interrupts.  percpu_ref
 * counts with this_cpu_inc() and this_cpu_dec(), which must be safe
 * against interrupts; 32-bit ARM has no per-CPU atomic instruction, so
 * there each of them disables and restores interrupts.  With percpu_ref
 * counting the reservations, a vcm_reserve() + vcm_unreserve() took
 * 394-518 ns in make bench instead of 281-321, and from 0.73-0.93 times
 * the time of alloc_iova_fast() + free_iova_fast() to 1.1-1.5.  Only
 * process context reserves and releases here, so disabling preemption
 * is enough.
 *
 * While the context is live, each CPU keeps its own count in @vcm->live:
 * reservations made on that CPU minus those released on it.  No lock is
 * taken and no CPU writes another's count.  One CPU's count may go below
 * 0 (a reservation made on one CPU and released on another); the sum of
 * all of them is the number of live reservations.
 *
 * Reading @vcm->dead and counting happen with preemption disabled, which
 * is an RCU read-side section.  vcm_destroy() sets @dead and waits for a
 * grace period.  After that every CPU that saw the context live has
 * finished counting, and every CPU that comes later sees it dead and
 * counts in @dead_res instead.  Only then does vcm_destroy() add up the
 * CPUs' counts into @dead_res.
 *
 * A release that sees the context dead subtracts one from @dead_res,
 * and may do so before vcm_destroy() has added the sum.  So @dead_res
 * starts at VCM_DEAD_BIAS, far above any number of reservations, and
 * vcm_destroy() subtracts the bias when it adds the sum: @dead_res then
 * holds the reservations left, and cannot reach 0 before.  The release
 * that takes it to 0 drops the one user that stood for all reservations.
 */

/* Counts a new reservation of @vcm; false if the context is dead. */
static bool vcm_res_hold(struct vcm *vcm)
{
	bool live;

	preempt_disable();
	live = !READ_ONCE(vcm->dead);
	if (live)
		__this_cpu_inc(*vcm->live);
	preempt_enable();
	return live;
}

/*
 * Counts the release of a reservation of @vcm, live or dead; inlined, as
 * __vcm_reserve() is, since a call is a measurable share of a reservation
 * made and released from the MMU wrapper's caches.
 */
static __always_inline void vcm_res_unhold(struct vcm *vcm)
{
	bool live;

	preempt_disable();
	live = !READ_ONCE(vcm->dead);
	if (live)
		__this_cpu_dec(*vcm->live);
	preempt_enable();
	if (!live && atomic_long_dec_and_test(&vcm->dead_res))
		vcm_put(vcm);
}

/*
 * Adds up the CPUs' counts.  The sum is exact once no CPU counts any more;
 * while CPUs still count, it may be off by the few they count meanwhile.
 */
static unsigned long vcm_sum_live(struct vcm *vcm)
{
	unsigned long live = 0;
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		/* A racing count is the snapshot's, see above. */
		live += data_race(*per_cpu_ptr(vcm->live, cpu));
	return live;
}

/*
 * Adds the CPUs' counts into @dead_res, once @vcm->dead is set, and takes
 * the bias away; true if no reservation is left.
 */
static bool vcm_count_dead(struct vcm *vcm)
{
	synchronize_rcu();
	return !atomic_long_add_return((long)vcm_sum_live(vcm) - VCM_DEAD_BIAS,
				       &vcm->dead_res);
}

/**
 * vcm_destroy() - Destroy a context.
 * @vcm: The context.
 *
 * Called by the context's creator once, when it is done with the context
 * or the hardware behind it goes away.  With no reservation or activation
 * left the context is freed at once.  Otherwise it goes dead: an active
 * context is deactivated, the backend lets go of the hardware, and new
 * work fails with -ENODEV; the holders release what they hold as usual,
 * and the last release frees the context.  Destroying a dead context that
 * holders still keep warns and does nothing.
 *
 * Context: Process context.  Takes and releases @vcm->lock, waits under
 * it for an RCU grace period (see "Counting the reservations of a live
 * context"), and takes vcm_contexts_lock when the context is freed.
 */
void vcm_destroy(struct vcm *vcm)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return;

	mutex_lock(&vcm->lock);
	if (VCM_WARN_ONCE(vcm->dead, "vcm: destroying a destroyed context\n")) {
		mutex_unlock(&vcm->lock);
		return;
	}
	WRITE_ONCE(vcm->dead, true);
	/*
	 * The reservations left stand as one user, taken before counting
	 * them so that the last one's release cannot drop it first; our own
	 * keeps the count above 0 if there is none.
	 */
	refcount_inc(&vcm->users);
	if (vcm_count_dead(vcm))
		refcount_dec(&vcm->users);
	/* The activations stay counted: their holders still balance them. */
	if (vcm->activations && vcm->driver->deactivate)
		vcm->driver->deactivate(vcm);
	if (vcm->driver->detach)
		vcm->driver->detach(vcm);
	mutex_unlock(&vcm->lock);

	vcm_put(vcm);
}
EXPORT_SYMBOL_GPL(vcm_destroy);

#ifdef CONFIG_VCM_RES_REFCNT

static void vcm_res_first_owner(struct vcm_res *res)
{
	refcount_set(&res->refcnt, 1);
}

/*
 * Drops one ownership; true when it was the last.  Most reservations have
 * one owner all their life, so, as skb_unref() does, a count of 1 read by
 * that owner ends the reservation without an atomic operation: nobody else
 * may take an ownership then, but a reuse lookup may, which is why a
 * reusable reservation goes the atomic way.  The count is set to 0 so that
 * a later use of the reservation warns as after refcount_dec_and_test().
 */
static bool vcm_res_release(struct vcm_res *res)
{
	if (refcount_read(&res->refcnt) == 1 && !res->reusable) {
		/* Ordered after the other owners' releases, as by the atomic. */
		smp_acquire__after_ctrl_dep();
		refcount_set(&res->refcnt, 0);
		return true;
	}
	return refcount_dec_and_test(&res->refcnt);
}

static __maybe_unused unsigned int vcm_res_owners(const struct vcm_res *res)
{
	return refcount_read(&res->refcnt);
}

/*
 * The reservation on @vcm's reusable list that maps @phys with @flags,
 * with another ownership; NULL if there is none, or if its last owner is
 * releasing it.
 */
static struct vcm_res *vcm_res_reuse(struct vcm *vcm,
				     const struct vcm_phys *phys,
				     unsigned int flags)
{
	struct vcm_res *res;

	list_for_each_entry(res, &vcm->reusable, reuse_node)
		if (res->phys == phys && res->flags == flags &&
		    refcount_inc_not_zero(&res->refcnt))
			return res;
	return NULL;
}

/**
 * __vcm_ref_reserve_invalid() - vcm_ref_reserve() of a reservation that is
 *				 not live.
 * @res: An error pointer, NULL, or a reservation whose last ownership was
 *	 dropped.
 *
 * The out-of-line part of vcm_ref_reserve(), whose inline fast path lets
 * through only what it can take an ownership of.  Not for drivers.
 *
 * Context: Any context.
 * Return: -EINVAL, having warned.
 */
int __vcm_ref_reserve_invalid(struct vcm_res *res)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return -EINVAL;
	VCM_WARN_ONCE(1, "vcm: reservation %pad has no owner left\n", &res->start);
	return -EINVAL;
}
EXPORT_SYMBOL_GPL(__vcm_ref_reserve_invalid);

#else /* !CONFIG_VCM_RES_REFCNT */

static void vcm_res_first_owner(struct vcm_res *res)
{
}

static bool vcm_res_release(struct vcm_res *res)
{
	return true;
}

static __maybe_unused unsigned int vcm_res_owners(const struct vcm_res *res)
{
	return 1;
}

/* Reuse needs several owners: vcm_map() refuses VCM_MAP_REUSE. */
static struct vcm_res *vcm_res_reuse(struct vcm *vcm,
				     const struct vcm_phys *phys,
				     unsigned int flags)
{
	return NULL;
}

#endif /* CONFIG_VCM_RES_REFCNT */

/*
 * Whether [@addr, @addr + @size) is page aligned and lies wholly inside
 * @vcm.  It is measured from the context's start, so that a range running
 * past the last device address cannot wrap around into the context.
 */
static bool vcm_range_valid(const struct vcm *vcm, dma_addr_t addr,
			    resource_size_t size)
{
	dma_addr_t offset = addr - vcm->start;

	return PAGE_ALIGNED(addr) && PAGE_ALIGNED(size) &&
	       addr >= vcm->start && offset < vcm->size &&
	       size <= vcm->size - offset;
}

/*
 * vcm_reserve() (@at false) and vcm_reserve_at() (@at true: the range is
 * [@addr, @addr + @size)).  Both check their arguments in the same order,
 * count the reservation in its context and fill it in the same way.
 */
static __always_inline struct vcm_res *__vcm_reserve(struct vcm *vcm, bool at,
						     dma_addr_t addr,
						     resource_size_t size,
						     unsigned int flags)
{
	struct vcm_res *res;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);
	if (!size || (flags & VCM_CORE_FLAGS))
		return ERR_PTR(-EINVAL);
	if (at && !vcm_range_valid(vcm, addr, size))
		return ERR_PTR(-EINVAL);
	if (flags & ~vcm->res_flags)
		return ERR_PTR(-EOPNOTSUPP);
	/* A hint for the error's order; vcm_res_hold() decides. */
	if (READ_ONCE(vcm->dead))
		return ERR_PTR(-ENODEV);
	if (size > vcm->size)
		return ERR_PTR(-ENOSPC);
	if (at ? !vcm->driver->res_at : !vcm->driver->res)
		return ERR_PTR(-EOPNOTSUPP);

	/* Cannot overflow: the context's size is page aligned. */
	size = PAGE_ALIGN(size);
	if (!vcm_res_hold(vcm))
		return ERR_PTR(-ENODEV);
	if (at)
		res = vcm->driver->res_at(vcm, addr, size, flags);
	else
		res = vcm->driver->res(vcm, size, flags);
	if (IS_ERR_OR_NULL(res)) {
		vcm_res_unhold(vcm);
		if (VCM_WARN_ON_ONCE(!res))
			return ERR_PTR(-ENOMEM);
		return res;
	}

	res->vcm = vcm;
	res->res_size = size;
	res->flags = flags;
	res->bound_size = 0;
	res->phys = NULL;
	res->mapped = false;
	res->owns_phys = false;
	res->reusable = false;
	INIT_LIST_HEAD(&res->reuse_node);
	vcm_res_first_owner(res);
	return res;
}

/**
 * vcm_reserve() - Reserve a range of device addresses.
 * @vcm: The context.
 * @size: Size in bytes; rounded up to a multiple of PAGE_SIZE.
 * @flags: Passed to the backend.
 *
 * The caller gets the first ownership of the reservation, dropped with
 * vcm_unreserve().
 *
 * Context: Process context.  Calls the backend's ->res without locks held.
 * Return: The unbound reservation, or ERR_PTR(-EINVAL) for a bad @vcm, a
 * zero @size or a flag of the core's (VCM_CORE_FLAGS), -ENODEV if the
 * context was destroyed, -ENOSPC if @size is larger than the context or
 * no range is free, -EOPNOTSUPP if the backend cannot reserve or does not
 * honour one of @flags (see struct vcm's @res_flags), -ENOMEM.
 */
struct vcm_res *vcm_reserve(struct vcm *vcm, resource_size_t size,
			    unsigned int flags)
{
	return __vcm_reserve(vcm, false, 0, size, flags);
}
EXPORT_SYMBOL_GPL(vcm_reserve);

/**
 * vcm_reserve_at() - Reserve a given range of device addresses.
 * @vcm: The context.
 * @addr: First device address of the range, a multiple of PAGE_SIZE.
 * @size: Size in bytes, a multiple of PAGE_SIZE.
 * @flags: Passed to the backend, as by vcm_reserve().
 *
 * Reserves exactly [@addr, @addr + @size), for a device that must find
 * memory at a fixed address (a codec's firmware window), or nothing.  The
 * reservation is then like one from vcm_reserve(): the caller gets its
 * first ownership, dropped with vcm_unreserve(), and the last release
 * returns the range to the context, where vcm_reserve() may hand it out
 * and vcm_reserve_at() claim it again.
 *
 * Context: Process context.  Calls the backend's ->res_at without locks
 * held.  The MMU wrapper's ->res_at drains its per-CPU caches when the
 * range is not free in its pool, as its ->res does when it finds no room.
 * Return: The unbound reservation, whose @start is @addr, or
 * ERR_PTR(-EINVAL) for a bad @vcm, a zero @size, an @addr or @size not a
 * multiple of PAGE_SIZE, a range not wholly inside the context (running
 * past its end or past the last device address included), or a flag of
 * the core's (VCM_CORE_FLAGS); -EOPNOTSUPP if the backend does not honour
 * one of @flags (see struct vcm's @res_flags); -ENODEV if the context was
 * destroyed; -EOPNOTSUPP if the backend cannot reserve at an address;
 * -EBUSY if any of the range is reserved already or is a hole of the
 * context, which is never handed out; -ENOMEM; or another error of the
 * backend (the MMU wrapper's: -ENOSPC for a range of 2^32 pages or more,
 * which genalloc cannot claim).
 */
struct vcm_res *vcm_reserve_at(struct vcm *vcm, dma_addr_t addr,
			       resource_size_t size, unsigned int flags)
{
	return __vcm_reserve(vcm, true, addr, size, flags);
}
EXPORT_SYMBOL_GPL(vcm_reserve_at);

/**
 * vcm_phys_get() - Take another reference to physical memory.
 * @phys: The memory; the caller holds a reference to it already (its
 *	  owner's, a binding's that it keeps, or one from vcm_phys_get()).
 *
 * Lets another holder keep the memory, e.g. a driver that another one
 * handed @phys to (see "Sharing physical memory" in <linux/vcm.h>).
 * Drop the reference with vcm_phys_put().
 *
 * Context: Any context.
 * Return: 0, or -EINVAL, with a warning, for a bad @phys or memory that
 * was freed already or never initialised.
 */
int vcm_phys_get(struct vcm_phys *phys)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys)))
		return -EINVAL;
	if (VCM_WARN_ONCE(!refcount_inc_not_zero(&phys->users),
			  "vcm: referencing memory that was freed or never initialised\n"))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_phys_get);

static void __vcm_vunmap(struct vcm_phys *phys)
{
	if (is_vmalloc_addr(phys->vaddr))
		vunmap(phys->vaddr);
	phys->vaddr = NULL;
	phys->vmap_count = 0;
}

/**
 * vcm_phys_put() - Drop a reference to physical memory.
 * @phys: The memory.
 *
 * Drops a reference that vcm_phys_get() took; the last of all the
 * references frees the memory, which the caller must not use any more.
 * Memory built with a NULL @free is never freed here: its creator's
 * reference is never dropped.
 *
 * Context: Process context.
 */
void vcm_phys_put(struct vcm_phys *phys)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys)))
		return;
	if (!refcount_dec_and_test(&phys->users))
		return;
	if (VCM_WARN_ONCE(!phys->free,
			  "vcm: a put dropped the creator's reference to memory it frees\n"))
		return;
	/* Nobody else can reach it now: no lock needed. */
	if (VCM_WARN_ONCE(phys->vmap_count, "vcm: freeing memory still mapped at %p\n",
			  phys->vaddr))
		__vcm_vunmap(phys);
	mutex_destroy(&phys->vmap_lock);
	phys->free(phys);
}
EXPORT_SYMBOL_GPL(vcm_phys_put);

/*
 * Unbinds @res if it is bound and takes it off the reusable list; returns
 * what was bound, or NULL.  The binding's reference to the memory becomes
 * the caller's.
 */
static struct vcm_phys *__vcm_unbind(struct vcm_res *res)
{
	struct vcm_phys *phys = res->phys;

	lockdep_assert_held(&res->vcm->lock);
	if (res->reusable) {
		list_del_init(&res->reuse_node);
		res->reusable = false;
	}
	if (phys) {
		res->vcm->driver->unbind(res);
		list_del(&res->bound_node);
		res->phys = NULL;
		res->bound_size = 0;
	}
	return phys;
}

/*
 * Ends a reservation whose last ownership is gone, the way it was made:
 * unbinds it, returns it to the backend, drops the memory bound to it (and
 * so frees memory vcm_make_binding() allocated for it) and drops the
 * context.
 */
static void vcm_res_end(struct vcm_res *res)
{
	struct vcm *vcm = res->vcm;
	dma_addr_t start = res->start;
	struct vcm_phys *phys = NULL;
	bool mapped = false;

	/*
	 * With its last ownership gone, nobody may touch the reservation but
	 * a reuse lookup walking the context's list: only a bound or listed
	 * reservation needs the lock, and a plain one's release skips it.
	 */
	if (res->phys || res->reusable) {
		mutex_lock(&vcm->lock);
		mapped = res->mapped;
		phys = __vcm_unbind(res);
		mutex_unlock(&vcm->lock);
	}

	vcm->driver->unreserve(res);
	if (phys) {
		VCM_WARN_ONCE(!mapped, "vcm: reservation %pad ended still bound\n",
			      &start);
		vcm_phys_put(phys);
	}
	vcm_res_unhold(vcm);
}

/**
 * __vcm_unreserve() - vcm_unreserve() where its inline fast path does not
 *		       apply.
 * @res: The reservation.
 *
 * The out-of-line part of vcm_unreserve(), whose fast path drops an
 * ownership that is not the last: this drops the last one, warns about a
 * count that is wrong already or a bad pointer, and, without
 * CONFIG_VCM_RES_REFCNT, does every release.  Not for drivers.
 *
 * Context: As vcm_unreserve().
 */
void __vcm_unreserve(struct vcm_res *res)
{
	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return;
	if (vcm_res_release(res))
		vcm_res_end(res);
}
EXPORT_SYMBOL_GPL(__vcm_unreserve);

/**
 * vcm_alloc() - Allocate physical memory for a context.
 * @vcm: The context whose backend allocates (it knows the page sizes its
 *	 hardware can map).
 * @size: Size in bytes; rounded up to a multiple of PAGE_SIZE.
 * @flags: Passed to the backend.
 *
 * The memory can be bound into any context; free it with vcm_free().
 *
 * Context: Process context.
 * Return: The memory, or ERR_PTR(-EINVAL) for a bad @vcm or a zero @size,
 * -ENODEV if the context was destroyed, -EOPNOTSUPP if the backend cannot
 * allocate, -ENOMEM.
 */
struct vcm_phys *vcm_alloc(struct vcm *vcm, resource_size_t size,
			   unsigned int flags)
{
	struct vcm_phys *phys;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);
	if (!size)
		return ERR_PTR(-EINVAL);
	if (READ_ONCE(vcm->dead))
		return ERR_PTR(-ENODEV);
	if (size > round_down((resource_size_t)~(resource_size_t)0, PAGE_SIZE))
		return ERR_PTR(-ENOMEM);
	if (!vcm->driver->phys)
		return ERR_PTR(-EOPNOTSUPP);

	phys = vcm->driver->phys(vcm, PAGE_ALIGN(size), flags);
	if (VCM_WARN_ON_ONCE(!phys))
		return ERR_PTR(-ENOMEM);
	return phys;
}
EXPORT_SYMBOL_GPL(vcm_alloc);

/**
 * vcm_phys_init() - Initialise physical memory a driver built.
 * @phys: The memory, with @count, @size and @parts filled in or to be
 *	  filled in before it is bound.
 * @free: Frees the memory and @phys, when vcm_free() and the last
 *	  binding are gone; NULL for memory that is never vcm_free()d (its
 *	  creator frees it once nothing is bound to it).
 *
 * Gives the caller the owner's reference, dropped with vcm_free().
 * vcm_alloc() returns memory initialised already.
 *
 * Context: Any context.
 */
void vcm_phys_init(struct vcm_phys *phys, void (*free)(struct vcm_phys *phys))
{
	phys->free = free;
	refcount_set(&phys->users, 1);
	mutex_init(&phys->vmap_lock);
	phys->vmap_count = 0;
	phys->vaddr = NULL;
	phys->dirty = true;
}
EXPORT_SYMBOL_GPL(vcm_phys_init);

/**
 * vcm_free() - Drop the owner's reference to physical memory.
 * @phys: Memory from vcm_alloc(), or built by a driver and initialised
 *	  with vcm_phys_init().
 *
 * The memory is freed now if it is bound nowhere, else when its last
 * binding is gone.  Either way the caller must not use @phys any more.
 * Memory still mapped by vcm_vmap() when it is freed is unmapped, with a
 * warning.
 *
 * Context: Process context.
 */
void vcm_free(struct vcm_phys *phys)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys) || !phys->free))
		return;
	vcm_phys_put(phys);
}
EXPORT_SYMBOL_GPL(vcm_free);

/*
 * The kernel mapping of @phys: its page's own address if it is one part
 * of lowmem, else a vmap() of its pages.
 */
static void *vcm_phys_map_kernel(const struct vcm_phys *phys)
{
	unsigned long nr_pages = phys->size >> PAGE_SHIFT;
	struct page **pages;
	unsigned long n = 0;
	unsigned int i;
	void *vaddr;

	for (i = 0; i < phys->count; i++)
		if (!phys->parts[i].page)
			return ERR_PTR(-EOPNOTSUPP);
	/* A driver's part may run from lowmem into highmem. */
	if (phys->count == 1 && !PageHighMem(phys->parts[0].page) &&
	    !PageHighMem(nth_page(phys->parts[0].page, nr_pages - 1)))
		return page_address(phys->parts[0].page);
	if (phys->size >> PAGE_SHIFT > UINT_MAX)
		return ERR_PTR(-ENOMEM);

	pages = vcm_should_fail_alloc() ? NULL :
		kvmalloc_array(nr_pages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < phys->count; i++) {
		unsigned long j, part_pages = phys->parts[i].size >> PAGE_SHIFT;

		for (j = 0; j < part_pages; j++)
			pages[n++] = nth_page(phys->parts[i].page, j);
	}
	vaddr = vcm_should_fail_alloc() ? NULL :
		vmap(pages, nr_pages, VM_MAP, PAGE_KERNEL);
	kvfree(pages);
	return vaddr ?: ERR_PTR(-ENOMEM);
}

/**
 * vcm_vmap() - Map physical memory into the kernel, counted.
 * @phys: The memory; the caller holds a reference to it (see "Sharing
 *	  physical memory" in <linux/vcm.h>).
 *
 * The first call maps the memory: the address of its page when it is one
 * part of lowmem, else a vmap() of all its pages in order.  Later calls
 * return the same address and count; each is undone by one vcm_vunmap(),
 * and the last unmaps.  The mapping is cached, as the page allocator maps
 * lowmem.
 *
 * Context: Process context; may sleep.  Takes and releases
 * @phys->vmap_lock.
 * Return: The kernel address of the memory's first byte, or
 * ERR_PTR(-EINVAL) for a bad @phys, -EOPNOTSUPP if a part has no struct
 * page (a carve-out), -ENOMEM.
 */
void *vcm_vmap(struct vcm_phys *phys)
{
	void *vaddr;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys) || !refcount_read(&phys->users)))
		return ERR_PTR(-EINVAL);
	if (!vcm_phys_valid(phys))
		return ERR_PTR(-EINVAL);

	mutex_lock(&phys->vmap_lock);
	if (phys->vmap_count) {
		vaddr = phys->vaddr;
	} else {
		vaddr = vcm_phys_map_kernel(phys);
		if (!IS_ERR(vaddr))
			phys->vaddr = vaddr;
	}
	if (!IS_ERR(vaddr))
		phys->vmap_count++;
	mutex_unlock(&phys->vmap_lock);
	return vaddr;
}
EXPORT_SYMBOL_GPL(vcm_vmap);

/**
 * vcm_vunmap() - Undo one vcm_vmap().
 * @phys: The memory.
 * @vaddr: The address vcm_vmap() returned.
 *
 * The last call unmaps the memory.
 *
 * Context: Process context; may sleep.  Takes and releases
 * @phys->vmap_lock.
 * Return: 0, or -EINVAL, with a warning, if @phys is bad or not mapped, or
 * @vaddr is not its address; nothing changes then.
 */
int vcm_vunmap(struct vcm_phys *phys, void *vaddr)
{
	int ret = 0;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys)))
		return -EINVAL;

	mutex_lock(&phys->vmap_lock);
	if (VCM_WARN_ONCE(!phys->vmap_count || vaddr != phys->vaddr,
			  "vcm: unmapping %p, but the memory is mapped at %p\n",
			  vaddr, phys->vaddr))
		ret = -EINVAL;
	else if (!--phys->vmap_count)
		__vcm_vunmap(phys);
	mutex_unlock(&phys->vmap_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_vunmap);

/*
 * Checks the layout of memory that a driver may have built itself: at
 * least one part, every part non-empty, page aligned, not running past
 * the last physical address and, if it has a page, starting at that
 * page's address, and the parts adding up to the size.
 */
bool vcm_phys_valid(const struct vcm_phys *phys)
{
	resource_size_t sum = 0;
	unsigned int i;

	if (!phys->count)
		return false;
	for (i = 0; i < phys->count; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];

		if (!part->size || !PAGE_ALIGNED(part->start) ||
		    !PAGE_ALIGNED(part->size) ||
		    part->size - 1 > (phys_addr_t)~(phys_addr_t)0 - part->start ||
		    (part->page && page_to_phys(part->page) != part->start) ||
		    check_add_overflow(sum, part->size, &sum))
			return false;
	}
	return sum == phys->size;
}

/*
 * CPU caches
 * ==========
 *
 * Cache maintenance uses the primitives the DMA API uses for a device that
 * does not snoop the CPU caches, on the memory's physical addresses, and
 * only for parts with struct pages: memory without them (a carve-out) has
 * no cacheable kernel mapping VCM knows of.  Memory is cleaned once before
 * its first binding into a context that is not coherent (@dirty), and
 * whenever its driver hands it over with vcm_sync_for_device() or
 * vcm_sync_for_cpu().
 */

/*
 * Cache maintenance of @size bytes at @paddr, for the device or for the CPU.
 * A KUnit test redirects it with kunit_activate_static_stub() to record the
 * operations.
 */
VISIBLE_IF_KUNIT void vcm_sync_range(phys_addr_t paddr, size_t size,
				     enum dma_data_direction dir,
				     bool for_device)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_sync_range, paddr, size, dir, for_device);
	if (for_device) {
		arch_sync_dma_for_device(paddr, size, dir);
	} else {
		arch_sync_dma_for_cpu(paddr, size, dir);
		arch_sync_dma_for_cpu_all();
	}
}
EXPORT_SYMBOL_IF_KUNIT(vcm_sync_range);

/* Cache maintenance of the bytes [@offset, @offset + @size) of @phys. */
static void vcm_phys_sync(const struct vcm_phys *phys, resource_size_t offset,
			  resource_size_t size, enum dma_data_direction dir,
			  bool for_device)
{
	unsigned int i;

	for (i = 0; i < phys->count && size; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		resource_size_t len;

		if (offset >= part->size) {
			offset -= part->size;
			continue;
		}
		len = min(size, part->size - offset);
		size -= len;
		if (part->page) {
			phys_addr_t paddr = part->start + offset;

			/*
			 * A part may be larger than size_t on LPAE, and run
			 * from lowmem into highmem, which ARM maintains page
			 * by page only where a range starts in highmem.
			 */
			while (len) {
				size_t chunk = min_t(resource_size_t, len, SZ_1G);

				if (IS_ENABLED(CONFIG_HIGHMEM) &&
				    paddr < PFN_PHYS(max_low_pfn))
					chunk = min_t(resource_size_t, chunk,
						      PFN_PHYS(max_low_pfn) - paddr);

				vcm_sync_range(paddr, chunk, dir, for_device);
				paddr += chunk;
				len -= chunk;
			}
		}
		offset = 0;
	}
}

/*
 * Cleans @phys once, before a context that is not coherent can reach it.
 * @dirty only ever goes from true to false, after the clean: once it is
 * seen false, every later bind skips the lock.
 */
static void vcm_phys_clean(struct vcm_phys *phys)
{
	/* Pairs with the release below: the clean is done once seen false. */
	if (!smp_load_acquire(&phys->dirty))
		return;
	mutex_lock(&phys->vmap_lock);
	if (phys->dirty) {
		vcm_phys_sync(phys, 0, phys->size, DMA_BIDIRECTIONAL, true);
		/* Pairs with the acquire above. */
		smp_store_release(&phys->dirty, false);
	}
	mutex_unlock(&phys->vmap_lock);
}

/*
 * Checks a vcm_sync_for_*() call: the memory bound to @res, or an error
 * pointer.
 */
static struct vcm_phys *vcm_sync_phys(struct vcm_res *res, resource_size_t offset,
				      resource_size_t size,
				      enum dma_data_direction dir)
{
	struct vcm_phys *phys;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return ERR_PTR(-EINVAL);
	/* Its owner keeps it bound while it syncs. */
	phys = READ_ONCE(res->phys);
	if (!phys || !valid_dma_direction(dir) || !size ||
	    offset >= phys->size || size > phys->size - offset)
		return ERR_PTR(-EINVAL);
	return phys;
}

/**
 * vcm_sync_for_device() - Hand bound memory from the CPU to the device.
 * @res: A bound reservation, of the device's context.
 * @offset: Offset in bytes into the memory bound to @res.
 * @size: Number of bytes.
 * @dir: What the device does with them: DMA_TO_DEVICE (reads them),
 *	 DMA_FROM_DEVICE (writes them) or DMA_BIDIRECTIONAL.
 *
 * Call it after the CPU wrote the bytes (or, for DMA_FROM_DEVICE, may have
 * cached them) and before the device uses them, as
 * dma_sync_single_for_device(): in a context that is not coherent it
 * cleans (or invalidates) the CPU caches for them, as the DMA API does for
 * a device that does not snoop them; in a coherent one it does nothing.
 * Parts of the memory without struct pages are left alone.
 *
 * Context: Any context.
 * Return: 0, or -EINVAL for a bad @res (which also warns once) or @dir,
 * an unbound @res, or a range that is empty or outside the bound memory.
 */
int vcm_sync_for_device(struct vcm_res *res, resource_size_t offset,
			resource_size_t size, enum dma_data_direction dir)
{
	struct vcm_phys *phys = vcm_sync_phys(res, offset, size, dir);

	if (IS_ERR(phys))
		return PTR_ERR(phys);
	if (!res->vcm->coherent)
		vcm_phys_sync(phys, offset, size, dir, true);
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_sync_for_device);

/**
 * vcm_sync_for_cpu() - Hand bound memory from the device back to the CPU.
 * @res: A bound reservation, of the device's context.
 * @offset: Offset in bytes into the memory bound to @res.
 * @size: Number of bytes.
 * @dir: What the device did with them, as for vcm_sync_for_device().
 *
 * Call it after the device wrote the bytes and before the CPU reads them
 * (through vcm_vmap() or any other mapping), as dma_sync_single_for_cpu():
 * in a context that is not coherent it invalidates what the CPU caches
 * may hold of them; in a coherent one it does nothing.
 *
 * Context: Any context.
 * Return: as vcm_sync_for_device().
 */
int vcm_sync_for_cpu(struct vcm_res *res, resource_size_t offset,
		     resource_size_t size, enum dma_data_direction dir)
{
	struct vcm_phys *phys = vcm_sync_phys(res, offset, size, dir);

	if (IS_ERR(phys))
		return PTR_ERR(phys);
	if (!res->vcm->coherent)
		vcm_phys_sync(phys, offset, size, dir, false);
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_sync_for_cpu);

/*
 * vcm_bind() for @phys that vcm_phys_valid() accepted, with the context's
 * lock held.  The binding takes a reference to @phys.
 */
static int __vcm_bind(struct vcm_res *res, struct vcm_phys *phys, bool mapped)
{
	struct vcm *vcm = res->vcm;
	int ret;

	lockdep_assert_held(&vcm->lock);
	if (!vcm->driver->bind)
		return -EOPNOTSUPP;
	if (vcm->dead)
		return -ENODEV;
	if (res->phys)
		return res->phys == phys ? -EALREADY : -EADDRINUSE;
	if (phys->size > res->res_size)
		return -ENOSPC;
	if (!vcm_phys_reachable(vcm, phys))
		return -ERANGE;
	if (vcm_phys_get(phys))
		return -EINVAL;
	if (!vcm->coherent)
		vcm_phys_clean(phys);
	ret = vcm->driver->bind(res, phys);
	if (ret) {
		/* Not the last reference: the caller holds one. */
		refcount_dec(&phys->users);
		return ret;
	}
	res->phys = phys;
	res->bound_size = phys->size;
	res->mapped = mapped;
	res->owns_phys = false;
	list_add_tail(&res->bound_node, &vcm->bound);
	return 0;
}

/**
 * vcm_bind() - Make a reservation translate to physical memory.
 * @res: An unbound reservation.
 * @phys: The memory, at most as large as @res.
 *
 * Device addresses from @res->start on translate to the parts of @phys in
 * order.  While the context is active the hardware sees the binding at
 * once; otherwise when it is activated.  The binding holds a reference to
 * @phys: it stays allocated, even after its owner's vcm_free(), until
 * @res is unbound.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock.
 * Return: 0, or -EINVAL for a bad argument, memory already freed (which
 * also warns once) or malformed @phys (no parts, an empty or unaligned
 * part, a part running past the last physical address, parts not adding
 * up to its size), -ENODEV if the context was destroyed, -EOPNOTSUPP if
 * the backend cannot bind, -EALREADY if @res is bound to @phys already,
 * -EADDRINUSE if it is bound to other memory, -ENOSPC if @phys is larger
 * than @res, -ERANGE if a part of @phys lies past what the context's
 * hardware reaches (struct vcm's @phys_max), or the backend's error.
 */
int vcm_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	int ret;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(res) || IS_ERR_OR_NULL(phys)))
		return -EINVAL;
	if (!vcm_phys_valid(phys))
		return -EINVAL;

	mutex_lock(&res->vcm->lock);
	ret = __vcm_bind(res, phys, false);
	mutex_unlock(&res->vcm->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_bind);

/**
 * vcm_unbind() - Undo vcm_bind().
 * @res: A bound reservation.
 *
 * The binding's reference to the memory is dropped, which frees memory
 * whose owner called vcm_free() and which is bound nowhere else.  The
 * reservation stays reserved, unbound.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock.
 * Return: 0, or -EINVAL if @res is bad or not bound, -EBUSY if its binding
 * is not for vcm_unbind() to end: memory that vcm_make_binding() allocated
 * for it (vcm_destroy_binding() ends both) or a mapping shared by
 * VCM_MAP_REUSE (its owners may only vcm_unmap() it).
 */
int vcm_unbind(struct vcm_res *res)
{
	struct vcm_phys *phys;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return -EINVAL;

	mutex_lock(&res->vcm->lock);
	if (res->reusable || res->owns_phys) {
		mutex_unlock(&res->vcm->lock);
		return -EBUSY;
	}
	phys = __vcm_unbind(res);
	res->mapped = false;
	mutex_unlock(&res->vcm->lock);
	if (!phys)
		return -EINVAL;
	vcm_phys_put(phys);
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_unbind);

/*
 * The reservation mapping @phys in @vcm with @flags for VCM_MAP_REUSE,
 * with another ownership; NULL if there is none, ERR_PTR(-ENODEV) if @vcm
 * is dead.  A reservation whose last ownership is gone but which its
 * releaser has not yet taken off the list is skipped.
 */
static struct vcm_res *vcm_find_reusable(struct vcm *vcm,
					 const struct vcm_phys *phys,
					 unsigned int flags)
{
	lockdep_assert_held(&vcm->lock);
	if (vcm->dead)
		return ERR_PTR(-ENODEV);
	return vcm_res_reuse(vcm, phys, flags);
}

/*
 * Reserves room for @phys in @vcm: anywhere, or where the backend says
 * the context sees it (a one-to-one context).
 */
static struct vcm_res *vcm_reserve_for(struct vcm *vcm,
				       const struct vcm_phys *phys,
				       unsigned int flags)
{
	dma_addr_t addr;
	int ret;

	if (!vcm->driver->place)
		return vcm_reserve(vcm, phys->size, flags);
	if (READ_ONCE(vcm->dead))
		return ERR_PTR(-ENODEV);
	ret = vcm->driver->place(vcm, phys, &addr);
	if (ret)
		return ERR_PTR(ret);
	return vcm_reserve_at(vcm, addr, phys->size, flags);
}

/*
 * Reserves room for @phys in @vcm and binds it there; with @reuse, returns
 * the reservation that maps it already instead, and if there is none puts
 * the new one on the reusable list with the same hold of the lock.  With
 * @owns the binding's reference stands for the owner's.
 */
static struct vcm_res *__vcm_map(struct vcm *vcm, struct vcm_phys *phys,
				 unsigned int flags, bool reuse, bool owns)
{
	struct vcm_res *res, *found = NULL;
	int ret;

	if (!vcm_phys_valid(phys))
		return ERR_PTR(-EINVAL);
	if (reuse) {
		mutex_lock(&vcm->lock);
		found = vcm_find_reusable(vcm, phys, flags);
		mutex_unlock(&vcm->lock);
		if (found)
			return found;
	}

	res = vcm_reserve_for(vcm, phys, flags);
	if (IS_ERR(res))
		return res;

	mutex_lock(&vcm->lock);
	/* Another caller may have mapped it meanwhile. */
	if (reuse)
		found = vcm_find_reusable(vcm, phys, flags);
	ret = found ? 0 : __vcm_bind(res, phys, true);
	if (!ret && !found) {
		res->owns_phys = owns;
		res->reusable = reuse;
		if (reuse)
			list_add_tail(&res->reuse_node, &vcm->reusable);
	}
	mutex_unlock(&vcm->lock);

	if (ret || found)
		vcm_unreserve(res);
	if (found)
		return found;
	return ret ? ERR_PTR(ret) : res;
}

/**
 * vcm_map() - Reserve device addresses for memory and bind it there.
 * @vcm: The context.
 * @phys: The memory; it stays the caller's.
 * @flags: Reservation flags, passed to the backend, and VCM_MAP_REUSE.
 *
 * With VCM_MAP_REUSE, if @phys is mapped in @vcm already by a vcm_map()
 * with the same @flags, that reservation is returned with another
 * ownership; else a new one is made, which later calls with these flags
 * will find.  The owners share the mapping: vcm_unbind() refuses it, and
 * each drops its ownership with vcm_unmap(); the last one ends it.  The lookup and the
 * last vcm_unmap() take the context's lock, so a reservation being ended
 * is never returned.  VCM_MAP_REUSE needs CONFIG_VCM_RES_REFCNT.
 *
 * Context: Process context.  Takes and releases @vcm->lock.
 * Return: The bound reservation, owned by the caller until vcm_unmap(), or
 * an error of vcm_reserve() or vcm_bind(); nothing stays reserved then.
 * -EOPNOTSUPP for VCM_MAP_REUSE without CONFIG_VCM_RES_REFCNT.
 */
struct vcm_res *vcm_map(struct vcm *vcm, struct vcm_phys *phys,
			unsigned int flags)
{
	bool reuse = flags & VCM_MAP_REUSE;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm) || IS_ERR_OR_NULL(phys)))
		return ERR_PTR(-EINVAL);
	if (reuse && !IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		return ERR_PTR(-EOPNOTSUPP);
	return __vcm_map(vcm, phys, flags & ~VCM_MAP_REUSE, reuse, false);
}
EXPORT_SYMBOL_GPL(vcm_map);

/**
 * vcm_make_binding() - Allocate memory, reserve addresses and bind them.
 * @vcm: The context.
 * @size: Size in bytes; rounded up to a multiple of PAGE_SIZE.
 * @alloc_flags: Passed to the backend's allocator.
 * @res_flags: Passed to the backend's reservation.
 *
 * The memory belongs to the reservation and is freed with it.
 *
 * Context: Process context.
 * Return: The bound reservation, owned by the caller until
 * vcm_destroy_binding(), or an error of vcm_alloc(), vcm_reserve() or
 * vcm_bind() (-ENODEV if the context was destroyed); nothing stays
 * allocated then.
 */
struct vcm_res *vcm_make_binding(struct vcm *vcm, resource_size_t size,
				 unsigned int alloc_flags,
				 unsigned int res_flags)
{
	struct vcm_phys *phys;
	struct vcm_res *res;

	/* Not an allocation first that could never be bound. */
	if (!IS_ERR_OR_NULL(vcm) && size > vcm->size)
		return ERR_PTR(-ENOSPC);

	phys = vcm_alloc(vcm, size, alloc_flags);
	if (IS_ERR(phys))
		return ERR_CAST(phys);

	/* The binding's reference stands for the owner's, dropped here. */
	res = __vcm_map(vcm, phys, res_flags, false, true);
	vcm_phys_put(phys);
	return res;
}
EXPORT_SYMBOL_GPL(vcm_make_binding);

/**
 * vcm_activate() - Start translation through a context.
 * @vcm: The context.
 *
 * Activations nest: only the first reaches the backend, and every
 * successful call must be balanced by vcm_deactivate().  A caller that
 * returns 0 finds the backend's ->activate finished, even when another
 * caller made it.
 *
 * An activation keeps the context's memory, like a reservation: after
 * vcm_destroy() its holder still calls vcm_deactivate(), which then only
 * drops the count.
 *
 * Context: Process context.  Takes and releases @vcm->lock.
 * Return: 0, -EINVAL for a bad @vcm, -ENODEV if the context was destroyed,
 * or the backend's error; the context is not activated then.
 */
int vcm_activate(struct vcm *vcm)
{
	int ret = 0;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return -EINVAL;

	mutex_lock(&vcm->lock);
	if (vcm->dead)
		ret = -ENODEV;
	else if (!vcm->activations && vcm->driver->activate)
		ret = vcm->driver->activate(vcm);
	if (!ret) {
		vcm->activations++;
		refcount_inc(&vcm->users);
	}
	mutex_unlock(&vcm->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_activate);

/**
 * vcm_deactivate() - Balance one vcm_activate().
 * @vcm: The context.
 *
 * The last one stops translation in the backend, unless vcm_destroy()
 * did already.  A call without a matching vcm_activate() warns and does
 * nothing.
 *
 * Context: Process context.  Takes and releases @vcm->lock, and
 * vcm_contexts_lock if this frees a destroyed context.
 */
void vcm_deactivate(struct vcm *vcm)
{
	bool balanced;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return;

	mutex_lock(&vcm->lock);
	balanced = !VCM_WARN_ONCE(!vcm->activations, "vcm: unbalanced %s()\n",
				  __func__);
	if (balanced && !--vcm->activations && !vcm->dead &&
	    vcm->driver->deactivate)
		vcm->driver->deactivate(vcm);
	mutex_unlock(&vcm->lock);
	if (balanced)
		vcm_put(vcm);
}
EXPORT_SYMBOL_GPL(vcm_deactivate);

#ifdef CONFIG_DEBUG_FS

/*
 * debugfs: vcm/contexts has a line for each context, vcm/reservations one
 * for each bound reservation, in the manner of /proc/vmallocinfo: the
 * range first (first and last device address), then the size in bytes,
 * then "key=value" pairs.  Reading takes vcm_contexts_lock, then each
 * context's lock in turn.
 */

/*
 * The reservations of @vcm: while it is live a snapshot of the CPUs'
 * counts (see vcm_sum_live()), which can even be "negative".
 */
static unsigned long vcm_nr_res(struct vcm *vcm)
{
	lockdep_assert_held(&vcm->lock);
	if (vcm->dead)
		return atomic_long_read(&vcm->dead_res);
	return max_t(long, vcm_sum_live(vcm), 0);
}

static void vcm_show_range(struct seq_file *m, dma_addr_t start,
			   resource_size_t size)
{
	dma_addr_t last = start + (size - 1);

	seq_printf(m, "%pad-%pad %llu", &start, &last, (u64)size);
}

VISIBLE_IF_KUNIT int vcm_contexts_show(struct seq_file *m, void *unused)
{
	struct vcm_res *res;
	struct vcm *vcm;

	seq_puts(m, "# first-last size name state activations reservations bound bound_bytes, then the backend's\n");
	mutex_lock(&vcm_contexts_lock);
	list_for_each_entry(vcm, &vcm_contexts, node) {
		resource_size_t bound_bytes = 0;
		unsigned int bound = 0;

		mutex_lock(&vcm->lock);
		list_for_each_entry(res, &vcm->bound, bound_node) {
			bound++;
			bound_bytes += res->bound_size;
		}
		vcm_show_range(m, vcm->start, vcm->size);
		seq_printf(m, " name=%s state=%s activations=%u reservations=%lu bound=%u bound_bytes=%llu",
			   vcm->name ?: "-", vcm->dead ? "dead" : "live",
			   vcm->activations, vcm_nr_res(vcm), bound,
			   (u64)bound_bytes);
		if (vcm->driver->show)
			vcm->driver->show(vcm, m);
		seq_putc(m, '\n');
		mutex_unlock(&vcm->lock);
	}
	mutex_unlock(&vcm_contexts_lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vcm_contexts_show);
DEFINE_SHOW_ATTRIBUTE(vcm_contexts);

/* How a bound reservation was made. */
static const char *vcm_res_kind(const struct vcm_res *res)
{
	if (res->reusable)
		return "map-reuse";
	if (res->owns_phys)
		return "make_binding";
	return res->mapped ? "map" : "bind";
}

/* At most this many parts of the memory are printed on a line. */
#define VCM_SHOW_PARTS	4

VISIBLE_IF_KUNIT int vcm_reservations_show(struct seq_file *m, void *unused)
{
	struct vcm_res *res;
	struct vcm *vcm;
	unsigned int i;

	seq_puts(m, "# first-last size context owners flags kind bound_bytes parts phys (start+size of the first parts)\n");
	mutex_lock(&vcm_contexts_lock);
	list_for_each_entry(vcm, &vcm_contexts, node) {
		mutex_lock(&vcm->lock);
		list_for_each_entry(res, &vcm->bound, bound_node) {
			const struct vcm_phys *phys = res->phys;

			vcm_show_range(m, res->start, res->res_size);
			seq_printf(m, " context=%s owners=%u flags=%#x kind=%s bound_bytes=%llu parts=%u phys=",
				   vcm->name ?: "-", vcm_res_owners(res),
				   res->flags & (unsigned int)~VCM_CORE_FLAGS,
				   vcm_res_kind(res), (u64)res->bound_size,
				   phys->count);
			for (i = 0; i < min_t(unsigned int, phys->count, VCM_SHOW_PARTS); i++)
				seq_printf(m, "%s%pa+%#llx", i ? "," : "",
					   &phys->parts[i].start,
					   (u64)phys->parts[i].size);
			if (phys->count > VCM_SHOW_PARTS)
				seq_puts(m, ",...");
			seq_putc(m, '\n');
		}
		mutex_unlock(&vcm->lock);
	}
	mutex_unlock(&vcm_contexts_lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vcm_reservations_show);
DEFINE_SHOW_ATTRIBUTE(vcm_reservations);

static int __init vcm_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("vcm", NULL);

	/* Physical addresses are for root only, as in /proc/vmallocinfo. */
	debugfs_create_file("contexts", 0400, dir, NULL, &vcm_contexts_fops);
	debugfs_create_file("reservations", 0400, dir, NULL,
			    &vcm_reservations_fops);
	return 0;
}
late_initcall(vcm_debugfs_init);

#endif /* CONFIG_DEBUG_FS */

/**
 * vcm_set_fault_handler() - Have a context's faults reported to its driver.
 * @vcm: The context.
 * @handler: Called for each fault of a device translating through the
 *	     context that the backend learns of, or NULL to stop.
 * @priv: Passed to @handler.
 *
 * Lets a master driver recover from its device's faults (reset the
 * device, drop the frame) or report them its own way, whatever the
 * backend: the SysMMU backend calls @handler from its interrupt handler
 * for each fault at a device address; the IOMMU API backend from the
 * IOMMU driver's report_iommu_fault(), which SMMUv3 and VT-d do not call
 * in Linux 6.12 (they only log).  The handler is set while the context is
 * inactive, so that no fault races the change.
 *
 * Context: Process context.  Takes and releases @vcm->lock.
 * Return: 0, -EINVAL for a bad @vcm, or -EBUSY if the context is active.
 */
int vcm_set_fault_handler(struct vcm *vcm, vcm_fault_fn *handler, void *priv)
{
	int ret = 0;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return -EINVAL;

	mutex_lock(&vcm->lock);
	if (vcm->activations) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(vcm->fault_priv, priv);
		WRITE_ONCE(vcm->fault_handler, handler);
	}
	mutex_unlock(&vcm->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_set_fault_handler);

/**
 * vcm_report_fault() - Report a device's fault to its context's driver.
 * @vcm: The context the device translates through.
 * @addr: The device address that faulted.
 * @flags: VCM_FAULT_WRITE for a write, if the backend knows.
 *
 * For backends: calls the handler vcm_set_fault_handler() set, if any.
 *
 * Context: Any context; a backend's fault interrupt.
 * Return: the handler's return value (0: handled), or -EOPNOTSUPP if the
 * context has no handler.
 */
int vcm_report_fault(struct vcm *vcm, dma_addr_t addr, unsigned int flags)
{
	vcm_fault_fn *handler = READ_ONCE(vcm->fault_handler);

	return handler ? handler(vcm, addr, flags, READ_ONCE(vcm->fault_priv)) :
			 -EOPNOTSUPP;
}
EXPORT_SYMBOL_GPL(vcm_report_fault);

#if IS_ENABLED(CONFIG_KUNIT)
/*
 * Told of every warning of VCM and its backends (see VCM_WARN_ONCE()): a
 * failure of the KUnit test running in this thread, unless the test
 * redirected this function to count the warnings it expects.
 */
void vcm_warned(void)
{
	struct kunit *test = current->kunit_test;

	KUNIT_STATIC_STUB_REDIRECT(vcm_warned);
	/* It may run under a spinlock: no kunit_fail_current_test(). */
	if (test) {
		pr_err("a VCM warning that the test did not expect\n");
		kunit_set_failure(test);
	}
}
EXPORT_SYMBOL_GPL(vcm_warned);

/*
 * Whether the allocation about to be made should fail: false, unless a
 * KUnit test running in this thread redirected this function.
 */
bool vcm_should_fail_alloc(void)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_should_fail_alloc);
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(vcm_should_fail_alloc);
#endif

static int __init vcm_core_init(void)
{
	pr_info("Virtual Contiguous Memory core, reservation refcounting %s\n",
		IS_ENABLED(CONFIG_VCM_RES_REFCNT) ? "on" : "off");
	return 0;
}
core_initcall(vcm_core_init);
