// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM) on the kernel's IOMMU API.
 *
 * A context of this backend is an iommu_domain of its own (a paging
 * domain, UNMANAGED) for one device, built on the MMU wrapper: the
 * wrapper hands out the device addresses and keeps the bound list, this
 * file maps and unmaps through the IOMMU API.  So any IOMMU driver is a
 * VCM backend, and the domain's page sizes, aperture and reserved regions
 * are the context's.
 *
 *  - vcm_iommu_create() takes the device from the DMA API, as iommufd
 *    does (iommu_device_claim_dma_owner(): the device's driver must set
 *    driver_managed_dma), allocates the domain, attaches it once to read
 *    its geometry (several drivers fill it in only then), checks the
 *    range against it, the DMA mask and the group's reserved regions,
 *    and detaches it again: the group is left blocking DMA.
 *  - Activation attaches the domain after the wrapper mapped every bound
 *    reservation; deactivation detaches it (the group blocks DMA again,
 *    it never bypasses translation) before they are unmapped.
 *  - Mapping uses iommu_map() per run of physically contiguous parts of
 *    the memory, unmapping one iommu_unmap_fast() of the reservation's
 *    range and one iommu_iotlb_sync().  The reservation's flags give the protection.
 *  - vcm_destroy() deactivates the context and gives the device back to
 *    the DMA API (its default domain); the domain is freed with the
 *    context, when its last reservation is gone.
 *
 * The group's reserved regions (the MSI window, direct-mapped ranges) are
 * holes of the wrapper's address pool, widened to whole pages, so that no
 * reservation lies on or across one.
 *
 * Faults: where the IOMMU driver reports them through
 * report_iommu_fault() (ARM SMMU v2, AMD, Exynos, Rockchip, ...), they
 * are counted (debugfs: faults=) and handed to the master's handler
 * (vcm_set_fault_handler()), or logged if it did not handle them; SMMUv3
 * and VT-d on 6.12 only log them in their own words.
 *
 * Locking: the backend's operations sleep (IOMMU drivers allocate page
 * tables and may resume the IOMMU), so the wrapper calls them under the
 * context's mutex alone (struct vcm_mmu_driver's may_sleep).  The
 * statistics change under that mutex; the fault count is atomic, as the
 * fault handler runs in interrupt context.
 */

#define pr_fmt(fmt) "vcm-iommu: " fmt

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/list_sort.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-iommu.h>

/*
 * Compatibility with Linux 6.1; upstream drops it.  Kernels before 6.8
 * lack MAX_PAGE_ORDER (see mm/vcm-internal.h); of those only 6.1 is
 * supported, whose IOMMU API allocates a domain per bus, claims DMA
 * ownership per group (6.2 added the device's), and maps without a gfp
 * argument (always GFP_KERNEL there).
 */
#ifndef MAX_PAGE_ORDER
#define MAX_PAGE_ORDER ilog2(MAX_ORDER_NR_PAGES)

static struct iommu_domain *iommu_paging_domain_alloc(struct device *dev)
{
	return iommu_domain_alloc(dev->bus) ?: ERR_PTR(-ENOMEM);
}

static int iommu_device_claim_dma_owner(struct device *dev, void *owner)
{
	struct iommu_group *group = iommu_group_get(dev);
	int ret;

	if (!group)
		return -ENODEV;
	ret = iommu_group_claim_dma_owner(group, owner);
	iommu_group_put(group);
	return ret;
}

static void iommu_device_release_dma_owner(struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);

	if (group) {
		iommu_group_release_dma_owner(group);
		iommu_group_put(group);
	}
}

static int vcm_iommu_map(struct iommu_domain *domain, unsigned long iova,
			 phys_addr_t paddr, size_t size, int prot)
{
	return iommu_map(domain, iova, paddr, size, prot);
}
#else
static int vcm_iommu_map(struct iommu_domain *domain, unsigned long iova,
			 phys_addr_t paddr, size_t size, int prot)
{
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL);
}
#endif

/**
 * struct vcm_iommu - a VCM context on an iommu_domain.
 * @mmu:	the wrapper's context; embeds the struct vcm.
 * @dev:	the device whose group the domain is for; referenced.
 * @domain:	the paging domain.
 * @name:	the context's name, a copy.
 * @orders:	the page sizes of @domain that the page allocator can
 *		give, as orders; terminated by 0.
 * @prot:	IOMMU_CACHE for a coherent device, or 0.
 * @owned:	the DMA API's ownership of @dev is ours.
 * @maps:	iommu_map() calls, one per run of contiguous parts; under
 *		the context's mutex.
 * @unmaps:	unmappings, each one iommu_unmap_fast() of a reservation's
 *		range and one iommu_iotlb_sync(); under the context's mutex.
 * @faults:	faults the IOMMU driver reported.
 */
