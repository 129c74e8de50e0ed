// SPDX-License-Identifier: GPL-2.0
/*
 * A camera -> display pipeline on Virtual Contiguous Memory, told step by
 * step in the kernel log.
 *
 * A camera writes frames into a buffer that a display controller scans out.
 * Each device sees memory through its own IOMMU, here a Samsung SysMMU.
 * With VCM the buffer is allocated once, in pieces that the SysMMUs map with
 * their largest pages, and bound into both devices' address spaces: each
 * device sees it contiguous at an address of its own, and nothing is copied.
 * The camera's driver hands the buffer to the display's as a dma-buf, the
 * way drivers share buffers (vcm_phys_export()); the display's driver, a
 * VCM driver too, takes the memory itself from the dma-buf
 * (vcm_phys_from_dmabuf()) and binds it into its own context.
 *
 * QEMU's virt board has no SysMMU, so each SysMMU here is a platform device
 * with no hardware behind it and a register window in RAM that reports
 * version 3.3 and blocks at once.  The page tables VCM writes are the real
 * thing: the sample plays the devices by translating their addresses
 * through those tables with vcm_sysmmu_translate(), as a SysMMU would, and
 * accessing the memory at the physical address it gives.
 *
 * Where two of QEMU's edu PCI devices sit behind an IOMMU (arm64's virt
 * board with iommu=smmuv3: make run ARCH=arm64), the same steps run on
 * the IOMMU API backend instead and the devices are real: edu "camera"
 * copies the frame's pixels by DMA from a sensor buffer to the frame at
 * its VCM address, through the IOMMU, and edu "display" copies them from
 * the frame at its own VCM address to a scan-out buffer, where the CPU
 * checks them.  An edu transfer moves less than 4 KiB and takes about
 * 100 ms, so the camera writes 8 stripes of the frame, each across a page
 * boundary, not all of it.  The sample drives edu with lib/tests/vcm_edu.h.
 *
 * The sample is not a model of a master device's driver in one respect:
 * it plays the SysMMUs itself for bring-up, so it creates its own contexts
 * (vcm_sysmmu_create(), vcm_iommu_create()) and destroys them.  A master's
 * driver gets its context with vcm_sysmmu_get() in probe and never calls
 * vcm_destroy(): the guide has its skeleton.
 *
 * Each write of "next" to /sys/kernel/debug/vcm-pipeline/step runs the next
 * step, which says in the kernel log what it did; reading the file says
 * which step is next.  A script can look at the files under
 * /sys/kernel/debug/vcm/ between steps.  A step that fails undoes every
 * step before it and the write returns its error; writing "undo" does the
 * same at any time.  After the last step the pipeline starts over.
 *
 * Lifetimes: the SysMMU devices, their register windows and contexts, the
 * frame buffer and the reservations live in the one struct vcm_pipeline.
 * The last three steps release them in the guide's order (deactivate,
 * unbind, unreserve, drop the display's reference, free, destroy; of these
 * only unbinding before unreserving is required); pipeline_undo() does the
 * same from any state, on failure, on "undo" and when the module is
 * removed.
 *
 * Locking: pipeline.lock, a mutex, serialises the steps and the readers of
 * the step file; every field of struct vcm_pipeline is protected by it.
 */

#define pr_fmt(fmt) "vcm-pipeline: " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vcm.h>
#include <linux/vcm-dmabuf.h>
#include <linux/vcm-drv.h>
#include <linux/vcm-sysmmu.h>

/* It plays the SysMMUs: their register map is the driver's. */
#include "../../drivers/iommu/vcm-sysmmu-hw.h"

#if IS_ENABLED(CONFIG_VCM_IOMMU) && IS_ENABLED(CONFIG_PCI)
#define PIPELINE_EDU
#include <linux/iommu.h>
#include <linux/vcm-iommu.h>
#include "vcm_edu.h"
#endif

/* One VGA frame of XRGB8888 pixels: 300 pages of 4 KiB. */
#define FRAME_WIDTH		640
#define FRAME_HEIGHT		480
#define FRAME_BYTES		(FRAME_WIDTH * FRAME_HEIGHT * 4U)
#define FRAME_PAGES		(FRAME_BYTES / PAGE_SIZE)
#define PIXELS_PER_PAGE		(PAGE_SIZE / 4)

/* Pixel n of the camera's frame; unique, so a page out of place shows. */
#define CAMERA_SEED		0xca000000u

/*
 * The scaler's buffer, shared with the camera: 64 KiB, the camera writes
 * the first half and the scaler the second.  Seeds as above.
 */
#define THUMB_BYTES		SZ_64K
#define SCALER_SEED		0x5c000000u

#define CONTEXT_SIZE		((resource_size_t)SZ_256M)
#define SYSMMU_VERSION_PLAYED	SYSMMU_VERSION_MAKE(3, 3)

/* With edu: contexts under its 28-bit bus addresses; 8 stripes of pixels. */
#define EDU_CONTEXT_SIZE	((resource_size_t)SZ_64M)
#define STRIPES			8
#define STRIPE_BYTES		4000U

enum { CAMERA, DISPLAY, NR_DEVICES };

/**
 * struct pipeline_device - a device and the IOMMU in front of it.
 * @name:	the device: "camera" or "display".
 * @sysmmu_name: its SysMMU's platform device, which names the context.
 * @iommu_name:	its context's name on the IOMMU API.
 * @start:	first device address of its context.
 * @edu_start:	the same on the IOMMU API, under edu's 28 bits.
 * @ctx_name:	the name of its context: @sysmmu_name or @iommu_name.
 * @pdev:	the SysMMU's platform device, or NULL.
 * @edu:	the edu device that plays it on the IOMMU API, or NULL.
 * @frame:	the frame buffer as it holds it: the camera's is the owner's
 *		(struct vcm_pipeline's @frame), the display's a reference it
 *		took from the dma-buf; or NULL.
 * @own:	its own buffer there (the camera's sensor, the display's
 *		scan-out), bound in its context, or NULL.
 * @regs:	the SysMMU's register window, in RAM, or NULL.
 * @vcm:	its context, or NULL.
 * @res:	the frame buffer's reservation in @vcm, or NULL.
 * @bound:	the frame buffer is bound to @res.
 * @active:	@vcm is activated.
 */
