// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for sharing and lifetimes in VCM: memory bound into several
 * contexts, the counted kernel mapping, mapping reuse, destroyed contexts,
 * a concurrency stress, a model-based random test and failure injection
 * over every allocation.
 *
 * The contexts are MMU-wrapper contexts of a counting backend (below),
 * and SysMMU contexts on a register window in RAM where the SysMMU
 * backend is built.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/genalloc.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/prandom.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-sysmmu.h>
#include <linux/vmalloc.h>

#include "vcm_kunit.h"

#define CTR_START	SZ_16M
#define CTR_SIZE	SZ_64M

static const unsigned char ctr_orders[] = { 4, 0 };

/* ---- a counting backend on the MMU wrapper ---- */

/*
 * What the test keeps of a context, in the test's memory: the context
 * itself is freed by its cleanup, which may run in any thread.
 */
struct ctr_ctx {
	struct vcm *vcm;
	atomic_t cleanups;
	atomic_t detaches;
	bool destroyed;			/* vcm_destroy() was called */
};

/*
 * A backend that maps page by page and counts: pages mapped, and
 * violations of the wrapper's rules (mapping while detached, unmapping
 * what is not mapped, disabling twice).
 */
struct ctr_mmu {
	struct vcm_mmu mmu;
	struct vcm_mmu_driver ops;
	struct ctr_ctx *ctx;
	long mapped_pages;		/* under mmu.lock */
	unsigned long violations;	/* under mmu.lock */
	bool enabled;			/* under mmu.lock */
	bool detached;			/* under mmu.lock */
};

static struct ctr_mmu *to_ctr(struct vcm_mmu *mmu)
{
	return container_of(mmu, struct ctr_mmu, mmu);
}

static int ctr_map_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
			phys_addr_t paddr, unsigned int order)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	lockdep_assert_held(&mmu->lock);
	if (ctr->detached)
		ctr->violations++;
	ctr->mapped_pages += 1L << order;
	return 0;
}

static void ctr_unmap_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
			   phys_addr_t paddr, unsigned int order)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	lockdep_assert_held(&mmu->lock);
	ctr->mapped_pages -= 1L << order;
	if (ctr->mapped_pages < 0 || ctr->detached)
		ctr->violations++;
}

static int ctr_enable(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (ctr->enabled || ctr->detached)
		ctr->violations++;
	ctr->enabled = true;
	return 0;
}

static void ctr_disable(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (!ctr->enabled)
		ctr->violations++;
	ctr->enabled = false;
}

static void ctr_detach(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (ctr->enabled || ctr->mapped_pages || ctr->detached)
		ctr->violations++;
	ctr->detached = true;
	atomic_inc(&ctr->ctx->detaches);
}

static void ctr_cleanup(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	/* Freeing a context that still maps something is a leak. */
	WARN_ON(ctr->mapped_pages || ctr->violations);
	atomic_inc(&ctr->ctx->cleanups);
	kfree(ctr);
}

static void ctr_destroy_action(void *data)
{
	struct ctr_ctx *ctx = data;

	if (!ctx->destroyed)
		vcm_destroy(ctx->vcm);
}

/* Makes a counting context, or returns its error; destroyed at the end. */
static int ctr_try_create(struct kunit *test, struct ctr_ctx *ctx)
{
	struct ctr_mmu *ctr;
	struct vcm *vcm;

	ctr = kzalloc(sizeof(*ctr), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctr);
	ctr->ctx = ctx;
	ctr->ops = (struct vcm_mmu_driver){
		.orders		 = ctr_orders,
		.cleanup	 = ctr_cleanup,
		.activate_page	 = ctr_map_page,
		.deactivate_page = ctr_unmap_page,
		.enable		 = ctr_enable,
		.disable	 = ctr_disable,
		.detach		 = ctr_detach,
	};
	ctr->mmu.driver = &ctr->ops;
	ctr->mmu.vcm.start = CTR_START;
	ctr->mmu.vcm.size = CTR_SIZE;
	ctr->mmu.vcm.name = "vcm-share-kunit";
	/* A flag for VCM_MAP_REUSE to tell mappings apart by. */
	ctr->mmu.vcm.res_flags = VCM_READ_ONLY;
	vcm = vcm_mmu_init(&ctr->mmu);
	if (IS_ERR(vcm)) {
		kfree(ctr);
		return PTR_ERR(vcm);
	}
	ctx->vcm = vcm;
	ctx->destroyed = false;
	atomic_set(&ctx->cleanups, 0);
	atomic_set(&ctx->detaches, 0);
	return kunit_add_action_or_reset(test, ctr_destroy_action, ctx);
}

static struct ctr_ctx *ctr_create(struct kunit *test)
{
	struct ctr_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, ctr_try_create(test, ctx), 0);
	return ctx;
}

static void ctr_destroy(struct ctr_ctx *ctx)
{
	ctx->destroyed = true;
	vcm_destroy(ctx->vcm);
}

static struct ctr_mmu *ctx_ctr(struct ctr_ctx *ctx)
{
	return to_ctr(vcm_to_mmu(ctx->vcm));
}

