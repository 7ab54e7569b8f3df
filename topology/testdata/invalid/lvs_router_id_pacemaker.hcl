# want: 28:15 router_id is keepalived's VRRP id
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
  router_id = 50
}