struct pipeline_device {
	const char *name;
	const char *sysmmu_name;
	const char *iommu_name;
	dma_addr_t start;
	dma_addr_t edu_start;
	const char *ctx_name;
	struct platform_device *pdev;
#ifdef PIPELINE_EDU
	struct edu *edu;
#endif
	struct vcm_phys *frame;
	struct vcm_res *own;
	u32 *regs;
	struct vcm *vcm;
	struct vcm_res *res;
	bool bound;
	bool active;
};

/**
 * struct vcm_pipeline - what the steps made so far.
 * @lock:	serialises the steps and the readers of the step file.
 * @next:	index of the next step in pipeline_steps[].
 * @iommu:	the contexts are on the IOMMU API, with edu devices.
 * @edu_registered: the edu driver is registered, for those contexts.
 * @frame:	the frame buffer, or NULL.
 * @dev:	the camera and the display.
 * @scaler:	the scaler, a device without an IOMMU, or NULL.
 * @scaler_vcm:	its one-to-one context, or NULL.
 * @thumb:	the buffer the scaler shares with the camera, or NULL.
 * @thumb_scaler: @thumb's mapping in @scaler_vcm, or NULL.
 * @thumb_camera: @thumb's mapping in the camera's context, or NULL.
 * @dir:	the debugfs directory vcm-pipeline.
 */
struct vcm_pipeline {
	/* Serialises the steps; protects every other field. */
	struct mutex lock;
	unsigned int next;
	bool iommu;
	bool edu_registered;
	struct vcm_phys *frame;
	struct pipeline_device dev[NR_DEVICES];
	struct platform_device *scaler;
	struct vcm *scaler_vcm;
	struct vcm_phys *thumb;
	struct vcm_res *thumb_scaler;
	struct vcm_res *thumb_camera;
	struct dentry *dir;
};

static struct vcm_pipeline pipeline = {
	.lock = __MUTEX_INITIALIZER(pipeline.lock),
	.dev = {
		[CAMERA] = {
			.name = "camera",
			.sysmmu_name = "camera-sysmmu",
			.iommu_name = "camera-iommu",
			.start = SZ_256M,
			.edu_start = SZ_16M,
		},
		[DISPLAY] = {
			.name = "display",
			.sysmmu_name = "display-sysmmu",
			.iommu_name = "display-iommu",
			.start = SZ_1G,
			.edu_start = SZ_128M + SZ_32M,
		},
	},
};

static u32 sysmmu_reg(const struct pipeline_device *d, unsigned int offset)
{
	return READ_ONCE(d->regs[offset / 4]);
}

/* Checks that @d's IOMMU maps nothing at the start of its reservation. */
static int expect_fault(const struct vcm_pipeline *p,
			const struct pipeline_device *d)
{
	phys_addr_t paddr;
	int ret;

#ifdef PIPELINE_EDU
	if (p->iommu) {
		paddr = iommu_iova_to_phys(vcm_iommu_domain(d->vcm), d->res->start);
		if (paddr) {
			pr_err("%s: %pad translates to %pa while %s is not active\n",
			       d->name, &d->res->start, &paddr, d->ctx_name);
			return -EIO;
		}
		pr_info("%s: %pad has no entry in the IOMMU's page tables, and the device's DMA is blocked: nothing is mapped while the context is not active\n",
			d->name, &d->res->start);
		return 0;
	}
#endif
	ret = vcm_sysmmu_translate(d->vcm, d->res->start, &paddr);

	if (ret != -EFAULT) {
		pr_err("%s: %pad translates (%d) while %s is not active\n",
		       d->name, &d->res->start, ret, d->ctx_name);
		return -EIO;
	}
	pr_info("%s: an access to %pad faults (%pe): nothing is mapped while the context is not active\n",
		d->name, &d->res->start, ERR_PTR(ret));
	return 0;
}

/* ---- releasing, in the order a driver must; each does what is left ---- */

static void pipeline_deactivate(struct vcm_pipeline *p)
{
	unsigned int i;

	for (i = 0; i < NR_DEVICES; i++) {
		if (p->dev[i].active)
			vcm_deactivate(p->dev[i].vcm);
		p->dev[i].active = false;
	}
}

/* Returns the first error of vcm_unbind(), after releasing everything. */
static int pipeline_unbind(struct vcm_pipeline *p)
{
	struct pipeline_device *d;
	unsigned int i;
	int ret = 0, err;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		err = d->bound ? vcm_unbind(d->res) : 0;
		if (err) {
			pr_err("%s: vcm_unbind() failed: %d\n", d->name, err);
			ret = ret ?: err;
		}
		d->bound = false;
		if (d->res)
			vcm_unreserve(d->res);
		d->res = NULL;
	}
	if (p->thumb_scaler)
		vcm_unmap(p->thumb_scaler);
	p->thumb_scaler = NULL;
	if (p->thumb_camera)
		vcm_unmap(p->thumb_camera);
	p->thumb_camera = NULL;
	if (p->thumb)
		vcm_free(p->thumb);
	p->thumb = NULL;
	if (p->dev[DISPLAY].frame)
		vcm_phys_put(p->dev[DISPLAY].frame);
	p->dev[DISPLAY].frame = NULL;
	if (p->frame)
		vcm_free(p->frame);
	p->frame = NULL;
	p->dev[CAMERA].frame = NULL;
	return ret;
}

