// SPDX-License-Identifier: GPL-2.0
/*
 * Virtual Contiguous Memory (VCM): memory shared with the rest of the
 * kernel, as a dma-buf or an sg_table.
 *
 * vcm_phys_export() makes a dma-buf of a vcm_phys, so that any dma-buf
 * importer (a DRM driver, a V4L2 codec, an ordinary DMA API user) uses
 * memory a VCM driver allocated, unchanged: an importer's mapping is the
 * memory's pages mapped with the importer's own DMA API, its CPU access
 * syncs those mappings, its kernel mapping is the counted vcm_vmap(), and
 * userspace may mmap() the pages.  A VCM driver that receives the dma-buf
 * gets the vcm_phys itself back with vcm_phys_from_dmabuf() and binds it
 * into its own context.  vcm_phys_to_sgt() and vcm_phys_from_sgt() turn a
 * vcm_phys into an sg_table of its pages and back.
 *
 * Only memory whose parts all have struct pages is exported (the DMA API
 * maps pages; mmap() and vmap() need them too), and only memory that is
 * counted (built with a @free): a dma-buf may outlive its exporter.
 *
 * Lifetimes: a dma-buf holds a reference to its vcm_phys (vcm_phys_get()),
 * which its release drops, so the memory stays until the last of its
 * owner, its bindings and its dma-bufs is gone, in any order.
 *
 * Locking: struct vcm_dmabuf's @lock, a mutex, protects its attachments'
 * mappings.  The dma-buf core calls map_dma_buf and unmap_dma_buf with the
 * buffer's reservation lock held, and vmap and vunmap with it held too
 * (6.12) or with a mutex of its own (6.1); mmap, attach, detach,
 * begin_cpu_access and end_cpu_access run without either.  @lock nests
 * inside the reservation lock; vmap takes the vcm_phys's @vmap_lock, never
 * under @lock.  Every function here may sleep.
 */

#define pr_fmt(fmt) "vcm: " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/fcntl.h>
#include <linux/iosys-map.h>
#include <linux/list.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vcm-dmabuf.h>
#include <linux/vcm-drv.h>

#include <kunit/visibility.h>

#include "vcm-internal.h"

/**
 * struct vcm_dmabuf - what a dma-buf of VCM's points to.
 * @phys:	the memory; the dma-buf holds a reference to it.
 * @lock:	protects @attachments and their mappings.
 * @attachments: the importers' struct vcm_dmabuf_attachment.
 */
struct vcm_dmabuf {
	struct vcm_phys *phys;
	/* Protects the attachments and their mappings. */
	struct mutex lock;
	struct list_head attachments;
};

/**
 * struct vcm_dmabuf_attachment - one importer's device.
 * @node:	entry in struct vcm_dmabuf's @attachments.
 * @dev:	the importer's device.
 * @sgt:	the memory's pages, mapped for @dev while @mapped.
 * @out:	a copy of @sgt, which the importer gets.
 * @dir:	the direction @sgt is mapped in.
 * @mapped:	@sgt and @out are in use.
 *
 * The dma-buf core scrambles the page pointers of the table it hands an
 * importer (CONFIG_DMABUF_DEBUG), while the DMA API reads them to sync a
 * table: the exporter keeps the table it mapped, and gives a copy.
 */
struct vcm_dmabuf_attachment {
	struct list_head node;
	struct device *dev;
	struct sg_table sgt;
	struct sg_table out;
	enum dma_data_direction dir;
	bool mapped;
};

static const struct dma_buf_ops vcm_dmabuf_ops;

/**
 * vcm_phys_to_sgt() - Describe physical memory as an sg_table of its pages.
 * @phys: The memory; the caller holds a reference to it.
 * @sgt: The table to fill; the caller frees it with sg_free_table().
 * @max_segment: The largest entry, in bytes (rounded down to a multiple of
 *		 PAGE_SIZE): a part larger than that takes several entries.
 *		 For a device that will map it, the smaller of its
 *		 dma_max_mapping_size() and dma_get_max_seg_size(); else
 *		 UINT_MAX.
 *
 * The entries follow the parts in order; the table is not DMA mapped.
 *
 * Context: Process context.
 * Return: 0, or -EINVAL for a bad argument (a NULL or error @phys also
 * warns once), malformed memory or a @max_segment below PAGE_SIZE,
 * -EOPNOTSUPP if a part has no struct page (a carve-out), -E2BIG if it
 * takes more than UINT_MAX entries, -ENOMEM.
 */
