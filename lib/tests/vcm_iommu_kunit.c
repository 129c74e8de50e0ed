// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_iommu: VCM on the IOMMU API, proven by real DMA.
 *
 * QEMU's edu PCI device copies between RAM and a 4 KiB buffer of its own
 * by DMA (its driver is in vcm_edu.h).  On QEMU's virt board with
 * iommu=smmuv3 and two "-device edu", or q35 with intel-iommu, its DMA
 * goes through the emulated IOMMU, so the tests below move real bytes at
 * VCM addresses through a real page-table walker and IOTLB.
 *
 * Without an edu device behind an IOMMU the DMA tests are skipped, with
 * the reason; the argument checks run everywhere the backend is built.
 */

#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/kmsg_dump.h>
#include <linux/random.h>
#include <linux/ratelimit.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vcm-dmabuf.h>
#include <linux/vcm-iommu.h>

#include "vcm_edu.h"
#include "vcm_kunit.h"

/* Each context of a test: where edu's 28-bit bus addresses reach. */
#define CTX_START		SZ_16M
#define CTX_SIZE		(SZ_256M - SZ_16M)

/* RAM at @iova -> the device's buffer -> RAM at @to. */
static void edu_copy(struct kunit *test, struct edu *edu, dma_addr_t iova,
		     dma_addr_t to, u32 count)
{
	KUNIT_ASSERT_EQ(test, edu_dma(edu, iova, EDU_BUFFER, count, 0), 0);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, to, count, EDU_DMA_TO_RAM), 0);
}

/* The number of lines of the kernel log that contain @needle. */
static unsigned int log_count(const char *needle)
{
	struct kmsg_dump_iter iter;
	unsigned int count = 0;
	char line[256];
	size_t len;

	kmsg_dump_rewind(&iter);
	while (kmsg_dump_get_line(&iter, false, line, sizeof(line) - 1, &len)) {
		line[len] = '\0';
		count += !!strstr(line, needle);
	}
	return count;
}

/*
 * What the IOMMU driver logs for a fault at @iova: SMMUv3 prints the
 * event's words, the third being the address; VT-d prints "fault addr"
 * and the address of the page.  False for an IOMMU whose words are not
 * known here.
 */
static bool fault_needle(char *needle, size_t size, dma_addr_t iova)
{
	if (IS_ENABLED(CONFIG_ARM_SMMU_V3))
		snprintf(needle, size, "0x%016llx", (u64)iova);
	else if (IS_ENABLED(CONFIG_INTEL_IOMMU))
		snprintf(needle, size, "fault addr 0x%llx ", (u64)ALIGN_DOWN(iova, SZ_4K));
	else
		return false;
	return true;
}

/*
 * edu writes 4 bytes to @iova; whether the IOMMU driver then logged a new
 * fault there (true where its words are not known).  The drivers rate
 * limit their reports (10 lines in 5 seconds, shared by every fault of the
 * IOMMU: VT-d spends two on each), so this first lets the limit's window
 * pass; and their fault thread runs after the transfer ended, so this
 * waits for it a while.
 */
static bool edu_write_faults(struct kunit *test, struct edu *edu, dma_addr_t iova)
{
	char needle[32];
	bool known = fault_needle(needle, sizeof(needle), iova);
	unsigned int before = known ? log_count(needle) : 0;
	unsigned int i;

	if (known)
		msleep(jiffies_to_msecs(DEFAULT_RATELIMIT_INTERVAL) + 100);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, iova, 4, EDU_DMA_TO_RAM), 0);
	for (i = 0; known && i < 150; i++) {
		if (log_count(needle) > before)
			return true;
		msleep(20);
	}
	return !known;
}

/* A context over edu's reach, destroyed when the test ends. */
static struct vcm *edu_context(struct kunit *test, struct edu *edu,
			       dma_addr_t start, resource_size_t size)
{
	struct vcm *vcm = vcm_iommu_create(&edu->pdev->dev, start, size,
					   pci_name(edu->pdev));

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
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
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	vcm_free(phys);
}

