# want: 15:12 memory needs a unit
# want: 35:12 outside it, so the array would protect nothing
# want: 45:1 experiment "e" has no client
# no other errors
# The storage VM's unit error hides neither the NFS-on-RAID error that
# depends on that VM nor the experiment's missing client.
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  memory = 512
  nic "net" {}
  raid "data" {
    level       = 1
    members     = 2
    member_size = "100MiB"
    mount       = "/srv/raid"
  }
}

vm "d" {
  nic "net" {}
}

vm "w" {
  nic "net" {}
}

nfs "www" {
  server = vm.s
  path   = "/srv/www"
}

lvs "www" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

experiment "e" {
  service = lvs.www
}
