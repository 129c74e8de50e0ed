// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): the core.
 *
 * The core owns the generic half of each VCM object; the backend owns the
 * memory and the hardware half.
 *
 *  - struct vcm is embedded in the backend's context.  The backend creates
 *    it, vcm_init() checks it, and vcm_destroy() hands it to the backend's
 *    ->cleanup (or kfree()).  It must outlive its reservations.
 *  - struct vcm_res is allocated by ->res.  The core counts its owners;
 *    when the last one is gone the core unbinds it, passes it to
 *    ->unreserve, which frees it, and frees the memory bound to it if
 *    vcm_make_binding() allocated that memory.
 *  - struct vcm_phys is allocated by ->phys or built by a driver, and freed
 *    by its own ->free from vcm_free().
 *
 * Locking
 * =======
 *
 * vcm->lock, a mutex, serialises the state changes of one context: binding
 * and unbinding of its reservations (res->phys, res->bound_size) and its
 * activation count.  The backend's ->bind, ->unbind, ->activate and
 * ->deactivate run under it and may sleep.  ->res, ->phys, ->unreserve and
 * ->cleanup run without it: a backend's address allocator has its own
 * locking.  A reservation's ownership count is a refcount_t and needs no
 * lock.  Every function of this file may sleep, except vcm_ref_reserve().
 *
 * vcm_contexts_lock, a mutex, protects the list of all contexts, which
 * exists for the debugfs file vcm/contexts.  It nests outside vcm->lock.
 *
 * Coding conventions in this file: an "owner" holds one ownership of a
 * reservation; to "release" is to drop one ownership.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/align.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>

#include <kunit/static_stub.h>
#include <kunit/visibility.h>

#include "vcm-internal.h"

static LIST_HEAD(vcm_contexts);
/* Protects vcm_contexts. */
static DEFINE_MUTEX(vcm_contexts_lock);

/**
 * vcm_init() - Check and initialise a context a backend has filled in.
 * @vcm: The context, with @start, @size and @driver set.
 *
 * The range must be non-empty, page aligned and end within dma_addr_t.
 * The driver must implement ->unreserve, and ->bind together with
 * ->unbind, and ->activate together with ->deactivate.
 *
 * Context: Process context.  Takes and releases vcm_contexts_lock.
 * Return: @vcm, or ERR_PTR(-EINVAL) if a field is invalid.
 */
struct vcm *vcm_init(struct vcm *vcm)
{
	const struct vcm_driver *driver;
	dma_addr_t room;

	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);

	driver = vcm->driver;
	if (WARN_ON_ONCE(!driver || !driver->unreserve ||
			 !driver->bind != !driver->unbind ||
			 !driver->activate != !driver->deactivate))
		return ERR_PTR(-EINVAL);

	/* Device addresses left from @start up to the last one, minus one. */
	room = (dma_addr_t)~(dma_addr_t)0 - vcm->start;
	if (!vcm->size || !PAGE_ALIGNED(vcm->start) ||
	    !PAGE_ALIGNED(vcm->size) || vcm->size - 1 > room) {
		pr_err("invalid context: start %pad, size %pa\n",
		       &vcm->start, &vcm->size);
		return ERR_PTR(-EINVAL);
	}

	mutex_init(&vcm->lock);
	vcm->activations = 0;

	mutex_lock(&vcm_contexts_lock);
	list_add_tail(&vcm->node, &vcm_contexts);
	mutex_unlock(&vcm_contexts_lock);
	return vcm;
}
EXPORT_SYMBOL_GPL(vcm_init);

/**
 * vcm_destroy() - Destroy a context.
 * @vcm: The context.
 *
 * Every reservation of the context must have been released.  A context
 * still active is deactivated first, with a warning.
 *
 * Context: Process context.  Takes and releases vcm_contexts_lock and
 * @vcm->lock.
 */
void vcm_destroy(struct vcm *vcm)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return;

	mutex_lock(&vcm_contexts_lock);
	list_del(&vcm->node);
	mutex_unlock(&vcm_contexts_lock);

	mutex_lock(&vcm->lock);
	if (WARN_ONCE(vcm->activations, "vcm: destroying an active context\n")) {
		vcm->activations = 0;
		if (vcm->driver->deactivate)
			vcm->driver->deactivate(vcm);
	}
	mutex_unlock(&vcm->lock);
	mutex_destroy(&vcm->lock);

	if (vcm->driver->cleanup)
		vcm->driver->cleanup(vcm);
	else
		kfree(vcm);
}
EXPORT_SYMBOL_GPL(vcm_destroy);

#ifdef CONFIG_VCM_RES_REFCNT

static void vcm_res_first_owner(struct vcm_res *res)
{
	refcount_set(&res->refcnt, 1);
}

