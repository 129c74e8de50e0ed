// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for Virtual Contiguous Memory.
 *
 * The core is tested against a fake backend defined here.  It records every
 * call it receives in order, can be told to fail or drop any operation, and
 * counts the reservations and memory it has handed out and not yet had
 * back, so that a leak or a double release shows up as a count.
 *
 * Tests that provoke a warning on purpose announce it (vcm_kunit.h).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vcm-drv.h>

#include "vcm_kunit.h"

#define CTX_START	((dma_addr_t)0x10000000)
#define CTX_SIZE	((resource_size_t)SZ_16M)
#define FAKE_PHYS_BASE	((phys_addr_t)0x80000000)

enum fake_op {
	OP_CLEANUP,
	OP_DETACH,
	OP_RES,
	OP_PHYS,
	OP_UNRESERVE,
	OP_BIND,
	OP_UNBIND,
	OP_ACTIVATE,
	OP_DEACTIVATE,
	OP_FREE,
	OP_RES_AT,
	NR_OPS
};

struct fake_call {
	enum fake_op op;
	const void *obj;	/* the reservation, memory or context */
	const void *phys;	/* for OP_BIND: the memory bound */
	resource_size_t size;	/* for OP_RES, OP_RES_AT and OP_PHYS */
};

#define FAKE_LOG_LEN	16

/* A VCM backend that records; its memory is managed by KUnit. */
struct fake_vcm {
	struct vcm vcm;
	struct vcm_driver ops;

	struct fake_call log[FAKE_LOG_LEN];
	unsigned int nr_calls;
	unsigned int calls[NR_OPS];
	int fail[NR_OPS];		/* error the operation returns, or 0 */
	bool return_null;		/* ->res and ->phys return NULL */
	bool keep_res;			/* ->unreserve records, frees nothing */
	bool destroyed;			/* ->cleanup ran */

	dma_addr_t next;		/* bump allocator for ->res */
	int live_res;
	int live_phys;

	/* For the activation race test. */
	struct completion *activate_entered;
	struct completion *activate_release;
	bool activate_finished;
};

struct fake_phys {
	struct fake_vcm *fake;
	struct vcm_phys phys;	/* followed by its one part */
};

static struct fake_vcm *to_fake(struct vcm *vcm)
{
	return container_of(vcm, struct fake_vcm, vcm);
}

static void fake_record(struct fake_vcm *fake, enum fake_op op,
			const void *obj, const void *phys, resource_size_t size)
{
	fake->calls[op]++;
	if (fake->nr_calls < FAKE_LOG_LEN)
		fake->log[fake->nr_calls] = (struct fake_call){ op, obj, phys, size };
	fake->nr_calls++;
}

static void fake_cleanup(struct vcm *vcm)
{
	fake_record(to_fake(vcm), OP_CLEANUP, vcm, NULL, 0);
	to_fake(vcm)->destroyed = true;
}

static void fake_detach(struct vcm *vcm)
{
	lockdep_assert_held(&vcm->lock);
	fake_record(to_fake(vcm), OP_DETACH, vcm, NULL, 0);
}

/*
 * Makes a reservation of @size at @addr for ->res (@op OP_RES, @addr 0:
 * at the fake's next free address) or ->res_at (OP_RES_AT: the core
 * checked the range, the fake takes it without looking).
 */
static struct vcm_res *fake_new_res(struct vcm *vcm, enum fake_op op,
				    dma_addr_t addr, resource_size_t size)
{
	struct fake_vcm *fake = to_fake(vcm);
	struct vcm_res *res;

	fake_record(fake, op, vcm, NULL, size);
	if (fake->fail[op])
		return ERR_PTR(fake->fail[op]);
	if (fake->return_null)
		return NULL;
	if (op == OP_RES) {
		if (fake->next - vcm->start > vcm->size - size)
			return ERR_PTR(-ENOSPC);
		addr = fake->next;
	}

	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return ERR_PTR(-ENOMEM);
	res->start = addr;
	if (op == OP_RES)
		fake->next += size;
	fake->live_res++;
	return res;
}

static struct vcm_res *fake_res(struct vcm *vcm, resource_size_t size,
				unsigned int flags)
{
	return fake_new_res(vcm, OP_RES, 0, size);
}

static struct vcm_res *fake_res_at(struct vcm *vcm, dma_addr_t addr,
				   resource_size_t size, unsigned int flags)
{
	return fake_new_res(vcm, OP_RES_AT, addr, size);
}

static void fake_unreserve(struct vcm_res *res)
{
	struct fake_vcm *fake = to_fake(res->vcm);

	fake_record(fake, OP_UNRESERVE, res, NULL, 0);
	/* With nothing reserved, the whole context is free again. */
	if (!--fake->live_res)
		fake->next = res->vcm->start;
	if (!fake->keep_res)
		kfree(res);
}

static void fake_phys_free(struct vcm_phys *phys)
{
	struct fake_phys *fp = container_of(phys, struct fake_phys, phys);

	fake_record(fp->fake, OP_FREE, phys, NULL, 0);
	fp->fake->live_phys--;
	kfree(fp);
}

/* Physical memory with one part and no struct page, as a carve-out has. */
static struct vcm_phys *fake_phys_make(struct fake_vcm *fake,
				       resource_size_t size)
{
	struct fake_phys *fp;

	fp = kzalloc(sizeof(*fp) + sizeof(struct vcm_phys_part), GFP_KERNEL);
	if (!fp)
		return ERR_PTR(-ENOMEM);
	fp->fake = fake;
	fp->phys.count = 1;
	fp->phys.size = size;
	vcm_phys_init(&fp->phys, fake_phys_free);
	fp->phys.parts[0].start = FAKE_PHYS_BASE;
	fp->phys.parts[0].size = size;
	fake->live_phys++;
	return &fp->phys;
}

static struct vcm_phys *fake_phys(struct vcm *vcm, resource_size_t size,
				  unsigned int flags)
{
	struct fake_vcm *fake = to_fake(vcm);

	fake_record(fake, OP_PHYS, vcm, NULL, size);
	if (fake->fail[OP_PHYS])
		return ERR_PTR(fake->fail[OP_PHYS]);
	if (fake->return_null)
		return NULL;
	return fake_phys_make(fake, size);
}

static int fake_bind(struct vcm_res *res, struct vcm_phys *phys)
{
	struct fake_vcm *fake = to_fake(res->vcm);

	fake_record(fake, OP_BIND, res, phys, 0);
	return fake->fail[OP_BIND];
}

static void fake_unbind(struct vcm_res *res)
{
	fake_record(to_fake(res->vcm), OP_UNBIND, res, NULL, 0);
}

static int fake_activate(struct vcm *vcm)
{
	struct fake_vcm *fake = to_fake(vcm);
	int err = fake->fail[OP_ACTIVATE];

	fake_record(fake, OP_ACTIVATE, vcm, NULL, 0);
	if (fake->activate_entered) {
		complete(fake->activate_entered);
		wait_for_completion(fake->activate_release);
	}
	if (err)
		return err;
	WRITE_ONCE(fake->activate_finished, true);
	return 0;
}

static void fake_deactivate(struct vcm *vcm)
{
	fake_record(to_fake(vcm), OP_DEACTIVATE, vcm, NULL, 0);
}