/*
 * After unbind, DMA to the old address faults although the IOTLB held it
 * (the invalidation reached the IOMMU): the pages it used to reach keep
 * their bytes.  Deactivation blocks the device's DMA, activation restores
 * it.
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

	/* Active: the copy goes through, and the IOTLB holds the pages. */
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	edu_copy(test, edu, res->start, to, 64);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0xa5, 64));

	/* Unbound in an active context: the translation is gone. */
	memset(buf + PAGE_SIZE, 0, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, to), 0);
	KUNIT_EXPECT_TRUE_MSG(test, edu_write_faults(test, edu, to),
			      "no IOMMU fault logged for DMA to %pad after unbind", &to);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, PAGE_SIZE));
	kunit_info(test, "after unbind, edu's write to %pad faulted; the page it used to reach is unchanged\n",
		   &to);

	/*
	 * Bound again; deactivated, the group blocks DMA (SMMUv3 aborts it
	 * without an event, VT-d logs one: a single write keeps within its
	 * rate limit); activated, the copy goes through again.
	 */
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	vcm_deactivate(vcm);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, EDU_BUFFER, to, 4, EDU_DMA_TO_RAM), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	edu_copy(test, edu, res->start, to, 64);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0xa5, 64));
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);

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

	phys = vcm_alloc(vcm, 2 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	ro = vcm_map(vcm, phys, VCM_READ_ONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ro);
	rw = vcm_map(vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rw);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	buf = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	memset(buf, 0x3c, 256);
	memset(buf + 256, 0, 2 * PAGE_SIZE - 256);

	/* Read through the read-only mapping, written through the other. */
	edu_copy(test, edu, ro->start, rw->start + 256, 256);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + 256, 0x3c, 256));
	/*
	 * A write to the page the device did not read: QEMU's VT-d reports
	 * no fault for a write denied by a translation it cached.
	 */
	KUNIT_EXPECT_TRUE_MSG(test, edu_write_faults(test, edu, ro->start + PAGE_SIZE + 1024),
			      "no IOMMU fault logged for a write through a read-only mapping");
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + PAGE_SIZE, 0, PAGE_SIZE));

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

	frame = alloc_phys(test, vcm_a, 2 * PAGE_SIZE);
	in = alloc_phys(test, vcm_a, 2 * PAGE_SIZE);
	out = alloc_phys(test, vcm_b, 2 * PAGE_SIZE);
	frame_a = map_phys(test, vcm_a, frame, 0);
	frame_b = map_phys(test, vcm_b, frame, 0);
	in_a = map_phys(test, vcm_a, in, 0);
	out_b = map_phys(test, vcm_b, out, 0);
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

#if IS_ENABLED(CONFIG_VCM_DMABUF)
/*
 * The DMA address of [@offset, @offset + @len) of a mapped sg_table, if it
 * lies in one DMA segment, else 0.
 */
static dma_addr_t sgt_dma_at(struct sg_table *sgt, size_t offset, size_t len)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (offset < sg_dma_len(sg))
			return len <= sg_dma_len(sg) - offset ? sg_dma_address(sg) + offset : 0;
		offset -= sg_dma_len(sg);
	}
	return 0;
}

/*
 * Memory exported as a dma-buf, shared with an ordinary DMA API user: edu
 * A, in a VCM context, writes a frame into it at its VCM address; edu B,
 * in its default domain, imports the dma-buf, maps its attachment and
 * reads the frame back by DMA.  Then the reverse: B writes through its
 * mapping and A reads at its VCM address.  Each copy crosses the boundary
 * between the frame's two parts.
 */
