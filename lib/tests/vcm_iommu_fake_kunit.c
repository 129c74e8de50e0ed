// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_iommu_fake: VCM's IOMMU API backend on a fake IOMMU,
 * with no device doing DMA, so that the backend's logic is tested in every
 * configuration (vcm_iommu proves it with real DMA where QEMU emulates an
 * IOMMU).
 *
 * The fake is an IOMMU driver registered with the IOMMU core: its paging
 * domains keep real page tables (io-pgtable's ARM LPAE format), count
 * every call the core makes, and can fail them; its masters are platform
 * devices whose firmware spec names it.  It has one reserved region like
 * an MSI window, one that is not page aligned, an aperture smaller than
 * the masters' DMA mask that it sets only on attach (as several drivers
 * do), and reports faults through report_iommu_fault(), which the test
 * calls for it.
 */

#include <kunit/test.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vcm-iommu.h>

#include "vcm_kunit.h"

/*
 * Linux 6.1's IOMMU core takes one driver per bus (bus_set_iommu()) and
 * the one for the platform bus cannot be replaced: a fake IOMMU there
 * needs the per-device drivers of 6.3, the paging domain allocator of 6.7
 * and the firmware spec of 6.11, so the suite skips on 6.1.
 */
#ifndef VCM_COMPAT_6_1

#define FAKE_NAME		"vcm-iommu-fake"
#define FAKE_APERTURE_END	(SZ_1G - 1)
#define FAKE_MSI_START		0x08000000
#define FAKE_MSI_SIZE		SZ_1M
#define FAKE_ODD_PAGES		0x10000000	/* the two pages it meets */
#define FAKE_ODD_START		(FAKE_ODD_PAGES + PAGE_SIZE / 2)
#define FAKE_ODD_SIZE		PAGE_SIZE

/* A context of a test: it holds both reserved regions. */
#define CTX_START		SZ_64M
#define CTX_SIZE		SZ_256M

/**
 * struct fake_domain - A paging domain of the fake IOMMU.
 * @domain:	the core's.
 * @pgtbl:	its page tables.
 * @cfg:	their configuration.
 * @attached:	the device it is attached to, or NULL.
 * @attaches:	attach_dev calls.
 * @maps:	map_pages calls.
 * @unmaps:	unmap_pages calls.
 * @syncs:	iotlb_sync calls.
 * @sync_start: the first address the last iotlb_sync covered.
 * @sync_end:	the last address it covered.
 * @largest:	the largest page size map_pages was asked for.
 * @prot:	the protection map_pages was last asked for.
 * @fail_map:	map_pages call that fails with -EIO (1 the next), or 0.
 * @fail_attach: attach_dev fails with this, or 0.
 */
struct fake_domain {
	struct iommu_domain domain;
	struct io_pgtable_ops *pgtbl;
	struct io_pgtable_cfg cfg;
	struct device *attached;
	unsigned int attaches;
	unsigned int maps;
	unsigned int unmaps;
	unsigned int syncs;
	unsigned long sync_start;
	unsigned long sync_end;
	size_t largest;
	int prot;
	unsigned int fail_map;
	int fail_attach;
};

static struct iommu_device fake_iommu;
static atomic_t fake_domains = ATOMIC_INIT(0);	/* paging domains live */
static int fake_domains_before;			/* ... when the test began */
static unsigned int fake_blocks;		/* blocked domain attaches */

/* The paging domains the current test made and has not freed. */
static int live_domains(void)
{
	return atomic_read(&fake_domains) - fake_domains_before;
}

static struct fake_domain *to_fake(struct iommu_domain *domain)
{
	return container_of(domain, struct fake_domain, domain);
}

static int fake_static_attach(struct iommu_domain *domain, struct device *dev)
{
	if (domain->type == IOMMU_DOMAIN_BLOCKED)
		fake_blocks++;
	return 0;
}

static const struct iommu_domain_ops fake_static_ops = {
	.attach_dev	= fake_static_attach,
};

static struct iommu_domain fake_identity = {
	.type	= IOMMU_DOMAIN_IDENTITY,
	.ops	= &fake_static_ops,
};