static const struct vcm_driver fake_driver = {
	.cleanup	= fake_cleanup,
	.detach		= fake_detach,
	.res		= fake_res,
	.res_at		= fake_res_at,
	.phys		= fake_phys,
	.unreserve	= fake_unreserve,
	.bind		= fake_bind,
	.unbind		= fake_unbind,
	.activate	= fake_activate,
	.deactivate	= fake_deactivate,
};

/* Destroys, when the test ends, a context the test left alive. */
static void fake_destroy_action(void *data)
{
	struct fake_vcm *fake = data;

	if (!fake->vcm.dead)
		vcm_destroy(&fake->vcm);
}

/*
 * A context over [CTX_START, CTX_START + CTX_SIZE) with all operations,
 * before vcm_init().  Its memory is KUnit's, freed when the test ends.
 */
static struct fake_vcm *fake_alloc(struct kunit *test)
{
	struct fake_vcm *fake;

	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->ops = fake_driver;
	fake->vcm.start = CTX_START;
	fake->vcm.size = CTX_SIZE;
	fake->vcm.driver = &fake->ops;
	fake->vcm.name = "vcm-kunit";
	fake->next = CTX_START;
	return fake;
}

/* Calls vcm_init() and has the context destroyed when the test ends. */
static struct vcm *fake_init(struct kunit *test, struct fake_vcm *fake)
{
	struct vcm *ret = vcm_init(&fake->vcm);

	if (!IS_ERR(ret))
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_destroy_action,
								fake), 0);
	return ret;
}

static struct fake_vcm *fake_create(struct kunit *test)
{
	struct fake_vcm *fake = fake_alloc(test);

	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, fake), &fake->vcm);
	return fake;
}

static void fake_forget_calls(struct fake_vcm *fake)
{
	fake->nr_calls = 0;
	memset(fake->calls, 0, sizeof(fake->calls));
}

/* Checks that the backend saw exactly @want since the last forget. */
static void expect_calls(struct kunit *test, struct fake_vcm *fake,
			 const enum fake_op *want, unsigned int n)
{
	unsigned int i;

	KUNIT_EXPECT_EQ_MSG(test, fake->nr_calls, n, "backend calls");
	KUNIT_ASSERT_LE_MSG(test, n, FAKE_LOG_LEN, "the fake logs fewer calls");
	for (i = 0; i < min(n, fake->nr_calls); i++)
		KUNIT_EXPECT_EQ_MSG(test, fake->log[i].op, want[i], "call %u", i);
	fake_forget_calls(fake);
}

#define EXPECT_CALLS(test, fake, ...)					\
	do {								\
		static const enum fake_op __want[] = { __VA_ARGS__ };	\
		expect_calls(test, fake, __want, ARRAY_SIZE(__want));	\
	} while (0)

#define EXPECT_NO_CALLS(test, fake)	expect_calls(test, fake, NULL, 0)

/* Checks that everything the backend handed out came back. */
static void expect_nothing_live(struct kunit *test, struct fake_vcm *fake)
{
	KUNIT_EXPECT_EQ(test, fake->live_res, 0);
	KUNIT_EXPECT_EQ(test, fake->live_phys, 0);
}

/* ---- vcm_init ---- */

enum init_driver { DRV_FULL, DRV_NONE, DRV_NO_UNRESERVE, DRV_BIND_ONLY,
		   DRV_ACTIVATE_ONLY, DRV_MINIMAL };

struct init_case {
	const char *desc;
	dma_addr_t start;
	resource_size_t size;
	enum init_driver driver;
	int err;
};

static const struct init_case init_cases[] = {
	{ "valid", CTX_START, CTX_SIZE, DRV_FULL, 0 },
	{ "starts at device address 0", 0, CTX_SIZE, DRV_FULL, 0 },
	{ "ends at the last device address", (dma_addr_t)-SZ_1M, SZ_1M, DRV_FULL, 0 },
	{ "only cleanup and unreserve", CTX_START, CTX_SIZE, DRV_MINIMAL, 0 },
	{ "runs past the last device address", (dma_addr_t)-SZ_1M, SZ_2M, DRV_FULL, -EINVAL },
	{ "zero size", CTX_START, 0, DRV_FULL, -EINVAL },
	{ "start not page aligned", CTX_START + 512, CTX_SIZE, DRV_FULL, -EINVAL },
	{ "size not page aligned", CTX_START, CTX_SIZE - 512, DRV_FULL, -EINVAL },
	{ "no driver", CTX_START, CTX_SIZE, DRV_NONE, -EINVAL },
	{ "driver without unreserve", CTX_START, CTX_SIZE, DRV_NO_UNRESERVE, -EINVAL },
	{ "bind without unbind", CTX_START, CTX_SIZE, DRV_BIND_ONLY, -EINVAL },
	{ "activate without deactivate", CTX_START, CTX_SIZE, DRV_ACTIVATE_ONLY, -EINVAL },
};

static void init_case_desc(const struct init_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_init, init_cases, init_case_desc);

static void vcm_init_test(struct kunit *test)
{
	const struct init_case *c = test->param_value;
	struct fake_vcm *fake;
	struct vcm *ret;

	fake = fake_alloc(test);
	switch (c->driver) {
	case DRV_FULL:
	case DRV_NONE:
		break;
	case DRV_NO_UNRESERVE:
		fake->ops.unreserve = NULL;
		break;
	case DRV_BIND_ONLY:
		fake->ops.unbind = NULL;
		break;
	case DRV_ACTIVATE_ONLY:
		fake->ops.deactivate = NULL;
		break;
	case DRV_MINIMAL:
		/* Cleanup too: this context's memory is not the core's to kfree(). */
		fake->ops = (struct vcm_driver){ .cleanup = fake_cleanup,
						 .unreserve = fake_unreserve };
		break;
	}
	fake->vcm.start = c->start;
	fake->vcm.size = c->size;
	fake->vcm.driver = c->driver == DRV_NONE ? NULL : &fake->ops;

	/* A broken driver is a backend bug and warns; a bad range does not. */
	if (c->err && c->driver != DRV_FULL)
		expect_warning(test, "");
	ret = fake_init(test, fake);
	if (c->err && c->driver != DRV_FULL)
		expect_warning_end(test, 1);
	if (c->err)
		KUNIT_EXPECT_PTR_EQ(test, ret, ERR_PTR(c->err));
	else
		KUNIT_EXPECT_PTR_EQ(test, ret, &fake->vcm);
	EXPECT_NO_CALLS(test, fake);
}

