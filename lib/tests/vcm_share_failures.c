// SPDX-License-Identifier: GPL-2.0
/*
 * vcm_share: failure injection over every allocation VCM makes.
 */

#include "vcm_share.h"

/* ---- failure injection over every allocation ---- */

/*
 * One operation whose allocations are failed in turn: @run does it and
 * returns 0 or its error, @undo undoes a success, @check checks that a
 * failure left nothing behind.
 */
struct sweep {
	struct kunit *test;
	struct test_alloc *ta;
	struct ctr_ctx *ctr;
	struct vcm_phys *phys;		/* three parts, the test's */
	void *made;
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	struct vcm *sysmmu;		/* active */
	struct vcm *idle;		/* inactive, with @bound bound */
	struct vcm_res *res;		/* 3 MiB in @sysmmu, unbound */
	struct vcm_res *bound;
	struct vcm_phys *small;		/* 3 MiB of 4 KiB pages */
	struct device *dev;
	u32 *regs;
#endif
};

struct sweep_op {
	const char *name;
	int (*run)(struct sweep *sw);
	void (*undo)(struct sweep *sw);
	unsigned int allocs;		/* the allocations it makes */
};

static int sweep_reserve(struct sweep *sw)
{
	sw->made = vcm_reserve(sw->ctr->vcm, SZ_64K, 0);
	return PTR_ERR_OR_ZERO(sw->made);
}

static void sweep_unreserve(struct sweep *sw)
{
	vcm_unreserve(sw->made);
}

static int sweep_alloc(struct sweep *sw)
{
	sw->made = vcm_alloc(sw->ctr->vcm, SZ_64K + SZ_4K, 0);
	return PTR_ERR_OR_ZERO(sw->made);
}

static void sweep_free(struct sweep *sw)
{
	vcm_free(sw->made);
}

static int sweep_make_binding(struct sweep *sw)
{
	sw->made = vcm_make_binding(sw->ctr->vcm, SZ_64K + SZ_4K, 0, 0);
	return PTR_ERR_OR_ZERO(sw->made);
}

static int sweep_map(struct sweep *sw)
{
	sw->made = vcm_map(sw->ctr->vcm, sw->phys, 0);
	return PTR_ERR_OR_ZERO(sw->made);
}

static int sweep_map_reuse(struct sweep *sw)
{
	sw->made = vcm_map(sw->ctr->vcm, sw->phys, VCM_MAP_REUSE);
	return PTR_ERR_OR_ZERO(sw->made);
}

static int sweep_vmap(struct sweep *sw)
{
	sw->made = vcm_vmap(sw->phys);
	return PTR_ERR_OR_ZERO(sw->made);
}

static void sweep_vunmap(struct sweep *sw)
{
	KUNIT_EXPECT_EQ(sw->test, vcm_vunmap(sw->phys, sw->made), 0);
}