static void pipeline_destroy(struct vcm_pipeline *p)
{
	struct pipeline_device *d;
	unsigned int i;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		if (d->own)
			vcm_destroy_binding(d->own);
		d->own = NULL;
		if (d->vcm)
			vcm_destroy(d->vcm);
		d->vcm = NULL;
		if (d->pdev)
			platform_device_unregister(d->pdev);
		d->pdev = NULL;
		kfree(d->regs);
		d->regs = NULL;
	}
	if (p->scaler_vcm)
		vcm_destroy(p->scaler_vcm);
	p->scaler_vcm = NULL;
	if (p->scaler)
		platform_device_unregister(p->scaler);
	p->scaler = NULL;
#ifdef PIPELINE_EDU
	if (p->edu_registered)
		pci_unregister_driver(&edu_driver);
	p->edu_registered = false;
#endif
}

/* Releases whatever the steps made, and starts over. */
static void pipeline_undo(struct vcm_pipeline *p)
{
	lockdep_assert_held(&p->lock);
	pipeline_deactivate(p);
	pipeline_unbind(p);
	pipeline_destroy(p);
	p->next = 0;
}

/* ---- the steps ---- */

static int contexts_sysmmu(struct vcm_pipeline *p)
{
	struct vcm_sysmmu_stats stats;
	struct pipeline_device *d;
	dma_addr_t end;
	unsigned int i;
	int ret;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		d->ctx_name = d->sysmmu_name;
		d->regs = kzalloc(SYSMMU_REGS_SIZE, GFP_KERNEL);
		if (!d->regs)
			return -ENOMEM;
		d->regs[SYSMMU_VERSION / 4] = SYSMMU_VERSION_PLAYED;
		d->regs[SYSMMU_MMU_STATUS / 4] = SYSMMU_STATUS_BLOCKED;

		d->pdev = platform_device_register_simple(d->sysmmu_name,
							  PLATFORM_DEVID_NONE,
							  NULL, 0);
		if (IS_ERR(d->pdev)) {
			ret = PTR_ERR(d->pdev);
			d->pdev = NULL;
			pr_err("%s: cannot register its SysMMU device: %pe\n",
			       d->name, ERR_PTR(ret));
			return ret;
		}
		d->vcm = vcm_sysmmu_create(&d->pdev->dev,
					   (void __force __iomem *)d->regs,
					   NULL, d->start, CONTEXT_SIZE);
		if (IS_ERR(d->vcm)) {
			ret = PTR_ERR(d->vcm);
			d->vcm = NULL;
			pr_err("%s: vcm_sysmmu_create() failed: %pe\n",
			       d->name, ERR_PTR(ret));
			return ret;
		}
		ret = vcm_sysmmu_stats(d->vcm, &stats);
		if (ret)
			return ret;
		end = d->vcm->start + d->vcm->size - 1;
		pr_info("%s: SysMMU v%u.%u (registers in RAM), device addresses %pad-%pad, L1 table at %pa\n",
			d->sysmmu_name, stats.major, stats.minor,
			&d->vcm->start, &end, &stats.pt_base);
	}
	return 0;
}

#ifdef PIPELINE_EDU
/*
 * Binds the edu driver (only while the pipeline's contexts exist, so that
 * the KUnit suites can bind it the rest of the time); whether two edu
 * devices are bound and an IOMMU translates both.
 */
static bool edus_ready(struct vcm_pipeline *p)
{
	unsigned int i;
	bool ready = true;

	if (pci_register_driver(&edu_driver))
		return false;
	p->edu_registered = true;
	mutex_lock(&edu_lock);
	for (i = 0; i < NR_DEVICES; i++) {
		p->dev[i].edu = edus[i];
		ready &= edus[i] && device_iommu_mapped(&edus[i]->pdev->dev);
	}
	mutex_unlock(&edu_lock);
	if (!ready) {
		pci_unregister_driver(&edu_driver);
		p->edu_registered = false;
	}
	return ready;
}

/*
 * A context on the IOMMU API for each edu device, and in it the device's
 * own buffer of a page: the camera's sensor, the display's scan-out.
 */
static int contexts_iommu(struct vcm_pipeline *p)
{
	struct pipeline_device *d;
	struct vcm_res *own;
	struct vcm *vcm;
	dma_addr_t end;
	unsigned int i;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		d->ctx_name = d->iommu_name;
		vcm = vcm_iommu_create(&d->edu->pdev->dev, d->edu_start,
				       EDU_CONTEXT_SIZE, d->iommu_name);
		if (IS_ERR(vcm)) {
			pr_err("%s: vcm_iommu_create() failed: %pe\n", d->name, vcm);
			return PTR_ERR(vcm);
		}
		d->vcm = vcm;
		own = vcm_make_binding(vcm, PAGE_SIZE, 0, 0);
		if (IS_ERR(own)) {
			pr_err("%s: vcm_make_binding() failed: %pe\n", d->name, own);
			return PTR_ERR(own);
		}
		d->own = own;
		end = vcm->start + vcm->size - 1;
		pr_info("%s: edu %s, in an IOMMU domain of its own (page sizes %#lx): device addresses %pad-%pad; its %s buffer, a page, at %pad\n",
			d->iommu_name, pci_name(d->edu->pdev),
			vcm_iommu_domain(vcm)->pgsize_bitmap, &vcm->start, &end,
			i == CAMERA ? "sensor" : "scan-out", &own->start);
	}
	return 0;
}
#endif

