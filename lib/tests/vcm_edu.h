/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A driver for QEMU's edu PCI device (1234:11e8), for the suites that need
 * a device doing real DMA through an IOMMU: vcm_iommu, vcm_bench and the
 * pipeline sample (samples/vcm/).
 *
 * edu copies between RAM and a 4 KiB buffer of its own by DMA.  This
 * driver sets driver_managed_dma (VCM takes the device from the DMA API),
 * polls for completion (no MSI: an MSI write would fault in a domain of
 * VCM's) and keeps the bound devices in edus[], in probe order.  A suite
 * registers edu_driver when it starts and unregisters it when it ends.
 *
 * QEMU 7.2's edu aborts the whole VM on a transfer outside its buffer, or
 * one ending at its end: transfers start at EDU_BUFFER and are shorter
 * than 4 KiB.  Its bus addresses are 28 bits wide.
 */
#ifndef _VCM_EDU_H
#define _VCM_EDU_H

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/mutex.h>
#include <linux/pci.h>

#define EDU_ID			0x00
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98
#define  EDU_DMA_START		BIT(0)
#define  EDU_DMA_TO_RAM		BIT(1)
#define EDU_BUFFER		0x40000		/* the device's, 4 KiB */
#define EDU_DMA_BITS		28

struct edu {
	struct pci_dev *pdev;
	void __iomem *regs;
};

/* The edu devices bound, in probe order; under edu_lock. */
static DEFINE_MUTEX(edu_lock);
static struct edu *edus[2];

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu *edu;
	unsigned int i;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	edu->regs = pcim_iomap(pdev, 0, 0);
	if (!edu->regs)
		return -ENOMEM;
	if ((readl(edu->regs + EDU_ID) & 0xff) != 0xed)
		return -ENODEV;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return ret;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);
	mutex_lock(&edu_lock);
	for (i = 0; i < ARRAY_SIZE(edus) && edus[i]; i++)
		;
	if (i < ARRAY_SIZE(edus))
		edus[i] = edu;
	mutex_unlock(&edu_lock);
	return 0;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu *edu = pci_get_drvdata(pdev);
	unsigned int i;

	mutex_lock(&edu_lock);
	for (i = 0; i < ARRAY_SIZE(edus); i++)
		if (edus[i] == edu)
			edus[i] = NULL;
	mutex_unlock(&edu_lock);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(0x1234, 0x11e8) },
	{ }
};

static struct pci_driver edu_driver = {
	.name			= "vcm-edu",
	.id_table		= edu_ids,
	.probe			= edu_probe,
	.remove			= edu_remove,
	.driver_managed_dma	= true,
	/* Its users hold VCM contexts of the devices: no unbind under them. */
	.driver.suppress_bind_attrs = true,
};

/* Edu device @n, behind an IOMMU; skips the test if there is none. */
static inline struct edu *edu_get(struct kunit *test, unsigned int n)
{
	struct edu *edu;

	mutex_lock(&edu_lock);
	edu = edus[n];
	mutex_unlock(&edu_lock);
	if (!edu)
		kunit_skip(test, "no edu PCI device %u (QEMU: -device edu)", n);
	if (!device_iommu_mapped(&edu->pdev->dev))
		kunit_skip(test, "no IOMMU translates %s (QEMU: -machine iommu=smmuv3)",
			   pci_name(edu->pdev));
	return edu;
}

/* One transfer of @count bytes, polled; 0 or -ETIMEDOUT. */
static inline int edu_dma(struct edu *edu, dma_addr_t src, dma_addr_t dst,
			  u32 count, u32 cmd)
{
	unsigned int i;

	writel(lower_32_bits(src), edu->regs + EDU_DMA_SRC);
	writel(lower_32_bits(dst), edu->regs + EDU_DMA_DST);
	writel(count, edu->regs + EDU_DMA_COUNT);
	writel(cmd | EDU_DMA_START, edu->regs + EDU_DMA_CMD);
	for (i = 0; i < 500; i++) {
		if (!(readl(edu->regs + EDU_DMA_CMD) & EDU_DMA_START))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

#endif /* _VCM_EDU_H */