static struct iommu_domain fake_blocked = {
	.type	= IOMMU_DOMAIN_BLOCKED,
	.ops	= &fake_static_ops,
};

static void fake_tlb_flush_all(void *cookie)
{
}

static void fake_tlb_flush_walk(unsigned long iova, size_t size,
				size_t granule, void *cookie)
{
}

/* As ARM SMMU drivers do: leaf invalidations wait for iotlb_sync. */
static void fake_tlb_add_page(struct iommu_iotlb_gather *gather,
			      unsigned long iova, size_t granule, void *cookie)
{
	struct fake_domain *fd = cookie;

	iommu_iotlb_gather_add_page(&fd->domain, gather, iova, granule);
}

static const struct iommu_flush_ops fake_flush_ops = {
	.tlb_flush_all	= fake_tlb_flush_all,
	.tlb_flush_walk	= fake_tlb_flush_walk,
	.tlb_add_page	= fake_tlb_add_page,
};

/* The aperture is known once the domain is attached, as for ARM SMMUs. */
static int fake_attach(struct iommu_domain *domain, struct device *dev)
{
	struct fake_domain *fd = to_fake(domain);

	if (fd->fail_attach)
		return fd->fail_attach;
	domain->geometry.aperture_start = 0;
	domain->geometry.aperture_end = FAKE_APERTURE_END;
	domain->geometry.force_aperture = true;
	fd->attached = dev;
	fd->attaches++;
	return 0;
}

static int fake_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct fake_domain *fd = to_fake(domain);

	fd->maps++;
	if (fd->fail_map && !--fd->fail_map)
		return -EIO;
	fd->largest = max(fd->largest, pgsize);
	fd->prot = prot;
	return fd->pgtbl->map_pages(fd->pgtbl, iova, paddr, pgsize, pgcount,
				    prot, gfp, mapped);
}

static size_t fake_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct fake_domain *fd = to_fake(domain);

	fd->unmaps++;
	return fd->pgtbl->unmap_pages(fd->pgtbl, iova, pgsize, pgcount, gather);
}

static void fake_iotlb_sync(struct iommu_domain *domain,
			    struct iommu_iotlb_gather *gather)
{
	struct fake_domain *fd = to_fake(domain);

	fd->syncs++;
	fd->sync_start = gather->start;
	fd->sync_end = gather->end;
}

static phys_addr_t fake_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	struct fake_domain *fd = to_fake(domain);

	return fd->pgtbl->iova_to_phys(fd->pgtbl, iova);
}

static void fake_domain_free(struct iommu_domain *domain)
{
	struct fake_domain *fd = to_fake(domain);

	free_io_pgtable_ops(fd->pgtbl);
	kfree(fd);
	atomic_dec(&fake_domains);
}

static const struct iommu_domain_ops fake_paging_ops = {
	.attach_dev	= fake_attach,
	.map_pages	= fake_map_pages,
	.unmap_pages	= fake_unmap_pages,
	.iotlb_sync	= fake_iotlb_sync,
	.iova_to_phys	= fake_iova_to_phys,
	.free		= fake_domain_free,
};

static struct iommu_domain *fake_domain_alloc_paging(struct device *dev)
{
	struct fake_domain *fd = kzalloc(sizeof(*fd), GFP_KERNEL);

	if (!fd)
		return ERR_PTR(-ENOMEM);
	fd->cfg = (struct io_pgtable_cfg) {
		.pgsize_bitmap	= SZ_4K | SZ_2M | SZ_1G,
		.ias		= 32,
		.oas		= 40,
		.coherent_walk	= true,
		.tlb		= &fake_flush_ops,
		.iommu_dev	= fake_iommu.dev,
	};
	fd->pgtbl = alloc_io_pgtable_ops(ARM_64_LPAE_S1, &fd->cfg, fd);
	if (!fd->pgtbl) {
		kfree(fd);
		return ERR_PTR(-ENOMEM);
	}
	fd->domain.pgsize_bitmap = fd->cfg.pgsize_bitmap;
	fd->domain.ops = &fake_paging_ops;
	atomic_inc(&fake_domains);
	return &fd->domain;
}