struct vcm_iommu {
	struct vcm_mmu mmu;
	struct device *dev;
	struct iommu_domain *domain;
	const char *name;
	unsigned char orders[BITS_PER_LONG + 1];
	int prot;
	bool owned;
	unsigned long maps;
	unsigned long unmaps;
	atomic_long_t faults;
};

static struct vcm_iommu *to_vcm_iommu(struct vcm_mmu *mmu)
{
	return container_of(mmu, struct vcm_iommu, mmu);
}

static int vcm_iommu_prot(const struct vcm_iommu *vi, const struct vcm_res *res)
{
	int prot = IOMMU_READ | vi->prot;

	if (!(res->flags & VCM_READ_ONLY))
		prot |= IOMMU_WRITE;
	return prot;
}

/*
 * Unmaps @size bytes from @res's start: one range of device addresses,
 * whatever the parts, and one IOTLB sync.
 */
static void vcm_iommu_unmap(struct vcm_iommu *vi, struct vcm_res *res,
			    resource_size_t size)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	VCM_WARN_ON_ONCE(iommu_unmap_fast(vi->domain, res->start, size, &gather) != size);
	iommu_iotlb_sync(vi->domain, &gather);
	vi->unmaps++;
}

/*
 * Maps @phys at @res's start, one iommu_map() per run of physically
 * contiguous parts (the page allocator often hands out neighbours), so
 * that the IOMMU driver can use its largest pages across parts.
 */
static int vcm_iommu_activate(struct vcm_res *res, struct vcm_phys *phys)
{
	struct vcm_iommu *vi = to_vcm_iommu(vcm_to_mmu(res->vcm));
	int prot = vcm_iommu_prot(vi, res);
	resource_size_t done = 0, run;
	unsigned int i, next;
	int ret = 0;

	for (i = 0; i < phys->count; i = next) {
		run = phys->parts[i].size;
		for (next = i + 1; next < phys->count &&
		     phys->parts[next].start == phys->parts[i].start + run; next++)
			run += phys->parts[next].size;
		ret = vcm_should_fail_alloc() ? -ENOMEM :
		      vcm_iommu_map(vi->domain, res->start + done,
				    phys->parts[i].start, run, prot);
		if (ret)
			break;
		vi->maps++;
		done += run;
	}
	if (ret && done)
		vcm_iommu_unmap(vi, res, done);
	return ret;
}

static void vcm_iommu_deactivate(struct vcm_res *res, struct vcm_phys *phys)
{
	vcm_iommu_unmap(to_vcm_iommu(vcm_to_mmu(res->vcm)), res, phys->size);
}

static int vcm_iommu_enable(struct vcm_mmu *mmu)
{
	struct vcm_iommu *vi = to_vcm_iommu(mmu);

	return iommu_attach_device(vi->domain, vi->dev);
}

/* Detaching leaves the group blocking DMA: we own it. */
static void vcm_iommu_disable(struct vcm_mmu *mmu)
{
	struct vcm_iommu *vi = to_vcm_iommu(mmu);

	iommu_detach_device(vi->domain, vi->dev);
}

/* vcm_destroy(): the device goes back to the DMA API's default domain. */
static void vcm_iommu_detach(struct vcm_mmu *mmu)
{
	struct vcm_iommu *vi = to_vcm_iommu(mmu);

	iommu_device_release_dma_owner(vi->dev);
	vi->owned = false;
}

static void vcm_iommu_free(struct vcm_iommu *vi)
{
	if (!IS_ERR_OR_NULL(vi->domain))
		iommu_domain_free(vi->domain);
	if (vi->owned)
		iommu_device_release_dma_owner(vi->dev);
	put_device(vi->dev);
	kfree_const(vi->name);
	kfree(vi);
}

static void vcm_iommu_cleanup(struct vcm_mmu *mmu)
{
	vcm_iommu_free(to_vcm_iommu(mmu));
}

static void vcm_iommu_show(struct vcm_mmu *mmu, struct seq_file *m)
{
	struct vcm_iommu *vi = to_vcm_iommu(mmu);

	seq_printf(m, " iommu_pgsizes=0x%lx maps=%lu unmaps=%lu faults=%ld",
		   vi->domain->pgsize_bitmap, vi->maps, vi->unmaps,
		   atomic_long_read(&vi->faults));
}

