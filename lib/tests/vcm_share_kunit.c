// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_share, sharing and lifetimes in VCM: memory bound into
 * several contexts, the counted kernel mapping, mapping reuse, destroyed
 * contexts, and a SysMMU device removed under its masters.  The suite also
 * runs the cases of vcm_share_stress.c, vcm_share_model.c and
 * vcm_share_failures.c; its helpers are in vcm_share.h.
 */

#include "vcm_share.h"

/* ---- sharing one vcm_phys between contexts ---- */

/*
 * One vcm_phys bound into two reservations in two contexts, both active,
 * and released in each order of: the first binding (unbind, unreserve),
 * the second (unmap), the owner's vcm_free().  Its pages go back once,
 * with the last.
 */
enum { REL_FIRST, REL_SECOND, REL_OWNER, NR_REL };

static const u8 release_orders[][NR_REL] = {
	{ REL_FIRST, REL_SECOND, REL_OWNER },
	{ REL_FIRST, REL_OWNER, REL_SECOND },
	{ REL_SECOND, REL_FIRST, REL_OWNER },
	{ REL_SECOND, REL_OWNER, REL_FIRST },
	{ REL_OWNER, REL_FIRST, REL_SECOND },
	{ REL_OWNER, REL_SECOND, REL_FIRST },
};

static void release_order_desc(const u8 (*order)[NR_REL], char *desc)
{
	static const char * const names[] = { "first", "second", "owner" };

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %s, %s", names[(*order)[0]],
		 names[(*order)[1]], names[(*order)[2]]);
}

KUNIT_ARRAY_PARAM(release_order, release_orders, release_order_desc);

static void vcm_share_release_order_test(struct kunit *test)
{
	const u8 *order = *(const u8 (*)[NR_REL])test->param_value;
	struct test_alloc *ta = test_alloc_start(test);
	struct ctr_ctx *a = ctr_create(test), *b = ctr_create(test);
	struct vcm_res *first, *second;
	struct vcm_phys *phys;
	long pages;
	int i;

	/* 1 MiB + 64 KiB + 4 KiB: several blocks, all tracked. */
	phys = alloc_phys(test, a->vcm, SZ_1M + SZ_64K + SZ_4K);
	pages = ta->live_pages;
	KUNIT_ASSERT_EQ(test, pages, (SZ_1M + SZ_64K + SZ_4K) / PAGE_SIZE);
	KUNIT_ASSERT_GT(test, phys->count, 2);

	first = vcm_reserve(a->vcm, SZ_2M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, first);
	KUNIT_ASSERT_EQ(test, vcm_bind(first, phys), 0);
	second = map_phys(test, b->vcm, phys, 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(a->vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(b->vcm), 0);
	KUNIT_EXPECT_EQ(test, ctr_mapped(a), pages);
	KUNIT_EXPECT_EQ(test, ctr_mapped(b), pages);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 3);

	for (i = 0; i < NR_REL; i++) {
		switch (order[i]) {
		case REL_FIRST:
			KUNIT_EXPECT_EQ(test, vcm_unbind(first), 0);
			vcm_unreserve(first);
			KUNIT_EXPECT_EQ(test, ctr_mapped(a), 0);
			break;
		case REL_SECOND:
			vcm_unmap(second);
			KUNIT_EXPECT_EQ(test, ctr_mapped(b), 0);
			break;
		case REL_OWNER:
			vcm_free(phys);
			break;
		}
		/* The pages stay until the last release, then go once. */
		KUNIT_EXPECT_EQ_MSG(test, ta->live_pages, i < NR_REL - 1 ? pages : 0,
				    "after release %d", i);
		if (i < NR_REL - 1)
			KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), NR_REL - 1 - i);
	}
	expect_no_live_pages(test, ta);
	vcm_deactivate(a->vcm);
	vcm_deactivate(b->vcm);
	expect_ctr_idle(test, a);
	expect_ctr_idle(test, b);
}

/*
 * vcm_unbind() refuses memory vcm_make_binding() allocated, which lives as
 * long as its reservation; memory freed by its owner can no longer be
 * bound.
 */
