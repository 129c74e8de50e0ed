// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_dmabuf: a vcm_phys exported as a dma-buf (mm/vcm-dmabuf.c).
 *
 * The importer is a test device on the DMA API's direct mapping, so that
 * the addresses of its mapping are known: each is the physical address of
 * a part.  The memory is built by the tests from pages of their own, with
 * a ->free that counts, so that each release order shows exactly when the
 * memory goes.  Real DMA through an exported buffer is in vcm_iommu.
 */

#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/mman.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vcm-dmabuf.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-sysmmu.h>

#include "vcm_kunit_sysmmu.h"

MODULE_IMPORT_NS(DMA_BUF);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define CTX_START	SZ_16M
#define CTX_SIZE	SZ_64M

/* Memory of the tests: its ->free counts into *@freed. */
struct counted_phys {
	unsigned int *freed;
	struct vcm_phys phys;
};

static void counted_free(struct vcm_phys *phys)
{
	struct counted_phys *cp = container_of(phys, struct counted_phys, phys);

	(*cp->freed)++;
	kfree(cp);
}

/*
 * Counted memory of the four pages of an order-2 block, in the order 0, 2,
 * 1, 3 (four parts), each filled with its index; KUnit frees the pages.
 */
static struct vcm_phys *counted_phys(struct kunit *test, unsigned int *freed)
{
	static const unsigned int order[] = { 0, 2, 1, 3 };
	struct page *block = alloc_block(test, 2);
	struct counted_phys *cp;
	unsigned int i;

	cp = kzalloc(struct_size(cp, phys.parts, ARRAY_SIZE(order)), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cp);
	cp->freed = freed;
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		struct vcm_phys_part *part = &cp->phys.parts[i];

		part->page = block + order[i];
		part->start = page_to_phys(part->page);
		part->size = PAGE_SIZE;
		memset(page_address(part->page), i, PAGE_SIZE);
	}
	cp->phys.count = ARRAY_SIZE(order);
	cp->phys.size = ARRAY_SIZE(order) * PAGE_SIZE;
	vcm_phys_init(&cp->phys, counted_free);
	return &cp->phys;
}

static struct dma_buf *export(struct kunit *test, struct vcm_phys *phys)
{
	struct dma_buf *dmabuf = vcm_phys_export(phys, O_RDWR | O_CLOEXEC);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	return dmabuf;
}

/*
 * Drops a reference to @dmabuf; the last one releases it now, where a
 * KUnit thread's fput() would leave that to a work item.
 */
static void put_now(struct dma_buf *dmabuf)
{
	__fput_sync(dmabuf->file);
}

/* One sync that the exporter made, as recorded by record_sync(). */
struct sync_seen {
	struct device *dev;
	struct sg_table *sgt;
	enum dma_data_direction dir;
	bool for_cpu;
};

static struct {
	struct sync_seen seen[4];
	unsigned int nr;
} sync_log;

static void record_sync(struct device *dev, struct sg_table *sgt,
			enum dma_data_direction dir, bool for_cpu)
{
	if (sync_log.nr < ARRAY_SIZE(sync_log.seen))
		sync_log.seen[sync_log.nr] = (struct sync_seen){ dev, sgt, dir, for_cpu };
	sync_log.nr++;
}

/*
 * An importer's mapping: the parts in order, each at its physical address
 * (the direct mapping), with its length; a second mapping of the same
 * attachment is refused while the first is held.  CPU access syncs the
 * mapped attachments only, each in its mapping's direction.
 */
