// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite vcm_o2o: the one-to-one contexts (on the page allocator and
 * on CMA) and the kernel's own context (vcm_vmm_create()).
 *
 * The cases every kind of context must pass run once per kind from one
 * table (kinds[]): vcm_make_binding() and where its memory lands, memory
 * shared with an MMU-wrapper context and released in every order,
 * activation, destruction while a binding is held, debugfs, and every
 * allocation failing in turn.  Then what each kind refuses, fixed-address
 * reservations, DMA masks, CMA exhaustion, and the kernel mappings
 * themselves.
 */

#include <kunit/test.h>
#include <linux/dma-direct.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vcm-drv.h>
#include <linux/vmalloc.h>

#include "vcm_kunit.h"
#include "vcm_share.h"

/* One kind of context: how to make it, and what it is. */
struct kind {
	const char *name;
	/* Makes the context for @dev (unused by the kernel's), or an error. */
	struct vcm *(*create)(struct device *dev, const char *name);
	bool one_to_one;
	bool cma;		/* its memory does not come through the page hooks */
};

static struct vcm *create_o2o(struct device *dev, const char *name)
{
	return vcm_o2o_create(dev, name);
}

static struct vcm *create_o2o_cma(struct device *dev, const char *name)
{
	return vcm_o2o_create_cma(dev, NULL, name);
}

static struct vcm *create_vmm(struct device *dev, const char *name)
{
	return vcm_vmm_create(name);
}

static const struct kind kinds[] = {
	{ "o2o-pages", create_o2o, true, false },
	{ "o2o-cma", create_o2o_cma, true, true },
	{ "vmm", create_vmm, false, false },
};

static void kind_desc(const struct kind *kind, char *desc)
{
	strscpy(desc, kind->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(kind, kinds, kind_desc);

/* The one-to-one kinds: the first ones of kinds[]. */
static const void *o2o_kind_gen_params(const void *prev, char *desc)
{
	const struct kind *kind = prev ? (const struct kind *)prev + 1 : kinds;

	if (!kind->one_to_one)
		return NULL;
	kind_desc(kind, desc);
	return kind;
}

/* What a test keeps of its context. */
struct ctx {
	const struct kind *kind;
	struct device *dev;
	struct vcm *vcm;
	bool destroyed;
};

static void ctx_destroy_action(void *data)
{
	struct ctx *ctx = data;

	if (!ctx->destroyed)
		vcm_destroy(ctx->vcm);
}

static void ctx_destroy(struct ctx *ctx)
{
	ctx->destroyed = true;
	vcm_destroy(ctx->vcm);
}

/* The test's context of its kind, named after the test, on a 32-bit device. */
static struct ctx *ctx_make(struct kunit *test, const struct kind *kind)
{
	struct ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->kind = kind;
	ctx->dev = dma_device(test, kind->name, 32);
	ctx->vcm = kind->create(ctx->dev, test->name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ctx->vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_destroy_action, ctx), 0);
	return ctx;
}

static const struct kind *param_kind(struct kunit *test)
{
	return test->param_value;
}

/* Fills @phys with bytes from @seed on, through its pages. */
static void phys_fill(struct vcm_phys *phys, u8 seed)
{
	unsigned int i;
	unsigned long j;

	for (i = 0; i < phys->count; i++) {
		for (j = 0; j < phys->parts[i].size >> PAGE_SHIFT; j++) {
			u8 *p = kmap_local_page(nth_page(phys->parts[i].page, j));

			memset(p, seed++, PAGE_SIZE);
			kunmap_local(p);
		}
	}
}

/*
 * Checks where a binding of @phys at @res lands: a one-to-one context's
 * at the memory's bus address, of one part the device reaches; the
 * kernel's at a kernel address that reads the memory's bytes.
 */
static void expect_placed(struct kunit *test, struct ctx *ctx,
			  struct vcm_res *res, struct vcm_phys *phys)
{
	KUNIT_ASSERT_PTR_EQ(test, res->phys, phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, phys->size);
	if (ctx->kind->one_to_one) {
		phys_addr_t paddr = phys->parts[0].start;

		KUNIT_ASSERT_EQ(test, phys->count, 1);
		KUNIT_EXPECT_EQ(test, res->start, phys_to_dma(ctx->dev, paddr));
		KUNIT_EXPECT_TRUE(test, dma_capable(ctx->dev, res->start,
						    phys->size, true));
	} else {
		u8 *vaddr = (u8 *)(unsigned long)res->start;
		unsigned long i;

		phys_fill(phys, 0x5a);
		for (i = 0; i < phys->size >> PAGE_SHIFT; i++)
			KUNIT_EXPECT_EQ_MSG(test, vaddr[i * PAGE_SIZE + 7],
					    (u8)(0x5a + i), "page %lu", i);
	}
}

/* vcm_make_binding(): memory where the kind puts it, freed with the binding. */
static void kind_make_binding_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctx *ctx = ctx_make(test, param_kind(test));
	struct vcm_res *res;

	res = vcm_make_binding(ctx->vcm, 5 * PAGE_SIZE - 1, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->phys->size, 5 * PAGE_SIZE);
	expect_placed(test, ctx, res, res->phys);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), -EBUSY);
	vcm_destroy_binding(res);
	expect_no_live_pages(test, ta);
}

