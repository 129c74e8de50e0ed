// SPDX-License-Identifier: GPL-2.0
/*
 * vcm_share: a model-based random test.
 */

#include "vcm_share.h"

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

/* Whether [@start, @start + @size) meets a live reservation of context @c. */
static bool m_overlaps(const struct model *m, int c, dma_addr_t start,
		       resource_size_t size, const struct vcm_res *except)
{
	int i;

	for (i = 0; i < M_RES; i++) {
		const struct vcm_res *res = m->res[i].res;

		if (res && res != except && m->res[i].ctx == c &&
		    res->start < start + size && start < res->start + res->res_size)
			return true;
	}
	return false;
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
	if (!want) {
		M_CHECK(m, !m_overlaps(m, c, res->start, res->res_size, NULL),
			"a range reserved twice");
		m->res[slot] = (struct m_res){ .res = res, .ctx = c, .owners = 1,
					       .phys = -1 };
	}
	return true;
}

/*
 * vcm_reserve_at() at a random place, or over a live reservation, or
 * misaligned, or across the context's end: the model predicts which.
 */
static bool m_reserve_at(struct model *m, int c)
{
	int slot = m_free_slot(m, true), want = 0;
	resource_size_t size = SZ_4K * (1 + m_rand(m, 16));
	struct m_res *live = m_live_res(m);
	unsigned int k = m_rand(m, 16);
	dma_addr_t start;
	struct vcm_res *res;

	if (slot < 0)
		return false;
	start = CTR_START + SZ_4K * m_rand(m, CTR_SIZE / SZ_4K - 16);
	if (live && live->ctx == c && k < 8)
		start = live->res->start + SZ_4K * m_rand(m, live->res->res_size / SZ_4K);
	if (k == 8)
		start += 1;
	else if (k == 9)
		start = CTR_START + CTR_SIZE - SZ_4K, size = 2 * SZ_4K;
	if (!PAGE_ALIGNED(start) || start + size > CTR_START + CTR_SIZE)
		want = -EINVAL;
	else if (m->ctx[c].dead)
		want = -ENODEV;
	else if (m_overlaps(m, c, start, size, NULL))
		want = -EBUSY;

	res = vcm_reserve_at(m->ctx[c].cc->vcm, start, size, 0);
	m_ret(m, PTR_ERR_OR_ZERO(res), want);
	if (!want) {
		M_CHECK(m, res->start == start, "reserved elsewhere");
		m->res[slot] = (struct m_res){ .res = res, .ctx = c, .owners = 1,
					       .phys = -1 };
	}
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

	switch (m_rand(m, 15)) {
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
	case 13:
		m->op = "reserve_at";
		return m_reserve_at(m, c);
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

void vcm_share_model_test(struct kunit *test)
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