static void vcm_dmabuf_map_test(struct kunit *test)
{
	struct device *dev = dma_device(test, "vcm-dmabuf-importer", 64);
	struct device *idle = dma_device(test, "vcm-dmabuf-idle", 64);
	struct dma_buf_attachment *attach, *other;
	unsigned int i, freed = 0;
	struct sg_table *sgt, wrong;
	struct scatterlist *sg;
	struct vcm_phys *phys;
	struct dma_buf *dmabuf;

	phys = counted_phys(test, &freed);
	dmabuf = export(test, phys);
	KUNIT_EXPECT_EQ(test, dmabuf->size, phys->size);
	KUNIT_EXPECT_PTR_EQ(test, dmabuf->owner, THIS_MODULE);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 2);

	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	other = dma_buf_attach(dmabuf, idle);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, sgt->orig_nents, phys->count);
	KUNIT_ASSERT_EQ(test, sgt->nents, phys->count);
	for_each_sgtable_dma_sg(sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(sg),
				phys_to_dma(dev, phys->parts[i].start));
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), phys->parts[i].size);
	}
	KUNIT_EXPECT_EQ(test, PTR_ERR(dma_buf_map_attachment_unlocked(attach, DMA_TO_DEVICE)),
			-EBUSY);

	sync_log.nr = 0;
	kunit_activate_static_stub(test, vcm_dmabuf_sync, record_sync);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access(dmabuf, DMA_FROM_DEVICE), 0);
	KUNIT_ASSERT_EQ(test, sync_log.nr, 2);
	KUNIT_EXPECT_PTR_EQ(test, sync_log.seen[0].dev, dev);
	/* Its own table, whose pages the dma-buf core did not scramble. */
	KUNIT_EXPECT_PTR_NE(test, sync_log.seen[0].sgt, sgt);
	KUNIT_EXPECT_EQ(test, sync_log.seen[0].sgt->orig_nents, phys->count);
	KUNIT_EXPECT_EQ(test, sync_log.seen[0].dir, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, sync_log.seen[0].for_cpu);
	KUNIT_EXPECT_PTR_EQ(test, sync_log.seen[1].dev, dev);
	KUNIT_EXPECT_FALSE(test, sync_log.seen[1].for_cpu);

	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_TO_DEVICE);
	sync_log.nr = 0;
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_BIDIRECTIONAL), 0);
	KUNIT_EXPECT_EQ(test, sync_log.nr, 0);
	kunit_deactivate_static_stub(test, vcm_dmabuf_sync);

	/* Mapped again, for the real syncs of the DMA API. */
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_EXPECT_EQ(test, dma_buf_begin_cpu_access(dmabuf, DMA_BIDIRECTIONAL), 0);
	KUNIT_EXPECT_EQ(test, dma_buf_end_cpu_access(dmabuf, DMA_BIDIRECTIONAL), 0);

	/* Importers' bugs: a table it was not given, a detach still mapped. */
	memset(&wrong, 0, sizeof(wrong));
	expect_warning(test, "unmaps a table the dma-buf did not give it");
	dma_buf_unmap_attachment_unlocked(attach, &wrong, DMA_BIDIRECTIONAL);
	expect_warning_end(test, 1);
	expect_warning(test, "detached from a dma-buf it still maps");
	dma_buf_detach(dmabuf, attach);
	expect_warning_end(test, 1);
	dma_buf_detach(dmabuf, other);

	put_now(dmabuf);
	KUNIT_EXPECT_EQ(test, freed, 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, freed, 1);
}

/*
 * The dma-buf's kernel mapping is vcm_vmap()'s, counted with it; a VCM
 * driver gets the memory itself back from the dma-buf and binds it.
 */
static void vcm_dmabuf_vmap_import_test(struct kunit *test)
{
	unsigned int freed = 0;
	/* The memory first, so that a test that stops early frees it last. */
	struct vcm_phys *phys = counted_phys(test, &freed), *got;
	struct vcm *vcm = sysmmu_context(test, CTX_START, CTX_SIZE);
	struct iosys_map map;
	struct dma_buf *dmabuf;
	struct vcm_res *res;
	u8 *vaddr;

	dmabuf = export(test, phys);
	KUNIT_ASSERT_EQ(test, dma_buf_vmap_unlocked(dmabuf, &map), 0);
	vaddr = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vaddr);
	KUNIT_EXPECT_PTR_EQ(test, map.vaddr, (void *)vaddr);
	KUNIT_EXPECT_FALSE(test, map.is_iomem);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 2);
	/* Part 1 is page 2 of the block: the mapping follows the parts. */
	KUNIT_EXPECT_EQ(test, vaddr[PAGE_SIZE + 5], 1);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr), 0);
	dma_buf_vunmap_unlocked(dmabuf, &map);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 0);

	got = vcm_phys_from_dmabuf(dmabuf);
	KUNIT_ASSERT_PTR_EQ(test, got, phys);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 3);
	res = vcm_map(vcm, got, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	vcm_phys_put(got);
	put_now(dmabuf);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, freed, 0);
	vcm_unmap(res);
	KUNIT_EXPECT_EQ(test, freed, 1);
}

