// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the VCM physical allocator and phys walk (mm/vcm-phys.c).
 *
 * The walk is checked against tables of exact (device address, physical
 * address, order) sequences, and against the definition of the division
 * on pseudo-random layouts.  The allocator runs on the real page
 * allocator, with VCM's allocation hooks redirected so that every block is
 * tracked until it is returned and any allocation can be made to fail.
 */

#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/prandom.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vcm-drv.h>

#include "vcm_kunit.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define V	((dma_addr_t)0x10000000)
#define P	((phys_addr_t)0x40000000)

/* How vcm_phys_alloc() asks for memory: zeroed, highmem allowed. */
#define VCM_TEST_GFP	(GFP_KERNEL | __GFP_HIGHMEM | __GFP_ZERO)

static const unsigned char orders_8_4_0[] = { 8, 4, 0 };
static const unsigned char orders_4_0[] = { 4, 0 };
static const unsigned char orders_0[] = { 0 };

/* ---- vcm_phys_walk ---- */

struct walk_page {
	dma_addr_t vaddr;
	phys_addr_t paddr;
	unsigned int order;
};

/*
 * What the walk's callbacks saw, page by page; a walk in runs records
 * each run's pages, and where each run starts in @pages.
 */
struct walk_log {
	struct walk_page *pages;	/* callback calls, the failing one too */
	struct walk_page *undone;	/* recovery calls */
	unsigned int *run_first;	/* the index in @pages of each run */
	unsigned int nr_pages;
	unsigned int nr_undone;
	unsigned int nr_runs;
	unsigned int max;
	int fail_at;			/* the call that fails (page or run), or -1 */
	bool overflow;
};

static void walk_log_add(struct walk_log *log, struct walk_page *pages,
			 unsigned int *nr, dma_addr_t vaddr, phys_addr_t paddr,
			 unsigned int order)
{
	if (*nr >= log->max) {
		log->overflow = true;
		return;
	}
	pages[(*nr)++] = (struct walk_page){ vaddr, paddr, order };
}

static int walk_record(dma_addr_t vaddr, phys_addr_t paddr,
		       unsigned int order, void *priv)
{
	struct walk_log *log = priv;
	unsigned int n = log->nr_pages;

	walk_log_add(log, log->pages, &log->nr_pages, vaddr, paddr, order);
	return n == log->fail_at ? -EFAULT : 0;
}

static int walk_undo(dma_addr_t vaddr, phys_addr_t paddr, unsigned int order,
		     void *priv)
{
	struct walk_log *log = priv;

	walk_log_add(log, log->undone, &log->nr_undone, vaddr, paddr, order);
	return 0;
}

/* A run's pages, in @log's @pages or, undoing, newest first in @undone. */
static void run_log_add(struct walk_log *log, bool undo, dma_addr_t vaddr,
			phys_addr_t paddr, unsigned int order, unsigned long count)
{
	resource_size_t size = (resource_size_t)PAGE_SIZE << order;
	unsigned long i;

	for (i = 0; i < count; i++) {
		unsigned long page = undo ? count - 1 - i : i;

		walk_log_add(log, undo ? log->undone : log->pages,
			     undo ? &log->nr_undone : &log->nr_pages,
			     vaddr + page * size, paddr + page * size, order);
	}
}

static int run_record(dma_addr_t vaddr, phys_addr_t paddr, unsigned int order,
		      unsigned long count, void *priv)
{
	struct walk_log *log = priv;
	unsigned int n = log->nr_runs;

	if (n >= log->max) {
		log->overflow = true;
		return -E2BIG;
	}
	log->run_first[log->nr_runs++] = log->nr_pages;
	run_log_add(log, false, vaddr, paddr, order, count);
	return n == log->fail_at ? -EFAULT : 0;
}

static int run_undo(dma_addr_t vaddr, phys_addr_t paddr, unsigned int order,
		    unsigned long count, void *priv)
{
	run_log_add(priv, true, vaddr, paddr, order, count);
	return 0;
}

static struct walk_log *walk_log_alloc(struct kunit *test, unsigned int max,
				       int fail_at)
{
	struct walk_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, log);
	log->pages = kunit_kcalloc(test, max, sizeof(*log->pages), GFP_KERNEL);
	log->undone = kunit_kcalloc(test, max, sizeof(*log->undone), GFP_KERNEL);
	log->run_first = kunit_kcalloc(test, max, sizeof(*log->run_first), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, log->pages);
	KUNIT_ASSERT_NOT_NULL(test, log->undone);
	KUNIT_ASSERT_NOT_NULL(test, log->run_first);
	log->max = max;
	log->fail_at = fail_at;
	return log;
}

