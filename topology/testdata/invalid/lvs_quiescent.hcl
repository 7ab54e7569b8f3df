# want: 28:3 quiescent is an ldirectord setting
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

vm "c" {
  nic "net" {}
}

lvs "www" {
  vip       = "10.1.0.200"
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
  # ldirectord.cf had "quiescent = no"; keepalived does that by default.
  # (Single-label lines cannot have comments after the value here.)
  quiescent = false
}
