// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_iommu: VCM on the IOMMU API, proven by real DMA.
 *
 * QEMU's edu PCI device (1234:11e8) copies between RAM and a 4 KiB buffer
 * of its own by DMA.  On QEMU's virt board with iommu=smmuv3 and two
 * "-device edu", its DMA goes through the emulated SMMUv3, so the tests
 * below move real bytes at VCM addresses through a real page-table walker
 * and IOTLB.  Linux has no edu driver: the small one here, with
 * driver_managed_dma, polls for completion (no MSI: an MSI write would
 * fault in a domain of ours) and is registered when the suite starts.
 *
 * Without an edu device behind an IOMMU the DMA tests are skipped, with
 * the reason; the argument checks run everywhere the backend is built.
 *
 * QEMU 7.2's edu aborts the whole VM on a transfer outside its buffer, or
 * one ending at its end: every transfer here starts at the buffer and is
 * shorter than it.  Its bus addresses are 28 bits wide.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kmsg_dump.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vcm-iommu.h>

#include "vcm_kunit.h"

#define EDU_ID			0x00
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define  EDU_DMA_START		BIT(0)
#define  EDU_DMA_TO_RAM		BIT(1)
#define EDU_BUFFER		0x40000		/* the device's, 4 KiB */
#define EDU_DMA_BITS		28

/* Each context of a test: where edu's 28-bit bus addresses reach. */
#define CTX_START		SZ_16M
#define CTX_SIZE		(SZ_256M - SZ_16M)

struct edu {
	struct pci_dev *pdev;
	void __iomem *regs;
};

/* The edu devices bound, in probe order; under edu_lock. */
static DEFINE_MUTEX(edu_lock);
static struct edu *edus[2];

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *edu;
	unsigned int i;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	edu->regs = pcim_iomap(pdev, 0, 0);
	if (!edu->regs)
		return -ENOMEM;
	if ((readl(edu->regs + EDU_ID) & 0xff) != 0xed)
		return -ENODEV;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);
	mutex_lock(&edu_lock);
	for (i = 0; i < ARRAY_SIZE(edus) && edus[i]; i++)
		;
	if (i < ARRAY_SIZE(edus))
		edus[i] = edu;
	mutex_unlock(&edu_lock);
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *edu = pci_get_drvdata(pdev);
	unsigned int i;

	mutex_lock(&edu_lock);
	for (i = 0; i < ARRAY_SIZE(edus); i++)
		if (edus[i] == edu)
			edus[i] = NULL;
	mutex_unlock(&edu_lock);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};

static struct pci_driver edu_driver = {
	.name			= "vcm-edu",
	.id_table		= edu_ids,
	.probe			= edu_probe,
	.remove			= edu_remove,
	.driver_managed_dma	= true,
};

/* Edu device @n, behind an IOMMU; skips the test if there is none. */
static struct edu *edu_get(struct kunit *test, unsigned int n)
{
	struct edu *edu;

	mutex_lock(&edu_lock);
	edu = edus[n];
	mutex_unlock(&edu_lock);
	if (!edu)
		kunit_skip(test, "no edu PCI device %u (QEMU: -device edu)", n);
	if (!device_iommu_mapped(&edu->pdev->dev))
		kunit_skip(test, "no IOMMU translates %s (QEMU: -machine iommu=smmuv3)",
			   pci_name(edu->pdev));
	return edu;
}

/* One transfer of @count bytes, polled; 0 or -ETIMEDOUT. */
static int edu_dma(struct edu *edu, dma_addr_t src, dma_addr_t dst,
		   u32 count, u32 cmd)
{
	unsigned int i;

	writel(lower_32_bits(src), edu->regs + EDU_DMA_SRC);
	writel(lower_32_bits(dst), edu->regs + EDU_DMA_DST);
	writel(count, edu->regs + EDU_DMA_COUNT);
	writel(cmd | EDU_DMA_START, edu->regs + EDU_DMA_CMD);
	for (i = 0; i < 1000; i++) {
		if (!(readl(edu->regs + EDU_DMA_CMD) & EDU_DMA_START))
			return 0;
		msleep(10);
	}
	return -ETIMEDOUT;
}

/* RAM at @iova -> the device's buffer -> RAM at @to. */
static void edu_copy(struct kunit *test, struct edu *edu, dma_addr_t iova,
		     dma_addr_t to, u32 count)
{
	KUNIT_ASSERT_EQ(test, edu_dma(edu, iova, EDU_BUFFER, count, 0), 0);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, to, count, EDU_DMA_TO_RAM), 0);
}