static void vcm_share_ownership_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctr_ctx *a = ctr_create(test);
	struct vcm_phys *phys, *freed;
	struct vcm_res *res, *other;

	res = vcm_make_binding(a->vcm, SZ_64K, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	phys = res->phys;
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 1);
	KUNIT_EXPECT_EQ(test, ta->live_pages, SZ_64K / PAGE_SIZE);
	vcm_destroy_binding(res);
	expect_no_live_pages(test, ta);

	/* Bound elsewhere, freed by its owner, alive while bound. */
	phys = vcm_alloc(a->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	other = map_phys(test, a->vcm, phys, 0);
	vcm_free(phys);
	KUNIT_EXPECT_EQ(test, ta->live_pages, SZ_64K / PAGE_SIZE);
	vcm_unmap(other);
	expect_no_live_pages(test, ta);

	/*
	 * Memory whose last reference is gone is refused, while its memory
	 * still exists (here: a copy that was never initialised).
	 */
	freed = kunit_kzalloc(test, struct_size(freed, parts, 1), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, freed);
	freed->count = 1;
	freed->size = SZ_4K;
	freed->parts[0].start = SZ_1M;
	freed->parts[0].size = SZ_4K;
	res = vcm_reserve(a->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	expect_warning(test, "referencing memory that was freed or never initialised");
	KUNIT_EXPECT_EQ(test, vcm_bind(res, freed), -EINVAL);
	expect_warning_end(test, 1);
	KUNIT_EXPECT_NULL(test, res->phys);
	vcm_unreserve(res);
	expect_ctr_idle(test, a);
}

/* ---- the counted kernel mapping ---- */

static void vcm_share_vmap_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctr_ctx *a = ctr_create(test);
	const struct vcm_phys_part carve = { .start = SZ_1M, .size = SZ_4K };
	struct vcm_phys *phys, *one;
	resource_size_t off;
	u8 *vaddr, *again;
	unsigned int n;

	/* Several parts: a vmap() of all their pages, in order. */
	phys = alloc_phys(test, a->vcm, SZ_64K + 2 * SZ_4K);
	KUNIT_ASSERT_EQ(test, phys->count, 3);
	vaddr = vcm_vmap(phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vaddr);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vaddr));
	again = vcm_vmap(phys);
	KUNIT_EXPECT_PTR_EQ(test, again, vaddr);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 2);
	for (off = 0; off < phys->size; off += SZ_4K / 4)
		vaddr[off] = off / (SZ_4K / 4) + 1;
	for (off = 0; off < phys->size; off += SZ_4K / 4)
		KUNIT_EXPECT_EQ_MSG(test, phys_byte(phys, off), (u8)(off / (SZ_4K / 4) + 1),
				    "offset %pa", &off);

	/* Unmapped once: still mapped, and still the same memory. */
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr), 0);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 1);
	KUNIT_EXPECT_EQ(test, vaddr[SZ_64K], phys_byte(phys, SZ_64K));
	KUNIT_EXPECT_PTR_EQ(test, vmalloc_to_page(vaddr + SZ_64K), phys->parts[1].page);

	/* Another address is refused, with a warning, and changes nothing. */
	expect_warning(test, "unmapping");
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr + PAGE_SIZE), -EINVAL);
	expect_warning_end(test, 1);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 1);

	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr), 0);
	KUNIT_EXPECT_EQ(test, phys->vmap_count, 0);
	KUNIT_EXPECT_NULL(test, vmalloc_to_page(vaddr));
	expect_warning(test, "");
	KUNIT_EXPECT_EQ(test, vcm_vunmap(phys, vaddr), -EINVAL);
	expect_warning_end(test, 1);

	/* Each allocation of a first mapping fails in turn, leaving none. */
	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		vaddr = vcm_vmap(phys);
		if (!IS_ERR(vaddr))
			break;
		KUNIT_EXPECT_PTR_EQ(test, vaddr, ERR_PTR(-ENOMEM));
		KUNIT_EXPECT_EQ(test, phys->vmap_count, 0);
		KUNIT_ASSERT_LT(test, n, 4);
	}
	KUNIT_EXPECT_EQ(test, n, 3);	/* the page array, the vmap() */

	/* Freed while mapped: a warning, and the mapping goes with it. */
	test_alloc_reset(ta);
	expect_warning(test, "freeing memory still mapped");
	vcm_free(phys);
	expect_warning_end(test, 1);
	KUNIT_EXPECT_NULL(test, vmalloc_to_page(vaddr));
	expect_no_live_pages(test, ta);

	/* One lowmem part is mapped at its page's own address. */
	one = vcm_alloc(a->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, one);
	KUNIT_ASSERT_EQ(test, one->count, 1);
	vaddr = vcm_vmap(one);
	if (PageHighMem(one->parts[0].page))
		KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vaddr));
	else
		KUNIT_EXPECT_PTR_EQ(test, vaddr, page_address(one->parts[0].page));
	KUNIT_EXPECT_EQ(test, vcm_vunmap(one, vaddr), 0);
	vcm_free(one);

	/* Memory without struct pages cannot be mapped this way. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_vmap(phys_make(test, &carve, 1)),
			    ERR_PTR(-EOPNOTSUPP));
	expect_no_live_pages(test, ta);
}

/* ---- mapping reuse ---- */

