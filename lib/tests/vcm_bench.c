// SPDX-License-Identifier: GPL-2.0
/*
 * VCM benchmark: VCM against the kernel's own peers, measured in the same
 * boot.  Not a pass/fail test: each case prints its measurements as one
 * "vcm-bench: {json}" line per implementation, which make bench turns
 * into a table of ratios.  Times under QEMU's emulation mean little on
 * their own; ratios against a peer measured in the same boot, and counts,
 * do.
 *
 * Every figure is the median, minimum and maximum over BENCH_ROUNDS rounds
 * of the time of one operation (ns/op).
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/genalloc.h>
#include <linux/io.h>
#include <linux/io-pgtable.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/kref.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/numa.h>
#include <linux/prandom.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-sysmmu.h>
#include <linux/vmalloc.h>

#include "vcm_kunit_sysmmu.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define BENCH_ROUNDS	7
#define BENCH_SEED	0xbe4c2026

/* The device-address range every reservation peer manages. */
#define RANGE_START	SZ_16M
#define RANGE_SIZE	SZ_2G

struct bench_result {
	u64 median, min, max;	/* ns per operation */
};

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static struct bench_result bench_summarise(u64 ns[BENCH_ROUNDS], u64 ops)
{
	struct bench_result r;
	int i;

	for (i = 0; i < BENCH_ROUNDS; i++)
		ns[i] = div64_u64(ns[i], ops);
	sort(ns, BENCH_ROUNDS, sizeof(*ns), cmp_u64, NULL);
	r.min = ns[0];
	r.median = ns[BENCH_ROUNDS / 2];
	r.max = ns[BENCH_ROUNDS - 1];
	return r;
}

/* One line of results; @extra is more JSON members, or "". */
static void bench_report(struct kunit *test, const char *group,
			 const char *what, const char *impl,
			 struct bench_result r, const char *extra)
{
	kunit_info(test, "vcm-bench: {\"group\": \"%s\", \"case\": \"%s\", \"impl\": \"%s\", \"median_ns\": %llu, \"min_ns\": %llu, \"max_ns\": %llu%s}\n",
		   group, what, impl, r.median, r.min, r.max, extra);
}

/* ---- reservation: VCM and three peers behind one interface ---- */

struct rsv_impl;

struct rsv {
	struct kunit *test;
	const struct rsv_impl *impl;
	struct vcm *vcm;
	struct iova_domain iovad;
	struct gen_pool *pool;
	resource_size_t size;	/* of the range; RANGE_SIZE if 0 */
};

static resource_size_t rsv_size(const struct rsv *r)
{
	return r->size ?: RANGE_SIZE;
}

struct rsv_impl {
	const char *name;
	int (*init)(struct rsv *r);
	/* A handle, or 0 when there is no room. */
	unsigned long (*alloc)(struct rsv *r, unsigned long pages);
	void (*free)(struct rsv *r, unsigned long handle, unsigned long pages);
	void (*fini)(struct rsv *r);
};

static int vcm_rsv_init(struct rsv *r)
{
	u32 *regs = sysmmu_window(r->test, SYSMMU_VERSION_MAKE(3, 3));

	r->vcm = vcm_sysmmu_create(NULL, (void __force __iomem *)regs, NULL,
				   RANGE_START, rsv_size(r));
	return PTR_ERR_OR_ZERO(r->vcm);
}

static unsigned long vcm_rsv_alloc(struct rsv *r, unsigned long pages)
{
	struct vcm_res *res = vcm_reserve(r->vcm, pages << PAGE_SHIFT, 0);

	return IS_ERR(res) ? 0 : (unsigned long)res;
}

static void vcm_rsv_free(struct rsv *r, unsigned long handle,
			 unsigned long pages)
{
	vcm_unreserve((struct vcm_res *)handle);
}

static void vcm_rsv_fini(struct rsv *r)
{
	vcm_destroy(r->vcm);
}

static int iova_rsv_init(struct rsv *r)
{
	int ret = iova_cache_get();

	if (ret)
		return ret;
	init_iova_domain(&r->iovad, PAGE_SIZE, RANGE_START >> PAGE_SHIFT);
	ret = iova_domain_init_rcaches(&r->iovad);
	if (ret) {
		put_iova_domain(&r->iovad);
		iova_cache_put();
	}
	return ret;
}

static unsigned long iova_limit(const struct rsv *r)
{
	return (RANGE_START + (u64)rsv_size(r) - 1) >> PAGE_SHIFT;
}

static unsigned long iova_fast_alloc(struct rsv *r, unsigned long pages)
{
	return alloc_iova_fast(&r->iovad, pages, iova_limit(r), true);
}

static void iova_fast_free(struct rsv *r, unsigned long pfn, unsigned long pages)
{
	free_iova_fast(&r->iovad, pfn, pages);
}

static unsigned long iova_tree_alloc(struct rsv *r, unsigned long pages)
{
	return (unsigned long)alloc_iova(&r->iovad, pages, iova_limit(r), true);
}

static void iova_tree_free(struct rsv *r, unsigned long handle,
			   unsigned long pages)
{
	__free_iova(&r->iovad, (struct iova *)handle);
}

static void iova_rsv_fini(struct rsv *r)
{
	put_iova_domain(&r->iovad);
	iova_cache_put();
}

static int genalloc_rsv_init(struct rsv *r)
{
	int ret;

	r->pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!r->pool)
		return -ENOMEM;
	ret = gen_pool_add(r->pool, RANGE_START, rsv_size(r), NUMA_NO_NODE);
	if (ret)
		gen_pool_destroy(r->pool);
	return ret;
}

/* Aligned as VCM aligns: to the largest SysMMU page dividing the size. */
static unsigned long genalloc_rsv_alloc(struct rsv *r, unsigned long pages)
{
	struct genpool_data_align data = {
		.align = pages % 256 == 0 ? SZ_1M : pages % 16 == 0 ? SZ_64K : SZ_4K,
	};

	return gen_pool_alloc_algo(r->pool, pages << PAGE_SHIFT,
				   gen_pool_first_fit_align, &data);
}

static void genalloc_rsv_free(struct rsv *r, unsigned long addr,
			      unsigned long pages)
{
	gen_pool_free(r->pool, addr, pages << PAGE_SHIFT);
}

static void genalloc_rsv_fini(struct rsv *r)
{
	gen_pool_destroy(r->pool);
}

static const struct rsv_impl rsv_impls[] = {
	{ "vcm", vcm_rsv_init, vcm_rsv_alloc, vcm_rsv_free, vcm_rsv_fini },
	{ "iova_fast", iova_rsv_init, iova_fast_alloc, iova_fast_free, iova_rsv_fini },
	{ "iova", iova_rsv_init, iova_tree_alloc, iova_tree_free, iova_rsv_fini },
	{ "genalloc", genalloc_rsv_init, genalloc_rsv_alloc, genalloc_rsv_free,
	  genalloc_rsv_fini },
};

#define RSV_OPS		4000	/* operations per thread and round */
#define RSV_WINDOW	64	/* reservations each thread keeps in flight */
#define RSV_TIMED	(RSV_OPS - RSV_WINDOW)
#define RSV_CPU_IMPLS	2	/* implementations on 4 CPUs (see cpu_cases) */

/*
 * One thread's share of a round: it makes RSV_WINDOW reservations, then,
 * timed, each operation releases the reservation it made RSV_WINDOW
 * operations before and makes one of the next size, so that sizes come
 * and go as in a driver's steady state and caches in front of an
 * allocator miss as well as hit.
 */
struct rsv_thread {
	struct rsv *r;
	const unsigned short *pages;
	const bool *go;
	struct completion ready;
	struct completion done;
	unsigned long failed;
	u64 start, end;
	struct task_struct *task;
};

