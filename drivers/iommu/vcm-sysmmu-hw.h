/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Samsung SysMMU v1-v3 as drivers/iommu/vcm-sysmmu.c drives it: the
 * register map and the page tables' geometry.  Private to the driver and
 * to what plays the hardware with a register window in RAM: the driver's
 * KUnit tests and the pipeline sample (samples/vcm/), which include it by
 * its path.  Master drivers need none of it: <linux/vcm-sysmmu.h>.
 */
#ifndef _VCM_SYSMMU_HW_H
#define _VCM_SYSMMU_HW_H

#include <linux/bits.h>
#include <linux/sizes.h>
#include <linux/types.h>

/* The registers of a SysMMU v1-v3: offsets into its register window. */
#define SYSMMU_MMU_CTRL			0x00
#define SYSMMU_MMU_CFG			0x04
#define SYSMMU_MMU_STATUS		0x08
#define SYSMMU_MMU_FLUSH		0x0c
#define SYSMMU_MMU_FLUSH_ENTRY		0x10
#define SYSMMU_PT_BASE_ADDR		0x14
#define SYSMMU_INT_STATUS		0x18
#define SYSMMU_INT_CLEAR		0x1c
#define SYSMMU_PAGE_FAULT_ADDR		0x24
#define SYSMMU_AW_FAULT_ADDR		0x28
#define SYSMMU_AR_FAULT_ADDR		0x2c
#define SYSMMU_DEFAULT_SLAVE_ADDR	0x30
#define SYSMMU_VERSION			0x34
#define SYSMMU_REGS_SIZE		0x38

#define SYSMMU_CTRL_ENABLE		BIT(0)
#define SYSMMU_CTRL_BLOCK		BIT(1)
#define SYSMMU_CTRL_IRQ			BIT(2)	/* fault interrupt enable */
#define SYSMMU_STATUS_BLOCKED		BIT(0)

/* INT_STATUS and INT_CLEAR. */
#define SYSMMU_INT_PAGE_FAULT		BIT(0)
#define SYSMMU_INT_AR_MULTI_HIT		BIT(1)
#define SYSMMU_INT_AW_MULTI_HIT		BIT(2)
#define SYSMMU_INT_BUS_ERROR		BIT(3)
#define SYSMMU_INT_AR_SECURITY		BIT(4)
#define SYSMMU_INT_AR_ACCESS		BIT(5)
#define SYSMMU_INT_AW_SECURITY		BIT(6)
#define SYSMMU_INT_AW_ACCESS		BIT(7)

/* The VERSION register: major in bits 31:28, minor in bits 27:21. */
#define SYSMMU_VERSION_MAKE(major, minor) \
	((u32)(major) << 28 | (u32)(minor) << 21)

/*
 * The page tables: a 16 KiB L1 table of 4096 entries, each for 1 MiB of
 * device addresses, and 1 KiB L2 tables of 256 entries, each for 4 KiB.
 */
#define SYSMMU_L1_ENTRIES		4096
#define SYSMMU_L1_SIZE			SZ_16K
#define SYSMMU_L2_ENTRIES		256
#define SYSMMU_L2_SIZE			SZ_1K

#if IS_ENABLED(CONFIG_KUNIT)
struct platform_device;

/* The driver's test interface: its KUnit tests put the window in RAM. */
void __iomem *vcm_sysmmu_ioremap(struct platform_device *pdev);
#endif

#endif /* _VCM_SYSMMU_HW_H */
