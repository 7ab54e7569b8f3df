# want: 11:11 is all zeros
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {
    mac = "00:00:00:00:00:00"
  }
}
