# want: 4:1 set bridge = "<device>"
lab "t" {}

network "lan" {
  mode = "bridge"
  cidr = "192.168.1.0/24"
}