static void expect_page(struct kunit *test, const struct walk_page *got,
			const struct walk_page *want, const char *what,
			unsigned int i)
{
	KUNIT_EXPECT_EQ_MSG(test, got->vaddr, want->vaddr, "%s %u: vaddr", what, i);
	KUNIT_EXPECT_EQ_MSG(test, got->paddr, want->paddr, "%s %u: paddr", what, i);
	KUNIT_EXPECT_EQ_MSG(test, got->order, want->order, "%s %u: order", what, i);
}

/* @n pages of one order, each following the last at both addresses. */
struct walk_run {
	dma_addr_t vaddr;
	phys_addr_t paddr;
	unsigned int order;
	unsigned int n;
};

#define WALK_MAX_PARTS	3
#define WALK_MAX_RUNS	4

struct walk_case {
	const char *desc;
	dma_addr_t vaddr;
	const unsigned char *orders;
	struct vcm_phys_part parts[WALK_MAX_PARTS];	/* ends at size 0 */
	struct walk_run runs[WALK_MAX_RUNS];		/* ends at n 0 */
	int fail_at;
};

#define PART(s, n)			{ .start = (s), .size = (n) }
#define RUN(vaddr, paddr, order, n)	{ (vaddr), (paddr), (order), (n) }

/* Used by several cases, with and without a failure. */
#define PARTS_3M_64K_4K	{ PART(P, SZ_1M * 3 + SZ_64K + SZ_4K) }
#define RUNS_3M_64K_4K	{ RUN(V, P, 8, 3),					\
			  RUN(V + SZ_1M * 3, P + SZ_1M * 3, 4, 1),		\
			  RUN(V + SZ_1M * 3 + SZ_64K, P + SZ_1M * 3 + SZ_64K, 0, 1) }
#define PARTS_TWO_1M	{ PART(P, SZ_2M), PART(P + SZ_1M * 3, SZ_1M) }
#define RUNS_TWO_1M	{ RUN(V, P, 8, 2), RUN(V + SZ_2M, P + SZ_1M * 3, 8, 1) }
#define PARTS_64K_1M	{ PART(P, SZ_64K), PART(P + SZ_1M, SZ_1M) }
#define RUNS_64K_1M	{ RUN(V, P, 4, 1), RUN(V + SZ_64K, P + SZ_1M, 4, 16) }
#define PARTS_MID	{ PART(P + SZ_1M - SZ_64K, SZ_1M + SZ_128K) }
#define RUNS_MID	{ RUN(V + SZ_1M - SZ_64K, P + SZ_1M - SZ_64K, 4, 1),	\
			  RUN(V + SZ_1M, P + SZ_1M, 8, 1),			\
			  RUN(V + SZ_2M, P + SZ_2M, 4, 1) }

static const struct walk_case walk_cases[] = {
	{ "1 MiB-aligned parts give 1 MiB pages", V, orders_8_4_0,
	  PARTS_TWO_1M, RUNS_TWO_1M, -1 },
	{ "a part of 3 MiB + 64 KiB + 4 KiB", V, orders_8_4_0,
	  PARTS_3M_64K_4K, RUNS_3M_64K_4K, -1 },
	{ "device address 64 KiB aligned, physical 1 MiB", V + SZ_64K, orders_8_4_0,
	  { PART(P, SZ_1M) }, { RUN(V + SZ_64K, P, 4, 16) }, -1 },
	{ "device and physical addresses 4 KiB apart", V + SZ_4K, orders_8_4_0,
	  { PART(P, SZ_64K) }, { RUN(V + SZ_4K, P, 0, 16) }, -1 },
	{ "physical address 4 KiB aligned only", V, orders_8_4_0,
	  { PART(P + SZ_4K, SZ_64K + SZ_4K) }, { RUN(V, P + SZ_4K, 0, 17) }, -1 },
	{ "1 MiB alignment reached inside a part", V + SZ_1M - SZ_64K, orders_8_4_0,
	  PARTS_MID, RUNS_MID, -1 },
	{ "each part continues the device addresses", V, orders_8_4_0,
	  PARTS_64K_1M, RUNS_64K_1M, -1 },
	{ "no page above the largest order", V, orders_8_4_0,
	  { PART(P, SZ_4M) }, { RUN(V, P, 8, 4) }, -1 },
	{ "orders 4, 0", V, orders_4_0,
	  { PART(P, SZ_1M + SZ_4K) }, { RUN(V, P, 4, 16), RUN(V + SZ_1M, P + SZ_1M, 0, 1) }, -1 },
	{ "orders 0", V, orders_0,
	  { PART(P, SZ_16K) }, { RUN(V, P, 0, 4) }, -1 },
	{ "the last device address", (dma_addr_t)-SZ_64K, orders_8_4_0,
	  { PART(P, SZ_64K) }, { RUN((dma_addr_t)-SZ_64K, P, 4, 1) }, -1 },
	{ "failure at the first page", V, orders_8_4_0,
	  PARTS_3M_64K_4K, RUNS_3M_64K_4K, 0 },
	{ "failure at a middle page", V, orders_8_4_0,
	  PARTS_3M_64K_4K, RUNS_3M_64K_4K, 2 },
	{ "failure at the last page", V, orders_8_4_0,
	  PARTS_3M_64K_4K, RUNS_3M_64K_4K, 4 },
	{ "failure at the first page of the second part", V, orders_8_4_0,
	  PARTS_TWO_1M, RUNS_TWO_1M, 2 },
	{ "failure at the last page of the second part", V, orders_8_4_0,
	  PARTS_64K_1M, RUNS_64K_1M, 16 },
	{ "failure at the last page, mixed sizes", V + SZ_1M - SZ_64K, orders_8_4_0,
	  PARTS_MID, RUNS_MID, 2 },
};