/* Pages the backend maps now; the context must not be freed. */
static long ctr_mapped(struct ctr_ctx *ctx)
{
	struct ctr_mmu *ctr = ctx_ctr(ctx);
	unsigned long flags;
	long pages;

	spin_lock_irqsave(&ctr->mmu.lock, flags);
	pages = ctr->mapped_pages;
	spin_unlock_irqrestore(&ctr->mmu.lock, flags);
	return pages;
}

/* Whether every device address of a wrapper context is free again. */
static bool pool_full(struct vcm *vcm)
{
	struct vcm_mmu *mmu = vcm_to_mmu(vcm);

	vcm_mmu_drain(mmu);
	return gen_pool_avail(mmu->pool) == gen_pool_size(mmu->pool);
}

static void expect_ctr_idle(struct kunit *test, struct ctr_ctx *ctx)
{
	KUNIT_EXPECT_EQ(test, ctr_mapped(ctx), 0);
	KUNIT_EXPECT_EQ(test, ctx_ctr(ctx)->violations, 0);
	KUNIT_EXPECT_TRUE(test, pool_full(ctx->vcm));
	KUNIT_EXPECT_EQ(test, ctx->vcm->activations, 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&ctx->vcm->users), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->vcm->reusable));
}

/* ---- SysMMU contexts on a register window ---- */

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
/* A SysMMU context over the counting contexts' range. */
static struct vcm *sysmmu_make(struct kunit *test)
{
	return sysmmu_context(test, CTR_START, CTR_SIZE);
}

static unsigned long sysmmu_l2_tables(struct vcm *vcm)
{
	struct vcm_sysmmu_stats stats;

	if (vcm_sysmmu_stats(vcm, &stats))
		return ULONG_MAX;
	return stats.l2_tables;
}
#endif

/* ---- helpers ---- */

/* The ownerships of @res: one when they are not counted. */
static unsigned int res_owners(struct vcm_res *res)
{
#ifdef CONFIG_VCM_RES_REFCNT
	return refcount_read(&res->refcnt);
#else
	return 1;
#endif
}

static struct vcm_phys *alloc_phys(struct kunit *test, struct vcm *vcm,
				   resource_size_t size)
{
	struct vcm_phys *phys = vcm_alloc(vcm, size, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, phys, "vcm_alloc");
	return phys;
}

static struct vcm_res *map_phys(struct kunit *test, struct vcm *vcm,
				struct vcm_phys *phys, unsigned int flags)
{
	struct vcm_res *res = vcm_map(vcm, phys, flags);

	KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, res, "vcm_map");
	return res;
}

/* The part of @phys holding byte @offset; @offset becomes the part's. */
static const struct vcm_phys_part *phys_part_at(const struct vcm_phys *phys,
						resource_size_t *offset)
{
	unsigned int i;

	for (i = 0; *offset >= phys->parts[i].size; i++)
		*offset -= phys->parts[i].size;
	return &phys->parts[i];
}

static phys_addr_t phys_addr_at(const struct vcm_phys *phys,
				resource_size_t offset)
{
	return phys_part_at(phys, &offset)->start + offset;
}

/* The byte at @offset of @phys, read through its page. */
static u8 phys_byte(const struct vcm_phys *phys, resource_size_t offset)
{
	const struct vcm_phys_part *part = phys_part_at(phys, &offset);
	u8 *p, byte;

	p = kmap_local_page(nth_page(part->page, offset >> PAGE_SHIFT));
	byte = p[offset & ~PAGE_MASK];
	kunmap_local(p);
	return byte;
}

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

/* What a thread of a concurrent test reports back. */
struct share_thread {
	struct completion finished;
	struct task_struct *task;
	unsigned int cpu;
	u32 seed;
	unsigned long ops;
	unsigned long failures;
	char failure[160];
	void *data;
};

static __printf(2, 3) void thread_fail(struct share_thread *t, const char *fmt, ...)
{
	va_list args;

	if (!t->failures++) {
		va_start(args, fmt);
		vsnprintf(t->failure, sizeof(t->failure), fmt, args);
		va_end(args);
	}
}

/*
 * Runs @fn in a kthread on each of the first two online CPUs (both on one
 * if there is only one), started together, calls @meanwhile (if not NULL)
 * while they run, and waits for them.
 */
static void run_threads(struct kunit *test, int (*fn)(void *),
			struct share_thread t[2], void *data, u32 seed,
			void (*meanwhile)(void *data))
{
	unsigned int cpu = cpumask_first(cpu_online_mask);
	int i;

	for (i = 0; i < 2; i++) {
		init_completion(&t[i].finished);
		t[i].cpu = cpu;
		t[i].seed = seed + i;
		t[i].data = data;
		t[i].task = kthread_create(fn, &t[i], "vcm-share/%d", i);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t[i].task);
		get_task_struct(t[i].task);
		kthread_bind(t[i].task, cpu);
		if (cpumask_next(cpu, cpu_online_mask) < nr_cpu_ids)
			cpu = cpumask_next(cpu, cpu_online_mask);
	}
	for (i = 0; i < 2; i++)
		wake_up_process(t[i].task);
	if (meanwhile)
		meanwhile(data);
	/* A thread stopped before it ran would never run its function. */
	for (i = 0; i < 2; i++) {
		wait_for_completion(&t[i].finished);
		kthread_stop(t[i].task);
		put_task_struct(t[i].task);
	}
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_EQ_MSG(test, t[i].failures, 0, "thread %d: %s", i,
				    t[i].failure);
}

