/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VCM KUnit suites that drive a SysMMU share: a register window
 * in memory, and a context on one.  Kept out of vcm_kunit.h, which the
 * core's suite includes in a kernel that has no SysMMU backend.
 */
#ifndef _VCM_KUNIT_SYSMMU_H
#define _VCM_KUNIT_SYSMMU_H

#include <kunit/test.h>
#include <linux/vcm-sysmmu.h>

#include "../../drivers/iommu/vcm-sysmmu-hw.h"
#include "vcm_kunit.h"

/*
 * A SysMMU register window in memory that reports @version and blocks at
 * once; KUnit frees it.
 */
static inline u32 *sysmmu_window(struct kunit *test, u32 version)
{
	u32 *regs = kunit_kzalloc(test, SYSMMU_REGS_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, regs);
	regs[SYSMMU_VERSION / 4] = version;
	regs[SYSMMU_MMU_STATUS / 4] = SYSMMU_STATUS_BLOCKED;
	return regs;
}

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
/*
 * A SysMMU context over [@start, @start + @size), on a register window in
 * memory, destroyed when the test ends.
 */
static inline struct vcm *sysmmu_context(struct kunit *test, dma_addr_t start,
					 resource_size_t size)
{
	u32 *regs = sysmmu_window(test, SYSMMU_VERSION_MAKE(3, 3));
	struct vcm *vcm;

	vcm = vcm_sysmmu_create(NULL, (void __force __iomem *)regs, NULL, start, size);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, vcm);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vcm_destroy_action, vcm), 0);
	return vcm;
}
#endif

#endif /* _VCM_KUNIT_SYSMMU_H */