static void walk_case_desc(const struct walk_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vcm_phys_walk, walk_cases, walk_case_desc);

/* The walk gives exactly the pages of the table, and undoes them exactly. */
static void vcm_phys_walk_test(struct kunit *test)
{
	const struct walk_case *c = test->param_value;
	const unsigned int max = 64;
	struct walk_page *want;
	struct vcm_phys *phys;
	struct walk_log *log;
	unsigned int nr_parts, n = 0, i, j;
	int ret;

	want = kunit_kcalloc(test, max, sizeof(*want), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);

	for (nr_parts = 0; nr_parts < WALK_MAX_PARTS && c->parts[nr_parts].size; nr_parts++)
		;
	phys = phys_make(test, c->parts, nr_parts);
	for (i = 0; i < WALK_MAX_RUNS && c->runs[i].n; i++) {
		const struct walk_run *run = &c->runs[i];
		resource_size_t size = (resource_size_t)PAGE_SIZE << run->order;

		for (j = 0; j < run->n; j++) {
			KUNIT_ASSERT_LT(test, n, max);
			want[n++] = (struct walk_page){ run->vaddr + j * size,
							run->paddr + j * size,
							run->order };
		}
	}

	log = walk_log_alloc(test, max, c->fail_at);
	ret = vcm_phys_walk(c->vaddr, phys, c->orders, walk_record, walk_undo, log);
	KUNIT_ASSERT_FALSE(test, log->overflow);

	if (c->fail_at < 0) {
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_ASSERT_EQ(test, log->nr_pages, n);
		KUNIT_EXPECT_EQ(test, log->nr_undone, 0);
	} else {
		/* The pages before the failure, and it; then those undone. */
		KUNIT_EXPECT_EQ(test, ret, -EFAULT);
		KUNIT_ASSERT_EQ(test, log->nr_pages, c->fail_at + 1);
		KUNIT_ASSERT_EQ(test, log->nr_undone, c->fail_at);
		for (i = 0; i < log->nr_undone; i++)
			expect_page(test, &log->undone[i], &want[c->fail_at - 1 - i],
				    "undone", i);
	}
	for (i = 0; i < log->nr_pages; i++)
		expect_page(test, &log->pages[i], &want[i], "page", i);
	if (c->fail_at >= 0)
		return;

	/* In runs: the table's runs, each whole (they are the longest). */
	log = walk_log_alloc(test, max, -1);
	KUNIT_ASSERT_EQ(test, vcm_phys_walk_runs(c->vaddr, phys, c->orders,
						 run_record, run_undo, log), 0);
	KUNIT_ASSERT_FALSE(test, log->overflow);
	KUNIT_ASSERT_EQ(test, log->nr_pages, n);
	for (i = 0, j = 0; i < WALK_MAX_RUNS && c->runs[i].n; j += c->runs[i++].n)
		KUNIT_EXPECT_EQ_MSG(test, i < log->nr_runs ? log->run_first[i] : ~0U, j,
				    "run %u", i);
	KUNIT_EXPECT_EQ(test, log->nr_runs, i);
	for (i = 0; i < log->nr_pages; i++)
		expect_page(test, &log->pages[i], &want[i], "page in a run", i);
	KUNIT_EXPECT_EQ(test, log->nr_undone, 0);
}

/* Without a recovery callback a failure only returns its error. */
static void vcm_phys_walk_no_recovery_test(struct kunit *test)
{
	static const struct vcm_phys_part parts[] = PARTS_3M_64K_4K;
	struct vcm_phys *phys = phys_make(test, parts, ARRAY_SIZE(parts));
	struct walk_log *log = walk_log_alloc(test, 8, 3);

	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, phys, orders_8_4_0, walk_record,
					    NULL, log), -EFAULT);
	KUNIT_EXPECT_EQ(test, log->nr_pages, 4);
	KUNIT_EXPECT_EQ(test, log->nr_undone, 0);
}

#define FUZZ_ROUNDS	200
#define FUZZ_MAX_PAGES	(WALK_MAX_PARTS * 600)

/*
 * Whether @p is the page the definition gives at @vaddr and @paddr with
 * @left bytes left in the part: there, and the largest order that fits
 * and to which both addresses are aligned.
 */
