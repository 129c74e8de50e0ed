// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the VCM MMU wrapper (mm/vcm-mmu.c).
 *
 * A fake MMU driver records every mapping and unmapping it is asked for,
 * keeps the set of what is mapped now (its "page table"), and counts
 * protocol violations: an operation called with interrupts enabled or
 * without the context's lock, a mapping over one that exists, an unmapping
 * of something not mapped.  It maps whole reservations, or pages, or has
 * both kinds of operations, as the test asks.
 */

#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/genalloc.h>
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vcm-drv.h>

#include "vcm_kunit.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define MMU_START	((dma_addr_t)0x20000000)
#define MMU_SIZE	((resource_size_t)SZ_16M)
#define P		((phys_addr_t)0x40000000)
#define FAKE_LEN	1024

static const unsigned char orders_8_4_0[] = { 8, 4, 0 };

enum fake_style { STYLE_WHOLE, STYLE_PAGE, STYLE_BOTH };

struct fake_entry {
	bool map;		/* a mapping, or an unmapping */
	bool whole;		/* by ->activate or ->deactivate */
	dma_addr_t vaddr;
	phys_addr_t paddr;
	resource_size_t size;
};

struct fake_mmu {
	struct vcm_mmu mmu;
	struct vcm_mmu_driver ops;

	struct fake_entry log[FAKE_LEN];	/* what was done, in order */
	unsigned int nr_log;
	struct fake_entry mapped[FAKE_LEN];	/* what is mapped now */
	unsigned int nr_mapped;
	unsigned int map_calls;
	unsigned int fail_map_at;		/* this map call fails, from 1 */
	int enable_error;			/* ->enable returns it */
	bool enabled;
	unsigned int enables, disables, detaches;
	unsigned int mapped_at_enable;		/* nr_mapped at the last call */
	unsigned int mapped_at_disable;
	unsigned int violations;
	bool cleaned_up;
};

static struct fake_mmu *to_fake(struct vcm_mmu *mmu)
{
	return container_of(mmu, struct fake_mmu, mmu);
}

/*
 * Mapping operations run with the context's spinlock, interrupts off; a
 * driver that may sleep gets them with interrupts on, under the context's
 * mutex and not the spinlock.
 */
static void fake_check_context(struct fake_mmu *fake)
{
	if (fake->ops.may_sleep) {
		might_sleep();
		if (irqs_disabled() ||
		    (IS_ENABLED(CONFIG_LOCKDEP) &&
		     (!lockdep_is_held(&fake->mmu.vcm.lock) ||
		      lockdep_is_held(&fake->mmu.lock))))
			fake->violations++;
		return;
	}
	if (!irqs_disabled() ||
	    (IS_ENABLED(CONFIG_LOCKDEP) && !lockdep_is_held(&fake->mmu.lock)))
		fake->violations++;
}

static void fake_log(struct fake_mmu *fake, struct fake_entry entry)
{
	if (fake->nr_log < FAKE_LEN)
		fake->log[fake->nr_log++] = entry;
	else
		fake->violations++;
}

static int fake_map(struct fake_mmu *fake, bool whole, dma_addr_t vaddr,
		    phys_addr_t paddr, resource_size_t size)
{
	struct fake_entry entry = { true, whole, vaddr, paddr, size };
	unsigned int i;

	fake_check_context(fake);
	if (++fake->map_calls == fake->fail_map_at)
		return -EIO;
	for (i = 0; i < fake->nr_mapped; i++) {
		const struct fake_entry *m = &fake->mapped[i];

		if (vaddr < m->vaddr + m->size && m->vaddr < vaddr + size)
			fake->violations++;
	}
	if (fake->nr_mapped < FAKE_LEN)
		fake->mapped[fake->nr_mapped++] = entry;
	else
		fake->violations++;
	fake_log(fake, entry);
	return 0;
}

static void fake_unmap(struct fake_mmu *fake, bool whole, dma_addr_t vaddr,
		       phys_addr_t paddr, resource_size_t size)
{
	struct fake_entry entry = { false, whole, vaddr, paddr, size };
	unsigned int i;

	fake_check_context(fake);
	for (i = 0; i < fake->nr_mapped; i++) {
		const struct fake_entry *m = &fake->mapped[i];

		if (m->vaddr == vaddr && m->paddr == paddr && m->size == size &&
		    m->whole == whole)
			break;
	}
	if (i < fake->nr_mapped)
		fake->mapped[i] = fake->mapped[--fake->nr_mapped];
	else
		fake->violations++;
	fake_log(fake, entry);
}

static int fake_activate(struct vcm_res *res, struct vcm_phys *phys)
{
	struct fake_mmu *fake = to_fake(container_of(res->vcm, struct vcm_mmu, vcm));

	return fake_map(fake, true, res->start, phys->parts[0].start, phys->size);
}

static void fake_deactivate(struct vcm_res *res, struct vcm_phys *phys)
{
	struct fake_mmu *fake = to_fake(container_of(res->vcm, struct vcm_mmu, vcm));

	fake_unmap(fake, true, res->start, phys->parts[0].start, phys->size);
}

static int fake_activate_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
			      phys_addr_t paddr, unsigned int order)
{
	return fake_map(to_fake(mmu), false, vaddr, paddr,
			(resource_size_t)PAGE_SIZE << order);
}

static void fake_deactivate_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
				 phys_addr_t paddr, unsigned int order)
{
	fake_unmap(to_fake(mmu), false, vaddr, paddr,
		   (resource_size_t)PAGE_SIZE << order);
}

/* The hardware starts with everything mapped and stops before unmapping. */
static int fake_enable(struct vcm_mmu *mmu)
{
	struct fake_mmu *fake = to_fake(mmu);

	fake_check_context(fake);
	fake->enables++;
	fake->mapped_at_enable = fake->nr_mapped;
	if (fake->enabled)
		fake->violations++;
	fake->enabled = !fake->enable_error;
	return fake->enable_error;
}

static void fake_disable(struct vcm_mmu *mmu)
{
	struct fake_mmu *fake = to_fake(mmu);

	fake_check_context(fake);
	fake->disables++;
	fake->mapped_at_disable = fake->nr_mapped;
	if (!fake->enabled)
		fake->violations++;
	fake->enabled = false;
}

/* Detached once, disabled, with nothing mapped. */
static void fake_detach(struct vcm_mmu *mmu)
{
	struct fake_mmu *fake = to_fake(mmu);

	fake_check_context(fake);
	fake->detaches++;
	if (fake->enabled || fake->nr_mapped || fake->detaches > 1)
		fake->violations++;
}

static void fake_cleanup(struct vcm_mmu *mmu)
{
	to_fake(mmu)->cleaned_up = true;
}

static void fake_destroy_action(void *data)
{
	struct fake_mmu *fake = data;

	if (!fake->mmu.vcm.dead)
		vcm_destroy(&fake->mmu.vcm);
}

/* A fake over [MMU_START, MMU_START + MMU_SIZE), before vcm_mmu_init(). */
static struct fake_mmu *fake_alloc(struct kunit *test, enum fake_style style)
{
	struct fake_mmu *fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->ops.orders = orders_8_4_0;
	fake->ops.cleanup = fake_cleanup;
	fake->ops.detach = fake_detach;
	if (style != STYLE_PAGE) {
		fake->ops.activate = fake_activate;
		fake->ops.deactivate = fake_deactivate;
	}
	if (style != STYLE_WHOLE) {
		fake->ops.activate_page = fake_activate_page;
		fake->ops.deactivate_page = fake_deactivate_page;
	}
	fake->mmu.driver = &fake->ops;
	fake->mmu.vcm.start = MMU_START;
	fake->mmu.vcm.size = MMU_SIZE;
	fake->mmu.vcm.name = "vcm-mmu-kunit";
	return fake;
}

/* vcm_mmu_init(), with the context destroyed when the test ends. */
static struct vcm *fake_init(struct kunit *test, struct fake_mmu *fake)
{
	struct vcm *vcm = vcm_mmu_init(&fake->mmu);

	if (!IS_ERR(vcm))
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_destroy_action,
								fake), 0);
	return vcm;
}

static struct fake_mmu *fake_create(struct kunit *test, enum fake_style style)
{
	struct fake_mmu *fake = fake_alloc(test, style);

	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	return fake;
}

/* Checks that the fake did exactly @want since the last check. */
static void expect_log(struct kunit *test, struct fake_mmu *fake,
		       const struct fake_entry *want, unsigned int n)
{
	unsigned int i;

	KUNIT_EXPECT_EQ_MSG(test, fake->nr_log, n, "driver calls");
	for (i = 0; i < min(n, fake->nr_log); i++) {
		const struct fake_entry *got = &fake->log[i];

		KUNIT_EXPECT_EQ_MSG(test, got->map, want[i].map, "call %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->whole, want[i].whole, "call %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->vaddr, want[i].vaddr, "call %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->paddr, want[i].paddr, "call %u", i);
		KUNIT_EXPECT_EQ_MSG(test, got->size, want[i].size, "call %u", i);
	}
	fake->nr_log = 0;
}

#define EXPECT_LOG(test, fake, ...)					\
	do {								\
		const struct fake_entry __want[] = { __VA_ARGS__ };	\
		expect_log(test, fake, __want, ARRAY_SIZE(__want));	\
	} while (0)

#define EXPECT_NO_LOG(test, fake)	expect_log(test, fake, NULL, 0)

#define MAP(whole, vaddr, paddr, size)	  { true, whole, vaddr, paddr, size }
#define UNMAP(whole, vaddr, paddr, size)  { false, whole, vaddr, paddr, size }

/* Bytes of device addresses free in the context's pool. */
static resource_size_t pool_free(struct fake_mmu *fake)
{
	vcm_mmu_drain(&fake->mmu);
	return (resource_size_t)gen_pool_avail(fake->mmu.pool) << PAGE_SHIFT;
}

/* Nothing mapped, and the driver was always called as documented. */
static void expect_clean(struct kunit *test, struct fake_mmu *fake)
{
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 0);
	KUNIT_EXPECT_EQ(test, fake->violations, 0);
}

