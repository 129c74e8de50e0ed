// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): one-to-one contexts, for devices
 * without an IOMMU.
 *
 * Such a device sees memory at its bus address: the physical address, or
 * the address the device's DMA ranges make of it (phys_to_dma(), the DMA
 * API's own translation).  A one-to-one context lets the driver of such a
 * device use VCM as it would behind an IOMMU: vcm_alloc() gives memory the
 * device can reach, physically contiguous, and vcm_map() and
 * vcm_make_binding() reserve it where the device sees it.  The context
 * cannot choose addresses, so vcm_reserve() is refused (-EOPNOTSUPP) and
 * vcm_reserve_at() takes the range where memory will be bound; a binding
 * must be one contiguous part starting at its reservation's address.
 *
 * Two flavours differ only in where vcm_alloc() takes memory: the page
 * allocator, for small buffers (vcm_o2o_create()), or a CMA area
 * (vcm_o2o_create_cma()).  Memory the device cannot address (its DMA
 * mask, its bus limit) is never handed out.
 *
 * Reservations are kept in a maple tree of page numbers, which refuses a
 * range that overlaps one already there: that is the -EBUSY of
 * vcm_reserve_at().  There is no hardware: activation is a no-op the core
 * still counts, and a destroyed context has nothing to let go of.  The
 * context holds a reference to its device, whose DMA limits it reads
 * until it is freed.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/cma.h>
#include <linux/device.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/maple_tree.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>

#include "vcm-internal.h"

/**
 * struct vcm_o2o - a one-to-one context.
 * @vcm:	the context.
 * @dev:	the device, referenced until the context is freed.
 * @cma:	the CMA area vcm_alloc() takes memory from, or NULL for the
 *		page allocator.
 * @res:	the reservations, by page number of their first and last
 *		pages.
 */
struct vcm_o2o {
	struct vcm vcm;
	struct device *dev;
	struct cma *cma;
	struct maple_tree res;
};

/**
 * struct vcm_o2o_phys - memory of a one-to-one context's vcm_alloc().
 * @cma:	the CMA area it came from, or NULL for the page allocator.
 * @phys:	the memory, one part; last, as it ends with its parts.
 */
struct vcm_o2o_phys {
	struct cma *cma;
	struct vcm_phys phys;
};

static struct vcm_o2o *to_vcm_o2o(struct vcm *vcm)
{
	return container_of(vcm, struct vcm_o2o, vcm);
}

/* Whether the device can reach [@paddr, @paddr + @size) at its bus address. */
static bool vcm_o2o_reaches(const struct vcm_o2o *o2o, phys_addr_t paddr,
			    resource_size_t size, bool is_ram)
{
	return size <= SIZE_MAX &&
	       dma_capable(o2o->dev, phys_to_dma(o2o->dev, paddr), size, is_ram);
}

/*
 * Where @phys must be reserved: the bus address of its one part.  Memory
 * of several parts cannot look contiguous to a device without an IOMMU.
 */
static int vcm_o2o_place(struct vcm *vcm, const struct vcm_phys *phys,
			 dma_addr_t *addr)
{
	struct vcm_o2o *o2o = to_vcm_o2o(vcm);
	const struct vcm_phys_part *part = &phys->parts[0];

	if (phys->count != 1)
		return -EOPNOTSUPP;
	if (!vcm_o2o_reaches(o2o, part->start, part->size, part->page))
		return -ERANGE;
	*addr = phys_to_dma(o2o->dev, part->start);
	return 0;
}

static struct vcm_res *vcm_o2o_reserve_at(struct vcm *vcm, dma_addr_t addr,
					  resource_size_t size,
					  unsigned int flags)
{
	struct vcm_o2o *o2o = to_vcm_o2o(vcm);
	struct vcm_res *res;
	int ret;

	res = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return ERR_PTR(-ENOMEM);
	res->start = addr;
	/* The context's range keeps its page numbers within a long. */
	ret = vcm_should_fail_alloc() ? -ENOMEM :
		mtree_insert_range(&o2o->res, addr >> PAGE_SHIFT,
				   (addr + size - 1) >> PAGE_SHIFT, res,
				   GFP_KERNEL);
	if (ret) {
		kfree(res);
		return ERR_PTR(ret == -EEXIST ? -EBUSY : ret);
	}
	return res;
}

static void vcm_o2o_unreserve(struct vcm_res *res)
{
	struct vcm_o2o *o2o = to_vcm_o2o(res->vcm);

	mtree_erase(&o2o->res, res->start >> PAGE_SHIFT);
	kfree(res);
}