static struct iommu_device *fake_probe_device(struct device *dev)
{
	return &fake_iommu;
}

static int fake_def_domain_type(struct device *dev)
{
	return IOMMU_DOMAIN_IDENTITY;
}

static void fake_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct iommu_resv_region *region;

	region = iommu_alloc_resv_region(FAKE_MSI_START, FAKE_MSI_SIZE,
					 IOMMU_WRITE | IOMMU_MMIO,
					 IOMMU_RESV_SW_MSI, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
	region = iommu_alloc_resv_region(FAKE_ODD_START, FAKE_ODD_SIZE, 0,
					 IOMMU_RESV_RESERVED, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

static const struct iommu_ops fake_ops = {
	.identity_domain	= &fake_identity,
	.blocked_domain		= &fake_blocked,
	.domain_alloc_paging	= fake_domain_alloc_paging,
	.probe_device		= fake_probe_device,
	.device_group		= generic_device_group,
	.def_domain_type	= fake_def_domain_type,
	.get_resv_regions	= fake_get_resv_regions,
	.pgsize_bitmap		= SZ_4K | SZ_2M | SZ_1G,
	.owner			= THIS_MODULE,
	.default_domain_ops	= &fake_paging_ops,
};

/* A master's driver, as a driver author writes one: a context per device. */
static int fake_master_probe(struct platform_device *pdev)
{
	struct vcm *vcm = devm_vcm_iommu_create(&pdev->dev, CTX_START, CTX_SIZE,
						NULL);

	if (IS_ERR(vcm))
		return PTR_ERR(vcm);
	platform_set_drvdata(pdev, vcm);
	return 0;
}

static struct platform_driver fake_master_driver = {
	.probe			= fake_master_probe,
	.driver_managed_dma	= true,
	.driver			= {
		.name		= FAKE_NAME "-driven",
	},
};

static void unregister_action(void *pdev)
{
	platform_device_unregister(pdev);
}

/*
 * A master of the fake IOMMU, removed when the test ends; bound to
 * fake_master_driver if @driven.
 */
static struct device *fake_master(struct kunit *test, bool driven)
{
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_alloc(driven ? FAKE_NAME "-driven" : FAKE_NAME,
				     PLATFORM_DEVID_AUTO);
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	/* As of_iommu_configure() does, under the IOMMU core's lock. */
	mutex_lock(&iommu_probe_device_lock);
	ret = iommu_fwspec_init(&pdev->dev, fake_iommu.fwnode);
	mutex_unlock(&iommu_probe_device_lock);
	if (!ret)
		ret = platform_device_add(pdev);
	if (ret) {
		/* Not added: the IOMMU core never saw it, nor will free that. */
		mutex_lock(&iommu_probe_device_lock);
		iommu_fwspec_free(&pdev->dev);
		mutex_unlock(&iommu_probe_device_lock);
		platform_device_put(pdev);
		KUNIT_FAIL_AND_ABORT(test, "cannot add a master of the fake IOMMU: %pe",
				     ERR_PTR(ret));
	}
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unregister_action, pdev), 0);
	KUNIT_ASSERT_TRUE(test, device_iommu_mapped(&pdev->dev));
	return &pdev->dev;
}

static struct vcm *fake_context(struct kunit *test, struct device *dev)
{
	struct vcm *vcm = vcm_iommu_create(dev, CTX_START, CTX_SIZE, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	return vcm;
}

static struct fake_domain *fake_domain(struct kunit *test, struct vcm *vcm)
{
	struct iommu_domain *domain = vcm_iommu_domain(vcm);

	KUNIT_ASSERT_NOT_NULL(test, domain);
	KUNIT_ASSERT_PTR_EQ(test, domain->ops, &fake_paging_ops);
	return to_fake(domain);
}

/* Whether the domain translates every page of @res to @phys's pages. */
static void expect_mapped(struct kunit *test, struct iommu_domain *domain,
			  struct vcm_res *res, struct vcm_phys *phys)
{
	resource_size_t off = 0;
	unsigned int i;

	for (i = 0; i < phys->count; off += phys->parts[i++].size)
		KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(domain, res->start + off + 12),
				    phys->parts[i].start + 12, "part %u", i);
}

