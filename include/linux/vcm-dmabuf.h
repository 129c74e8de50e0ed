/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Virtual Contiguous Memory (VCM) and the rest of the kernel: a vcm_phys
 * exported as a dma-buf, so that any dma-buf importer (a DRM driver, a
 * V4L2 codec, an ordinary DMA API user) can use memory a VCM driver
 * allocated, and a vcm_phys made from or turned into an sg_table.  See
 * mm/vcm-dmabuf.c.
 */
#ifndef _LINUX_VCM_DMABUF_H
#define _LINUX_VCM_DMABUF_H

#include <linux/err.h>
#include <linux/module.h>
#include <linux/types.h>

struct dma_buf;
struct sg_table;
struct vcm_phys;

#if IS_ENABLED(CONFIG_VCM_DMABUF)
struct dma_buf *__must_check __vcm_phys_export(struct vcm_phys *phys, int flags,
					       struct module *owner);
/* The dma-buf keeps the caller's module loaded: see __vcm_phys_export(). */
#define vcm_phys_export(phys, flags) __vcm_phys_export(phys, flags, THIS_MODULE)
struct vcm_phys *__must_check vcm_phys_from_dmabuf(struct dma_buf *dmabuf);
int __must_check vcm_phys_to_sgt(const struct vcm_phys *phys,
				 struct sg_table *sgt, unsigned int max_segment);
struct vcm_phys *__must_check
vcm_phys_from_sgt(const struct sg_table *sgt, void (*release)(void *data),
		  void *data);
#else
static inline struct dma_buf *vcm_phys_export(struct vcm_phys *phys, int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct vcm_phys *vcm_phys_from_dmabuf(struct dma_buf *dmabuf)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int vcm_phys_to_sgt(const struct vcm_phys *phys,
				  struct sg_table *sgt, unsigned int max_segment)
{
	return -EOPNOTSUPP;
}

static inline struct vcm_phys *
vcm_phys_from_sgt(const struct sg_table *sgt, void (*release)(void *data),
		  void *data)
{
	return ERR_PTR(-EOPNOTSUPP);
}
#endif

#endif /* _LINUX_VCM_DMABUF_H */
