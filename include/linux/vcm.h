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
 * Ownership of a reservation
 * ==========================
 *
 * vcm_reserve() hands its caller the first ownership of a reservation.
 * With CONFIG_VCM_RES_REFCNT, vcm_ref_reserve() takes another one; it is
 * only legal while the caller already holds an ownership, or is being
 * handed one by a holder.  vcm_unreserve(), vcm_unmap() and
 * vcm_destroy_binding() each drop one ownership, and whichever drops the
 * last one ends the reservation the way it was made: it unbinds it,
 * returns its range to the context, and frees the memory that
 * vcm_make_binding() allocated for it.  Dropping an ownership that is no
 * longer held is a use-after-free in the caller, which VCM detects only in
 * part.  The last release hands the structure back to the backend, which
 * frees it or keeps it for its next reservation (the MMU wrapper keeps a
 * few on each CPU, except under KASAN); the slab allocator reuses freed
 * ones too.  While the structure is neither freed nor reused, the
 * refcount_t saturates and warns and nothing is released twice.  Once it
 * is freed, KASAN reports the release.  Once it is reused, the release
 * ends the reservation that uses it now, and its range may be handed out
 * twice: without KASAN, nothing detects that.
 *
 * Errors
 * ======
 *
 * Functions returning a pointer return an ERR_PTR() on failure, never
 * NULL.  The codes are:
 *
 *  -EINVAL      a NULL or error pointer, a zero size, malformed physical
 *               memory, or an operation that makes no sense in the
 *               object's state;
 *  -ENOMEM      out of memory;
 *  -ENOSPC      no room left in the address space, or physical memory
 *               larger than the reservation it is bound to;
 *  -ERANGE      physical memory the context's hardware cannot reach;
 *  -EALREADY    the reservation is already bound to this physical memory;
 *  -EADDRINUSE  the reservation is already bound to other physical memory;
 *  -EBUSY       the reservation's binding is not vcm_unbind()'s to end: it
 *               was made by vcm_make_binding(), or is a mapping shared by
 *               VCM_MAP_REUSE;
 *  -EOPNOTSUPP  the context's driver does not implement the operation,
 *               or does not honour a reservation flag;
 *  -ENODEV      the context was destroyed (see "Lifetimes" below).
 *
 * Caller bugs that can never be a run-time condition (NULL or error
 * pointers, unbalanced activation, releasing a reservation still bound)
 * also warn once.
 *
 * Sharing physical memory
 * =======================
 *
 * A vcm_phys is counted: its owner (whoever vcm_alloc()ed or built it)
 * holds one reference, dropped by vcm_free(), and each binding holds one,
 * dropped when the reservation is unbound.  The memory is freed when the
 * last is gone, in whatever order they go; until then it may be bound into
 * any number of reservations of any contexts.  Only a holder of a
 * reference may use the pointer: after its vcm_free() an owner must not.
 * A holder lets another driver keep the memory by taking a reference for
 * it with vcm_phys_get(), which that driver drops with vcm_phys_put(); a
 * dma-buf that exports the memory holds one too (<linux/vcm-dmabuf.h>).
 *
 * vcm_map() with VCM_MAP_REUSE returns the reservation that already maps
 * the same memory in the same context with the same flags, with one more
 * ownership, instead of a second mapping.  Its owners share it: none may
 * unbind it (-EBUSY), each releases its ownership with vcm_unmap().
 *
 * vcm_vmap() gives the memory one kernel mapping, counted: every
 * vcm_vmap() returns the same address and is undone by one vcm_vunmap().
 *
 * CPU caches
 * ==========
 *
 * A context is coherent when its device snoops the CPU caches (@coherent).
 * For the others VCM cleans memory once, to the point of coherency, before
 * a device can first reach it: when it is first bound into such a context.
 * That covers the zeroes of vcm_alloc() and whatever a driver wrote into
 * memory it built before that binding.  From then on the memory is the
 * driver's to hand over, as with the DMA API's streaming mappings: after
 * the CPU wrote it (through vcm_vmap(), a cacheable mapping, or any other)
 * and before the device reads it, vcm_sync_for_device(); after the device
 * wrote it and before the CPU reads it, vcm_sync_for_cpu().  Both are
 * no-ops in a coherent context.
 *
 * Lifetimes
 * =========
 *
 * vcm_destroy() may be called while reservations and activations of the
 * context are still held (the hardware behind it is going away).  The
 * context then goes dead: the hardware is deactivated at once, and
 * vcm_reserve(), vcm_alloc(), vcm_bind(), vcm_map(), vcm_make_binding()
 * and vcm_activate() fail with -ENODEV.  The holders can still unbind,
 * unreserve, unmap, vcm_deactivate() and vcm_free(); the context's memory
 * and its backend's cleanup go when the last of them has.  Each holder
 * must balance what it holds; holding something is also what makes it
 * safe to call into a destroyed context.  Once the context is freed its
 * pointer is gone: a second vcm_destroy() is a use-after-free, and warns
 * only while holders remain.
 */