static void vcm_share_reuse_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctr_ctx *a = ctr_create(test), *b = ctr_create(test);
	struct vcm_res *r1, *r2, *r3, *plain, *in_b;
	struct vcm_phys *phys;

	phys = alloc_phys(test, a->vcm, SZ_64K);
	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
		KUNIT_EXPECT_PTR_EQ(test, vcm_map(a->vcm, phys, VCM_MAP_REUSE),
				    ERR_PTR(-EOPNOTSUPP));
		vcm_free(phys);
		expect_ctr_idle(test, a);
		kunit_skip(test, "reuse needs CONFIG_VCM_RES_REFCNT");
	}

	r1 = map_phys(test, a->vcm, phys, VCM_MAP_REUSE);
	r2 = map_phys(test, a->vcm, phys, VCM_MAP_REUSE);
	KUNIT_EXPECT_PTR_EQ(test, r2, r1);
	KUNIT_EXPECT_EQ(test, res_owners(r1), 2);
	/* Without the flag, or in another context: another mapping. */
	plain = map_phys(test, a->vcm, phys, 0);
	KUNIT_EXPECT_PTR_NE(test, plain, r1);
	KUNIT_EXPECT_NE(test, plain->start, r1->start);
	in_b = map_phys(test, b->vcm, phys, VCM_MAP_REUSE);
	KUNIT_EXPECT_PTR_NE(test, in_b, r1);
	/* The flag does not find a mapping made without it. */
	vcm_unmap(r1);
	vcm_unmap(r2);
	r3 = map_phys(test, a->vcm, phys, VCM_MAP_REUSE);
	KUNIT_EXPECT_PTR_NE(test, r3, plain);
	KUNIT_EXPECT_EQ(test, res_owners(r3), 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&phys->users), 4);

	/* Its owners share it: none may unbind it, or bind it elsewhere. */
	KUNIT_EXPECT_EQ(test, vcm_unbind(r3), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, r3->phys, phys);
	/* Other flags, another mapping. */
	r1 = map_phys(test, a->vcm, phys, VCM_MAP_REUSE | 1);
	KUNIT_EXPECT_PTR_NE(test, r1, r3);
	KUNIT_EXPECT_EQ(test, r1->flags, 1);
	KUNIT_EXPECT_PTR_EQ(test, map_phys(test, a->vcm, phys, VCM_MAP_REUSE | 1), r1);
	vcm_unmap(r1);
	vcm_unmap(r3);
	vcm_unmap(r1);
	vcm_unmap(plain);
	vcm_unmap(in_b);
	/* A core flag is not a reservation flag. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(a->vcm, SZ_4K, VCM_MAP_REUSE),
			    ERR_PTR(-EINVAL));
	vcm_free(phys);
	expect_no_live_pages(test, ta);
	expect_ctr_idle(test, a);
	expect_ctr_idle(test, b);
}

#define REUSE_ROUNDS	10000

struct reuse_data {
	struct vcm *vcm;
	struct vcm_phys *phys;
	atomic_t shared;	/* maps that found the other thread's */
};

/*
 * Maps and unmaps the same memory with VCM_MAP_REUSE: each mapping handed
 * out must be whole, bound to the memory and, on a SysMMU, translating to
 * it, for as long as it is held.
 */
static int reuse_thread(void *arg)
{
	struct share_thread *t = arg;
	struct reuse_data *d = t->data;
	int i;

	for (i = 0; i < REUSE_ROUNDS; i++) {
		struct vcm_res *res = vcm_map(d->vcm, d->phys, VCM_MAP_REUSE);

		t->ops++;
		if (IS_ERR(res)) {
			thread_fail(t, "round %d: vcm_map: %pe", i, res);
			break;
		}
		if (READ_ONCE(res->phys) != d->phys ||
		    READ_ONCE(res->bound_size) != d->phys->size)
			thread_fail(t, "round %d: a reservation not bound to the memory", i);
		if (res_owners(res) > 1)
			atomic_inc(&d->shared);
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
		{
			phys_addr_t paddr;
			int order = vcm_sysmmu_translate(d->vcm, res->start + SZ_64K,
							 &paddr);

			if (order < 0 || paddr != phys_addr_at(d->phys, SZ_64K))
				thread_fail(t, "round %d: translation %d", i, order);
		}
#endif
		vcm_unmap(res);
	}
	return thread_done(t);
}