static bool walk_page_right(const struct walk_page *p, dma_addr_t vaddr,
			    phys_addr_t paddr, resource_size_t left)
{
	resource_size_t size = (resource_size_t)PAGE_SIZE << p->order;
	const unsigned char *o;

	if (p->vaddr != vaddr || p->paddr != paddr || size > left ||
	    !IS_ALIGNED(vaddr, size) || !IS_ALIGNED(paddr, size))
		return false;
	for (o = orders_8_4_0; *o > p->order; o++) {
		resource_size_t bigger = (resource_size_t)PAGE_SIZE << *o;

		if (bigger <= left && IS_ALIGNED(vaddr, bigger) &&
		    IS_ALIGNED(paddr, bigger))
			return false;
	}
	return *o == p->order;
}

static bool walk_page_eq(const struct walk_page *a, const struct walk_page *b)
{
	return a->vaddr == b->vaddr && a->paddr == b->paddr && a->order == b->order;
}

/* Checks a walk of @phys at @vaddr against the definition. */
static void expect_walk_right(struct kunit *test, const struct walk_log *log,
			      dma_addr_t vaddr, const struct vcm_phys *phys,
			      unsigned int round)
{
	unsigned int i, k = 0;

	for (i = 0; i < phys->count; i++) {
		phys_addr_t paddr = phys->parts[i].start;
		resource_size_t left = phys->parts[i].size;

		while (left) {
			const struct walk_page *p;
			resource_size_t size;

			KUNIT_ASSERT_LT(test, k, log->nr_pages);
			p = &log->pages[k];
			size = (resource_size_t)PAGE_SIZE << p->order;
			KUNIT_ASSERT_TRUE_MSG(test, walk_page_right(p, vaddr, paddr, left),
					      "round %u page %u", round, k);
			k++;
			vaddr += size;
			paddr += size;
			left -= size;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, k, log->nr_pages, "round %u", round);
}

/*
 * A pseudo-random layout of the fuzz tests: 1 to WALK_MAX_PARTS parts of
 * up to 600 pages, anywhere in 16 MiB from P, bound at a page of the 2 MiB
 * from V, returned in @vaddr.
 */
static struct vcm_phys *random_layout(struct kunit *test, struct rnd_state *rnd,
				      dma_addr_t *vaddr)
{
	unsigned int nr = 1 + prandom_u32_state(rnd) % WALK_MAX_PARTS, i;
	struct vcm_phys_part parts[WALK_MAX_PARTS] = {};

	*vaddr = V + (prandom_u32_state(rnd) % 512) * PAGE_SIZE;
	for (i = 0; i < nr; i++) {
		parts[i].start = P + (phys_addr_t)(prandom_u32_state(rnd) % 4096) *
				     PAGE_SIZE;
		parts[i].size = (1 + prandom_u32_state(rnd) % 600) * PAGE_SIZE;
	}
	return phys_make(test, parts, nr);
}

/*
 * On pseudo-random layouts, the walk gives the pages the definition says
 * (contiguous, each the largest order left in its part to which both
 * addresses are aligned), and a failure at any page undoes exactly the
 * pages before it, newest first.
 */
static void vcm_phys_walk_random_test(struct kunit *test)
{
	struct walk_log *all = walk_log_alloc(test, FUZZ_MAX_PAGES, -1);
	struct walk_log *log = walk_log_alloc(test, FUZZ_MAX_PAGES, -1);
	struct rnd_state rnd;
	unsigned int round;

	prandom_seed_state(&rnd, 0x5c3);
	for (round = 0; round < FUZZ_ROUNDS; round++) {
		dma_addr_t vaddr;
		struct vcm_phys *phys = random_layout(test, &rnd, &vaddr);
		unsigned int i;

		all->nr_pages = 0;
		KUNIT_ASSERT_EQ(test, vcm_phys_walk(vaddr, phys, orders_8_4_0,
						    walk_record, walk_undo, all), 0);
		KUNIT_ASSERT_FALSE(test, all->overflow);
		expect_walk_right(test, all, vaddr, phys, round);

		/* Fail at a random page: those before it are undone in reverse. */
		log->nr_pages = 0;
		log->nr_undone = 0;
		log->fail_at = prandom_u32_state(&rnd) % all->nr_pages;
		KUNIT_ASSERT_EQ(test, vcm_phys_walk(vaddr, phys, orders_8_4_0,
						    walk_record, walk_undo, log), -EFAULT);
		KUNIT_ASSERT_EQ(test, log->nr_undone, log->fail_at);
		for (i = 0; i < log->nr_undone; i++)
			KUNIT_ASSERT_TRUE_MSG(test, walk_page_eq(&log->undone[i],
								 &all->pages[log->fail_at - 1 - i]),
					      "round %u undone %u", round, i);
	}
}

/*
 * Whether the runs of @log are as long as they can be: between two runs
 * the order changes, the addresses jump, or a part ends.
 */
static bool runs_longest(const struct walk_log *log, const struct vcm_phys *phys,
			 dma_addr_t vaddr)
{
	dma_addr_t part_end = vaddr;
	unsigned int r, i = 0;

	for (r = 1; r < log->nr_runs; r++) {
		const struct walk_page *a = &log->pages[log->run_first[r] - 1];
		const struct walk_page *b = &log->pages[log->run_first[r]];
		resource_size_t size = (resource_size_t)PAGE_SIZE << a->order;

		while (i < phys->count && part_end <= a->vaddr)
			part_end += phys->parts[i++].size;
		if (b->vaddr != part_end && a->order == b->order &&
		    b->paddr == a->paddr + size)
			return false;
	}
	return true;
}

/*
 * On pseudo-random layouts, the walk in runs gives the pages of the walk
 * page by page, in runs as long as they can be, and a failure at any run
 * undoes exactly the runs before it (their pages), newest first.
 */
static void vcm_phys_walk_runs_random_test(struct kunit *test)
{
	struct walk_log *all = walk_log_alloc(test, FUZZ_MAX_PAGES, -1);
	struct walk_log *log = walk_log_alloc(test, FUZZ_MAX_PAGES, -1);
	struct rnd_state rnd;
	unsigned int round;

	prandom_seed_state(&rnd, 0x7a1);
	for (round = 0; round < FUZZ_ROUNDS; round++) {
		dma_addr_t vaddr;
		struct vcm_phys *phys = random_layout(test, &rnd, &vaddr);
		unsigned int i, fail;

		all->nr_pages = 0;
		KUNIT_ASSERT_EQ(test, vcm_phys_walk(vaddr, phys, orders_8_4_0,
						    walk_record, NULL, all), 0);
		log->nr_pages = 0;
		log->nr_runs = 0;
		log->fail_at = -1;
		KUNIT_ASSERT_EQ(test, vcm_phys_walk_runs(vaddr, phys, orders_8_4_0,
							 run_record, run_undo, log), 0);
		KUNIT_ASSERT_FALSE(test, all->overflow || log->overflow);
		KUNIT_ASSERT_EQ_MSG(test, log->nr_pages, all->nr_pages, "round %u", round);
		for (i = 0; i < log->nr_pages; i++)
			KUNIT_ASSERT_TRUE_MSG(test, walk_page_eq(&log->pages[i], &all->pages[i]),
					      "round %u page %u", round, i);
		KUNIT_ASSERT_TRUE_MSG(test, runs_longest(log, phys, vaddr), "round %u", round);

		/* Fail at a random run: the pages before it, newest first. */
		fail = prandom_u32_state(&rnd) % log->nr_runs;
		log->nr_pages = 0;
		log->nr_runs = 0;
		log->nr_undone = 0;
		log->fail_at = fail;
		KUNIT_ASSERT_EQ(test, vcm_phys_walk_runs(vaddr, phys, orders_8_4_0,
							 run_record, run_undo, log), -EFAULT);
		KUNIT_ASSERT_EQ(test, log->nr_runs, fail + 1);
		KUNIT_ASSERT_EQ(test, log->nr_undone, log->run_first[fail]);
		for (i = 0; i < log->nr_undone; i++) {
			const struct walk_page *want = &all->pages[log->nr_undone - 1 - i];

			KUNIT_ASSERT_TRUE_MSG(test, walk_page_eq(&log->undone[i], want),
					      "round %u undone %u", round, i);
		}
	}
}

/* Bad arguments fail with -EINVAL before any callback. */
static void vcm_phys_walk_errors_test(struct kunit *test)
{
	static const unsigned char unsorted[] = { 4, 8, 0 };
	static const unsigned char repeated[] = { 8, 4, 4, 0 };
	static const unsigned char too_large[] = { 200, 0 };
	const unsigned char *bad_orders[] = { NULL, unsorted, repeated, too_large };
	static const struct vcm_phys_part one[] = { PART(P, SZ_128K) };
	static const struct vcm_phys_part unaligned[] = { PART(P + 512, SZ_64K) };
	static const struct vcm_phys_part empty[] = { PART(P, SZ_64K), PART(P, 0) };
	static const struct vcm_phys_part past_end[] = { PART((phys_addr_t)-SZ_64K, SZ_128K) };
	struct walk_log *log = walk_log_alloc(test, 8, -1);
	struct vcm_phys *phys = phys_make(test, one, 1);
	struct vcm_phys *bad;
	unsigned int i;

	expect_warning(test, "");
	for (i = 0; i < ARRAY_SIZE(bad_orders); i++) {
		KUNIT_EXPECT_EQ_MSG(test, vcm_phys_walk(V, phys, bad_orders[i], walk_record,
							walk_undo, log), -EINVAL,
				    "orders %u", i);
		KUNIT_EXPECT_EQ_MSG(test, vcm_phys_walk_runs(V, phys, bad_orders[i],
							     run_record, run_undo, log),
				    -EINVAL, "orders %u, in runs", i);
	}
	expect_warning_end(test, 2 * ARRAY_SIZE(bad_orders));
	/* The walk in runs checks the rest as vcm_phys_walk() does, below. */
	KUNIT_EXPECT_EQ(test, vcm_phys_walk_runs(V, phys, orders_8_4_0, NULL, run_undo,
						 log), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk_runs(V + 512, phys, orders_8_4_0, run_record,
						 run_undo, log), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk_runs(V, NULL, orders_8_4_0, run_record,
						 run_undo, log), -EINVAL);

	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V + 512, phys, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, phys, orders_8_4_0, NULL, walk_undo, log),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, NULL, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	/* 128 KiB from 64 KiB below the end runs past the last address. */
	KUNIT_EXPECT_EQ(test, vcm_phys_walk((dma_addr_t)-SZ_64K, phys, orders_8_4_0,
					    walk_record, walk_undo, log), -EINVAL);

	bad = phys_make(test, unaligned, 1);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, bad, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	bad = phys_make(test, past_end, 1);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, bad, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	bad = phys_make(test, empty, 2);
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, bad, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	bad = phys_make(test, one, 1);
	bad->size = SZ_64K;
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, bad, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);
	bad->count = 0;
	bad->size = 0;
	KUNIT_EXPECT_EQ(test, vcm_phys_walk(V, bad, orders_8_4_0, walk_record,
					    walk_undo, log), -EINVAL);

	KUNIT_EXPECT_EQ(test, log->nr_pages, 0);
	KUNIT_EXPECT_EQ(test, log->nr_undone, 0);
	KUNIT_EXPECT_EQ(test, log->nr_runs, 0);
}