/*
 * Userspace's mmap() of the dma-buf, from its second page on, reaches the
 * parts' pages in order, both ways.  Needs kunit_vm_mmap() (Linux 6.10).
 */
static void vcm_dmabuf_mmap_test(struct kunit *test)
{
#ifndef VCM_COMPAT_6_1
	u8 got[3], want[3] = { 1, 2, 3 }, mark = 0xa5;
	unsigned int i, freed = 0;
	struct vcm_phys *phys;
	struct dma_buf *dmabuf;
	unsigned long uaddr;
	u8 *vaddr;

	phys = counted_phys(test, &freed);
	dmabuf = export(test, phys);
	/* Copy-on-write needs one remap_pfn_range() of the whole vma. */
	uaddr = kunit_vm_mmap(test, dmabuf->file, 0, 3 * PAGE_SIZE, PROT_READ,
			      MAP_PRIVATE, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, (long)uaddr, -EINVAL);
	uaddr = kunit_vm_mmap(test, dmabuf->file, 0, 3 * PAGE_SIZE,
			      PROT_READ | PROT_WRITE, MAP_SHARED, PAGE_SIZE);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR_VALUE(uaddr), "kunit_vm_mmap: %ld", (long)uaddr);
	for (i = 0; i < 3; i++) {
		void __user *at = (void __user *)(uaddr + i * PAGE_SIZE + 7);

		KUNIT_ASSERT_EQ(test, copy_from_user(&got[i], at, 1), 0);
	}
	KUNIT_EXPECT_MEMEQ(test, got, want, sizeof(want));
	KUNIT_ASSERT_EQ(test, copy_to_user((void __user *)(uaddr + 2 * PAGE_SIZE), &mark, 1), 0);
	vaddr = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vaddr);
	KUNIT_EXPECT_EQ(test, vaddr[3 * PAGE_SIZE], mark);
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr), 0);
	/*
	 * The mapping held a reference to the dma-buf's file, which the
	 * unmapping drops in a work item (a KUnit thread's fput()).
	 */
	KUNIT_EXPECT_EQ(test, vm_munmap(uaddr, 3 * PAGE_SIZE), 0);
	for (i = 0; i < 100 && file_count(dmabuf->file) > 1; i++) {
		flush_delayed_fput();
		msleep(20);
	}
	KUNIT_ASSERT_EQ(test, file_count(dmabuf->file), 1);
	put_now(dmabuf);
	KUNIT_EXPECT_EQ(test, freed, 0);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, freed, 1);
#else
	kunit_skip(test, "kunit_vm_mmap() is new in Linux 6.10");
#endif
}

/*
 * The memory goes with the last of its owner, its binding and its
 * dma-buf, in every order, exactly once.
 */
enum { REL_OWNER, REL_BINDING, REL_DMABUF, NR_REL };

static const u8 release_orders[][NR_REL] = {
	{ REL_OWNER, REL_BINDING, REL_DMABUF },
	{ REL_OWNER, REL_DMABUF, REL_BINDING },
	{ REL_BINDING, REL_OWNER, REL_DMABUF },
	{ REL_BINDING, REL_DMABUF, REL_OWNER },
	{ REL_DMABUF, REL_OWNER, REL_BINDING },
	{ REL_DMABUF, REL_BINDING, REL_OWNER },
};

static void release_order_desc(const u8 (*order)[NR_REL], char *desc)
{
	static const char *const names[] = { "owner", "binding", "dma-buf" };

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %s, %s", names[(*order)[0]],
		 names[(*order)[1]], names[(*order)[2]]);
}

KUNIT_ARRAY_PARAM(release_order, release_orders, release_order_desc);