/* Every entry point, given a NULL or an error pointer, fails with -EINVAL. */
static void vcm_bad_pointers_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	void *bad[] = { NULL, ERR_PTR(-ENOMEM) };
	struct vcm_phys *phys;
	struct vcm_res *res;
	unsigned int i;

	res = vcm_reserve(&fake->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	phys = vcm_alloc(&fake->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	fake_forget_calls(fake);

	expect_warning(test, "");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_PTR_EQ(test, vcm_init(bad[i]), ERR_PTR(-EINVAL));
		KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(bad[i], SZ_4K, 0), ERR_PTR(-EINVAL));
		KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(bad[i], CTX_START, SZ_4K, 0),
				    ERR_PTR(-EINVAL));
		KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(bad[i], SZ_4K, 0), ERR_PTR(-EINVAL));
		KUNIT_EXPECT_EQ(test, vcm_bind(bad[i], phys), -EINVAL);
		KUNIT_EXPECT_EQ(test, vcm_bind(res, bad[i]), -EINVAL);
		KUNIT_EXPECT_EQ(test, vcm_unbind(bad[i]), -EINVAL);
		KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, bad[i], 0), ERR_PTR(-EINVAL));
		KUNIT_EXPECT_PTR_EQ(test, vcm_map(bad[i], phys, 0), ERR_PTR(-EINVAL));
		KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(bad[i], SZ_4K, 0, 0),
				    ERR_PTR(-EINVAL));
		KUNIT_EXPECT_EQ(test, vcm_activate(bad[i]), -EINVAL);
		if (IS_ENABLED(CONFIG_VCM_RES_REFCNT))
			KUNIT_EXPECT_EQ(test, vcm_ref_reserve(bad[i]), -EINVAL);
		vcm_unreserve(bad[i]);
		vcm_unmap(bad[i]);
		vcm_destroy_binding(bad[i]);
		vcm_free(bad[i]);
		vcm_deactivate(bad[i]);
		vcm_destroy(bad[i]);
		/* Each call warned once: 17, and vcm_ref_reserve(). */
		KUNIT_EXPECT_EQ_MSG(test, warnings_taken(),
				    17 + IS_ENABLED(CONFIG_VCM_RES_REFCNT), "pointer %u", i);
	}
	expect_warning_end(test, 0);
	EXPECT_NO_CALLS(test, fake);

	vcm_free(phys);
	vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

/* ---- reservations ---- */

static void vcm_reserve_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_res *res, *res2;

	res = vcm_reserve(&fake->vcm, 3 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, CTX_START);
	KUNIT_EXPECT_EQ(test, res->res_size, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, res->bound_size, 0);
	KUNIT_EXPECT_PTR_EQ(test, res->vcm, &fake->vcm);
	KUNIT_EXPECT_NULL(test, res->phys);
	KUNIT_EXPECT_EQ(test, fake->log[0].size, 3 * PAGE_SIZE);
	EXPECT_CALLS(test, fake, OP_RES);

	/* Sizes round up to whole pages, and the backend sees the rounding. */
	res2 = vcm_reserve(&fake->vcm, 1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res2);
	KUNIT_EXPECT_EQ(test, res2->res_size, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, fake->log[0].size, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, res2->start, CTX_START + 3 * PAGE_SIZE);
	EXPECT_CALLS(test, fake, OP_RES);

	vcm_unreserve(res);
	vcm_unreserve(res2);
	EXPECT_CALLS(test, fake, OP_UNRESERVE, OP_UNRESERVE);
	expect_nothing_live(test, fake);

	/* The whole context can be reserved. */
	res = vcm_reserve(&fake->vcm, CTX_SIZE, 0);
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, res);
	if (!IS_ERR(res))
		vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

static void vcm_reserve_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_res *res;

	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, 0, 0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, CTX_SIZE + 1, 0),
			    ERR_PTR(-ENOSPC));
	EXPECT_NO_CALLS(test, fake);

	/* Flags the backend does not honour, read-only included. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, VCM_READ_ONLY),
			    ERR_PTR(-EOPNOTSUPP));
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, BIT(3)),
			    ERR_PTR(-EOPNOTSUPP));
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, SZ_4K, 0, VCM_READ_ONLY),
			    ERR_PTR(-EOPNOTSUPP));
	EXPECT_CALLS(test, fake, OP_PHYS, OP_FREE);
	fake->vcm.res_flags = VCM_READ_ONLY | BIT(3);
	res = vcm_reserve(&fake->vcm, SZ_4K, VCM_READ_ONLY | BIT(3));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->flags, VCM_READ_ONLY | BIT(3));
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_RES, OP_UNRESERVE);

	/* The backend's own error comes back unchanged. */
	fake->fail[OP_RES] = -ENOSPC;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENOSPC));
	fake->fail[OP_RES] = -ENOMEM;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	EXPECT_CALLS(test, fake, OP_RES, OP_RES);
	fake->fail[OP_RES] = 0;

	/* A backend breaking its contract by returning NULL. */
	fake->return_null = true;
	expect_warning(test, "");
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	expect_warning_end(test, 1);
	fake->return_null = false;
	EXPECT_CALLS(test, fake, OP_RES);

	/* A backend that cannot reserve. */
	fake->ops.res = NULL;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, 0),
			    ERR_PTR(-EOPNOTSUPP));
	EXPECT_NO_CALLS(test, fake);
	expect_nothing_live(test, fake);
}

/*
 * vcm_reserve_at() reserves exactly the range asked, and the reservation
 * is like any other: filled in by the core, owned, bound, released.
 */
static void vcm_reserve_at_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;
	struct vcm_res *res;

	res = vcm_reserve_at(&fake->vcm, CTX_START + SZ_1M, 3 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, CTX_START + SZ_1M);
	KUNIT_EXPECT_EQ(test, res->res_size, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, res->bound_size, 0);
	KUNIT_EXPECT_PTR_EQ(test, res->vcm, &fake->vcm);
	KUNIT_EXPECT_NULL(test, res->phys);
	KUNIT_EXPECT_EQ(test, res->flags, 0);
	KUNIT_EXPECT_EQ(test, fake->log[0].size, 3 * PAGE_SIZE);
	EXPECT_CALLS(test, fake, OP_RES_AT);

	phys = fake_phys_make(fake, SZ_4K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, SZ_4K);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_free(phys);
	EXPECT_CALLS(test, fake, OP_BIND, OP_UNBIND, OP_FREE);

	if (IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
		/* A second owner keeps it past the first release. */
		KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
		vcm_unreserve(res);
		EXPECT_NO_CALLS(test, fake);
	} else {
		KUNIT_EXPECT_EQ(test, vcm_ref_reserve(res), -EOPNOTSUPP);
	}
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_UNRESERVE);

	/* The first and the last page, and the whole context. */
	res = vcm_reserve_at(&fake->vcm, CTX_START, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, CTX_START);
	vcm_unreserve(res);
	res = vcm_reserve_at(&fake->vcm, CTX_START + CTX_SIZE - PAGE_SIZE,
			     PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, CTX_START + CTX_SIZE - PAGE_SIZE);
	vcm_unreserve(res);
	res = vcm_reserve_at(&fake->vcm, CTX_START, CTX_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_RES_AT, OP_UNRESERVE, OP_RES_AT, OP_UNRESERVE,
		     OP_RES_AT, OP_UNRESERVE);
	expect_nothing_live(test, fake);
}