static int rsv_thread_fn(void *arg)
{
	struct rsv_thread *t = arg;
	unsigned long window[RSV_WINDOW] = { };
	int i, slot;

	for (i = 0; i < RSV_WINDOW; i++) {
		window[i] = t->r->impl->alloc(t->r, t->pages[i]);
		t->failed += !window[i];
	}
	complete(&t->ready);
	/*
	 * Spinning, not sleeping: the threads start together, none of them
	 * timed while its vCPU wakes up from idle.  cond_resched() lets in
	 * the test's thread, which sets @go, if it shares this CPU.
	 */
	while (!smp_load_acquire(t->go))
		cond_resched();
	t->start = ktime_get_ns();
	for (i = RSV_WINDOW; i < RSV_OPS; i++) {
		slot = i % RSV_WINDOW;
		if (window[slot])
			t->r->impl->free(t->r, window[slot], t->pages[i - RSV_WINDOW]);
		window[slot] = t->r->impl->alloc(t->r, t->pages[i]);
		t->failed += !window[slot];
	}
	t->end = ktime_get_ns();
	for (i = RSV_OPS - RSV_WINDOW; i < RSV_OPS; i++)
		if (window[i % RSV_WINDOW])
			t->r->impl->free(t->r, window[i % RSV_WINDOW], t->pages[i]);
	complete(&t->done);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/*
 * The time of one round on @nr_threads CPUs, from the first thread's
 * start to the last one's end, in ns; 0 if it could not run.
 */
static u64 rsv_round(struct rsv *r, unsigned short *pages[4], int nr_threads)
{
	struct rsv_thread t[4] = { };
	bool go = false;
	unsigned int cpu = cpumask_first(cpu_online_mask);
	unsigned long failed = 0;
	u64 start = U64_MAX, end = 0;
	int i, started = 0;

	for (i = 0; i < nr_threads; i++) {
		t[i].r = r;
		t[i].pages = pages[i];
		t[i].go = &go;
		init_completion(&t[i].ready);
		init_completion(&t[i].done);
		t[i].task = kthread_create(rsv_thread_fn, &t[i], "vcm-bench/%d", i);
		if (IS_ERR(t[i].task))
			break;
		get_task_struct(t[i].task);
		kthread_bind(t[i].task, cpu);
		wake_up_process(t[i].task);
		started++;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&t[i].ready);
	/* Pairs with the threads' smp_load_acquire(). */
	smp_store_release(&go, true);
	for (i = 0; i < started; i++) {
		wait_for_completion(&t[i].done);
		kthread_stop(t[i].task);
		put_task_struct(t[i].task);
		failed += t[i].failed;
		start = min(start, t[i].start);
		end = max(end, t[i].end);
	}
	return started < nr_threads || failed ? 0 : end - start;
}

/* Sizes in pages: 1..32 (4 KiB..128 KiB), or 256 (1 MiB) for @big. */
static void rsv_sizes(struct rnd_state *rnd, unsigned short *pages,
		      unsigned int n, bool big)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pages[i] = big ? 256 : 1 + prandom_u32_state(rnd) % 32;
}

struct rsv_case {
	const char *name;
	bool big;
	unsigned int live;
	int threads;
};

static const struct rsv_case rsv_cases[] = {
	{ "4K-128K, 1000 live, 1 CPU", false, 1000, 1 },
	{ "4K-128K, 1000 live, 2 CPUs", false, 1000, 2 },
	{ "4K-128K, 10000 live, 1 CPU", false, 10000, 1 },
	{ "4K-128K, 10000 live, 2 CPUs", false, 10000, 2 },
	{ "1M, 1000 live, 1 CPU", true, 1000, 1 },
	{ "1M, 1000 live, 2 CPUs", true, 1000, 2 },
};

static void rsv_case_desc(const struct rsv_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(rsv_case, rsv_cases, rsv_case_desc);

static void vcm_bench_reserve(struct kunit *test)
{
	const struct rsv_case *c = test->param_value;
	unsigned short *live_pages, *pages[4] = { };
	unsigned long *live;
	struct rnd_state rnd;
	int i, k, round;

	live = kunit_kcalloc(test, c->live, sizeof(*live), GFP_KERNEL);
	live_pages = kunit_kcalloc(test, c->live, sizeof(*live_pages), GFP_KERNEL);
	pages[0] = kunit_kcalloc(test, RSV_OPS, sizeof(**pages), GFP_KERNEL);
	pages[1] = kunit_kcalloc(test, RSV_OPS, sizeof(**pages), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, live && live_pages && pages[0] && pages[1]);
	for (i = 2; i < c->threads; i++) {
		pages[i] = kunit_kcalloc(test, RSV_OPS, sizeof(**pages), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}

	for (k = 0; k < (c->threads > 2 ? RSV_CPU_IMPLS : ARRAY_SIZE(rsv_impls)); k++) {
		struct rsv *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
		u64 ns[BENCH_ROUNDS];

		KUNIT_ASSERT_NOT_NULL(test, r);
		r->test = test;
		r->impl = &rsv_impls[k];
		KUNIT_ASSERT_EQ_MSG(test, r->impl->init(r), 0, "%s", r->impl->name);

		/* The same sizes, live set and workload for every peer. */
		prandom_seed_state(&rnd, BENCH_SEED);
		rsv_sizes(&rnd, live_pages, c->live, c->big);
		rsv_sizes(&rnd, pages[0], RSV_OPS, c->big);
		rsv_sizes(&rnd, pages[1], RSV_OPS, c->big);
		for (i = 2; i < c->threads; i++)
			rsv_sizes(&rnd, pages[i], RSV_OPS, c->big);
		for (i = 0; i < c->live; i++) {
			live[i] = r->impl->alloc(r, live_pages[i]);
			KUNIT_ASSERT_NE_MSG(test, live[i], 0, "%s: live %d", r->impl->name, i);
		}
		for (round = 0; round < BENCH_ROUNDS; round++) {
			ns[round] = rsv_round(r, pages, c->threads);
			KUNIT_EXPECT_NE_MSG(test, ns[round], 0, "%s: a reservation failed",
					    r->impl->name);
		}
		bench_report(test, "reserve", c->name, r->impl->name,
			     bench_summarise(ns, (u64)RSV_TIMED * c->threads), "");
		for (i = 0; i < c->live; i++)
			r->impl->free(r, live[i], live_pages[i]);
		r->impl->fini(r);
	}
}

/*
 * The reservation cases on four CPUs, for a boot with four: make bench
 * boots QEMU with four vCPUs on the host's two cores for them.  Only VCM
 * and alloc_iova_fast() (RSV_CPU_IMPLS), on sizes it caches: the peers'
 * locks, held by a vCPU the host preempts, take milliseconds per
 * operation there, and a round of them would outlast kunit.py's timeout.
 */

static const struct rsv_case cpu_cases[] = {
	{ "4K-128K, 1000 live, 4 CPUs", false, 1000, 4 },
	{ "4K-128K, 10000 live, 4 CPUs", false, 10000, 4 },
};

KUNIT_ARRAY_PARAM(cpu_case, cpu_cases, rsv_case_desc);

static void vcm_bench_cpus(struct kunit *test)
{
	const struct rsv_case *c = test->param_value;

	if (num_online_cpus() < c->threads)
		kunit_skip(test, "needs %d CPUs", c->threads);
	vcm_bench_reserve(test);
}

/* ---- ownership: vcm_ref_reserve + vcm_unreserve against kref ---- */

#define OWN_OPS		100000

static void bench_kref_release(struct kref *kref)
{
}

static void vcm_bench_ownership(struct kunit *test)
{
	struct rsv r = { .test = test };
	u64 vcm_ns[BENCH_ROUNDS], kref_ns[BENCH_ROUNDS];
	struct vcm_res *res;
	struct kref kref;
	int i, round;

	if (!IS_ENABLED(CONFIG_VCM_RES_REFCNT))
		kunit_skip(test, "needs CONFIG_VCM_RES_REFCNT");
	KUNIT_ASSERT_EQ(test, vcm_rsv_init(&r), 0);
	res = vcm_reserve(r.vcm, SZ_4K, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	kref_init(&kref);
	for (round = 0; round < BENCH_ROUNDS; round++) {
		u64 start = ktime_get_ns();

		for (i = 0; i < OWN_OPS; i++) {
			KUNIT_ASSERT_EQ(test, vcm_ref_reserve(res), 0);
			vcm_unreserve(res);
		}
		vcm_ns[round] = ktime_get_ns() - start;
		start = ktime_get_ns();
		for (i = 0; i < OWN_OPS; i++) {
			kref_get(&kref);
			kref_put(&kref, bench_kref_release);
		}
		kref_ns[round] = ktime_get_ns() - start;
	}
	bench_report(test, "ownership", "get + put", "vcm",
		     bench_summarise(vcm_ns, OWN_OPS), "");
	bench_report(test, "ownership", "get + put", "kref",
		     bench_summarise(kref_ns, OWN_OPS), "");
	vcm_unreserve(res);
	vcm_rsv_fini(&r);
}

/* ---- mapping: bind + unbind of 64 MiB against io-pgtable-arm-v7s and LPAE ---- */

#define MAP_SIZE	SZ_64M
#define MAP_BASE	0x40000000	/* physical; never touched */

/* 64 MiB as 1 MiB chunks, or as one part that only 4 KiB pages can map. */
static struct vcm_phys *map_layout(struct kunit *test, bool chunks)
{
	unsigned int i, n = chunks ? MAP_SIZE / SZ_1M : 1;
	struct vcm_phys *phys;

	phys = kunit_kzalloc(test, struct_size(phys, parts, n), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, phys);
	vcm_phys_init(phys, NULL);
	phys->count = n;
	phys->size = MAP_SIZE;
	for (i = 0; i < n; i++) {
		/* Chunks scattered, every other MiB; pages 4 KiB off 64 KiB. */
		phys->parts[i].start = chunks ? MAP_BASE + 2 * i * SZ_1M :
				       MAP_BASE + SZ_4K;
		phys->parts[i].size = chunks ? SZ_1M : MAP_SIZE;
	}
	return phys;
}

struct pgt_counts {
	unsigned long flush_all, flush_walk, add_page;
};

static void pgt_flush_all(void *cookie)
{
	((struct pgt_counts *)cookie)->flush_all++;
}

static void pgt_flush_walk(unsigned long iova, size_t size, size_t granule,
			   void *cookie)
{
	((struct pgt_counts *)cookie)->flush_walk++;
}

static void pgt_add_page(struct iommu_iotlb_gather *gather, unsigned long iova,
			 size_t granule, void *cookie)
{
	((struct pgt_counts *)cookie)->add_page++;
}

static const struct iommu_flush_ops pgt_flush_ops = {
	.tlb_flush_all	= pgt_flush_all,
	.tlb_flush_walk	= pgt_flush_walk,
	.tlb_add_page	= pgt_add_page,
};

/* io-pgtable-arm-v7s as the SysMMU's tables are; a copy per use, which it fills in. */
static const struct io_pgtable_cfg v7s_cfg = {
	.pgsize_bitmap	= SZ_4K | SZ_64K | SZ_1M,
	.ias		= 32,
	.oas		= 32,
	.coherent_walk	= true,
	.tlb		= &pgt_flush_ops,
};

/*
 * Binds and unbinds @phys at @res BENCH_ROUNDS times, timing each round
 * into @ns, with the SysMMU's statistics before and after.  A round runs
 * first untimed, as in time_pgtable(): the first time QEMU runs code it
 * translates it, which would be every mapping row's maximum.
 */
static void time_bind_unbind(struct kunit *test, struct vcm_res *res,
			     struct vcm_phys *phys, u64 *ns,
			     struct vcm_sysmmu_stats *before,
			     struct vcm_sysmmu_stats *after)
{
	int round;

	KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_unbind(res), 0);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_stats(res->vcm, before), 0);
	for (round = 0; round < BENCH_ROUNDS; round++) {
		u64 start = ktime_get_ns();

		KUNIT_ASSERT_EQ(test, vcm_bind(res, phys), 0);
		KUNIT_ASSERT_EQ(test, vcm_unbind(res), 0);
		ns[round] = ktime_get_ns() - start;
	}
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_stats(res->vcm, after), 0);
}

