# The thesis cluster (KVM LVS web cluster, UPV 2018), rebuilt with keepalived:
# two LVS-NAT directors (MASTER/BACKUP), three Apache real servers serving
# content from an NFS export on a 5 x 100MiB RAID 6, and a client VM.
# Addresses follow the thesis: directors .1/.2 inside, real servers
# .110-.112, storage .100, floating gateway .200 inside, VIP .200 outside.

lab "lvs-nat-ha" {
  accel = "auto"
}

variable "web_count" {
  type        = number
  default     = 3
  description = "Number of Apache real servers (web-1 … web-N)."
}

locals {
  external = "192.168.100.0/24"
  internal = "10.0.10.0/24"
}

# Stands in for the thesis' bridged home LAN (kvmbr0, 192.168.1.0/24).
network "external" {
  mode = "nat"
  cidr = local.external
}

# The thesis' isolated "redInter" network, no DHCP.
network "internal" {
  mode = "isolated"
  cidr = local.internal
}

template "base" {
  vcpus  = 1
  memory = "448MiB"
  image  = "bookworm-cloud"
}

vm "director" {
  count = 2 # director-1 starts as MASTER, director-2 as BACKUP
  from  = template.base

  nic "external" {
    ip      = cidrhost(network.external.cidr, [135, 139][count.index])
    gateway = network.external.host_ip
  }
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 1 + count.index)
  }
}

vm "web" {
  count = var.web_count
  from  = template.base

  nic "internal" {
    ip = cidrhost(network.internal.cidr, 110 + count.index)
  }
}

vm "storage" {
  from   = template.base
  memory = "512MiB"

  nic "internal" {
    ip = cidrhost(network.internal.cidr, 100)
  }

  # The thesis used 5 x 100 MB SATA disks; virtio works with the cloud kernel.
  raid "data" {
    level       = 6
    members     = 5
    member_size = "100MiB"
    chunk       = "512KiB"
    bus         = "virtio"
    filesystem  = "ext4"
    mount       = "/srv/raid"
  }
}

vm "client" {
  from  = template.base
  roles = ["client"]

  nic "external" {
    ip      = cidrhost(network.external.cidr, 50)
    gateway = network.external.host_ip
  }
}

# Unlike the thesis, the served content lives on the RAID.
nfs "www" {
  server        = vm.storage
  path          = "/srv/raid/www"
  allow         = network.internal.cidr
  options       = ["rw", "sync", "no_subtree_check", "no_root_squash"]
  clients       = vm.web[*]
  mount         = "/var/www/html"
  mount_options = ["_netdev", "hard", "vers=4.2"]
}

web "site" {
  servers     = vm.web[*]
  content     = nfs.www
  docroot     = "/var/www/html"
  health_path = "/health.html"
}

lvs "www" {
  vip         = cidrhost(network.external.cidr, 200)
  gateway_vip = cidrhost(network.internal.cidr, 200)
  port        = 80
  protocol    = "tcp"
  mode        = "nat"
  scheduler   = "rr"
  directors   = vm.director[*]
  backends    = vm.web[*]

  health_check {
    type     = "http"
    path     = "/health.html"
    status   = 200
    interval = "2s"
    timeout  = "1s"
    retries  = 2
  }
}

# Thesis §4.2: ab -n 100000 -c 10 with 1 and 2 real servers (here 1, 2, 3
# and far fewer requests, since every guest runs under TCG).
experiment "scaling_ab" {
  service      = lvs.www
  client       = vm.client
  tool         = "ab"
  concurrency  = 10
  requests     = 2000
  repeat       = 3
  real_servers = range(1, var.web_count + 1) # [1, 2, 3]
}

# Thesis §4.3: siege -c 10 -t20S -b, shortened to 10 s per point.
experiment "scaling_siege" {
  service      = lvs.www
  client       = vm.client
  tool         = "siege"
  concurrency  = 10
  duration     = "10s"
  repeat       = 3
  real_servers = range(1, var.web_count + 1) # [1, 2, 3]
}

# Thesis Prueba 2: power off the MASTER while clients keep requesting,
# 3 times (the default repeat): outage and MTTR with a 95 % CI.
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

# Thesis Prueba 3: lose real servers 1 and 3 (the last); web-2 keeps serving.
# One repetition (no CI): each one reboots two VMs, minutes under TCG.
experiment "real_server_loss" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"
  repeat      = 1

  fault "destroy_vm" {
    target = vm.web[0]
    after  = "10s"
  }
  fault "destroy_vm" {
    target = vm.web[length(vm.web) - 1] # web-3 with the default 3
    after  = "10s"
  }
}

# Not tested in the thesis: fail a RAID 6 member under load.
experiment "raid_member_failure" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"

  fault "fail_raid_member" {
    target = vm.storage
    after  = "10s"
  }
}
