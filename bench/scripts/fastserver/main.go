// Command fastserver is a minimal HTTP server on loopback for comparing
// load generators: it answers every request with a short page naming a
// backend, as the lab's web servers do. -lean swaps net/http for prebuilt
// responses so the server costs less CPU than the clients under test.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	name := flag.String("name", "local", "backend name to report")
	failEvery := flag.Int64("fail-every", 0, "answer every Nth request with 503 (0 = never)")
	lean := flag.Bool("lean", false, "prebuilt responses, minimal parsing (cheaper than net/http)")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("fastserver: %q is not a loopback address", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fastserver: %v", err)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String()) // the script reads the port from here
	if *lean {
		log.Fatal(serveLean(ln, *name, *failEvery))
	}
	body := []byte("<html><body><p>backend: " + *name + "</p></body></html>\n")
	var n atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *failEvery > 0 && n.Add(1)%*failEvery == 0 {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Backend", *name)
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write(body)
	})
	log.Fatal(http.Serve(ln, h))
}
