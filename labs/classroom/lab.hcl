# A classroom handout: one director balancing one Apache real server (LVS
# NAT), and a client. `labctl up labs/classroom` makes the three copies the
# lab asks for; every copy has exactly these addresses.

lab "classroom" {
  accel  = "auto"
  copies = 3
}

# The client side and the VIP. Isolated: copies are closed anyway (see
# docs/classroom.md), and this lab needs no host address on it.
network "front" {
  mode = "isolated"
  cidr = "192.168.130.0/24"
}

# The real server's side; the director's gateway VIP is its gateway.
network "back" {
  mode = "isolated"
  cidr = "10.0.30.0/24"
}

template "base" {
  vcpus  = 1
  memory = "384MiB"
}

vm "director" {
  from = template.base

  nic "front" {
    ip = cidrhost(network.front.cidr, 11)
  }
  nic "back" {
    ip = cidrhost(network.back.cidr, 1)
  }
}

vm "web" {
  from = template.base

  nic "back" {
    ip = cidrhost(network.back.cidr, 110)
  }
}

vm "client" {
  from  = template.base
  roles = ["client"]

  nic "front" {
    ip = cidrhost(network.front.cidr, 50)
  }
}

web "site" {
  servers = [vm.web]
}

lvs "www" {
  vip         = cidrhost(network.front.cidr, 200)
  gateway_vip = cidrhost(network.back.cidr, 254)
  mode        = "nat"
  scheduler   = "rr"
  directors   = [vm.director]
  backends    = [vm.web]
}
