# want: 12:1 leaves nothing to the student: no VM has its roles
lab "t" {}

network "lan" {
  cidr = "10.1.0.0/24"
}

vm "web" {
  nic "lan" { ip = "10.1.0.11" }
}

exercise "none" {
  roles = ["raid"]
}