static struct vcm_res *reserve(struct kunit *test, struct fake_mmu *fake,
			       resource_size_t size)
{
	struct vcm_res *res = vcm_reserve(&fake->mmu.vcm, size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, res, "reserving %pa", &size);
	return res;
}

static struct vcm_phys *one_part(struct kunit *test, phys_addr_t start,
				 resource_size_t size)
{
	const struct vcm_phys_part part = { .start = start, .size = size };

	return phys_make(test, &part, 1);
}

/* ---- vcm_mmu_init ---- */

enum init_ops { OPS_WHOLE, OPS_PAGE, OPS_BOTH, OPS_NO_DRIVER, OPS_NONE,
		OPS_ACTIVATE_ONLY, OPS_DEACTIVATE_ONLY, OPS_ACTIVATE_PAGE_ONLY,
		OPS_MIXED, OPS_NO_ORDERS, OPS_UNSORTED, OPS_ENABLE_ONLY,
		OPS_DISABLE_ONLY };

struct init_case {
	const char *desc;
	enum init_ops ops;
	dma_addr_t start;
	resource_size_t size;
	int err;
};

static const struct init_case init_cases[] = {
	{ "whole-reservation operations", OPS_WHOLE, MMU_START, MMU_SIZE, 0 },
	{ "page operations", OPS_PAGE, MMU_START, MMU_SIZE, 0 },
	{ "both pairs", OPS_BOTH, MMU_START, MMU_SIZE, 0 },
	{ "starts at device address 0", OPS_PAGE, 0, MMU_SIZE, 0 },
	{ "starts 4 KiB past a 1 MiB boundary", OPS_PAGE, MMU_START + SZ_4K, MMU_SIZE, 0 },
	{ "no driver", OPS_NO_DRIVER, MMU_START, MMU_SIZE, -EINVAL },
	{ "no operations", OPS_NONE, MMU_START, MMU_SIZE, -EINVAL },
	{ "activate without deactivate", OPS_ACTIVATE_ONLY, MMU_START, MMU_SIZE, -EINVAL },
	{ "deactivate without activate", OPS_DEACTIVATE_ONLY, MMU_START, MMU_SIZE, -EINVAL },
	{ "activate_page without deactivate_page", OPS_ACTIVATE_PAGE_ONLY, MMU_START,
	  MMU_SIZE, -EINVAL },
	{ "activate with deactivate_page", OPS_MIXED, MMU_START, MMU_SIZE, -EINVAL },
	{ "enable without disable", OPS_ENABLE_ONLY, MMU_START, MMU_SIZE, -EINVAL },
	{ "disable without enable", OPS_DISABLE_ONLY, MMU_START, MMU_SIZE, -EINVAL },
	{ "no orders", OPS_NO_ORDERS, MMU_START, MMU_SIZE, -EINVAL },
	{ "unsorted orders", OPS_UNSORTED, MMU_START, MMU_SIZE, -EINVAL },
	{ "zero size", OPS_PAGE, MMU_START, 0, -EINVAL },
	{ "start not page aligned", OPS_PAGE, MMU_START + 512, MMU_SIZE, -EINVAL },
#if !defined(CONFIG_64BIT) && !defined(CONFIG_PHYS_ADDR_T_64BIT)
	/* The largest a 32-bit resource_size_t can say; the pool takes it. */
	{ "all device addresses but the last page", OPS_PAGE, 0, (resource_size_t)-SZ_4K, 0 },
#endif
};

static void init_case_desc(const struct init_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_mmu_init, init_cases, init_case_desc);

/*
 * vcm_mmu_init() takes whole pairs of operations and valid orders, and a
 * context it took works: the wrapper maps through the operations it says.
 */
static void vcm_mmu_init_test(struct kunit *test)
{
	static const unsigned char unsorted[] = { 4, 8, 0 };
	const struct init_case *c = test->param_value;
	struct fake_mmu *fake = fake_alloc(test, STYLE_BOTH);
	struct vcm_res *res;
	struct vcm *vcm;
	bool warns = true;

	switch (c->ops) {
	case OPS_WHOLE:
		fake->ops.activate_page = NULL;
		fake->ops.deactivate_page = NULL;
		break;
	case OPS_PAGE:
		fake->ops.activate = NULL;
		fake->ops.deactivate = NULL;
		warns = false;
		break;
	case OPS_BOTH:
		break;
	case OPS_NO_DRIVER:
		fake->mmu.driver = NULL;
		break;
	case OPS_NONE:
		fake->ops = (struct vcm_mmu_driver){ .orders = orders_8_4_0 };
		break;
	case OPS_ACTIVATE_ONLY:
		fake->ops.deactivate = NULL;
		break;
	case OPS_DEACTIVATE_ONLY:
		fake->ops.activate = NULL;
		break;
	case OPS_ACTIVATE_PAGE_ONLY:
		fake->ops.activate = NULL;
		fake->ops.deactivate = NULL;
		fake->ops.deactivate_page = NULL;
		break;
	case OPS_MIXED:
		fake->ops.deactivate = NULL;
		fake->ops.activate_page = NULL;
		break;
	case OPS_ENABLE_ONLY:
		fake->ops.enable = fake_enable;
		break;
	case OPS_DISABLE_ONLY:
		fake->ops.disable = fake_disable;
		break;
	case OPS_NO_ORDERS:
		fake->ops.orders = NULL;
		break;
	case OPS_UNSORTED:
		fake->ops.orders = unsorted;
		break;
	}
	fake->mmu.vcm.start = c->start;
	fake->mmu.vcm.size = c->size;

	if (c->err && warns)
		expect_warning(test, "");
	vcm = fake_init(test, fake);
	if (c->err && warns)
		expect_warning_end(test, 1);
	if (c->err) {
		KUNIT_EXPECT_PTR_EQ(test, vcm, ERR_PTR(c->err));
		KUNIT_EXPECT_NULL(test, fake->mmu.pool);
		return;
	}
	KUNIT_ASSERT_PTR_EQ(test, vcm, &fake->mmu.vcm);

	/* The first reservation starts the context; binding maps it there. */
	res = reserve(test, fake, SZ_1M);
	KUNIT_EXPECT_EQ(test, res->start, ALIGN(c->start, SZ_1M));
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, one_part(test, P, SZ_1M)), 0);
	EXPECT_LOG(test, fake, MAP(c->ops != OPS_PAGE, res->start, P, SZ_1M));
	vcm_deactivate(vcm);
	EXPECT_LOG(test, fake, UNMAP(c->ops != OPS_PAGE, res->start, P, SZ_1M));
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	expect_clean(test, fake);
}

/* Each allocation of vcm_mmu_init() can fail: -ENOMEM, nothing left. */
static void vcm_mmu_init_fails_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct fake_mmu *fake;
	struct vcm *vcm;
	unsigned int n;

	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		fake = fake_alloc(test, STYLE_PAGE);
		vcm = fake_init(test, fake);
		if (!IS_ERR(vcm))
			break;
		KUNIT_EXPECT_PTR_EQ_MSG(test, vcm, ERR_PTR(-ENOMEM), "failing from %u", n);
		KUNIT_EXPECT_NULL(test, fake->mmu.pool);
		KUNIT_ASSERT_LT(test, n, 16);
	}
	/*
	 * The address pool, its range, the depot, the per-CPU range caches;
	 * then vcm_init()'s per-CPU reservation counts.
	 */
	KUNIT_EXPECT_EQ(test, n, 6);
	KUNIT_EXPECT_EQ(test, ta->calls, 5);
}

/*
 * A backend without cleanup has its struct vcm_mmu kfree()d.  It comes
 * from a cache of its own, which kmem_cache_destroy() finds empty only if
 * the wrapper freed it (else it warns, and the harness fails the run).
 */
static void vcm_mmu_destroy_kfree_test(struct kunit *test)
{
	struct vcm_mmu_driver *ops = kunit_kzalloc(test, sizeof(*ops), GFP_KERNEL);
	struct kmem_cache *cache;
	struct vcm_mmu *mmu;

	KUNIT_ASSERT_NOT_NULL(test, ops);
	cache = kmem_cache_create("vcm_mmu_kunit", sizeof(*mmu), 0, 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, cache);
	mmu = kmem_cache_zalloc(cache, GFP_KERNEL);
	if (!mmu)
		kmem_cache_destroy(cache);
	KUNIT_ASSERT_NOT_NULL(test, mmu);
	ops->orders = orders_8_4_0;
	ops->activate_page = fake_activate_page;
	ops->deactivate_page = fake_deactivate_page;
	mmu->driver = ops;
	mmu->vcm.start = MMU_START;
	mmu->vcm.size = MMU_SIZE;
	KUNIT_ASSERT_PTR_EQ(test, vcm_mmu_init(mmu), &mmu->vcm);
	vcm_destroy(&mmu->vcm);
	kmem_cache_destroy(cache);
}

/* ---- binding and activation ---- */

static const enum fake_style styles[] = { STYLE_WHOLE, STYLE_PAGE };

