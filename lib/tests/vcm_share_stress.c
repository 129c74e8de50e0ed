// SPDX-License-Identifier: GPL-2.0
/*
 * vcm_share: a concurrency stress on two CPUs.
 */

#include "vcm_share.h"

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
	atomic_t reclaimed;		/* ranges vcm_reserve_at() took back */
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

/*
 * Whether @res overlaps another of the thread's live reservations in its
 * context: a range handed out twice.
 */
static bool stress_overlaps(struct stress_thread *s, struct vcm_res *res)
{
	unsigned int i;

	for (i = 0; i < STRESS_RES; i++) {
		struct vcm_res *o = s->res[i].res;

		if (o && o != res && o->vcm == res->vcm &&
		    o->start < res->start + res->res_size &&
		    res->start < o->start + o->res_size)
			return true;
	}
	return false;
}

/*
 * Releases @r and, if that ended it, claims its range again with
 * vcm_reserve_at(): the range is in this CPU's cache then, which the
 * claim must drain.  The other thread may have taken it meanwhile
 * (-EBUSY), or still own it through VCM_MAP_REUSE.
 */
static void stress_reclaim(struct stress_thread *s, struct stress_res *r)
{
	struct vcm *vcm = r->res->vcm;
	dma_addr_t start = r->res->start;
	resource_size_t size = r->res->res_size;
	struct vcm_res *res;
	int ret;

	stress_release(s, r);
	res = vcm_reserve_at(vcm, start, size, 0);
	ret = PTR_ERR_OR_ZERO(res);
	stress_check(s, vcm, ret == -EBUSY ? 0 : ret, 0, "vcm_reserve_at");
	if (IS_ERR(res))
		return;
	*r = (struct stress_res){ .res = res, .owners = 1 };
	atomic_inc(&s->d->reclaimed);
	if (res->start != start || stress_overlaps(s, res))
		thread_fail(s->t, "op %lu: vcm_reserve_at() gave a range in use",
			    s->t->ops);
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
		if (IS_ERR(res))
			break;
		*r = (struct stress_res){ .res = res, .owners = 1 };
		if (stress_overlaps(s, res))
			thread_fail(s->t, "op %lu: vcm_reserve() gave a range in use",
				    s->t->ops);
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
	default:	/* release, and maybe claim the range again */
		if (!r->res)
			return false;
		if (stress_rand(s, 2))
			stress_reclaim(s, r);
		else
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

void vcm_share_stress_test(struct kunit *test)
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
	kunit_info(test, "seed %#x: %lu operations on 2 CPUs, %d allocations, %d ranges claimed again with vcm_reserve_at(), %d refused with -ENODEV after one context was destroyed halfway\n",
		   STRESS_SEED, t[0].ops + t[1].ops, atomic_read(&d.allocs),
		   atomic_read(&d.reclaimed), atomic_read(&d.refused));
	KUNIT_EXPECT_GE(test, t[0].ops + t[1].ops, 100000);
	KUNIT_EXPECT_GT(test, atomic_read(&d.reclaimed), 0);

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
