# want: 12:12 memory = "2TiB" is more than 1TiB
# want: 16:12 size must be at most 64TiB, got 65TiB
# want: 22:19 member_size must be at most 64TiB, got 100TiB
lab "t" {}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  memory = "2TiB"
  nic "net" {}

  disk "data" {
    size = "65TiB"
  }

  raid "r" {
    level       = 1
    members     = 2
    member_size = "100T"
  }
}