static const struct vcm_mmu_driver vcm_iommu_driver = {
	.may_sleep	= true,
	.cleanup	= vcm_iommu_cleanup,
	.activate	= vcm_iommu_activate,
	.deactivate	= vcm_iommu_deactivate,
	.enable		= vcm_iommu_enable,
	.disable	= vcm_iommu_disable,
	.detach		= vcm_iommu_detach,
	.show		= vcm_iommu_show,
};

static int vcm_iommu_fault(struct iommu_domain *domain, struct device *dev,
			   unsigned long iova, int flags, void *token)
{
	struct vcm_iommu *vi = token;

	atomic_long_inc(&vi->faults);
	if (!vcm_report_fault(&vi->mmu.vcm, iova,
			      flags & IOMMU_FAULT_WRITE ? VCM_FAULT_WRITE : 0))
		return 0;
	dev_err_ratelimited(vi->dev, "vcm: %s: %s fault at device address %#lx\n",
			    vi->name, flags & IOMMU_FAULT_WRITE ? "write" : "read",
			    iova);
	/* Not handled; reported here, so the IOMMU driver need not. */
	return -EFAULT;
}

/*
 * The domain's page sizes as orders, largest first, down to the largest
 * the page allocator gives; the last is 0, which iommu_map() splits into
 * the domain's smaller pages if PAGE_SIZE is not one of them.
 */
static int vcm_iommu_set_orders(struct vcm_iommu *vi)
{
	unsigned long sizes = vi->domain->pgsize_bitmap;
	unsigned char *order = vi->orders;
	int bit;

	if (!(sizes & GENMASK(PAGE_SHIFT, 0)))
		return -EINVAL;
	for (bit = min(BITS_PER_LONG - 1, PAGE_SHIFT + MAX_PAGE_ORDER);
	     bit > PAGE_SHIFT; bit--)
		if (sizes & BIT(bit))
			*order++ = bit - PAGE_SHIFT;
	*order = 0;
	return 0;
}

static int vcm_iommu_check_range(struct vcm_iommu *vi)
{
	const struct iommu_domain_geometry *geometry = &vi->domain->geometry;
	dma_addr_t last = vi->mmu.vcm.start + (vi->mmu.vcm.size - 1);

	if (geometry->force_aperture &&
	    (vi->mmu.vcm.start < geometry->aperture_start ||
	     last > geometry->aperture_end)) {
		dev_err(vi->dev, "vcm: %pad-%pad is outside the IOMMU's aperture %pad-%pad\n",
			&vi->mmu.vcm.start, &last, &geometry->aperture_start,
			&geometry->aperture_end);
		return -EINVAL;
	}
	if (last > dma_get_mask(vi->dev)) {
		dev_err(vi->dev, "vcm: %pad-%pad is beyond the device's DMA mask\n",
			&vi->mmu.vcm.start, &last);
		return -EINVAL;
	}
	return 0;
}

static int vcm_iommu_region_cmp(void *priv, const struct list_head *a,
				const struct list_head *b)
{
	const struct iommu_resv_region *ra = list_entry(a, struct iommu_resv_region, list);
	const struct iommu_resv_region *rb = list_entry(b, struct iommu_resv_region, list);

	return ra->start < rb->start ? -1 : ra->start > rb->start;
}

/*
 * The group's reserved regions that meet the context, widened to whole
 * pages, clipped to the context, sorted and merged: the holes of the
 * address pool (genalloc aligns to device addresses, so the runs between
 * holes keep their alignment).  Returns their number, or a negative errno.
 */