/* ---- vcm_phys_alloc ---- */

/* Checks the layout vcm_phys_alloc() promises; returns the 1 MiB parts. */
static unsigned int expect_phys_layout(struct kunit *test,
				       const struct vcm_phys *phys,
				       resource_size_t size,
				       const unsigned char *orders)
{
	resource_size_t sum = 0, prev = ~(resource_size_t)0;
	unsigned int i, nr_1m = 0;

	KUNIT_EXPECT_EQ(test, phys->size, size);
	KUNIT_EXPECT_PTR_NE(test, phys->free, NULL);
	for (i = 0; i < phys->count; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		const unsigned char *o;

		for (o = orders; *o && part->size != (resource_size_t)PAGE_SIZE << *o; o++)
			;
		KUNIT_EXPECT_EQ_MSG(test, part->size, (resource_size_t)PAGE_SIZE << *o,
				    "part %u has no order of the MMU's", i);
		KUNIT_EXPECT_TRUE_MSG(test, IS_ALIGNED(part->start, part->size),
				      "part %u not aligned to its size", i);
		KUNIT_EXPECT_NOT_NULL(test, part->page);
		KUNIT_EXPECT_EQ(test, part->start, page_to_phys(part->page));
		KUNIT_EXPECT_LE_MSG(test, part->size, prev, "part %u larger than the last", i);
		prev = part->size;
		sum += part->size;
		nr_1m += part->size == SZ_1M;
	}
	KUNIT_EXPECT_EQ(test, sum, size);
	return nr_1m;
}