/* Whether the kernel log holds a line containing @needle. */
static bool log_has(const char *needle)
{
	struct kmsg_dump_iter iter;
	char line[256];
	size_t len;

	kmsg_dump_rewind(&iter);
	while (kmsg_dump_get_line(&iter, false, line, sizeof(line) - 1, &len)) {
		line[len] = '\0';
		if (strstr(line, needle))
			return true;
	}
	return false;
}

/*
 * Whether the SMMUv3 driver logged a fault at @iova: the event's third
 * word is the address.  Its event thread runs after the transfer ended,
 * so this waits for it a while.  Other IOMMUs log in their own words:
 * true for them.
 */
static bool smmu_logged_fault(dma_addr_t iova)
{
	char needle[24];
	unsigned int i;

	if (!IS_ENABLED(CONFIG_ARM_SMMU_V3))
		return true;
	snprintf(needle, sizeof(needle), "0x%016llx", (u64)iova);
	for (i = 0; i < 300 && !log_has(needle); i++)
		msleep(10);
	return log_has(needle);
}

static void destroy_action(void *vcm)
{
	vcm_destroy(vcm);
}

/* A context over edu's reach, destroyed when the test ends. */
static struct vcm *edu_context(struct kunit *test, struct edu *edu,
			       dma_addr_t start, resource_size_t size)
{
	struct vcm *vcm = vcm_iommu_create(&edu->pdev->dev, start, size,
					   pci_name(edu->pdev));

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action, vcm), 0);
	return vcm;
}

/* The physical address of byte @offset of @phys. */
static phys_addr_t phys_at(const struct vcm_phys *phys, resource_size_t offset)
{
	unsigned int i;

	for (i = 0; i < phys->count; offset -= phys->parts[i++].size)
		if (offset < phys->parts[i].size)
			return phys->parts[i].start + offset;
	return 0;
}

static unsigned int bytes_differing(const u8 *a, const u8 *b, size_t size)
{
	unsigned int n = 0;

	while (size--)
		n += *a++ != *b++;
	return n;
}

/*
 * Scattered memory bound at a VCM address: edu copies across a page
 * boundary from it and back to another VCM address; the IOMMU's page
 * tables agree with the binding.
 */
static void vcm_iommu_dma_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct vcm *vcm = edu_context(test, edu, CTX_START, CTX_SIZE);
	struct iommu_domain *domain = vcm_iommu_domain(vcm);
	const u32 count = 3000;
	dma_addr_t from, to;
	struct vcm_phys *phys;
	struct vcm_res *res;
	resource_size_t off;
	u8 *buf;

	KUNIT_ASSERT_NOT_NULL(test, domain);
	phys = vcm_alloc(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, phys->count, 4);
	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_GE(test, res->start, CTX_START);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);

	for (off = 0; off < 4 * PAGE_SIZE; off += PAGE_SIZE / 2)
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start + off + 8),
				phys_at(phys, off + 8));
	KUNIT_EXPECT_NE(test, (phys_addr_t)res->start, phys->parts[0].start);

	buf = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	get_random_bytes(buf, 2 * PAGE_SIZE);
	memset(buf + 2 * PAGE_SIZE, 0, 2 * PAGE_SIZE);
	from = res->start + PAGE_SIZE - 1000;
	to = res->start + 3 * PAGE_SIZE - 1500;
	edu_copy(test, edu, from, to, count);
	KUNIT_EXPECT_EQ(test, bytes_differing(buf + PAGE_SIZE - 1000,
					      buf + 3 * PAGE_SIZE - 1500, count), 0);
	kunit_info(test, "edu copied %u bytes from %pad (pages at %pa, %pa) to %pad (pages at %pa, %pa) through the IOMMU: %u differ\n",
		   count, &from, &phys->parts[0].start, &phys->parts[1].start, &to,
		   &phys->parts[2].start, &phys->parts[3].start,
		   bytes_differing(buf + PAGE_SIZE - 1000, buf + 3 * PAGE_SIZE - 1500,
				   count));

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, buf), 0);
	KUNIT_EXPECT_PTR_EQ(test, vcm_unbind(res), phys);
	vcm_unreserve(res);
	vcm_free(phys);
}

/*
 * Deactivation blocks the device's DMA, activation restores it, and after
 * unbind DMA to the old address faults (the IOTLB was invalidated): the
 * pages it used to reach keep their bytes.
 */