/* A range vcm_reserve_at() refuses, and the error it gets. */
static const struct reserve_at_case {
	const char *desc;
	dma_addr_t addr;
	resource_size_t size;
	int err;
} reserve_at_cases[] = {
	{ "address not page aligned", CTX_START + 512, PAGE_SIZE, -EINVAL },
	{ "size not page aligned", CTX_START, PAGE_SIZE + 512, -EINVAL },
	{ "zero size", CTX_START, 0, -EINVAL },
	{ "before the context", CTX_START - PAGE_SIZE, PAGE_SIZE, -EINVAL },
	{ "starting before the context", CTX_START - PAGE_SIZE, 2 * PAGE_SIZE, -EINVAL },
	{ "at the context's end", CTX_START + CTX_SIZE, PAGE_SIZE, -EINVAL },
	{ "across the context's end", CTX_START + CTX_SIZE - PAGE_SIZE,
	  2 * PAGE_SIZE, -EINVAL },
	{ "larger than the context", CTX_START, CTX_SIZE + PAGE_SIZE, -EINVAL },
	/* Its end, computed in dma_addr_t, wraps around to the context's start. */
	{ "past the last device address", CTX_START + PAGE_SIZE,
	  (resource_size_t)(dma_addr_t)-PAGE_SIZE, -EINVAL },
	{ "at the last device address", (dma_addr_t)-PAGE_SIZE, PAGE_SIZE, -EINVAL },
};

static void vcm_reserve_at_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test), *top;
	struct vcm_res *res;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(reserve_at_cases); i++) {
		const struct reserve_at_case *c = &reserve_at_cases[i];

		KUNIT_EXPECT_PTR_EQ_MSG(test, vcm_reserve_at(&fake->vcm, c->addr, c->size, 0),
					ERR_PTR(c->err), "%s", c->desc);
	}
	/* A flag of the core's, as vcm_reserve() refuses it. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K,
						 VCM_MAP_REUSE), ERR_PTR(-EINVAL));
	/* Flags the backend does not honour. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K,
						 VCM_READ_ONLY), ERR_PTR(-EOPNOTSUPP));
	EXPECT_NO_CALLS(test, fake);

	/* The backend's own error comes back unchanged. */
	fake->fail[OP_RES_AT] = -EBUSY;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-EBUSY));
	fake->fail[OP_RES_AT] = -ENOMEM;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-ENOMEM));
	fake->fail[OP_RES_AT] = 0;
	EXPECT_CALLS(test, fake, OP_RES_AT, OP_RES_AT);

	/* A backend breaking its contract by returning NULL. */
	fake->return_null = true;
	expect_warning(test, "");
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-ENOMEM));
	expect_warning_end(test, 1);
	fake->return_null = false;
	EXPECT_CALLS(test, fake, OP_RES_AT);

	/* A backend that cannot reserve at an address. */
	fake->ops.res_at = NULL;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-EOPNOTSUPP));
	EXPECT_NO_CALLS(test, fake);
	expect_nothing_live(test, fake);

	/*
	 * A context ending at the last device address: its last page can be
	 * reserved, a range from there on wraps around to address 0.
	 */
	top = fake_alloc(test);
	top->vcm.start = (dma_addr_t)-SZ_1M;
	top->vcm.size = SZ_1M;
	top->next = top->vcm.start;
	KUNIT_ASSERT_PTR_EQ(test, fake_init(test, top), &top->vcm);
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&top->vcm, (dma_addr_t)-PAGE_SIZE,
						 2 * PAGE_SIZE, 0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&top->vcm, top->vcm.start + PAGE_SIZE,
						 SZ_1M, 0), ERR_PTR(-EINVAL));
	EXPECT_NO_CALLS(test, top);
	res = vcm_reserve_at(&top->vcm, (dma_addr_t)-PAGE_SIZE, PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->start, (dma_addr_t)-PAGE_SIZE);
	vcm_unreserve(res);
	expect_nothing_live(test, top);
}

/*
 * A dead context refuses vcm_reserve_at() with -ENODEV, after the checks
 * of the arguments and flags and before the backend's, as vcm_reserve();
 * a reservation made by it keeps a destroyed context until its release.
 */
static void vcm_reserve_at_destroy_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_res *res;

	res = vcm_reserve_at(&fake->vcm, CTX_START + SZ_64K, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	fake_forget_calls(fake);
	vcm_destroy(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_DETACH);
	KUNIT_EXPECT_FALSE(test, fake->destroyed);

	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START + 1, SZ_4K, 0),
			    ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K,
						 VCM_READ_ONLY), ERR_PTR(-EOPNOTSUPP));
	fake->ops.res_at = NULL;
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve_at(&fake->vcm, CTX_START, SZ_4K, 0),
			    ERR_PTR(-ENODEV));
	EXPECT_NO_CALLS(test, fake);

	/* The holder's release frees the context. */
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_UNRESERVE, OP_CLEANUP);
	KUNIT_EXPECT_TRUE(test, fake->destroyed);
	expect_nothing_live(test, fake);
}

/* ---- physical memory ---- */

static void vcm_alloc_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;

	phys = vcm_alloc(&fake->vcm, 2 * PAGE_SIZE + 1, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, phys->size, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, fake->log[0].size, 3 * PAGE_SIZE);
	EXPECT_CALLS(test, fake, OP_PHYS);

	vcm_free(phys);
	EXPECT_CALLS(test, fake, OP_FREE);
	expect_nothing_live(test, fake);
}

static void vcm_alloc_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys no_free = { .count = 0 };

	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, 0, 0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, (resource_size_t)-1, 0),
			    ERR_PTR(-ENOMEM));
	EXPECT_NO_CALLS(test, fake);

	fake->fail[OP_PHYS] = -ENOMEM;
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	EXPECT_CALLS(test, fake, OP_PHYS);
	fake->fail[OP_PHYS] = 0;

	fake->return_null = true;
	expect_warning(test, "");
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENOMEM));
	/* Memory without a free operation cannot be freed: a warning only. */
	vcm_free(&no_free);
	expect_warning_end(test, 2);
	fake->return_null = false;
	EXPECT_CALLS(test, fake, OP_PHYS);

	fake->ops.phys = NULL;
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, SZ_4K, 0),
			    ERR_PTR(-EOPNOTSUPP));
	EXPECT_NO_CALLS(test, fake);
	expect_nothing_live(test, fake);
}

/* ---- binding ---- */

static void vcm_bind_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;
	struct vcm_res *res;

	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	/* Memory smaller than the reservation binds at its start. */
	phys = fake_phys_make(fake, SZ_16K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	fake_forget_calls(fake);

	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, SZ_16K);
	KUNIT_EXPECT_PTR_EQ(test, fake->log[0].obj, res);
	KUNIT_EXPECT_PTR_EQ(test, fake->log[0].phys, phys);
	EXPECT_CALLS(test, fake, OP_BIND);

	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_NULL(test, res->phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, 0);
	KUNIT_EXPECT_PTR_EQ(test, fake->log[0].obj, res);
	EXPECT_CALLS(test, fake, OP_UNBIND);

	/* Unbound, the reservation binds again. */
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	EXPECT_CALLS(test, fake, OP_BIND, OP_UNBIND);

	vcm_free(phys);
	vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

