# want: 10:3 Did you mean "nic"?
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nics "net" {}
}
