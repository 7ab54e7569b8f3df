# want: 15:17 the whole site
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "w" {
  nic "net" {}
}

web "site" {
  servers     = [vm.w]
  health_path = "/"
}