static void vcm_bind_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys, *other, *big, *empty;
	struct vcm_res *res;

	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	phys = fake_phys_make(fake, SZ_64K);
	other = fake_phys_make(fake, SZ_4K);
	big = fake_phys_make(fake, SZ_64K + PAGE_SIZE);
	empty = fake_phys_make(fake, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, big);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, empty);
	fake_forget_calls(fake);

	KUNIT_EXPECT_EQ(test, vcm_bind(res, big), -ENOSPC);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, empty), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), -EINVAL);
	EXPECT_NO_CALLS(test, fake);

	/* The backend's failure leaves the reservation unbound. */
	fake->fail[OP_BIND] = -EIO;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -EIO);
	KUNIT_EXPECT_NULL(test, res->phys);
	KUNIT_EXPECT_EQ(test, res->bound_size, 0);
	fake->fail[OP_BIND] = 0;
	EXPECT_CALLS(test, fake, OP_BIND);

	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -EALREADY);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, other), -EADDRINUSE);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	EXPECT_CALLS(test, fake, OP_BIND);

	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), -EINVAL);
	EXPECT_CALLS(test, fake, OP_UNBIND);

	/* Memory past what the hardware reaches, by one page or more. */
	fake->vcm.phys_max = FAKE_PHYS_BASE + SZ_64K - 1;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	fake->vcm.phys_max = FAKE_PHYS_BASE + SZ_64K - 2;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -ERANGE);
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, phys, 0), ERR_PTR(-ERANGE));
	fake->vcm.phys_max = FAKE_PHYS_BASE - 1;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, other), -ERANGE);
	KUNIT_EXPECT_NULL(test, res->phys);
	fake->vcm.phys_max = 0;
	EXPECT_CALLS(test, fake, OP_BIND, OP_UNBIND, OP_RES, OP_UNRESERVE);

	/* A backend without bind. */
	fake->ops.bind = NULL;
	fake->ops.unbind = NULL;
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -EOPNOTSUPP);
	EXPECT_NO_CALLS(test, fake);

	vcm_free(phys);
	vcm_free(other);
	vcm_free(big);
	vcm_free(empty);
	vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

static void vcm_map_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;
	struct vcm_res *res;

	phys = fake_phys_make(fake, 5 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);

	res = vcm_map(&fake->vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->res_size, 5 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, res->bound_size, 5 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	EXPECT_CALLS(test, fake, OP_RES, OP_BIND);

	/* Unmapping leaves the memory to its owner. */
	vcm_unmap(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE);
	KUNIT_EXPECT_EQ(test, fake->live_phys, 1);

	/* A failing bind gives the range back. */
	fake->fail[OP_BIND] = -EIO;
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, phys, 0), ERR_PTR(-EIO));
	EXPECT_CALLS(test, fake, OP_RES, OP_BIND, OP_UNRESERVE);
	fake->fail[OP_BIND] = 0;

	fake->fail[OP_RES] = -ENOSPC;
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, phys, 0), ERR_PTR(-ENOSPC));
	EXPECT_CALLS(test, fake, OP_RES);
	fake->fail[OP_RES] = 0;

	vcm_free(phys);
	expect_nothing_live(test, fake);
}

static void vcm_map_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *empty, *huge, *phys;

	empty = fake_phys_make(fake, 0);
	huge = fake_phys_make(fake, CTX_SIZE + PAGE_SIZE);
	phys = fake_phys_make(fake, SZ_64K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, empty);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, huge);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	fake_forget_calls(fake);

	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, empty, 0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, huge, 0), ERR_PTR(-ENOSPC));
	EXPECT_NO_CALLS(test, fake);

	/* A backend without bind: the reservation made first is given back. */
	fake->ops.bind = NULL;
	fake->ops.unbind = NULL;
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, phys, 0), ERR_PTR(-EOPNOTSUPP));
	EXPECT_CALLS(test, fake, OP_RES, OP_UNRESERVE);

	vcm_free(empty);
	vcm_free(huge);
	vcm_free(phys);
	expect_nothing_live(test, fake);
}

static void vcm_make_binding_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_res *res;

	res = vcm_make_binding(&fake->vcm, SZ_64K, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, res->bound_size, SZ_64K);
	KUNIT_EXPECT_NOT_NULL(test, res->phys);
	EXPECT_CALLS(test, fake, OP_PHYS, OP_RES, OP_BIND);

	vcm_destroy_binding(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE, OP_FREE);
	expect_nothing_live(test, fake);
}

/* Each step of vcm_make_binding() failing undoes the steps before it. */
static void vcm_make_binding_errors_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);

	fake->fail[OP_PHYS] = -ENOMEM;
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, SZ_64K, 0, 0),
			    ERR_PTR(-ENOMEM));
	EXPECT_CALLS(test, fake, OP_PHYS);
	fake->fail[OP_PHYS] = 0;

	fake->fail[OP_RES] = -ENOSPC;
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, SZ_64K, 0, 0),
			    ERR_PTR(-ENOSPC));
	EXPECT_CALLS(test, fake, OP_PHYS, OP_RES, OP_FREE);
	fake->fail[OP_RES] = 0;

	fake->fail[OP_BIND] = -EIO;
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, SZ_64K, 0, 0),
			    ERR_PTR(-EIO));
	EXPECT_CALLS(test, fake, OP_PHYS, OP_RES, OP_BIND, OP_UNRESERVE, OP_FREE);
	fake->fail[OP_BIND] = 0;

	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, 0, 0, 0),
			    ERR_PTR(-EINVAL));
	/* Too large for the context: refused before anything is allocated. */
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, CTX_SIZE + 1, 0, 0),
			    ERR_PTR(-ENOSPC));
	EXPECT_NO_CALLS(test, fake);
	expect_nothing_live(test, fake);
}

/* ---- ownership ---- */

static void vcm_ownership_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;
	struct vcm_res *res;

	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	fake_forget_calls(fake);

	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT)) {
		/* One owner only: the first release ends the reservation. */
		KUNIT_EXPECT_EQ(test, vcm_ref_reserve(res), -EOPNOTSUPP);
		vcm_unreserve(res);
		EXPECT_CALLS(test, fake, OP_UNRESERVE);
		expect_nothing_live(test, fake);
		return;
	}

	/* Handed to a second holder, it survives the first release. */
	KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
	vcm_unreserve(res);
	EXPECT_NO_CALLS(test, fake);
	phys = fake_phys_make(fake, SZ_64K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	EXPECT_CALLS(test, fake, OP_BIND, OP_UNBIND);

	/* The last release ends it, once. */
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_UNRESERVE);

	/* Three owners of a mapping: only the last unmap tears it down. */
	res = vcm_map(&fake->vcm, phys, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
	KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
	fake_forget_calls(fake);
	vcm_unmap(res);
	vcm_unmap(res);
	EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, phys);
	vcm_unmap(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE);
	vcm_free(phys);

	/* Two owners of a binding: the last one frees the memory too. */
	res = vcm_make_binding(&fake->vcm, SZ_64K, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
	fake_forget_calls(fake);
	vcm_destroy_binding(res);
	EXPECT_NO_CALLS(test, fake);
	vcm_destroy_binding(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE, OP_FREE);
	expect_nothing_live(test, fake);
}

/*
 * Whichever release function drops the last ownership, the reservation
 * ends the way it was made: memory allocated by vcm_make_binding() is
 * freed with it, memory the caller brought is not, and neither warns.
 */
static const struct {
	const char *name;
	void (*release)(struct vcm_res *res);
} releases[] = {
	{ "vcm_unreserve", vcm_unreserve },
	{ "vcm_unmap", vcm_unmap },
	{ "vcm_destroy_binding", vcm_destroy_binding },
};