#ifndef _LINUX_VCM_H
#define _LINUX_VCM_H

#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/percpu-refcount.h>
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
 * it refuses it (see struct vcm's @res_flags): a mapping is never made
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
 * @users:	counts the context's creator until vcm_destroy(), each
 *		activation and each reservation; the context is freed when
 *		none is left; internal.
 * @killed:	completed when no CPU can take a new user any more, after
 *		vcm_destroy() killed @users; internal.
 * @free_node:	entry in the list of contexts waiting to be freed;
 *		internal.
 * @dead:	vcm_destroy() was called; written under @lock; internal.
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
 * and calls vcm_init().
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
	struct percpu_ref users;
	struct completion killed;
	struct llist_node free_node;
	bool dead;
	struct list_head reusable;
	struct list_head bound;
	struct list_head node;
};

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
void vcm_unreserve(struct vcm_res *res);

#ifdef CONFIG_VCM_RES_REFCNT
int __must_check vcm_ref_reserve(struct vcm_res *res);
#else
/* Without reservation refcounting a reservation has exactly one owner. */
static inline int __must_check vcm_ref_reserve(struct vcm_res *res)
{
	return -EOPNOTSUPP;
}
#endif

struct vcm_phys *__must_check
vcm_alloc(struct vcm *vcm, resource_size_t size, unsigned int flags);
void vcm_free(struct vcm_phys *phys);
int __must_check vcm_phys_get(struct vcm_phys *phys);
void vcm_phys_put(struct vcm_phys *phys);

int __must_check vcm_bind(struct vcm_res *res, struct vcm_phys *phys);
int vcm_unbind(struct vcm_res *res);

struct vcm_res *__must_check
vcm_map(struct vcm *vcm, struct vcm_phys *phys, unsigned int flags);
void vcm_unmap(struct vcm_res *res);

struct vcm_res *__must_check
vcm_make_binding(struct vcm *vcm, resource_size_t size,
		 unsigned int alloc_flags, unsigned int res_flags);
void vcm_destroy_binding(struct vcm_res *res);

void *__must_check vcm_vmap(struct vcm_phys *phys);
int vcm_vunmap(struct vcm_phys *phys, void *vaddr);

int vcm_sync_for_device(struct vcm_res *res, resource_size_t offset,
			resource_size_t size, enum dma_data_direction dir);
int vcm_sync_for_cpu(struct vcm_res *res, resource_size_t offset,
		     resource_size_t size, enum dma_data_direction dir);

int __must_check vcm_activate(struct vcm *vcm);
void vcm_deactivate(struct vcm *vcm);

int vcm_set_fault_handler(struct vcm *vcm, vcm_fault_fn *handler, void *priv);

#endif /* _LINUX_VCM_H */
