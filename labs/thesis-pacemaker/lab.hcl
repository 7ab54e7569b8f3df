# The thesis cluster (KVM LVS web cluster, UPV 2018) with the thesis' own
# director stack: Corosync 3 + Pacemaker + ldirectord on two LVS-NAT
# directors, three Apache real servers serving content from an NFS export
# on a 5 x 100MiB RAID 6, and a client VM. labs/lvs-nat-ha is the same
# cluster with keepalived.
# Addresses follow the thesis: directors .1/.2 inside, real servers
# .110-.112, storage .100, floating gateway .200 inside, VIP .200 outside.

lab "thesis-pacemaker" {
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
  count  = 2 # the resources prefer director-1 (the thesis' "master")
  from   = template.base
  memory = "512MiB" # corosync, six Pacemaker daemons and crmsh

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
  stack = "pacemaker"
  # Thesis §6.2 (corrected): after 3 ldirectord failures on a node the
  # group moves. The thesis never forgot a failure; 10 minutes is long
  # enough for Prueba 4's three kills under TCG (each restart of the Perl
  # daemon takes 20-60 s there) and short enough for the group to return
  # to director-1 within a lab session.
  migration_threshold = 3
  failure_timeout     = "10m"

  vip         = cidrhost(network.external.cidr, 200)
  gateway_vip = cidrhost(network.internal.cidr, 200)
  port        = 80
  protocol    = "tcp"
  mode        = "nat"
  scheduler   = "rr"
  directors   = vm.director[*]
  backends    = vm.web[*]

  # ldirectord: checktype negotiate (HTTP GET, any 2xx), failurecount 3.
  health_check {
    type     = "http"
    path     = "/health.html"
    interval = "2s"
    timeout  = "1s"
    retries  = 2
  }
}

# Thesis Prueba 1: every node up; requests through the VIP reach every
# real server in turn (round robin on the active director).
experiment "prueba1_round_robin" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "20s"
  repeat      = 1
}

# Thesis Prueba 2: power off the node that runs the resources (the
# "master") while clients keep requesting: Pacemaker starts the group on
# the other director. Outage and time until the VIP answers again.
experiment "prueba2_master_off" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"

  fault "destroy_director" {
    target = vm.director[0]
    after  = "10s"
  }
}

# Thesis Prueba 3: SERVER1 and SERVER3 powered off; ldirectord takes them
# out of the table and web-2 serves alone.
experiment "prueba3_servers_off" {
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
    target = vm.web[length(vm.web) - 1]
    after  = "10s"
  }
}

# Thesis Prueba 4 ("the most important"): kill -9 ldirectord on the active
# director, three times. Pacemaker restarts it in place twice; at the third
# failure (migration_threshold = 3) the whole group moves to the other
# director. Each repetition's "resources_on" note says where it ran after.
experiment "prueba4_ldirectord_kills" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"
  repeat      = 3

  fault "kill_ldirectord" {
    target = vm.director[0]
    after  = "5s"
  }
}

# Not in the thesis: Pacemaker's own tools. Standby moves the group away
# cleanly; stopping corosync takes the node out of the membership.
experiment "standby_and_corosync" {
  service     = lvs.www
  client      = vm.client
  concurrency = 5
  duration    = "30s"
  repeat      = 1

  fault "standby_director" {
    target = vm.director[0]
    after  = "10s"
  }
  fault "stop_corosync" {
    target = vm.director[0]
    after  = "10s"
  }
}

# Thesis §4.2 and §4.3: ab and siege with 1, 2 and 3 real servers (far
# fewer requests than the thesis: every guest runs under TCG here).
experiment "scaling_ab" {
  service      = lvs.www
  client       = vm.client
  tool         = "ab"
  concurrency  = 10
  requests     = 2000
  repeat       = 3
  real_servers = range(1, var.web_count + 1)
}

experiment "scaling_siege" {
  service      = lvs.www
  client       = vm.client
  tool         = "siege"
  concurrency  = 10
  duration     = "10s"
  repeat       = 3
  real_servers = range(1, var.web_count + 1)
}