static int vcm_iommu_holes(struct vcm_iommu *vi, struct vcm_mmu_hole **holes)
{
	dma_addr_t first = vi->mmu.vcm.start;
	dma_addr_t last = first + (vi->mmu.vcm.size - 1);
	struct iommu_resv_region *region, *next;
	struct vcm_mmu_hole *hole;
	struct iommu_group *group;
	LIST_HEAD(regions);
	int ret, count = 0;

	group = iommu_group_get(vi->dev);
	if (!group)
		return -ENODEV;
	ret = iommu_get_group_resv_regions(group, &regions);
	iommu_group_put(group);
	if (ret)
		goto out_free_regions;
	list_sort(NULL, &regions, vcm_iommu_region_cmp);
	list_for_each_entry(region, &regions, list)
		count++;
	*holes = NULL;
	if (!count)
		goto out_free_regions;
	*holes = vcm_should_fail_alloc() ? NULL :
		 kcalloc(count, sizeof(**holes), GFP_KERNEL);
	if (!*holes) {
		ret = -ENOMEM;
		goto out_free_regions;
	}

	hole = *holes;
	count = 0;
	list_for_each_entry(region, &regions, list) {
		dma_addr_t start, end, prev_end;

		if (!region->length || region->start > last ||
		    region->start + (region->length - 1) < first)
			continue;
		start = max_t(dma_addr_t, ALIGN_DOWN(region->start, PAGE_SIZE), first);
		end = min_t(dma_addr_t, ALIGN_DOWN(region->start + (region->length - 1),
						   PAGE_SIZE) + (PAGE_SIZE - 1), last);
		if (count) {
			prev_end = hole[-1].start + (hole[-1].size - 1);
			if (start <= prev_end || start - 1 == prev_end) {
				/* Overlaps or touches the previous one. */
				if (end > prev_end)
					hole[-1].size = end - hole[-1].start + 1;
				continue;
			}
		}
		hole->start = start;
		hole->size = end - start + 1;
		hole++;
		count++;
	}
	ret = count;
out_free_regions:
	list_for_each_entry_safe(region, next, &regions, list)
		kfree(region);
	return ret;
}

static int vcm_iommu_count_device(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/* Whether @dev is alone in its IOMMU group, as iommu_attach_device() needs. */
static bool vcm_iommu_alone(struct device *dev)
{
	struct iommu_group *group = iommu_group_get(dev);
	unsigned int devices = 0;

	if (!group)
		return false;
	iommu_group_for_each_dev(group, &devices, vcm_iommu_count_device);
	iommu_group_put(group);
	return devices == 1;
}

/*
 * Claims @vi->dev from the DMA API, allocates the domain, and reads its
 * geometry and page sizes with it attached once.
 */
static int vcm_iommu_get_domain(struct vcm_iommu *vi)
{
	int ret;

	ret = iommu_device_claim_dma_owner(vi->dev, vi);
	if (ret) {
		dev_err(vi->dev, "vcm: cannot take the device from the DMA API (%pe): does its driver set driver_managed_dma?\n",
			ERR_PTR(ret));
		return ret;
	}
	vi->owned = true;
	vi->domain = vcm_should_fail_alloc() ? ERR_PTR(-ENOMEM) :
		     iommu_paging_domain_alloc(vi->dev);
	if (IS_ERR(vi->domain))
		return PTR_ERR(vi->domain);
	ret = iommu_attach_device(vi->domain, vi->dev);
	if (ret)
		return ret;
	iommu_detach_device(vi->domain, vi->dev);
	return 0;
}

/**
 * vcm_iommu_create() - Make a VCM context on an IOMMU domain for a device.
 * @dev: The device, behind an IOMMU, alone in its IOMMU group, bound to a
 *	 driver that set driver_managed_dma.
 * @start: The context's first device address, a multiple of PAGE_SIZE.
 * @size: The context's size in bytes, a multiple of PAGE_SIZE.
 * @name: What the context is for, for debugfs and messages, or NULL for
 *	  the device's name.  Copied.
 *
 * Takes @dev from the DMA API (it must not use the DMA API until the
 * context is destroyed) and gives it a paging domain of its IOMMU, which
 * translates only while the context is active; while it is not, the
 * device's DMA is blocked.  The context's page sizes are the domain's
 * that the page allocator can give; the group's reserved regions are
 * never handed out.  vcm_destroy() gives the device back to the DMA API.
 *
 * Context: Process context; may sleep.
 * The context must be destroyed before @dev's driver unbinds from it
 * (devm_vcm_iommu_create() sees to that): the device goes back to the DMA
 * API then.
 *
 * Return: the context, or ERR_PTR(-ENODEV) if no IOMMU translates @dev,
 * -EINVAL for a bad range, one the domain's aperture or the device's DMA
 * mask does not cover, a group of several devices, or an IOMMU whose
 * smallest page is larger than PAGE_SIZE, -EPERM if the DMA API holds the
 * device (its driver did not set driver_managed_dma) or another owner
 * does, -ENOSPC if reserved regions cover the whole range, -ENOMEM, or the
 * IOMMU driver's error.
 */
struct vcm *vcm_iommu_create(struct device *dev, dma_addr_t start,
			     resource_size_t size, const char *name)
{
	struct vcm_mmu_hole *holes = NULL;
	struct vcm_iommu *vi;
	struct vcm *vcm;
	int ret;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(dev)))
		return ERR_PTR(-EINVAL);
	if (!size || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(size) ||
	    start + (size - 1) < start)
		return ERR_PTR(-EINVAL);
	if (!device_iommu_mapped(dev))
		return ERR_PTR(-ENODEV);
	if (!vcm_iommu_alone(dev)) {
		dev_err(dev, "vcm: its IOMMU group has other devices\n");
		return ERR_PTR(-EINVAL);
	}

	vi = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*vi), GFP_KERNEL);
	if (!vi)
		return ERR_PTR(-ENOMEM);
	vi->dev = get_device(dev);
	atomic_long_set(&vi->faults, 0);
	vi->name = vcm_should_fail_alloc() ? NULL :
		   kstrdup_const(name ?: dev_name(dev), GFP_KERNEL);
	if (!vi->name) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = vcm_iommu_get_domain(vi);
	if (ret)
		goto out_free;

	vi->mmu.vcm.start = start;
	vi->mmu.vcm.size = size;
	vi->mmu.vcm.name = vi->name;
	vi->mmu.driver = &vcm_iommu_driver;
	vi->mmu.orders = vi->orders;
	vi->mmu.vcm.coherent = dev_is_dma_coherent(dev);
	vi->mmu.vcm.res_flags = VCM_READ_ONLY;
	vi->prot = vi->mmu.vcm.coherent ? IOMMU_CACHE : 0;
	ret = vcm_iommu_check_range(vi);
	if (!ret)
		ret = vcm_iommu_set_orders(vi);
	if (!ret)
		ret = vcm_iommu_holes(vi, &holes);
	if (ret < 0)
		goto out_free;
	vi->mmu.holes = holes;
	vi->mmu.nr_holes = ret;
	if (ret == 1 && holes[0].start == start && holes[0].size == size) {
		dev_err(dev, "vcm: %pad+%pa lies in a reserved region\n", &start, &size);
		kfree(holes);
		ret = -ENOSPC;
		goto out_free;
	}

	vcm = vcm_mmu_init(&vi->mmu);
	kfree(holes);
	vi->mmu.holes = NULL;
	if (IS_ERR(vcm)) {
		ret = PTR_ERR(vcm);
		goto out_free;
	}
	iommu_set_fault_handler(vi->domain, vcm_iommu_fault, vi);
	return vcm;