/* Counts the frees of memory whose @free a test wrapped. */
static void (*wrapped_free)(struct vcm_phys *phys);
static unsigned int frees;

static void counting_free(struct vcm_phys *phys)
{
	frees++;
	wrapped_free(phys);
}

/*
 * Memory of the kind's vcm_alloc(), bound in its context and in a
 * counting MMU-wrapper context, released in each of the 6 orders of
 * owner and two bindings: freed once, at the last release.
 */
static void kind_share_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctx *ctx = ctx_make(test, param_kind(test));
	struct ctr_ctx *mmu = ctr_create(test);
	unsigned int order;

	for (order = 0; order < 6; order++) {
		/* 0: owner, 1: the kind's binding, 2: the MMU's. */
		static const u8 perms[6][3] = {
			{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
			{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
		};
		struct vcm_phys *phys = alloc_phys(test, ctx->vcm, 3 * PAGE_SIZE);
		struct vcm_res *res[3] = { NULL };
		unsigned int i;

		wrapped_free = phys->free;
		phys->free = counting_free;
		frees = 0;
		res[1] = map_phys(test, ctx->vcm, phys, 0);
		res[2] = map_phys(test, mmu->vcm, phys, 0);
		expect_placed(test, ctx, res[1], phys);
		KUNIT_EXPECT_EQ(test, ctr_mapped(mmu), 0);
		for (i = 0; i < 3; i++) {
			KUNIT_EXPECT_EQ_MSG(test, frees, 0, "order %u step %u", order, i);
			if (perms[order][i])
				vcm_unmap(res[perms[order][i]]);
			else
				vcm_free(phys);
		}
		KUNIT_EXPECT_EQ_MSG(test, frees, 1, "order %u", order);
	}
	expect_ctr_idle(test, mmu);
	expect_no_live_pages(test, ta);
}

/* Activation is a no-op that counts, as in every context. */
static void kind_activate_test(struct kunit *test)
{
	struct ctx *ctx = ctx_make(test, param_kind(test));
	struct vcm_res *res;

	res = vcm_make_binding(ctx->vcm, PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(ctx->vcm), 0);
	KUNIT_EXPECT_EQ(test, ctx->vcm->activations, 2);
	vcm_deactivate(ctx->vcm);
	vcm_deactivate(ctx->vcm);
	KUNIT_EXPECT_EQ(test, ctx->vcm->activations, 0);
	/* Earlier suites may have printed this WARN_ONCE() already. */
	expect_warning(test, "");
	vcm_deactivate(ctx->vcm);
	expect_warning_end(test, 1);
	vcm_destroy_binding(res);
}

/*
 * Destroyed while a binding is held (hot removal): new work is refused,
 * the binding stays usable until released, and the last release frees
 * the context and lets go of its device.
 */
static void kind_destroy_held_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct ctx *ctx = ctx_make(test, param_kind(test));
	unsigned int dev_refs = kref_read(&ctx->dev->kobj.kref);
	struct vcm_phys *phys;
	struct vcm_res *res;

	res = vcm_make_binding(ctx->vcm, 2 * PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	ctx_destroy(ctx);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_make_binding(ctx->vcm, PAGE_SIZE, 0, 0)), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_alloc(ctx->vcm, PAGE_SIZE, 0)), -ENODEV);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, res->start + SZ_1M,
						     PAGE_SIZE, 0)), -ENODEV);
	phys = vcm_phys_get(res->phys) ? NULL : res->phys;
	KUNIT_ASSERT_NOT_NULL(test, phys);
	expect_placed(test, ctx, res, phys);
	vcm_destroy_binding(res);
	vcm_phys_put(phys);
	expect_no_live_pages(test, ta);
	if (ctx->kind->one_to_one)
		KUNIT_EXPECT_EQ(test, kref_read(&ctx->dev->kobj.kref), dev_refs - 1);
}