static void vcm_o2o_free(struct vcm_phys *phys)
{
	struct vcm_o2o_phys *op = container_of(phys, struct vcm_o2o_phys, phys);
	struct vcm_phys_part *part = &phys->parts[0];

	if (IS_ENABLED(CONFIG_CMA) && op->cma)
		cma_release(op->cma, part->page, part->size >> PAGE_SHIFT);
	else
		vcm_phys_put_pages(part->page, get_order(part->size));
	kfree(op);
}

/*
 * A block of the page allocator the device reaches: the zones the DMA API
 * would try, widest first.  The block is of the order that holds @size,
 * as dma-direct allocates it; the pages past @size stay unused until it
 * is freed.
 */
static struct page *vcm_o2o_get_pages(struct vcm_o2o *o2o,
				      resource_size_t size)
{
	const gfp_t zones[] = {
		0,
		IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0,
		IS_ENABLED(CONFIG_ZONE_DMA) ? __GFP_DMA : 0,
	};
	unsigned int order = get_order(size);
	struct page *page;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zones); i++) {
		if (i && !zones[i])
			continue;
		page = vcm_phys_get_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
					  zones[i], order);
		if (!page)
			return NULL;
		if (vcm_o2o_reaches(o2o, page_to_phys(page), size, true))
			return page;
		vcm_phys_put_pages(page, order);
	}
	return NULL;
}

/* From the CMA area, aligned to its size as the DMA API aligns it. */
static struct page *vcm_o2o_get_cma(struct vcm_o2o *o2o, resource_size_t size)
{
	unsigned int align = min_t(unsigned int, get_order(size), MAX_PAGE_ORDER);
	unsigned long i, count = size >> PAGE_SHIFT;
	struct page *page;

	page = cma_alloc(o2o->cma, count, align, true);
	if (page && !vcm_o2o_reaches(o2o, page_to_phys(page), size, true)) {
		cma_release(o2o->cma, page, count);
		return NULL;
	}
	/* Zeroed: a device must not see what was there before. */
	for (i = 0; page && i < count; i++)
		clear_highpage(nth_page(page, i));
	return page;
}

static struct vcm_phys *vcm_o2o_alloc(struct vcm *vcm, resource_size_t size,
				      unsigned int flags)
{
	struct vcm_o2o *o2o = to_vcm_o2o(vcm);
	struct vcm_o2o_phys *op;
	struct page *page;

	if (size > SIZE_MAX)
		return ERR_PTR(-ENOMEM);
	op = vcm_should_fail_alloc() ? NULL :
	     kzalloc(struct_size(op, phys.parts, 1), GFP_KERNEL);
	if (!op)
		return ERR_PTR(-ENOMEM);
	if (vcm_should_fail_alloc())
		page = NULL;
	else if (IS_ENABLED(CONFIG_CMA) && o2o->cma)
		page = vcm_o2o_get_cma(o2o, size);
	else
		page = vcm_o2o_get_pages(o2o, size);
	if (!page) {
		kfree(op);
		return ERR_PTR(-ENOMEM);
	}

	op->cma = o2o->cma;
	op->phys.count = 1;
	op->phys.size = size;
	op->phys.parts[0].start = page_to_phys(page);
	op->phys.parts[0].page = page;
	op->phys.parts[0].size = size;
	vcm_phys_init(&op->phys, vcm_o2o_free);
	return &op->phys;
}

/* The device sees the memory where it is: nothing to write. */
static int vcm_o2o_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	dma_addr_t addr;
	int ret;

	ret = vcm_o2o_place(res->vcm, phys, &addr);
	if (!ret && addr != res->start)
		ret = -EINVAL;
	return ret;
}

static void vcm_o2o_unbind(struct vcm_res *res)
{
}

static void vcm_o2o_show(struct vcm *vcm, struct seq_file *m)
{
	struct vcm_o2o *o2o = to_vcm_o2o(vcm);

	seq_printf(m, " o2o=%s device=%s", o2o->cma ? "cma" : "pages",
		   dev_name(o2o->dev));
}

static void vcm_o2o_cleanup(struct vcm *vcm)
{
	struct vcm_o2o *o2o = to_vcm_o2o(vcm);

	mtree_destroy(&o2o->res);
	put_device(o2o->dev);
	kfree(o2o);
}

static const struct vcm_driver vcm_o2o_driver = {
	.cleanup	= vcm_o2o_cleanup,
	.res_at		= vcm_o2o_reserve_at,
	.place		= vcm_o2o_place,
	.phys		= vcm_o2o_alloc,
	.unreserve	= vcm_o2o_unreserve,
	.bind		= vcm_o2o_bind,
	.unbind		= vcm_o2o_unbind,
	.show		= vcm_o2o_show,
};

