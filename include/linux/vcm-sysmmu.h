/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM): the Samsung SysMMU (v1-v3) backend.
 * A master device's driver gets its context with vcm_sysmmu_get(); board
 * bring-up code and tests make one over a register window with
 * vcm_sysmmu_create().  See drivers/iommu/vcm-sysmmu.c; the hardware's
 * register map is the driver's, in drivers/iommu/vcm-sysmmu-hw.h.
 */
#ifndef _LINUX_VCM_SYSMMU_H
#define _LINUX_VCM_SYSMMU_H

#include <linux/err.h>
#include <linux/irqreturn.h>
#include <linux/types.h>

struct clk;
struct device;
struct vcm;

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
 * @irqsoff_entries_max: the most page-table entries written in a row with
 *			interrupts disabled since the context was made (a
 *			stretch ends where the backend sees them enabled).
 * @pt_syncs:		dma_sync_single_for_device() calls made for the page
 *			tables (with a device only).
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
	unsigned long irqsoff_entries_max;
	unsigned long pt_syncs;
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