static void vcm_iommu_dmabuf_test(struct kunit *test)
{
	struct edu *a = edu_get(test, 0), *b = edu_get(test, 1);
	struct vcm *vcm = edu_context(test, a, CTX_START, SZ_64M);
	struct device *bdev = &b->pdev->dev;
	struct iommu_domain *bdomain = iommu_get_domain_for_dev(bdev);
	const size_t at = PAGE_SIZE - 1000, back_at = PAGE_SIZE - 2000;
	struct vcm_res *frame_a, *in_a, *back_a;
	struct vcm_phys *frame, *in, *back;
	struct dma_buf_attachment *attach;
	u8 *frame_buf, *in_buf, *back_buf, *out_buf;
	const u32 count = 3000;
	struct dma_buf *dmabuf;
	dma_addr_t out_dma, b_at;
	struct sg_table *sgt;

	KUNIT_ASSERT_NOT_NULL(test, bdomain);
	KUNIT_EXPECT_TRUE(test, bdomain->type & __IOMMU_DOMAIN_DMA_API);
	frame = alloc_phys(test, vcm, 2 * PAGE_SIZE);
	in = alloc_phys(test, vcm, PAGE_SIZE);
	back = alloc_phys(test, vcm, PAGE_SIZE);
	frame_a = map_phys(test, vcm, frame, 0);
	in_a = map_phys(test, vcm, in, 0);
	back_a = map_phys(test, vcm, back, 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);

	dmabuf = vcm_phys_export(frame, O_RDWR);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	attach = dma_buf_attach(dmabuf, bdev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	b_at = sgt_dma_at(sgt, at, count);
	KUNIT_ASSERT_NE_MSG(test, b_at, 0, "%u DMA segments", sgt->nents);
	out_buf = dma_alloc_coherent(bdev, PAGE_SIZE, &out_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out_buf);

	in_buf = vcm_vmap(in);
	frame_buf = vcm_vmap(frame);
	back_buf = vcm_vmap(back);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, in_buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, frame_buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, back_buf);
	get_random_bytes(in_buf, count);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(in_a, 0, count, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_TO_DEVICE), 0);
	memset(frame_buf, 0, 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access(dmabuf, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(frame_a, 0, 2 * PAGE_SIZE,
						  DMA_BIDIRECTIONAL), 0);

	/* A writes the frame at its VCM address; B reads it at its own. */
	edu_copy(test, a, in_a->start, frame_a->start + at, count);
	edu_copy(test, b, b_at, out_dma, count);
	KUNIT_EXPECT_EQ(test, bytes_differing(in_buf, out_buf, count), 0);
	kunit_info(test, "edu %s wrote %u bytes at VCM address %pad; edu %s, in its default domain, read them from the dma-buf at %pad: %u differ\n",
		   pci_name(a->pdev), count, &frame_a->start, pci_name(b->pdev), &b_at,
		   bytes_differing(in_buf, out_buf, count));

	/* B writes through its mapping; A reads at its VCM address. */
	get_random_bytes(out_buf, count);
	b_at = sgt_dma_at(sgt, back_at, count);
	KUNIT_ASSERT_NE(test, b_at, 0);
	edu_copy(test, b, out_dma, b_at, count);
	edu_copy(test, a, frame_a->start + back_at, back_a->start, count);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_cpu(back_a, 0, count, DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, bytes_differing(out_buf, back_buf, count), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, bytes_differing(out_buf, frame_buf + back_at, count), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE), 0);
	kunit_info(test, "edu %s wrote %u bytes through the dma-buf at %pad; edu %s read them at VCM address %pad: %u differ\n",
		   pci_name(b->pdev), count, &b_at, pci_name(a->pdev), &frame_a->start,
		   bytes_differing(out_buf, back_buf, count));

	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(in, in_buf), 0);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(frame, frame_buf), 0);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(back, back_buf), 0);
	dma_free_coherent(bdev, PAGE_SIZE, out_buf, out_dma);
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_BIDIRECTIONAL);
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
	vcm_unmap(frame_a);
	vcm_unmap(in_a);
	vcm_unmap(back_a);
	vcm_free(frame);
	vcm_free(in);
	vcm_free(back);
}
#else
static void vcm_iommu_dmabuf_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_VCM_DMABUF");
}
#endif

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
	vcm = vcm_iommu_create(dev, (dma_addr_t)-SZ_1M, SZ_1M, NULL);
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
		list_for_each_entry(region, &regions, list) {
			bool apart = res[i]->start + SZ_1M <= region->start ||
				     res[i]->start >= region->start + region->length;

			KUNIT_EXPECT_TRUE_MSG(test, apart,
					      "%pad+1M meets reserved region %pa+%zx",
					      &res[i]->start, &region->start, region->length);
		}
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
	/* A default domain that translates has no mapping there. */
	if (iommu_get_domain_for_dev(dev)->type != IOMMU_DOMAIN_IDENTITY) {
		KUNIT_EXPECT_TRUE_MSG(test, edu_write_faults(test, edu, res->start + 512),
				      "no IOMMU fault logged for DMA to a destroyed context");
		KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0, PAGE_SIZE));
	}

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
	/* Four pages of a block, out of order: four runs, four map calls. */
	struct vcm_phys *phys = scattered(test);
	struct edu *edu = edu_get(test, 0);
	struct test_alloc *ta = test_alloc_start(test);
	struct iommu_domain *domain;
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
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	domain = vcm_iommu_domain(vcm);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	res = vcm_reserve(vcm, 4 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	/* Each run of contiguous parts is mapped by one call: fail each. */
	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		ret = vcm_bind(res, phys);
		if (!ret)
			break;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start), 0);
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start + 3 * PAGE_SIZE), 0);
	}
	KUNIT_EXPECT_EQ(test, n, phys->count + 1);
	test_alloc_reset(ta);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(domain, res->start + 3 * PAGE_SIZE),
			phys_at(phys, 3 * PAGE_SIZE));
	kunit_info(test, "%u allocation sites in vcm_iommu_create(), each failed in turn; the bind of %u parts failed at each of its %u mapping calls\n",
		   sites, phys->count, n - 1);
	KUNIT_EXPECT_GE(test, sites, 4);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
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
	expect_warning(test, "vcm_iommu_create");
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_iommu_create(NULL, 0, SZ_1M, NULL)), -EINVAL);
	expect_warning_end(test, 1);
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
	KUNIT_CASE(vcm_iommu_dmabuf_test),
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
MODULE_IMPORT_NS(DMA_BUF);
