/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KUnit facilities the VCM suites use that Linux 6.1 lacks, so that
 * the same suites run there unchanged.  Each block names the release that
 * brought the facility; on 6.8 and later (VCM_COMPAT_6_1 unset, see
 * mm/vcm-internal.h) it only includes the real header.  Upstream drops
 * this file and includes <kunit/static_stub.h>, <kunit/test-bug.h> and
 * <kunit/device.h> in its place.
 *
 * Before then, deferred actions and devices are KUnit resources, as they
 * are underneath in later releases.  A static stub is a resource named
 * after the function it replaces, which mm/vcm-internal.h's
 * KUNIT_STATIC_STUB_REDIRECT() looks up by that name: pass the function
 * itself, as the suites do, not an expression.
 */
#ifndef _VCM_KUNIT_COMPAT_H
#define _VCM_KUNIT_COMPAT_H

#include <kunit/test.h>

#include "../../mm/vcm-internal.h"

/* Linux 6.2: static stubs, kunit_get_current_test(). */
#ifndef VCM_COMPAT_6_1
#include <kunit/static_stub.h>
#include <kunit/test-bug.h>
#else
#include <linux/sched.h>

static inline struct kunit *kunit_get_current_test(void)
{
	return current->kunit_test;
}

static inline void vcm_kunit_activate_static_stub(struct kunit *test,
						  const char *name,
						  void *replacement)
{
	struct kunit_resource *res;

	kunit_destroy_named_resource(test, name);
	res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, res);
	KUNIT_ASSERT_EQ(test, kunit_add_named_resource(test, NULL, NULL, res,
						       name, replacement), 0);
}

#define kunit_activate_static_stub(test, real_fn_name, replacement_addr)	\
	vcm_kunit_activate_static_stub(test, #real_fn_name,			\
		(typeof(real_fn_name) *){ replacement_addr })

#define kunit_deactivate_static_stub(test, real_fn_name)			\
	kunit_destroy_named_resource(test, #real_fn_name)
#endif /* Linux before 6.2 */

/* Linux 6.5: deferred actions. */
#ifdef VCM_COMPAT_6_1
#define VCM_KUNIT_ACTION "vcm_kunit_action"

struct vcm_kunit_action {
	struct kunit_resource res;	/* first: KUnit kfree()s it */
	void (*action)(void *context);
	void *context;
};

static inline void vcm_kunit_action_run(struct kunit_resource *res)
{
	struct vcm_kunit_action *act = res->data;

	act->action(act->context);
}

static inline bool vcm_kunit_action_match(struct kunit *test,
					  struct kunit_resource *res,
					  void *match)
{
	const struct vcm_kunit_action *want = match, *act = res->data;

	return res->name && !strcmp(res->name, VCM_KUNIT_ACTION) &&
	       act->action == want->action && act->context == want->context;
}

static inline int kunit_add_action(struct kunit *test,
				   void (*action)(void *context), void *context)
{
	struct vcm_kunit_action *act = kzalloc(sizeof(*act), GFP_KERNEL);

	if (!act)
		return -ENOMEM;
	act->action = action;
	act->context = context;
	act->res.name = VCM_KUNIT_ACTION;
	act->res.should_kfree = true;
	return __kunit_add_resource(test, NULL, vcm_kunit_action_run,
				    &act->res, act);
}

static inline int kunit_add_action_or_reset(struct kunit *test,
					    void (*action)(void *context),
					    void *context)
{
	int ret = kunit_add_action(test, action, context);

	if (ret)
		action(context);
	return ret;
}

static inline void kunit_release_action(struct kunit *test,
					void (*action)(void *context),
					void *context)
{
	struct vcm_kunit_action want = { .action = action, .context = context };

	kunit_destroy_resource(test, vcm_kunit_action_match, &want);
}
#endif /* Linux before 6.5 */

/* Linux 6.6: test attributes; before, every test has the default ones. */
#ifndef KUNIT_CASE_SLOW
#define KUNIT_CASE_SLOW(test_name) KUNIT_CASE(test_name)
#define KUNIT_CASE_PARAM_ATTR(test_name, gen_params, ...) \
	KUNIT_CASE_PARAM(test_name, gen_params)
#endif /* Linux before 6.6 */

/* Linux 6.8: devices that KUnit unregisters at the end of the test. */
#ifndef VCM_COMPAT_6_1
#include <kunit/device.h>
#else
#include <linux/device.h>
#include <linux/dma-mapping.h>

static inline void vcm_kunit_device_unregister(void *dev)
{
	root_device_unregister(dev);
}

static inline struct device *kunit_device_register(struct kunit *test,
						   const char *name)
{
	struct device *dev = root_device_register(name);

	if (IS_ERR(dev))
		return dev;
	dev->dma_mask = &dev->coherent_dma_mask;
	dev->coherent_dma_mask = DMA_BIT_MASK(32);
	if (kunit_add_action_or_reset(test, vcm_kunit_device_unregister, dev))
		return ERR_PTR(-ENOMEM);
	return dev;
}

static inline void kunit_device_unregister(struct kunit *test,
					   struct device *dev)
{
	kunit_release_action(test, vcm_kunit_device_unregister, dev);
}
#endif /* Linux before 6.8 */

/* Linux 6.2: dma-buf's kernel mapping for a caller without the buffer's lock. */
#ifdef VCM_COMPAT_6_1
#define dma_buf_vmap_unlocked dma_buf_vmap
#define dma_buf_vunmap_unlocked dma_buf_vunmap
#endif /* Linux before 6.2 */

#endif /* _VCM_KUNIT_COMPAT_H */
