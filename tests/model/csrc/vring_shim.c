/*
 * Exports the split-ring facts of the Linux uapi header <linux/virtio_ring.h> (Debian linux-libc-dev) for
 * tests/model/test_uapi_crosscheck.py, which loads this file with ctypes and compares them with the golden model.
 * Layout facts come from offsetof/sizeof and the event-field macros, never from the legacy vring_size().
 */
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#define EXPORT_VALUE(name, expr) unsigned long shim_##name(void) { return (unsigned long)(expr); }

EXPORT_VALUE(desc_addr_off, offsetof(struct vring_desc, addr))
EXPORT_VALUE(desc_len_off, offsetof(struct vring_desc, len))
EXPORT_VALUE(desc_flags_off, offsetof(struct vring_desc, flags))
EXPORT_VALUE(desc_next_off, offsetof(struct vring_desc, next))
EXPORT_VALUE(desc_size, sizeof(struct vring_desc))
EXPORT_VALUE(desc_align, VRING_DESC_ALIGN_SIZE)

EXPORT_VALUE(avail_flags_off, offsetof(struct vring_avail, flags))
EXPORT_VALUE(avail_idx_off, offsetof(struct vring_avail, idx))
EXPORT_VALUE(avail_ring_off, offsetof(struct vring_avail, ring))
EXPORT_VALUE(avail_elem_size, sizeof(((struct vring_avail *)0)->ring[0]))
EXPORT_VALUE(avail_size, sizeof(struct vring_avail))
EXPORT_VALUE(avail_align, VRING_AVAIL_ALIGN_SIZE)

EXPORT_VALUE(used_elem_id_off, offsetof(struct vring_used_elem, id))
EXPORT_VALUE(used_elem_len_off, offsetof(struct vring_used_elem, len))
EXPORT_VALUE(used_elem_size, sizeof(struct vring_used_elem))
EXPORT_VALUE(used_flags_off, offsetof(struct vring_used, flags))
EXPORT_VALUE(used_idx_off, offsetof(struct vring_used, idx))
EXPORT_VALUE(used_ring_off, offsetof(struct vring_used, ring))
EXPORT_VALUE(used_size, sizeof(struct vring_used))
EXPORT_VALUE(used_align, VRING_USED_ALIGN_SIZE)
EXPORT_VALUE(event_field_size, sizeof(vring_used_event((struct vring *)0)))

EXPORT_VALUE(desc_f_next, VRING_DESC_F_NEXT)
EXPORT_VALUE(desc_f_write, VRING_DESC_F_WRITE)
EXPORT_VALUE(desc_f_indirect, VRING_DESC_F_INDIRECT)
EXPORT_VALUE(avail_f_no_interrupt, VRING_AVAIL_F_NO_INTERRUPT)
EXPORT_VALUE(used_f_no_notify, VRING_USED_F_NO_NOTIFY)
EXPORT_VALUE(f_indirect_desc, VIRTIO_RING_F_INDIRECT_DESC)
EXPORT_VALUE(f_event_idx, VIRTIO_RING_F_EVENT_IDX)

/* Room for the largest rings (Q = 32768) so that the event macros only form addresses inside real objects. */
static union {
	struct vring_avail avail;
	unsigned char bytes[4 + 2 * 32768 + 2];
} avail_area;
static union {
	struct vring_used used;
	unsigned char bytes[4 + 8 * 32768 + 2];
} used_area;

/* Byte offset of used_event from the driver area for a ring of num entries (vring_used_event macro). */
unsigned long shim_used_event_off(unsigned int num)
{
	struct vring vr = { .num = num, .avail = &avail_area.avail };
	return (unsigned long)((unsigned char *)&vring_used_event(&vr) - avail_area.bytes);
}

/* Byte offset of avail_event from the device area for a ring of num entries (vring_avail_event macro). */
unsigned long shim_avail_event_off(unsigned int num)
{
	struct vring vr = { .num = num, .used = &used_area.used };
	return (unsigned long)((unsigned char *)&vring_avail_event(&vr) - used_area.bytes);
}

int shim_need_event(unsigned int event, unsigned int new_idx, unsigned int old)
{
	return vring_need_event((__u16)event, (__u16)new_idx, (__u16)old);
}

/* out[d] = vring_need_event(event, old + d, old) for every d in 0..65535: one call per (event, old) pair. */
void shim_need_event_window(unsigned int event, unsigned int old, unsigned char *out)
{
	for (unsigned int d = 0; d < 65536; d++)
		out[d] = (unsigned char)vring_need_event((__u16)event, (__u16)(old + d), (__u16)old);
}