int vcm_phys_to_sgt(const struct vcm_phys *phys, struct sg_table *sgt,
		    unsigned int max_segment)
{
	struct scatterlist *sg;
	u64 nents = 0;
	unsigned int i;
	int ret;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys) || !sgt))
		return -EINVAL;
	max_segment = round_down(max_segment, PAGE_SIZE);
	if (!max_segment || !vcm_phys_valid(phys))
		return -EINVAL;
	for (i = 0; i < phys->count; i++) {
		if (!phys->parts[i].page)
			return -EOPNOTSUPP;
		nents += div_u64((u64)phys->parts[i].size + max_segment - 1, max_segment);
	}
	if (nents > UINT_MAX)
		return -E2BIG;

	ret = vcm_should_fail_alloc() ? -ENOMEM :
	      sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;
	sg = sgt->sgl;
	for (i = 0; i < phys->count; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		resource_size_t done = 0;

		while (done < part->size) {
			unsigned int len = min_t(resource_size_t, part->size - done,
						 max_segment);

			sg_set_page(sg, nth_page(part->page, done >> PAGE_SHIFT), len, 0);
			sg = sg_next(sg);
			done += len;
		}
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vcm_phys_to_sgt);

/**
 * struct vcm_sgt_phys - memory that vcm_phys_from_sgt() made.
 * @release:	what vcm_phys_from_sgt() was given.
 * @data:	what @release is given.
 * @phys:	the memory; last, as it ends with its parts.
 */
struct vcm_sgt_phys {
	void (*release)(void *data);
	void *data;
	struct vcm_phys phys;
};

static void vcm_sgt_phys_free(struct vcm_phys *phys)
{
	struct vcm_sgt_phys *sp = container_of(phys, struct vcm_sgt_phys, phys);

	if (sp->release)
		sp->release(sp->data);
	kfree(sp);
}

/* Whether @sg's pages can be a part: page aligned and not empty. */
static bool vcm_sg_valid(struct scatterlist *sg)
{
	return sg_page(sg) && sg->length && PAGE_ALIGNED(sg->offset) &&
	       PAGE_ALIGNED(sg->length);
}

/**
 * vcm_phys_from_sgt() - Make physical memory of an sg_table's pages.
 * @sgt: The table; its CPU entries (the pages, not the DMA addresses)
 *	 are read, each page aligned and a whole number of pages.
 * @release: Called with @data when the memory is freed (the last of its
 *	     owner's vcm_free(), its bindings, its dma-bufs and the
 *	     references from vcm_phys_get() is gone, maybe from the work
 *	     item that releases files), to let go of the pages; or NULL.
 * @data: What @release is given.
 *
 * The memory's parts are the table's entries in order, with entries that
 * are physically contiguous joined.  The pages stay the caller's: they must
 * stay allocated, and @release's code loaded, until @release is called.
 * @sgt is not used afterwards.  It must be a table of the caller's pages,
 * not one from dma_buf_map_attachment(), whose page pointers are not the
 * importer's to read.
 *
 * Context: Process context.
 * Return: The memory, with its owner's reference, or ERR_PTR(-EINVAL) for a
 * NULL @sgt (which also warns once), an empty table or an entry without a
 * page or not page aligned, -ENOMEM.
 */
struct vcm_phys *vcm_phys_from_sgt(const struct sg_table *sgt,
				   void (*release)(void *data), void *data)
{
	struct vcm_phys_part *part = NULL;
	struct vcm_sgt_phys *sp;
	struct scatterlist *sg;
	unsigned int i, count = 0;
	phys_addr_t end = 0;

	if (VCM_WARN_ON_ONCE(!sgt))
		return ERR_PTR(-EINVAL);
	for_each_sgtable_sg(sgt, sg, i) {
		if (!vcm_sg_valid(sg))
			return ERR_PTR(-EINVAL);
		if (!count || sg_phys(sg) != end)
			count++;
		end = sg_phys(sg) + sg->length;
	}
	if (!count)
		return ERR_PTR(-EINVAL);

	sp = vcm_should_fail_alloc() ? NULL :
	     kzalloc(struct_size(sp, phys.parts, count), GFP_KERNEL);
	if (!sp)
		return ERR_PTR(-ENOMEM);
	sp->release = release;
	sp->data = data;
	for_each_sgtable_sg(sgt, sg, i) {
		if (part && part->start + part->size == sg_phys(sg)) {
			part->size += sg->length;
		} else {
			part = &sp->phys.parts[sp->phys.count++];
			part->start = sg_phys(sg);
			part->page = nth_page(sg_page(sg), sg->offset >> PAGE_SHIFT);
			part->size = sg->length;
		}
		sp->phys.size += sg->length;
	}
	/* Entries that run past the last physical address. */
	if (!vcm_phys_valid(&sp->phys)) {
		kfree(sp);
		return ERR_PTR(-EINVAL);
	}
	vcm_phys_init(&sp->phys, vcm_sgt_phys_free);
	return &sp->phys;
}
EXPORT_SYMBOL_GPL(vcm_phys_from_sgt);

