/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM): the device-driver API.
 *
 * A VCM context (struct vcm) is the address space a device sees through
 * its IOMMU.  A driver reserves a range of device addresses in it
 * (struct vcm_res), allocates physical memory that may be scattered
 * (struct vcm_phys), binds the two, and activates the context so that the
 * hardware translates through it.  One vcm_phys can be bound into several
 * contexts, which lets devices share a buffer without copying it.
 *
 * Each function's kernel-doc (mm/vcm.c) is its reference.  How the
 * pieces fit together (who owns a reservation, how drivers share memory,
 * CPU caches, what happens when a context goes away, locking) is told
 * once, in Documentation/virtual-contiguous-memory.txt.  The error codes
 * are listed here, once.
 *
 * Errors
 * ======
 *
 * Functions that return a pointer return an ERR_PTR() on failure, never
 * NULL.  The codes, and every reason for each:
 *
 *  -EINVAL      a NULL or error pointer; a zero size; malformed physical
 *               memory; a flag of the core's (VCM_CORE_FLAGS) passed to
 *               vcm_reserve() or vcm_reserve_at(); an address or size
 *               given to vcm_reserve_at() that is not a multiple of
 *               PAGE_SIZE, or a range not wholly inside the context
 *               (running past its end or past the last device address);
 *               unbinding a reservation that is not bound;
 *               binding, in a one-to-one context, memory of one part
 *               that does not start at the reservation's address;
 *               vcm_o2o_create() of a device without a DMA mask;
 *               taking an ownership of a reservation that has none left;
 *               a sync range that is empty or runs past the bound memory;
 *  -ENOMEM      out of memory, or, in a one-to-one context, no memory
 *               its device reaches;
 *  -ENOSPC      no room left in the context, a size larger than the
 *               context, or physical memory larger than the reservation
 *               it is bound to; a vcm_reserve_at() range of 2^32 pages or
 *               more, which the MMU wrapper cannot claim at once;
 *  -ERANGE      physical memory the context's hardware cannot reach (in
 *               a one-to-one context: past its device's DMA limit);
 *  -EALREADY    the reservation is already bound to this physical memory;
 *  -EADDRINUSE  the reservation is already bound to other physical memory;
 *  -EBUSY       vcm_unbind() of a binding that is not its to end (made by
 *               vcm_make_binding(), or a mapping shared by VCM_MAP_REUSE);
 *               vcm_set_fault_handler() on an active context; mapping a
 *               dma-buf attachment that is mapped already;
 *               vcm_reserve_at() of a range any of which is reserved
 *               already or is a hole of the context (never handed out);
 *               vcm_map() in a one-to-one context of memory whose range
 *               is reserved there already;
 *  -EOPNOTSUPP  the backend does not implement the operation (reserving,
 *               reserving at an address, allocating, binding) or does
 *               not honour a reservation flag; VCM_MAP_REUSE or
 *               vcm_ref_reserve() without CONFIG_VCM_RES_REFCNT;
 *               vcm_vmap(), vcm_phys_export() or vcm_phys_to_sgt() of
 *               memory with a part that has no struct page;
 *               vcm_phys_export() of memory built with a NULL @free;
 *               vcm_reserve() in a one-to-one context, which cannot
 *               choose addresses; binding or vcm_map() of memory of
 *               several parts in a one-to-one context, or of memory with
 *               a part that has no struct page in the kernel's context;
 *               vcm_o2o_create*() and vcm_vmm_create() without their
 *               options;
 *               the functions of <linux/vcm-dmabuf.h> without
 *               CONFIG_VCM_DMABUF;
 *  -E2BIG       vcm_phys_export() of memory larger than a size_t,
 *               vcm_phys_to_sgt() of more than UINT_MAX entries;
 *  -ENODEV      the context was destroyed and refuses new work;
 *               vcm_o2o_create_cma() without an area, when the device
 *               has none.
 *
 * Caller bugs that can never be a run-time condition also warn, once: a
 * NULL or error pointer, an unbalanced vcm_deactivate(), the end of a
 * vcm_reserve() reservation still bound, binding freed memory, a wrong
 * vcm_vunmap(), freeing memory still mapped into the kernel, a second
 * vcm_destroy(), and a backend returning NULL.
 */
#ifndef _LINUX_VCM_H
#define _LINUX_VCM_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/types.h>

struct vcm;

