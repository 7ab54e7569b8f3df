# want: 6:10 Network too small
lab "t" {}

network "one" {
  mode = "isolated"
  cidr = "10.1.0.7/32"
}

vm "a" {
  nic "one" {}
}