/*
 * The DMA API's sync of an importer's mapping, for the CPU or for the
 * device.  A KUnit test redirects it with kunit_activate_static_stub() to
 * record the syncs.
 */
VISIBLE_IF_KUNIT void vcm_dmabuf_sync(struct device *dev, struct sg_table *sgt,
				      enum dma_data_direction dir, bool for_cpu)
{
	KUNIT_STATIC_STUB_REDIRECT(vcm_dmabuf_sync, dev, sgt, dir, for_cpu);
	if (for_cpu)
		dma_sync_sgtable_for_cpu(dev, sgt, dir);
	else
		dma_sync_sgtable_for_device(dev, sgt, dir);
}
EXPORT_SYMBOL_IF_KUNIT(vcm_dmabuf_sync);

static int vcm_dmabuf_attach(struct dma_buf *dmabuf,
			     struct dma_buf_attachment *attach)
{
	struct vcm_dmabuf *vd = dmabuf->priv;
	struct vcm_dmabuf_attachment *a;

	a = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	a->dev = attach->dev;
	attach->priv = a;
	mutex_lock(&vd->lock);
	list_add_tail(&a->node, &vd->attachments);
	mutex_unlock(&vd->lock);
	return 0;
}

static void __vcm_dmabuf_unmap(struct vcm_dmabuf_attachment *a)
{
	sg_free_table(&a->out);
	dma_unmap_sgtable(a->dev, &a->sgt, a->dir, 0);
	sg_free_table(&a->sgt);
	a->mapped = false;
}

static void vcm_dmabuf_detach(struct dma_buf *dmabuf,
			      struct dma_buf_attachment *attach)
{
	struct vcm_dmabuf *vd = dmabuf->priv;
	struct vcm_dmabuf_attachment *a = attach->priv;

	mutex_lock(&vd->lock);
	list_del(&a->node);
	if (VCM_WARN_ONCE(a->mapped, "vcm: %s detached from a dma-buf it still maps\n",
			  dev_name(a->dev)))
		__vcm_dmabuf_unmap(a);
	mutex_unlock(&vd->lock);
	kfree(a);
}

/* Copies the mapped table @from into @to, for the importer. */
static int vcm_dmabuf_copy(struct sg_table *to, struct sg_table *from)
{
	struct scatterlist *d, *s;
	unsigned int i;
	int ret;

	ret = vcm_should_fail_alloc() ? -ENOMEM :
	      sg_alloc_table(to, from->orig_nents, GFP_KERNEL);
	if (ret)
		return ret;
	d = to->sgl;
	for_each_sgtable_sg(from, s, i) {
		sg_set_page(d, sg_page(s), s->length, s->offset);
		sg_dma_address(d) = sg_dma_address(s);
		sg_dma_len(d) = sg_dma_len(s);
#if defined(CONFIG_NEED_SG_DMA_FLAGS) || \
	(defined(VCM_COMPAT_6_1) && defined(CONFIG_PCI_P2PDMA))
		d->dma_flags = s->dma_flags;
#endif
		d = sg_next(d);
	}
	to->nents = from->nents;
	return 0;
}

static struct sg_table *vcm_dmabuf_map(struct dma_buf_attachment *attach,
				       enum dma_data_direction dir)
{
	struct vcm_dmabuf *vd = attach->dmabuf->priv;
	struct vcm_dmabuf_attachment *a = attach->priv;
	unsigned int max_segment = min_t(size_t, dma_max_mapping_size(a->dev),
					 dma_get_max_seg_size(a->dev));
	int ret;

	mutex_lock(&vd->lock);
	if (a->mapped) {
		ret = -EBUSY;
		goto out;
	}
	ret = vcm_phys_to_sgt(vd->phys, &a->sgt, max_segment);
	if (ret)
		goto out;
	ret = vcm_should_fail_alloc() ? -ENOMEM :
	      dma_map_sgtable(a->dev, &a->sgt, dir, 0);
	if (ret)
		goto free_sgt;
	ret = vcm_dmabuf_copy(&a->out, &a->sgt);
	if (ret)
		goto unmap;
	a->dir = dir;
	a->mapped = true;
	mutex_unlock(&vd->lock);
	return &a->out;

unmap:
	dma_unmap_sgtable(a->dev, &a->sgt, dir, 0);
free_sgt:
	sg_free_table(&a->sgt);
out:
	mutex_unlock(&vd->lock);
	return ERR_PTR(ret);
}

