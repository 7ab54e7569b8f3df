# want: 11:19 level 4 is not one of
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  raid "data" {
    level       = 4
    members     = 4
    member_size = "100MiB"
  }
}
