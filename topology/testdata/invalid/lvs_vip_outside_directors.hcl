# want: 23:15 is not inside any network of director "d"
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

network "int" {
  mode = "isolated"
  cidr = "10.2.0.0/24"
}

vm "d" {
  nic "int" {}
}

vm "w" {
  nic "int" {}
}

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}