static void style_desc(const enum fake_style *style, char *desc)
{
	strscpy(desc, *style == STYLE_WHOLE ? "whole-reservation operations" :
		"page operations", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_mmu_style, styles, style_desc);

/*
 * Binding an inactive context maps nothing until activation; binding an
 * active one maps at once; unbinding an active one unmaps at once.
 */
static void vcm_mmu_bind_test(struct kunit *test)
{
	const enum fake_style style = *(const enum fake_style *)test->param_value;
	const bool whole = style == STYLE_WHOLE;
	struct fake_mmu *fake = fake_create(test, style);
	struct vcm *vcm = &fake->mmu.vcm;
	struct vcm_res *a, *b;

	a = reserve(test, fake, SZ_1M);
	b = reserve(test, fake, SZ_64K);
	KUNIT_ASSERT_EQ(test, a->start, MMU_START);
	KUNIT_ASSERT_EQ(test, b->start, MMU_START + SZ_1M);

	KUNIT_ASSERT_EQ(test, vcm_bind(a, one_part(test, P, SZ_1M)), 0);
	EXPECT_NO_LOG(test, fake);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	EXPECT_LOG(test, fake, MAP(whole, MMU_START, P, SZ_1M));

	KUNIT_ASSERT_EQ(test, vcm_bind(b, one_part(test, P + SZ_2M, SZ_64K)), 0);
	EXPECT_LOG(test, fake, MAP(whole, MMU_START + SZ_1M, P + SZ_2M, SZ_64K));
	KUNIT_EXPECT_EQ(test, vcm_unbind(b), 0);
	EXPECT_LOG(test, fake, UNMAP(whole, MMU_START + SZ_1M, P + SZ_2M, SZ_64K));

	/* A mapping that fails leaves the reservation unbound. */
	fake->fail_map_at = fake->map_calls + 1;
	KUNIT_EXPECT_EQ(test, vcm_bind(b, one_part(test, P + SZ_2M, SZ_64K)), -EIO);
	KUNIT_EXPECT_NULL(test, b->phys);
	EXPECT_NO_LOG(test, fake);

	vcm_deactivate(vcm);
	EXPECT_LOG(test, fake, UNMAP(whole, MMU_START, P, SZ_1M));
	KUNIT_EXPECT_EQ(test, vcm_unbind(a), 0);
	EXPECT_NO_LOG(test, fake);

	vcm_unreserve(a);
	vcm_unreserve(b);
	expect_clean(test, fake);
}

/* Three bound reservations: 1 MiB, 64 KiB + 4 KiB, 4 KiB. */
static void bind_three(struct kunit *test, struct fake_mmu *fake,
		       struct vcm_res *res[3])
{
	static const resource_size_t sizes[] = { SZ_1M, SZ_64K + SZ_4K, SZ_4K };
	static const phys_addr_t starts[] = { P, P + SZ_2M, P + SZ_4M };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		res[i] = reserve(test, fake, sizes[i]);
		KUNIT_ASSERT_EQ(test, vcm_bind(res[i], one_part(test, starts[i], sizes[i])), 0);
	}
	KUNIT_ASSERT_EQ(test, res[0]->start, MMU_START);
	KUNIT_ASSERT_EQ(test, res[1]->start, MMU_START + SZ_1M);
	KUNIT_ASSERT_EQ(test, res[2]->start, MMU_START + SZ_1M + SZ_64K + SZ_4K);
}

static void release_three(struct vcm_res *res[3])
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		WARN_ON(vcm_unbind(res[i]));
		vcm_unreserve(res[i]);
	}
}

#define R0	MMU_START
#define R1	(MMU_START + SZ_1M)
#define R2	(MMU_START + SZ_1M + SZ_64K + SZ_4K)

/* Activation maps every bound reservation; deactivation unmaps them all. */
static void vcm_mmu_deactivate_test(struct kunit *test)
{
	const enum fake_style style = *(const enum fake_style *)test->param_value;
	struct fake_mmu *fake = fake_create(test, style);
	struct vcm_res *res[3];

	bind_three(test, fake, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, style == STYLE_WHOLE ? 3 : 4);
	fake->nr_log = 0;

	/* The newest first. */
	vcm_deactivate(&fake->mmu.vcm);
	if (style == STYLE_WHOLE)
		EXPECT_LOG(test, fake,
			   UNMAP(true, R2, P + SZ_4M, SZ_4K),
			   UNMAP(true, R1, P + SZ_2M, SZ_64K + SZ_4K),
			   UNMAP(true, R0, P, SZ_1M));
	else
		EXPECT_LOG(test, fake,
			   UNMAP(false, R2, P + SZ_4M, SZ_4K),
			   UNMAP(false, R1, P + SZ_2M, SZ_64K),
			   UNMAP(false, R1 + SZ_64K, P + SZ_2M + SZ_64K, SZ_4K),
			   UNMAP(false, R0, P, SZ_1M));
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 0);
	release_three(res);
	EXPECT_NO_LOG(test, fake);
	expect_clean(test, fake);
}

/*
 * An activation failing at the second reservation undoes exactly what it
 * did, and leaves the context inactive; the next activation maps all.
 */
static void vcm_mmu_activate_fails_test(struct kunit *test)
{
	const enum fake_style style = *(const enum fake_style *)test->param_value;
	struct fake_mmu *fake = fake_create(test, style);
	struct vcm *vcm = &fake->mmu.vcm;
	struct vcm_res *res[3];

	bind_three(test, fake, res);
	if (style == STYLE_WHOLE) {
		fake->fail_map_at = 2;
		KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -EIO);
		EXPECT_LOG(test, fake,
			   MAP(true, R0, P, SZ_1M),
			   UNMAP(true, R0, P, SZ_1M));
	} else {
		/* At the second page of the second reservation. */
		fake->fail_map_at = 3;
		KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -EIO);
		EXPECT_LOG(test, fake,
			   MAP(false, R0, P, SZ_1M),
			   MAP(false, R1, P + SZ_2M, SZ_64K),
			   UNMAP(false, R1, P + SZ_2M, SZ_64K),
			   UNMAP(false, R0, P, SZ_1M));
	}
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 0);
	KUNIT_EXPECT_FALSE(test, fake->mmu.active);
	KUNIT_EXPECT_EQ(test, vcm->activations, 0);

	fake->fail_map_at = 0;
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, style == STYLE_WHOLE ? 3 : 4);
	vcm_deactivate(vcm);
	fake->nr_log = 0;
	release_three(res);
	expect_clean(test, fake);
}

/*
 * ->enable runs after every bound reservation is mapped and ->disable
 * before any is unmapped, once per activation; a failed ->enable leaves
 * nothing mapped and the context inactive.
 */
static void vcm_mmu_enable_test(struct kunit *test)
{
	const enum fake_style style = *(const enum fake_style *)test->param_value;
	struct fake_mmu *fake = fake_alloc(test, style);
	struct vcm *vcm;
	struct vcm_res *res[3];

	fake->ops.enable = fake_enable;
	fake->ops.disable = fake_disable;
	vcm = fake_init(test, fake);
	KUNIT_ASSERT_PTR_EQ(test, vcm, &fake->mmu.vcm);
	bind_three(test, fake, res);
	fake->nr_log = 0;

	fake->enable_error = -ETIMEDOUT;
	KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, fake->enables, 1);
	KUNIT_EXPECT_EQ(test, fake->mapped_at_enable, style == STYLE_WHOLE ? 3 : 4);
	KUNIT_EXPECT_EQ(test, fake->disables, 0);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 0);
	KUNIT_EXPECT_FALSE(test, fake->mmu.active);
	KUNIT_EXPECT_EQ(test, vcm->activations, 0);
	/* Newest first: the last mapping is the first unmapped. */
	KUNIT_ASSERT_EQ(test, fake->nr_log, style == STYLE_WHOLE ? 6 : 8);
	KUNIT_EXPECT_FALSE(test, fake->log[fake->nr_log / 2].map);
	KUNIT_EXPECT_EQ(test, fake->log[fake->nr_log / 2].vaddr,
			fake->log[fake->nr_log / 2 - 1].vaddr);
	fake->nr_log = 0;

	fake->enable_error = 0;
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->enables, 2);
	KUNIT_EXPECT_TRUE(test, fake->enabled);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, fake->disables, 0);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, fake->disables, 1);
	KUNIT_EXPECT_EQ(test, fake->mapped_at_disable, style == STYLE_WHOLE ? 3 : 4);
	KUNIT_EXPECT_FALSE(test, fake->enabled);
	fake->nr_log = 0;
	release_three(res);
	expect_clean(test, fake);
}

/*
 * Memory from vcm_make_binding() on the wrapper comes in the MMU's page
 * sizes and is mapped page by page exactly over its parts.
 */
static void vcm_mmu_make_binding_test(struct kunit *test)
{
	const resource_size_t size = SZ_2M + SZ_64K + SZ_4K;
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct test_alloc *ta = test_alloc_start(test);
	dma_addr_t vaddr;
	struct vcm_res *res;
	unsigned int i, k = 0;

	res = vcm_make_binding(&fake->mmu.vcm, size, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, MMU_START);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);

	vaddr = res->start;
	for (i = 0; i < res->phys->count; i++) {
		const struct vcm_phys_part *part = &res->phys->parts[i];
		phys_addr_t paddr = part->start;

		while (paddr < part->start + part->size) {
			const struct fake_entry *e;

			KUNIT_ASSERT_LT(test, k, fake->nr_log);
			e = &fake->log[k++];
			KUNIT_EXPECT_TRUE(test, e->map);
			KUNIT_EXPECT_EQ(test, e->vaddr, vaddr);
			KUNIT_EXPECT_EQ(test, e->paddr, paddr);
			vaddr += e->size;
			paddr += e->size;
		}
	}
	KUNIT_EXPECT_EQ(test, k, fake->nr_log);
	KUNIT_EXPECT_EQ(test, vaddr, res->start + size);

	vcm_deactivate(&fake->mmu.vcm);
	vcm_destroy_binding(res);
	expect_no_live_pages(test, ta);
	expect_clean(test, fake);
}

/*
 * Each allocation of vcm_make_binding() on the wrapper can fail: -ENOMEM,
 * no page left, no address left reserved.
 */