/*
 * Maps @phys at RANGE_START in pages of @pgsize, then unmaps it, with
 * io-pgtable format @fmt, BENCH_ROUNDS times after an untimed round,
 * timing each round into @ns; its flush operations in the timed rounds
 * count into @counts.  ->map_pages and ->unmap_pages may stop at the end
 * of a table (io-pgtable-arm does), so each is called again for the rest,
 * as iommu_map() and iommu_unmap() do.
 */
static void time_pgtable(struct kunit *test, enum io_pgtable_fmt fmt,
			 struct io_pgtable_cfg *cfg, const struct vcm_phys *phys,
			 size_t pgsize, u64 *ns, struct pgt_counts *counts)
{
	struct io_pgtable_ops *ops = alloc_io_pgtable_ops(fmt, cfg, counts);
	struct pgt_counts seen;
	int round, i;

	KUNIT_ASSERT_NOT_NULL(test, ops);
	for (round = -1; round < BENCH_ROUNDS; round++) {
		struct iommu_iotlb_gather gather;
		unsigned long iova = RANGE_START;
		u64 start = ktime_get_ns();
		size_t mapped = 0, done, off;

		for (i = 0; i < phys->count; i++) {
			phys_addr_t paddr = phys->parts[i].start;
			size_t left = phys->parts[i].size;

			while (left) {
				done = 0;
				KUNIT_ASSERT_EQ(test, ops->map_pages(ops, iova, paddr, pgsize,
								     left / pgsize,
								     IOMMU_READ | IOMMU_WRITE,
								     GFP_KERNEL, &done), 0);
				KUNIT_ASSERT_NE(test, done, 0);
				iova += done;
				paddr += done;
				left -= done;
				mapped += done;
			}
		}
		KUNIT_ASSERT_EQ(test, mapped, phys->size);
		iommu_iotlb_gather_init(&gather);
		for (off = 0; off < mapped; off += done) {
			done = ops->unmap_pages(ops, RANGE_START + off, pgsize,
						(mapped - off) / pgsize, &gather);
			KUNIT_ASSERT_NE(test, done, 0);
		}
		/* What iommu_iotlb_sync() would then do. */
		pgt_flush_all(counts);
		if (round < 0) {
			memset(counts, 0, sizeof(*counts));
			continue;
		}
		ns[round] = ktime_get_ns() - start;
	}
	/* Freeing flushes too: the counts are the rounds' only. */
	seen = *counts;
	free_io_pgtable_ops(ops);
	*counts = seen;
}

/* Reports the rounds of @impl, an io-pgtable peer, with its flush counts. */
static void pgtable_report(struct kunit *test, const char *what,
			   const char *impl, u64 *ns,
			   const struct pgt_counts *counts)
{
	char extra[160];

	snprintf(extra, sizeof(extra),
		 ", \"tlb_add_page\": %lu, \"flush_all\": %lu, \"flush_walk\": %lu",
		 counts->add_page / BENCH_ROUNDS, counts->flush_all / BENCH_ROUNDS,
		 counts->flush_walk / BENCH_ROUNDS);
	bench_report(test, "map", what, impl, bench_summarise(ns, 1), extra);
}

/*
 * 64 MiB bound and unbound by VCM on an active SysMMU context, and mapped
 * and unmapped by io-pgtable-arm-v7s (the same short-descriptor tables)
 * and, as 4 KiB pages, by io-pgtable-arm's 32-bit LPAE stage 1 format,
 * the other format a 32-bit SoC's IOMMU may have (where the kernel has it).
 */
