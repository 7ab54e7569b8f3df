package engine

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// BaseImage is what provisioning needs to know about a base image: where
// its files are on this machine and what they hold.
type BaseImage struct {
	Name        string `json:"name"`
	SHA256      string `json:"sha256"` // of the disk file
	Disk        string `json:"disk"`   // local path of the qcow2 (or raw) disk
	DiskFormat  string `json:"disk_format"`
	DiskSize    int64  `json:"disk_size"`        // bytes of the file
	VirtualSize uint64 `json:"virtual_size"`     // bytes the guest sees
	Kernel      string `json:"kernel,omitempty"` // "" = the disk has its own bootloader
	KernelSize  int64  `json:"kernel_size,omitempty"`
	Initrd      string `json:"initrd,omitempty"`
	InitrdSize  int64  `json:"initrd_size,omitempty"`
	Cmdline     string `json:"cmdline,omitempty"`
	// Firstboot: the image boots with labctl's first-boot script instead
	// of cloud-init (image.FirstbootLabctl) and reads the seed's labctl/.
	Firstboot bool `json:"firstboot,omitempty"`
	// Agent: the image runs the QEMU guest agent, through which a clone
	// of a classroom copy is re-addressed (with Firstboot's script).
	Agent bool `json:"agent,omitempty"`
}

// LocalImage describes a disk file (qcow2 or raw) with no kernel: disk
// boot. It reads the file once to hash it; with kernel set, the image boots
// that kernel/initrd with cmdline instead.
func LocalImage(name, disk, kernel, initrd, cmdline, sha string) (*BaseImage, error) {
	im := &BaseImage{Name: name, Disk: disk, Kernel: kernel, Initrd: initrd, Cmdline: cmdline, SHA256: sha}
	st, err := os.Stat(disk)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", name, err)
	}
	im.DiskSize = st.Size()
	im.DiskFormat, im.VirtualSize, err = probeDisk(disk)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", name, err)
	}
	if im.DiskFormat == "raw" {
		im.VirtualSize = uint64(st.Size())
	}
	if im.SHA256 == "" {
		if im.SHA256, err = fileSHA256(disk); err != nil {
			return nil, fmt.Errorf("image %q: %w", name, err)
		}
	}
	for _, f := range []struct {
		path string
		size *int64
	}{{kernel, &im.KernelSize}, {initrd, &im.InitrdSize}} {
		if f.path == "" {
			continue
		}
		st, err := os.Stat(f.path)
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", name, err)
		}
		*f.size = st.Size()
	}
	return im, nil
}

// probeDisk returns "qcow2" and the virtual size from a qcow2 header, or
// "raw" for anything else.
func probeDisk(path string) (string, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	hdr := make([]byte, 32)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return "raw", 0, nil
	}
	if string(hdr[:4]) != "QFI\xfb" {
		return "raw", 0, nil
	}
	return "qcow2", binary.BigEndian.Uint64(hdr[24:32]), nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