static void expect_unmapped(struct kunit *test, struct iommu_domain *domain,
			    dma_addr_t start, resource_size_t size)
{
	resource_size_t off;

	for (off = 0; off < size; off += PAGE_SIZE)
		KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(domain, start + off), 0,
				    "%pad+%#llx still mapped", &start, (u64)off);
}

/*
 * Creation: the device is taken from the DMA API and blocked; the aperture
 * the domain gets on attach and the reserved regions limit the range; the
 * page sizes are the domain's; destruction gives the device back.
 */
static void vcm_iommu_fake_create_test(struct kunit *test)
{
	struct device *dev = fake_master(test, false);
	struct iommu_domain *def = iommu_get_domain_for_dev(dev);
	struct vcm_phys *phys;
	struct fake_domain *fd;
	struct vcm_res *res;
	struct vcm *vcm;

	KUNIT_ASSERT_PTR_EQ(test, def, &fake_identity);
	/* Within the DMA mask, beyond the aperture known after attach. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, SZ_1G - SZ_1M, SZ_2M,
						       NULL)), -EINVAL);
	/* Inside the reserved regions only: the odd one is widened to pages. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, FAKE_MSI_START, SZ_1M,
						       NULL)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, FAKE_ODD_PAGES,
						       2 * PAGE_SIZE, NULL)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, live_domains(), 0);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), def);

	/* Before the context, to be freed after it if the test stops. */
	phys = block_of(test, get_order(SZ_2M));
	vcm = fake_context(test, dev);
	fd = fake_domain(test, vcm);
	KUNIT_EXPECT_EQ(test, fd->attaches, 1);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fake_blocked);
	/* One owner at a time. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, CTX_START, SZ_1M, NULL)),
			-EPERM);

	/*
	 * 2 MiB is a page size of the domain: the context's (what vcm_alloc()
	 * tries first), and a block of it is mapped as one page.
	 */
	KUNIT_EXPECT_EQ(test, vcm_to_mmu(vcm)->orders[0], get_order(SZ_2M));
	KUNIT_EXPECT_EQ(test, vcm_to_mmu(vcm)->orders[1], 0);
	res = vcm_map(vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fd->domain);
	KUNIT_EXPECT_PTR_EQ(test, fd->attached, dev);
	KUNIT_EXPECT_EQ(test, fd->largest, SZ_2M);
	expect_mapped(test, &fd->domain, res, phys);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(&fd->domain, res->start + SZ_2M - 1),
			phys->parts[0].start + SZ_2M - 1);

	kunit_release_action(test, vcm_destroy_action, vcm);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), def);
	KUNIT_EXPECT_EQ(test, live_domains(), 1);
	vcm_deactivate(vcm);
	vcm_unmap(res);
	KUNIT_EXPECT_EQ(test, live_domains(), 0);
	/* Given back: the device can be taken again. */
	fake_context(test, dev);
}

/*
 * Bind maps each run of contiguous parts with one call and the
 * reservation's protection; unbind unmaps the range and syncs the IOTLB
 * once, over all of it; deactivation blocks the device.
 */
