package libvirt

import (
	"context"
	"fmt"
	"io"
	"os"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// CopyVolume implements Hypervisor: a byte-for-byte copy through libvirt's
// streams (any URI), so a qcow2's internal snapshots come along (libvirt's
// own clone runs qemu-img convert, which drops them). The copy goes
// through a local temporary file, one stream at a time on the connection.
func (c *Conn) CopyVolume(ctx context.Context, srcPool, srcName, dstPool string, dst *libvirtxml.StorageVolume) (Volume, error) {
	if err := ctx.Err(); err != nil {
		return Volume{}, err
	}
	p, err := c.l.StoragePoolLookupByName(srcPool)
	if err != nil {
		return Volume{}, fmt.Errorf("storage pool %q: %w", srcPool, wrap(err))
	}
	src, err := c.l.StorageVolLookupByName(p, srcName)
	if err != nil {
		return Volume{}, fmt.Errorf("volume %q: %w", srcName, wrap(err))
	}
	_, _, physical, err := c.l.StorageVolGetInfoFlags(src, uint32(golibvirt.StorageVolGetPhysical))
	if err != nil {
		return Volume{}, fmt.Errorf("volume %q: %w", srcName, wrap(err))
	}
	c.streams.Lock()
	defer c.streams.Unlock()
	tmp, err := os.CreateTemp("", "labctl-volume-")
	if err != nil {
		return Volume{}, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := c.l.StorageVolDownload(src, tmp, 0, 0, 0); err != nil {
		return Volume{}, fmt.Errorf("download volume %q: %w", srcName, wrap(err))
	}
	n, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return Volume{}, err
	}
	if uint64(n) != physical {
		return Volume{}, fmt.Errorf("download volume %q: %d of %d bytes", srcName, n, physical)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return Volume{}, err
	}
	def := *dst
	def.Capacity = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: uint64(n)}
	def.Allocation = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0}
	def.Target = &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}
	def.BackingStore = nil
	return c.CreateVolume(ctx, dstPool, &def, tmp, n)
}