static void vcm_bench_map_one(struct kunit *test, bool chunks)
{
	const char *what = chunks ? "64M as 1M chunks" : "64M as 4K pages";
	size_t pgsize = chunks ? SZ_1M : SZ_4K;
	struct vcm_phys *phys = map_layout(test, chunks);
	struct rsv r = { .test = test };
	struct vcm_sysmmu_stats before, after;
	u64 ns[BENCH_ROUNDS];
	struct io_pgtable_cfg v7s = v7s_cfg;
	/* Physical addresses as wide as this kernel's, up to LPAE's 40 bits. */
	struct io_pgtable_cfg lpae = {
		.pgsize_bitmap	= SZ_4K | SZ_2M | SZ_1G,
		.ias		= 32,
		.oas		= IS_ENABLED(CONFIG_PHYS_ADDR_T_64BIT) ? 40 : 32,
		.coherent_walk	= true,
		.tlb		= &pgt_flush_ops,
	};
	struct pgt_counts counts = { };
	struct vcm_res *res;
	char extra[160];

	KUNIT_ASSERT_EQ(test, vcm_rsv_init(&r), 0);
	res = vcm_reserve(r.vcm, MAP_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(r.vcm), 0);
	time_bind_unbind(test, res, phys, ns, &before, &after);
	snprintf(extra, sizeof(extra),
		 ", \"entries\": %lu, \"invalidations\": %lu, \"blocks\": %lu",
		 (after.l1_writes - before.l1_writes + after.l2_writes -
		  before.l2_writes) / BENCH_ROUNDS,
		 (after.flush_entries - before.flush_entries + after.flush_alls -
		  before.flush_alls) / BENCH_ROUNDS,
		 (after.blocks - before.blocks) / BENCH_ROUNDS);
	bench_report(test, "map", what, "vcm", bench_summarise(ns, 1), extra);
	vcm_deactivate(r.vcm);
	vcm_unreserve(res);
	vcm_rsv_fini(&r);

	time_pgtable(test, ARM_V7S, &v7s, phys, pgsize, ns, &counts);
	pgtable_report(test, what, "io-pgtable-arm-v7s", ns, &counts);
	if (chunks || !IS_ENABLED(CONFIG_IOMMU_IO_PGTABLE_LPAE))
		return;
	/* Its page tables come from the node of a device, as in its selftest. */
	lpae.iommu_dev = kunit_kzalloc(test, sizeof(*lpae.iommu_dev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, lpae.iommu_dev);
	set_dev_node(lpae.iommu_dev, NUMA_NO_NODE);
	memset(&counts, 0, sizeof(counts));
	time_pgtable(test, ARM_32_LPAE_S1, &lpae, phys, pgsize, ns, &counts);
	pgtable_report(test, what, "io-pgtable-arm-lpae", ns, &counts);
}

static void vcm_bench_map(struct kunit *test)
{
	vcm_bench_map_one(test, true);
	vcm_bench_map_one(test, false);
}

/*
 * ---- reservation patterns: random frees, LIFO bursts, mixed sizes with
 * 1 MiB ones, frees on another CPU; how the cost grows with the live
 * reservations; filling a 4 GiB context; an ageing run ----
 *
 * Each case first makes its live reservations, untimed; each timed
 * operation is one release and one reservation.
 */
#define PAT_OPS		4000	/* timed operations per round */
#define PAT_BURST	256
/* A context of 4 GiB less the first 16 MiB (the most a 32-bit one has). */
#define PAT_4G		((resource_size_t)(SZ_4G - RANGE_START))

enum pat_kind { PAT_RANDOM, PAT_LIFO, PAT_CROSS };

struct pat_case {
	const char *group, *name;
	enum pat_kind kind;
	unsigned int live;
	unsigned short max_pages;	/* sizes 1..max_pages */
	bool with_1m;			/* and one in 8 of 1 MiB */
	bool all_peers;			/* also alloc_iova and genalloc */
	resource_size_t range;		/* RANGE_SIZE if 0 */
};

static const struct pat_case pat_cases[] = {
	{ "pattern", "random frees, 1000 live", PAT_RANDOM, 1000, 32 },
	{ "pattern", "LIFO bursts of 256", PAT_LIFO, 1000, 32 },
	{ "pattern", "mixed with 1M, random", PAT_RANDOM, 1000, 32, true },
	{ "pattern", "mixed with 1M, LIFO", PAT_LIFO, 1000, 32, true },
	{ "pattern", "cross-CPU, 2 CPUs", PAT_CROSS, 1000, 32 },
	{ "pattern", "cross-CPU mixed, 2 CPUs", PAT_CROSS, 1000, 32, true },
	/* In 4 GiB: alloc_iova_fast() takes 2.2 GiB for 100,000 of them. */
	{ "live", "4K-32K, 1000 live", PAT_RANDOM, 1000, 8, false, true, PAT_4G },
	{ "live", "4K-32K, 10000 live", PAT_RANDOM, 10000, 8, false, true, PAT_4G },
	{ "live", "4K-32K, 100000 live", PAT_RANDOM, 100000, 8, false, true, PAT_4G },
};

static void pat_case_desc(const struct pat_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(pat_case, pat_cases, pat_case_desc);

static unsigned short pat_size(struct rnd_state *rnd, const struct pat_case *c)
{
	u32 x = prandom_u32_state(rnd);

	return c->with_1m && x % 8 == 0 ? 256 : 1 + (x >> 3) % c->max_pages;
}

/* A reservation handle and its size, in pages. */
struct pat_slot {
	unsigned long handle;
	unsigned long pages;
};

/*
 * A cross-CPU round: in each step the first CPU makes a batch of
 * PAT_BATCH reservations while the second releases the batch made in the
 * step before; the CPUs wait for each other between steps, untimed.
 */
#define PAT_BATCH	256
#define PAT_STEPS	(PAT_OPS / PAT_BATCH)

struct pat_cross {
	struct pat_slot batch[2][PAT_BATCH];
	atomic_t arrived;		/* at the end of a step, by both */
};

struct pat_thread {
	struct rsv *r;
	const struct pat_case *c;
	struct pat_cross *x;
	struct rnd_state rnd;
	bool releaser;
	unsigned long failed;
	struct completion done;
	u64 busy;			/* ns in the implementation */
};

static int pat_cross_fn(void *arg)
{
	struct pat_thread *t = arg;
	struct pat_slot *s;
	int step, i;

	for (step = 0; step <= PAT_STEPS; step++) {
		u64 start = ktime_get_ns();

		for (i = 0; i < PAT_BATCH; i++) {
			if (!t->releaser && step < PAT_STEPS) {
				s = &t->x->batch[step % 2][i];
				s->pages = pat_size(&t->rnd, t->c);
				s->handle = t->r->impl->alloc(t->r, s->pages);
				t->failed += !s->handle;
			} else if (t->releaser && step) {
				s = &t->x->batch[(step - 1) % 2][i];
				if (s->handle)
					t->r->impl->free(t->r, s->handle, s->pages);
			}
		}
		t->busy += ktime_get_ns() - start;
		atomic_inc(&t->x->arrived);
		while (atomic_read(&t->x->arrived) < 2 * (step + 1))
			cpu_relax();
	}
	complete(&t->done);
	return 0;
}

/*
 * One round of a cross-CPU case: the time both CPUs spent in the
 * implementation, in ns, or 0 if it could not run.
 */
static u64 pat_cross_round(struct rsv *r, const struct pat_case *c, u32 seed)
{
	struct pat_cross *x = kzalloc(sizeof(*x), GFP_KERNEL);
	struct pat_thread t[2] = { };
	struct task_struct *task[2];
	unsigned int cpu = cpumask_first(cpu_online_mask);
	u64 ns = 0;
	int i;

	if (!x || cpumask_next(cpu, cpu_online_mask) >= nr_cpu_ids)
		goto out_free;
	for (i = 0; i < 2; i++) {
		t[i] = (struct pat_thread){ .r = r, .c = c, .x = x, .releaser = i };
		prandom_seed_state(&t[i].rnd, seed);
		init_completion(&t[i].done);
		task[i] = kthread_create(pat_cross_fn, &t[i], "vcm-bench/x%d", i);
		if (IS_ERR(task[i])) {
			if (i)
				kthread_stop(task[0]);
			goto out_free;
		}
		kthread_bind(task[i], cpu);
		cpu = cpumask_next(cpu, cpu_online_mask);
	}
	wake_up_process(task[0]);
	wake_up_process(task[1]);
	wait_for_completion(&t[0].done);
	wait_for_completion(&t[1].done);
	if (!t[0].failed)
		ns = t[0].busy + t[1].busy;
out_free:
	kfree(x);
	return ns;
}

/*
 * One round of random frees or LIFO bursts among @live on this CPU: ns,
 * or 0 if a reservation failed.
 */
static u64 pat_round(struct rsv *r, const struct pat_case *c,
		     struct pat_slot *live, struct pat_slot *burst,
		     struct rnd_state *rnd, unsigned long ops)
{
	u64 start = ktime_get_ns();
	unsigned long i, j;

	for (i = 0; i < ops; i++) {
		struct pat_slot *s;

		if (c->kind == PAT_RANDOM) {
			s = &live[prandom_u32_state(rnd) % c->live];
			r->impl->free(r, s->handle, s->pages);
		} else {
			/* Reserve a burst, then release it newest first. */
			j = i % (2 * PAT_BURST);
			s = &burst[j < PAT_BURST ? j : 2 * PAT_BURST - 1 - j];
			if (j >= PAT_BURST) {
				r->impl->free(r, s->handle, s->pages);
				continue;
			}
		}
		s->pages = pat_size(rnd, c);
		s->handle = r->impl->alloc(r, s->pages);
		if (!s->handle)
			return 0;
	}
	return ktime_get_ns() - start;
}

/* One implementation's state in a pattern case. */
struct pat_run {
	struct rsv r;
	struct pat_slot *live, burst[PAT_BURST];
	struct rnd_state rnd;
	unsigned long ops;
	u64 ns[BENCH_ROUNDS];
};

/*
 * Every implementation keeps its live reservations through the case, and
 * their rounds alternate, so that a change of the host's load between
 * rounds weighs on each alike.
 */
static void vcm_bench_pattern(struct kunit *test)
{
	const struct pat_case *c = test->param_value;
	int i, k, round, nr_impls = c->all_peers ? ARRAY_SIZE(rsv_impls) : 2;
	struct pat_run *run = kunit_kcalloc(test, nr_impls, sizeof(*run), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, run);
	if (c->kind == PAT_CROSS && num_online_cpus() < 2)
		kunit_skip(test, "needs 2 CPUs");
	for (k = 0; k < nr_impls; k++) {
		struct rsv *r = &run[k].r;

		r->test = test;
		r->impl = &rsv_impls[k];
		r->size = c->range;
		run[k].live = kvcalloc(c->live, sizeof(*run[k].live), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, run[k].live);
		KUNIT_ASSERT_EQ_MSG(test, r->impl->init(r), 0, "%s", r->impl->name);
		/* The tree and the bitmap take long with many live: fewer. */
		run[k].ops = k > 1 && c->live > 1000 ? PAT_OPS / 8 : PAT_OPS;
		if (c->kind == PAT_LIFO)
			run[k].ops = rounddown(run[k].ops, 2 * PAT_BURST);
		if (c->kind == PAT_CROSS)
			run[k].ops = PAT_STEPS * PAT_BATCH;
		prandom_seed_state(&run[k].rnd, BENCH_SEED);
		for (i = 0; i < c->live; i++) {
			run[k].live[i].pages = pat_size(&run[k].rnd, c);
			run[k].live[i].handle = r->impl->alloc(r, run[k].live[i].pages);
			KUNIT_ASSERT_NE_MSG(test, run[k].live[i].handle, 0, "%s: live %d",
					    r->impl->name, i);
		}
	}
	for (round = 0; round < BENCH_ROUNDS; round++) {
		for (k = 0; k < nr_impls; k++) {
			if (c->kind == PAT_CROSS)
				run[k].ns[round] = pat_cross_round(&run[k].r, c,
								   BENCH_SEED + round);
			else
				run[k].ns[round] = pat_round(&run[k].r, c, run[k].live,
							     run[k].burst, &run[k].rnd,
							     run[k].ops);
			KUNIT_EXPECT_NE_MSG(test, run[k].ns[round], 0, "%s: a reservation failed",
					    run[k].r.impl->name);
		}
	}
	for (k = 0; k < nr_impls; k++) {
		struct rsv *r = &run[k].r;

		bench_report(test, c->group, c->name, r->impl->name,
			     bench_summarise(run[k].ns, c->kind == PAT_LIFO ?
					     run[k].ops / 2 : run[k].ops), "");
		for (i = 0; i < c->live; i++)
			r->impl->free(r, run[k].live[i].handle, run[k].live[i].pages);
		r->impl->fini(r);
		kvfree(run[k].live);
	}
}

/*
 * Filling a context of 4 GiB (less the first 16 MiB) with sizes of 4 KiB
 * to 128 KiB and 1 MiB: reservations until the first fails, then
 * FILL_OPS operations each releasing a random one or making one.  A
 * failure is false when the context had a free run of the request's size
 * (at any alignment), in a map of what each allocator handed out (for
 * alloc_iova_fast(), which rounds sizes below 32 pages up to a power of
 * two, of what it took).
 */
#define FILL_SIZE	PAT_4G
#define FILL_PAGES	((unsigned long)(FILL_SIZE >> PAGE_SHIFT))
#define FILL_MAX_LIVE	65536
#define FILL_OPS	20000

static const struct pat_case fill_case = {
	"fill", "4G, mixed with 1M, random", PAT_RANDOM, 0, 32, true
};

/* The first page, in the fill map, and the pages taken, of a handle. */
static unsigned long fill_span(const struct rsv *r, unsigned long handle,
			       unsigned long pages, unsigned long *taken)
{
	dma_addr_t addr;

	*taken = pages;
	if (r->impl->alloc == vcm_rsv_alloc) {
		addr = ((struct vcm_res *)handle)->start;
	} else if (r->impl->alloc == iova_fast_alloc) {
		addr = (dma_addr_t)handle << PAGE_SHIFT;
		if (pages < 32)
			*taken = roundup_pow_of_two(pages);
	} else if (r->impl->alloc == iova_tree_alloc) {
		addr = (dma_addr_t)((struct iova *)handle)->pfn_lo << PAGE_SHIFT;
	} else {
		addr = handle;
	}
	return (addr - RANGE_START) >> PAGE_SHIFT;
}

static void vcm_bench_fill(struct kunit *test)
{
	unsigned long *map = kunit_kzalloc(test, BITS_TO_LONGS(FILL_PAGES) * sizeof(long),
					   GFP_KERNEL);
	struct pat_slot *live = kvcalloc(FILL_MAX_LIVE, sizeof(*live), GFP_KERNEL);
	struct rnd_state rnd;
	char extra[160];
	int k;

	KUNIT_ASSERT_TRUE(test, map && live);
	for (k = 0; k < ARRAY_SIZE(rsv_impls); k++) {
		struct rsv r = { .test = test, .impl = &rsv_impls[k], .size = FILL_SIZE };
		unsigned long nr_live = 0, used = 0, first_fill, failures = 0, false_failures = 0;
		unsigned long i, pages, first, taken;
		struct pat_slot *s;
		u64 start, ns[BENCH_ROUNDS];

		if (r.impl->init(&r)) {
			kunit_info(test, "%s: no 4 GiB context", r.impl->name);
			continue;
		}
		bitmap_zero(map, FILL_PAGES);
		prandom_seed_state(&rnd, BENCH_SEED);
		for (i = 0; ; i++) {
			s = &live[nr_live];
			s->pages = pat_size(&rnd, &fill_case);
			s->handle = nr_live < FILL_MAX_LIVE ? r.impl->alloc(&r, s->pages) : 0;
			if (!s->handle)
				break;
			first = fill_span(&r, s->handle, s->pages, &taken);
			bitmap_set(map, first, taken);
			used += s->pages;
			nr_live++;
		}
		first_fill = div64_u64((u64)used * 100, FILL_PAGES);
		start = ktime_get_ns();
		for (i = 0; i < FILL_OPS; i++) {
			u32 x = prandom_u32_state(&rnd);

			if (x & 1 && nr_live) {
				s = &live[(x >> 1) % nr_live];
				first = fill_span(&r, s->handle, s->pages, &taken);
				bitmap_clear(map, first, taken);
				r.impl->free(&r, s->handle, s->pages);
				*s = live[--nr_live];
				continue;
			}
			if (nr_live == FILL_MAX_LIVE)
				continue;
			s = &live[nr_live];
			s->pages = pat_size(&rnd, &fill_case);
			s->handle = r.impl->alloc(&r, s->pages);
			if (!s->handle) {
				failures++;
				pages = bitmap_find_next_zero_area(map, FILL_PAGES, 0, s->pages, 0);
				false_failures += pages < FILL_PAGES;
				continue;
			}
			first = fill_span(&r, s->handle, s->pages, &taken);
			bitmap_set(map, first, taken);
			nr_live++;
		}
		for (i = 0; i < BENCH_ROUNDS; i++)
			ns[i] = ktime_get_ns() - start;
		snprintf(extra, sizeof(extra),
			 ", \"fill_percent\": %lu, \"failures\": %lu, \"false_failures\": %lu",
			 first_fill, failures, false_failures);
		bench_report(test, "fill", fill_case.name, r.impl->name,
			     bench_summarise(ns, FILL_OPS), extra);
		while (nr_live--)
			r.impl->free(&r, live[nr_live].handle, live[nr_live].pages);
		r.impl->fini(&r);
	}
	kvfree(live);
}

/*
 * Ageing: AGE_SEGS segments of AGE_SEG random frees among 10,000 live
 * reservations of 4 KiB to 128 KiB and 1 MiB, in a 4 GiB context; the
 * median segment of the first and of the last tenth, and the memory the
 * range caches hold after each.
 */
#define AGE_SEG		100000
#define AGE_SEGS	100

static const struct pat_case age_case = {
	"ageing", "", PAT_RANDOM, 10000, 32, true
};

static void vcm_bench_ageing(struct kunit *test)
{
	struct pat_slot *live = kunit_kcalloc(test, age_case.live, sizeof(*live), GFP_KERNEL);
	u64 *seg = kunit_kcalloc(test, AGE_SEGS, sizeof(*seg), GFP_KERNEL);
	struct rsv r = { .test = test, .impl = &rsv_impls[0], .size = FILL_SIZE };
	size_t bytes[2] = { };
	struct bench_result res;
	struct rnd_state rnd;
	char extra[80];
	int i, half;

	KUNIT_ASSERT_TRUE(test, live && seg);
	KUNIT_ASSERT_EQ(test, vcm_rsv_init(&r), 0);
	prandom_seed_state(&rnd, BENCH_SEED);
	for (i = 0; i < age_case.live; i++) {
		live[i].pages = pat_size(&rnd, &age_case);
		live[i].handle = vcm_rsv_alloc(&r, live[i].pages);
		KUNIT_ASSERT_NE(test, live[i].handle, 0);
	}
	for (i = 0; i < AGE_SEGS; i++) {
		seg[i] = pat_round(&r, &age_case, live, NULL, &rnd, AGE_SEG);
		KUNIT_ASSERT_NE(test, seg[i], 0);
		if (i == AGE_SEGS / 10 - 1)
			bytes[0] = vcm_mmu_cache_bytes(vcm_to_mmu(r.vcm));
	}
	bytes[1] = vcm_mmu_cache_bytes(vcm_to_mmu(r.vcm));
	for (half = 0; half < 2; half++) {
		u64 *part = seg + (half ? AGE_SEGS - AGE_SEGS / 10 : 0);

		for (i = 0; i < AGE_SEGS / 10; i++)
			part[i] = div64_u64(part[i], AGE_SEG);
		sort(part, AGE_SEGS / 10, sizeof(*part), cmp_u64, NULL);
		res.min = part[0];
		res.median = part[AGE_SEGS / 20];
		res.max = part[AGE_SEGS / 10 - 1];
		snprintf(extra, sizeof(extra), ", \"cache_bytes\": %zu, \"ops\": %u",
			 bytes[half], AGE_SEG * AGE_SEGS);
		bench_report(test, "ageing", half ? "random, last 10% of ops" :
			     "random, first 10% of ops", "vcm", res, extra);
	}
	for (i = 0; i < age_case.live; i++)
		vcm_rsv_free(&r, live[i].handle, live[i].pages);
	vcm_rsv_fini(&r);
}

/*
 * Bind + unbind of one physically contiguous buffer of each size on an
 * active SysMMU context, in the largest pages, against io-pgtable-arm-v7s:
 * the entries VCM wrote (each mapped and unmapped) and the time per entry.
 */
static const size_t map_sizes[] = { SZ_4K, SZ_64K, SZ_1M, SZ_16M, SZ_256M };

static void vcm_bench_map_sizes(struct kunit *test)
{
	struct vcm_phys *phys = kunit_kzalloc(test, struct_size(phys, parts, 1), GFP_KERNEL);
	struct rsv r = { .test = test };
	struct pgt_counts counts = { };
	int i;

	KUNIT_ASSERT_NOT_NULL(test, phys);
	KUNIT_ASSERT_EQ(test, vcm_rsv_init(&r), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(r.vcm), 0);
	for (i = 0; i < ARRAY_SIZE(map_sizes); i++) {
		size_t size = map_sizes[i];
		size_t pgsize = size >= SZ_1M ? SZ_1M : size;
		/* 64 KiB is 16 L2 entries; an L2 page needs its L1 entry. */
		unsigned long entries, min_entries = size >= SZ_1M ? size / SZ_1M :
						     1 + (size == SZ_64K ? 16 : 1);
		struct vcm_sysmmu_stats before, after;
		u64 vcm_ns[BENCH_ROUNDS], v7s_ns[BENCH_ROUNDS];
		struct io_pgtable_cfg cfg;
		struct bench_result res;
		struct vcm_res *vres;
		char what[32], extra[96];

		vcm_phys_init(phys, NULL);
		phys->count = 1;
		phys->size = size;
		phys->parts[0].start = MAP_BASE;
		phys->parts[0].size = size;
		snprintf(what, sizeof(what), "%zu%s, largest pages",
			 size >= SZ_1M ? size / SZ_1M : size / SZ_1K, size >= SZ_1M ? "M" : "K");
		vres = vcm_reserve(r.vcm, size, 0);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vres);
		time_bind_unbind(test, vres, phys, vcm_ns, &before, &after);
		vcm_unreserve(vres);
		entries = (after.l1_writes - before.l1_writes + after.l2_writes -
			   before.l2_writes) / BENCH_ROUNDS;
		res = bench_summarise(vcm_ns, 1);
		snprintf(extra, sizeof(extra),
			 ", \"entries\": %lu, \"min_entries\": %lu, \"ns_per_entry\": %llu",
			 entries, 2 * min_entries, div64_u64(res.median, max(entries, 1UL)));
		bench_report(test, "mapsize", what, "vcm", res, extra);

		cfg = v7s_cfg;
		time_pgtable(test, ARM_V7S, &cfg, phys, pgsize, v7s_ns, &counts);
		res = bench_summarise(v7s_ns, 1);
		snprintf(extra, sizeof(extra), ", \"ns_per_entry\": %llu",
			 div64_u64(res.median, 2 * min_entries));
		bench_report(test, "mapsize", what, "io-pgtable-arm-v7s", res, extra);
	}
	vcm_deactivate(r.vcm);
	vcm_rsv_fini(&r);
}

/*
 * Calibration: what the hardware's unit operations cost in this boot, so
 * that a VCM figure can be read as a multiple of them: an atomic increment
 * and decrement, the clean of 64 bytes of data cache for a device
 * (built in, where the architecture has one), a 32-bit register write to
 * a register window in memory.
 */
#define CALIB_OPS	100000

static void vcm_bench_calibrate(struct kunit *test)
{
	u32 *regs = sysmmu_window(test, SYSMMU_VERSION_MAKE(3, 3));
	void __iomem *reg = (void __force __iomem *)regs + SYSMMU_INT_CLEAR;
	u64 ns[3][BENCH_ROUNDS];
	atomic_t count = ATOMIC_INIT(0);
	int i, round;

	for (round = 0; round < BENCH_ROUNDS; round++) {
		u64 start = ktime_get_ns();

		for (i = 0; i < CALIB_OPS; i++) {
			atomic_inc(&count);
			atomic_dec(&count);
		}
		ns[0][round] = ktime_get_ns() - start;
		start = ktime_get_ns();
#if IS_BUILTIN(CONFIG_VCM_BENCH) && IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)
		for (i = 0; i < CALIB_OPS; i++)
			arch_sync_dma_for_device(virt_to_phys(regs), 64, DMA_TO_DEVICE);
#endif
		ns[1][round] = ktime_get_ns() - start;
		start = ktime_get_ns();
		for (i = 0; i < CALIB_OPS; i++)
			writel(i, reg);
		ns[2][round] = ktime_get_ns() - start;
	}
	bench_report(test, "calib", "atomic inc+dec", "cpu",
		     bench_summarise(ns[0], CALIB_OPS), "");
#if IS_BUILTIN(CONFIG_VCM_BENCH) && IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)
	bench_report(test, "calib", "64-byte cache clean", "cpu",
		     bench_summarise(ns[1], CALIB_OPS), "");
#endif
	bench_report(test, "calib", "writel to RAM window", "cpu",
		     bench_summarise(ns[2], CALIB_OPS), "");
}

/* ---- interrupts off: the longest section of a 64 MiB bind + unbind ---- */

#if IS_ENABLED(CONFIG_IRQSOFF_TRACER)
/*
 * The irqsoff tracer, set on a trace instance of the benchmark's own and
 * limited to the CPU the benchmark stays on, keeps the longest section
 * with interrupts disabled there since its max_latency was last reset,
 * where that section began and ended, and in which task.  The tracing
 * core has no API to read those, so the benchmark, built in, reads them
 * from its structures (kernel/trace/trace.h).  Idle is not counted; the
 * handlers of the interrupts that CPU takes meanwhile are.
 */
#include "../../kernel/trace/trace.h"

/* The longest section of one round, in ns, where it began and ended, in which task. */
struct irqsoff_round {
	unsigned long ns;
	unsigned long start, end;
	char comm[TASK_COMM_LEN];
};

static void irqsoff_instance_release(void *tr)
{
	tracing_set_tracer(tr, "nop");
	trace_array_put(tr);
	trace_array_destroy(tr);
}

static void irqsoff_reset(struct trace_array *tr)
{
	WRITE_ONCE(tr->max_latency, 0);
}

static void irqsoff_read(struct trace_array *tr, struct irqsoff_round *r)
{
	int cpu = READ_ONCE(tr->max_buffer.cpu);
	struct trace_array_cpu *data;

	r->ns = READ_ONCE(tr->max_latency);
	r->start = 0;
	r->end = 0;
	strscpy(r->comm, "?", sizeof(r->comm));
	if (!r->ns || cpu < 0 || cpu >= nr_cpu_ids)
		return;
	data = per_cpu_ptr(tr->max_buffer.data, cpu);
	if (data->saved_latency == r->ns) {
		r->start = data->critical_start;
		r->end = data->critical_end;
		strscpy(r->comm, data->comm, sizeof(r->comm));
	}
}

static u64 bench_median(const u64 ns[BENCH_ROUNDS])
{
	u64 sorted[BENCH_ROUNDS];

	memcpy(sorted, ns, sizeof(sorted));
	sort(sorted, BENCH_ROUNDS, sizeof(*sorted), cmp_u64, NULL);
	return sorted[BENCH_ROUNDS / 2];
}

static void irqsoff_report(struct kunit *test, const char *impl,
			   struct irqsoff_round rounds[BENCH_ROUNDS],
			   const char *extra)
{
	u64 ns[BENCH_ROUNDS];
	char sites[200];
	int i, worst = 0;

	for (i = 0; i < BENCH_ROUNDS; i++) {
		ns[i] = rounds[i].ns;
		if (rounds[i].ns > rounds[worst].ns)
			worst = i;
	}
	kunit_info(test, "irqsoff: %s: longest section with interrupts off on its CPU in a 64 MiB bind + unbind of 4 KiB pages: median %llu ns; worst %lu ns, in task %s, from %pS to %pS\n",
		   impl, bench_median(ns), rounds[worst].ns, rounds[worst].comm,
		   (void *)rounds[worst].start, (void *)rounds[worst].end);
	snprintf(sites, sizeof(sites),
		 ", \"worst_task\": \"%s\", \"worst_from\": \"%ps\", \"worst_to\": \"%ps\"%s",
		 rounds[worst].comm, (void *)rounds[worst].start,
		 (void *)rounds[worst].end, extra);
	bench_report(test, "irqsoff", "64M as 4K pages, longest", impl,
		     bench_summarise(ns, 1), sites);
}

/*
 * Per round, the longest section with interrupts off during a bind and
 * unbind of 64 MiB of 4 KiB pages (ns, not ns/op), on an active SysMMU
 * context and with io-pgtable-arm-v7s, which maps with interrupts on: its
 * figure is the floor, what the rest of the system causes meanwhile.
 */
static void vcm_bench_irqsoff(struct kunit *test)
{
	struct vcm_phys *phys = map_layout(test, false);
	struct irqsoff_round vcm[BENCH_ROUNDS], v7s[BENCH_ROUNDS];
	struct io_pgtable_cfg cfg = v7s_cfg;
	struct pgt_counts counts = { };
	struct vcm_sysmmu_stats stats;
	struct rsv r = { .test = test };
	struct io_pgtable_ops *ops;
	struct trace_array *tr;
	cpumask_var_t cpu;
	struct vcm_res *res;
	char extra[64];
	int round;

	tr = trace_array_get_by_name("vcm_bench_irqsoff", NULL);
	KUNIT_ASSERT_NOT_NULL(test, tr);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, irqsoff_instance_release, tr), 0);
	KUNIT_ASSERT_EQ(test, tracing_set_tracer(tr, "irqsoff"), 0);
	KUNIT_ASSERT_TRUE(test, alloc_cpumask_var(&cpu, GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, vcm_rsv_init(&r), 0);
	res = vcm_reserve(r.vcm, MAP_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, res);
	KUNIT_ASSERT_EQ(test, vcm_activate(r.vcm), 0);
	ops = alloc_io_pgtable_ops(ARM_V7S, &cfg, &counts);
	KUNIT_ASSERT_NOT_NULL(test, ops);

	/* From here on the benchmark stays on one CPU, the only one traced. */
	migrate_disable();
	cpumask_copy(cpu, cpumask_of(smp_processor_id()));
	KUNIT_EXPECT_EQ(test, tracing_set_cpumask(tr, cpu), 0);
	for (round = 0; round < BENCH_ROUNDS; round++) {
		irqsoff_reset(tr);
		KUNIT_EXPECT_EQ(test, vcm_bind(res, phys), 0);
		KUNIT_EXPECT_EQ(test, vcm_unbind(res), 0);
		irqsoff_read(tr, &vcm[round]);
	}
	for (round = 0; round < BENCH_ROUNDS; round++) {
		struct iommu_iotlb_gather gather;
		size_t done = 0;

		irqsoff_reset(tr);
		KUNIT_EXPECT_EQ(test, ops->map_pages(ops, RANGE_START, phys->parts[0].start,
						     SZ_4K, MAP_SIZE / SZ_4K,
						     IOMMU_READ | IOMMU_WRITE, GFP_KERNEL,
						     &done), 0);
		iommu_iotlb_gather_init(&gather);
		KUNIT_EXPECT_EQ(test, ops->unmap_pages(ops, RANGE_START, SZ_4K,
						       done / SZ_4K, &gather), done);
		pgt_flush_all(&counts);
		irqsoff_read(tr, &v7s[round]);
	}
	migrate_enable();
	free_cpumask_var(cpu);

	free_io_pgtable_ops(ops);
	KUNIT_ASSERT_EQ(test, vcm_sysmmu_stats(r.vcm, &stats), 0);
	vcm_deactivate(r.vcm);
	vcm_unreserve(res);
	vcm_rsv_fini(&r);
	snprintf(extra, sizeof(extra), ", \"irqsoff_entries\": %lu",
		 stats.irqsoff_entries_max);
	irqsoff_report(test, "vcm", vcm, extra);
	irqsoff_report(test, "io-pgtable-arm-v7s", v7s, "");
}
#else
static void vcm_bench_irqsoff(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IRQSOFF_TRACER");
}
#endif /* CONFIG_IRQSOFF_TRACER */