static int step_contexts(struct vcm_pipeline *p)
{
#ifdef PIPELINE_EDU
	p->iommu = edus_ready(p);
	if (p->iommu)
		return contexts_iommu(p);
#endif
	return contexts_sysmmu(p);
}

static int step_alloc(struct vcm_pipeline *p)
{
	unsigned int i, n_1m = 0, n_64k = 0, n_4k = 0, n_other = 0;
	struct vcm_phys *frame;

	frame = vcm_alloc(p->dev[CAMERA].vcm, FRAME_BYTES, 0);
	if (IS_ERR(frame)) {
		pr_err("vcm_alloc() of %u bytes failed: %pe\n",
		       FRAME_BYTES, frame);
		return PTR_ERR(frame);
	}
	p->frame = frame;
	p->dev[CAMERA].frame = frame;
	for (i = 0; i < frame->count; i++) {
		switch (frame->parts[i].size) {
		case SZ_1M:
			n_1m++;
			break;
		case SZ_64K:
			n_64k++;
			break;
		case SZ_4K:
			n_4k++;
			break;
		default:
			n_other++;
		}
	}
	pr_info("frame buffer: %ux%u XRGB8888, %u bytes in %u physical parts: %u of 1 MiB, %u of 64 KiB, %u of 4 KiB\n",
		FRAME_WIDTH, FRAME_HEIGHT, FRAME_BYTES, frame->count,
		n_1m, n_64k, n_4k);
	if (n_other)
		pr_info("frame buffer: %u parts of other sizes\n", n_other);
	pr_info("first part at %pa, last at %pa: scattered, as the IOMMUs' page sizes allow\n",
		&frame->parts[0].start, &frame->parts[frame->count - 1].start);
	return 0;
}

/*
 * The camera's driver hands the frame to the display's as a dma-buf, the
 * way drivers share buffers; the display's, a VCM driver too, takes the
 * memory itself from it, with a reference of its own, to bind into its
 * own context.  The dma-buf was only the handle: it is put at once (it
 * would keep this module loaded while it lives, as its exporter).
 */
static int step_export(struct vcm_pipeline *p)
{
	struct pipeline_device *d = &p->dev[DISPLAY];
	struct dma_buf *dmabuf;
	struct vcm_phys *frame;

	dmabuf = vcm_phys_export(p->frame, O_RDWR | O_CLOEXEC);
	if (IS_ERR(dmabuf)) {
		pr_err("camera: vcm_phys_export() failed: %pe\n", dmabuf);
		return PTR_ERR(dmabuf);
	}
	pr_info("camera: exported the frame buffer as a dma-buf of %zu bytes, which holds a reference to it\n",
		dmabuf->size);
	frame = vcm_phys_from_dmabuf(dmabuf);
	/* Its file goes, and with it its reference, on return to userspace. */
	dma_buf_put(dmabuf);
	if (IS_ERR(frame)) {
		pr_err("display: vcm_phys_from_dmabuf() failed: %pe\n", frame);
		return PTR_ERR(frame);
	}
	d->frame = frame;
	pr_info("display: took the frame buffer from the dma-buf, with a reference of its own (%u parts, the camera's very memory), and put the dma-buf\n",
		frame->count);
	return frame == p->frame ? 0 : -EIO;
}

static int step_reserve(struct vcm_pipeline *p)
{
	struct pipeline_device *d;
	struct vcm_res *res;
	dma_addr_t end;
	unsigned int i;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		res = vcm_reserve(d->vcm, FRAME_BYTES, 0);
		if (IS_ERR(res)) {
			pr_err("%s: vcm_reserve() failed: %pe\n", d->name, res);
			return PTR_ERR(res);
		}
		d->res = res;
		end = res->start + res->res_size - 1;
		pr_info("%s: reserved %pad-%pad in %s's context\n",
			d->name, &res->start, &end, d->ctx_name);
	}
	return 0;
}

static int step_bind(struct vcm_pipeline *p)
{
	struct pipeline_device *d;
	unsigned int i;
	int ret;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		ret = vcm_bind(d->res, d->frame);
		if (ret) {
			pr_err("%s: vcm_bind() failed: %pe\n", d->name,
			       ERR_PTR(ret));
			return ret;
		}
		d->bound = true;
		pr_info("%s: the frame buffer is bound to %pad (%pa bytes)\n",
			d->name, &d->res->start, &d->res->bound_size);
		ret = expect_fault(p, d);
		if (ret)
			return ret;
	}
	return 0;
}

static int step_activate(struct vcm_pipeline *p)
{
	struct vcm_sysmmu_stats stats;
	struct pipeline_device *d;
	unsigned int i;
	u32 base;
	int ret;

	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		ret = vcm_activate(d->vcm);
		if (ret) {
			pr_err("%s: vcm_activate() failed: %pe\n", d->name,
			       ERR_PTR(ret));
			return ret;
		}
		d->active = true;
#ifdef PIPELINE_EDU
		if (p->iommu) {
			struct iommu_domain *domain = vcm_iommu_domain(d->vcm);
			phys_addr_t paddr = iommu_iova_to_phys(domain, d->res->start);

			pr_info("%s: its domain attached to %s; the binding mapped: %pad translates to %pa, the frame's first part\n",
				d->ctx_name, pci_name(d->edu->pdev), &d->res->start,
				&paddr);
			if (iommu_get_domain_for_dev(&d->edu->pdev->dev) != domain ||
			    paddr != p->frame->parts[0].start)
				return -EIO;
			continue;
		}
#endif
		ret = vcm_sysmmu_stats(d->vcm, &stats);
		if (ret)
			return ret;
		base = sysmmu_reg(d, SYSMMU_PT_BASE_ADDR);
		pr_info("%s: MMU_CTRL %#x (enabled), PT_BASE_ADDR %#x (its L1 table); the binding mapped: %lu L1 and %lu L2 entries written, L2 tables in use: %lu\n",
			d->sysmmu_name, sysmmu_reg(d, SYSMMU_MMU_CTRL), base,
			stats.l1_writes, stats.l2_writes, stats.l2_tables);
		if (!(sysmmu_reg(d, SYSMMU_MMU_CTRL) & SYSMMU_CTRL_ENABLE) ||
		    base != stats.pt_base) {
			pr_err("%s: not enabled on its L1 table at %pa\n",
			       d->sysmmu_name, &stats.pt_base);
			return -EIO;
		}
	}
	return 0;
}