static void vcm_dmabuf_unmap(struct dma_buf_attachment *attach,
			     struct sg_table *sgt, enum dma_data_direction dir)
{
	struct vcm_dmabuf *vd = attach->dmabuf->priv;
	struct vcm_dmabuf_attachment *a = attach->priv;

	mutex_lock(&vd->lock);
	if (!VCM_WARN_ONCE(!a->mapped || sgt != &a->out,
			   "vcm: %s unmaps a table the dma-buf did not give it\n",
			   dev_name(a->dev)))
		__vcm_dmabuf_unmap(a);
	mutex_unlock(&vd->lock);
}

/*
 * Syncs every importer's mapping, each in the direction it was mapped in
 * (the DMA API allows no other), for the CPU or for the devices.
 */
static void vcm_dmabuf_sync_all(struct vcm_dmabuf *vd, bool for_cpu)
{
	struct vcm_dmabuf_attachment *a;

	mutex_lock(&vd->lock);
	list_for_each_entry(a, &vd->attachments, node)
		if (a->mapped)
			vcm_dmabuf_sync(a->dev, &a->sgt, a->dir, for_cpu);
	mutex_unlock(&vd->lock);
}

static int vcm_dmabuf_begin_cpu_access(struct dma_buf *dmabuf,
				       enum dma_data_direction dir)
{
	vcm_dmabuf_sync_all(dmabuf->priv, true);
	return 0;
}

static int vcm_dmabuf_end_cpu_access(struct dma_buf *dmabuf,
				     enum dma_data_direction dir)
{
	vcm_dmabuf_sync_all(dmabuf->priv, false);
	return 0;
}

static int vcm_dmabuf_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vcm_dmabuf *vd = dmabuf->priv;
	void *vaddr = vcm_vmap(vd->phys);

	if (IS_ERR(vaddr))
		return PTR_ERR(vaddr);
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void vcm_dmabuf_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct vcm_dmabuf *vd = dmabuf->priv;

	vcm_vunmap(vd->phys, map->vaddr);
}

/*
 * Maps the pages from the vma's offset on; the core checked its size.  A
 * private mapping is refused: remap_pfn_range() maps a copy-on-write vma
 * only whole, in one call, and the parts take one call each.
 */
static int vcm_dmabuf_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct vcm_dmabuf *vd = dmabuf->priv;
	const struct vcm_phys *phys = vd->phys;
	resource_size_t skip = (resource_size_t)vma->vm_pgoff << PAGE_SHIFT;
	unsigned long addr = vma->vm_start;
	unsigned int i;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	for (i = 0; i < phys->count && addr < vma->vm_end; i++) {
		const struct vcm_phys_part *part = &phys->parts[i];
		unsigned long len;

		if (skip >= part->size) {
			skip -= part->size;
			continue;
		}
		len = min_t(resource_size_t, part->size - skip, vma->vm_end - addr);
		ret = remap_pfn_range(vma, addr, PHYS_PFN(part->start + skip), len,
				      vma->vm_page_prot);
		if (ret)
			return ret;
		addr += len;
		skip = 0;
	}
	return 0;
}

static void vcm_dmabuf_release(struct dma_buf *dmabuf)
{
	struct vcm_dmabuf *vd = dmabuf->priv;

	vcm_phys_put(vd->phys);
	mutex_destroy(&vd->lock);
	kfree(vd);
}

static const struct dma_buf_ops vcm_dmabuf_ops = {
	.attach			= vcm_dmabuf_attach,
	.detach			= vcm_dmabuf_detach,
	.map_dma_buf		= vcm_dmabuf_map,
	.unmap_dma_buf		= vcm_dmabuf_unmap,
	.release		= vcm_dmabuf_release,
	.begin_cpu_access	= vcm_dmabuf_begin_cpu_access,
	.end_cpu_access		= vcm_dmabuf_end_cpu_access,
	.mmap			= vcm_dmabuf_mmap,
	.vmap			= vcm_dmabuf_vmap,
	.vunmap			= vcm_dmabuf_vunmap,
};

/*
 * Whether @phys can be exported: its memory stays while a dma-buf
 * references it (@free), and every part has struct pages.
 */
static int vcm_phys_exportable(const struct vcm_phys *phys)
{
	unsigned int i;

	if (!vcm_phys_valid(phys))
		return -EINVAL;
	if (!phys->free)
		return -EOPNOTSUPP;
	for (i = 0; i < phys->count; i++)
		if (!phys->parts[i].page)
			return -EOPNOTSUPP;
	if (phys->size > SIZE_MAX)
		return -E2BIG;
	return 0;
}

