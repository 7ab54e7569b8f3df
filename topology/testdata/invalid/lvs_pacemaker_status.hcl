# want: 29:14 counts any 2xx answer as healthy
# no other errors
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "d" {
  nic "net" {
    ip = "10.1.0.5"
  }
}

vm "w" {
  nic "net" {
    ip = "10.1.0.10"
  }
}

lvs "s" {
  stack     = "pacemaker"
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
  health_check {
    status = 301
  }
}