/*
 * Page @i of @d's reservation, as its SysMMU translates it: sets @iova and
 * @paddr, and returns the order of the page that maps it, or -EIO.
 */
static int device_page(const struct pipeline_device *d, unsigned int i,
		       dma_addr_t *iova, phys_addr_t *paddr)
{
	int order;

	*iova = d->res->start + i * PAGE_SIZE;
	order = vcm_sysmmu_translate(d->vcm, *iova, paddr);
	if (order < 0) {
		pr_err("%s: %pad does not translate: %pe\n", d->name, iova,
		       ERR_PTR(order));
		return -EIO;
	}
	return order;
}

#ifdef PIPELINE_EDU
/* Stripe @k of the frame: across a page boundary, 4-byte aligned. */
static u32 stripe_offset(unsigned int k)
{
	return ALIGN_DOWN(FRAME_BYTES / STRIPES * k, PAGE_SIZE) + PAGE_SIZE - 2000;
}

/* edu @d copies @count bytes from @from to @to by DMA through its IOMMU. */
static int edu_copy(const struct pipeline_device *d, dma_addr_t from,
		    dma_addr_t to, u32 count)
{
	int ret = edu_dma(d->edu, from, EDU_BUFFER, count, 0);

	if (!ret)
		ret = edu_dma(d->edu, EDU_BUFFER, to, count, EDU_DMA_TO_RAM);
	if (ret)
		pr_err("%s: edu's DMA from %pad to %pad did not end: %pe\n",
		       d->name, &from, &to, ERR_PTR(ret));
	return ret;
}

/* The sensor holds stripe @k's pixels; edu copies them into the frame. */
static int camera_edu(struct vcm_pipeline *p)
{
	const struct pipeline_device *d = &p->dev[CAMERA];
	u32 *sensor, first;
	unsigned int k, w;
	int ret;

	for (k = 0; k < STRIPES; k++) {
		first = stripe_offset(k) / 4;
		sensor = kmap_local_page(d->own->phys->parts[0].page);
		for (w = 0; w < STRIPE_BYTES / 4; w++)
			sensor[w] = CAMERA_SEED ^ (first + w);
		kunmap_local(sensor);
		/* The CPU wrote the sensor's pixels: the device reads them. */
		ret = vcm_sync_for_device(d->own, 0, STRIPE_BYTES, DMA_TO_DEVICE) ?:
		      edu_copy(d, d->own->start, d->res->start + stripe_offset(k),
			       STRIPE_BYTES);
		if (ret)
			return ret;
	}
	pr_info("camera: edu %s copied %u stripes of %u bytes (pixel n = %#x ^ n) by DMA from its sensor at %pad to the frame at %pad + %#x ... + %#x, through its IOMMU\n",
		pci_name(d->edu->pdev), STRIPES, STRIPE_BYTES, CAMERA_SEED,
		&d->own->start, &d->res->start, stripe_offset(0),
		stripe_offset(STRIPES - 1));
	return 0;
}

/*
 * edu copies each stripe from the frame, at the display's own address of
 * it, to its scan-out buffer; the CPU checks the pixels there, and the
 * whole frame through vcm_vmap().
 */
