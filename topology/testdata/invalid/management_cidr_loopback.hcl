# want: 3:21 loopback
lab "t" {
  management_cidr = "127.1.0.0/16"
}