#if IS_ENABLED(CONFIG_DEBUG_FS)
/* The context's line in vcm/contexts, with what the kind adds. */
static void kind_debugfs_test(struct kunit *test)
{
	struct ctx *ctx = ctx_make(test, param_kind(test));
	dma_addr_t last = ctx->vcm->start + ctx->vcm->size - 1;
	char prefix[160], counts[80], o2o[80];
	struct vcm_res *res;
	const char *line;

	res = vcm_make_binding(ctx->vcm, 2 * PAGE_SIZE, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	snprintf(prefix, sizeof(prefix), "%pad-%pad %llu name=%s ", &ctx->vcm->start,
		 &last, (u64)ctx->vcm->size, test->name);
	line = debugfs_line(test, vcm_contexts_show, prefix);
	KUNIT_ASSERT_NOT_NULL_MSG(test, line, "%s", prefix);
	snprintf(counts, sizeof(counts), " reservations=1 bound=1 bound_bytes=%lu",
		 2 * PAGE_SIZE);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, counts), "%s", line);
	snprintf(o2o, sizeof(o2o), " o2o=%s device=%s", ctx->kind->cma ? "cma" : "pages",
		 dev_name(ctx->dev));
	if (ctx->kind->one_to_one)
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(line, o2o), "%s", line);
	vcm_destroy_binding(res);
}
#endif

/*
 * Every allocation of creating the context, vcm_make_binding() and
 * vcm_map() fails in turn: each gives -ENOMEM and leaves nothing behind.
 */
static void kind_failures_test(struct kunit *test)
{
	const struct kind *kind = param_kind(test);
	struct test_alloc *ta = test_alloc_start(test);
	struct device *dev = dma_device(test, "vcm-o2o-kunit", 32);
	unsigned int n, failed = 0;

	for (n = 1; n < 64; n++) {
		struct vcm_res *res = NULL, *res2 = NULL;
		struct vcm *vcm;
		int ret = 0;

		test_alloc_reset(ta);
		ta->fail_from = n;
		vcm = kind->create(dev, "vcm-o2o-failures");
		if (IS_ERR(vcm)) {
			ret = PTR_ERR(vcm);
			vcm = NULL;
		}
		if (!ret) {
			res = vcm_make_binding(vcm, 3 * PAGE_SIZE, 0, 0);
			ret = PTR_ERR_OR_ZERO(res);
		}
		/* Only the kernel's context can map the memory a second time. */
		if (!ret && !kind->one_to_one) {
			res2 = vcm_map(vcm, res->phys, 0);
			ret = PTR_ERR_OR_ZERO(res2);
		}
		ta->fail_from = 0;
		if (!IS_ERR_OR_NULL(res2))
			vcm_unmap(res2);
		if (!IS_ERR_OR_NULL(res))
			vcm_destroy_binding(res);
		if (vcm)
			vcm_destroy(vcm);
		expect_no_live_pages(test, ta);
		if (!ret)
			break;
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "allocation %u", n);
		failed++;
	}
	KUNIT_EXPECT_LT(test, n, 64);
	/* The context, its counts, the memory's structure and pages, the reservation's. */
	KUNIT_EXPECT_GE(test, failed, 5);
	kunit_info(test, "%u allocations failed in turn", failed);
}

/* ---- one-to-one contexts ---- */

/*
 * What a one-to-one context refuses: choosing addresses, scattered
 * memory, memory not at its reservation's address, and a second mapping
 * of the same memory; one part at its own address binds.
 */