static void vcm_mmu_make_binding_fails_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_res *res;
	unsigned int n;

	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		res = vcm_make_binding(&fake->mmu.vcm, SZ_1M + SZ_64K + SZ_4K, 0, 0);
		if (!IS_ERR(res))
			break;
		KUNIT_EXPECT_PTR_EQ_MSG(test, res, ERR_PTR(-ENOMEM), "failing from %u", n);
		KUNIT_EXPECT_EQ_MSG(test, ta->live_pages, 0, "failing from %u", n);
		KUNIT_EXPECT_EQ_MSG(test, pool_free(fake), MMU_SIZE, "failing from %u", n);
		KUNIT_ASSERT_LT(test, n, 64);
	}
	/* Blocks of 1 MiB, 64 KiB and 4 KiB, the vcm_phys, the reservation. */
	KUNIT_EXPECT_EQ(test, ta->calls, n - 1);
	KUNIT_EXPECT_EQ(test, n, 6);
	vcm_destroy_binding(res);
	expect_no_live_pages(test, ta);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

/* ---- device addresses ---- */

struct align_step {
	resource_size_t size;
	dma_addr_t start;		/* offset from the context's start */
};

/*
 * Each reservation is aligned to the largest page size that divides its
 * size, next fit (from the end of the one before); a size below a page
 * takes a page.
 */
static void vcm_mmu_alignment_test(struct kunit *test)
{
	static const struct align_step steps[] = {
		{ SZ_4K, 0 },
		{ SZ_1M, SZ_1M },
		{ SZ_64K, SZ_2M },
		{ SZ_4K, SZ_2M + SZ_64K },
		{ SZ_1M * 3 + SZ_64K, SZ_2M + SZ_128K },
		{ SZ_2M, SZ_1M * 6 },
		{ 1, SZ_8M },
		{ SZ_128K, SZ_8M + SZ_64K },
	};
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_res *res[ARRAY_SIZE(steps)];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		res[i] = reserve(test, fake, steps[i].size);
		KUNIT_EXPECT_EQ_MSG(test, res[i]->start, MMU_START + steps[i].start,
				    "reservation %u", i);
		KUNIT_EXPECT_EQ(test, res[i]->res_size, PAGE_ALIGN(steps[i].size));
	}
	for (i = 0; i < ARRAY_SIZE(steps); i++)
		vcm_unreserve(res[i]);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

struct two_res_case {
	const char *desc;
	dma_addr_t start;		/* offsets from MMU_START */
	resource_size_t size;
	resource_size_t sizes[2];
	dma_addr_t want[2];
	bool full;			/* nothing is left */
};

static const struct two_res_case two_res_cases[] = {
	/* Alignment is of device addresses, whatever the context's start. */
	{ "context starting 4 KiB past 1 MiB", SZ_4K, MMU_SIZE,
	  { SZ_4K, SZ_1M }, { SZ_4K, SZ_1M }, false },
	/* With no room aligned for large pages, room aligned to a page. */
	{ "no room aligned to 1 MiB", 0, SZ_2M + SZ_4K,
	  { SZ_4K, SZ_2M }, { 0, SZ_4K }, true },
};

static void two_res_desc(const struct two_res_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_mmu_two_res, two_res_cases, two_res_desc);

/* Two reservations, first fit, in a context of the case's range. */
static void vcm_mmu_two_res_test(struct kunit *test)
{
	const struct two_res_case *c = test->param_value;
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct vcm_res *res[2];
	unsigned int i;

	fake->mmu.vcm.start = MMU_START + c->start;
	fake->mmu.vcm.size = c->size;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	for (i = 0; i < 2; i++) {
		res[i] = reserve(test, fake, c->sizes[i]);
		KUNIT_EXPECT_EQ(test, res[i]->start, MMU_START + c->want[i]);
	}
	if (c->full)
		KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4K, 0),
				    ERR_PTR(-ENOSPC));
	for (i = 0; i < 2; i++)
		vcm_unreserve(res[i]);
	KUNIT_EXPECT_EQ(test, pool_free(fake), c->size);
}

/* A context at device address 0 hands out address 0 and maps there. */
static void vcm_mmu_address_zero_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct vcm_res *res;

	fake->mmu.vcm.start = 0;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	res = reserve(test, fake, MMU_SIZE);
	KUNIT_EXPECT_EQ(test, res->start, 0);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, one_part(test, P, SZ_1M)), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);
	EXPECT_LOG(test, fake, MAP(false, 0, P, SZ_1M));
	vcm_deactivate(&fake->mmu.vcm);
	EXPECT_LOG(test, fake, UNMAP(false, 0, P, SZ_1M));
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);

	res = reserve(test, fake, SZ_4K);
	KUNIT_EXPECT_EQ(test, res->start, 0);
	vcm_unreserve(res);
	expect_clean(test, fake);
}

/*
 * Exhaustion is -ENOSPC, and unreserving returns the range: the whole
 * space can be reserved again.
 */
static void vcm_mmu_exhaustion_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_res *res[4], *whole;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(res); i++)
		res[i] = reserve(test, fake, MMU_SIZE / 4);
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4K, 0), ERR_PTR(-ENOSPC));

	/* 3 MiB does not fit the 2 MiB left at 2 MiB, but at 8 MiB. */
	vcm_unreserve(res[0]);
	vcm_unreserve(res[2]);
	res[0] = reserve(test, fake, SZ_2M);
	res[2] = reserve(test, fake, SZ_2M + SZ_1M);
	KUNIT_EXPECT_EQ(test, res[0]->start, MMU_START);
	KUNIT_EXPECT_EQ(test, res[2]->start, MMU_START + SZ_4M * 2);
	/* Holes of 4 MiB and 1 MiB are no room for 5 MiB. */
	vcm_unreserve(res[0]);
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4M + SZ_1M, 0),
			    ERR_PTR(-ENOSPC));

	for (i = 0; i < ARRAY_SIZE(res); i++)
		if (i != 0)
			vcm_unreserve(res[i]);
	whole = reserve(test, fake, MMU_SIZE);
	KUNIT_EXPECT_EQ(test, whole->start, MMU_START);
	vcm_unreserve(whole);
}

/*
 * A driver that may sleep: every operation runs under the context's mutex
 * with interrupts on (the fake counts a violation otherwise, and
 * might_sleep() splats), through bind, activation, unbind and destruction.
 */
static void vcm_mmu_may_sleep_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct vcm_res *res[2];
	struct vcm_phys *phys;

	fake->ops.may_sleep = true;
	fake->ops.enable = fake_enable;
	fake->ops.disable = fake_disable;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	KUNIT_EXPECT_PTR_EQ(test, vcm_to_mmu(&fake->mmu.vcm), &fake->mmu);
	phys = one_part(test, P, SZ_64K);
	res[0] = vcm_map(&fake->mmu.vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res[0]);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 1);
	res[1] = vcm_map(&fake->mmu.vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res[1]);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 2);
	vcm_unmap(res[1]);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 1);
	vcm_destroy(&fake->mmu.vcm);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, 0);
	KUNIT_EXPECT_EQ(test, fake->detaches, 1);
	vcm_deactivate(&fake->mmu.vcm);
	vcm_unmap(res[0]);
	KUNIT_EXPECT_EQ(test, fake->enables, 1);
	KUNIT_EXPECT_EQ(test, fake->disables, 1);
	KUNIT_EXPECT_EQ(test, fake->violations, 0);
	KUNIT_EXPECT_TRUE(test, fake->cleaned_up);
}

/*
 * Holes are never handed out, nor crossed: 1 MiB at 1 MiB and 2 MiB at
 * 8 MiB leave runs of 1, 6 and 6 MiB.
 */
static void vcm_mmu_holes_test(struct kunit *test)
{
	static const struct vcm_mmu_hole holes[] = {
		{ MMU_START + SZ_1M, SZ_1M },
		{ MMU_START + SZ_8M, SZ_2M },
	};
	const unsigned int nr = (MMU_SIZE - SZ_1M - SZ_2M) / SZ_64K;
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct vcm_res **res, *big;
	unsigned int i, j;

	res = kunit_kcalloc(test, nr, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	fake->mmu.holes = holes;
	fake->mmu.nr_holes = ARRAY_SIZE(holes);
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);

	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_8M - SZ_1M, 0),
			    ERR_PTR(-ENOSPC));
	big = reserve(test, fake, SZ_4M);
	KUNIT_EXPECT_TRUE(test, big->start == MMU_START + SZ_2M ||
			  big->start == MMU_START + SZ_8M + SZ_2M);
	vcm_unreserve(big);
	for (i = 0; i < nr; i++) {
		res[i] = reserve(test, fake, SZ_64K);
		for (j = 0; j < ARRAY_SIZE(holes); j++) {
			bool apart = res[i]->start + SZ_64K <= holes[j].start ||
				     res[i]->start >= holes[j].start + holes[j].size;

			KUNIT_EXPECT_TRUE_MSG(test, apart, "%pad meets hole %u",
					      &res[i]->start, j);
		}
	}
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4K, 0), ERR_PTR(-ENOSPC));
	while (i)
		vcm_unreserve(res[--i]);
}