static void vcm_iommu_fake_bind_test(struct kunit *test)
{
	struct vcm_phys *phys = scattered(test);
	struct device *dev = fake_master(test, false);
	struct vcm *vcm = fake_context(test, dev);
	struct fake_domain *fd = fake_domain(test, vcm);
	int cache = dev_is_dma_coherent(dev) ? IOMMU_CACHE : 0;
	unsigned int blocks = fake_blocks;
	struct vcm_res *res, *ro;

	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	ro = vcm_reserve(vcm, 4 * PAGE_SIZE, VCM_READ_ONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);

	fd->maps = 0;
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, fd->maps, 4);
	KUNIT_EXPECT_EQ(test, fd->prot, IOMMU_READ | IOMMU_WRITE | cache);
	expect_mapped(test, &fd->domain, res, phys);
	KUNIT_ASSERT_EQ(test, vcm_bind(ro, phys), 0);
	KUNIT_EXPECT_EQ(test, fd->prot, IOMMU_READ | cache);
	expect_mapped(test, &fd->domain, ro, phys);

	fd->syncs = 0;
	fd->unmaps = 0;
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, fd->syncs, 1);
	KUNIT_EXPECT_EQ(test, fd->sync_start, res->start);
	KUNIT_EXPECT_EQ(test, fd->sync_end, res->start + 4 * PAGE_SIZE - 1);
	expect_unmapped(test, &fd->domain, res->start, 4 * PAGE_SIZE);
	expect_mapped(test, &fd->domain, ro, phys);

	/* Deactivated: blocked, and unmapped with one sync per reservation. */
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	fd->syncs = 0;
	vcm_deactivate(vcm);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fake_blocked);
	KUNIT_EXPECT_EQ(test, fake_blocks, blocks + 1);
	KUNIT_EXPECT_EQ(test, fd->syncs, 2);
	expect_unmapped(test, &fd->domain, res->start, 4 * PAGE_SIZE);
	expect_unmapped(test, &fd->domain, ro->start, 4 * PAGE_SIZE);
	/* Activated: attached and mapped again. */
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fd->domain);
	expect_mapped(test, &fd->domain, res, phys);
	expect_mapped(test, &fd->domain, ro, phys);

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(ro), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(ro);
	vcm_unreserve(res);
}

/*
 * The IOMMU driver fails: a map call in the middle of a bind (what was
 * mapped is unmapped), and the attach of an activation (nothing stays
 * mapped, the device stays blocked); both work once it stops failing.
 */
static void vcm_iommu_fake_driver_fails_test(struct kunit *test)
{
	struct vcm_phys *phys = scattered(test);
	struct device *dev = fake_master(test, false);
	struct vcm *vcm = fake_context(test, dev);
	struct fake_domain *fd = fake_domain(test, vcm);
	struct vcm_res *res;
	unsigned int n;

	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	for (n = 1; n <= phys->count; n++) {
		fd->fail_map = n;
		KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -EIO);
		expect_unmapped(test, &fd->domain, res->start, 4 * PAGE_SIZE);
		KUNIT_EXPECT_NULL(test, res->phys);
	}
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	vcm_deactivate(vcm);

	fd->fail_attach = -EIO;
	KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -EIO);
	KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fake_blocked);
	expect_unmapped(test, &fd->domain, res->start, 4 * PAGE_SIZE);
	fd->fail_attach = 0;
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	expect_mapped(test, &fd->domain, res, phys);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
}

/* No reservation meets a reserved region, nor can one span it. */
static void vcm_iommu_fake_holes_test(struct kunit *test)
{
	struct vcm *vcm = fake_context(test, fake_master(test, false));
	const unsigned int nr = CTX_SIZE / SZ_1M;
	unsigned int i, reserved = 0;
	struct vcm_res **res;

	res = kunit_kcalloc(test, nr, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(vcm, CTX_SIZE, 0)), -ENOSPC);
	for (i = 0; i < nr; i++) {
		dma_addr_t last;

		res[i] = vcm_reserve(vcm, SZ_1M, 0);
		if (IS_ERR(res[i]))
			break;
		reserved++;
		last = res[i]->start + SZ_1M - 1;
		KUNIT_EXPECT_TRUE_MSG(test, last < FAKE_MSI_START ||
				      res[i]->start >= FAKE_MSI_START + FAKE_MSI_SIZE,
				      "%pad+1M meets the MSI window", &res[i]->start);
		KUNIT_EXPECT_TRUE_MSG(test, last < ALIGN_DOWN(FAKE_ODD_START, PAGE_SIZE) ||
				      res[i]->start >= ALIGN(FAKE_ODD_START + FAKE_ODD_SIZE,
							     PAGE_SIZE),
				      "%pad+1M meets the pages of the odd region",
				      &res[i]->start);
	}
	if (i < nr)
		KUNIT_EXPECT_EQ(test, PTR_ERR(res[i]), -ENOSPC);
	/*
	 * 1 MiB reservations are page aligned (2 MiB does not divide them):
	 * one MiB is lost to the window, one to the odd region's pages.
	 */
	KUNIT_EXPECT_EQ(test, reserved, nr - 2);
	while (reserved)
		vcm_unreserve(res[--reserved]);
}

