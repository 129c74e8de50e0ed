/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VCM KUnit suites share: announcing expected warnings, and
 * controlling and counting VCM's allocations.
 */
#ifndef _VCM_KUNIT_H
#define _VCM_KUNIT_H

#include <kunit/test.h>
#include <kunit/test-bug.h>
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/vcm-drv.h>
#include <linux/xarray.h>

#include "../../mm/vcm-internal.h"
#include "vcm_kunit_compat.h"

/*
 * Warnings.  VCM and its backends tell vcm_warned() of each warning they
 * raise (<linux/vcm-drv.h>), which fails the running test unless it
 * expects them: a test that provokes warnings on purpose brackets the
 * calls with expect_warning() ... expect_warning_end(), which counts them,
 * every one, though WARN_ONCE() prints only the first of each site.  So a
 * suite is right under plain kunit.py.  The blocks are also announced in
 * the kernel log for the harness's scan (harness/check-results.py), a
 * second net: it fails a run whose log holds a warning outside such a
 * block, a warning inside one that VCM did not raise, and a block that
 * lacks the text it names (empty: a WARN_ONCE() that may have printed
 * already).
 */
static atomic_t vcm_kunit_warnings;

static inline void vcm_kunit_count_warning(void)
{
	atomic_inc(&vcm_kunit_warnings);
}

/* Counts VCM's warnings from now on; @what must be printed before the end. */
static inline void expect_warning(struct kunit *test, const char *what)
{
	atomic_set(&vcm_kunit_warnings, 0);
	kunit_activate_static_stub(test, vcm_warned, vcm_kunit_count_warning);
	pr_info("vcm-kunit: expect-warning begin: %s\n", what);
}

/* The warnings counted since expect_warning() or the last call. */
static inline unsigned int warnings_taken(void)
{
	return atomic_xchg(&vcm_kunit_warnings, 0);
}

/* Ends the block, in which VCM warned exactly @n more times. */
static inline void expect_warning_end(struct kunit *test, unsigned int n)
{
	pr_info("vcm-kunit: expect-warning end\n");
	kunit_deactivate_static_stub(test, vcm_warned);
	KUNIT_EXPECT_EQ_MSG(test, warnings_taken(), n, "VCM warnings");
}

/*
 * Physical memory without struct pages, from @nr parts, that is never
 * vcm_free()d: KUnit frees it.
 */
static inline struct vcm_phys *phys_make(struct kunit *test,
					 const struct vcm_phys_part *parts,
					 unsigned int nr)
{
	struct vcm_phys *phys;
	unsigned int i;

	phys = kunit_kzalloc(test, struct_size(phys, parts, nr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, phys);
	vcm_phys_init(phys, NULL);
	phys->count = nr;
	for (i = 0; i < nr; i++) {
		phys->parts[i] = parts[i];
		phys->size += parts[i].size;
	}
	return phys;
}

/*
 * Allocation control: test_alloc_start() redirects VCM's allocation hooks
 * (mm/vcm-internal.h) for the rest of the test, in the test's thread.
 * Every allocation VCM asks for is numbered from 1, pages or not; from
 * number @fail_from on (when non-zero) all fail.  Attempts at each page
 * order are numbered too, and fail from @fail_order_from[order] on.  Each
 * block of pages handed out is tracked until VCM returns it, so a leak, a
 * double free or a free with the wrong order shows.
 */
struct test_alloc {
	unsigned int calls;
	unsigned int fail_from;
	unsigned int order_calls[MAX_PAGE_ORDER + 1];
	unsigned int fail_order_from[MAX_PAGE_ORDER + 1];

	gfp_t order_gfp[MAX_PAGE_ORDER + 1];	/* of the last attempt */

	struct xarray blocks;		/* pfn -> xa_mk_value(order) */
	long live_pages;		/* in PAGE_SIZE units */
	unsigned int bad_gets;		/* order above MAX_PAGE_ORDER */
	unsigned int bad_puts;		/* untracked block, or wrong order */
};

static inline struct test_alloc *test_alloc_current(void)
{
	return kunit_get_current_test()->priv;
}

static inline bool test_alloc_fails(struct test_alloc *ta)
{
	ta->calls++;
	return ta->fail_from && ta->calls >= ta->fail_from;
}

static inline bool test_should_fail_alloc(void)
{
	return test_alloc_fails(test_alloc_current());
}

static inline struct page *test_get_pages(gfp_t gfp, unsigned int order)
{
	struct test_alloc *ta = test_alloc_current();
	struct page *page;
	unsigned int nth;

	if (order > MAX_PAGE_ORDER) {
		ta->bad_gets++;
		return NULL;
	}
	nth = ++ta->order_calls[order];
	ta->order_gfp[order] = gfp;
	if (test_alloc_fails(ta) ||
	    (ta->fail_order_from[order] && nth >= ta->fail_order_from[order]))
		return NULL;
	page = alloc_pages(gfp, order);
	if (page && xa_err(xa_store(&ta->blocks, page_to_pfn(page),
				    xa_mk_value(order), GFP_KERNEL))) {
		__free_pages(page, order);
		return NULL;
	}
	if (page)
		ta->live_pages += 1L << order;
	return page;
}

static inline void test_put_pages(struct page *page, unsigned int order)
{
	struct test_alloc *ta = test_alloc_current();
	void *entry = xa_erase(&ta->blocks, page_to_pfn(page));

	if (entry && xa_to_value(entry) == order)
		ta->live_pages -= 1L << order;
	else
		ta->bad_puts++;
	__free_pages(page, order);
}

/* Returns what VCM leaked, so that a failed test leaks nothing itself. */
static inline void test_alloc_stop(void *data)
{
	struct test_alloc *ta = data;
	unsigned long pfn;
	void *entry;

	xa_for_each(&ta->blocks, pfn, entry)
		__free_pages(pfn_to_page(pfn), xa_to_value(entry));
	xa_destroy(&ta->blocks);
}

static inline struct test_alloc *test_alloc_start(struct kunit *test)
{
	struct test_alloc *ta = kunit_kzalloc(test, sizeof(*ta), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ta);
	xa_init(&ta->blocks);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, test_alloc_stop, ta), 0);
	test->priv = ta;
	kunit_activate_static_stub(test, vcm_should_fail_alloc,
				   test_should_fail_alloc);
	kunit_activate_static_stub(test, vcm_phys_get_pages, test_get_pages);
	kunit_activate_static_stub(test, vcm_phys_put_pages, test_put_pages);
	return ta;
}

