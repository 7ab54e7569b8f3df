# want: 24:1 labctl bench runs the load on a lab VM, never on the host. Add client = vm.<name>
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {}
}

vm "w" {
  nic "net" {}
}

lvs "www" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

experiment "load" {
  service  = lvs.www
  duration = "10s"
}