/* Reports the work done and waits for kthread_stop(). */
static int thread_done(struct share_thread *t)
{
	complete(&t->finished);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
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

/* ---- concurrency stress ---- */

#define STRESS_OPS	50000	/* per thread */
#define STRESS_RES	8
#define STRESS_PHYS	4
#define STRESS_CTX	2
#define STRESS_SEED	0x5eed2026	/* thread 0's; thread 1's is one more */

struct stress_data {
	struct vcm *vcm[STRESS_CTX];
	struct vcm_phys *shared[2];	/* the test's, mapped by both threads */
	atomic_t allocs, frees;		/* of the threads' memory */
	struct ctr_ctx *doomed;		/* vcm[0], destroyed halfway */
	struct completion halfway;	/* thread 0 is halfway */
	bool destroying;		/* vcm_destroy(vcm[0]) has begun */
	atomic_t refused;		/* new work in vcm[0] after that */
};

/* A thread's reservation, with the ownerships it holds. */
struct stress_res {
	struct vcm_res *res;
	unsigned int owners;
	bool made;		/* by vcm_map() or vcm_make_binding() */
};

struct stress_thread {
	struct share_thread *t;
	struct stress_data *d;
	struct rnd_state rnd;
	struct stress_res res[STRESS_RES];
	struct vcm_phys *phys[STRESS_PHYS];
	void *vaddr[2];
	unsigned int vmaps[2];
	unsigned int activations[STRESS_CTX];
};

static void (*vcm_phys_free_pages_fn)(struct vcm_phys *phys);
static struct stress_data *stress_current;

/* Counts the threads' memory as it is freed, in whichever thread. */
static void stress_phys_free(struct vcm_phys *phys)
{
	atomic_inc(&stress_current->frees);
	vcm_phys_free_pages_fn(phys);
}

static u32 stress_rand(struct stress_thread *s, u32 n)
{
	return prandom_u32_state(&s->rnd) % n;
}

static void stress_release(struct stress_thread *s, struct stress_res *r)
{
	if (!r->made && r->res->phys && vcm_unbind(r->res))
		thread_fail(s->t, "vcm_unbind of a bound reservation failed");
	while (r->owners) {
		r->owners--;
		vcm_unreserve(r->res);
	}
	r->res = NULL;
}

/*
 * Checks an operation's result.  New work in the context being destroyed
 * may also fail with -ENODEV, depending on who wins.
 */
static void stress_check(struct stress_thread *s, struct vcm *vcm, int ret,
			 int want, const char *what)
{
	if (ret == -ENODEV && vcm == s->d->vcm[0] && READ_ONCE(s->d->destroying)) {
		atomic_inc(&s->d->refused);
		return;
	}
	if (ret != want)
		thread_fail(s->t, "op %lu: %s returned %d, not %d", s->t->ops,
			    what, ret, want);
}

/* Does one random operation; false if the one drawn did not apply. */
static bool stress_step(struct stress_thread *s)
{
	struct stress_res *r = &s->res[stress_rand(s, STRESS_RES)];
	struct vcm_phys **p = &s->phys[stress_rand(s, STRESS_PHYS)];
	unsigned int c = stress_rand(s, STRESS_CTX);
	unsigned int sh = stress_rand(s, 2);
	struct vcm *vcm = s->d->vcm[c];
	struct vcm_res *res;
	void *vaddr;
	int ret;

	switch (stress_rand(s, 10)) {
	case 0:		/* reserve, or release */
		if (r->res) {
			stress_release(s, r);
			break;
		}
		res = vcm_reserve(vcm, SZ_4K << stress_rand(s, 6), 0);
		stress_check(s, vcm, PTR_ERR_OR_ZERO(res), 0, "vcm_reserve");
		if (!IS_ERR(res))
			*r = (struct stress_res){ .res = res, .owners = 1 };
		break;
	case 1:		/* another ownership */
		if (!r->res)
			return false;
		if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
			stress_check(s, NULL, vcm_ref_reserve(r->res), -EOPNOTSUPP,
				     "vcm_ref_reserve");
			break;
		}
		stress_check(s, NULL, vcm_ref_reserve(r->res), 0, "vcm_ref_reserve");
		r->owners++;
		break;
	case 2:		/* allocate, or free */
		if (*p) {
			vcm_free(*p);
			*p = NULL;
			break;
		}
		*p = vcm_alloc(vcm, SZ_4K * (1 + stress_rand(s, 20)), 0);
		stress_check(s, vcm, PTR_ERR_OR_ZERO(*p), 0, "vcm_alloc");
		if (IS_ERR(*p)) {
			*p = NULL;
			break;
		}
		(*p)->free = stress_phys_free;
		atomic_inc(&s->d->allocs);
		break;
	case 3:		/* bind, or unbind */
		if (!r->res || r->made || !*p)
			return false;
		if (r->res->phys) {
			stress_check(s, NULL, vcm_unbind(r->res), 0,
				     "vcm_unbind");
			break;
		}
		stress_check(s, r->res->vcm, vcm_bind(r->res, *p),
			     (*p)->size > r->res->res_size ? -ENOSPC : 0, "vcm_bind");
		break;
	case 4:		/* map shared memory with reuse, or unmap */
		if (r->res) {
			stress_release(s, r);
			break;
		}
		res = vcm_map(vcm, s->d->shared[sh],
			      IS_ENABLED(CONFIG_VCM_RES_REFCNT) ? VCM_MAP_REUSE : 0);
		stress_check(s, vcm, PTR_ERR_OR_ZERO(res), 0, "vcm_map");
		if (IS_ERR(res))
			break;
		if (res->phys != s->d->shared[sh])
			thread_fail(s->t, "op %lu: a mapping of other memory", s->t->ops);
		*r = (struct stress_res){ .res = res, .owners = 1, .made = true };
		break;
	case 5:		/* make a binding */
		if (r->res)
			return false;
		res = vcm_make_binding(vcm, SZ_4K * (1 + stress_rand(s, 20)), 0, 0);
		stress_check(s, vcm, PTR_ERR_OR_ZERO(res), 0, "vcm_make_binding");
		if (!IS_ERR(res))
			*r = (struct stress_res){ .res = res, .owners = 1, .made = true };
		break;
	case 6:		/* kernel mapping of shared memory */
		if (s->vmaps[sh] && stress_rand(s, 2)) {
			stress_check(s, NULL, vcm_vunmap(s->d->shared[sh], s->vaddr[sh]),
				     0, "vcm_vunmap");
			s->vmaps[sh]--;
			break;
		}
		vaddr = vcm_vmap(s->d->shared[sh]);
		stress_check(s, NULL, PTR_ERR_OR_ZERO(vaddr), 0, "vcm_vmap");
		if (IS_ERR(vaddr))
			break;
		if (s->vmaps[sh] && vaddr != s->vaddr[sh])
			thread_fail(s->t, "op %lu: vcm_vmap moved", s->t->ops);
		s->vaddr[sh] = vaddr;
		s->vmaps[sh]++;
		break;
	case 7:		/* activate, or deactivate */
		/* The first activation is kept: it holds the context. */
		if (s->activations[c] > 1 && stress_rand(s, 2)) {
			vcm_deactivate(vcm);
			s->activations[c]--;
			break;
		}
		ret = vcm_activate(vcm);
		stress_check(s, vcm, ret, 0, "vcm_activate");
		s->activations[c] += !ret;
		break;
	default:	/* release */
		if (!r->res)
			return false;
		stress_release(s, r);
		break;
	}
	s->t->ops++;
	return true;
}