/**
 * __vcm_phys_export() - Export physical memory as a dma-buf.
 * @phys: The memory; the caller holds a reference to it.
 * @flags: The dma-buf file's f_flags: O_ACCMODE bits (O_RDWR for a
 *	   writable mmap()) and O_CLOEXEC; dma_buf_fd() takes its own.
 * @owner: The exporting module, which the dma-buf keeps loaded while it
 *	   lives: the memory's ->free may be its code.  vcm_phys_export()
 *	   passes THIS_MODULE.
 *
 * The dma-buf takes its own reference to @phys, dropped when the dma-buf
 * is released: the caller may vcm_free() its memory at once.  Each call
 * makes a new dma-buf.  An importer maps its attachment with its own
 * device's DMA API; dma_buf_begin_cpu_access() and
 * dma_buf_end_cpu_access() sync the importers' mappings (each in the
 * direction it was mapped in), not the memory's VCM bindings, which their
 * drivers sync with vcm_sync_for_cpu() and vcm_sync_for_device() (a
 * device that wrote the memory is synced for the CPU by its own driver,
 * as with the DMA API, before the others use it); dma_buf_vmap() is
 * vcm_vmap(), and userspace may mmap() the pages, cached and shared
 * (MAP_PRIVATE is refused).  An attachment is mapped once at a time, in
 * entries no larger than its device's maximum segment.
 *
 * Context: Process context.
 * Return: The dma-buf, or ERR_PTR(-EINVAL) for a NULL or error @phys (which
 * also warns once), malformed memory or unknown @flags, -EOPNOTSUPP for
 * memory built with a NULL @free or with a part without struct pages (a
 * carve-out), -E2BIG for memory larger than a dma-buf's size_t, -ENOMEM.
 */
struct dma_buf *__vcm_phys_export(struct vcm_phys *phys, int flags,
				  struct module *owner)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct dma_buf *dmabuf;
	struct vcm_dmabuf *vd;
	int ret;

	might_sleep();
	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(phys)))
		return ERR_PTR(-EINVAL);
	if (flags & ~(O_ACCMODE | O_CLOEXEC))
		return ERR_PTR(-EINVAL);
	ret = vcm_phys_exportable(phys);
	if (ret)
		return ERR_PTR(ret);

	vd = vcm_should_fail_alloc() ? NULL : kzalloc(sizeof(*vd), GFP_KERNEL);
	if (!vd)
		return ERR_PTR(-ENOMEM);
	ret = vcm_phys_get(phys);
	if (ret) {
		kfree(vd);
		return ERR_PTR(ret);
	}
	vd->phys = phys;
	mutex_init(&vd->lock);
	INIT_LIST_HEAD(&vd->attachments);

	info.owner = owner;
	info.ops = &vcm_dmabuf_ops;
	info.size = phys->size;
	info.flags = flags;
	info.priv = vd;
	dmabuf = vcm_should_fail_alloc() ? ERR_PTR(-ENOMEM) : dma_buf_export(&info);
	if (IS_ERR(dmabuf)) {
		mutex_destroy(&vd->lock);
		kfree(vd);
		vcm_phys_put(phys);
	}
	return dmabuf;
}
EXPORT_SYMBOL_GPL(__vcm_phys_export);

/**
 * vcm_phys_from_dmabuf() - The memory a dma-buf of VCM's exports.
 * @dmabuf: A dma-buf the caller holds a reference to.
 *
 * Lets a VCM driver that received a dma-buf bind the memory itself into
 * its own context, at an address of its choosing, instead of importing it
 * through the DMA API.
 *
 * Context: Any context.
 * Return: The memory, with a reference for the caller to drop with
 * vcm_phys_put(), or ERR_PTR(-EINVAL) for a NULL or error @dmabuf (which
 * also warns once) or one that vcm_phys_export() did not make.
 */
struct vcm_phys *vcm_phys_from_dmabuf(struct dma_buf *dmabuf)
{
	struct vcm_dmabuf *vd;
	int ret;

	if (VCM_WARN_ON_ONCE(IS_ERR_OR_NULL(dmabuf)))
		return ERR_PTR(-EINVAL);
	if (dmabuf->ops != &vcm_dmabuf_ops)
		return ERR_PTR(-EINVAL);
	vd = dmabuf->priv;
	ret = vcm_phys_get(vd->phys);
	return ret ? ERR_PTR(ret) : vd->phys;
}
EXPORT_SYMBOL_GPL(vcm_phys_from_dmabuf);
