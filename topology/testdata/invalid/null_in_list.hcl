# want: 22:19 roles[1] is null
# want: 29:20 options[0] is null
# want: 30:28 mount_options[1] is null
# want: 36:19 real_servers[0] is null
# want: 37:19 schedulers[0] is null
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  nic "net" {}
}

vm "b" {
  nic "net" {}
}

vm "r" {
  roles = ["nfs", null]
  nic "net" {}
}

nfs "www" {
  server        = vm.s
  path          = "/srv/www"
  options       = [null]
  mount_options = ["hard", null]
}

experiment "e" {
  service      = lvs.www
  requests     = 10
  real_servers = [null]
  schedulers   = [null]
}

lvs "www" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.s]
  backends  = [vm.b]
}
