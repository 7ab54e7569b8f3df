# want: 6:10 loopback
lab "t" {}

network "lo" {
  mode = "isolated"
  cidr = "127.0.0.0/24"
}