out_free:
	vcm_iommu_free(vi);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(vcm_iommu_create);

static void vcm_iommu_destroy_action(void *vcm)
{
	vcm_destroy(vcm);
}

/**
 * devm_vcm_iommu_create() - Make a VCM context destroyed with its device.
 * @dev: As for vcm_iommu_create(); the context is destroyed when the
 *	 driver unbinds from it.
 * @start: As for vcm_iommu_create().
 * @size: As for vcm_iommu_create().
 * @name: As for vcm_iommu_create().
 *
 * Context: Process context; may sleep.
 * Return: As vcm_iommu_create().
 */
struct vcm *devm_vcm_iommu_create(struct device *dev, dma_addr_t start,
				  resource_size_t size, const char *name)
{
	struct vcm *vcm = vcm_iommu_create(dev, start, size, name);
	int ret;

	if (IS_ERR(vcm))
		return vcm;
	ret = devm_add_action_or_reset(dev, vcm_iommu_destroy_action, vcm);
	return ret ? ERR_PTR(ret) : vcm;
}
EXPORT_SYMBOL_GPL(devm_vcm_iommu_create);

/**
 * vcm_iommu_domain() - The IOMMU domain of a context of this backend.
 * @vcm: A context made by vcm_iommu_create().
 *
 * For what the IOMMU API offers beyond VCM, iommu_iova_to_phys() for
 * one.  The domain is valid until the context is freed.
 *
 * Context: Any context.
 * Return: the domain, or NULL if @vcm is not a context of this backend.
 */
struct iommu_domain *vcm_iommu_domain(struct vcm *vcm)
{
	struct vcm_mmu *mmu = vcm_to_mmu(vcm);

	if (!mmu || mmu->driver != &vcm_iommu_driver)
		return NULL;
	return to_vcm_iommu(mmu)->domain;
}
EXPORT_SYMBOL_GPL(vcm_iommu_domain);
