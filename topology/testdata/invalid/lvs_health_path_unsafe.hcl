# want: 25:12 path = "/x}\n}" is not a plain URL path
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

lvs "s" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]

  # A } would close keepalived's url block and start a new section.
  health_check {
    path = "/x}\n}"
  }
}