/* Holes out of order, overlapping, unaligned or outside: -EINVAL. */
static void vcm_mmu_holes_invalid_test(struct kunit *test)
{
	static const struct vcm_mmu_hole bad[][2] = {
		{ { MMU_START + SZ_8M, SZ_1M }, { MMU_START + SZ_1M, SZ_1M } },
		{ { MMU_START + SZ_1M, SZ_2M }, { MMU_START + SZ_2M, SZ_1M } },
		{ { MMU_START + SZ_1M, SZ_1M - 1 }, { MMU_START + SZ_8M, SZ_1M } },
		{ { MMU_START + 1, SZ_1M }, { MMU_START + SZ_8M, SZ_1M } },
		{ { MMU_START - SZ_1M, SZ_2M }, { MMU_START + SZ_8M, SZ_1M } },
		{ { MMU_START + SZ_1M, SZ_1M }, { MMU_START + MMU_SIZE - SZ_1M, SZ_2M } },
		{ { MMU_START + SZ_1M, 0 }, { MMU_START + SZ_8M, SZ_1M } },
		{ { MMU_START + SZ_1M, SZ_1M }, { MMU_START + MMU_SIZE + SZ_1M, SZ_1M } },
	};
	struct test_alloc *ta = test_alloc_start(test);
	struct fake_mmu *fake;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fake = fake_alloc(test, STYLE_PAGE);
		fake->mmu.holes = bad[i];
		fake->mmu.nr_holes = ARRAY_SIZE(bad[i]);
		KUNIT_EXPECT_PTR_EQ_MSG(test, vcm_mmu_init(&fake->mmu), ERR_PTR(-EINVAL),
					"holes %u", i);
	}
	fake = fake_alloc(test, STYLE_PAGE);
	fake->mmu.nr_holes = 1;
	KUNIT_EXPECT_PTR_EQ(test, vcm_mmu_init(&fake->mmu), ERR_PTR(-EINVAL));
	/* Refused before anything was allocated. */
	KUNIT_EXPECT_EQ(test, ta->calls, 0);
}

/*
 * A context's own orders win over its driver's { 8, 4, 0 }: its memory's
 * parts and its mappings follow them.
 */
static void vcm_mmu_context_orders_test(struct kunit *test)
{
	static const unsigned char orders_4_0[] = { 4, 0 };
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	unsigned int i, pages = 0;
	struct vcm_phys *phys;
	struct vcm_res *res;

	fake->mmu.orders = orders_4_0;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	phys = vcm_alloc(&fake->mmu.vcm, SZ_1M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	for (i = 0; i < phys->count; i++) {
		KUNIT_EXPECT_LE(test, phys->parts[i].size, SZ_64K);
		pages += phys->parts[i].size == SZ_64K ? 1 : phys->parts[i].size / SZ_4K;
	}
	res = vcm_map(&fake->mmu.vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(res->start, SZ_64K));
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_mapped, pages);
	vcm_deactivate(&fake->mmu.vcm);
	vcm_unmap(res);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, fake->violations, 0);
}

/* A failed reservation allocation takes no address. */
static void vcm_mmu_reserve_fails_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_res *res;

	ta->fail_from = 1;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	KUNIT_EXPECT_EQ(test, ta->calls, 1);
	test_alloc_reset(ta);
	res = reserve(test, fake, MMU_SIZE);
	vcm_unreserve(res);
}

/*
 * Freed small ranges and 1 MiB ranges are kept in per-CPU caches and
 * handed out again from there; when the pool has no room, the caches are
 * drained into it first.
 */
static void vcm_mmu_cache_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_res *res[MMU_SIZE / SZ_1M], *whole;
	dma_addr_t start;
	unsigned int i;

	/* The same CPU's cache: the range just freed comes back. */
	migrate_disable();
	res[0] = reserve(test, fake, SZ_4K);
	res[1] = reserve(test, fake, SZ_4K);
	start = res[0]->start;
	vcm_unreserve(res[0]);
	res[0] = reserve(test, fake, SZ_4K);
	KUNIT_EXPECT_EQ(test, res[0]->start, start);
	/* Another size is not taken from it. */
	vcm_unreserve(res[0]);
	res[0] = reserve(test, fake, SZ_8K);
	KUNIT_EXPECT_NE(test, res[0]->start, start);
	vcm_unreserve(res[0]);
	vcm_unreserve(res[1]);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);

	/* 1 MiB ranges fill the context, then go to the caches and the pool. */
	for (i = 0; i < ARRAY_SIZE(res); i++) {
		res[i] = reserve(test, fake, SZ_1M);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(res[i]->start, SZ_1M));
	}
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->mmu.vcm, SZ_4K, 0), ERR_PTR(-ENOSPC));
	for (i = 0; i < ARRAY_SIZE(res); i++)
		vcm_unreserve(res[i]);
	KUNIT_EXPECT_LT(test, gen_pool_avail(fake->mmu.pool), MMU_SIZE >> PAGE_SHIFT);
	/* The whole context needs what the caches hold: they are drained. */
	whole = reserve(test, fake, MMU_SIZE);
	KUNIT_EXPECT_EQ(test, whole->start, MMU_START);
	vcm_unreserve(whole);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

/* Reserves and releases a page of a context on the CPU it runs on. */
static long cache_a_page(void *arg)
{
	struct fake_mmu *fake = arg;
	struct vcm_res *res = vcm_reserve(&fake->mmu.vcm, SZ_4K, 0);

	if (IS_ERR(res))
		return PTR_ERR(res);
	vcm_unreserve(res);
	return 0;
}

/* Reserves a whole context on the CPU it runs on. */
static long reserve_all(void *arg)
{
	struct fake_mmu *fake = arg;

	return (long)vcm_reserve(&fake->mmu.vcm, MMU_SIZE, 0);
}

/* Brings a CPU that a test took offline back, whatever became of the test. */
static void bring_cpu_back(void *cpu)
{
	add_cpu((unsigned long)cpu);
}

/*
 * Leaves a range in CPU @cpu's cache, takes @cpu offline if @offline, then
 * reserves the whole context on CPU @here (if online, else on any):
 * @cpu's cache is drained for it.
 */
static void cache_on_cpu_then_reserve_all(struct kunit *test,
					  struct fake_mmu *fake,
					  unsigned int cpu, bool offline,
					  unsigned int here)
{
	struct vcm_res *whole;
	int ret;

	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, cache_a_page, fake), 0);
	/* The page is in that CPU's cache, not in the pool. */
	KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool),
			(MMU_SIZE >> PAGE_SHIFT) - 1);

	if (offline) {
		ret = remove_cpu(cpu);
		if (ret)
			kunit_skip(test, "CPU %u cannot go offline: %d", cpu, ret);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bring_cpu_back,
								(void *)(unsigned long)cpu), 0);
	}
	if (here < nr_cpu_ids)
		whole = (struct vcm_res *)work_on_cpu(here, reserve_all, fake);
	else
		whole = (struct vcm_res *)reserve_all(fake);
	if (offline) {
		kunit_release_action(test, bring_cpu_back, (void *)(unsigned long)cpu);
		KUNIT_EXPECT_TRUE(test, cpu_online(cpu));
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, whole);
	KUNIT_EXPECT_EQ(test, whole->start, MMU_START);
	vcm_unreserve(whole);
	/* A whole context is not cached: every page is in the pool again. */
	KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool),
			MMU_SIZE >> PAGE_SHIFT);
}

/*
 * Each CPU's cache is its own: a drain runs on each online CPU, and empties
 * an offline CPU's cache in place.
 */
static void vcm_mmu_cache_other_cpu_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	unsigned int here = cpumask_first(cpu_online_mask);
	unsigned int cpu = cpumask_next(here, cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		kunit_skip(test, "needs a second CPU");
	cache_on_cpu_then_reserve_all(test, fake, cpu, false, here);
}

static void vcm_mmu_cache_offline_cpu_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	unsigned int cpu, last = 0;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "needs CONFIG_HOTPLUG_CPU");
	/* The boot CPU often cannot go offline; the last other one may. */
	for_each_online_cpu(cpu)
		if (cpu && cpu_is_hotpluggable(cpu))
			last = cpu;
	if (!last)
		kunit_skip(test, "needs a second CPU that can go offline");
	cache_on_cpu_then_reserve_all(test, fake, last, true, nr_cpu_ids);
}

/* Ranges a magazine holds, and full magazines of a size the depot keeps. */
#define MAG_SIZE	63
#define DEPOT_MAGS	16

/* The pages of the fake context that are free in its pool, undrained. */
static unsigned long pool_pages(struct fake_mmu *fake)
{
	return gen_pool_avail(fake->mmu.pool);
}

/* Reserves @n pages one at a time into @res. */
static void reserve_pages(struct kunit *test, struct fake_mmu *fake,
			  struct vcm_res **res, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		res[i] = reserve(test, fake, SZ_4K);
}

/* Releases @n reservations of @res, newest first. */
static void release_lifo(struct vcm_res **res, unsigned int n)
{
	while (n)
		vcm_unreserve(res[--n]);
}

/*
 * A burst deeper than a CPU's two magazines goes to the depot a magazine at
 * a time, and comes back from it: none of its ranges goes to the pool.
 */
static void vcm_mmu_cache_burst_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	const unsigned int n = 3 * MAG_SIZE + 11;
	const unsigned long all = MMU_SIZE >> PAGE_SHIFT;
	struct vcm_res **res = kunit_kcalloc(test, n, sizeof(*res), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, res);
	migrate_disable();
	reserve_pages(test, fake, res, n);
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - n);
	release_lifo(res, n);
	/* Loaded, previous and two magazines in the depot hold them all. */
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - n);
	KUNIT_EXPECT_GE(test, vcm_mmu_cache_bytes(&fake->mmu),
			4 * (MAG_SIZE + 1) * sizeof(long));
	/* All come back from the caches, the pool untouched. */
	reserve_pages(test, fake, res, n);
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - n);
	release_lifo(res, n);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
	KUNIT_EXPECT_EQ(test, vcm_mmu_cache_bytes(&fake->mmu), 0);
}

static struct vcm_res **cross_res;

/* Releases the reservations of cross_res on the CPU it runs on. */
static long release_cross(void *arg)
{
	release_lifo(cross_res, (unsigned long)arg);
	return 0;
}