static void o2o_refuses_test(struct kunit *test)
{
	struct vcm_phys *sc = scattered(test), *block = block_of(test, 2);
	struct vcm_phys *other = block_of(test, 2);
	struct ctx *ctx = ctx_make(test, param_kind(test));
	dma_addr_t addr = phys_to_dma(ctx->dev, block->parts[0].start);
	struct vcm_res *res, *mapped;

	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(ctx->vcm, PAGE_SIZE, 0)), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_map(ctx->vcm, sc, 0)), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, addr, block->size,
						     VCM_READ_ONLY)), -EOPNOTSUPP);

	res = vcm_reserve_at(ctx->vcm, addr, block->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, sc), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, other), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, block), 0);
	/* The memory is where this reservation is: no second place for it. */
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_map(ctx->vcm, block, 0)), -EBUSY);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);

	mapped = map_phys(test, ctx->vcm, block, 0);
	KUNIT_EXPECT_EQ(test, mapped->start, addr);
	vcm_unmap(mapped);
	if (IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
		/* A shared mapping is found, not reserved twice. */
		mapped = map_phys(test, ctx->vcm, block, VCM_MAP_REUSE);
		KUNIT_EXPECT_PTR_EQ(test, map_phys(test, ctx->vcm, block, VCM_MAP_REUSE),
				    mapped);
		vcm_unmap(mapped);
		vcm_unmap(mapped);
	}
	KUNIT_EXPECT_EQ(test, refcount_read(&block->users), 1);
	KUNIT_EXPECT_EQ(test, refcount_read(&sc->users), 1);
}

/*
 * vcm_reserve_at() in a one-to-one context: at its start and its end,
 * refused over a live reservation and across the end, and claimable again
 * once released.
 */
static void o2o_reserve_at_test(struct kunit *test)
{
	struct ctx *ctx = ctx_make(test, param_kind(test));
	dma_addr_t end = ctx->vcm->start + ctx->vcm->size;
	struct vcm_res *first, *last, *mid;

	first = vcm_reserve_at(ctx->vcm, 0, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, first);
	KUNIT_EXPECT_EQ(test, first->start, 0);
	last = vcm_reserve_at(ctx->vcm, end - PAGE_SIZE, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, last);
	KUNIT_EXPECT_EQ(test, last->start, end - PAGE_SIZE);
	mid = vcm_reserve_at(ctx->vcm, SZ_1M, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mid);

	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, 0, 2 * PAGE_SIZE, 0)), -EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, SZ_1M + SZ_32K, SZ_64K, 0)),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, SZ_1M - PAGE_SIZE,
						     2 * PAGE_SIZE, 0)), -EBUSY);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, end - PAGE_SIZE,
						     2 * PAGE_SIZE, 0)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, PAGE_SIZE + 1,
						     PAGE_SIZE, 0)), -EINVAL);

	vcm_unreserve(mid);
	mid = vcm_reserve_at(ctx->vcm, SZ_1M + SZ_32K, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, mid);
	vcm_unreserve(mid);
	vcm_unreserve(last);
	vcm_unreserve(first);
}

/*
 * A device that reaches no memory (a bus limit below RAM): nothing is
 * handed out and nothing stays allocated; memory past the limit is
 * refused with -ERANGE.
 */
static void o2o_dma_limit_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	const struct kind *kind = param_kind(test);
	struct device *dev = dma_device(test, "vcm-o2o-low", 32);
	struct vcm_phys *block = block_of(test, 0);
	struct vcm *vcm;

	/* Page 0 is never RAM a page allocator hands out. */
	dev->bus_dma_limit = PAGE_SIZE - 1;
	vcm = kind->create(dev, "vcm-o2o-low");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	KUNIT_EXPECT_EQ(test, vcm->size, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_alloc(vcm, PAGE_SIZE, 0)), -ENOMEM);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_make_binding(vcm, PAGE_SIZE, 0, 0)), -ENOMEM);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_map(vcm, block, 0)), -ERANGE);
	expect_no_live_pages(test, ta);
	/* The page allocator's flavour tried the DMA API's zones in turn. */
	if (!kind->cma)
		KUNIT_EXPECT_GE(test, ta->order_calls[0], 1);
}

/* A device without a DMA mask, and a NULL one, have no context. */
static void o2o_create_errors_test(struct kunit *test)
{
	struct device *dev = dma_device(test, "vcm-o2o-nomask", 32);

	dev->dma_mask = NULL;
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_o2o_create(dev, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_o2o_create_cma(dev, NULL, NULL)), -EINVAL);
	expect_warning(test, "mm/vcm-o2o.c");
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_o2o_create(NULL, NULL)), -EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_o2o_create_cma(NULL, NULL, NULL)), -EINVAL);
	expect_warning_end(test, 2);
}

