/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM) on the kernel's IOMMU API: a context
 * over an iommu_domain of its own for one device, so that every IOMMU
 * driver Linux has (ARM SMMU v2 and v3, Intel VT-d, AMD-Vi,
 * virtio-iommu, ...) is a VCM backend.  See drivers/iommu/vcm-iommu.c.
 */
#ifndef _LINUX_VCM_IOMMU_H
#define _LINUX_VCM_IOMMU_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/vcm.h>

struct device;
struct iommu_domain;

struct vcm *__must_check
vcm_iommu_create(struct device *dev, dma_addr_t start, resource_size_t size,
		 const char *name);
struct vcm *__must_check
devm_vcm_iommu_create(struct device *dev, dma_addr_t start,
		      resource_size_t size, const char *name);
struct iommu_domain *vcm_iommu_domain(struct vcm *vcm);

#endif /* _LINUX_VCM_IOMMU_H */