/*
 * Faults the IOMMU driver reports: counted in debugfs, handed to the
 * master's handler, which may take them; logged and refused otherwise.
 */
static void vcm_iommu_fake_fault_test(struct kunit *test)
{
	struct device *dev = fake_master(test, false);
	struct vcm *vcm = vcm_iommu_create(dev, CTX_START, CTX_SIZE, "fake-faults");
	struct fault_seen seen = { };
	struct iommu_domain *domain;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	domain = vcm_iommu_domain(vcm);

	KUNIT_EXPECT_EQ(test, report_iommu_fault(domain, dev, CTX_START + 0x1234,
						 IOMMU_FAULT_WRITE), -EFAULT);
	KUNIT_ASSERT_EQ(test, vcm_set_fault_handler(vcm, record_fault, &seen), 0);
	KUNIT_EXPECT_EQ(test, report_iommu_fault(domain, dev, CTX_START + 0x5678,
						 IOMMU_FAULT_READ), 0);
	KUNIT_EXPECT_EQ(test, seen.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, seen.vcm, vcm);
	KUNIT_EXPECT_EQ(test, seen.addr, CTX_START + 0x5678);
	KUNIT_EXPECT_EQ(test, seen.flags, 0);
	seen.ret = -EAGAIN;
	KUNIT_EXPECT_EQ(test, report_iommu_fault(domain, dev, CTX_START + 0x9abc,
						 IOMMU_FAULT_WRITE), -EFAULT);
	KUNIT_EXPECT_EQ(test, seen.calls, 2);
	KUNIT_EXPECT_EQ(test, seen.flags, VCM_FAULT_WRITE);
#if IS_ENABLED(CONFIG_DEBUG_FS)
	{
		char prefix[64];
		dma_addr_t last = CTX_START + CTX_SIZE - 1, start = CTX_START;
		const char *line;

		snprintf(prefix, sizeof(prefix), "%pad-%pad %llu name=fake-faults ",
			 &start, &last, (u64)CTX_SIZE);
		line = debugfs_line(test, vcm_contexts_show, prefix);
		KUNIT_ASSERT_NOT_NULL(test, line);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, " maps=0 unmaps=0 faults=3"),
					  "%s", line);
	}
#endif
}

/*
 * Hot removal: the master's device goes away (its driver's devm context
 * is destroyed on the way) while a reservation is bound and held; the
 * holder lets go afterwards, and the domain goes with the last of it.
 */
static void vcm_iommu_fake_unplug_test(struct kunit *test)
{
	struct device *dev = fake_master(test, true);
	struct vcm *vcm = dev_get_drvdata(dev);
	struct vcm_phys *phys;
	struct fake_domain *fd;
	struct vcm_res *res;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	fd = fake_domain(test, vcm);
	phys = vcm_alloc(vcm, 3 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	res = vcm_map(vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	expect_mapped(test, &fd->domain, res, phys);

	fd->syncs = 0;
	kunit_release_action(test, unregister_action, to_platform_device(dev));
	KUNIT_EXPECT_EQ(test, fd->syncs, 1);
	expect_unmapped(test, &fd->domain, res->start, phys->size);
	KUNIT_EXPECT_EQ(test, live_domains(), 1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(vcm, PAGE_SIZE, 0)), -ENODEV);
	KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -ENODEV);
	vcm_deactivate(vcm);
	vcm_unmap(res);
	KUNIT_EXPECT_EQ(test, live_domains(), 0);
	vcm_free(phys);
}

/*
 * Every allocation the backend makes fails in turn, in creation and in
 * binding: -ENOMEM, nothing left mapped or allocated.
 */