static int sweep_mmu_init(struct sweep *sw)
{
	struct ctr_ctx *ctx = kunit_kzalloc(sw->test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(sw->test, ctx);
	sw->made = ctx;
	return ctr_try_create(sw->test, ctx);
}

static void sweep_mmu_destroy(struct sweep *sw)
{
	struct ctr_ctx *ctx = sw->made;

	ctr_destroy(ctx);
	KUNIT_EXPECT_EQ(sw->test, atomic_read(&ctx->cleanups), 1);
}

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
static int sweep_sysmmu_create(struct sweep *sw)
{
	sw->made = vcm_sysmmu_create(sw->dev, (void __force __iomem *)sw->regs,
				     NULL, CTR_START, CTR_SIZE);
	return PTR_ERR_OR_ZERO(sw->made);
}

static void sweep_sysmmu_destroy(struct sweep *sw)
{
	vcm_destroy(sw->made);
}

static int sweep_devm_sysmmu_create(struct sweep *sw)
{
	sw->made = devm_vcm_sysmmu_create(sw->dev, (void __force __iomem *)sw->regs,
					  NULL, CTR_START, CTR_SIZE);
	return PTR_ERR_OR_ZERO(sw->made);
}

/* The device's driver unbinds: devm destroys the context. */
static void sweep_devm_sysmmu_destroy(struct sweep *sw)
{
	kunit_device_unregister(sw->test, sw->dev);
	sw->dev = NULL;
}

static int sweep_sysmmu_bind(struct sweep *sw)
{
	return vcm_bind(sw->res, sw->small);
}

static void sweep_sysmmu_unbind(struct sweep *sw)
{
	KUNIT_EXPECT_EQ(sw->test, vcm_unbind(sw->res), 0);
}

static int sweep_sysmmu_activate(struct sweep *sw)
{
	return vcm_activate(sw->idle);
}

static void sweep_sysmmu_deactivate(struct sweep *sw)
{
	vcm_deactivate(sw->idle);
}
#endif

static const struct sweep_op sweep_ops[] = {
	/* The pool, its range, the depot, the range caches; vcm_init()'s counts. */
	{ "vcm_mmu_init", sweep_mmu_init, sweep_mmu_destroy, 5 },
	/* The reservation. */
	{ "vcm_reserve", sweep_reserve, sweep_unreserve, 1 },
	/* A 64 KiB block, a 4 KiB block, the vcm_phys. */
	{ "vcm_alloc", sweep_alloc, sweep_free, 3 },
	{ "vcm_make_binding", sweep_make_binding, sweep_unreserve, 4 },
	{ "vcm_map", sweep_map, sweep_unreserve, 1 },
	{ "vcm_map reuse", sweep_map_reuse, sweep_unreserve, 1 },
	/* The page array, the vmap(). */
	{ "vcm_vmap", sweep_vmap, sweep_vunmap, 2 },
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	/* The context, the fault and L1 tables, and vcm_mmu_init()'s five. */
	{ "vcm_sysmmu_create", sweep_sysmmu_create, sweep_sysmmu_destroy, 8 },
	{ "devm_vcm_sysmmu_create", sweep_devm_sysmmu_create,
	  sweep_devm_sysmmu_destroy, 9 },
	/* Three L2 tables. */
	{ "vcm_bind on a SysMMU", sweep_sysmmu_bind, sweep_sysmmu_unbind, 3 },
	{ "vcm_activate on a SysMMU", sweep_sysmmu_activate,
	  sweep_sysmmu_deactivate, 3 },
#endif
};

static void sweep_setup(struct kunit *test, struct sweep *sw)
{
	const struct vcm_phys_part small = { .start = SZ_1M + SZ_4K,
					     .size = 3 * SZ_1M - SZ_4K };

	sw->test = test;
	sw->ta = test_alloc_start(test);
	sw->ctr = ctr_create(test);
	sw->phys = alloc_phys(test, sw->ctr->vcm, SZ_64K + 2 * SZ_4K);
	KUNIT_ASSERT_EQ(test, sw->phys->count, 3);
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	sw->dev = dma_device(test, "vcm-share-sweep", 32);
	sw->regs = sysmmu_window(test, SYSMMU_VERSION_MAKE(3, 3));
	/* Memory at 4 KiB past 1 MiB: only small pages, an L2 table per MiB. */
	sw->small = phys_make(test, &small, 1);
	sw->sysmmu = sysmmu_make(test);
	sw->res = vcm_reserve(sw->sysmmu, 3 * SZ_1M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sw->res);
	KUNIT_ASSERT_EQ(test, vcm_activate(sw->sysmmu), 0);
	sw->idle = sysmmu_make(test);
	sw->bound = vcm_map(sw->idle, sw->small, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sw->bound);
#endif
}

/* Nothing of a failed operation is left: pages, addresses, tables. */
static void sweep_expect_clean(struct sweep *sw, const struct sweep_op *op,
			       unsigned int n)
{
	struct kunit *test = sw->test;

	KUNIT_EXPECT_EQ_MSG(test, sw->ta->live_pages,
			    (long)(sw->phys->size >> PAGE_SHIFT),
			    "%s failing from %u", op->name, n);
	KUNIT_EXPECT_TRUE_MSG(test, pool_full(sw->ctr->vcm), "%s failing from %u",
			      op->name, n);
	KUNIT_EXPECT_EQ_MSG(test, refcount_read(&sw->phys->users), 1,
			    "%s failing from %u", op->name, n);
	KUNIT_EXPECT_EQ_MSG(test, sw->phys->vmap_count, 0, "%s failing from %u",
			    op->name, n);
	KUNIT_EXPECT_EQ(test, refcount_read(&sw->ctr->vcm->users), 1);
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	KUNIT_EXPECT_EQ_MSG(test, sysmmu_l2_tables(sw->sysmmu), 0,
			    "%s failing from %u", op->name, n);
	KUNIT_EXPECT_EQ_MSG(test, sysmmu_l2_tables(sw->idle), 0,
			    "%s failing from %u", op->name, n);
	KUNIT_EXPECT_NULL(test, sw->res->phys);
	KUNIT_EXPECT_EQ(test, sw->idle->activations, 0);
#endif
}

void vcm_share_failures_test(struct kunit *test)
{
	struct sweep *sw = kunit_kzalloc(test, sizeof(*sw), GFP_KERNEL);
	unsigned int i, n, injected = 0;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, sw);
	sweep_setup(test, sw);
	for (i = 0; i < ARRAY_SIZE(sweep_ops); i++) {
		const struct sweep_op *op = &sweep_ops[i];

		if (op->run == sweep_map_reuse && !IS_ENABLED(CONFIG_VCM_RES_REFCNT))
			continue;
		for (n = 1; ; n++) {
			/* Cached reservations would be reused, not allocated. */
			vcm_mmu_drain(vcm_to_mmu(sw->ctr->vcm));
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
			vcm_mmu_drain(vcm_to_mmu(sw->sysmmu));
			vcm_mmu_drain(vcm_to_mmu(sw->idle));
#endif
			test_alloc_reset(sw->ta);
			sw->ta->fail_from = n;
			ret = op->run(sw);
			sw->ta->fail_from = 0;
			if (!ret)
				break;
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "%s failing from %u",
					    op->name, n);
			sweep_expect_clean(sw, op, n);
			injected++;
			KUNIT_ASSERT_LE_MSG(test, n, op->allocs, "%s", op->name);
		}
		KUNIT_EXPECT_EQ_MSG(test, n, op->allocs + 1, "%s", op->name);
		op->undo(sw);
		sweep_expect_clean(sw, op, 0);
	}
	kunit_info(test, "%u injected allocation failures over %zu operations\n",
		   injected, ARRAY_SIZE(sweep_ops));

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	vcm_unmap(sw->bound);
	vcm_unreserve(sw->res);
	vcm_deactivate(sw->sysmmu);
#endif
	vcm_free(sw->phys);
	expect_no_live_pages(test, sw->ta);
}