/**
 * typedef vcm_fault_fn - A driver's handler of its context's faults.
 * @vcm:	the context.
 * @addr:	the device address that faulted.
 * @flags:	VCM_FAULT_WRITE if the access was a write (and the backend
 *		knows).
 * @priv:	what vcm_set_fault_handler() was given.
 *
 * Context: The backend's fault interrupt (hard or threaded), maybe under
 * the backend's spinlock: it must not sleep nor call into VCM.
 * Return: 0 if the driver handled the fault (the backend then does not
 * report it again), or a negative errno.
 */
typedef int vcm_fault_fn(struct vcm *vcm, dma_addr_t addr, unsigned int flags,
			 void *priv);

/* vcm_fault_fn flag: the access that faulted was a write. */
#define VCM_FAULT_WRITE		BIT(0)

struct vcm_driver;
struct vcm_phys;

/*
 * Reservation flag: the device may read the memory bound to the
 * reservation but not write it.  A context whose hardware cannot enforce
 * it refuses it (see struct vcm's @res_flags in <linux/vcm-drv.h>): a mapping is never made
 * writable behind its driver's back.
 */
#define VCM_READ_ONLY		BIT(0)

/*
 * vcm_map() flag: return the reservation mapping the same memory with this
 * flag in the context, if there is one, with another ownership.  The
 * flags from bit 24 on are the core's and never reach the backend.
 */
#define VCM_MAP_REUSE		BIT(31)
#define VCM_CORE_FLAGS		GENMASK(31, 24)

/**
 * struct vcm_res - a reservation of device addresses in a context.
 * @start:	first device address of the reservation; read only.
 * @bound_size:	number of bytes bound, 0 when unbound; read only.
 * @res_size:	size of the reservation in bytes; read only.
 * @vcm:	the context the reservation belongs to; read only.
 * @phys:	physical memory bound to the reservation, NULL when unbound;
 *		read only.
 * @flags:	the flags it was reserved with; read only.
 * @mapped:	made bound by vcm_map() or vcm_make_binding(), and not
 *		unbound since; internal.
 * @owns_phys:	the binding's reference to @phys is its owner's: it was
 *		allocated by vcm_make_binding(); internal.
 * @reusable:	on @vcm->reusable, for vcm_map() with VCM_MAP_REUSE;
 *		internal.
 * @reuse_node:	entry in @vcm->reusable; internal.
 * @bound_node:	entry in @vcm->bound while bound; internal.
 *
 * @bound_size, @phys, @mapped, @owns_phys, @reusable, @reuse_node and
 * @bound_node change only under @vcm->lock.
 */
struct vcm_res {
	dma_addr_t start;
	resource_size_t bound_size;
	resource_size_t res_size;
	struct vcm *vcm;
	struct vcm_phys *phys;
#ifdef CONFIG_VCM_RES_REFCNT
	/** @refcnt: number of owners; internal. */
	refcount_t refcnt;
#endif
	unsigned int flags;
	bool mapped;
	bool owns_phys;
	bool reusable;
	struct list_head reuse_node;
	struct list_head bound_node;
};

void vcm_destroy(struct vcm *vcm);

struct vcm_res *__must_check
vcm_reserve(struct vcm *vcm, resource_size_t size, unsigned int flags);
struct vcm_res *__must_check
vcm_reserve_at(struct vcm *vcm, dma_addr_t addr, resource_size_t size,
	       unsigned int flags);
void __vcm_unreserve(struct vcm_res *res);
int __vcm_ref_reserve_invalid(struct vcm_res *res);

/*
 * Taking and dropping an ownership that is not the last are inline, as
 * kref_get() and kref_put() are: a call and its return cost as much as
 * the atomic operation itself.  Everything else is out of line.
 */

/**
 * vcm_ref_reserve() - Take another ownership of a reservation.
 * @res: The reservation.
 *
 * The caller must already hold an ownership of @res, or be handed one by
 * a holder that keeps it until this call returns: nothing else keeps @res
 * alive, and so the count, above 0, is only incremented, as by kref_get().
 * Each ownership is dropped by one vcm_unreserve(), vcm_unmap() or
 * vcm_destroy_binding().
 *
 * Context: Any context.  Full ordering is not provided; the increment is
 * relaxed, as refcount_inc() documents.
 * Return: 0, or -EINVAL, with a warning, if @res is an error pointer,
 * NULL or a reservation whose last ownership is gone (one whose last
 * ownership goes during the call, which the rule above forbids, is warned
 * about by refcount_t instead, and its count saturates); -EOPNOTSUPP
 * without CONFIG_VCM_RES_REFCNT, where a reservation has exactly one
 * owner.
 */
