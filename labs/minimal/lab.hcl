# The smallest useful lab: one VM on one NAT network.
lab "minimal" {
  accel = "auto"
}

network "default" {
  mode = "nat"
  cidr = "192.168.150.0/24"
}

vm "box" {
  memory = "512MiB"

  nic "default" {
    gateway = network.default.host_ip
  }
}