/* ---- allocation: vcm_phys_alloc() of 64 MiB on orders {8, 4, 0} ---- */

static const unsigned char sysmmu_orders[] = { 8, 4, 0 };

static void vcm_bench_alloc(struct kunit *test)
{
	u64 ns[BENCH_ROUNDS];
	resource_size_t in_1m = 0;
	char extra[80];
	int round;
	unsigned int i;

	for (round = 0; round < BENCH_ROUNDS; round++) {
		u64 start = ktime_get_ns();
		struct vcm_phys *phys = vcm_phys_alloc(SZ_64M, 0, sysmmu_orders);

		ns[round] = ktime_get_ns() - start;
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, phys);
		/* The first allocation is the fresh boot's. */
		for (i = 0; !round && i < phys->count; i++)
			if (phys->parts[i].size == SZ_1M)
				in_1m += SZ_1M;
		vcm_free(phys);
	}
	snprintf(extra, sizeof(extra), ", \"percent_1m\": %llu",
		 div64_u64((u64)in_1m * 100, SZ_64M));
	bench_report(test, "alloc", "64M on {8,4,0}", "vcm", bench_summarise(ns, 1),
		     extra);
}

/*
 * ---- on the IOMMU API: VCM against iommu_map_sg() and dma-iommu ----
 *
 * On one edu device behind QEMU's SMMUv3, with the same memory (VCM's,
 * in the domain's page sizes, as an sg_table for the peers): VCM's
 * reserve + bind + unbind + unreserve in an active context; the IOMMU
 * API directly (iommu_map_sg() + iommu_unmap() on a paging domain of the
 * device's, attached); and the DMA API (dma_map_sgtable() +
 * dma_unmap_sgtable() through dma-iommu on the default domain, strict or
 * lazy as the kernel was booted: iommu.strict=).  With kprobes, the
 * commands the SMMUv3 driver queues per operation (TLB invalidations and
 * syncs) are counted.
 */
