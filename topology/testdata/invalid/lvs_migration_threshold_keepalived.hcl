# want: 23:25 applies only with stack = "pacemaker"
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
  migration_threshold = 3
  vip                 = "10.1.0.200"
  mode                = "dr"
  directors           = [vm.d]
  backends            = [vm.w]
}