static int stress_thread(void *arg)
{
	struct share_thread *t = arg;
	struct stress_thread *s = kzalloc(sizeof(*s), GFP_KERNEL);
	unsigned int i;

	if (!s) {
		thread_fail(t, "out of memory");
		return thread_done(t);
	}
	s->t = t;
	s->d = t->data;
	prandom_seed_state(&s->rnd, t->seed);
	/* The activations the test took for this thread keep the contexts. */
	for (i = 0; i < STRESS_CTX; i++)
		s->activations[i] = 1;
	while (t->ops < STRESS_OPS / 2)
		stress_step(s);
	if (t->seed == STRESS_SEED)
		complete(&s->d->halfway);
	while (t->ops < STRESS_OPS)
		stress_step(s);

	for (i = 0; i < STRESS_RES; i++)
		if (s->res[i].res)
			stress_release(s, &s->res[i]);
	for (i = 0; i < STRESS_PHYS; i++)
		if (s->phys[i])
			vcm_free(s->phys[i]);
	for (i = 0; i < 2; i++)
		while (s->vmaps[i]--)
			vcm_vunmap(s->d->shared[i], s->vaddr[i]);
	for (i = 0; i < STRESS_CTX; i++)
		while (s->activations[i]--)
			vcm_deactivate(s->d->vcm[i]);
	kfree(s);
	return thread_done(t);
}

/*
 * Halfway through the stress, the counting context is destroyed under the
 * threads, which hold it by an activation each.
 */
static void stress_destroy(void *data)
{
	struct stress_data *d = data;

	wait_for_completion(&d->halfway);
	WRITE_ONCE(d->destroying, true);
	ctr_destroy(d->doomed);
}