static void vcm_release_ends_as_made_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys, *mine;
	struct vcm_res *res;
	unsigned int i;

	phys = fake_phys_make(fake, SZ_64K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	for (i = 0; i < ARRAY_SIZE(releases); i++) {
		kunit_info(test, "released by %s", releases[i].name);
		res = vcm_make_binding(&fake->vcm, SZ_64K, 0, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
		fake_forget_calls(fake);
		releases[i].release(res);
		EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE, OP_FREE);

		res = vcm_map(&fake->vcm, phys, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
		fake_forget_calls(fake);
		releases[i].release(res);
		EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE);
	}

	/* Only vcm_destroy_binding() ends what vcm_make_binding() made. */
	res = vcm_make_binding(&fake->vcm, SZ_64K, 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	mine = res->phys;
	fake_forget_calls(fake);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, res->phys, mine);
	EXPECT_NO_CALLS(test, fake);
	vcm_destroy_binding(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE, OP_FREE);

	vcm_free(phys);
	expect_nothing_live(test, fake);
}

/* Memory a driver builds itself: several parts, and malformed layouts. */
static void vcm_driver_phys_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	static const struct {
		const char *what;
		phys_addr_t start[3];
		resource_size_t size[3];
		resource_size_t total;
		int err;
	} layouts[] = {
		{ "three parts", { 0x80000000, 0x80200000, 0x80010000 },
		  { SZ_1M, SZ_64K, SZ_4K }, SZ_1M + SZ_64K + SZ_4K, 0 },
		{ "sizes do not add up", { 0x80000000, 0x80200000, 0x80010000 },
		  { SZ_1M, SZ_64K, SZ_4K }, SZ_1M + SZ_64K, -EINVAL },
		{ "part not page aligned", { 0x80000000, 0x80200800, 0x80010000 },
		  { SZ_1M, SZ_64K, SZ_4K }, SZ_1M + SZ_64K + SZ_4K, -EINVAL },
		{ "part size not page aligned", { 0x80000000, 0x80200000, 0x80010000 },
		  { SZ_1M, SZ_64K - 512, SZ_4K + 512 }, SZ_1M + SZ_64K + SZ_4K, -EINVAL },
		{ "empty part", { 0x80000000, 0x80200000, 0x80010000 },
		  { SZ_1M, 0, SZ_4K }, SZ_1M + SZ_4K, -EINVAL },
	};
	struct vcm_res *res, *mapped;
	struct vcm_phys *phys;
	unsigned int i, j;
	int ret;

	res = vcm_reserve(&fake->vcm, SZ_2M, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	phys = kunit_kzalloc(test, struct_size(phys, parts, 3), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, phys);
	vcm_phys_init(phys, NULL);
	phys->count = 3;
	fake_forget_calls(fake);

	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		for (j = 0; j < 3; j++) {
			phys->parts[j].start = layouts[i].start[j];
			phys->parts[j].size = layouts[i].size[j];
		}
		phys->size = layouts[i].total;
		ret = vcm_bind(res, phys);
		KUNIT_EXPECT_EQ_MSG(test, ret, layouts[i].err, "%s", layouts[i].what);
		if (ret) {
			/* Refused before the backend hears of it. */
			KUNIT_EXPECT_PTR_EQ_MSG(test, vcm_map(&fake->vcm, phys, 0),
						ERR_PTR(ret), "%s", layouts[i].what);
			EXPECT_NO_CALLS(test, fake);
			continue;
		}
		KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
		mapped = vcm_map(&fake->vcm, phys, 0);
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, mapped);
		if (!IS_ERR(mapped))
			vcm_unmap(mapped);
		EXPECT_CALLS(test, fake, OP_BIND, OP_UNBIND,
			     OP_RES, OP_BIND, OP_UNBIND, OP_UNRESERVE);
	}
	vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

/* A part with a page must start at the page's address. */
static void vcm_driver_phys_page_test(struct kunit *test)
{
	struct page *block = alloc_block(test, 1);
	const struct vcm_phys_part part = {
		.start = page_to_phys(block) + PAGE_SIZE,
		.page = block,
		.size = PAGE_SIZE,
	};
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys = phys_make(test, &part, 1);
	struct vcm_res *res = vcm_reserve(&fake->vcm, SZ_4K, 0);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -EINVAL);
	KUNIT_EXPECT_PTR_EQ(test, vcm_vmap(phys), ERR_PTR(-EINVAL));

	phys->parts[0].page = nth_page(block, 1);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_unreserve(res);
	expect_nothing_live(test, fake);
}

#if IS_ENABLED(CONFIG_DEBUG_FS)
/* The debugfs files print physical addresses: root's only, 0400. */
static void vcm_debugfs_mode_test(struct kunit *test)
{
	static const char *const names[] = { "contexts", "reservations" };
	struct dentry *dir = debugfs_lookup("vcm", NULL), *file;
	unsigned int i;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dir);
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		file = debugfs_lookup(names[i], dir);
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, file);
		if (IS_ERR_OR_NULL(file))
			continue;
		KUNIT_EXPECT_EQ_MSG(test, d_inode(file)->i_mode & 07777, 0400,
				    "vcm/%s", names[i]);
		dput(file);
	}
	dput(dir);
}
#else
static void vcm_debugfs_mode_test(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_DEBUG_FS");
}
#endif

/*
 * Checks threads made by kthread_create() and not woken yet.  If any
 * failed, stops the others, which then never run, and fails the test: a
 * test must not end while its threads still use its stack.
 */
static bool threads_not_created(struct kunit *test, struct task_struct **tasks,
				unsigned int n)
{
	unsigned int i;
	long err = 0;

	for (i = 0; i < n; i++)
		if (IS_ERR(tasks[i]))
			err = PTR_ERR(tasks[i]);
	if (!err)
		return false;
	for (i = 0; i < n; i++)
		if (!IS_ERR(tasks[i]))
			kthread_stop(tasks[i]);
	KUNIT_FAIL(test, "kthread_create: %ld", err);
	return true;
}

#define OWNERSHIP_ROUNDS	10000

struct owner_thread {
	struct vcm_res *res;
	int errors;
	struct completion done;
};

static int owner_fn(void *data)
{
	struct owner_thread *o = data;
	unsigned int i;

	for (i = 0; i < OWNERSHIP_ROUNDS; i++) {
		if (vcm_ref_reserve(o->res))
			o->errors++;
		vcm_unreserve(o->res);
	}
	complete(&o->done);
	return 0;
}

/*
 * Two threads on the two CPUs take and drop ownerships of a reservation
 * the test holds: it survives them all, and the test's release ends it
 * exactly once.
 */
static void vcm_ownership_concurrent_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct owner_thread owners[2];
	struct task_struct *tasks[ARRAY_SIZE(owners)];
	struct vcm_res *res;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		kunit_skip(test, "needs CONFIG_VCM_RES_REFCNT");

	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	for (i = 0; i < ARRAY_SIZE(owners); i++) {
		owners[i] = (struct owner_thread){ .res = res };
		init_completion(&owners[i].done);
		tasks[i] = kthread_create(owner_fn, &owners[i], "vcm-kunit-owner%u", i);
	}
	if (threads_not_created(test, tasks, ARRAY_SIZE(tasks))) {
		vcm_unreserve(res);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(owners); i++) {
		kthread_bind(tasks[i], i % num_online_cpus());
		wake_up_process(tasks[i]);
	}
	for (i = 0; i < ARRAY_SIZE(owners); i++) {
		wait_for_completion(&owners[i].done);
		KUNIT_EXPECT_EQ(test, owners[i].errors, 0);
	}
	KUNIT_EXPECT_EQ(test, fake->calls[OP_UNRESERVE], 0);

	vcm_unreserve(res);
	KUNIT_EXPECT_EQ(test, fake->calls[OP_UNRESERVE], 1);
	expect_nothing_live(test, fake);
}