static void vcm_iommu_unbind_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct vcm *vcm = edu_context(test, edu, CTX_START, CTX_SIZE);
	struct iommu_domain *domain = vcm_iommu_domain(vcm);
	struct vcm_phys *phys;
	struct vcm_res *res;
	dma_addr_t to;
	u8 *buf;

	phys = vcm_alloc(vcm, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	res = vcm_reserve(vcm, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	buf = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	memset(buf, 0xa5, PAGE_SIZE);
	memset(buf + PAGE_SIZE, 0, PAGE_SIZE);
	to = res->start + PAGE_SIZE;

	/* Inactive: the group blocks DMA (aborted, no event logged). */
	edu_copy(test, edu, res->start, to, 4);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, 64));

	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	edu_copy(test, edu, res->start, to, 64);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0xa5, 64));

	vcm_deactivate(vcm);
	memset(buf + PAGE_SIZE, 0, PAGE_SIZE);
	edu_copy(test, edu, res->start, to, 4);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, 64));

	/* Unbound in an active context: the translation is gone. */
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_PTR_EQ(test, vcm_unbind(res), phys);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, to), 0);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, to, 4, EDU_DMA_TO_RAM), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, PAGE_SIZE));
	KUNIT_EXPECT_TRUE_MSG(test, smmu_logged_fault(to),
			      "no SMMU event for DMA to %pad after unbind", &to);
	kunit_info(test, "after unbind, edu's write to %pad faulted; the page it used to reach is unchanged\n",
		   &to);

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, buf), 0);
	vcm_unreserve(res);
	vcm_free(phys);
}

/*
 * A read-only reservation: the device reads the memory, its writes fault
 * and change nothing.
 */
static void vcm_iommu_read_only_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct vcm *vcm = edu_context(test, edu, CTX_START, CTX_SIZE);
	struct vcm_res *ro, *rw;
	struct vcm_phys *phys;
	u8 *buf;

	phys = vcm_alloc(vcm, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	ro = vcm_map(vcm, phys, VCM_IOMMU_READ_ONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	rw = vcm_map(vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rw);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	buf = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	memset(buf, 0x3c, 256);
	memset(buf + 256, 0, 256);

	/* Read through the read-only mapping, written through the other. */
	edu_copy(test, edu, ro->start, rw->start + 256, 256);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + 256, 0x3c, 256));
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, ro->start + 1024, 4,
				      EDU_DMA_TO_RAM), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + 1024, 0, 4));
	KUNIT_EXPECT_TRUE_MSG(test, smmu_logged_fault(ro->start + 1024),
			      "no SMMU event for a write through a read-only mapping");

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, buf), 0);
	vcm_unmap(ro);
	vcm_unmap(rw);
	vcm_free(phys);
}

/*
 * One buffer bound into both devices' contexts at different addresses:
 * device A writes a frame into it, device B reads it back.
 */
static void vcm_iommu_share_test(struct kunit *test)
{
	struct edu *a = edu_get(test, 0), *b = edu_get(test, 1);
	struct vcm *vcm_a = edu_context(test, a, CTX_START, SZ_64M);
	struct vcm *vcm_b = edu_context(test, b, SZ_128M, SZ_64M);
	struct vcm_phys *frame, *in, *out;
	struct vcm_res *frame_a, *frame_b, *in_a, *out_b;
	const u32 count = 4000;
	u8 *frame_buf, *in_buf, *out_buf;

	frame = vcm_alloc(vcm_a, 2 * PAGE_SIZE, 0);
	in = vcm_alloc(vcm_a, 2 * PAGE_SIZE, 0);
	out = vcm_alloc(vcm_b, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, frame);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, in);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, out);
	frame_a = vcm_map(vcm_a, frame, 0);
	frame_b = vcm_map(vcm_b, frame, 0);
	in_a = vcm_map(vcm_a, in, 0);
	out_b = vcm_map(vcm_b, out, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, frame_a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, frame_b);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, in_a);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, out_b);
	KUNIT_EXPECT_NE(test, frame_a->start, frame_b->start);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm_a), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm_b), 0);

	frame_buf = vcm_vmap(frame);
	in_buf = vcm_vmap(in);
	out_buf = vcm_vmap(out);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, frame_buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, in_buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, out_buf);
	get_random_bytes(in_buf, count);
	memset(frame_buf, 0, 2 * PAGE_SIZE);
	memset(out_buf, 0, 2 * PAGE_SIZE);

	/* A: its input -> the frame, at A's address of it, across a page. */
	edu_copy(test, a, in_a->start, frame_a->start + 100, count);
	/* B: the frame, at B's address of it -> its output. */
	edu_copy(test, b, frame_b->start + 100, out_b->start + 8, count);
	KUNIT_EXPECT_EQ(test, bytes_differing(in_buf, frame_buf + 100, count), 0);
	KUNIT_EXPECT_EQ(test, bytes_differing(in_buf, out_buf + 8, count), 0);
	kunit_info(test, "edu %s wrote %u bytes at %pad, edu %s read them at %pad: %u differ\n",
		   pci_name(a->pdev), count, &frame_a->start, pci_name(b->pdev),
		   &frame_b->start, bytes_differing(in_buf, out_buf + 8, count));

	vcm_deactivate(vcm_a);
	vcm_deactivate(vcm_b);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(frame, frame_buf), 0);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(in, in_buf), 0);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(out, out_buf), 0);
	vcm_unmap(frame_a);
	vcm_unmap(frame_b);
	vcm_unmap(in_a);
	vcm_unmap(out_b);
	vcm_free(frame);
	vcm_free(in);
	vcm_free(out);
}