/* Drops one ownership; true when it was the last. */
static bool vcm_res_release(struct vcm_res *res)
{
	return refcount_dec_and_test(&res->refcnt);
}

/**
 * vcm_ref_reserve() - Take another ownership of a reservation.
 * @res: The reservation.
 *
 * The caller must already hold an ownership of @res, or be handed one by
 * a holder that keeps it until this call returns: nothing else keeps @res
 * alive.  Each ownership is dropped by one vcm_unreserve(), vcm_unmap() or
 * vcm_destroy_binding().
 *
 * Context: Any context.  Full ordering is not provided; the increment is
 * relaxed, as refcount_inc_not_zero() documents.
 * Return: 0, or -EINVAL if @res is not a live reservation.
 */
int vcm_ref_reserve(struct vcm_res *res)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return -EINVAL;
	if (WARN_ONCE(!refcount_inc_not_zero(&res->refcnt),
		      "vcm: reservation %pad has no owner left\n", &res->start))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_ref_reserve);

#else /* !CONFIG_VCM_RES_REFCNT */

static void vcm_res_first_owner(struct vcm_res *res)
{
}

static bool vcm_res_release(struct vcm_res *res)
{
	return true;
}

#endif /* CONFIG_VCM_RES_REFCNT */

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
 * Return: The unbound reservation, or ERR_PTR(-EINVAL) for a bad @vcm or a
 * zero @size, -ENOSPC if @size is larger than the context or no range is
 * free, -EOPNOTSUPP if the backend cannot reserve, -ENOMEM.
 */
struct vcm_res *vcm_reserve(struct vcm *vcm, resource_size_t size,
			    unsigned int flags)
{
	struct vcm_res *res;

	might_sleep();
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);
	if (!size)
		return ERR_PTR(-EINVAL);
	if (size > vcm->size)
		return ERR_PTR(-ENOSPC);
	if (!vcm->driver->res)
		return ERR_PTR(-EOPNOTSUPP);

	/* Cannot overflow: the context's size is page aligned. */
	size = PAGE_ALIGN(size);
	res = vcm->driver->res(vcm, size, flags);
	if (IS_ERR(res))
		return res;
	if (WARN_ON_ONCE(!res))
		return ERR_PTR(-ENOMEM);

	res->vcm = vcm;
	res->res_size = size;
	res->bound_size = 0;
	res->phys = NULL;
	res->mapped = false;
	res->owns_phys = false;
	vcm_res_first_owner(res);
	return res;
}
EXPORT_SYMBOL_GPL(vcm_reserve);

/* Unbinds @res if it is bound; returns what was bound, or NULL. */
static struct vcm_phys *__vcm_unbind(struct vcm_res *res)
{
	struct vcm_phys *phys = res->phys;

	lockdep_assert_held(&res->vcm->lock);
	if (phys) {
		res->vcm->driver->unbind(res);
		res->phys = NULL;
		res->bound_size = 0;
	}
	return phys;
}

/*
 * Ends a reservation whose last ownership is gone, the way it was made:
 * unbinds it, returns it to the backend, and frees the memory
 * vcm_make_binding() allocated for it.
 */
static void vcm_res_end(struct vcm_res *res)
{
	struct vcm *vcm = res->vcm;
	dma_addr_t start = res->start;
	struct vcm_phys *phys, *owned;
	bool mapped;

	mutex_lock(&vcm->lock);
	mapped = res->mapped;
	owned = res->owns_phys ? res->phys : NULL;
	phys = __vcm_unbind(res);
	mutex_unlock(&vcm->lock);

	vcm->driver->unreserve(res);
	WARN_ONCE(phys && !mapped,
		  "vcm: reservation %pad ended still bound\n", &start);
	if (owned)
		vcm_free(owned);
}

/**
 * vcm_unreserve() - Drop one ownership of a reservation.
 * @res: The reservation.
 *
 * The last ownership ends the reservation the way it was made: it is
 * unbound, its range is returned to the context, and memory that
 * vcm_make_binding() allocated for it is freed.  A reservation made by
 * vcm_reserve() should have been unbound by its user: it is unbound with a
 * warning.  @res must not be used after its last ownership is dropped.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock on the
 * last release.
 */
void vcm_unreserve(struct vcm_res *res)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return;
	if (vcm_res_release(res))
		vcm_res_end(res);
}
EXPORT_SYMBOL_GPL(vcm_unreserve);

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
 * -EOPNOTSUPP if the backend cannot allocate, -ENOMEM.
 */
