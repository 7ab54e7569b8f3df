# want: 13:19 spares must be 0 or more
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  raid "data" {
    level       = 1
    members     = 2
    spares      = -1
    member_size = "100MiB"
  }
}
