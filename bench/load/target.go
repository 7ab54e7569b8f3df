package load

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
)

// target is what every request of a run shares: where to connect and the
// request bytes, built once.
type target struct {
	addr    string      // host:port for net.Dial
	host    string      // host name or address without port
	tls     *tls.Config // nil for http
	request []byte      // the whole GET request
}

func newTarget(cfg Config) (*target, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("load: url %q: %w", cfg.URL, err)
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	hostHeader := u.Host
	if cfg.Host != "" {
		hostHeader = cfg.Host
	}
	connHdr := "close"
	if cfg.KeepAlive {
		connHdr = "keep-alive"
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + hostHeader +
		"\r\nUser-Agent: labctl-load\r\nAccept: */*\r\nConnection: " + connHdr + "\r\n\r\n"
	t := &target{addr: addr, host: u.Hostname(), request: []byte(req)}
	if u.Scheme == "https" {
		// Lab servers use self-made certificates; the bench measures
		// throughput, not trust, so the name is still sent but not verified.
		t.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec
	}
	return t, nil
}