/*
 * CMA exhausted: -ENOMEM, and once everything is freed the area gives as
 * much again.
 */
static void o2o_cma_exhaustion_test(struct kunit *test)
{
	struct ctx *ctx = ctx_make(test, &kinds[1]);
	struct vcm_phys **held;
	unsigned int round, n, got, first = 0;
	long err = 0;

	held = kunit_kcalloc(test, 256, sizeof(*held), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, held);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_alloc(ctx->vcm, SZ_1G, 0)), -ENOMEM);
	for (round = 0; round < 2; round++) {
		for (n = 0; n < 256; n++) {
			held[n] = vcm_alloc(ctx->vcm, SZ_1M, 0);
			if (IS_ERR(held[n])) {
				err = PTR_ERR(held[n]);
				break;
			}
		}
		KUNIT_EXPECT_EQ(test, err, -ENOMEM);
		KUNIT_EXPECT_GT(test, n, 0);
		got = n;
		while (n--)
			vcm_free(held[n]);
		if (!round)
			first = got;
		else
			KUNIT_EXPECT_EQ(test, got, first);
	}
}

/* ---- the kernel's context ---- */

/*
 * Binding makes the memory's bytes readable at the reserved kernel
 * address, page by page; unbinding unmaps every page, and the same
 * address then maps other memory, whose bytes it reads.
 */
static void vmm_bind_test(struct kunit *test)
{
	struct vcm_phys *b = scattered(test);
	struct ctx *ctx = ctx_make(test, &kinds[2]);
	struct vcm_phys *a = alloc_phys(test, ctx->vcm, SZ_64K + 3 * PAGE_SIZE);
	struct vcm_res *res;
	unsigned long i;
	u8 *vaddr;

	res = vcm_reserve(ctx->vcm, a->size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	vaddr = (u8 *)(unsigned long)res->start;
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(vaddr));
	KUNIT_ASSERT_EQ(test, vcm_bind(res, a), 0);
	expect_placed(test, ctx, res, a);
	for (i = 0; i < a->size >> PAGE_SHIFT; i++) {
		resource_size_t off = i * PAGE_SIZE;
		const struct vcm_phys_part *part = phys_part_at(a, &off);

		KUNIT_EXPECT_PTR_EQ(test, vmalloc_to_page(vaddr + i * PAGE_SIZE),
				    nth_page(part->page, off >> PAGE_SHIFT));
	}
	KUNIT_ASSERT_EQ(test, vcm_unbind(res), 0);
	for (i = 0; i < a->size >> PAGE_SHIFT; i++)
		KUNIT_EXPECT_NULL_MSG(test, vmalloc_to_page(vaddr + i * PAGE_SIZE),
				      "page %lu still mapped", i);

	KUNIT_ASSERT_EQ(test, vcm_bind(res, b), 0);
	phys_fill(b, 0x21);
	for (i = 0; i < b->size >> PAGE_SHIFT; i++)
		KUNIT_EXPECT_EQ(test, vaddr[i * PAGE_SIZE + 1], (u8)(0x21 + i));
	KUNIT_ASSERT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	vcm_free(a);
}

/* What the kernel's context refuses: memory without pages, fixed addresses. */
static void vmm_refuses_test(struct kunit *test)
{
	struct vcm_phys_part part = { .start = 0, .page = NULL, .size = PAGE_SIZE };
	struct vcm_phys *carveout = phys_make(test, &part, 1);
	struct ctx *ctx = ctx_make(test, &kinds[2]);
	struct vcm_res *res;

	KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve_at(ctx->vcm, ctx->vcm->start,
						     PAGE_SIZE, 0)), -EOPNOTSUPP);
	res = vcm_reserve(ctx->vcm, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, carveout), -EOPNOTSUPP);
	KUNIT_EXPECT_NULL(test, vmalloc_to_page((void *)(unsigned long)res->start));
	vcm_unreserve(res);
	KUNIT_EXPECT_EQ(test, refcount_read(&carveout->users), 1);
}

/*
 * A read-only reservation maps the memory without write permission where
 * the kernel has read-only kernel pages, and is refused where it has not
 * (32-bit ARM: PAGE_KERNEL_RO is PAGE_KERNEL).
 */