static int display_edu(struct vcm_pipeline *p)
{
	const struct pipeline_device *camera = &p->dev[CAMERA];
	const struct pipeline_device *d = &p->dev[DISPLAY];
	unsigned int k, w, bad = 0, cpu_bad = 0, shared = 0, stripe;
	struct iommu_domain *cd = vcm_iommu_domain(camera->vcm);
	struct iommu_domain *dd = vcm_iommu_domain(d->vcm);
	u32 *map, first, want;
	int ret;

	for (k = 0; k < STRIPES; k++) {
		ret = edu_copy(d, d->res->start + stripe_offset(k), d->own->start,
			       STRIPE_BYTES) ?:
		      vcm_sync_for_cpu(d->own, 0, STRIPE_BYTES, DMA_FROM_DEVICE);
		if (ret)
			return ret;
		first = stripe_offset(k) / 4;
		map = kmap_local_page(d->own->phys->parts[0].page);
		for (w = 0; w < STRIPE_BYTES / 4; w++)
			bad += map[w] != (CAMERA_SEED ^ (first + w));
		kunmap_local(map);
	}
	for (k = 0; k < FRAME_PAGES; k++)
		shared += iommu_iova_to_phys(dd, d->res->start + k * PAGE_SIZE) ==
			  iommu_iova_to_phys(cd, camera->res->start + k * PAGE_SIZE);
	pr_info("display: edu %s read %u pixels by DMA from the frame at %pad + %#x ... + %#x, through its IOMMU, into its scan-out buffer: %u differ from what the camera wrote\n",
		pci_name(d->edu->pdev), STRIPES * STRIPE_BYTES / 4,
		&d->res->start, stripe_offset(0), stripe_offset(STRIPES - 1), bad);
	pr_info("display: %u of %lu pages are the very physical pages the camera wrote: shared, not copied\n",
		shared, FRAME_PAGES);

	/* The camera wrote the frame: the CPU reads it. */
	ret = vcm_sync_for_cpu(camera->res, 0, FRAME_BYTES, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	map = vcm_vmap(p->frame);
	if (IS_ERR(map)) {
		pr_err("vcm_vmap() failed: %pe\n", map);
		return PTR_ERR(map);
	}
	for (w = 0; w < FRAME_BYTES / 4; w++) {
		for (k = 0, stripe = 0; k < STRIPES; k++)
			stripe |= w >= stripe_offset(k) / 4 &&
				  w < (stripe_offset(k) + STRIPE_BYTES) / 4;
		want = stripe ? CAMERA_SEED ^ w : 0;
		cpu_bad += map[w] != want;
	}
	ret = vcm_vunmap(p->frame, map);
	pr_info("CPU: read the whole frame through vcm_vmap(): %u pixels differ from the stripes the camera wrote and the zeros around them\n",
		cpu_bad);
	if (ret)
		return ret;
	return bad || cpu_bad || shared != FRAME_PAGES ? -EIO : 0;
}
#endif

static int step_camera(struct vcm_pipeline *p)
{
	const struct pipeline_device *d = &p->dev[CAMERA];
	unsigned int i, w, sections = 0, large = 0, small = 0;
	phys_addr_t paddr;
	dma_addr_t iova;
	u32 *map;
	int order;

#ifdef PIPELINE_EDU
	if (p->iommu)
		return camera_edu(p);
#endif
	for (i = 0; i < FRAME_PAGES; i++) {
		order = device_page(d, i, &iova, &paddr);
		if (order < 0)
			return order;
		/* The order of the page that maps it: 1 MiB, 64 KiB, 4 KiB. */
		sections += order == 8;
		large += order == 4;
		small += order == 0;
		map = kmap_local_pfn(PHYS_PFN(paddr));
		for (w = 0; w < PIXELS_PER_PAGE; w++)
			map[w] = CAMERA_SEED ^ (i * PIXELS_PER_PAGE + w);
		kunmap_local(map);
	}
	pr_info("camera: wrote %lu pixels (pixel n = %#x ^ n) to %lu pages from %pad, each translated by camera-sysmmu\n",
		FRAME_PAGES * PIXELS_PER_PAGE, CAMERA_SEED, FRAME_PAGES,
		&d->res->start);
	pr_info("camera: %u pages through 1 MiB sections, %u through 64 KiB pages, %u through 4 KiB pages\n",
		sections, large, small);
	return 0;
}

/* Pixels of page @index of the frame at @map that the camera did not write. */
static unsigned int page_mismatches(const u32 *map, unsigned int index)
{
	unsigned int w, bad = 0;

	for (w = 0; w < PIXELS_PER_PAGE; w++)
		bad += map[w] != (CAMERA_SEED ^ (index * PIXELS_PER_PAGE + w));
	return bad;
}

static int step_display(struct vcm_pipeline *p)
{
	const struct pipeline_device *camera = &p->dev[CAMERA];
	const struct pipeline_device *d = &p->dev[DISPLAY];
	unsigned int i, bad = 0, cpu_bad = 0, shared = 0, page_bad;
	phys_addr_t paddr, camera_paddr;
	dma_addr_t first_bad = 0;
	dma_addr_t iova, camera_iova;
	u32 *map;
	int ret;

#ifdef PIPELINE_EDU
	if (p->iommu)
		return display_edu(p);
#endif
	for (i = 0; i < FRAME_PAGES; i++) {
		ret = device_page(d, i, &iova, &paddr);
		if (ret < 0)
			return ret;
		/* A page the camera's SysMMU does not translate is not shared. */
		ret = device_page(camera, i, &camera_iova, &camera_paddr);
		shared += ret >= 0 && camera_paddr == paddr;
		map = kmap_local_pfn(PHYS_PFN(paddr));
		page_bad = page_mismatches(map, i);
		kunmap_local(map);
		if (page_bad && !bad)
			first_bad = iova;
		bad += page_bad;
	}
	pr_info("display: read %lu pixels from %lu pages at %pad through display-sysmmu: %u differ from what the camera wrote\n",
		FRAME_PAGES * PIXELS_PER_PAGE, FRAME_PAGES, &d->res->start,
		bad);
	if (bad)
		pr_err("display: the first page that differs is at %pad\n",
		       &first_bad);
	pr_info("display: %u of %lu pages are the very physical pages the camera wrote: shared, not copied\n",
		shared, FRAME_PAGES);

	map = vcm_vmap(p->frame);
	if (IS_ERR(map)) {
		pr_err("vcm_vmap() failed: %pe\n", map);
		return PTR_ERR(map);
	}
	for (i = 0; i < FRAME_PAGES; i++)
		cpu_bad += page_mismatches(map + i * PIXELS_PER_PAGE, i);
	ret = vcm_vunmap(p->frame, map);
	pr_info("CPU: read the same %lu pixels through vcm_vmap(): %u differ\n",
		FRAME_PAGES * PIXELS_PER_PAGE, cpu_bad);
	if (ret) {
		pr_err("vcm_vunmap() failed: %pe\n", ERR_PTR(ret));
		return ret;
	}
	if (bad || cpu_bad || shared != FRAME_PAGES)
		return -EIO;
	return 0;
}

/*
 * The physical address behind the camera's device address @iova, as its
 * IOMMU translates it, or -EIO.
 */
static int camera_translate(struct vcm_pipeline *p, dma_addr_t iova,
			    phys_addr_t *paddr)
{
	const struct pipeline_device *d = &p->dev[CAMERA];

#ifdef PIPELINE_EDU
	if (p->iommu) {
		*paddr = iommu_iova_to_phys(vcm_iommu_domain(d->vcm), iova);
		return *paddr ? 0 : -EIO;
	}
#endif
	return vcm_sysmmu_translate(d->vcm, iova, paddr) < 0 ? -EIO : 0;
}

/*
 * Plays a device writing (@write) or reading @bytes of pixels, from
 * @seed, at @offset of a buffer it sees at @addr: through the camera's
 * IOMMU, or, for the scaler, at the bus address itself.  Returns how many
 * pixels read differ, or a negative errno.
 */
static int device_pixels(struct vcm_pipeline *p, bool camera, dma_addr_t addr,
			 u32 offset, u32 bytes, u32 seed, bool write)
{
	phys_addr_t paddr;
	u32 *map, w, n;
	int ret, bad = 0;

	for (n = offset / 4; n < (offset + bytes) / 4; n += PIXELS_PER_PAGE) {
		dma_addr_t iova = addr + n * 4;

		if (camera) {
			ret = camera_translate(p, iova, &paddr);
			if (ret) {
				pr_err("camera: %pad does not translate\n", &iova);
				return ret;
			}
		} else {
			paddr = dma_to_phys(&p->scaler->dev, iova);
		}
		map = kmap_local_pfn(PHYS_PFN(paddr));
		for (w = 0; w < PIXELS_PER_PAGE; w++) {
			if (write)
				map[w] = seed ^ (n + w);
			else
				bad += map[w] != (seed ^ (n + w));
		}
		kunmap_local(map);
	}
	return bad;
}

/*
 * A scaler without an IOMMU joins: its driver makes a one-to-one context
 * (on the default CMA area, or the page allocator where there is none),
 * allocates a buffer there, which is one contiguous part the scaler
 * reaches, and maps it in its own context, at its bus address, and in the
 * camera's, at an address the camera's IOMMU translates.  The camera
 * writes the first half, the scaler reads it; the scaler writes the second
 * half, the camera reads it.
 */
static int step_scaler(struct vcm_pipeline *p)
{
	struct pipeline_device *camera = &p->dev[CAMERA];
	const u32 half = THUMB_BYTES / 2;
	dma_addr_t bus, iova;
	int bad_scaler, bad_camera;
	const char *pool = "CMA";

	p->scaler = platform_device_register_simple("scaler", -1, NULL, 0);
	if (IS_ERR(p->scaler)) {
		int ret = PTR_ERR(p->scaler);

		p->scaler = NULL;
		return ret;
	}
	p->scaler_vcm = vcm_o2o_create_cma(&p->scaler->dev, NULL, "scaler");
	if (PTR_ERR_OR_ZERO(p->scaler_vcm) == -ENODEV) {
		pool = "the page allocator";
		p->scaler_vcm = vcm_o2o_create(&p->scaler->dev, "scaler");
	}
	if (IS_ERR(p->scaler_vcm)) {
		pr_err("scaler: no one-to-one context: %pe\n", p->scaler_vcm);
		return PTR_ERR(xchg(&p->scaler_vcm, NULL));
	}
	p->thumb = vcm_alloc(p->scaler_vcm, THUMB_BYTES, 0);
	if (IS_ERR(p->thumb)) {
		pr_err("scaler: vcm_alloc() failed: %pe\n", p->thumb);
		return PTR_ERR(xchg(&p->thumb, NULL));
	}
	p->thumb_scaler = vcm_map(p->scaler_vcm, p->thumb, 0);
	if (IS_ERR(p->thumb_scaler)) {
		pr_err("scaler: vcm_map() failed: %pe\n", p->thumb_scaler);
		return PTR_ERR(xchg(&p->thumb_scaler, NULL));
	}
	p->thumb_camera = vcm_map(camera->vcm, p->thumb, 0);
	if (IS_ERR(p->thumb_camera)) {
		pr_err("camera: vcm_map() of the scaler's buffer failed: %pe\n",
		       p->thumb_camera);
		return PTR_ERR(xchg(&p->thumb_camera, NULL));
	}
	bus = p->thumb_scaler->start;
	iova = p->thumb_camera->start;
	pr_info("scaler: a one-to-one context on %s; its buffer of %u bytes is one part at %pa, which the scaler sees at bus address %pad, and the camera at %pad through its IOMMU\n",
		pool, THUMB_BYTES, &p->thumb->parts[0].start, &bus, &iova);

	device_pixels(p, true, iova, 0, half, CAMERA_SEED, true);
	bad_scaler = device_pixels(p, false, bus, 0, half, CAMERA_SEED, false);
	device_pixels(p, false, bus, half, half, SCALER_SEED, true);
	bad_camera = device_pixels(p, true, iova, half, half, SCALER_SEED, false);
	if (bad_scaler < 0 || bad_camera < 0)
		return -EIO;
	pr_info("camera -> scaler: the camera wrote %u pixels through its IOMMU, the scaler read them at its bus address: %d differ\n",
		half / 4, bad_scaler);
	pr_info("scaler -> camera: the scaler wrote %u pixels at its bus address, the camera read them through its IOMMU: %d differ\n",
		half / 4, bad_camera);
	return bad_scaler || bad_camera ? -EIO : 0;
}

static int step_deactivate(struct vcm_pipeline *p)
{
	struct vcm_sysmmu_stats stats;
	struct pipeline_device *d;
	unsigned int i;
	int ret;

	pipeline_deactivate(p);
	for (i = 0; i < NR_DEVICES; i++) {
		d = &p->dev[i];
		if (p->iommu) {
			ret = expect_fault(p, d);
			if (ret)
				return ret;
			continue;
		}
		ret = vcm_sysmmu_stats(d->vcm, &stats);
		if (ret)
			return ret;
		pr_info("%s: MMU_CTRL %#x, PT_BASE_ADDR %#x (fenced: enabled on a table that faults every access), L2 tables in use: %lu; TLB invalidations since creation: %lu of one entry, %lu of all\n",
			d->sysmmu_name, sysmmu_reg(d, SYSMMU_MMU_CTRL),
			sysmmu_reg(d, SYSMMU_PT_BASE_ADDR), stats.l2_tables,
			stats.flush_entries, stats.flush_alls);
		if (!(sysmmu_reg(d, SYSMMU_MMU_CTRL) & SYSMMU_CTRL_ENABLE) ||
		    sysmmu_reg(d, SYSMMU_PT_BASE_ADDR) == stats.pt_base ||
		    stats.l2_tables)
			return -EIO;
		ret = expect_fault(p, d);
		if (ret)
			return ret;
	}
	return 0;
}

static int step_release(struct vcm_pipeline *p)
{
	int ret = pipeline_unbind(p);

	if (ret)
		return ret;
	pr_info("camera, display, scaler: unbound and unreserved; the display dropped its reference, and vcm_free() the last: the frame buffer went back to the page allocator, the scaler's buffer to its pool\n");
	return 0;
}

static int step_destroy(struct vcm_pipeline *p)
{
	pipeline_destroy(p);
	if (p->iommu)
		pr_info("camera-iommu, display-iommu: sensor and scan-out buffers freed, contexts destroyed: the edu devices are back in their default domains\n");
	else
		pr_info("camera-sysmmu, display-sysmmu, scaler: contexts destroyed, devices unregistered, register windows freed\n");
	return 0;
}

/**
 * struct pipeline_step - one step of the story.
 * @name:	a word for it.
 * @what:	what it does, for the kernel log.
 * @run:	does it; returns 0 or a negative errno.
 */
struct pipeline_step {
	const char *name;
	const char *what;
	int (*run)(struct vcm_pipeline *p);
};

static const struct pipeline_step pipeline_steps[] = {
	{ "contexts", "make an IOMMU context for the camera and one for the display",
	  step_contexts },
	{ "alloc", "allocate one frame buffer with vcm_alloc()", step_alloc },
	{ "export", "the camera hands the frame buffer to the display as a dma-buf",
	  step_export },
	{ "reserve", "reserve device addresses for it in each context",
	  step_reserve },
	{ "bind", "bind the one buffer into both reservations", step_bind },
	{ "activate", "activate both contexts: the IOMMUs translate",
	  step_activate },
	{ "camera", "the camera writes a frame through its IOMMU",
	  step_camera },
	{ "display", "the display reads the frame through its own IOMMU",
	  step_display },
	{ "scaler", "a scaler without an IOMMU shares a buffer with the camera",
	  step_scaler },
	{ "deactivate", "deactivate both contexts", step_deactivate },
	{ "release", "unbind, unreserve, free the buffers", step_release },
	{ "destroy", "destroy the contexts", step_destroy },
};

/* Runs the next step; on failure undoes everything. */
static int pipeline_next(struct vcm_pipeline *p)
{
	const struct pipeline_step *step = &pipeline_steps[p->next];
	unsigned int nr = p->next + 1, total = ARRAY_SIZE(pipeline_steps);
	int ret;

	lockdep_assert_held(&p->lock);
	pr_info("step %u/%u (%s): %s\n", nr, total, step->name, step->what);
	ret = step->run(p);
	if (ret) {
		pr_err("failed at step %u/%u (%s): %pe; undoing the steps before it\n",
		       nr, total, step->name, ERR_PTR(ret));
		pipeline_undo(p);
		return ret;
	}
	p->next = nr % total;
	if (!p->next)
		pr_info("pipeline done: %u steps; writing \"next\" again starts over\n",
			total);
	return 0;
}

/* ---- debugfs: vcm-pipeline/step ---- */

static int step_show(struct seq_file *m, void *unused)
{
	struct vcm_pipeline *p = m->private;

	mutex_lock(&p->lock);
	seq_printf(m, "next: %u/%zu %s: %s\n", p->next + 1,
		   ARRAY_SIZE(pipeline_steps), pipeline_steps[p->next].name,
		   pipeline_steps[p->next].what);
	mutex_unlock(&p->lock);
	return 0;
}

static int step_open(struct inode *inode, struct file *file)
{
	return single_open(file, step_show, inode->i_private);
}

/* "next" runs the next step, "undo" releases everything made so far. */
static ssize_t step_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	struct vcm_pipeline *p = ((struct seq_file *)file->private_data)->private;
	char buf[8] = "", *cmd;
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	cmd = strim(buf);

	mutex_lock(&p->lock);
	if (!strcmp(cmd, "next")) {
		ret = pipeline_next(p);
	} else if (!strcmp(cmd, "undo")) {
		pipeline_undo(p);
		pr_info("undone: the pipeline starts over\n");
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&p->lock);
	return ret ?: count;
}

static const struct file_operations step_fops = {
	.owner = THIS_MODULE,
	.open = step_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
	.write = step_write,
};

static int __init vcm_pipeline_init(void)
{
	pipeline.dir = debugfs_create_dir("vcm-pipeline", NULL);
	debugfs_create_file("step", 0600, pipeline.dir, &pipeline, &step_fops);
	pr_info("ready: write \"next\" to /sys/kernel/debug/vcm-pipeline/step to run each of its %zu steps\n",
		ARRAY_SIZE(pipeline_steps));
	return 0;
}
module_init(vcm_pipeline_init);

static void __exit vcm_pipeline_exit(void)
{
	debugfs_remove_recursive(pipeline.dir);
	mutex_lock(&pipeline.lock);
	pipeline_undo(&pipeline);
	mutex_unlock(&pipeline.lock);
}
module_exit(vcm_pipeline_exit);

MODULE_DESCRIPTION("VCM sample: a camera -> display pipeline on two IOMMU contexts");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