#if IS_ENABLED(CONFIG_VCM_IOMMU) && IS_ENABLED(CONFIG_PCI) && !defined(VCM_COMPAT_6_1)
#define VCM_BENCH_IOMMU
#include <linux/dma-mapping.h>
#include <linux/kprobes.h>
#include <linux/scatterlist.h>
#include <linux/vcm-iommu.h>

#include "vcm_edu.h"

#define IOMMU_BENCH_START	SZ_16M
#define IOMMU_BENCH_SIZE	(SZ_256M - SZ_16M)

static atomic_long_t smmu_cmds;

#if IS_ENABLED(CONFIG_KPROBES) && IS_ENABLED(CONFIG_ARM_SMMU_V3)
/* arm_smmu_cmdq_issue_cmdlist(smmu, cmdq, cmds, n, sync) */
static int smmu_cmds_count(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_add(regs_get_kernel_argument(regs, 3) +
			!!regs_get_kernel_argument(regs, 4), &smmu_cmds);
	return 0;
}

static struct kprobe smmu_cmds_probe = {
	.symbol_name	= "arm_smmu_cmdq_issue_cmdlist",
	.pre_handler	= smmu_cmds_count,
};

static bool smmu_cmds_start(void)
{
	return !register_kprobe(&smmu_cmds_probe);
}