static void vcm_dmabuf_release_order_test(struct kunit *test)
{
	const u8 *order = test->param_value;
	unsigned int i, freed = 0;
	struct vcm_phys *phys = counted_phys(test, &freed);
	struct vcm *vcm = sysmmu_context(test, CTX_START, CTX_SIZE);
	struct dma_buf *dmabuf;
	struct vcm_res *res;

	res = vcm_reserve(vcm, phys->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	dmabuf = export(test, phys);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 3);

	for (i = 0; i < NR_REL; i++) {
		KUNIT_EXPECT_EQ(test, freed, 0);
		switch (order[i]) {
		case REL_OWNER:
			vcm_free(phys);
			break;
		case REL_BINDING:
			KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
			vcm_unreserve(res);
			break;
		case REL_DMABUF:
			put_now(dmabuf);
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, freed, 1);
}

/* A dma-buf that VCM did not export. */
static struct sg_table *foreign_map(struct dma_buf_attachment *attach,
				    enum dma_data_direction dir)
{
	return ERR_PTR(-ENOMEM);
}

static void foreign_unmap(struct dma_buf_attachment *attach,
			  struct sg_table *sgt, enum dma_data_direction dir)
{
}

static void foreign_release(struct dma_buf *dmabuf)
{
}

static const struct dma_buf_ops foreign_ops = {
	.map_dma_buf	= foreign_map,
	.unmap_dma_buf	= foreign_unmap,
	.release	= foreign_release,
};

/* What cannot be exported or imported, and the references of bad calls. */
static void vcm_dmabuf_refused_test(struct kunit *test)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct page *page = alloc_block(test, 0);
	struct vcm_phys_part part = {
		.page = page, .start = page_to_phys(page), .size = PAGE_SIZE,
	};
	struct vcm_phys *uncounted = phys_make(test, &part, 1);
	unsigned int freed = 0;
	struct vcm_phys *phys = counted_phys(test, &freed);
	struct dma_buf *foreign;
	struct sg_table sgt;

	/* Memory whose creator frees it: a dma-buf could outlive it. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_export(uncounted, O_RDWR)), -EOPNOTSUPP);
	/* A carve-out: no pages to map, vmap or mmap. */
	page = phys->parts[2].page;
	phys->parts[2].page = NULL;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_export(phys, O_RDWR)), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vcm_phys_to_sgt(phys, &sgt, UINT_MAX), -EOPNOTSUPP);
	phys->parts[2].page = page;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_export(phys, O_RDWR | O_APPEND)), -EINVAL);
	phys->parts[1].size = 2 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_export(phys, O_RDWR)), -EINVAL);
	phys->parts[1].size = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, vcm_phys_to_sgt(phys, &sgt, PAGE_SIZE - 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);

	info.ops = &foreign_ops;
	info.size = PAGE_SIZE;
	info.flags = O_RDWR;
	info.priv = test;
	foreign = dma_buf_export(&info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, foreign);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_dmabuf(foreign)), -EINVAL);
	put_now(foreign);

	expect_warning(test, "");
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_export(NULL, O_RDWR)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_dmabuf(ERR_PTR(-ENOMEM))), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_to_sgt(NULL, &sgt, UINT_MAX), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_sgt(NULL, NULL, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_get(NULL), -EINVAL);
	vcm_phys_put(ERR_PTR(-EINVAL));
	expect_warning_end(test, 6);

	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, freed, 1);
	/* vcm_share may have printed this WARN_ONCE() already. */
	expect_warning(test, "");
	KUNIT_EXPECT_EQ(test, vcm_phys_get(uncounted), 0);
	refcount_set(&uncounted->users, 0);
	KUNIT_EXPECT_EQ(test, vcm_phys_get(uncounted), -EINVAL);
	expect_warning_end(test, 1);
}

/*
 * An importer whose device takes segments of at most two pages gets
 * @made's parts (2, 3 and 1 pages) in entries of 2, 2, 1 and 1 pages.
 */