/*
 * A reservation made by vcm_reserve() and left bound by its user is
 * unbound, with a warning, by its last release.
 */
static void vcm_unreserve_bound_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_phys *phys;
	struct vcm_res *res;

	phys = fake_phys_make(fake, SZ_64K);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	fake_forget_calls(fake);

	expect_warning(test, "still bound");
	vcm_unreserve(res);
	expect_warning_end(test, 1);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_UNRESERVE);
	KUNIT_EXPECT_EQ(test, fake->live_phys, 1);

	vcm_free(phys);
	expect_nothing_live(test, fake);
}

/* Releasing an ownership nobody holds warns and releases nothing twice. */
static void vcm_unreserve_too_often_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct vcm_res *res;

	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		kunit_skip(test, "needs CONFIG_VCM_RES_REFCNT");

	/* The fake keeps the memory, so that the extra calls touch no freed memory. */
	fake->keep_res = true;
	res = vcm_reserve(&fake->vcm, SZ_64K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	vcm_unreserve(res);
	fake_forget_calls(fake);

	expect_warning(test, "has no owner left");
	KUNIT_EXPECT_EQ(test, vcm_ref_reserve(res), -EINVAL);
	expect_warning_end(test, 1);

	/* refcount_t's own warning: the saturated count below shows it. */
	expect_warning(test, "refcount_t: underflow");
	vcm_unreserve(res);
	expect_warning_end(test, 0);
	EXPECT_NO_CALLS(test, fake);
#ifdef CONFIG_VCM_RES_REFCNT
	/* Saturated: no later release can reach zero and end it again. */
	KUNIT_EXPECT_EQ(test, refcount_read(&res->refcnt), REFCOUNT_SATURATED);
#endif
	KUNIT_EXPECT_EQ(test, fake->live_res, 0);
	kfree(res);
}

/* ---- activation ---- */

static void vcm_activate_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);

	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), 0);
	EXPECT_CALLS(test, fake, OP_ACTIVATE);
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), 0);
	EXPECT_NO_CALLS(test, fake);

	vcm_deactivate(&fake->vcm);
	EXPECT_NO_CALLS(test, fake);
	vcm_deactivate(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_DEACTIVATE);

	/* One deactivation too many: a warning, nothing else. */
	expect_warning(test, "unbalanced vcm_deactivate");
	vcm_deactivate(&fake->vcm);
	expect_warning_end(test, 1);
	EXPECT_NO_CALLS(test, fake);

	/* Still balanced: the next activation reaches the backend. */
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), 0);
	vcm_deactivate(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_ACTIVATE, OP_DEACTIVATE);
}

/*
 * A driver's fault handler gets what the backend reports, with its return
 * value passed back; it is set only while the context is inactive.
 */
static void vcm_fault_handler_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct fault_seen seen = { .ret = -EIO };

	KUNIT_EXPECT_EQ(test, vcm_report_fault(&fake->vcm, 0x1000, 0), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, vcm_set_fault_handler(&fake->vcm, record_fault, &seen), 0);
	KUNIT_EXPECT_EQ(test, vcm_report_fault(&fake->vcm, 0x12345000, VCM_FAULT_WRITE),
			-EIO);
	KUNIT_EXPECT_EQ(test, seen.calls, 1);
	KUNIT_EXPECT_PTR_EQ(test, seen.vcm, &fake->vcm);
	KUNIT_EXPECT_EQ(test, seen.addr, (dma_addr_t)0x12345000);
	KUNIT_EXPECT_EQ(test, seen.flags, VCM_FAULT_WRITE);
	seen.ret = 0;
	KUNIT_EXPECT_EQ(test, vcm_report_fault(&fake->vcm, 0x2000, 0), 0);
	KUNIT_EXPECT_EQ(test, seen.flags, 0);

	/* Active: the handler stays, and is called. */
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->vcm), 0);
	KUNIT_EXPECT_EQ(test, vcm_set_fault_handler(&fake->vcm, NULL, NULL), -EBUSY);
	KUNIT_EXPECT_EQ(test, vcm_report_fault(&fake->vcm, 0x3000, 0), 0);
	KUNIT_EXPECT_EQ(test, seen.calls, 3);
	vcm_deactivate(&fake->vcm);
	KUNIT_EXPECT_EQ(test, vcm_set_fault_handler(&fake->vcm, NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, vcm_report_fault(&fake->vcm, 0x4000, 0), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, seen.calls, 3);
	EXPECT_CALLS(test, fake, OP_ACTIVATE, OP_DEACTIVATE);

	expect_warning(test, "vcm_set_fault_handler");
	KUNIT_EXPECT_EQ(test, vcm_set_fault_handler(NULL, record_fault, &seen), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_set_fault_handler(ERR_PTR(-ENOMEM), record_fault, &seen),
			-EINVAL);
	expect_warning_end(test, 2);
}

static void vcm_activate_fails_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);

	fake->fail[OP_ACTIVATE] = -EIO;
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), -EIO);
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), -EIO);
	KUNIT_EXPECT_EQ(test, fake->vcm.activations, 0);
	EXPECT_CALLS(test, fake, OP_ACTIVATE, OP_ACTIVATE);

	/* The count did not move: the next success is the first activation. */
	fake->fail[OP_ACTIVATE] = 0;
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), 0);
	vcm_deactivate(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_ACTIVATE, OP_DEACTIVATE);
}

static void vcm_activate_optional_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);

	fake->ops.activate = NULL;
	fake->ops.deactivate = NULL;
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), 0);
	KUNIT_EXPECT_EQ(test, fake->vcm.activations, 1);
	vcm_deactivate(&fake->vcm);
	KUNIT_EXPECT_EQ(test, fake->vcm.activations, 0);
	EXPECT_NO_CALLS(test, fake);
}

struct activator {
	struct vcm *vcm;
	struct fake_vcm *fake;
	bool started;
	int ret;
	bool saw_finished;
	struct completion done;
};

static int activator_fn(void *data)
{
	struct activator *a = data;

	WRITE_ONCE(a->started, true);
	a->ret = vcm_activate(a->vcm);
	a->saw_finished = READ_ONCE(a->fake->activate_finished);
	complete(&a->done);
	return 0;
}

/*
 * A second vcm_activate() while the backend is still activating for the
 * first must wait for it: returning 0 means the hardware is on.  When the
 * first activation fails, the second makes its own.
 */
