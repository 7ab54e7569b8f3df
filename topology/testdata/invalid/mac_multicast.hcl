# want: 11:11 is a multicast address
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {
    mac = "01:00:5e:00:00:01"
  }
}