static void vcm_share_reuse_threads_test(struct kunit *test)
{
	struct reuse_data d = { };
	struct share_thread t[2] = { };

	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		kunit_skip(test, "reuse needs CONFIG_VCM_RES_REFCNT");
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	d.vcm = sysmmu_make(test);
#else
	d.vcm = ctr_create(test)->vcm;
#endif
	d.phys = alloc_phys(test, d.vcm, SZ_1M);
	KUNIT_ASSERT_EQ(test, vcm_activate(d.vcm), 0);
	run_threads(test, reuse_thread, t, &d, 0, NULL);
	kunit_info(test, "%lu maps and unmaps on 2 CPUs, %d found the other thread's mapping\n",
		   t[0].ops + t[1].ops, atomic_read(&d.shared));
	KUNIT_EXPECT_EQ(test, t[0].ops + t[1].ops, 2 * REUSE_ROUNDS);
	/* Two CPUs: some maps found the other's mapping, so they raced. */
	if (num_online_cpus() > 1)
		KUNIT_EXPECT_GT(test, atomic_read(&d.shared), 0);
	vcm_deactivate(d.vcm);

	KUNIT_EXPECT_TRUE(test, pool_full(d.vcm));
	KUNIT_EXPECT_TRUE(test, list_empty(&d.vcm->reusable));
	KUNIT_EXPECT_EQ(test, refcount_read(&d.phys->users), 1);
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	KUNIT_EXPECT_EQ(test, sysmmu_l2_tables(d.vcm), 0);
#endif
	vcm_free(d.phys);
}

/* ---- destroying a context that still has holders ---- */

#define HOT_RES		100
#define SYSMMU_NAME_LEN	64

static void vcm_share_hot_removal_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctr_ctx *ctx = ctr_create(test);
	struct vcm *vcm = ctx->vcm;
	struct vcm_res *a[HOT_RES / 2], *b[HOT_RES / 2], *res;
	struct vcm_phys *phys[4];
	long bound_pages = 0;
	int i;

	/*
	 * Holder A maps its memory (some with reuse) and activates; holder
	 * B reserves and binds, or makes bindings, and activates too.
	 */
	for (i = 0; i < ARRAY_SIZE(phys); i++)
		phys[i] = alloc_phys(test, vcm, SZ_64K << i);
	for (i = 0; i < HOT_RES / 2; i++) {
		struct vcm_phys *p = phys[i % ARRAY_SIZE(phys)];

		a[i] = map_phys(test, vcm, p, 0);
		bound_pages += p->size >> PAGE_SHIFT;
		if (i % 2) {
			b[i] = vcm_make_binding(vcm, SZ_4K * (i + 1), 0, 0);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b[i]);
			bound_pages += i + 1;
		} else {
			b[i] = vcm_reserve(vcm, SZ_1M, 0);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b[i]);
			KUNIT_ASSERT_EQ(test, vcm_bind(b[i], p), 0);
			bound_pages += p->size >> PAGE_SHIFT;
		}
	}
	/* In the refcounting build, B also holds a share of A's first ten. */
	for (i = 0; i < 10 && IS_ENABLED(CONFIG_VCM_RES_REFCNT); i++)
		KUNIT_ASSERT_EQ(test, vcm_ref_reserve(a[i]), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_EXPECT_EQ(test, ctr_mapped(ctx), bound_pages);

	/* The hardware goes: deactivated and detached, memory kept. */
	ctr_destroy(ctx);
	KUNIT_EXPECT_EQ(test, ctr_mapped(ctx), 0);
	KUNIT_EXPECT_FALSE(test, ctx_ctr(ctx)->enabled);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->detaches), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cleanups), 0);
	KUNIT_EXPECT_TRUE(test, vcm->dead);

	/* New work is refused. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(vcm, SZ_4K, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(vcm, SZ_4K, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(vcm, phys[0], 0), ERR_PTR(-ENODEV));
	if (IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		KUNIT_EXPECT_PTR_EQ(test, vcm_map(vcm, phys[0], VCM_MAP_REUSE),
				    ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(vcm, SZ_4K, 0, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -ENODEV);
	KUNIT_EXPECT_EQ(test, vcm_unbind(b[0]), 0);
	KUNIT_EXPECT_EQ(test, vcm_bind(b[0], phys[0]), -ENODEV);

	/* Holder A lets go of everything: B still holds the context. */
	for (i = 0; i < HOT_RES / 2; i++)
		vcm_unmap(a[i]);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cleanups), 0);
	for (i = 0; i < ARRAY_SIZE(phys); i++)
		vcm_free(phys[i]);

	/* Holder B: its shares, its bindings, its activation, last. */
	for (i = 0; i < 10 && IS_ENABLED(CONFIG_VCM_RES_REFCNT); i++)
		vcm_unmap(a[i]);
	for (i = 0; i < HOT_RES / 2; i++) {
		res = b[i];
		if (i % 2) {
			vcm_destroy_binding(res);
		} else {
			if (i)
				KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
			vcm_unreserve(res);
		}
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cleanups), 0);
	vcm_deactivate(vcm);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->cleanups), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->detaches), 1);
	expect_no_live_pages(test, ta);
}