static void expect_segments(struct kunit *test, struct vcm_phys *made)
{
	static const unsigned int want[] = { 2, 2, 1, 1 };
	struct device *dev = dma_device(test, "vcm-dmabuf-segments", 64);
	struct device_dma_parameters *parms;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;

	parms = kunit_kzalloc(test, sizeof(*parms), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, parms);
	parms->max_segment_size = 2 * PAGE_SIZE;
	dev->dma_parms = parms;
	dmabuf = export(test, made);
	attach = dma_buf_attach(dmabuf, dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, attach);
	sgt = dma_buf_map_attachment_unlocked(attach, DMA_TO_DEVICE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sgt->nents, ARRAY_SIZE(want));
	for_each_sgtable_dma_sg(sgt, sg, i)
		KUNIT_EXPECT_EQ(test, sg_dma_len(sg), want[i] * PAGE_SIZE);
	dma_buf_unmap_attachment_unlocked(attach, sgt, DMA_TO_DEVICE);
	dma_buf_detach(dmabuf, attach);
	put_now(dmabuf);
	dev->dma_parms = NULL;
}

static void release_count(void *data)
{
	(*(unsigned int *)data)++;
}

/*
 * vcm_phys_to_sgt(): one entry per part, or per max_segment of it;
 * vcm_phys_from_sgt(): the entries, physically contiguous ones joined,
 * released once with the memory; entries not page aligned are refused.
 */
static void vcm_dmabuf_sgt_test(struct kunit *test)
{
	/* Pages 0, 1 | 3, 4-5 | 7 of an order-3 block, in entries of 1, 1, 1, 2, 1. */
	static const unsigned int first[] = { 0, 1, 3, 4, 7 }, pages[] = { 1, 1, 1, 2, 1 };
	struct page *block = alloc_block(test, 3);
	unsigned int i, freed = 0, released = 0;
	struct vcm_phys *phys, *made;
	struct sg_table sgt, back;
	struct scatterlist *sg;

	phys = counted_phys(test, &freed);
	KUNIT_ASSERT_EQ(test, vcm_phys_to_sgt(phys, &sgt, UINT_MAX), 0);
	KUNIT_EXPECT_EQ(test, sgt.orig_nents, phys->count);
	for_each_sgtable_sg(&sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_phys(sg), phys->parts[i].start);
		KUNIT_EXPECT_EQ(test, sg->length, phys->parts[i].size);
	}
	sg_free_table(&sgt);
	vcm_free(phys);

	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, ARRAY_SIZE(first), GFP_KERNEL), 0);
	for_each_sgtable_sg(&sgt, sg, i)
		sg_set_page(sg, block + first[i], pages[i] * PAGE_SIZE, 0);
	made = vcm_phys_from_sgt(&sgt, release_count, &released);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, made);
	KUNIT_ASSERT_EQ(test, made->count, 3);
	KUNIT_EXPECT_EQ(test, made->size, 6 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, made->parts[0].page, block);
	KUNIT_EXPECT_EQ(test, made->parts[0].size, 2 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, made->parts[1].page, block + 3);
	KUNIT_EXPECT_EQ(test, made->parts[1].start, page_to_phys(block + 3));
	KUNIT_EXPECT_EQ(test, made->parts[1].size, 3 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, made->parts[2].page, block + 7);
	KUNIT_EXPECT_EQ(test, made->parts[2].size, PAGE_SIZE);

	/* Back to a table: a part of several pages is one entry of UINT_MAX. */
	KUNIT_ASSERT_EQ(test, vcm_phys_to_sgt(made, &back, UINT_MAX), 0);
	KUNIT_EXPECT_EQ(test, back.orig_nents, 3);
	KUNIT_EXPECT_EQ(test, back.sgl->length, 2 * PAGE_SIZE);
	sg_free_table(&back);

	/* In entries of at most two pages (rounded down). */
	KUNIT_ASSERT_EQ(test, vcm_phys_to_sgt(made, &back, 3 * PAGE_SIZE - 1), 0);
	KUNIT_EXPECT_EQ(test, back.orig_nents, 4);
	sg = back.sgl;
	KUNIT_EXPECT_EQ(test, sg->length, 2 * PAGE_SIZE);
	sg = sg_next(sg);
	KUNIT_EXPECT_EQ(test, sg->length, 2 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sg), block + 3);
	sg = sg_next(sg);
	KUNIT_EXPECT_EQ(test, sg->length, PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sg), block + 5);
	sg = sg_next(sg);
	KUNIT_EXPECT_PTR_EQ(test, sg_page(sg), block + 7);
	sg_free_table(&back);
	expect_segments(test, made);
	KUNIT_EXPECT_EQ(test, released, 0);
	vcm_free(made);
	KUNIT_EXPECT_EQ(test, released, 1);

	sgt.sgl->offset = 512;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_sgt(&sgt, NULL, NULL)), -EINVAL);
	sgt.sgl->offset = 0;
	sgt.sgl->length = 100;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_sgt(&sgt, NULL, NULL)), -EINVAL);
	sg_free_table(&sgt);
	memset(&sgt, 0, sizeof(sgt));
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_phys_from_sgt(&sgt, NULL, NULL)), -EINVAL);
}