static const unsigned int large_sizes_mib[] = { 16, 64 };

static void large_size_desc(const unsigned int *mib, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u MiB", *mib);
}

KUNIT_ARRAY_PARAM(vcm_phys_alloc_large, large_sizes_mib, large_size_desc);

/*
 * A large allocation on orders { 8, 4, 0 } is mostly 1 MiB parts, each
 * block asked for as the gfp flags say, and vcm_free() returns them all.
 */
static void vcm_phys_alloc_large_test(struct kunit *test)
{
	const unsigned int mib = *(const unsigned int *)test->param_value;
	const resource_size_t size = (resource_size_t)mib * SZ_1M;
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;
	unsigned int nr_1m, nr_64k = 0;
	unsigned int i;

	phys = vcm_phys_alloc(size, 0, orders_8_4_0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	nr_1m = expect_phys_layout(test, phys, size, orders_8_4_0);
	KUNIT_EXPECT_EQ(test, ta->live_pages, size >> PAGE_SHIFT);
	for (i = 0; i < phys->count; i++)
		nr_64k += phys->parts[i].size == SZ_64K;

	kunit_info(test, "%u MiB on orders {8, 4, 0}: %u parts of 1 MiB, %u of 64 KiB, %u of 4 KiB; %u%% in 1 MiB parts\n",
		   mib, nr_1m, nr_64k, phys->count - nr_1m - nr_64k, nr_1m * 100 / mib);
	KUNIT_EXPECT_GT_MSG(test, nr_1m * 2, mib, "not mostly 1 MiB parts");

	/* Blocks above order 0 neither retry hard nor warn. */
	KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[8],
			(__force unsigned long)(VCM_TEST_GFP | __GFP_NORETRY | __GFP_NOWARN));

	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/*
 * Memory below 4 GiB comes from ZONE_DMA32 where there is one, else from
 * lowmem, and lies below 4 GiB.
 */
static void vcm_phys_alloc_32bit_test(struct kunit *test)
{
	const gfp_t want = GFP_KERNEL | __GFP_ZERO |
			   (IS_ENABLED(CONFIG_ZONE_DMA32) ? __GFP_DMA32 : 0);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;
	unsigned int i;

	phys = vcm_phys_alloc(SZ_1M + SZ_4K, VCM_PHYS_32BIT, orders_8_4_0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[0],
			(__force unsigned long)want);
	if (ta->order_calls[8])
		KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[8],
				(__force unsigned long)(want | __GFP_NORETRY | __GFP_NOWARN));
	for (i = 0; i < phys->count; i++)
		KUNIT_EXPECT_EQ_MSG(test, upper_32_bits((u64)phys->parts[i].start +
							phys->parts[i].size - 1), 0,
				    "part %u at %pa", i, &phys->parts[i].start);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

struct round_case {
	resource_size_t size;
	const unsigned char *orders;
	resource_size_t rounded;
	unsigned int count;		/* or 0: depends on fragmentation */
};

static const struct round_case round_cases[] = {
	{ 1, orders_8_4_0, SZ_4K, 1 },
	{ SZ_4K + 1, orders_8_4_0, SZ_8K, 2 },
	{ SZ_64K + 1, orders_4_0, SZ_64K + SZ_4K, 2 },
	{ SZ_1M - SZ_4K + 1, orders_8_4_0, SZ_1M, 0 },
	{ SZ_16K, orders_0, SZ_16K, 4 },
};

/* Sizes round up to whole pages, and the memory is divided as it says. */
static void vcm_phys_alloc_rounds_up_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(round_cases); i++) {
		const struct round_case *c = &round_cases[i];
		struct vcm_phys *phys = vcm_phys_alloc(c->size, 0, c->orders);

		KUNIT_ASSERT_NOT_ERR_OR_NULL_MSG(test, phys, "case %u", i);
		expect_phys_layout(test, phys, c->rounded, c->orders);
		if (c->count)
			KUNIT_EXPECT_EQ_MSG(test, phys->count, c->count, "case %u", i);
		vcm_free(phys);
	}
	expect_no_live_pages(test, ta);
}

