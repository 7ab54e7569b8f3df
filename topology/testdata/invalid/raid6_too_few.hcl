# want: 12:19 RAID 6 needs at least 4 members, got 3
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  raid "data" {
    level       = 6
    members     = 3
    member_size = "100MiB"
  }
}