struct vcm_phys *vcm_alloc(struct vcm *vcm, resource_size_t size,
			   unsigned int flags)
{
	struct vcm_phys *phys;

	might_sleep();
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return ERR_PTR(-EINVAL);
	if (!size)
		return ERR_PTR(-EINVAL);
	if (size > round_down((resource_size_t)~(resource_size_t)0, PAGE_SIZE))
		return ERR_PTR(-ENOMEM);
	if (!vcm->driver->phys)
		return ERR_PTR(-EOPNOTSUPP);

	phys = vcm->driver->phys(vcm, PAGE_ALIGN(size), flags);
	if (WARN_ON_ONCE(!phys))
		return ERR_PTR(-ENOMEM);
	return phys;
}
EXPORT_SYMBOL_GPL(vcm_alloc);

/**
 * vcm_free() - Free physical memory.
 * @phys: Memory from vcm_alloc(), or built by a driver with its own @free.
 *
 * The memory must no longer be bound anywhere.
 *
 * Context: Process context.
 */
void vcm_free(struct vcm_phys *phys)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(phys) || !phys->free))
		return;
	phys->free(phys);
}
EXPORT_SYMBOL_GPL(vcm_free);

/*
 * Checks the layout of memory that a driver may have built itself: at
 * least one part, every part non-empty, page aligned and not running past
 * the last physical address, and the parts adding up to the size.
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
		    check_add_overflow(sum, part->size, &sum))
			return false;
	}
	return sum == phys->size;
}

/* vcm_bind() for @phys that vcm_phys_valid() accepted. */
static int __vcm_bind(struct vcm_res *res, struct vcm_phys *phys,
		      bool mapped, bool owns_phys)
{
	struct vcm *vcm = res->vcm;
	int ret;

	if (!vcm->driver->bind)
		return -EOPNOTSUPP;

	mutex_lock(&vcm->lock);
	if (res->phys) {
		ret = res->phys == phys ? -EALREADY : -EADDRINUSE;
		goto out_unlock;
	}
	if (phys->size > res->res_size) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	ret = vcm->driver->bind(res, phys);
	if (ret)
		goto out_unlock;
	res->phys = phys;
	res->bound_size = phys->size;
	res->mapped = mapped;
	res->owns_phys = owns_phys;
out_unlock:
	mutex_unlock(&vcm->lock);
	return ret;
}

/**
 * vcm_bind() - Make a reservation translate to physical memory.
 * @res: An unbound reservation.
 * @phys: The memory, at most as large as @res.
 *
 * Device addresses from @res->start on translate to the parts of @phys in
 * order.  While the context is active the hardware sees the binding at
 * once; otherwise when it is activated.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock.
 * Return: 0, or -EINVAL for a bad argument or malformed @phys (no parts,
 * an empty or unaligned part, a part running past the last physical
 * address, parts not adding up to its size),
 * -EOPNOTSUPP if the backend cannot bind, -EALREADY if @res is bound to
 * @phys already, -EADDRINUSE if it is bound to other memory, -ENOSPC if
 * @phys is larger than @res, or the backend's error.
 */
int vcm_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(res) || IS_ERR_OR_NULL(phys)))
		return -EINVAL;
	if (!vcm_phys_valid(phys))
		return -EINVAL;
	return __vcm_bind(res, phys, false, false);
}
EXPORT_SYMBOL_GPL(vcm_bind);

/**
 * vcm_unbind() - Undo vcm_bind().
 * @res: A bound reservation.
 *
 * The memory goes to the caller, also when vcm_make_binding() allocated
 * it: the reservation will not free it.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock.
 * Return: The memory that was bound, or ERR_PTR(-EINVAL) if @res is bad
 * or not bound.
 */
struct vcm_phys *vcm_unbind(struct vcm_res *res)
{
	struct vcm_phys *phys;

	if (WARN_ON_ONCE(IS_ERR_OR_NULL(res)))
		return ERR_PTR(-EINVAL);

	mutex_lock(&res->vcm->lock);
	phys = __vcm_unbind(res);
	res->mapped = false;
	res->owns_phys = false;
	mutex_unlock(&res->vcm->lock);
	return phys ?: ERR_PTR(-EINVAL);
}
EXPORT_SYMBOL_GPL(vcm_unbind);

static struct vcm_res *__vcm_map(struct vcm *vcm, struct vcm_phys *phys,
				 unsigned int flags, bool owns_phys)
{
	struct vcm_res *res;
	int ret;

	if (!vcm_phys_valid(phys))
		return ERR_PTR(-EINVAL);
	res = vcm_reserve(vcm, phys->size, flags);
	if (IS_ERR(res))
		return res;

	ret = __vcm_bind(res, phys, true, owns_phys);
	if (ret) {
		vcm_unreserve(res);
		return ERR_PTR(ret);
	}
	return res;
}

