# want: 15:11 roles is empty
# no other errors
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

vm "web" {
  nic "lan" { ip = "10.1.0.11" }
}

exercise "none" {
  vms   = [vm.web]
  roles = []
}