static void vcm_share_stress_test(struct kunit *test)
{
	struct stress_data d = { };
	struct share_thread t[2] = { };
	struct ctr_ctx *ctr = ctr_create(test);
	struct vcm_phys *probe;
	int i, j;

	init_completion(&d.halfway);
	d.doomed = ctr;
	d.vcm[0] = ctr->vcm;
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	d.vcm[1] = sysmmu_make(test);
#else
	d.vcm[1] = ctr_create(test)->vcm;
#endif
	for (i = 0; i < 2; i++)
		d.shared[i] = alloc_phys(test, d.vcm[i], SZ_64K + SZ_4K);
	probe = alloc_phys(test, d.vcm[0], SZ_4K);
	vcm_phys_free_pages_fn = probe->free;
	vcm_free(probe);
	stress_current = &d;
	for (i = 0; i < STRESS_CTX; i++)
		for (j = 0; j < 2; j++)
			KUNIT_ASSERT_EQ(test, vcm_activate(d.vcm[i]), 0);

	run_threads(test, stress_thread, t, &d, STRESS_SEED, stress_destroy);
	kunit_info(test, "seed %#x: %lu operations on 2 CPUs, %d allocations, %d refused with -ENODEV after one context was destroyed halfway\n",
		   STRESS_SEED, t[0].ops + t[1].ops, atomic_read(&d.allocs),
		   atomic_read(&d.refused));
	KUNIT_EXPECT_GE(test, t[0].ops + t[1].ops, 100000);

	/* Everything balanced, every byte and address returned. */
	KUNIT_EXPECT_EQ(test, atomic_read(&d.frees), atomic_read(&d.allocs));
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, refcount_read(&d.shared[i]->users), 1);
		KUNIT_EXPECT_EQ(test, d.shared[i]->vmap_count, 0);
		vcm_free(d.shared[i]);
	}
	/* The destroyed context went with its last holder, once. */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctr->detaches), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctr->cleanups), 1);
	KUNIT_EXPECT_TRUE(test, pool_full(d.vcm[1]));
	KUNIT_EXPECT_EQ(test, d.vcm[1]->activations, 0);
	KUNIT_EXPECT_EQ(test, refcount_read(&d.vcm[1]->users), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&d.vcm[1]->reusable));
#if IS_ENABLED(CONFIG_VCM_SYSMMU)
	KUNIT_EXPECT_EQ(test, sysmmu_l2_tables(d.vcm[1]), 0);
#endif
	stress_current = NULL;
}

/* ---- model-based random test ---- */

#define MODEL_OPS	100000
#define MODEL_SEED	0x40de1202
#define M_CTX		2
#define M_RES		24
#define M_PHYS		8

/* A reservation as the model sees it; @res NULL for a free slot. */
struct m_res {
	struct vcm_res *res;
	int ctx;
	int owners;
	int phys;		/* the slot of the memory bound, or -1 */
	bool made;		/* bound by vcm_map() or vcm_make_binding() */
	bool reusable;		/* made with VCM_MAP_REUSE */
	bool owns;		/* its memory came from vcm_make_binding() */
};

/* Memory as the model sees it; @phys NULL for a free slot. */
struct m_phys {
	struct vcm_phys *phys;
	bool owner;		/* the test holds the owner's reference */
	int bindings;
	int vmaps;
	u8 *vaddr;
	long pages;
};

struct m_ctx {
	struct ctr_ctx *cc;
	bool dead;
	int activations;
};

struct model {
	struct kunit *test;
	struct test_alloc *ta;
	struct rnd_state rnd;
	unsigned long step;
	const char *op;
	struct m_ctx ctx[M_CTX];
	struct m_res res[M_RES];
	struct m_phys phys[M_PHYS];
	long live_pages;
	unsigned long errors;		/* operations predicted to fail */
	unsigned long dead_errors;	/* of them, -ENODEV */
	unsigned int destroyed;		/* contexts destroyed and freed */
};