/*
 * Ranges released on another CPU reach the one that reserves through the
 * depot: the releasing CPU keeps two magazines' worth at most, full
 * magazines move.
 */
static void vcm_mmu_cache_cross_cpu_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	const unsigned int n = 4 * MAG_SIZE;
	const unsigned long all = MMU_SIZE >> PAGE_SHIFT;
	unsigned int here, cpu;

	cross_res = kunit_kcalloc(test, n, sizeof(*cross_res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cross_res);
	migrate_disable();
	here = smp_processor_id();
	cpu = cpumask_any_but(cpu_online_mask, here);
	if (cpu >= nr_cpu_ids) {
		migrate_enable();
		kunit_skip(test, "needs a second CPU");
	}
	reserve_pages(test, fake, cross_res, n);
	/*
	 * Still on @here while @cpu releases: migrate_disable() lets the
	 * task sleep waiting for it, and the reservations below must come
	 * from @here's empty cache, not from @cpu's.
	 */
	KUNIT_EXPECT_EQ(test, work_on_cpu(cpu, release_cross, (void *)(unsigned long)n), 0);
	/* Two magazines stay on @cpu, the two others went to the depot. */
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - n);
	KUNIT_EXPECT_EQ(test, smp_processor_id(), here);
	reserve_pages(test, fake, cross_res, n);
	migrate_enable();
	/* Half came from the depot, half from the pool. */
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - n - 2 * MAG_SIZE);
	release_lifo(cross_res, n);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

/*
 * The depot keeps DEPOT_MAGS full magazines of a size; past that, ranges
 * go back to the pool.  A drain empties the full depot, and the context
 * can be reserved whole.
 */
static void vcm_mmu_cache_depot_full_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	const unsigned int kept = (2 + DEPOT_MAGS) * MAG_SIZE;
	const unsigned int n = kept + 2 * MAG_SIZE;
	const unsigned long all = MMU_SIZE >> PAGE_SHIFT;
	struct vcm_res **res = kunit_kcalloc(test, n, sizeof(*res), GFP_KERNEL);
	struct vcm_res *whole;

	KUNIT_ASSERT_NOT_NULL(test, res);
	migrate_disable();
	reserve_pages(test, fake, res, n);
	release_lifo(res, n);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - kept);
	whole = reserve(test, fake, MMU_SIZE);
	KUNIT_EXPECT_EQ(test, whole->start, MMU_START);
	vcm_unreserve(whole);
	vcm_mmu_drain(&fake->mmu);
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all);
	KUNIT_EXPECT_EQ(test, vcm_mmu_cache_bytes(&fake->mmu), 0);
}

/*
 * A release that needs a new magazine and cannot allocate it gives the
 * range back to the pool; the next release allocates one.
 */
static void vcm_mmu_cache_mag_fails_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct test_alloc *ta = test_alloc_start(test);
	const unsigned long all = MMU_SIZE >> PAGE_SHIFT;
	struct vcm_res *res;

	migrate_disable();
	res = reserve(test, fake, SZ_4K);
	test_alloc_reset(ta);
	ta->fail_from = 1;
	vcm_unreserve(res);
	/* A magazine for the range; without KASAN, one for the structure. */
	KUNIT_EXPECT_EQ(test, ta->calls, IS_ENABLED(CONFIG_KASAN) ? 1 : 2);
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all);
	test_alloc_reset(ta);
	res = reserve(test, fake, SZ_4K);
	test_alloc_reset(ta);
	vcm_unreserve(res);
	KUNIT_EXPECT_EQ(test, ta->calls, IS_ENABLED(CONFIG_KASAN) ? 1 : 2);
	KUNIT_EXPECT_EQ(test, pool_pages(fake), all - 1);
	migrate_enable();
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

/* ---- vcm_reserve_at ---- */

/* vcm_reserve_at() of @size bytes at @addr in @fake's context. */
static struct vcm_res *reserve_at(struct kunit *test, struct fake_mmu *fake,
				  dma_addr_t addr, resource_size_t size)
{
	struct vcm_res *res = vcm_reserve_at(&fake->mmu.vcm, addr, size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, res, "reserving %pa at %pad",
					 &size, &addr);
	KUNIT_EXPECT_EQ(test, res->start, addr);
	KUNIT_EXPECT_EQ(test, res->res_size, size);
	return res;
}

/* vcm_reserve_at() of @size bytes at @addr fails with @err. */
static void expect_reserve_at(struct kunit *test, struct fake_mmu *fake,
			      dma_addr_t addr, resource_size_t size, int err)
{
	KUNIT_EXPECT_PTR_EQ_MSG(test, vcm_reserve_at(&fake->mmu.vcm, addr, size, 0),
				ERR_PTR(err), "%pa bytes at %pad", &size, &addr);
}

/*
 * The range asked or nothing: at the context's start and end; -EBUSY on
 * any page of a live reservation, -EINVAL across the end; vcm_reserve()
 * never hands it out, and its release gives it back.
 */
static void vcm_mmu_reserve_at_test(struct kunit *test)
{
	const dma_addr_t last = MMU_START + MMU_SIZE - 2 * PAGE_SIZE;
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_res *first, *end, *res;
	resource_size_t free;

	first = reserve_at(test, fake, MMU_START, SZ_1M);
	end = reserve_at(test, fake, last, 2 * PAGE_SIZE);
	res = reserve(test, fake, SZ_1M);
	KUNIT_EXPECT_EQ(test, res->start, MMU_START + SZ_1M);
	free = MMU_SIZE - 2 * SZ_1M - 2 * PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, pool_free(fake), free);

	expect_reserve_at(test, fake, MMU_START, PAGE_SIZE, -EBUSY);
	expect_reserve_at(test, fake, MMU_START + SZ_1M - PAGE_SIZE, PAGE_SIZE, -EBUSY);
	expect_reserve_at(test, fake, MMU_START + SZ_1M - PAGE_SIZE, 2 * PAGE_SIZE,
			  -EBUSY);
	expect_reserve_at(test, fake, MMU_START + SZ_1M + SZ_64K, PAGE_SIZE, -EBUSY);
	expect_reserve_at(test, fake, MMU_START + SZ_2M - PAGE_SIZE, 2 * PAGE_SIZE,
			  -EBUSY);
	expect_reserve_at(test, fake, last - PAGE_SIZE, 2 * PAGE_SIZE, -EBUSY);
	expect_reserve_at(test, fake, last + PAGE_SIZE, PAGE_SIZE, -EBUSY);
	expect_reserve_at(test, fake, MMU_START, MMU_SIZE, -EBUSY);
	expect_reserve_at(test, fake, MMU_START + MMU_SIZE - PAGE_SIZE, 2 * PAGE_SIZE,
			  -EINVAL);
	expect_reserve_at(test, fake, MMU_START + MMU_SIZE, PAGE_SIZE, -EINVAL);
	expect_reserve_at(test, fake, MMU_START - PAGE_SIZE, 2 * PAGE_SIZE, -EINVAL);
	/* Refused, they took nothing. */
	KUNIT_EXPECT_EQ(test, pool_free(fake), free);

	/* A released range can be claimed again, and is free in between. */
	vcm_unreserve(first);
	vcm_unreserve(end);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE - SZ_1M);
	first = reserve_at(test, fake, MMU_START, SZ_1M);
	end = reserve_at(test, fake, last, 2 * PAGE_SIZE);
	vcm_unreserve(first);
	vcm_unreserve(end);
	/* Straight from the caches, where the releases left them. */
	first = reserve_at(test, fake, MMU_START, SZ_1M);
	end = reserve_at(test, fake, last, 2 * PAGE_SIZE);
	vcm_unreserve(res);
	vcm_unreserve(first);
	vcm_unreserve(end);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
	res = reserve_at(test, fake, MMU_START, MMU_SIZE);
	vcm_unreserve(res);
	expect_clean(test, fake);
}

/*
 * A released range waits in its CPU's cache, allocated in the pool: a
 * vcm_reserve_at() of it, or of part of it, drains the caches and claims
 * it, and then it is never handed out a second time.
 */
static void vcm_mmu_reserve_at_cached_test(struct kunit *test)
{
	const unsigned long all = MMU_SIZE >> PAGE_SHIFT;
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm *vcm = &fake->mmu.vcm;
	struct vcm_res *res[64], *at, *pair;
	unsigned int n = 0, cpu;
	dma_addr_t start = 0;

	/* This CPU's cache: reserving the page's size here would get it. */
	migrate_disable();
	at = vcm_reserve(vcm, SZ_4K, 0);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, at);
	if (!IS_ERR_OR_NULL(at)) {
		start = at->start;
		vcm_unreserve(at);
		KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool), all - 1);
		at = vcm_reserve_at(vcm, start, SZ_4K, 0);
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, at);
	}
	for (n = 0; n < ARRAY_SIZE(res) && !IS_ERR_OR_NULL(at); n++) {
		res[n] = vcm_reserve(vcm, SZ_4K, 0);
		if (IS_ERR(res[n]))
			break;
		KUNIT_EXPECT_NE_MSG(test, res[n]->start, start,
				    "reservation %u got the range reserved at", n);
	}
	migrate_enable();
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, at);
	KUNIT_EXPECT_EQ(test, at->start, start);
	KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(res));
	while (n)
		vcm_unreserve(res[--n]);
	vcm_unreserve(at);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);

	/* The second page of a cached pair: the first goes back to the pool. */
	pair = reserve(test, fake, SZ_8K);
	start = pair->start;
	vcm_unreserve(pair);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool), all - 2);
	at = reserve_at(test, fake, start + PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool), all - 1);
	vcm_unreserve(at);
	at = reserve_at(test, fake, start, SZ_8K);
	vcm_unreserve(at);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);

	/* Another CPU's cache is drained too. */
	cpu = cpumask_next(cpumask_first(cpu_online_mask), cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		return;
	KUNIT_ASSERT_EQ(test, work_on_cpu(cpu, cache_a_page, fake), 0);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(fake->mmu.pool), all - 1);
	/* A fresh pool hands out its first page first. */
	at = reserve_at(test, fake, MMU_START, PAGE_SIZE);
	vcm_unreserve(at);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
}

