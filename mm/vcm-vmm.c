// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): the kernel's own address space as a
 * context, whose device is the CPU.
 *
 * Reserving takes a range of the vmalloc area from the kernel's own
 * allocator of it (get_vm_area()); binding maps the memory's pages there,
 * read-only with VCM_READ_ONLY (refused where PAGE_KERNEL_RO is writable,
 * as on 32-bit ARM); unbinding unmaps them with the cache and
 * TLB flushes the kernel needs (vunmap_range()), so that the range can
 * be bound again at once; the last release of a reservation frees the
 * range.  vcm_alloc() gives scattered pages (vcm_phys_alloc()).  The CPU
 * sees its own caches: the context is coherent, and activation is a
 * no-op the core still counts.
 *
 * vcm_vmap() and this context both map memory into the kernel, for
 * different needs.  vcm_vmap() is one mapping per memory, shared and
 * counted by all who ask, at an address the kernel picks, and none at all
 * for memory of one part in lowmem (its own address).  A reservation here
 * belongs to its driver: it exists before any memory is bound, can be
 * bound to one buffer after another, and can be read-only.  vcm_vmap()
 * could be written as vcm_map() into such a context plus a count; it is
 * not, so as to keep the lowmem case free and vcm_vmap() usable where
 * this context is not built.
 *
 * This file is part of mm/ and maps with mm/'s own vmap_pages_range_noflush(),
 * page by page; memory without struct pages is refused.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/cacheflush.h>
#include <linux/export.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>
#include <linux/vmalloc.h>

#include "internal.h"
#include "vcm-internal.h"

/* How many pages bind maps in one call, from an array on its stack. */
#define VCM_VMM_BATCH	16

/**
 * struct vcm_vmm_res - a reservation of kernel virtual addresses.
 * @area:	the range, from get_vm_area().
 * @res:	the reservation.
 */
struct vcm_vmm_res {
	struct vm_struct *area;
	struct vcm_res res;
};

/* vcm_alloc()'s pages: 1 MiB, 64 KiB, 4 KiB blocks, as the allocator has them. */
static const unsigned char vcm_vmm_orders[] = { 8, 4, 0 };

static struct vcm_res *vcm_vmm_reserve(struct vcm *vcm, resource_size_t size,
				       unsigned int flags)
{
	struct vcm_vmm_res *vres;

	if (size > ULONG_MAX - PAGE_SIZE)
		return ERR_PTR(-ENOSPC);
	vres = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*vres), GFP_KERNEL);
	if (!vres)
		return ERR_PTR(-ENOMEM);
	vres->area = vcm_should_fail_alloc() ? NULL : get_vm_area(size, VM_MAP);
	if (!vres->area) {
		kfree(vres);
		return ERR_PTR(-ENOMEM);
	}
	vres->res.start = (unsigned long)vres->area->addr;
	return &vres->res;
}

static void vcm_vmm_unreserve(struct vcm_res *res)
{
	struct vcm_vmm_res *vres = container_of(res, struct vcm_vmm_res, res);

	free_vm_area(vres->area);
	kfree(vres);
}

static struct vcm_phys *vcm_vmm_alloc(struct vcm *vcm, resource_size_t size,
				      unsigned int flags)
{
	return vcm_phys_alloc(size, 0, vcm_vmm_orders);
}

/*
 * Maps @phys's pages from @res->start on, @VCM_VMM_BATCH at a time; on
 * failure unmaps what it mapped.
 */
static int vcm_vmm_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	pgprot_t prot = res->flags & VCM_READ_ONLY ? PAGE_KERNEL_RO : PAGE_KERNEL;
	unsigned long start = res->start, addr = start;
	struct page *batch[VCM_VMM_BATCH];
	unsigned int i, n = 0;
	int ret = 0;

	for (i = 0; i < phys->count; i++)
		if (!phys->parts[i].page)
			return -EOPNOTSUPP;

	for (i = 0; i < phys->count && !ret; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		unsigned long j, nr = part->size >> PAGE_SHIFT;

		for (j = 0; j < nr && !ret; j++) {
			batch[n++] = nth_page(part->page, j);
			if (n < VCM_VMM_BATCH && (j + 1 < nr || i + 1 < phys->count))
				continue;
			/* Page tables are allocated here. */
			ret = vcm_should_fail_alloc() ? -ENOMEM :
				vmap_pages_range_noflush(addr, addr + n * PAGE_SIZE,
							 prot, batch, PAGE_SHIFT);
			/* Past a batch that failed half-way too. */
			addr += n * PAGE_SIZE;
			n = 0;
		}
	}
	if (ret) {
		vunmap_range(start, addr);
		return ret;
	}
	flush_cache_vmap(start, addr);
	return 0;
}

static void vcm_vmm_unbind(struct vcm_res *res)
{
	vunmap_range(res->start, res->start + res->phys->size);
}

static const struct vcm_driver vcm_vmm_driver = {
	.res		= vcm_vmm_reserve,
	.phys		= vcm_vmm_alloc,
	.unreserve	= vcm_vmm_unreserve,
	.bind		= vcm_vmm_bind,
	.unbind		= vcm_vmm_unbind,
};

/**
 * vcm_vmm_create() - Create a context of kernel virtual addresses.
 * @name: What the context is for, shown in debugfs, or NULL; it must stay
 *	  valid until the context is freed.
 *
 * A context whose device is the CPU: vcm_reserve() takes a range of the
 * vmalloc area, vcm_bind() maps memory there (memory whose parts all have
 * struct pages), vcm_unbind() unmaps it with the TLB flush the kernel
 * needs.  A driver sees a buffer it shares with devices at a kernel
 * address it reserved; res->start is that address.  Each call makes a
 * new context, with reservations of its own in the one vmalloc area.
 * vcm_reserve_at() is not supported (-EOPNOTSUPP): the kernel chooses its
 * own addresses.  See "The kernel's context" in
 * Documentation/virtual-contiguous-memory.txt.
 *
 * Context: Process context.
 * Return: The context, destroyed with vcm_destroy(), or ERR_PTR(-ENOMEM).
 */
struct vcm *vcm_vmm_create(const char *name)
{
	struct vcm *vcm, *ret;

	vcm = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*vcm), GFP_KERNEL);
	if (!vcm)
		return ERR_PTR(-ENOMEM);
	vcm->start = VMALLOC_START;
	/* Whole pages: x86_64's VMALLOC_END is the area's last byte. */
	vcm->size = round_down(VMALLOC_END - VMALLOC_START, PAGE_SIZE);
	vcm->driver = &vcm_vmm_driver;
	vcm->name = name;
	vcm->coherent = true;
	/* Where the kernel has no read-only kernel pages, it is refused. */
	if (pgprot_val(PAGE_KERNEL_RO) != pgprot_val(PAGE_KERNEL))
		vcm->res_flags = VCM_READ_ONLY;

	ret = vcm_init(vcm);
	if (IS_ERR(ret))
		kfree(vcm);
	return ret;
}
EXPORT_SYMBOL_GPL(vcm_vmm_create);
