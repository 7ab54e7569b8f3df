# LVS direct routing: directors and real servers share one L2 network with
# the VIP. The director rewrites only the destination MAC; real servers
# hold the VIP on lo (ARP-silenced) and answer clients directly.

lab "lvs-dr" {
  accel = "auto"
}

network "lan" {
  mode = "nat"
  cidr = "192.168.110.0/24"
}

template "base" {
  vcpus  = 1
  memory = "384MiB"
}

vm "director" {
  count = 2
  from  = template.base

  nic "lan" {
    ip      = cidrhost(network.lan.cidr, 11 + count.index)
    gateway = network.lan.host_ip
  }
}

vm "web" {
  count = 2
  from  = template.base

  nic "lan" {
    ip      = cidrhost(network.lan.cidr, 110 + count.index)
    gateway = network.lan.host_ip
  }
}

vm "client" {
  from  = template.base
  roles = ["client"]

  nic "lan" {
    ip = cidrhost(network.lan.cidr, 50)
  }
}

web "site" {
  servers = vm.web[*]
}

lvs "www" {
  vip       = cidrhost(network.lan.cidr, 200)
  mode      = "dr"
  scheduler = "wlc"
  directors = vm.director[*]
  backends  = vm.web[*]
  weights   = { "web-1" = 2 }

  health_check {
    type     = "http"
    path     = "/health.html"
    interval = "2s"
    timeout  = "1s"
  }
}

experiment "scaling" {
  service      = lvs.www
  client       = vm.client
  concurrency  = 10
  duration     = "10s"
  repeat       = 2
  real_servers = [1, 2]
  schedulers   = ["rr", "wlc"]
}

experiment "master_failover" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"

  fault "destroy_director" {
    target = vm.director[0]
    after  = "10s"
  }
}