/*
 * The group's reserved regions (the SMMU's MSI window) are never handed
 * out, and a range the aperture or the DMA mask does not cover is refused.
 */
static void vcm_iommu_ranges_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct device *dev = &edu->pdev->dev;
	struct iommu_resv_region *region, *next;
	unsigned int inside = 0, reserved = 0;
	const unsigned int nr = CTX_SIZE / SZ_1M;
	struct vcm_res **res;
	struct iommu_group *group;
	LIST_HEAD(regions);
	struct vcm *vcm;
	unsigned int i;

	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, 0, SZ_512M, NULL)), -EINVAL);
	KUNIT_ASSERT_EQ(test, dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	vcm = vcm_iommu_create(dev, 1ULL << 60, SZ_1M, NULL);
	KUNIT_ASSERT_EQ(test, dma_set_mask(dev, DMA_BIT_MASK(EDU_DMA_BITS)), 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm), -EINVAL);

	res = kunit_kcalloc(test, nr, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	vcm = edu_context(test, edu, CTX_START, CTX_SIZE);
	group = iommu_group_get(dev);
	KUNIT_ASSERT_NOT_NULL(test, group);
	KUNIT_ASSERT_EQ(test, iommu_get_group_resv_regions(group, &regions), 0);
	iommu_group_put(group);
	list_for_each_entry(region, &regions, list)
		inside += region->start < CTX_START + CTX_SIZE &&
			  region->start + region->length > CTX_START;
	if (IS_ENABLED(CONFIG_ARM_SMMU_V3))
		KUNIT_EXPECT_GE_MSG(test, inside, 1, "no MSI window in %#x-%#x",
				    CTX_START, CTX_START + CTX_SIZE - 1);

	/* Not in one piece; in 1 MiB reservations, none meets a region. */
	if (inside)
		KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(vcm, CTX_SIZE, 0)), -ENOSPC);
	for (i = 0; i < nr; i++) {
		res[i] = vcm_reserve(vcm, SZ_1M, 0);
		if (IS_ERR(res[i]))
			break;
		reserved++;
		list_for_each_entry(region, &regions, list)
			KUNIT_EXPECT_TRUE_MSG(test,
				res[i]->start + SZ_1M <= region->start ||
				res[i]->start >= region->start + region->length,
				"%pad+1M meets reserved region %pa+%zx",
				&res[i]->start, &region->start, region->length);
	}
	if (i < nr)
		KUNIT_EXPECT_EQ(test, PTR_ERR(res[i]), -ENOSPC);
	kunit_info(test, "%u reserved regions meet the context; %u of its %u MiB could be reserved\n",
		   inside, reserved, nr);
	if (inside)
		KUNIT_EXPECT_LT(test, reserved, nr);
	while (reserved)
		vcm_unreserve(res[--reserved]);
	list_for_each_entry_safe(region, next, &regions, list)
		kfree(region);
}

/*
 * vcm_destroy() while the context is active and its reservation held:
 * the device goes back to the DMA API at once (the old address faults,
 * dma_alloc_coherent() memory works), the holders let go afterwards.
 */
