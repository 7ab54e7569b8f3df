package libvirt

import (
	"context"
	"fmt"
	"io"
	"os"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// CopyVolume implements Hypervisor: a byte-for-byte copy uploaded through
// libvirt, so a qcow2's internal snapshots come along (libvirt's own clone
// runs qemu-img convert, which drops them). On a local daemon the source
// file is read directly; on a remote one it is downloaded first (a path
// this machine has not exercised).
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
	var content io.ReadSeeker
	if isLocalURI(c.uri) {
		// Read the file itself: a download stream on the connection that
		// also defines the clone's domains and seeds hung here (0 bytes).
		path, err := c.l.StorageVolGetPath(src)
		if err != nil {
			return Volume{}, fmt.Errorf("volume %q: %w", srcName, wrap(err))
		}
		f, err := os.Open(path)
		if err != nil {
			return Volume{}, fmt.Errorf("copy volume %q: %w", srcName, err)
		}
		defer f.Close()
		content = f
	} else {
		tmp, err := c.download(src, srcName, physical)
		if err != nil {
			return Volume{}, err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		content = tmp
	}
	n := int64(physical)
	def := *dst
	def.Capacity = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: uint64(n)}
	def.Allocation = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0}
	def.Target = &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}
	def.BackingStore = nil
	return c.CreateVolume(ctx, dstPool, &def, content, n)
}

// download copies a remote volume into a local temporary file, one stream
// at a time on the connection.
func (c *Conn) download(src golibvirt.StorageVol, name string, physical uint64) (*os.File, error) {
	c.streams.Lock()
	defer c.streams.Unlock()
	tmp, err := os.CreateTemp("", "labctl-volume-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*os.File, error) {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	if err := c.l.StorageVolDownload(src, tmp, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("download volume %q: %w", name, wrap(err)))
	}
	n, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return fail(err)
	}
	if uint64(n) != physical {
		return fail(fmt.Errorf("download volume %q: %d of %d bytes", name, n, physical))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	return tmp, nil
}
