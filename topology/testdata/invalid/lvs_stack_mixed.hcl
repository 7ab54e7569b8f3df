# want: 37:15 one VM runs one director stack
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

lvs "a" {
  stack     = "pacemaker"
  vip       = "10.1.0.200"
  port      = 80
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "b" {
  vip       = "10.1.0.201"
  port      = 8080
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
  stack     = "keepalived"
}