/* A mismatch stops the test with the seed and the step. */
#define M_CHECK(m, cond, fmt, ...)					\
	do {								\
		const struct model *__m = (m);				\
									\
		KUNIT_ASSERT_TRUE_MSG(__m->test, cond,			\
				      "seed %#x, step %lu, %s: " fmt,	\
				      MODEL_SEED, __m->step, __m->op,	\
				      ##__VA_ARGS__);			\
	} while (0)

/* Checks an operation's result against the model's prediction. */
static void m_ret(struct model *m, int got, int want)
{
	M_CHECK(m, got == want, "returned %d, expected %d", got, want);
	m->errors += want != 0;
	m->dead_errors += want == -ENODEV;
}

static u32 m_rand(struct model *m, u32 n)
{
	return prandom_u32_state(&m->rnd) % n;
}

/* A free slot of reservations (@res) or of memory, or -1 if none is. */
static int m_free_slot(struct model *m, bool res)
{
	int n = res ? M_RES : M_PHYS;
	int i, at = m_rand(m, n);

	for (i = 0; i < n; i++, at = (at + 1) % n)
		if (res ? !m->res[at].res : !m->phys[at].phys)
			return at;
	return -1;
}

/* A random live reservation, or NULL. */
static struct m_res *m_live_res(struct model *m)
{
	struct m_res *r = &m->res[m_rand(m, M_RES)];

	return r->res ? r : NULL;
}

/* Random memory the test owns, or -1. */
static int m_owned_phys(struct model *m)
{
	int p = m_rand(m, M_PHYS);

	return m->phys[p].phys && m->phys[p].owner ? p : -1;
}

/*
 * The context's user count: its creator, its activations, and once it is
 * dead one for all its reservations while any is left (a live context
 * counts them per CPU).
 */
static int m_users(const struct model *m, int c)
{
	int i, users = !m->ctx[c].dead + m->ctx[c].activations;

	for (i = 0; m->ctx[c].dead && i < M_RES; i++) {
		if (m->res[i].res && m->res[i].ctx == c) {
			users++;
			break;
		}
	}
	return users;
}

static long m_mapped(const struct model *m, int c)
{
	long pages = 0;
	int i;

	if (m->ctx[c].dead || !m->ctx[c].activations)
		return 0;
	for (i = 0; i < M_RES; i++)
		if (m->res[i].res && m->res[i].ctx == c && m->res[i].phys >= 0)
			pages += m->phys[m->res[i].phys].pages;
	return pages;
}

static void m_new_ctx(struct model *m, int c)
{
	m->ctx[c] = (struct m_ctx){ .cc = ctr_create(m->test) };
}

/* A dead context with no user left was freed: once. Make a new one. */
static void m_ctx_maybe_freed(struct model *m, int c)
{
	if (!m->ctx[c].dead || m_users(m, c))
		return;
	M_CHECK(m, atomic_read(&m->ctx[c].cc->cleanups) == 1, "cleanups %d",
		atomic_read(&m->ctx[c].cc->cleanups));
	m->destroyed++;
	m_new_ctx(m, c);
}

/* Drops a reference to the memory of slot @p; the last frees it. */
static void m_phys_drop(struct model *m, int p, bool owner)
{
	struct m_phys *mp = &m->phys[p];

	if (owner)
		mp->owner = false;
	else
		mp->bindings--;
	if (!mp->owner && !mp->bindings) {
		m->live_pages -= mp->pages;
		*mp = (struct m_phys){ };
	}
}

/* The last ownership of @r is gone. */
static void m_res_end(struct model *m, struct m_res *r)
{
	int c = r->ctx;

	if (r->phys >= 0)
		m_phys_drop(m, r->phys, false);
	*r = (struct m_res){ };
	m_ctx_maybe_freed(m, c);
}

/* Everything the model predicts about the state, compared. */
static void m_check_state(struct model *m)
{
	int i;

	M_CHECK(m, m->ta->live_pages == m->live_pages, "%ld live pages, expected %ld",
		m->ta->live_pages, m->live_pages);
	for (i = 0; i < M_CTX; i++) {
		struct vcm *vcm = m->ctx[i].cc->vcm;

		M_CHECK(m, refcount_read(&vcm->users) == m_users(m, i),
			"context %d has %u users, expected %d", i,
			refcount_read(&vcm->users), m_users(m, i));
		M_CHECK(m, vcm->activations == m->ctx[i].activations,
			"context %d activations", i);
		M_CHECK(m, ctr_mapped(m->ctx[i].cc) == m_mapped(m, i),
			"context %d maps %ld pages, expected %ld", i,
			ctr_mapped(m->ctx[i].cc), m_mapped(m, i));
		M_CHECK(m, !ctx_ctr(m->ctx[i].cc)->violations, "context %d violations", i);
	}
	for (i = 0; i < M_RES; i++) {
		const struct m_res *r = &m->res[i];
		const struct m_phys *mp = r->phys >= 0 ? &m->phys[r->phys] : NULL;

		if (!r->res)
			continue;
		M_CHECK(m, res_owners(r->res) == r->owners,
			"reservation %d has %u owners, expected %d", i,
			res_owners(r->res), r->owners);
		M_CHECK(m, r->res->phys == (mp ? mp->phys : NULL),
			"reservation %d bound to other memory", i);
		M_CHECK(m, r->res->bound_size == (mp ? mp->pages << PAGE_SHIFT : 0),
			"reservation %d bound size", i);
		M_CHECK(m, r->res->vcm == m->ctx[r->ctx].cc->vcm,
			"reservation %d context", i);
	}
	for (i = 0; i < M_PHYS; i++) {
		const struct m_phys *mp = &m->phys[i];

		if (!mp->phys)
			continue;
		M_CHECK(m, refcount_read(&mp->phys->users) == mp->owner + mp->bindings,
			"memory %d has %u users, expected %d", i,
			refcount_read(&mp->phys->users), mp->owner + mp->bindings);
		M_CHECK(m, mp->phys->vmap_count == mp->vmaps, "memory %d vmaps", i);
	}
}

static bool m_reserve(struct model *m, int c)
{
	int slot = m_free_slot(m, true), want = 0;
	resource_size_t size = SZ_4K * (1 + m_rand(m, 16));
	unsigned int flags = 0, k = m_rand(m, 64);
	struct vcm_res *res;

	if (slot < 0)
		return false;
	if (k == 0)
		size = 0;
	else if (k == 1)
		size = CTR_SIZE + SZ_4K;
	else if (k == 2)
		flags = VCM_MAP_REUSE;
	if (!size || flags)
		want = -EINVAL;
	else if (m->ctx[c].dead)
		want = -ENODEV;
	else if (size > CTR_SIZE)
		want = -ENOSPC;

	res = vcm_reserve(m->ctx[c].cc->vcm, size, flags);
	m_ret(m, PTR_ERR_OR_ZERO(res), want);
	if (!want)
		m->res[slot] = (struct m_res){ .res = res, .ctx = c, .owners = 1,
					       .phys = -1 };
	return true;
}

static bool m_release(struct model *m, struct m_res *r)
{
	if (r->phys >= 0 && !r->made)
		return false;	/* its user must unbind it first */
	switch (m_rand(m, 3)) {
	case 0:
		vcm_unreserve(r->res);
		break;
	case 1:
		vcm_unmap(r->res);
		break;
	default:
		vcm_destroy_binding(r->res);
		break;
	}
	if (!--r->owners)
		m_res_end(m, r);
	return true;
}

static bool m_alloc(struct model *m, int c)
{
	int slot = m_free_slot(m, false), want = m->ctx[c].dead ? -ENODEV : 0;
	long pages = 1 + m_rand(m, 32);
	struct vcm_phys *phys;

	if (slot < 0)
		return false;
	phys = vcm_alloc(m->ctx[c].cc->vcm, pages << PAGE_SHIFT, 0);
	m_ret(m, PTR_ERR_OR_ZERO(phys), want);
	if (!want) {
		m->phys[slot] = (struct m_phys){ .phys = phys, .owner = true,
						 .pages = pages };
		m->live_pages += pages;
	}
	return true;
}

static bool m_bind(struct model *m, struct m_res *r, int p)
{
	struct m_phys *mp = &m->phys[p];
	int want = 0;

	if (m->ctx[r->ctx].dead)
		want = -ENODEV;
	else if (r->phys >= 0)
		want = r->phys == p ? -EALREADY : -EADDRINUSE;
	else if (mp->pages << PAGE_SHIFT > r->res->res_size)
		want = -ENOSPC;
	m_ret(m, vcm_bind(r->res, mp->phys), want);
	if (!want) {
		r->phys = p;
		mp->bindings++;
	}
	return true;
}

static bool m_unbind(struct model *m, struct m_res *r)
{
	int ret = vcm_unbind(r->res);

	if (r->reusable || r->owns) {
		m_ret(m, ret, -EBUSY);
		return true;
	}
	if (r->phys < 0) {
		m_ret(m, ret, -EINVAL);
		return true;
	}
	m_ret(m, ret, 0);
	m_phys_drop(m, r->phys, false);
	r->phys = -1;
	r->made = false;
	r->reusable = false;
	return true;
}

static bool m_map(struct model *m, int c, int p)
{
	bool reuse = m_rand(m, 2);
	struct m_res *found = NULL;
	struct vcm_res *res;
	int i, slot = -1, want = 0;

	if (reuse && !IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
		want = -EOPNOTSUPP;
	} else if (m->ctx[c].dead) {
		want = -ENODEV;
	} else {
		for (i = 0; reuse && i < M_RES && !found; i++)
			if (m->res[i].res && m->res[i].ctx == c &&
			    m->res[i].reusable && m->res[i].phys == p)
				found = &m->res[i];
		slot = found ? 0 : m_free_slot(m, true);
		if (slot < 0)
			return false;
	}

	res = vcm_map(m->ctx[c].cc->vcm, m->phys[p].phys,
		      reuse ? VCM_MAP_REUSE : 0);
	m_ret(m, PTR_ERR_OR_ZERO(res), want);
	if (want)
		return true;
	if (found) {
		M_CHECK(m, res == found->res, "a new mapping, not the reusable one");
		found->owners++;
	} else {
		m->res[slot] = (struct m_res){ .res = res, .ctx = c, .owners = 1,
					       .phys = p, .made = true,
					       .reusable = reuse };
		m->phys[p].bindings++;
	}
	return true;
}

static bool m_make_binding(struct model *m, int c)
{
	int slot = m_free_slot(m, true), p = m_free_slot(m, false);
	int want = m->ctx[c].dead ? -ENODEV : 0;
	long pages = 1 + m_rand(m, 32);
	struct vcm_res *res;

	if (slot < 0 || p < 0)
		return false;
	res = vcm_make_binding(m->ctx[c].cc->vcm, pages << PAGE_SHIFT, 0, 0);
	m_ret(m, PTR_ERR_OR_ZERO(res), want);
	if (want)
		return true;
	m->phys[p] = (struct m_phys){ .phys = res->phys, .bindings = 1,
				      .pages = pages };
	m->live_pages += pages;
	m->res[slot] = (struct m_res){ .res = res, .ctx = c, .owners = 1,
				       .phys = p, .made = true, .owns = true };
	return true;
}

static bool m_vmap(struct model *m, int p)
{
	struct m_phys *mp = &m->phys[p];
	resource_size_t off = m_rand(m, mp->pages << PAGE_SHIFT);
	u8 *vaddr = vcm_vmap(mp->phys);

	m_ret(m, PTR_ERR_OR_ZERO(vaddr), 0);
	if (mp->vmaps)
		M_CHECK(m, vaddr == mp->vaddr, "mapped at another address");
	mp->vaddr = vaddr;
	mp->vmaps++;
	vaddr[off] = m->step;
	M_CHECK(m, phys_byte(mp->phys, off) == (u8)m->step, "byte %pa differs", &off);
	return true;
}

static bool m_step(struct model *m)
{
	int c = m_rand(m, M_CTX), p = m_owned_phys(m);
	struct m_res *r = m_live_res(m);
	struct m_ctx *ctx = &m->ctx[c];

	switch (m_rand(m, 14)) {
	case 0:
		m->op = "reserve";
		return m_reserve(m, c);
	case 1:
		m->op = "ref";
		if (!r)
			return false;
		if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
			m_ret(m, vcm_ref_reserve(r->res), -EOPNOTSUPP);
			return true;
		}
		m_ret(m, vcm_ref_reserve(r->res), 0);
		r->owners++;
		return true;
	case 2:
	case 3:
		m->op = "release";
		return r && m_release(m, r);
	case 4:
		m->op = "alloc";
		return m_alloc(m, c);
	case 5:
		m->op = "free";
		if (p < 0 || m->phys[p].vmaps)
			return false;
		vcm_free(m->phys[p].phys);
		m_phys_drop(m, p, true);
		return true;
	case 6:
		m->op = "bind";
		return r && p >= 0 && m_bind(m, r, p);
	case 7:
		m->op = "unbind";
		return r && m_unbind(m, r);
	case 8:
		m->op = "map";
		return p >= 0 && m_map(m, c, p);
	case 9:
		m->op = "make_binding";
		return m_make_binding(m, c);
	case 10:
		m->op = "vmap";
		if (p < 0)
			return false;
		if (m->phys[p].vmaps && m_rand(m, 2)) {
			m->op = "vunmap";
			m_ret(m, vcm_vunmap(m->phys[p].phys, m->phys[p].vaddr), 0);
			m->phys[p].vmaps--;
			return true;
		}
		return m_vmap(m, p);
	case 11:
		m->op = "activate";
		m_ret(m, vcm_activate(ctx->cc->vcm), ctx->dead ? -ENODEV : 0);
		if (!ctx->dead)
			ctx->activations++;
		return true;
	case 12:
		m->op = "deactivate";
		if (!ctx->activations)
			return false;
		vcm_deactivate(ctx->cc->vcm);
		ctx->activations--;
		m_ctx_maybe_freed(m, c);
		return true;
	default:
		m->op = "destroy";
		if (ctx->dead || m_rand(m, 200))
			return false;
		ctr_destroy(ctx->cc);
		ctx->dead = true;
		M_CHECK(m, atomic_read(&ctx->cc->detaches) == 1, "not detached");
		m_ctx_maybe_freed(m, c);
		return true;
	}
}