static inline int __must_check vcm_ref_reserve(struct vcm_res *res)
{
#ifdef CONFIG_VCM_RES_REFCNT
	if (IS_ERR_OR_NULL(res) || unlikely(!refcount_read(&res->refcnt)))
		return __vcm_ref_reserve_invalid(res);
	refcount_inc(&res->refcnt);
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

/**
 * vcm_unreserve() - Drop one ownership of a reservation.
 * @res: The reservation, however it was made.
 *
 * vcm_unmap() and vcm_destroy_binding() are this function under the
 * names that pair with vcm_map() and vcm_make_binding().  The last
 * ownership ends the reservation the way it was made: it is
 * unbound, its range is returned to the context, and memory that
 * vcm_make_binding() allocated for it is freed.  A reservation made by
 * vcm_reserve() should have been unbound by its user: it is unbound with a
 * warning.  @res must not be used after its last ownership is dropped.
 *
 * Context: Process context.  On the last release, takes and releases
 * @res->vcm->lock if the reservation is bound or shared by VCM_MAP_REUSE,
 * and vcm_contexts_lock if that frees a destroyed context (whose backend's
 * ->cleanup then runs in the caller).
 */
static inline void vcm_unreserve(struct vcm_res *res)
{
#ifdef CONFIG_VCM_RES_REFCNT
	int owners;

	might_sleep();
	if (IS_ERR_OR_NULL(res))
		goto out_of_line;
	/*
	 * Not the last ownership: a decrement with release ordering, as
	 * refcount_dec_and_test() makes when it does not reach 0.  The last
	 * one, and a count that is wrong already, go out of line.
	 */
	owners = refcount_read(&res->refcnt);
	do {
		if (unlikely(owners <= 1))
			goto out_of_line;
	} while (!atomic_try_cmpxchg_release(&res->refcnt.refs, &owners,
					     owners - 1));
	return;
out_of_line:
#endif
	__vcm_unreserve(res);
}

struct vcm_phys *__must_check
vcm_alloc(struct vcm *vcm, resource_size_t size, unsigned int flags);
void vcm_free(struct vcm_phys *phys);
int __must_check vcm_phys_get(struct vcm_phys *phys);
void vcm_phys_put(struct vcm_phys *phys);

int __must_check vcm_bind(struct vcm_res *res, struct vcm_phys *phys);
int vcm_unbind(struct vcm_res *res);

struct vcm_res *__must_check
vcm_map(struct vcm *vcm, struct vcm_phys *phys, unsigned int flags);
struct vcm_res *__must_check
vcm_make_binding(struct vcm *vcm, resource_size_t size,
		 unsigned int alloc_flags, unsigned int res_flags);

/*
 * vcm_unreserve() under the names that pair with vcm_map() and
 * vcm_make_binding(), so that a release reads like its constructor.
 */
static inline void vcm_unmap(struct vcm_res *res)
{
	vcm_unreserve(res);
}

static inline void vcm_destroy_binding(struct vcm_res *res)
{
	vcm_unreserve(res);
}

void *__must_check vcm_vmap(struct vcm_phys *phys);
int vcm_vunmap(struct vcm_phys *phys, void *vaddr);

int vcm_sync_for_device(struct vcm_res *res, resource_size_t offset,
			resource_size_t size, enum dma_data_direction dir);
int vcm_sync_for_cpu(struct vcm_res *res, resource_size_t offset,
		     resource_size_t size, enum dma_data_direction dir);

int __must_check vcm_activate(struct vcm *vcm);
void vcm_deactivate(struct vcm *vcm);

int vcm_set_fault_handler(struct vcm *vcm, vcm_fault_fn *handler, void *priv);

struct cma;
struct device;

#ifdef CONFIG_VCM_O2O
struct vcm *__must_check vcm_o2o_create(struct device *dev, const char *name);
struct vcm *__must_check vcm_o2o_create_cma(struct device *dev, struct cma *cma,
					    const char *name);
#else
static inline struct vcm *__must_check vcm_o2o_create(struct device *dev,
						      const char *name)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct vcm *__must_check
vcm_o2o_create_cma(struct device *dev, struct cma *cma, const char *name)
{
	return ERR_PTR(-EOPNOTSUPP);
}
#endif

#ifdef CONFIG_VCM_VMM
struct vcm *__must_check vcm_vmm_create(const char *name);
#else
static inline struct vcm *__must_check vcm_vmm_create(const char *name)
{
	return ERR_PTR(-EOPNOTSUPP);
}
#endif

#endif /* _LINUX_VCM_H */