static void vcm_activate_race_test(struct kunit *test, int first_error)
{
	struct fake_vcm *fake = fake_create(test);
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(release);
	struct activator first = { .vcm = &fake->vcm, .fake = fake };
	struct activator second = { .vcm = &fake->vcm, .fake = fake };
	struct task_struct *tasks[2];

	init_completion(&first.done);
	init_completion(&second.done);
	fake->activate_entered = &entered;
	fake->activate_release = &release;
	fake->fail[OP_ACTIVATE] = first_error;

	tasks[0] = kthread_create(activator_fn, &first, "vcm-kunit-activate1");
	tasks[1] = kthread_create(activator_fn, &second, "vcm-kunit-activate2");
	if (threads_not_created(test, tasks, ARRAY_SIZE(tasks)))
		return;
	/* The second thread's state is read below, maybe after it exited. */
	get_task_struct(tasks[1]);

	wake_up_process(tasks[0]);
	wait_for_completion(&entered);
	/* Only the first call is held inside the backend, and may fail. */
	fake->activate_entered = NULL;
	fake->fail[OP_ACTIVATE] = 0;

	wake_up_process(tasks[1]);
	/*
	 * Wait until the second caller has either returned or gone to sleep
	 * inside vcm_activate(); no timing is involved.  It must be asleep:
	 * the backend has not finished activating.
	 */
	while (!completion_done(&second.done) &&
	       !(READ_ONCE(second.started) &&
		 (READ_ONCE(tasks[1]->__state) & TASK_UNINTERRUPTIBLE)))
		usleep_range(1000, 2000);
	KUNIT_EXPECT_FALSE(test, completion_done(&second.done));

	complete(&release);
	wait_for_completion(&first.done);
	wait_for_completion(&second.done);
	put_task_struct(tasks[1]);

	KUNIT_EXPECT_EQ(test, first.ret, first_error);
	KUNIT_EXPECT_EQ(test, second.ret, 0);
	KUNIT_EXPECT_TRUE(test, second.saw_finished);
	KUNIT_EXPECT_EQ(test, fake->calls[OP_ACTIVATE], first_error ? 2 : 1);
	KUNIT_EXPECT_EQ(test, fake->vcm.activations, first_error ? 1 : 2);

	while (fake->vcm.activations)
		vcm_deactivate(&fake->vcm);
	KUNIT_EXPECT_EQ(test, fake->calls[OP_DEACTIVATE], 1);
}

static void vcm_activate_waits_test(struct kunit *test)
{
	vcm_activate_race_test(test, 0);
}

static void vcm_activate_waits_for_failure_test(struct kunit *test)
{
	vcm_activate_race_test(test, -EIO);
}

/* ---- destruction ---- */

static void vcm_destroy_test(struct kunit *test)
{
	struct fake_vcm *fake = fake_create(test);
	struct fake_vcm *plain;

	struct vcm_phys *phys;
	struct vcm_res *res;

	vcm_destroy(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_DETACH, OP_CLEANUP);

	/*
	 * An active context is deactivated, and detached; its memory stays
	 * until the activation is balanced, which only drops the count.
	 */
	fake = fake_create(test);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->vcm), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(&fake->vcm), 0);
	fake_forget_calls(fake);
	vcm_destroy(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_DEACTIVATE, OP_DETACH);
	KUNIT_EXPECT_EQ(test, vcm_activate(&fake->vcm), -ENODEV);
	KUNIT_EXPECT_PTR_EQ(test, vcm_reserve(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_alloc(&fake->vcm, SZ_4K, 0), ERR_PTR(-ENODEV));
	KUNIT_EXPECT_PTR_EQ(test, vcm_make_binding(&fake->vcm, SZ_4K, 0, 0),
			    ERR_PTR(-ENODEV));
	EXPECT_NO_CALLS(test, fake);
	vcm_deactivate(&fake->vcm);
	EXPECT_NO_CALLS(test, fake);
	vcm_deactivate(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_CLEANUP);

	/*
	 * A reservation keeps a destroyed context: it can still be unbound
	 * and released, and a second vcm_destroy() only warns.
	 */
	fake = fake_create(test);
	res = vcm_reserve(&fake->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	phys = vcm_alloc(&fake->vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	fake_forget_calls(fake);
	vcm_destroy(&fake->vcm);
	EXPECT_CALLS(test, fake, OP_DETACH);
	KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), -ENODEV);
	KUNIT_EXPECT_PTR_EQ(test, vcm_map(&fake->vcm, phys, 0), ERR_PTR(-ENODEV));
	expect_warning(test, "destroying a destroyed context");
	vcm_destroy(&fake->vcm);
	expect_warning_end(test, 1);
	EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
	vcm_free(phys);
	vcm_unreserve(res);
	EXPECT_CALLS(test, fake, OP_UNBIND, OP_FREE, OP_UNRESERVE, OP_CLEANUP);
	expect_nothing_live(test, fake);

	/* Without ->cleanup the core kfree()s the context (KASAN checks). */
	plain = kzalloc(sizeof(*plain), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, plain);
	plain->ops = fake_driver;
	plain->ops.cleanup = NULL;
	plain->vcm.start = CTX_START;
	plain->vcm.size = CTX_SIZE;
	plain->vcm.driver = &plain->ops;
	KUNIT_ASSERT_PTR_EQ(test, vcm_init(&plain->vcm), &plain->vcm);
	vcm_destroy(&plain->vcm);
}

static struct kunit_case vcm_core_cases[] = {
	KUNIT_CASE_PARAM(vcm_init_test, vcm_init_gen_params),
	KUNIT_CASE(vcm_bad_pointers_test),
	KUNIT_CASE(vcm_reserve_test),
	KUNIT_CASE(vcm_reserve_errors_test),
	KUNIT_CASE(vcm_reserve_at_test),
	KUNIT_CASE(vcm_reserve_at_errors_test),
	KUNIT_CASE(vcm_reserve_at_destroy_test),
	KUNIT_CASE(vcm_alloc_test),
	KUNIT_CASE(vcm_alloc_errors_test),
	KUNIT_CASE(vcm_bind_test),
	KUNIT_CASE(vcm_bind_errors_test),
	KUNIT_CASE(vcm_map_test),
	KUNIT_CASE(vcm_map_errors_test),
	KUNIT_CASE(vcm_make_binding_test),
	KUNIT_CASE(vcm_make_binding_errors_test),
	KUNIT_CASE(vcm_ownership_test),
	KUNIT_CASE(vcm_ownership_concurrent_test),
	KUNIT_CASE(vcm_release_ends_as_made_test),
	KUNIT_CASE(vcm_driver_phys_test),
	KUNIT_CASE(vcm_driver_phys_page_test),
	KUNIT_CASE(vcm_debugfs_mode_test),
	KUNIT_CASE(vcm_unreserve_bound_test),
	KUNIT_CASE(vcm_activate_test),
	KUNIT_CASE(vcm_activate_fails_test),
	KUNIT_CASE(vcm_fault_handler_test),
	KUNIT_CASE(vcm_activate_optional_test),
	KUNIT_CASE(vcm_activate_waits_test),
	KUNIT_CASE(vcm_activate_waits_for_failure_test),
	KUNIT_CASE(vcm_destroy_test),
	/* Last: it uses up refcount_t's one underflow warning of the boot. */
	KUNIT_CASE(vcm_unreserve_too_often_test),
	{}
};

static struct kunit_suite vcm_core_suite = {
	.name = "vcm_core",
	.test_cases = vcm_core_cases,
};

kunit_test_suites(&vcm_core_suite);

MODULE_DESCRIPTION("KUnit tests for Virtual Contiguous Memory");
MODULE_LICENSE("GPL");