static void vmm_read_only_test(struct kunit *test)
{
	struct ctx *ctx = ctx_make(test, &kinds[2]);
	struct vcm_res *res;
	u8 byte;

	if (pgprot_val(PAGE_KERNEL_RO) == pgprot_val(PAGE_KERNEL)) {
		KUNIT_EXPECT_EQ(test, ctx->vcm->res_flags, 0);
		KUNIT_EXPECT_EQ(test, PTR_ERR(vcm_reserve(ctx->vcm, PAGE_SIZE, VCM_READ_ONLY)),
				-EOPNOTSUPP);
		return;
	}
	KUNIT_EXPECT_EQ(test, ctx->vcm->res_flags, VCM_READ_ONLY);
	res = vcm_make_binding(ctx->vcm, PAGE_SIZE, 0, VCM_READ_ONLY);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	expect_placed(test, ctx, res, res->phys);
	KUNIT_EXPECT_EQ(test, copy_from_kernel_nofault(&byte, (void *)(unsigned long)res->start,
						       1), 0);
	KUNIT_EXPECT_EQ(test, byte, 0x5a);
	byte = 0;
	KUNIT_EXPECT_EQ(test, copy_to_kernel_nofault((void *)(unsigned long)res->start, &byte,
						     1), -EFAULT);
	KUNIT_EXPECT_EQ(test, phys_byte(res->phys, 0), 0x5a);
	vcm_destroy_binding(res);
}

/*
 * One buffer, seen by a device without an IOMMU (at its bus address),
 * by a device behind an MMU (at a reserved address) and by the CPU (at a
 * kernel address it reserved): what one writes, the others read.
 */
static void o2o_vmm_share_test(struct kunit *test)
{
	struct ctx *o2o = ctx_make(test, &kinds[0]);
	struct ctx *vmm = ctx_make(test, &kinds[2]);
	struct ctr_ctx *mmu = ctr_create(test);
	struct vcm_phys *phys = alloc_phys(test, o2o->vcm, 4 * PAGE_SIZE);
	struct vcm_res *at_dev, *at_cpu, *at_mmu;
	u8 *cpu;

	at_dev = map_phys(test, o2o->vcm, phys, 0);
	at_cpu = map_phys(test, vmm->vcm, phys, 0);
	at_mmu = map_phys(test, mmu->vcm, phys, 0);
	cpu = (u8 *)(unsigned long)at_cpu->start;
	memset(cpu, 0xc3, phys->size);
	KUNIT_EXPECT_EQ(test, phys_byte(phys, 3 * PAGE_SIZE + 5), 0xc3);
	KUNIT_EXPECT_EQ(test, at_dev->start, phys_to_dma(o2o->dev, phys->parts[0].start));
	KUNIT_EXPECT_GE(test, at_mmu->start, CTR_START);
	vcm_free(phys);
	vcm_unmap(at_mmu);
	vcm_unmap(at_dev);
	vcm_unmap(at_cpu);
}

static struct kunit_case vcm_o2o_cases[] = {
	KUNIT_CASE_PARAM(kind_make_binding_test, kind_gen_params),
	KUNIT_CASE_PARAM(kind_share_test, kind_gen_params),
	KUNIT_CASE_PARAM(kind_activate_test, kind_gen_params),
	KUNIT_CASE_PARAM(kind_destroy_held_test, kind_gen_params),
#if IS_ENABLED(CONFIG_DEBUG_FS)
	KUNIT_CASE_PARAM(kind_debugfs_test, kind_gen_params),
#endif
	KUNIT_CASE_PARAM(kind_failures_test, kind_gen_params),
	KUNIT_CASE_PARAM(o2o_refuses_test, o2o_kind_gen_params),
	KUNIT_CASE_PARAM(o2o_reserve_at_test, o2o_kind_gen_params),
	KUNIT_CASE_PARAM(o2o_dma_limit_test, o2o_kind_gen_params),
	KUNIT_CASE(o2o_create_errors_test),
	KUNIT_CASE(o2o_cma_exhaustion_test),
	KUNIT_CASE(vmm_bind_test),
	KUNIT_CASE(vmm_refuses_test),
	KUNIT_CASE(vmm_read_only_test),
	KUNIT_CASE(o2o_vmm_share_test),
	{}
};

static struct kunit_suite vcm_o2o_suite = {
	.name = "vcm_o2o",
	.test_cases = vcm_o2o_cases,
};

kunit_test_suites(&vcm_o2o_suite);

MODULE_DESCRIPTION("KUnit tests for VCM's one-to-one and kernel contexts");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
