# want: 10:11 count must be a whole number between 0 and 1000, got null
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "w" {
  count = null
  nic "net" {}
}