/* Checks that every block VCM took came back, each once, whole. */
static inline void expect_no_live_pages(struct kunit *test,
					const struct test_alloc *ta)
{
	KUNIT_EXPECT_EQ(test, ta->live_pages, 0);
	KUNIT_EXPECT_TRUE(test, xa_empty(&ta->blocks));
	KUNIT_EXPECT_EQ(test, ta->bad_gets, 0);
	KUNIT_EXPECT_EQ(test, ta->bad_puts, 0);
}

/* Forgets the counts and failure settings; keeps tracking the blocks. */
static inline void test_alloc_reset(struct test_alloc *ta)
{
	ta->calls = 0;
	ta->fail_from = 0;
	memset(ta->order_calls, 0, sizeof(ta->order_calls));
	memset(ta->fail_order_from, 0, sizeof(ta->fail_order_from));
}

/* A KUnit action: vcm_destroy() of the context it is given. */
static inline void vcm_destroy_action(void *vcm)
{
	vcm_destroy(vcm);
}

static inline void free_block_action(void *block)
{
	struct page *page = block;
	unsigned int order = page_private(page);

	set_page_private(page, 0);
	__free_pages(page, order);
}

/* A block of 2^@order pages, freed when the test ends. */
static inline struct page *alloc_block(struct kunit *test, unsigned int order)
{
	struct page *block = alloc_pages(GFP_KERNEL, order);

	KUNIT_ASSERT_NOT_NULL(test, block);
	set_page_private(block, order);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, free_block_action, block), 0);
	return block;
}

/* Memory of one part, a block of 2^@order pages. */
static inline struct vcm_phys *block_of(struct kunit *test, unsigned int order)
{
	struct page *block = alloc_block(test, order);
	struct vcm_phys_part part = {
		.page = block,
		.start = page_to_phys(block),
		.size = PAGE_SIZE << order,
	};

	return phys_make(test, &part, 1);
}

/*
 * Memory of the four pages of an order-2 block, in the order 0, 2, 1, 3:
 * four runs of contiguous parts.  Make it before the context that binds
 * it, so that a test that stops early frees it after the context.
 */
static inline struct vcm_phys *scattered(struct kunit *test)
{
	static const unsigned int order[] = { 0, 2, 1, 3 };
	struct vcm_phys_part parts[ARRAY_SIZE(order)];
	struct page *block = alloc_block(test, 2);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		parts[i].page = block + order[i];
		parts[i].start = page_to_phys(block + order[i]);
		parts[i].size = PAGE_SIZE;
	}
	return phys_make(test, parts, ARRAY_SIZE(parts));
}

/* vcm_alloc() of @size bytes in @vcm, asserted. */
static inline struct vcm_phys *alloc_phys(struct kunit *test, struct vcm *vcm,
					  resource_size_t size)
{
	struct vcm_phys *phys = vcm_alloc(vcm, size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, phys, "vcm_alloc");
	return phys;
}

/* vcm_map() of @phys in @vcm with @flags, asserted. */
static inline struct vcm_res *map_phys(struct kunit *test, struct vcm *vcm,
				       struct vcm_phys *phys, unsigned int flags)
{
	struct vcm_res *res = vcm_map(vcm, phys, flags);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, res, "vcm_map");
	return res;
}

/* A device, unregistered when the test ends, that maps with the DMA API. */
static inline struct device *dma_device(struct kunit *test, const char *name,
					unsigned int dma_bits)
{
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(dma_bits)), 0);
	return dev;
}

/* What a vcm_fault_fn of a test saw, and what it returns. */
struct fault_seen {
	struct vcm *vcm;
	dma_addr_t addr;
	unsigned int flags;
	unsigned int calls;
	int ret;
};

static inline int record_fault(struct vcm *vcm, dma_addr_t addr,
			       unsigned int flags, void *priv)
{
	struct fault_seen *seen = priv;

	seen->vcm = vcm;
	seen->addr = addr;
	seen->flags = flags;
	seen->calls++;
	return seen->ret;
}

#if IS_ENABLED(CONFIG_DEBUG_FS)
/* What a debugfs file of VCM would read now. */
static inline char *debugfs_read(struct kunit *test,
				 int (*show)(struct seq_file *m, void *unused))
{
	struct seq_file m = { .size = SZ_64K };

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	KUNIT_ASSERT_EQ(test, show(&m, NULL), 0);
	KUNIT_ASSERT_LT(test, m.count, m.size);
	return m.buf;
}

/* The line of @show's file that starts with @prefix, or NULL. */
static inline const char *debugfs_line(struct kunit *test,
				       int (*show)(struct seq_file *m, void *unused),
				       const char *prefix)
{
	char *text = debugfs_read(test, show), *line;

	while ((line = strsep(&text, "\n")))
		if (str_has_prefix(line, prefix))
			return line;
	return NULL;
}
#endif

#endif /* _VCM_KUNIT_H */