/*
 * A hole is never handed out: a range on or across one is -EBUSY, as a
 * reserved one is.  Each run between holes is a chunk of the pool: a
 * range in a later chunk is claimed there, not at the same offset of an
 * earlier one.
 */
static void vcm_mmu_reserve_at_holes_test(struct kunit *test)
{
	static const struct vcm_mmu_hole holes[] = {
		{ MMU_START + SZ_1M, SZ_1M },
		{ MMU_START + SZ_8M, SZ_2M },
	};
	const resource_size_t free = MMU_SIZE - SZ_1M - SZ_2M;
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct vcm_res *res[4];
	unsigned int i;

	fake->mmu.holes = holes;
	fake->mmu.nr_holes = ARRAY_SIZE(holes);
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);

	for (i = 0; i < ARRAY_SIZE(holes); i++) {
		dma_addr_t start = holes[i].start, end = start + holes[i].size;

		expect_reserve_at(test, fake, start, PAGE_SIZE, -EBUSY);
		expect_reserve_at(test, fake, start, holes[i].size, -EBUSY);
		expect_reserve_at(test, fake, end - PAGE_SIZE, PAGE_SIZE, -EBUSY);
		expect_reserve_at(test, fake, start - PAGE_SIZE, 2 * PAGE_SIZE, -EBUSY);
		expect_reserve_at(test, fake, end - PAGE_SIZE, 2 * PAGE_SIZE, -EBUSY);
		expect_reserve_at(test, fake, start - PAGE_SIZE,
				  holes[i].size + 2 * PAGE_SIZE, -EBUSY);
	}
	expect_reserve_at(test, fake, MMU_START, MMU_SIZE, -EBUSY);
	KUNIT_EXPECT_EQ(test, pool_free(fake), free);

	/* Up to each hole, right after it, and in the middle of a run. */
	res[0] = reserve_at(test, fake, MMU_START + SZ_2M + SZ_64K, SZ_64K);
	res[1] = reserve_at(test, fake, MMU_START + SZ_64K, SZ_64K);
	res[2] = reserve_at(test, fake, MMU_START + SZ_8M - SZ_1M, SZ_1M);
	res[3] = reserve_at(test, fake, MMU_START + SZ_8M + SZ_2M,
			    MMU_SIZE - SZ_8M - SZ_2M);
	KUNIT_EXPECT_EQ(test, pool_free(fake),
			free - 2 * SZ_64K - SZ_1M - (MMU_SIZE - SZ_8M - SZ_2M));
	for (i = 0; i < ARRAY_SIZE(res); i++)
		vcm_unreserve(res[i]);
	KUNIT_EXPECT_EQ(test, pool_free(fake), free);
}

/*
 * A reservation made at an address binds, maps, shows in debugfs and
 * keeps a destroyed context as any other.
 */
static void vcm_mmu_reserve_at_bind_test(struct kunit *test)
{
	const enum fake_style style = *(const enum fake_style *)test->param_value;
	const dma_addr_t addr = MMU_START + SZ_4M;
	const bool whole = style == STYLE_WHOLE;
	struct fake_mmu *fake = fake_create(test, style);
	struct vcm_phys *phys = one_part(test, P, SZ_1M);
	struct vcm *vcm = &fake->mmu.vcm;
	struct vcm_res *res;

	res = reserve_at(test, fake, addr, SZ_1M + SZ_64K);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, SZ_1M);
	EXPECT_NO_LOG(test, fake);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	EXPECT_LOG(test, fake, MAP(whole, addr, P, SZ_1M));
#if IS_ENABLED(CONFIG_DEBUG_FS)
	{
		dma_addr_t end = addr + SZ_1M + SZ_64K - 1;
		phys_addr_t p = P;
		char prefix[64], want[256];
		const char *line;

		snprintf(prefix, sizeof(prefix), "%pad-%pad ", &addr, &end);
		snprintf(want, sizeof(want),
			 "%s%d context=vcm-mmu-kunit owners=1 flags=0x0 kind=bind bound_bytes=%d parts=1 phys=%pa+0x100000",
			 prefix, SZ_1M + SZ_64K, SZ_1M, &p);
		line = debugfs_line(test, vcm_reservations_show, prefix);
		KUNIT_EXPECT_NOT_NULL(test, line);
		if (line)
			KUNIT_EXPECT_STREQ(test, line, want);
	}
#endif

	/* Destroyed while held and active: unmapped, kept until released. */
	vcm_destroy(vcm);
	EXPECT_LOG(test, fake, UNMAP(whole, addr, P, SZ_1M));
	KUNIT_EXPECT_EQ(test, fake->detaches, 1);
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(vcm, MMU_START, SZ_4K, 0),
			    ERR_PTR(-ENODEV));
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_FALSE(test, fake->cleaned_up);
	vcm_unreserve(res);
	KUNIT_EXPECT_TRUE(test, fake->cleaned_up);
	EXPECT_NO_LOG(test, fake);
	expect_clean(test, fake);
}

/* A failed allocation of the reservation takes no address. */
static void vcm_mmu_reserve_at_fails_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_res *res;

	ta->fail_from = 1;
	expect_reserve_at(test, fake, MMU_START + SZ_1M, SZ_64K, -ENOMEM);
	KUNIT_EXPECT_EQ(test, ta->calls, 1);
	test_alloc_reset(ta);
	KUNIT_EXPECT_EQ(test, pool_free(fake), MMU_SIZE);
	res = reserve_at(test, fake, MMU_START + SZ_1M, SZ_64K);
	vcm_unreserve(res);
	res = reserve(test, fake, MMU_SIZE);
	vcm_unreserve(res);
}

/*
 * Destroying an active context that still has a bound reservation unmaps
 * everything and detaches the backend; the context
 * lives on, dead, until the reservation and the activation are released.
 */
static void vcm_mmu_destroy_live_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm *vcm = &fake->mmu.vcm;
	struct vcm_phys *phys = one_part(test, SZ_1M, SZ_64K);
	struct vcm_res *res = reserve(test, fake, SZ_64K);

	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	fake->nr_log = 0;
	vcm_destroy(vcm);
	EXPECT_LOG(test, fake, UNMAP(false, res->start, SZ_1M, SZ_64K));
	KUNIT_EXPECT_EQ(test, fake->detaches, 1);
	KUNIT_EXPECT_FALSE(test, fake->cleaned_up);

	/* The holder unbinds and releases; nothing reaches the hardware. */
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	KUNIT_EXPECT_EQ(test, fake->nr_log, 0);
	KUNIT_EXPECT_FALSE(test, fake->cleaned_up);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_TRUE(test, fake->cleaned_up);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);
	expect_clean(test, fake);
}

/*
 * A context whose hardware reaches 4 GiB allocates below it (where memory
 * can lie above it); one that reaches less gets -ENOMEM rather than
 * memory it cannot use.
 */
static void vcm_mmu_phys_max_test(struct kunit *test)
{
	/* With a 32-bit phys_addr_t all memory is reachable, highmem too. */
	const gfp_t want = sizeof(phys_addr_t) == 4 ?
			   GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO :
			   GFP_KERNEL | __GFP_ZERO |
			   (IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0);
	struct fake_mmu *fake = fake_alloc(test, STYLE_PAGE);
	struct test_alloc *ta;
	struct vcm_phys *phys;

	fake->mmu.vcm.phys_max = U32_MAX;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->mmu.vcm);
	ta = test_alloc_start(test);
	phys = vcm_alloc(&fake->mmu.vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[0],
			(__force unsigned long)want);
	vcm_free(phys);

	fake->mmu.vcm.phys_max = PAGE_SIZE - 1;
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->mmu.vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	expect_no_live_pages(test, ta);
}

/*
 * A context too large for genalloc's unsigned long arithmetic is refused
 * (only possible with LPAE: a 64-bit resource_size_t, a 32-bit long).
 */
static void vcm_mmu_pool_limit_test(struct kunit *test)
{
	const unsigned long half = ULONG_MAX / 2;
	struct fake_mmu *fake;

	KUNIT_EXPECT_TRUE(test, vcm_mmu_pool_fits(half - 256, 256));
	KUNIT_EXPECT_FALSE(test, vcm_mmu_pool_fits(half - 255, 256));
	KUNIT_EXPECT_FALSE(test, vcm_mmu_pool_fits(1, half + 1));
	KUNIT_EXPECT_FALSE(test, vcm_mmu_pool_fits(ULONG_MAX, 1));
	KUNIT_EXPECT_TRUE(test, vcm_mmu_pool_fits(SZ_1M, 1));

	if (sizeof(resource_size_t) <= sizeof(long) ||
	    sizeof(dma_addr_t) <= sizeof(long))
		kunit_skip(test, "unsigned long holds any context's page count");
	fake = fake_alloc(test, STYLE_PAGE);
	/* 2^31 pages of 4 KiB, ending at the last device address. */
	fake->mmu.vcm.size = (resource_size_t)(half + 1) << PAGE_SHIFT;
	fake->mmu.vcm.start = (dma_addr_t)0 - fake->mmu.vcm.size;
	KUNIT_EXPECT_PTR_EQ(test, fake_init(test, fake), ERR_PTR(-EINVAL));
}

/* ---- CPU caches ---- */

#define SYNC_LOG_LEN	16

struct sync_op {
	phys_addr_t paddr;
	size_t size;
	enum dma_data_direction dir;
	bool for_device;
};

