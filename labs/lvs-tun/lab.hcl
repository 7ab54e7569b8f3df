# LVS IP tunnelling: the director encapsulates requests (IPIP) to real
# servers on another network; real servers decapsulate, hold the VIP on
# tunl0 and answer the client themselves.

lab "lvs-tun" {
  accel = "auto"
}

# Clients and the VIP.
network "front" {
  mode = "nat"
  cidr = "192.168.120.0/24"
}

# Real servers live here; only the director joins both networks.
network "back" {
  mode = "isolated"
  cidr = "10.0.20.0/24"
}

template "base" {
  vcpus  = 1
  memory = "384MiB"
}

vm "director" {
  from = template.base

  nic "front" {
    ip      = cidrhost(network.front.cidr, 11)
    gateway = network.front.host_ip
  }
  nic "back" {
    ip = cidrhost(network.back.cidr, 1)
  }
}

vm "web" {
  count = 2
  from  = template.base

  # Replies (source = VIP) go back through the director, which forwards
  # between the networks; libvirt's own filters would drop them on the host.
  nic "back" {
    ip      = cidrhost(network.back.cidr, 110 + count.index)
    gateway = vm.director.ips.back
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
  servers = vm.web[*]
}

lvs "www" {
  vip       = cidrhost(network.front.cidr, 200)
  mode      = "tun"
  scheduler = "rr"
  directors = [vm.director]
  backends  = vm.web[*]

  persistence {
    timeout = 60
  }
}

experiment "scaling" {
  service      = lvs.www
  client       = vm.client
  concurrency  = 10
  duration     = "10s"
  repeat       = 2
  real_servers = [1, 2]
}

experiment "real_server_loss" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"

  fault "stop_web" {
    target = vm.web[1]
    after  = "10s"
  }
}