/*
 * Export, attach, map and the sg_table conversions with each allocation
 * they make failing in turn: the failing call returns -ENOMEM and leaves
 * nothing behind (the memory keeps only its owner's reference, the
 * dma-buf core's state is released).
 */
static int dmabuf_steps(struct kunit *test, struct vcm_phys *phys, struct device *dev)
{
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct vcm_phys *made;
	struct sg_table *map, sgt;
	int ret;

	dmabuf = vcm_phys_export(phys, O_RDWR);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	attach = dma_buf_attach(dmabuf, dev);
	ret = PTR_ERR_OR_ZERO(attach);
	if (ret)
		goto put;
	map = dma_buf_map_attachment_unlocked(attach, DMA_BIDIRECTIONAL);
	ret = PTR_ERR_OR_ZERO(map);
	if (!ret)
		dma_buf_unmap_attachment_unlocked(attach, map, DMA_BIDIRECTIONAL);
	dma_buf_detach(dmabuf, attach);
	if (ret)
		goto put;
	ret = vcm_phys_to_sgt(phys, &sgt, UINT_MAX);
	if (ret)
		goto put;
	made = vcm_phys_from_sgt(&sgt, NULL, NULL);
	sg_free_table(&sgt);
	ret = PTR_ERR_OR_ZERO(made);
	if (!ret)
		vcm_free(made);
put:
	put_now(dmabuf);
	return ret;
}

static void vcm_dmabuf_alloc_failure_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct device *dev = dma_device(test, "vcm-dmabuf-fails", 64);
	unsigned int n, sites, freed = 0;
	struct vcm_phys *phys;
	int ret;

	phys = counted_phys(test, &freed);
	KUNIT_ASSERT_EQ(test, dmabuf_steps(test, phys, dev), 0);
	sites = ta->calls;
	/* export (2), attach, map (3), to_sgt, from_sgt */
	KUNIT_EXPECT_EQ(test, sites, 8);
	for (n = 1; n <= sites; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		ret = dmabuf_steps(test, phys, dev);
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "allocation %u failing", n);
		KUNIT_EXPECT_EQ_MSG(test, ta->calls, n, "allocation %u failing", n);
		KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);
	}
	test_alloc_reset(ta);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, freed, 1);
}

static struct kunit_case vcm_dmabuf_cases[] = {
	KUNIT_CASE(vcm_dmabuf_map_test),
	KUNIT_CASE(vcm_dmabuf_vmap_import_test),
	KUNIT_CASE(vcm_dmabuf_mmap_test),
	KUNIT_CASE_PARAM(vcm_dmabuf_release_order_test, release_order_gen_params),
	KUNIT_CASE(vcm_dmabuf_refused_test),
	KUNIT_CASE(vcm_dmabuf_sgt_test),
	KUNIT_CASE(vcm_dmabuf_alloc_failure_test),
	{}
};

static struct kunit_suite vcm_dmabuf_suite = {
	.name = "vcm_dmabuf",
	.test_cases = vcm_dmabuf_cases,
};

kunit_test_suite(vcm_dmabuf_suite);

MODULE_DESCRIPTION("KUnit tests for VCM's dma-bufs");
MODULE_LICENSE("GPL");