static void smmu_cmds_stop(void)
{
	unregister_kprobe(&smmu_cmds_probe);
}
#else
static bool smmu_cmds_start(void)
{
	return false;
}

static void smmu_cmds_stop(void)
{
}
#endif

enum iommu_bench_impl { IB_VCM, IB_IOMMU, IB_DMA };

struct iommu_bench {
	struct device *dev;
	struct vcm *vcm;
	struct vcm_phys *phys;
	struct iommu_domain *domain;
	struct sg_table sgt;
	resource_size_t size;
};

/* One operation of @impl: map @b's memory and unmap it again. */
static int iommu_bench_op(struct iommu_bench *b, enum iommu_bench_impl impl)
{
	struct vcm_res *res;
	ssize_t mapped;
	int ret;

	switch (impl) {
	case IB_VCM:
		res = vcm_reserve(b->vcm, b->size, 0);
		if (IS_ERR(res))
			return PTR_ERR(res);
		ret = vcm_bind(res, b->phys);
		if (!ret)
			ret = vcm_unbind(res);
		vcm_unreserve(res);
		return ret;
	case IB_IOMMU:
		mapped = iommu_map_sg(b->domain, IOMMU_BENCH_START, b->sgt.sgl,
				      b->sgt.orig_nents, IOMMU_READ | IOMMU_WRITE,
				      GFP_KERNEL);
		if (mapped != b->size)
			return mapped < 0 ? mapped : -EIO;
		iommu_unmap(b->domain, IOMMU_BENCH_START, b->size);
		return 0;
	case IB_DMA:
		ret = dma_map_sgtable(b->dev, &b->sgt, DMA_BIDIRECTIONAL, 0);
		if (!ret)
			dma_unmap_sgtable(b->dev, &b->sgt, DMA_BIDIRECTIONAL, 0);
		return ret;
	}
	return -EINVAL;
}