static struct vcm *__vcm_o2o_create(struct device *dev, struct cma *cma,
				    const char *name)
{
	struct vcm_o2o *o2o;
	struct vcm *vcm;
	u64 last;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(dev)))
		return ERR_PTR(-EINVAL);
	if (!dev->dma_mask)
		return ERR_PTR(-EINVAL);

	/*
	 * From bus address 0 to the device's limit, as far as the context's
	 * size and a long's page numbers go.
	 */
	last = min3((u64)min_not_zero(*dev->dma_mask, dev->bus_dma_limit),
		    (u64)(resource_size_t)~(resource_size_t)0,
		    ((u64)ULONG_MAX << PAGE_SHIFT) | ~PAGE_MASK);
	if (last < PAGE_SIZE - 1)
		return ERR_PTR(-EINVAL);

	o2o = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*o2o), GFP_KERNEL);
	if (!o2o)
		return ERR_PTR(-ENOMEM);
	o2o->dev = get_device(dev);
	o2o->cma = cma;
	mt_init(&o2o->res);
	o2o->vcm.start = 0;
	/* Whole pages; the last one is left out if a size cannot hold it. */
	o2o->vcm.size = last == (resource_size_t)~(resource_size_t)0 ?
			round_down(last, PAGE_SIZE) : round_down(last + 1, PAGE_SIZE);
	o2o->vcm.driver = &vcm_o2o_driver;
	o2o->vcm.name = name;
	o2o->vcm.coherent = dev_is_dma_coherent(dev);

	vcm = vcm_init(&o2o->vcm);
	if (IS_ERR(vcm)) {
		put_device(dev);
		kfree(o2o);
	}
	return vcm;
}

/**
 * vcm_o2o_create() - Create a one-to-one context on the page allocator.
 * @dev: The device, which has no IOMMU; its DMA mask set.
 * @name: What the context is for, shown in debugfs, or NULL; it must stay
 *	  valid until the context is freed.
 *
 * The device sees memory at its bus address (phys_to_dma()), from 0 up to
 * its DMA limit.  vcm_alloc() gives one physically contiguous block from
 * the page allocator, in the zones the DMA API would use for the device's
 * mask; each block is of a power-of-two number of pages (for a size of 3
 * pages, 4 are held), so this flavour is for small buffers.  vcm_map()
 * and vcm_make_binding() reserve memory where the device sees it;
 * vcm_reserve() is refused, as the context cannot choose addresses.  See
 * "One-to-one contexts" in Documentation/virtual-contiguous-memory.txt.
 *
 * Context: Process context.
 * Return: The context, destroyed with vcm_destroy(), or ERR_PTR(-EINVAL)
 * for a NULL @dev (which also warns once) or a device without a DMA mask,
 * -ENOMEM.
 */
struct vcm *vcm_o2o_create(struct device *dev, const char *name)
{
	return __vcm_o2o_create(dev, NULL, name);
}
EXPORT_SYMBOL_GPL(vcm_o2o_create);

/**
 * vcm_o2o_create_cma() - Create a one-to-one context on a CMA area.
 * @dev: The device, which has no IOMMU; its DMA mask set.
 * @cma: The area vcm_alloc() allocates from, or NULL for the device's own
 *	 (dev_get_cma_area(): its area, or the default one).
 * @name: As for vcm_o2o_create().
 *
 * As vcm_o2o_create(), but vcm_alloc() takes the memory from @cma, aligned
 * to the power of two that holds its size (at most MAX_PAGE_ORDER), and
 * holds exactly the pages of the size.
 *
 * Context: Process context.
 * Return: The context, or ERR_PTR(-EINVAL) for a NULL @dev (which also
 * warns once) or a device without a DMA mask, -ENODEV if @cma is NULL and
 * the device has no area (no CONFIG_DMA_CMA, or no default area),
 * -ENOMEM.
 */
struct vcm *vcm_o2o_create_cma(struct device *dev, struct cma *cma,
			       const char *name)
{
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(dev)))
		return ERR_PTR(-EINVAL);
	if (!cma && IS_ENABLED(CONFIG_CMA))
		cma = dev_get_cma_area(dev);
	if (!cma)
		return ERR_PTR(-ENODEV);
	return __vcm_o2o_create(dev, cma, name);
}
EXPORT_SYMBOL_GPL(vcm_o2o_create_cma);