/* The memory is zeroed, also when the page allocator recycles dirty pages. */
static void vcm_phys_alloc_zeroed_test(struct kunit *test)
{
	struct vcm_phys *phys;
	unsigned int round, i;

	for (round = 0; round < 2; round++) {
		phys = vcm_phys_alloc(SZ_64K, 0, orders_0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
		for (i = 0; i < phys->count; i++) {
			void *va = kmap_local_page(phys->parts[i].page);

			KUNIT_EXPECT_NULL_MSG(test, memchr_inv(va, 0, PAGE_SIZE),
					      "round %u page %u", round, i);
			/* Dirty it for the next round, which likely gets it back. */
			memset(va, 0xa5, PAGE_SIZE);
			kunmap_local(va);
		}
		vcm_free(phys);
	}
}

/* With no block above order 0 to be had, the memory comes in 4 KiB parts. */
static void vcm_phys_alloc_falls_back_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;
	unsigned int i;

	ta->fail_order_from[8] = 1;
	ta->fail_order_from[4] = 1;
	phys = vcm_phys_alloc(SZ_1M + SZ_64K, 0, orders_8_4_0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_EXPECT_EQ(test, phys->count, (SZ_1M + SZ_64K) / SZ_4K);
	for (i = 0; i < phys->count; i++)
		KUNIT_EXPECT_EQ(test, phys->parts[i].size, SZ_4K);
	/* One try at each larger order, then 4 KiB blocks, which retry hard. */
	KUNIT_EXPECT_EQ(test, ta->order_calls[8], 1);
	KUNIT_EXPECT_EQ(test, ta->order_calls[4], 1);
	KUNIT_EXPECT_EQ(test, ta->order_calls[0], phys->count);
	KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[4],
			(__force unsigned long)(VCM_TEST_GFP | __GFP_NORETRY | __GFP_NOWARN));
	KUNIT_EXPECT_EQ(test, (__force unsigned long)ta->order_gfp[0],
			(__force unsigned long)VCM_TEST_GFP);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/* An order that failed once is not tried again for the same memory. */
static void vcm_phys_alloc_falls_back_once_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;
	unsigned int i;

	ta->fail_order_from[8] = 2;
	phys = vcm_phys_alloc(SZ_1M * 3, 0, orders_8_4_0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, phys->count, 1 + 32);
	KUNIT_EXPECT_EQ(test, phys->parts[0].size, SZ_1M);
	for (i = 1; i < phys->count; i++)
		KUNIT_EXPECT_EQ(test, phys->parts[i].size, SZ_64K);
	KUNIT_EXPECT_EQ(test, ta->order_calls[8], 2);
	KUNIT_EXPECT_EQ(test, ta->order_calls[4], 32);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/*
 * Every allocation failure path: fail the n-th allocation and all after
 * it, for n = 1, 2, ... until the call succeeds.  Each failing call returns
 * -ENOMEM and leaves no page behind.
 */
static void vcm_phys_alloc_fails_test(struct kunit *test)
{
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;
	unsigned int n;

	for (n = 1; ; n++) {
		test_alloc_reset(ta);
		ta->fail_from = n;
		phys = vcm_phys_alloc(SZ_1M + SZ_64K + SZ_4K, 0, orders_8_4_0);
		if (!IS_ERR(phys))
			break;
		KUNIT_EXPECT_PTR_EQ_MSG(test, phys, ERR_PTR(-ENOMEM), "failing from %u", n);
		KUNIT_EXPECT_EQ_MSG(test, ta->live_pages, 0, "failing from %u", n);
		KUNIT_ASSERT_LT(test, n, 64);
	}
	/*
	 * It succeeded when no allocation failed: each one failed before.
	 * Blocks of 1 MiB, 64 KiB and 4 KiB, then the vcm_phys.
	 */
	KUNIT_EXPECT_EQ(test, ta->calls, n - 1);
	KUNIT_EXPECT_EQ(test, n, 5);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/* Orders the page allocator cannot give are not asked for. */
static void vcm_phys_alloc_huge_order_test(struct kunit *test)
{
	const unsigned char orders[] = { MAX_PAGE_ORDER + 1, 8, 0 };
	const resource_size_t size = (resource_size_t)PAGE_SIZE << (MAX_PAGE_ORDER + 1);
	struct test_alloc *ta = test_alloc_start(test);
	struct vcm_phys *phys;

	phys = vcm_phys_alloc(size, 0, orders);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
	expect_phys_layout(test, phys, size, orders);
	vcm_free(phys);
	expect_no_live_pages(test, ta);
}

/* Bad arguments fail before any allocation. */
static void vcm_phys_alloc_errors_test(struct kunit *test)
{
	static const unsigned char unsorted[] = { 4, 8, 0 };
	struct test_alloc *ta = test_alloc_start(test);
	resource_size_t ram = (resource_size_t)totalram_pages() << PAGE_SHIFT;

	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(0, 0, orders_8_4_0), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(SZ_4K, BIT(1), orders_8_4_0),
			    ERR_PTR(-EINVAL));
	expect_warning(test, "");
	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(SZ_4K, 0, NULL), ERR_PTR(-EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(SZ_4K, 0, unsorted), ERR_PTR(-EINVAL));
	expect_warning_end(test, 2);
	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(ram + 1, 0, orders_8_4_0),
			    ERR_PTR(-ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, vcm_phys_alloc(~(resource_size_t)0, 0, orders_8_4_0),
			    ERR_PTR(-ENOMEM));
	KUNIT_EXPECT_EQ(test, ta->calls, 0);
	expect_no_live_pages(test, ta);
}

static struct kunit_case vcm_phys_cases[] = {
	KUNIT_CASE_PARAM(vcm_phys_walk_test, vcm_phys_walk_gen_params),
	KUNIT_CASE(vcm_phys_walk_no_recovery_test),
	KUNIT_CASE(vcm_phys_walk_random_test),
	KUNIT_CASE(vcm_phys_walk_runs_random_test),
	KUNIT_CASE(vcm_phys_walk_errors_test),
	KUNIT_CASE_PARAM(vcm_phys_alloc_large_test, vcm_phys_alloc_large_gen_params),
	KUNIT_CASE(vcm_phys_alloc_rounds_up_test),
	KUNIT_CASE(vcm_phys_alloc_zeroed_test),
	KUNIT_CASE(vcm_phys_alloc_falls_back_test),
	KUNIT_CASE(vcm_phys_alloc_falls_back_once_test),
	KUNIT_CASE(vcm_phys_alloc_fails_test),
	KUNIT_CASE(vcm_phys_alloc_huge_order_test),
	KUNIT_CASE(vcm_phys_alloc_errors_test),
	KUNIT_CASE(vcm_phys_alloc_32bit_test),
	{}
};

static struct kunit_suite vcm_phys_suite = {
	.name = "vcm_phys",
	.test_cases = vcm_phys_cases,
};

kunit_test_suites(&vcm_phys_suite);

MODULE_DESCRIPTION("KUnit tests for the VCM physical allocator and phys walk");
MODULE_LICENSE("GPL");