/* Times @ops operations of @impl per round, and reports them. */
static void iommu_bench_run(struct kunit *test, struct iommu_bench *b,
			    enum iommu_bench_impl impl, const char *what,
			    const char *name, unsigned int ops, bool counting)
{
	u64 ns[BENCH_ROUNDS];
	long cmds = 0;
	char extra[64] = "";
	unsigned int i;
	int round;

	for (round = 0; round < BENCH_ROUNDS; round++) {
		long before = atomic_long_read(&smmu_cmds);
		u64 start = ktime_get_ns();

		for (i = 0; i < ops; i++)
			KUNIT_ASSERT_EQ_MSG(test, iommu_bench_op(b, impl), 0, "%s", name);
		ns[round] = ktime_get_ns() - start;
		cmds += atomic_long_read(&smmu_cmds) - before;
		/*
		 * Untimed: a lazy default domain frees its device addresses
		 * from a flush queue's timer, and edu's 256 MiB of them run
		 * out otherwise.
		 */
		msleep(50);
	}
	if (counting)
		snprintf(extra, sizeof(extra), ", \"smmu_cmds\": %ld",
			 cmds / (BENCH_ROUNDS * ops));
	bench_report(test, "iommu", what, name, bench_summarise(ns, ops), extra);
}

/* An sg_table of @phys's parts, in order. */
static int iommu_bench_sgt(struct sg_table *sgt, const struct vcm_phys *phys)
{
	struct scatterlist *sg;
	unsigned int i;
	int ret;

	ret = sg_alloc_table(sgt, phys->count, GFP_KERNEL);
	if (ret)
		return ret;
	for_each_sgtable_sg(sgt, sg, i)
		sg_set_page(sg, phys->parts[i].page, phys->parts[i].size, 0);
	return 0;
}

static const resource_size_t iommu_bench_sizes[] = { SZ_64K, SZ_1M, SZ_64M };

static void vcm_bench_iommu_one(struct kunit *test, struct edu *edu,
				resource_size_t size, bool counting)
{
	struct iommu_bench b = { .dev = &edu->pdev->dev, .size = size };
	unsigned int ops = size >= SZ_64M ? 2 : size >= SZ_1M ? 64 : 256;
	struct iommu_domain *dflt;
	const char *dma_name;
	char what[48];
	int owner;

	dflt = iommu_get_domain_for_dev(b.dev);
	KUNIT_ASSERT_NOT_NULL(test, dflt);
	dma_name = dflt->type == IOMMU_DOMAIN_DMA_FQ ? "dma-iommu lazy" :
		   "dma-iommu strict";
	snprintf(what, sizeof(what), "%llu%c, %s boot",
		 (u64)(size >= SZ_1M ? size / SZ_1M : size / SZ_1K),
		 size >= SZ_1M ? 'M' : 'K',
		 dflt->type == IOMMU_DOMAIN_DMA_FQ ? "lazy" : "strict");

	/* VCM, on a context of its own, active. */
	b.vcm = vcm_iommu_create(b.dev, IOMMU_BENCH_START, IOMMU_BENCH_SIZE, "bench");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b.vcm);
	b.phys = vcm_alloc(b.vcm, size, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b.phys);
	KUNIT_ASSERT_EQ(test, iommu_bench_sgt(&b.sgt, b.phys), 0);
	KUNIT_ASSERT_EQ(test, vcm_activate(b.vcm), 0);
	iommu_bench_run(test, &b, IB_VCM, what, "vcm", ops, counting);
	vcm_deactivate(b.vcm);
	vcm_destroy(b.vcm);

	/* The IOMMU API on a paging domain of the device's. */
	KUNIT_ASSERT_EQ(test, iommu_device_claim_dma_owner(b.dev, &owner), 0);
	b.domain = iommu_paging_domain_alloc(b.dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b.domain);
	KUNIT_ASSERT_EQ(test, iommu_attach_device(b.domain, b.dev), 0);
	iommu_bench_run(test, &b, IB_IOMMU, what, "iommu_map_sg", ops, counting);
	iommu_detach_device(b.domain, b.dev);
	iommu_domain_free(b.domain);
	iommu_device_release_dma_owner(b.dev);

	/* The DMA API, on the default domain. */
	iommu_bench_run(test, &b, IB_DMA, what, dma_name, ops, counting);

	sg_free_table(&b.sgt);
	vcm_free(b.phys);
}

static void smmu_cmds_stop_action(void *unused)
{
	smmu_cmds_stop();
}

static void vcm_bench_iommu(struct kunit *test)
{
	struct edu *edu = edu_get(test, 0);
	bool counting = smmu_cmds_start();
	unsigned int i;

	if (counting)
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, smmu_cmds_stop_action,
								NULL), 0);
	for (i = 0; i < ARRAY_SIZE(iommu_bench_sizes); i++)
		vcm_bench_iommu_one(test, edu, iommu_bench_sizes[i], counting);
}

static int vcm_bench_init(struct kunit_suite *suite)
{
	return pci_register_driver(&edu_driver);
}

static void vcm_bench_exit(struct kunit_suite *suite)
{
	pci_unregister_driver(&edu_driver);
}
#endif /* VCM_BENCH_IOMMU */

static struct kunit_case vcm_bench_cases[] = {
	KUNIT_CASE_PARAM_ATTR(vcm_bench_reserve, rsv_case_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_SLOW(vcm_bench_map),
	KUNIT_CASE_SLOW(vcm_bench_ownership),
	KUNIT_CASE_SLOW(vcm_bench_alloc),
	KUNIT_CASE_SLOW(vcm_bench_irqsoff),
	KUNIT_CASE_PARAM_ATTR(vcm_bench_pattern, pat_case_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	KUNIT_CASE_SLOW(vcm_bench_fill),
	KUNIT_CASE_SLOW(vcm_bench_ageing),
	KUNIT_CASE_SLOW(vcm_bench_map_sizes),
	KUNIT_CASE_SLOW(vcm_bench_calibrate),
	KUNIT_CASE_PARAM_ATTR(vcm_bench_cpus, cpu_case_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
#ifdef VCM_BENCH_IOMMU
	KUNIT_CASE_SLOW(vcm_bench_iommu),
#endif
	{}
};

static struct kunit_suite vcm_bench_suite = {
	.name = "vcm_bench",
#ifdef VCM_BENCH_IOMMU
	.suite_init = vcm_bench_init,
	.suite_exit = vcm_bench_exit,
#endif
	.test_cases = vcm_bench_cases,
};

kunit_test_suite(vcm_bench_suite);

MODULE_DESCRIPTION("VCM benchmark against iova.c, genalloc, io-pgtable and kref");
MODULE_LICENSE("GPL");