/* ---- a SysMMU device removed while masters hold reservations ---- */

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
static void vcm_share_sysmmu_removal_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct device *dev = dma_device(test, "vcm-share-sysmmu", 32);
	u32 *regs = sysmmu_window(test, SYSMMU_VERSION_MAKE(3, 3));
	struct vcm_res *held[HOT_RES];
	char name[SYSMMU_NAME_LEN];
	struct vcm_phys *phys;
	phys_addr_t paddr;
	struct vcm *vcm;
	int i;

	vcm = devm_vcm_sysmmu_create(dev, (void __force __iomem *)regs, NULL,
				     CTR_START, CTR_SIZE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_EXPECT_STREQ(test, vcm->name, dev_name(dev));
	strscpy(name, dev_name(dev), sizeof(name));

	/*
	 * Two masters: the first maps one shared buffer 50 times, the
	 * second makes 50 bindings of its own; both activate.
	 */
	phys = alloc_phys(test, vcm, SZ_64K + SZ_4K);
	for (i = 0; i < HOT_RES; i++) {
		held[i] = i % 2 ? vcm_make_binding(vcm, SZ_4K * i, 0, 0) :
			  vcm_map(vcm, phys, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, held[i]);
	}
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_translate(vcm, held[0]->start, &paddr), 4);
	KUNIT_EXPECT_NE(test, sysmmu_l2_tables(vcm), 0);

	/* The SysMMU's driver unbinds: its device goes away. */
	kunit_device_unregister(test, dev);
	KUNIT_EXPECT_TRUE(test, vcm->dead);
	KUNIT_EXPECT_EQ(test, regs[SYSMMU_MMU_CTRL / 4], 0);
	KUNIT_EXPECT_EQ(test, sysmmu_l2_tables(vcm), 0);
	for (i = 0; i < HOT_RES; i++)
		KUNIT_EXPECT_EQ(test, vcm_sysmmu_translate(vcm, held[i]->start, &paddr),
				-EFAULT);
	/* The name outlives the device. */
	KUNIT_EXPECT_STREQ(test, vcm->name, name);
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(vcm, phys, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(vcm, SZ_4K, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_EQ(test, vcm_activate(vcm), -ENODEV);

	/* The masters let go in their own time, touching no device. */
	for (i = 0; i < HOT_RES; i += 2)
		vcm_unmap(held[i]);
	vcm_deactivate(vcm);
	vcm_free(phys);
	for (i = 1; i < HOT_RES; i += 2)
		vcm_destroy_binding(held[i]);
	KUNIT_EXPECT_EQ(test, refcount_read(&vcm->users), 1);
	vcm_deactivate(vcm);
	expect_no_live_pages(test, ta);
}
#endif

static struct kunit_case vcm_share_cases[] = {
	KUNIT_CASE_PARAM(vcm_share_release_order_test, release_order_gen_params),
	KUNIT_CASE(vcm_share_ownership_test),
	KUNIT_CASE(vcm_share_vmap_test),
	KUNIT_CASE(vcm_share_reuse_test),
	KUNIT_CASE_SLOW(vcm_share_reuse_threads_test),
	KUNIT_CASE(vcm_share_hot_removal_test),
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	KUNIT_CASE(vcm_share_sysmmu_removal_test),
#endif
	KUNIT_CASE_SLOW(vcm_share_stress_test),
	KUNIT_CASE_SLOW(vcm_share_model_test),
	KUNIT_CASE(vcm_share_failures_test),
	{}
};

static struct kunit_suite vcm_share_suite = {
	.name = "vcm_share",
	.test_cases = vcm_share_cases,
};

kunit_test_suite(vcm_share_suite);

MODULE_DESCRIPTION("KUnit tests for sharing and lifetimes in VCM");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
