# The thesis cluster as an exercise: labctl builds the machines, networks
# and disks (every package installed), the RAID 6 array, Apache on the real
# servers and their route through the gateway VIP; the student configures
# the NFS server, the NFS mounts and the two LVS-NAT directors, and
# `labctl grade` scores the cluster by what it does. The topology is
# labs/lvs-nat-ha's (a unit test keeps them equal); README.md is the
# student's handout.

lab "lvs-nat-ha-exercise" {
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

# The student's part. Points override the rubric's defaults (see
# docs/grading.md); failover is the heart of the thesis, so it weighs most.
exercise "thesis" {
  roles = ["nfs_server", "nfs_client", "lvs_director"]

  points = {
    failover = 20
  }
}
