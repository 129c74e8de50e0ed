/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM): what mm/vcm*.c share with each other
 * and with their KUnit tests, and nothing else.
 */
#ifndef _MM_VCM_INTERNAL_H
#define _MM_VCM_INTERNAL_H

#include <linux/gfp_types.h>
#include <linux/log2.h>
#include <linux/mmzone.h>
#include <linux/types.h>

#include <linux/vcm-drv.h>

/*
 * Compatibility with Linux 6.1; upstream drops it.  Kernels before 6.8
 * lack MAX_PAGE_ORDER, which tells them apart with no version number
 * (checkpatch wants none), and VCM_COMPAT_6_1 says so to the suites'
 * lib/tests/vcm_kunit_compat.h too; of those kernels, only 6.1 is
 * supported.  MAX_PAGE_ORDER, the largest order the page allocator hands
 * out, was MAX_ORDER (from 6.4 on) or one less than it (before 6.4): the
 * largest block always had MAX_ORDER_NR_PAGES pages.
 */
#ifndef MAX_PAGE_ORDER
#define VCM_COMPAT_6_1
#define MAX_PAGE_ORDER ilog2(MAX_ORDER_NR_PAGES)
#endif

/*
 * KUnit's static stubs are new in 6.2: before, a redirect looks its
 * replacement up among the current test's resources, where the suites'
 * kunit_activate_static_stub() puts it, named after the function.
 */
#ifndef VCM_COMPAT_6_1
#include <kunit/static_stub.h>
#else
#include <kunit/test.h>
#include <linux/sched.h>

static inline void *vcm_kunit_static_stub(const char *name)
{
#if IS_ENABLED(CONFIG_KUNIT)
	struct kunit *test = current->kunit_test;
	struct kunit_resource *res;
	void *replacement;

	if (likely(!test))
		return NULL;
	res = kunit_find_named_resource(test, name);
	if (!res)
		return NULL;
	replacement = res->data;
	kunit_put_resource(res);
	return replacement;
#else
	return NULL;
#endif
}

/* Returns from the caller, as the real one does. */
#define KUNIT_STATIC_STUB_REDIRECT(real_fn_name, args...)		\
do {									\
	typeof(real_fn_name) *real_fn_name##_stub =			\
		vcm_kunit_static_stub(#real_fn_name);			\
									\
	if (unlikely(real_fn_name##_stub))				\
		return real_fn_name##_stub(args);			\
} while (0)
#endif /* VCM_COMPAT_6_1 */

struct page;

bool vcm_phys_valid(const struct vcm_phys *phys);

/* Whether @vcm's hardware reaches every part of @phys. */
static inline bool vcm_phys_reachable(const struct vcm *vcm,
				      const struct vcm_phys *phys)
{
	unsigned int i;

	if (!vcm->phys_max)
		return true;
	for (i = 0; i < phys->count; i++)
		if (phys->parts[i].start > vcm->phys_max ||
		    phys->parts[i].size - 1 > vcm->phys_max - phys->parts[i].start)
			return false;
	return true;
}

bool vcm_orders_valid(const unsigned char *orders);
int __vcm_phys_walk(dma_addr_t vaddr, const struct vcm_phys *phys,
		    const unsigned char *orders, vcm_phys_walk_fn *callback,
		    vcm_phys_walk_fn *recovery, void *priv);
int __vcm_phys_walk_runs(dma_addr_t vaddr, const struct vcm_phys *phys,
			 const unsigned char *orders, vcm_phys_run_fn *callback,
			 vcm_phys_run_fn *recovery, void *priv);

/*
 * Page accounting for the KUnit tests: physical pages come from and go
 * back through vcm_phys_get_pages() and vcm_phys_put_pages().  A test
 * redirects these with kunit_activate_static_stub() to fail allocations
 * and to count pages; in any other thread they only allocate and free.
 * vcm_should_fail_alloc() is in <linux/vcm-drv.h>, for the backends too.
 * The one-to-one contexts take their pages here too.
 */
struct page *vcm_phys_get_pages(gfp_t gfp, unsigned int order);
void vcm_phys_put_pages(struct page *page, unsigned int order);

/* Cache maintenance, for the KUnit tests to record; see mm/vcm.c. */
#if IS_ENABLED(CONFIG_KUNIT)
#include <linux/dma-direction.h>

void vcm_sync_range(phys_addr_t paddr, size_t size, enum dma_data_direction dir,
		    bool for_device);
#endif

/* The sync of a dma-buf importer's mapping, for the KUnit tests to record. */
#if IS_ENABLED(CONFIG_KUNIT) && IS_ENABLED(CONFIG_VCM_DMABUF)
struct device;
struct sg_table;

void vcm_dmabuf_sync(struct device *dev, struct sg_table *sgt,
		     enum dma_data_direction dir, bool for_cpu);
#endif

/*
 * Returns the ranges the MMU wrapper's per-CPU caches hold to its pool, so
 * that a test can see the pool whole; the wrapper does it itself when the
 * pool runs out and when the context is freed.
 */
#if IS_ENABLED(CONFIG_KUNIT)
void vcm_mmu_drain(struct vcm_mmu *mmu);
size_t vcm_mmu_cache_bytes(struct vcm_mmu *mmu);
bool vcm_mmu_pool_fits(resource_size_t nr_pages, unsigned long largest);
#endif

/* The debugfs files' contents, for the KUnit tests to read. */
#if IS_ENABLED(CONFIG_KUNIT) && IS_ENABLED(CONFIG_DEBUG_FS)
struct seq_file;

int vcm_contexts_show(struct seq_file *m, void *unused);
int vcm_reservations_show(struct seq_file *m, void *unused);
#endif

#endif /* _MM_VCM_INTERNAL_H */
