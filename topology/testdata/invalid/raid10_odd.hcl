# want: 12:19 RAID 10 needs an even number of members
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "s" {
  raid "data" {
    level       = 10
    members     = 5
    member_size = "100MiB"
  }
}
