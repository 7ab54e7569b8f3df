# want: 30:1 differ only in case or punctuation
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

lvs "web-a" {
  vip       = "10.1.0.200"
  port      = 80
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}

lvs "web_a" {
  vip       = "10.1.0.201"
  port      = 8080
  mode      = "dr"
  directors = [vm.d]
  backends  = [vm.w]
}
