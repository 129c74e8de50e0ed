/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the vcm_share suite share: a counting backend on the
 * MMU wrapper, SysMMU contexts, threads of the concurrent tests and small
 * helpers.  The suite is one module of four files (lib/tests/Makefile):
 * vcm_share_kunit.c (sharing cases, and the suite), vcm_share_stress.c,
 * vcm_share_model.c and vcm_share_failures.c.
 *
 * The contexts are MMU-wrapper contexts of the counting backend, and
 * SysMMU contexts on a register window in RAM where the SysMMU backend is
 * built.
 */
#ifndef _VCM_SHARE_H
#define _VCM_SHARE_H

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

#include "vcm_kunit_sysmmu.h"

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

static inline struct ctr_mmu *to_ctr(struct vcm_mmu *mmu)
{
	return container_of(mmu, struct ctr_mmu, mmu);
}

static inline int ctr_map_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
			       phys_addr_t paddr, unsigned int order)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	lockdep_assert_held(&mmu->lock);
	if (ctr->detached)
		ctr->violations++;
	ctr->mapped_pages += 1L << order;
	return 0;
}

static inline void ctr_unmap_page(struct vcm_mmu *mmu, dma_addr_t vaddr,
				  phys_addr_t paddr, unsigned int order)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	lockdep_assert_held(&mmu->lock);
	ctr->mapped_pages -= 1L << order;
	if (ctr->mapped_pages < 0 || ctr->detached)
		ctr->violations++;
}

static inline int ctr_enable(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (ctr->enabled || ctr->detached)
		ctr->violations++;
	ctr->enabled = true;
	return 0;
}

static inline void ctr_disable(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (!ctr->enabled)
		ctr->violations++;
	ctr->enabled = false;
}

static inline void ctr_detach(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	if (ctr->enabled || ctr->mapped_pages || ctr->detached)
		ctr->violations++;
	ctr->detached = true;
	atomic_inc(&ctr->ctx->detaches);
}

static inline void ctr_cleanup(struct vcm_mmu *mmu)
{
	struct ctr_mmu *ctr = to_ctr(mmu);

	/* Freeing a context that still maps something is a leak. */
	WARN_ON(ctr->mapped_pages || ctr->violations);
	atomic_inc(&ctr->ctx->cleanups);
	kfree(ctr);
}

static inline void ctr_destroy_action(void *data)
{
	struct ctr_ctx *ctx = data;

	if (!ctx->destroyed)
		vcm_destroy(ctx->vcm);
}

/* Makes a counting context, or returns its error; destroyed at the end. */
static inline int ctr_try_create(struct kunit *test, struct ctr_ctx *ctx)
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

static inline struct ctr_ctx *ctr_create(struct kunit *test)
{
	struct ctr_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, ctr_try_create(test, ctx), 0);
	return ctx;
}

static inline void ctr_destroy(struct ctr_ctx *ctx)
{
	ctx->destroyed = true;
	vcm_destroy(ctx->vcm);
}

static inline struct ctr_mmu *ctx_ctr(struct ctr_ctx *ctx)
{
	return to_ctr(vcm_to_mmu(ctx->vcm));
}

/* Pages the backend maps now; the context must not be freed. */
static inline long ctr_mapped(struct ctr_ctx *ctx)
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
static inline bool pool_full(struct vcm *vcm)
{
	struct vcm_mmu *mmu = vcm_to_mmu(vcm);

	vcm_mmu_drain(mmu);
	return gen_pool_avail(mmu->pool) == gen_pool_size(mmu->pool);
}

static inline void expect_ctr_idle(struct kunit *test, struct ctr_ctx *ctx)
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
static inline struct vcm *sysmmu_make(struct kunit *test)
{
	return sysmmu_context(test, CTR_START, CTR_SIZE);
}

static inline unsigned long sysmmu_l2_tables(struct vcm *vcm)
{
	struct vcm_sysmmu_stats stats;

	if (vcm_sysmmu_stats(vcm, &stats))
		return ULONG_MAX;
	return stats.l2_tables;
}
#endif

/* ---- helpers ---- */

/* The ownerships of @res: one when they are not counted. */
static inline unsigned int res_owners(struct vcm_res *res)
{
#ifdef CONFIG_VCM_RES_REFCNT
	return refcount_read(&res->refcnt);
#else
	return 1;
#endif
}

/* The part of @phys holding byte @offset; @offset becomes the part's. */
static inline const struct vcm_phys_part *phys_part_at(const struct vcm_phys *phys,
						       resource_size_t *offset)
{
	unsigned int i;

	for (i = 0; *offset >= phys->parts[i].size; i++)
		*offset -= phys->parts[i].size;
	return &phys->parts[i];
}

static inline phys_addr_t phys_addr_at(const struct vcm_phys *phys,
				       resource_size_t offset)
{
	return phys_part_at(phys, &offset)->start + offset;
}

/* The byte at @offset of @phys, read through its page. */
static inline u8 phys_byte(const struct vcm_phys *phys, resource_size_t offset)
{
	const struct vcm_phys_part *part = phys_part_at(phys, &offset);
	u8 *p, byte;

	p = kmap_local_page(nth_page(part->page, offset >> PAGE_SHIFT));
	byte = p[offset & ~PAGE_MASK];
	kunmap_local(p);
	return byte;
}

/* ---- threads of the concurrent tests ---- */

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

static inline __printf(2, 3) void thread_fail(struct share_thread *t, const char *fmt, ...)
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
static inline void run_threads(struct kunit *test, int (*fn)(void *),
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
static inline int thread_done(struct share_thread *t)
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

void vcm_share_stress_test(struct kunit *test);
void vcm_share_model_test(struct kunit *test);
void vcm_share_failures_test(struct kunit *test);

#endif /* _VCM_SHARE_H */
