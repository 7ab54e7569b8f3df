# want: 6:10 multicast
lab "t" {}

network "mc" {
  mode = "isolated"
  cidr = "224.1.0.0/24"
}
