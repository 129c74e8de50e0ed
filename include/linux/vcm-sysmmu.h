/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM): the Samsung SysMMU (v1-v3) backend.
 * A master device's driver gets its context with vcm_sysmmu_get(); board
 * bring-up code and tests make one over a register window with
 * vcm_sysmmu_create().  See drivers/iommu/vcm-sysmmu.c.
 */
#ifndef _LINUX_VCM_SYSMMU_H
#define _LINUX_VCM_SYSMMU_H

#include <linux/bits.h>
#include <linux/err.h>
#include <linux/irqreturn.h>
#include <linux/sizes.h>
#include <linux/types.h>

struct clk;
struct device;
struct vcm;

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

/**
 * struct vcm_sysmmu_stats - what a SysMMU context did and has.
 * @major:		hardware version, major.
 * @minor:		hardware version, minor.
 * @pt_base:		physical address of the L1 table.
 * @pt_bytes:		bytes of page-table memory: the L1 table, the
 *			fault-only L2 table and the L2 tables in use.
 * @l1_writes:		L1 entries written by mapping and unmapping.
 * @l2_writes:		L2 entries written by mapping and unmapping (a
 *			64 KiB page is 16 entries).
 * @l2_tables:		L2 tables in use now.
 * @l2_allocs:		L2 tables allocated since the context was made.
 * @flush_entries:	writes to MMU_FLUSH_ENTRY (one TLB entry each).
 * @flush_alls:		writes to MMU_FLUSH (the whole TLB).
 * @blocks:		times the MMU was blocked to invalidate its TLB.
 * @block_timeouts:	times it did not report itself blocked in time.
 * @faults:		fault interrupt bits handled.
 * @last_fault_status:	INT_STATUS of the last fault interrupt.
 * @last_fault_addr:	device address of the last fault.
 */
struct vcm_sysmmu_stats {
	unsigned int major;
	unsigned int minor;
	phys_addr_t pt_base;
	size_t pt_bytes;
	unsigned long l1_writes;
	unsigned long l2_writes;
	unsigned long l2_tables;
	unsigned long l2_allocs;
	unsigned long flush_entries;
	unsigned long flush_alls;
	unsigned long blocks;
	unsigned long block_timeouts;
	unsigned long faults;
	u32 last_fault_status;
	u32 last_fault_addr;
};

struct vcm *__must_check vcm_sysmmu_create(struct device *dev,
					  void __iomem *regs, struct clk *clk,
					  dma_addr_t start,
					  resource_size_t size);
struct vcm *__must_check devm_vcm_sysmmu_create(struct device *dev,
					       void __iomem *regs,
					       struct clk *clk,
					       dma_addr_t start,
					       resource_size_t size);
int vcm_sysmmu_translate(struct vcm *vcm, dma_addr_t iova, phys_addr_t *paddr);
int vcm_sysmmu_stats(struct vcm *vcm, struct vcm_sysmmu_stats *stats);
irqreturn_t vcm_sysmmu_irq(int irq, void *vcm);
int vcm_sysmmu_suspend(struct vcm *vcm);
int vcm_sysmmu_resume(struct vcm *vcm);

#if IS_ENABLED(CONFIG_KUNIT)
struct platform_device;

/* For the KUnit tests, which put the register window in RAM. */
void __iomem *vcm_sysmmu_ioremap(struct platform_device *pdev);
#endif

#if IS_ENABLED(CONFIG_VCM_SYSMMU)
struct vcm *__must_check vcm_sysmmu_get(struct device *master,
					unsigned int index);
#else
static inline struct vcm *vcm_sysmmu_get(struct device *master,
					 unsigned int index)
{
	return ERR_PTR(-ENODEV);
}
#endif

#endif /* _LINUX_VCM_SYSMMU_H */
