# want: 14:11 role "lvs_directr" is not one of
# no other errors
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

vm "web" {
  nic "lan" { ip = "10.1.0.11" }
}

exercise "typo" {
  roles = ["lvs_directr"]
}
