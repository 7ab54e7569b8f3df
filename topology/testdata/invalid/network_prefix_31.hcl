# want: 6:10 Network too small
lab "t" {}

network "p2p" {
  mode = "isolated"
  cidr = "10.1.0.0/31"
}

vm "a" {
  nic "p2p" {}
}