/* The cache operations of the running test, recorded by record_sync(). */
static struct sync_log {
	struct sync_op op[SYNC_LOG_LEN];
	unsigned int nr;
} *sync_log;

static void record_sync(phys_addr_t paddr, size_t size,
			enum dma_data_direction dir, bool for_device)
{
	if (sync_log->nr < SYNC_LOG_LEN)
		sync_log->op[sync_log->nr] = (struct sync_op){ paddr, size, dir, for_device };
	sync_log->nr++;
}

/* Records every cache operation VCM makes until the test ends. */
static void record_syncs(struct kunit *test)
{
	sync_log = kunit_kzalloc(test, sizeof(*sync_log), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sync_log);
	kunit_activate_static_stub(test, vcm_sync_range, record_sync);
}

/* Checks that VCM made exactly the cache operation @want as operation @i. */
static void expect_sync(struct kunit *test, unsigned int i, phys_addr_t paddr,
			size_t size, enum dma_data_direction dir, bool for_device)
{
	const struct sync_op *op = &sync_log->op[i];

	KUNIT_ASSERT_LT(test, i, min_t(unsigned int, sync_log->nr, SYNC_LOG_LEN));
	KUNIT_EXPECT_EQ_MSG(test, op->paddr, paddr, "operation %u", i);
	KUNIT_EXPECT_EQ_MSG(test, op->size, size, "operation %u", i);
	KUNIT_EXPECT_EQ_MSG(test, op->dir, dir, "operation %u", i);
	KUNIT_EXPECT_EQ_MSG(test, op->for_device, for_device, "operation %u", i);
}

/*
 * Memory VCM allocated is cleaned, each part once, when it is first bound
 * into a context that is not coherent: not again by a second binding nor
 * by activation.  A coherent context cleans nothing.
 */
static void vcm_mmu_clean_test(struct kunit *test)
{
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct fake_mmu *coherent = fake_alloc(test, STYLE_PAGE);
	struct vcm_res *res, *res2, *cres;
	struct vcm_phys *phys;
	unsigned int i;

	coherent->mmu.vcm.coherent = true;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, coherent), &coherent->mmu.vcm);
	record_syncs(test);

	phys = vcm_alloc(&fake->mmu.vcm, SZ_64K + SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, phys->count, 2);
	KUNIT_EXPECT_EQ_MSG(test, sync_log->nr, 0, "allocation alone cleans nothing");

	/* A coherent context's binding leaves the memory to be cleaned. */
	cres = vcm_map(&coherent->mmu.vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, cres);
	KUNIT_EXPECT_EQ(test, sync_log->nr, 0);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(cres, 0, SZ_4K, DMA_TO_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_cpu(cres, 0, SZ_4K, DMA_FROM_DEVICE), 0);
	KUNIT_EXPECT_EQ(test, sync_log->nr, 0);

	res = reserve(test, fake, SZ_128K);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, sync_log->nr, phys->count);
	for (i = 0; i < phys->count; i++)
		expect_sync(test, i, phys->parts[i].start, phys->parts[i].size,
			    DMA_BIDIRECTIONAL, true);

	res2 = reserve(test, fake, SZ_128K);
	KUNIT_ASSERT_EQ(test, vcm_bind(res2, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->mmu.vcm), 0);
	KUNIT_EXPECT_EQ_MSG(test, sync_log->nr, phys->count, "cleaned once only");

	vcm_deactivate(&fake->mmu.vcm);
	vcm_unmap(cres);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res2), 0);
	vcm_unreserve(res);
	vcm_unreserve(res2);
	vcm_free(phys);
}

/*
 * Memory a driver built is cleaned at its first binding too, but for its
 * parts without struct pages, which VCM has no mapping of.
 */
static void vcm_mmu_clean_driver_memory_test(struct kunit *test)
{
	struct page *block = alloc_block(test, 1);
	const struct vcm_phys_part parts[] = {
		{ .start = P, .size = SZ_4K },
		{ .start = page_to_phys(block), .page = block, .size = 2 * PAGE_SIZE },
	};
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_phys *phys = phys_make(test, parts, ARRAY_SIZE(parts));
	struct vcm_res *res = reserve(test, fake, SZ_64K);

	record_syncs(test);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, sync_log->nr, 1);
	expect_sync(test, 0, page_to_phys(block), 2 * PAGE_SIZE, DMA_BIDIRECTIONAL, true);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
}

/*
 * vcm_sync_for_device() and vcm_sync_for_cpu() cover exactly the bytes
 * asked, part by part, in the direction asked, and refuse what is not
 * bound memory.
 */
static void vcm_mmu_sync_test(struct kunit *test)
{
	struct vcm_phys *phys = scattered(test);
	struct fake_mmu *fake = fake_create(test, STYLE_PAGE);
	struct vcm_res *res = reserve(test, fake, SZ_64K), *unbound;
	const struct vcm_phys_part *p = phys->parts;

	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	unbound = reserve(test, fake, SZ_4K);
	record_syncs(test);

	/* From the middle of the first part to the middle of the third. */
	KUNIT_ASSERT_GE(test, phys->count, 3);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(res, p[0].size - 16,
						  16 + p[1].size + 32,
						  DMA_TO_DEVICE), 0);
	KUNIT_ASSERT_EQ(test, sync_log->nr, 3);
	expect_sync(test, 0, p[0].start + p[0].size - 16, 16, DMA_TO_DEVICE, true);
	expect_sync(test, 1, p[1].start, p[1].size, DMA_TO_DEVICE, true);
	expect_sync(test, 2, p[2].start, 32, DMA_TO_DEVICE, true);

	sync_log->nr = 0;
	KUNIT_EXPECT_EQ(test, vcm_sync_for_cpu(res, phys->size - 1, 1,
					       DMA_FROM_DEVICE), 0);
	KUNIT_ASSERT_EQ(test, sync_log->nr, 1);
	expect_sync(test, 0, p[phys->count - 1].start + p[phys->count - 1].size - 1,
		    1, DMA_FROM_DEVICE, false);

	sync_log->nr = 0;
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(res, 0, 0, DMA_TO_DEVICE), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(res, phys->size, 1, DMA_TO_DEVICE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_cpu(res, 1, phys->size, DMA_FROM_DEVICE),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_cpu(res, 0, 1, DMA_NONE), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_sync_for_device(unbound, 0, 1, DMA_TO_DEVICE), -EINVAL);
	KUNIT_EXPECT_EQ(test, sync_log->nr, 0);

	vcm_unreserve(unbound);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
}

static struct kunit_case vcm_mmu_cases[] = {
	KUNIT_CASE_PARAM(vcm_mmu_init_test, vcm_mmu_init_gen_params),
	KUNIT_CASE(vcm_mmu_init_fails_test),
	KUNIT_CASE(vcm_mmu_cache_test),
	KUNIT_CASE(vcm_mmu_cache_other_cpu_test),
	/* Slow: it takes a CPU offline and back. */
	KUNIT_CASE_SLOW(vcm_mmu_cache_offline_cpu_test),
	KUNIT_CASE(vcm_mmu_cache_burst_test),
	KUNIT_CASE(vcm_mmu_cache_cross_cpu_test),
	KUNIT_CASE(vcm_mmu_cache_depot_full_test),
	KUNIT_CASE(vcm_mmu_cache_mag_fails_test),
	KUNIT_CASE(vcm_mmu_destroy_kfree_test),
	KUNIT_CASE_PARAM(vcm_mmu_bind_test, vcm_mmu_style_gen_params),
	KUNIT_CASE_PARAM(vcm_mmu_deactivate_test, vcm_mmu_style_gen_params),
	KUNIT_CASE_PARAM(vcm_mmu_activate_fails_test, vcm_mmu_style_gen_params),
	KUNIT_CASE_PARAM(vcm_mmu_enable_test, vcm_mmu_style_gen_params),
	KUNIT_CASE(vcm_mmu_make_binding_test),
	KUNIT_CASE(vcm_mmu_make_binding_fails_test),
	KUNIT_CASE(vcm_mmu_alignment_test),
	KUNIT_CASE_PARAM(vcm_mmu_two_res_test, vcm_mmu_two_res_gen_params),
	KUNIT_CASE(vcm_mmu_address_zero_test),
	KUNIT_CASE(vcm_mmu_exhaustion_test),
	KUNIT_CASE(vcm_mmu_reserve_fails_test),
	KUNIT_CASE(vcm_mmu_reserve_at_test),
	KUNIT_CASE(vcm_mmu_reserve_at_cached_test),
	KUNIT_CASE(vcm_mmu_reserve_at_holes_test),
	KUNIT_CASE_PARAM(vcm_mmu_reserve_at_bind_test, vcm_mmu_style_gen_params),
	KUNIT_CASE(vcm_mmu_reserve_at_fails_test),
	KUNIT_CASE(vcm_mmu_may_sleep_test),
	KUNIT_CASE(vcm_mmu_holes_test),
	KUNIT_CASE(vcm_mmu_holes_invalid_test),
	KUNIT_CASE(vcm_mmu_context_orders_test),
	KUNIT_CASE(vcm_mmu_destroy_live_test),
	KUNIT_CASE(vcm_mmu_pool_limit_test),
	KUNIT_CASE(vcm_mmu_phys_max_test),
	KUNIT_CASE(vcm_mmu_clean_test),
	KUNIT_CASE(vcm_mmu_clean_driver_memory_test),
	KUNIT_CASE(vcm_mmu_sync_test),
	{}
};

static struct kunit_suite vcm_mmu_suite = {
	.name = "vcm_mmu",
	.test_cases = vcm_mmu_cases,
};

kunit_test_suites(&vcm_mmu_suite);

MODULE_DESCRIPTION("KUnit tests for the VCM MMU wrapper");
MODULE_LICENSE("GPL");
