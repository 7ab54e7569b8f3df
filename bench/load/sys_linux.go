//go:build linux && (amd64 || arm64)

package load

import (
	"syscall"
	"unsafe"
)

// Raw system calls for the epoll loop's non-blocking sockets. They skip
// the runtime's entersyscall/exitsyscall: these calls never block, and
// with the ordinary wrappers sysmon took the loop's P away mid-call (the
// loop goroutine never yields), then kept polling every 20 µs, which cost
// more CPU than the requests' own user time. Only epoll_wait, which
// blocks, goes through syscall.EpollWait.

// rawAddr is a socket address in the kernel's layout.
type rawAddr struct {
	ptr unsafe.Pointer
	len uintptr
}

func rawAddr4(ip [4]byte, port int) rawAddr {
	sa := &syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: ip}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port)) // network byte order
	p[0], p[1] = byte(port>>8), byte(port)
	return rawAddr{unsafe.Pointer(sa), syscall.SizeofSockaddrInet4}
}

func rawAddr6(ip [16]byte, port int) rawAddr {
	sa := &syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: ip}
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	return rawAddr{unsafe.Pointer(sa), syscall.SizeofSockaddrInet6}
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func rawSocket(family int) (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_SOCKET, uintptr(family),
		syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	return int(fd), errnoErr(e)
}

func rawConnect(fd int, a rawAddr) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_CONNECT, uintptr(fd), uintptr(a.ptr), a.len)
	return errnoErr(e)
}

func rawEpollAdd(epfd, fd int, ev *syscall.EpollEvent) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_EPOLL_CTL, uintptr(epfd), syscall.EPOLL_CTL_ADD,
		uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoErr(e)
}

// rawRead and rawWrite need a non-empty b.
func rawRead(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errnoErr(e)
}

func rawWrite(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	return int(n), errnoErr(e)
}

func rawClose(fd int) {
	_, _, _ = syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(fd), 0, 0)
}