static void vcm_iommu_destroy_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct device *dev = &edu->pdev->dev;
	struct vcm_phys *phys;
	struct vcm_res *res;
	dma_addr_t coherent;
	struct vcm *vcm;
	u8 *buf, *cpu;

	vcm = vcm_iommu_create(dev, CTX_START, CTX_SIZE, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	res = vcm_make_binding(vcm, PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	phys = res->phys;
	buf = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	memset(buf, 0, PAGE_SIZE);

	vcm_destroy(vcm);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(vcm, PAGE_SIZE, 0)), -ENODEV);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, res->start + 512, 4,
				      EDU_DMA_TO_RAM), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, PAGE_SIZE));

	cpu = dma_alloc_coherent(dev, PAGE_SIZE, &coherent, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	memset(cpu, 0x77, 512);
	memset(cpu + 2048, 0, 512);
	edu_copy(test, edu, coherent, coherent + 2048, 512);
	KUNIT_EXPECT_NULL(test, memchr_inv(cpu + 2048, 0x77, 512));
	dma_free_coherent(dev, PAGE_SIZE, cpu, coherent);

	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, buf), 0);
	vcm_deactivate(vcm);
	vcm_destroy_binding(res);
}

/*
 * Every allocation of creation and of mapping fails in turn: -ENOMEM,
 * nothing stays mapped, and the device can be taken again.
 */
static void vcm_iommu_failures_test(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	struct test_alloc *ta = test_alloc_start(test);
	struct iommu_domain *domain;
	struct vcm_phys *phys;
	unsigned int n, sites;
	struct vcm_res *res;
	struct vcm *vcm;
	int ret;

	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		vcm = vcm_iommu_create(&edu->pdev->dev, CTX_START, CTX_SIZE, NULL);
		if (!IS_ERR(vcm))
			break;
		KUNIT_ASSERT_EQ(test, PTR_ERR(vcm), -ENOMEM);
	}
	sites = n - 1;
	test_alloc_reset(ta);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action, vcm), 0);
	domain = vcm_iommu_domain(vcm);
	phys = vcm_alloc(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	for (n = 1; n <= phys->count; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		ret = vcm_bind(res, phys);
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start), 0);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start + 3 * PAGE_SIZE), 0);
	}
	test_alloc_reset(ta);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start + 3 * PAGE_SIZE),
			phys_at(phys, 3 * PAGE_SIZE));
	kunit_info(test, "%u allocation sites in vcm_iommu_create(), each failed in turn; each of %u parts' mapping failed in turn\n",
		   sites, phys->count);
	KUNIT_EXPECT_GE(test, sites, 4);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_PTR_EQ(test, vcm_unbind(res), phys);
	vcm_unreserve(res);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/* Bad arguments, and a device no IOMMU translates: everywhere. */
static void vcm_iommu_errors_test(struct kunit *test)
{
	struct device *dev = kunit_device_register(test, "vcm-iommu-kunit");

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, 0, SZ_1M, NULL)), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, 0, 0, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, 1, SZ_1M, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, 0, SZ_1M + 1, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(dev, (dma_addr_t)-SZ_1M,
						       SZ_2M, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(devm_vcm_iommu_create(dev, 0, SZ_1M, NULL)), -ENODEV);
	KUNIT_EXPECT_NULL(test, vcm_iommu_domain(NULL));
	KUNIT_EXPECT_NULL(test, vcm_iommu_domain(ERR_PTR(-ENOMEM)));
	expect_warning("vcm_iommu_create");
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(NULL, 0, SZ_1M, NULL)), -EINVAL);
	expect_warning_end();
}

static int vcm_iommu_suite_init(struct kunit_suite *suite)
{
	return pci_register_driver(&edu_driver);
}

static void vcm_iommu_suite_exit(struct kunit_suite *suite)
{
	pci_unregister_driver(&edu_driver);
}

static struct kunit_case vcm_iommu_cases[] = {
	KUNIT_CASE(vcm_iommu_errors_test),
	KUNIT_CASE(vcm_iommu_dma_test),
	KUNIT_CASE(vcm_iommu_unbind_test),
	KUNIT_CASE(vcm_iommu_read_only_test),
	KUNIT_CASE(vcm_iommu_share_test),
	KUNIT_CASE(vcm_iommu_ranges_test),
	KUNIT_CASE(vcm_iommu_destroy_test),
	KUNIT_CASE(vcm_iommu_failures_test),
	{}
};

static struct kunit_suite vcm_iommu_suite = {
	.name = "vcm_iommu",
	.suite_init = vcm_iommu_suite_init,
	.suite_exit = vcm_iommu_suite_exit,
	.test_cases = vcm_iommu_cases,
};
kunit_test_suite(vcm_iommu_suite);

MODULE_DESCRIPTION("KUnit tests for VCM on the IOMMU API, with QEMU's edu device");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