/**
 * vcm_map() - Reserve device addresses for memory and bind it there.
 * @vcm: The context.
 * @phys: The memory; it stays the caller's.
 * @flags: Reservation flags, passed to the backend.
 *
 * Context: Process context.
 * Return: The bound reservation, owned by the caller until vcm_unmap(), or
 * an error of vcm_reserve() or vcm_bind(); nothing stays reserved then.
 */
struct vcm_res *vcm_map(struct vcm *vcm, struct vcm_phys *phys,
			unsigned int flags)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(phys)))
		return ERR_PTR(-EINVAL);
	return __vcm_map(vcm, phys, flags, false);
}
EXPORT_SYMBOL_GPL(vcm_map);

/**
 * vcm_unmap() - Drop one ownership of a reservation made by vcm_map().
 * @res: The reservation.
 *
 * The same as vcm_unreserve(): the last ownership unbinds the reservation
 * and ends it; the memory stays its owner's.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock on the
 * last release.
 */
void vcm_unmap(struct vcm_res *res)
{
	vcm_unreserve(res);
}
EXPORT_SYMBOL_GPL(vcm_unmap);

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
 * vcm_bind(); nothing stays allocated then.
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

	res = __vcm_map(vcm, phys, res_flags, true);
	if (IS_ERR(res))
		vcm_free(phys);
	return res;
}
EXPORT_SYMBOL_GPL(vcm_make_binding);

/**
 * vcm_destroy_binding() - Drop one ownership of a vcm_make_binding() result.
 * @res: The reservation.
 *
 * The same as vcm_unreserve(): the last ownership unbinds the reservation,
 * ends it, and frees the memory that vcm_make_binding() allocated for it.
 *
 * Context: Process context.  Takes and releases @res->vcm->lock on the
 * last release.
 */
void vcm_destroy_binding(struct vcm_res *res)
{
	vcm_unreserve(res);
}
EXPORT_SYMBOL_GPL(vcm_destroy_binding);

/**
 * vcm_activate() - Start translation through a context.
 * @vcm: The context.
 *
 * Activations nest: only the first reaches the backend, and every
 * successful call must be balanced by vcm_deactivate().  A caller that
 * returns 0 finds the backend's ->activate finished, even when another
 * caller made it.
 *
 * Context: Process context.  Takes and releases @vcm->lock.
 * Return: 0, -EINVAL for a bad @vcm, or the backend's error; the context
 * is not activated then.
 */
int vcm_activate(struct vcm *vcm)
{
	int ret = 0;

	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return -EINVAL;

	mutex_lock(&vcm->lock);
	if (!vcm->activations && vcm->driver->activate)
		ret = vcm->driver->activate(vcm);
	if (!ret)
		vcm->activations++;
	mutex_unlock(&vcm->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_activate);

/**
 * vcm_deactivate() - Balance one vcm_activate().
 * @vcm: The context.
 *
 * The last one stops translation in the backend.  A call without a
 * matching vcm_activate() warns and does nothing.
 *
 * Context: Process context.  Takes and releases @vcm->lock.
 */
void vcm_deactivate(struct vcm *vcm)
{
	if (WARN_ON_ONCE(IS_ERR_OR_NULL(vcm)))
		return;

	mutex_lock(&vcm->lock);
	if (WARN_ONCE(!vcm->activations, "vcm: unbalanced %s()\n", __func__))
		goto out_unlock;
	if (!--vcm->activations && vcm->driver->deactivate)
		vcm->driver->deactivate(vcm);
out_unlock:
	mutex_unlock(&vcm->lock);
}
EXPORT_SYMBOL_GPL(vcm_deactivate);

#ifdef CONFIG_DEBUG_FS

/* vcm/contexts: one line for each context, in the order they were made. */
static int vcm_contexts_show(struct seq_file *m, void *unused)
{
	struct vcm *vcm;

	seq_puts(m, "# name start size activations\n");
	mutex_lock(&vcm_contexts_lock);
	list_for_each_entry(vcm, &vcm_contexts, node) {
		mutex_lock(&vcm->lock);
		seq_printf(m, "%s %pad %pa %u\n", vcm->name ?: "-",
			   &vcm->start, &vcm->size, vcm->activations);
		mutex_unlock(&vcm->lock);
	}
	mutex_unlock(&vcm_contexts_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vcm_contexts);

static int __init vcm_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("vcm", NULL);

	debugfs_create_file("contexts", 0444, dir, NULL, &vcm_contexts_fops);
	return 0;
}
late_initcall(vcm_debugfs_init);

#endif /* CONFIG_DEBUG_FS */

#if IS_ENABLED(CONFIG_KUNIT)
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