static void vcm_iommu_fake_failures_test(struct kunit *test)
{
	struct vcm_phys *phys = scattered(test);
	struct device *dev = fake_master(test, false);
	struct test_alloc *ta = test_alloc_start(test);
	struct fake_domain *fd;
	unsigned int n, sites;
	struct vcm_res *res;
	struct vcm *vcm;
	int ret;

	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		vcm = vcm_iommu_create(dev, CTX_START, CTX_SIZE, NULL);
		if (!IS_ERR(vcm))
			break;
		KUNIT_ASSERT_EQ(test, PTR_ERR(vcm), -ENOMEM);
		KUNIT_EXPECT_EQ(test, live_domains(), 0);
		KUNIT_EXPECT_PTR_EQ(test, iommu_get_domain_for_dev(dev), &fake_identity);
	}
	sites = n - 1;
	test_alloc_reset(ta);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	fd = fake_domain(test, vcm);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		ret = vcm_bind(res, phys);
		if (!ret)
			break;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		expect_unmapped(test, &fd->domain, res->start, 4 * PAGE_SIZE);
	}
	test_alloc_reset(ta);
	/* The state, the name, the domain, the holes array, the wrapper's. */
	KUNIT_EXPECT_GE(test, sites, 5);
	kunit_info(test, "%u allocation sites in vcm_iommu_create(), each failed in turn\n",
		   sites);
	KUNIT_EXPECT_EQ(test, n, phys->count + 1);
	expect_mapped(test, &fd->domain, res, phys);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	expect_no_live_pages(test, ta);
}

static int vcm_iommu_fake_suite_init(struct kunit_suite *suite)
{
	struct fwnode_handle *fwnode = fwnode_create_software_node(NULL, NULL);
	int ret;

	if (IS_ERR(fwnode))
		return PTR_ERR(fwnode);
	fake_iommu.fwnode = fwnode;
	ret = iommu_device_sysfs_add(&fake_iommu, NULL, NULL, FAKE_NAME);
	if (ret)
		goto out_remove_node;
	ret = iommu_device_register(&fake_iommu, &fake_ops, NULL);
	if (ret)
		goto out_sysfs_remove;
	ret = platform_driver_register(&fake_master_driver);
	if (ret)
		goto out_unregister;
	return 0;

out_unregister:
	iommu_device_unregister(&fake_iommu);
out_sysfs_remove:
	iommu_device_sysfs_remove(&fake_iommu);
out_remove_node:
	fwnode_remove_software_node(fwnode);
	return ret;
}

static void vcm_iommu_fake_suite_exit(struct kunit_suite *suite)
{
	platform_driver_unregister(&fake_master_driver);
	iommu_device_unregister(&fake_iommu);
	iommu_device_sysfs_remove(&fake_iommu);
	fwnode_remove_software_node(fake_iommu.fwnode);
}

static int vcm_iommu_fake_test_init(struct kunit *test)
{
	fake_domains_before = atomic_read(&fake_domains);
	return 0;
}

static struct kunit_case vcm_iommu_fake_cases[] = {
	KUNIT_CASE(vcm_iommu_fake_create_test),
	KUNIT_CASE(vcm_iommu_fake_bind_test),
	KUNIT_CASE(vcm_iommu_fake_driver_fails_test),
	KUNIT_CASE(vcm_iommu_fake_holes_test),
	KUNIT_CASE(vcm_iommu_fake_fault_test),
	KUNIT_CASE(vcm_iommu_fake_unplug_test),
	KUNIT_CASE(vcm_iommu_fake_failures_test),
	{}
};

static struct kunit_suite vcm_iommu_fake_suite = {
	.name = "vcm_iommu_fake",
	.init = vcm_iommu_fake_test_init,
	.suite_init = vcm_iommu_fake_suite_init,
	.suite_exit = vcm_iommu_fake_suite_exit,
	.test_cases = vcm_iommu_fake_cases,
};

#else /* Linux 6.1 */

static void vcm_iommu_fake_test(struct kunit *test)
{
	kunit_skip(test, "needs Linux 6.11's IOMMU core (6.1 takes one driver per bus)");
}

static struct kunit_case vcm_iommu_fake_cases[] = {
	KUNIT_CASE(vcm_iommu_fake_test),
	{}
};

static struct kunit_suite vcm_iommu_fake_suite = {
	.name = "vcm_iommu_fake",
	.test_cases = vcm_iommu_fake_cases,
};
#endif

kunit_test_suite(vcm_iommu_fake_suite);

MODULE_DESCRIPTION("KUnit tests for VCM on the IOMMU API, on a fake IOMMU");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