static void vcm_share_model_test(struct kunit *test)
{
	struct model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	unsigned long executed = 0;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->test = test;
	m->ta = test_alloc_start(test);
	prandom_seed_state(&m->rnd, MODEL_SEED);
	for (i = 0; i < M_CTX; i++)
		m_new_ctx(m, i);

	for (m->step = 0; executed < MODEL_OPS; m->step++) {
		if (!m_step(m))
			continue;
		executed++;
		m_check_state(m);
	}
	kunit_info(test, "seed %#x: %lu operations in %lu steps, %lu predicted errors (%lu -ENODEV), %u contexts destroyed and freed\n",
		   MODEL_SEED, executed, m->step, m->errors, m->dead_errors,
		   m->destroyed);

	/* Everything released; every context then freed when destroyed. */
	m->op = "teardown";
	for (i = 0; i < M_RES; i++) {
		struct m_res *r = &m->res[i];

		if (r->res && r->phys >= 0 && !r->made)
			m_unbind(m, r);
		while (r->res)
			m_release(m, r);
	}
	for (i = 0; i < M_PHYS; i++) {
		struct m_phys *mp = &m->phys[i];

		while (mp->vmaps--)
			KUNIT_EXPECT_EQ(test, vcm_vunmap(mp->phys, mp->vaddr), 0);
		if (mp->phys && mp->owner) {
			vcm_free(mp->phys);
			m_phys_drop(m, i, true);
		}
	}
	for (i = 0; i < M_CTX; i++) {
		while (m->ctx[i].activations--)
			vcm_deactivate(m->ctx[i].cc->vcm);
		if (!m->ctx[i].dead) {
			expect_ctr_idle(test, m->ctx[i].cc);
			ctr_destroy(m->ctx[i].cc);
		}
		KUNIT_EXPECT_EQ(test, atomic_read(&m->ctx[i].cc->cleanups), 1);
	}
	expect_no_live_pages(test, m->ta);
}

/* ---- a SysMMU device removed while masters hold reservations ---- */

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
static struct device *dma_device(struct kunit *test, const char *name)
{
	struct device *dev = kunit_device_register(test, name);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	return dev;
}

static void vcm_share_sysmmu_removal_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct device *dev = dma_device(test, "vcm-share-sysmmu");
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
	/* The pool, its range, the range caches; vcm_init()'s counts. */
	{ "vcm_mmu_init", sweep_mmu_init, sweep_mmu_destroy, 4 },
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
	/* The context, the fault and L1 tables, and vcm_mmu_init()'s four. */
	{ "vcm_sysmmu_create", sweep_sysmmu_create, sweep_sysmmu_destroy, 7 },
	{ "devm_vcm_sysmmu_create", sweep_devm_sysmmu_create,
	  sweep_devm_sysmmu_destroy, 8 },
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
	sw->dev = dma_device(test, "vcm-share-sweep");
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

static void vcm_share_failures_test(struct kunit *test)
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
